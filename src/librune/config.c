/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/config.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "librune/util.h"

/* The file name used in messages ("config.json"). */
struct ctx {
	const char *name;
	err_t *err;
};

#define BAD(c, path, ...) bad_field(c, path, __VA_ARGS__)

static int __attribute__((format(printf, 3, 4)))
bad_field(struct ctx *c, const char *path, const char *fmt, ...)
{
	char *why = NULL;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	ret = err_set(c->err, EINVAL, "%s: %s: %s", c->name, path, why ? why : "invalid");
	free(why);
	return ret;
}

static const char *type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static char *sub(const char *path, const char *key)
{
	char *r;

	if (asprintf(&r, "%s.%s", path, key) < 0)
		return NULL;
	return r;
}

static char *idx(const char *path, size_t i)
{
	char *r;

	if (asprintf(&r, "%s[%zu]", path, i) < 0)
		return NULL;
	return r;
}

/* Fetches obj.key, checking its JSON type; absent (or null) leaves *out NULL. */
static int get_typed(struct ctx *c, json_t *obj, const char *path, const char *key, json_type type,
		     json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v))) {
		_cleanup_free_ char *p = sub(path, key);
		static const char *names[] = { [JSON_OBJECT] = "an object",
					       [JSON_ARRAY] = "an array",
					       [JSON_STRING] = "a string",
					       [JSON_INTEGER] = "an integer",
					       [JSON_TRUE] = "a boolean" };
		return BAD(c, p, "expected %s, got %s", names[type], type_name(v));
	}
	*out = v;
	return 0;
}

static int get_str(struct ctx *c, json_t *obj, const char *path, const char *key, bool required,
		   char **out)
{
	json_t *v;
	int ret = get_typed(c, obj, path, key, JSON_STRING, &v);

	if (ret < 0)
		return ret;
	if (v == NULL) {
		if (required) {
			_cleanup_free_ char *p = sub(path, key);
			return BAD(c, p, "missing");
		}
		return 0;
	}
	*out = strdup(json_string_value(v));
	return *out ? 0 : err_sys(c->err, ENOMEM, "%s", c->name);
}

static int get_bool(struct ctx *c, json_t *obj, const char *path, const char *key, bool *out)
{
	json_t *v;
	int ret = get_typed(c, obj, path, key, JSON_TRUE, &v);

	if (ret < 0)
		return ret;
	if (v)
		*out = json_is_true(v);
	return 0;
}

static int get_int_range(struct ctx *c, json_t *obj, const char *path, const char *key,
			 long long min, long long max, bool *present, long long *out)
{
	json_t *v;
	int ret = get_typed(c, obj, path, key, JSON_INTEGER, &v);

	if (present)
		*present = false;
	if (ret < 0)
		return ret;
	if (v == NULL)
		return 0;
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		_cleanup_free_ char *p = sub(path, key);
		return BAD(c, p, "%lld out of range [%lld, %lld]", json_integer_value(v), min, max);
	}
	*out = json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

/* uint64 fields may exceed JSON_INTEGER's range: jansson then gives a real. */
static int get_u64(struct ctx *c, json_t *obj, const char *path, const char *key, bool *present,
		   uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	*present = false;
	if (v == NULL || json_is_null(v))
		return 0;
	/* 2^64: where uint64's all-ones lands as a double (see widen_big_integers). */
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) >= 0 &&
		   json_real_value(v) < 18446744073709551616.0) {
		*out = (uint64_t)json_real_value(v);
	} else if (json_is_real(v) && json_real_value(v) == 18446744073709551616.0) {
		*out = UINT64_MAX;
	} else {
		_cleanup_free_ char *p = sub(path, key);
		return BAD(c, p, "expected a non-negative integer, got %s", type_name(v));
	}
	*present = true;
	return 0;
}

static int get_strv(struct ctx *c, json_t *obj, const char *path, const char *key, char ***out)
{
	json_t *arr, *v;
	size_t i;
	int ret = get_typed(c, obj, path, key, JSON_ARRAY, &arr);

	*out = NULL;
	if (ret < 0 || arr == NULL)
		return ret;
	*out = calloc(json_array_size(arr) + 1, sizeof(char *));
	if (*out == NULL)
		return err_sys(c->err, ENOMEM, "%s", c->name);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			_cleanup_free_ char *p = sub(path, key);
			_cleanup_free_ char *pi = idx(p, i);
			return BAD(c, pi, "expected a string, got %s", type_name(v));
		}
		(*out)[i] = strdup(json_string_value(v));
		if ((*out)[i] == NULL)
			return err_sys(c->err, ENOMEM, "%s", c->name);
	}
	return 0;
}

/* ---- process ---- */

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

int rune_cap_from_name(const char *name)
{
	cap_value_t v;

	if (strncasecmp(name, "CAP_", 4) != 0)
		return -1;
	if (cap_from_name(name, &v) < 0)
		return -1;
	return v < 64 ? (int)v : -1;
}

const char *rune_cap_name(int cap)
{
	static char buf[64][32];
	char *n;

	if (cap < 0 || cap >= 64)
		return "?";
	if (buf[cap][0] == '\0') {
		n = cap_to_name(cap);
		snprintf(buf[cap], sizeof(buf[cap]), "%s", n ? n : "?");
		for (char *p = buf[cap]; *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? *p - 32 : *p;
		cap_free(n);
	}
	return buf[cap];
}

static int parse_cap_set(struct ctx *c, json_t *caps, const char *path, const char *key,
			 uint64_t *mask)
{
	_cleanup_strv_ char **names = NULL;
	int ret = get_strv(c, caps, path, key, &names);

	*mask = 0;
	if (ret < 0)
		return ret;
	for (size_t i = 0; names && names[i]; i++) {
		int cap = rune_cap_from_name(names[i]);
		if (cap < 0) {
			_cleanup_free_ char *p = sub(path, key);
			_cleanup_free_ char *pi = idx(p, i);
			return BAD(c, pi, "unknown capability \"%s\"", names[i]);
		}
		*mask |= 1ULL << cap;
	}
	return 0;
}

static int parse_caps(struct ctx *c, json_t *proc, const char *path, struct rune_caps *caps)
{
	json_t *o;
	_cleanup_free_ char *p = sub(path, "capabilities");
	int ret = get_typed(c, proc, path, "capabilities", JSON_OBJECT, &o);

	if (ret < 0 || o == NULL)
		return ret;
	caps->set = true;
	if ((ret = parse_cap_set(c, o, p, "bounding", &caps->bounding)) < 0 ||
	    (ret = parse_cap_set(c, o, p, "effective", &caps->effective)) < 0 ||
	    (ret = parse_cap_set(c, o, p, "inheritable", &caps->inheritable)) < 0 ||
	    (ret = parse_cap_set(c, o, p, "permitted", &caps->permitted)) < 0 ||
	    (ret = parse_cap_set(c, o, p, "ambient", &caps->ambient)) < 0)
		return ret;
	return 0;
}

static int parse_rlimits(struct ctx *c, json_t *proc, const char *path, struct rune_process *pr)
{
	json_t *arr, *v;
	size_t i;
	_cleanup_free_ char *p = sub(path, "rlimits");
	int ret = get_typed(c, proc, path, "rlimits", JSON_ARRAY, &arr);

	if (ret < 0 || arr == NULL)
		return ret;
	pr->rlimits = calloc(json_array_size(arr) + 1, sizeof(*pr->rlimits));
	if (pr->rlimits == NULL)
		return err_sys(c->err, ENOMEM, "%s", c->name);
	json_array_foreach(arr, i, v)
	{
		_cleanup_free_ char *pi = idx(p, i);
		struct rune_rlimit *rl = &pr->rlimits[i];
		bool has_soft, has_hard;
		size_t k;

		if (!json_is_object(v))
			return BAD(c, pi, "expected an object");
		if ((ret = get_str(c, v, pi, "type", true, &rl->name)) < 0)
			return ret;
		pr->n_rlimits = i + 1;
		for (k = 0; k < ARRAY_SIZE(rlimit_names); k++)
			if (strcmp(rlimit_names[k].name, rl->name) == 0)
				break;
		if (k == ARRAY_SIZE(rlimit_names)) {
			_cleanup_free_ char *pt = sub(pi, "type");
			return BAD(c, pt, "unknown rlimit \"%s\"", rl->name);
		}
		rl->resource = rlimit_names[k].res;
		if ((ret = get_u64(c, v, pi, "soft", &has_soft, &rl->soft)) < 0 ||
		    (ret = get_u64(c, v, pi, "hard", &has_hard, &rl->hard)) < 0)
			return ret;
		if (!has_soft || !has_hard)
			return BAD(c, pi, "rlimit needs both soft and hard");
	}
	return 0;
}

static int parse_user(struct ctx *c, json_t *proc, const char *path, struct rune_user *u)
{
	json_t *o, *arr, *v;
	long long n;
	bool has;
	size_t i;
	_cleanup_free_ char *p = sub(path, "user");
	int ret = get_typed(c, proc, path, "user", JSON_OBJECT, &o);

	if (ret < 0 || o == NULL)
		return ret;
	if ((ret = get_int_range(c, o, p, "uid", 0, UINT32_MAX - 1, &has, &n)) < 0)
		return ret;
	u->uid = has ? n : 0;
	if ((ret = get_int_range(c, o, p, "gid", 0, UINT32_MAX - 1, &has, &n)) < 0)
		return ret;
	u->gid = has ? n : 0;
	if ((ret = get_int_range(c, o, p, "umask", 0, 0777, &u->has_umask, &n)) < 0)
		return ret;
	u->umask = n;
	if ((ret = get_typed(c, o, p, "additionalGids", JSON_ARRAY, &arr)) < 0)
		return ret;
	if (arr) {
		_cleanup_free_ char *pa = sub(p, "additionalGids");
		u->additional_gids = calloc(json_array_size(arr) + 1, sizeof(gid_t));
		if (u->additional_gids == NULL)
			return err_sys(c->err, ENOMEM, "%s", c->name);
		json_array_foreach(arr, i, v)
		{
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= UINT32_MAX) {
				_cleanup_free_ char *pi = idx(pa, i);
				return BAD(c, pi, "expected a gid");
			}
			u->additional_gids[i] = json_integer_value(v);
		}
		u->n_additional_gids = json_array_size(arr);
	}
	return 0;
}

int rune_process_parse(json_t *obj, const char *path, struct rune_process *pr, err_t *err)
{
	struct ctx cc = { .name = "config.json", .err = err }, *c = &cc;
	json_t *o;
	long long n;
	bool has;
	int ret;

	if (!json_is_object(obj))
		return BAD(c, path, "expected an object");
	if ((ret = get_bool(c, obj, path, "terminal", &pr->terminal)) < 0)
		return ret;
	if ((ret = get_typed(c, obj, path, "consoleSize", JSON_OBJECT, &o)) < 0)
		return ret;
	if (o) {
		_cleanup_free_ char *p = sub(path, "consoleSize");
		if ((ret = get_int_range(c, o, p, "height", 0, 65535, &has, &n)) < 0)
			return ret;
		pr->console_height = has ? n : 0;
		if ((ret = get_int_range(c, o, p, "width", 0, 65535, &has, &n)) < 0)
			return ret;
		pr->console_width = has ? n : 0;
	}
	if ((ret = parse_user(c, obj, path, &pr->user)) < 0)
		return ret;
	if ((ret = get_strv(c, obj, path, "args", &pr->args)) < 0)
		return ret;
	if ((ret = get_strv(c, obj, path, "env", &pr->env)) < 0)
		return ret;
	/* runc refuses them too ("invalid environment variable"): execve would pass them on. */
	for (size_t i = 0; pr->env && pr->env[i]; i++)
		if (strchr(pr->env[i], '=') == NULL) {
			_cleanup_free_ char *pe = sub(path, "env");
			_cleanup_free_ char *pi = idx(pe, i);
			return BAD(c, pi, "invalid environment variable \"%s\" (not KEY=VALUE)",
				   pr->env[i]);
		}
	if ((ret = get_str(c, obj, path, "cwd", false, &pr->cwd)) < 0)
		return ret;
	if (pr->cwd == NULL)
		pr->cwd = strdup("/");
	else if (pr->cwd[0] != '/') {
		_cleanup_free_ char *p = sub(path, "cwd");
		return BAD(c, p, "\"%s\" is not an absolute path", pr->cwd);
	}
	if ((ret = parse_caps(c, obj, path, &pr->caps)) < 0)
		return ret;
	if ((ret = parse_rlimits(c, obj, path, pr)) < 0)
		return ret;
	if ((ret = get_bool(c, obj, path, "noNewPrivileges", &pr->no_new_privileges)) < 0)
		return ret;
	if ((ret = get_int_range(c, obj, path, "oomScoreAdj", -1000, 1000, &pr->has_oom_score_adj,
				 &n)) < 0)
		return ret;
	pr->oom_score_adj = n;
	if ((ret = get_str(c, obj, path, "apparmorProfile", false, &pr->apparmor_profile)) < 0 ||
	    (ret = get_str(c, obj, path, "selinuxLabel", false, &pr->selinux_label)) < 0)
		return ret;
	if ((ret = get_typed(c, obj, path, "scheduler", JSON_OBJECT, &pr->scheduler)) < 0 ||
	    (ret = get_typed(c, obj, path, "ioPriority", JSON_OBJECT, &pr->io_priority)) < 0) {
		pr->scheduler = pr->io_priority = NULL;
		return ret;
	}
	/* Owned: an exec's process outlives the JSON it was parsed from. */
	json_incref(pr->scheduler);
	json_incref(pr->io_priority);
	return 0;
}

void rune_process_clear(struct rune_process *p)
{
	free(p->user.additional_gids);
	strv_free(p->args);
	strv_free(p->env);
	free(p->cwd);
	for (size_t i = 0; i < p->n_rlimits; i++)
		free(p->rlimits[i].name);
	free(p->rlimits);
	free(p->apparmor_profile);
	free(p->selinux_label);
	json_decref(p->scheduler);
	json_decref(p->io_priority);
	memset(p, 0, sizeof(*p));
}

/* ---- mounts ---- */

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flag_names[] = {
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },
	{ "suid", true, MS_NOSUID },
	{ "nodev", false, MS_NODEV },
	{ "dev", true, MS_NODEV },
	{ "noexec", false, MS_NOEXEC },
	{ "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS },
	{ "async", true, MS_SYNCHRONOUS },
	{ "dirsync", false, MS_DIRSYNC },
	{ "remount", false, MS_REMOUNT },
	{ "mand", false, MS_MANDLOCK },
	{ "nomand", true, MS_MANDLOCK },
	{ "atime", true, MS_NOATIME },
	{ "noatime", false, MS_NOATIME },
	{ "diratime", true, MS_NODIRATIME },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "relatime", false, MS_RELATIME },
	{ "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "silent", false, MS_SILENT },
	{ "loud", true, MS_SILENT },
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation_names[] = {
	{ "private", MS_PRIVATE },	 { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },	 { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },		 { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* runc's recursive variants, applied with mount_setattr(AT_RECURSIVE). */
static const struct {
	const char *name;
	bool clear;
	uint64_t attr;
} rec_attr_names[] = {
	{ "rro", false, MOUNT_ATTR_RDONLY },
	{ "rrw", true, MOUNT_ATTR_RDONLY },
	{ "rnosuid", false, MOUNT_ATTR_NOSUID },
	{ "rsuid", true, MOUNT_ATTR_NOSUID },
	{ "rnodev", false, MOUNT_ATTR_NODEV },
	{ "rdev", true, MOUNT_ATTR_NODEV },
	{ "rnoexec", false, MOUNT_ATTR_NOEXEC },
	{ "rexec", true, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", true, MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
	/* atime modes: one of them, the others cleared */
	{ "rrelatime", false, MOUNT_ATTR_RELATIME },
	{ "rnoatime", false, MOUNT_ATTR_NOATIME },
	{ "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
};

static bool rec_attr(struct rune_mount *m, const char *o)
{
	for (size_t k = 0; k < ARRAY_SIZE(rec_attr_names); k++) {
		uint64_t a = rec_attr_names[k].attr;
		if (strcmp(o, rec_attr_names[k].name) != 0)
			continue;
		if (a == MOUNT_ATTR_RELATIME || a == MOUNT_ATTR_NOATIME ||
		    a == MOUNT_ATTR_STRICTATIME) {
			m->rec_attr_clr |= MOUNT_ATTR__ATIME;
			m->rec_attr_set = (m->rec_attr_set & ~MOUNT_ATTR__ATIME) | a;
		} else if (rec_attr_names[k].clear) {
			m->rec_attr_clr |= a;
			m->rec_attr_set &= ~a;
		} else {
			m->rec_attr_set |= a;
			m->rec_attr_clr &= ~a;
		}
		return true;
	}
	return false;
}

static unsigned long propagation_flag(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagation_names); i++)
		if (strcmp(s, propagation_names[i].name) == 0)
			return propagation_names[i].flag;
	return 0;
}

static int append_data(char **data, const char *opt)
{
	char *n;

	if (*data == NULL)
		n = strdup(opt);
	else if (asprintf(&n, "%s,%s", *data, opt) < 0)
		n = NULL;
	if (n == NULL)
		return -ENOMEM;
	free(*data);
	*data = n;
	return 0;
}

static int derive_mount_flags(struct rune_mount *m)
{
	for (char **o = m->options; o && *o; o++) {
		size_t k;
		unsigned long pf;

		if (strcmp(*o, "bind") == 0) {
			m->bind = true;
			continue;
		}
		if (strcmp(*o, "rbind") == 0) {
			m->bind = m->recursive = true;
			continue;
		}
		if ((pf = propagation_flag(*o))) {
			m->propagation |= pf;
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(mount_flag_names); k++)
			if (strcmp(*o, mount_flag_names[k].name) == 0)
				break;
		if (k < ARRAY_SIZE(mount_flag_names)) {
			if (mount_flag_names[k].clear) {
				m->flags &= ~mount_flag_names[k].flag;
				m->clear_flags |= mount_flag_names[k].flag;
			} else {
				m->flags |= mount_flag_names[k].flag;
			}
			continue;
		}
		if (rec_attr(m, *o))
			continue;
		if (strcmp(*o, "tmpcopyup") == 0) {
			m->tmpcopyup = true;
			continue;
		}
		/* "defaults" is not data for the kernel. */
		if (strcmp(*o, "defaults") == 0)
			continue;
		if (append_data(&m->data, *o) < 0)
			return -ENOMEM;
	}
	if (m->type && strcmp(m->type, "bind") == 0)
		m->bind = true;
	return 0;
}

static int parse_mounts(struct ctx *c, json_t *root, const char *bundle, struct rune_config *cfg)
{
	json_t *arr, *v;
	size_t i;
	int ret = get_typed(c, root, "", "mounts", JSON_ARRAY, &arr);

	if (ret < 0 || arr == NULL)
		return ret;
	cfg->mounts = calloc(json_array_size(arr) + 1, sizeof(*cfg->mounts));
	if (cfg->mounts == NULL)
		return err_sys(c->err, ENOMEM, "%s", c->name);
	json_array_foreach(arr, i, v)
	{
		_cleanup_free_ char *p = idx(".mounts", i);
		struct rune_mount *m = &cfg->mounts[i];

		cfg->n_mounts = i + 1;
		if (!json_is_object(v))
			return BAD(c, p, "expected an object");
		if ((ret = get_str(c, v, p, "destination", true, &m->destination)) < 0 ||
		    (ret = get_str(c, v, p, "type", false, &m->type)) < 0 ||
		    (ret = get_str(c, v, p, "source", false, &m->source)) < 0 ||
		    (ret = get_strv(c, v, p, "options", &m->options)) < 0)
			return ret;
		if (m->destination[0] != '/') {
			_cleanup_free_ char *pd = sub(p, "destination");
			return BAD(c, pd, "\"%s\" is not an absolute path", m->destination);
		}
		if (derive_mount_flags(m) < 0)
			return err_sys(c->err, ENOMEM, "%s", c->name);
		/* A relative bind source is relative to the bundle, as runc reads it. */
		if (m->bind && m->source && m->source[0] != '/' && bundle) {
			char *abs = path_join(bundle, m->source);
			if (abs == NULL)
				return err_sys(c->err, ENOMEM, "%s", c->name);
			free(m->source);
			m->source = abs;
		}
		if (m->type == NULL && !m->bind) {
			_cleanup_free_ char *pt = sub(p, "type");
			return BAD(c, pt, "missing (and no bind option)");
		}
	}
	return 0;
}

/* ---- hooks ---- */

static const char *const hook_names[RUNE_HOOK_COUNT] = {
	[RUNE_HOOK_PRESTART] = "prestart",
	[RUNE_HOOK_CREATE_RUNTIME] = "createRuntime",
	[RUNE_HOOK_CREATE_CONTAINER] = "createContainer",
	[RUNE_HOOK_START_CONTAINER] = "startContainer",
	[RUNE_HOOK_POSTSTART] = "poststart",
	[RUNE_HOOK_POSTSTOP] = "poststop",
};

static int parse_hooks(struct ctx *c, json_t *root, struct rune_config *cfg)
{
	json_t *hooks;
	int ret = get_typed(c, root, "", "hooks", JSON_OBJECT, &hooks);

	if (ret < 0 || hooks == NULL)
		return ret;
	for (int k = 0; k < RUNE_HOOK_COUNT; k++) {
		_cleanup_free_ char *pk = sub(".hooks", hook_names[k]);
		json_t *arr, *v;
		size_t i;

		if ((ret = get_typed(c, hooks, ".hooks", hook_names[k], JSON_ARRAY, &arr)) < 0)
			return ret;
		if (arr == NULL)
			continue;
		cfg->hooks[k].v = calloc(json_array_size(arr) + 1, sizeof(struct rune_hook));
		if (cfg->hooks[k].v == NULL)
			return err_sys(c->err, ENOMEM, "%s", c->name);
		json_array_foreach(arr, i, v)
		{
			_cleanup_free_ char *p = idx(pk, i);
			struct rune_hook *h = &cfg->hooks[k].v[i];
			long long t;
			bool has;

			cfg->hooks[k].n = i + 1;
			if (!json_is_object(v))
				return BAD(c, p, "expected an object");
			if ((ret = get_str(c, v, p, "path", true, &h->path)) < 0 ||
			    (ret = get_strv(c, v, p, "args", &h->args)) < 0 ||
			    (ret = get_strv(c, v, p, "env", &h->env)) < 0 ||
			    (ret = get_int_range(c, v, p, "timeout", 1, INT_MAX, &has, &t)) < 0)
				return ret;
			h->timeout = has ? t : 0;
			if (h->path[0] != '/') {
				_cleanup_free_ char *pp = sub(p, "path");
				return BAD(c, pp, "\"%s\" is not an absolute path", h->path);
			}
		}
	}
	return 0;
}

/* ---- linux ---- */

static const char *const ns_names[RUNE_NS_COUNT] = {
	[RUNE_NS_PID] = "pid",	     [RUNE_NS_NET] = "network", [RUNE_NS_MNT] = "mount",
	[RUNE_NS_IPC] = "ipc",	     [RUNE_NS_UTS] = "uts",	[RUNE_NS_USER] = "user",
	[RUNE_NS_CGROUP] = "cgroup", [RUNE_NS_TIME] = "time",
};

const char *rune_ns_name(enum rune_ns_type t)
{
	return ns_names[t];
}

const char *rune_ns_proc_path(enum rune_ns_type t)
{
	static const char *const paths[RUNE_NS_COUNT] = {
		[RUNE_NS_PID] = "/proc/self/ns/pid",	   [RUNE_NS_NET] = "/proc/self/ns/net",
		[RUNE_NS_MNT] = "/proc/self/ns/mnt",	   [RUNE_NS_IPC] = "/proc/self/ns/ipc",
		[RUNE_NS_UTS] = "/proc/self/ns/uts",	   [RUNE_NS_USER] = "/proc/self/ns/user",
		[RUNE_NS_CGROUP] = "/proc/self/ns/cgroup", [RUNE_NS_TIME] = "/proc/self/ns/time",
	};
	return paths[t];
}

int rune_ns_clone_flag(enum rune_ns_type t)
{
	static const int flags[RUNE_NS_COUNT] = {
		[RUNE_NS_PID] = CLONE_NEWPID,	    [RUNE_NS_NET] = CLONE_NEWNET,
		[RUNE_NS_MNT] = CLONE_NEWNS,	    [RUNE_NS_IPC] = CLONE_NEWIPC,
		[RUNE_NS_UTS] = CLONE_NEWUTS,	    [RUNE_NS_USER] = CLONE_NEWUSER,
		[RUNE_NS_CGROUP] = CLONE_NEWCGROUP, [RUNE_NS_TIME] = 0x00000080 /* CLONE_NEWTIME */,
	};
	return flags[t];
}

static int parse_namespaces(struct ctx *c, json_t *linux_obj, struct rune_config *cfg)
{
	json_t *arr, *v;
	size_t i;
	int ret = get_typed(c, linux_obj, ".linux", "namespaces", JSON_ARRAY, &arr);

	if (ret < 0 || arr == NULL)
		return ret;
	json_array_foreach(arr, i, v)
	{
		_cleanup_free_ char *p = idx(".linux.namespaces", i);
		_cleanup_free_ char *type = NULL, *path = NULL;
		int k;

		if (!json_is_object(v))
			return BAD(c, p, "expected an object");
		if ((ret = get_str(c, v, p, "type", true, &type)) < 0 ||
		    (ret = get_str(c, v, p, "path", false, &path)) < 0)
			return ret;
		for (k = 0; k < RUNE_NS_COUNT; k++)
			if (strcmp(type, ns_names[k]) == 0)
				break;
		if (k == RUNE_NS_COUNT) {
			_cleanup_free_ char *pt = sub(p, "type");
			return BAD(c, pt, "unknown namespace type \"%s\"", type);
		}
		if (cfg->ns[k].present) {
			_cleanup_free_ char *pt = sub(p, "type");
			return BAD(c, pt, "duplicate namespace \"%s\"", type);
		}
		cfg->ns[k].present = true;
		if (path && *path)
			cfg->ns[k].path = steal_ptr(path);
	}
	return 0;
}

static int parse_id_maps(struct ctx *c, json_t *linux_obj, const char *key,
			 struct rune_id_map **out, size_t *n)
{
	json_t *arr, *v;
	size_t i;
	_cleanup_free_ char *pk = sub(".linux", key);
	int ret = get_typed(c, linux_obj, ".linux", key, JSON_ARRAY, &arr);

	if (ret < 0 || arr == NULL)
		return ret;
	*out = calloc(json_array_size(arr) + 1, sizeof(**out));
	if (*out == NULL)
		return err_sys(c->err, ENOMEM, "%s", c->name);
	json_array_foreach(arr, i, v)
	{
		_cleanup_free_ char *p = idx(pk, i);
		long long a, b, s;
		bool ha, hb, hs;

		if (!json_is_object(v))
			return BAD(c, p, "expected an object");
		if ((ret = get_int_range(c, v, p, "containerID", 0, UINT32_MAX, &ha, &a)) < 0 ||
		    (ret = get_int_range(c, v, p, "hostID", 0, UINT32_MAX, &hb, &b)) < 0 ||
		    (ret = get_int_range(c, v, p, "size", 1, UINT32_MAX, &hs, &s)) < 0)
			return ret;
		if (!ha || !hb || !hs)
			return BAD(c, p, "containerID, hostID and size are required");
		(*out)[i] = (struct rune_id_map){ a, b, s };
		*n = i + 1;
	}
	return 0;
}

static int parse_devices(struct ctx *c, json_t *linux_obj, struct rune_config *cfg)
{
	json_t *arr, *v;
	size_t i;
	int ret = get_typed(c, linux_obj, ".linux", "devices", JSON_ARRAY, &arr);

	if (ret < 0 || arr == NULL)
		return ret;
	cfg->devices = calloc(json_array_size(arr) + 1, sizeof(*cfg->devices));
	if (cfg->devices == NULL)
		return err_sys(c->err, ENOMEM, "%s", c->name);
	json_array_foreach(arr, i, v)
	{
		_cleanup_free_ char *p = idx(".linux.devices", i);
		_cleanup_free_ char *type = NULL;
		struct rune_device *d = &cfg->devices[i];
		long long n;
		bool has;

		cfg->n_devices = i + 1;
		if (!json_is_object(v))
			return BAD(c, p, "expected an object");
		if ((ret = get_str(c, v, p, "path", true, &d->path)) < 0 ||
		    (ret = get_str(c, v, p, "type", true, &type)) < 0)
			return ret;
		if (d->path[0] != '/') {
			_cleanup_free_ char *pp = sub(p, "path");
			return BAD(c, pp, "\"%s\" is not an absolute path", d->path);
		}
		if (strlen(type) != 1 || !strchr("cbup", type[0])) {
			_cleanup_free_ char *pt = sub(p, "type");
			return BAD(c, pt, "unknown device type \"%s\"", type);
		}
		d->type = type[0];
		if ((ret = get_int_range(c, v, p, "major", 0, UINT32_MAX, &has, &d->major)) < 0)
			return ret;
		if (!has && d->type != 'p')
			return BAD(c, p, "major is required for type %c", d->type);
		if ((ret = get_int_range(c, v, p, "minor", 0, UINT32_MAX, &has, &d->minor)) < 0)
			return ret;
		if (!has && d->type != 'p')
			return BAD(c, p, "minor is required for type %c", d->type);
		/* Podman writes the file type bits too (S_IFCHR|0666): keep the permissions. */
		if ((ret = get_int_range(c, v, p, "fileMode", 0, 0177777, &d->has_mode, &n)) < 0)
			return ret;
		d->mode = n & 07777;
		if ((ret = get_int_range(c, v, p, "uid", 0, UINT32_MAX - 1, &d->has_uid, &n)) < 0)
			return ret;
		d->uid = n;
		if ((ret = get_int_range(c, v, p, "gid", 0, UINT32_MAX - 1, &d->has_gid, &n)) < 0)
			return ret;
		d->gid = n;
	}
	return 0;
}

static int parse_sysctls(struct ctx *c, json_t *linux_obj, struct rune_config *cfg)
{
	json_t *o, *v;
	const char *k;
	size_t i = 0;
	int ret = get_typed(c, linux_obj, ".linux", "sysctl", JSON_OBJECT, &o);

	if (ret < 0 || o == NULL)
		return ret;
	cfg->sysctls = calloc(json_object_size(o) + 1, sizeof(*cfg->sysctls));
	if (cfg->sysctls == NULL)
		return err_sys(c->err, ENOMEM, "%s", c->name);
	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v)) {
			_cleanup_free_ char *p = sub(".linux.sysctl", k);
			return BAD(c, p, "expected a string");
		}
		if (strstr(k, "..") || k[0] == '/' || k[0] == '.') {
			_cleanup_free_ char *p = sub(".linux.sysctl", k);
			return BAD(c, p, "invalid sysctl name");
		}
		cfg->sysctls[i].key = strdup(k);
		cfg->sysctls[i].value = strdup(json_string_value(v));
		cfg->n_sysctls = ++i;
	}
	return 0;
}

/* Which namespace a sysctl belongs to, as runc checks it: -1 if none (host-wide). */
static int sysctl_namespace(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb",
					   "kernel.msgmni", "kernel.sem",
					   "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };

	if (strncmp(key, "net.", 4) == 0 || strncmp(key, "net/", 4) == 0)
		return RUNE_NS_NET;
	if (strncmp(key, "fs.mqueue.", 10) == 0)
		return RUNE_NS_IPC;
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			return RUNE_NS_IPC;
	if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
		return RUNE_NS_UTS;
	return -1;
}

static int check_sysctls(struct ctx *c, struct rune_config *cfg)
{
	for (size_t i = 0; i < cfg->n_sysctls; i++) {
		const char *k = cfg->sysctls[i].key;
		int ns = sysctl_namespace(k);
		_cleanup_free_ char *p = sub(".linux.sysctl", k);

		if (ns < 0)
			return BAD(c, p,
				   "not in a separate kernel namespace: it would change the host");
		/* Joining rune's own namespace by path is refused at create (host support). */
		if (!cfg->ns[ns].present)
			return BAD(c, p, "needs a new %s namespace in .linux.namespaces",
				   rune_ns_name(ns));
		cfg->sysctls[i].ns = ns;
	}
	return 0;
}

static int parse_linux(struct ctx *c, json_t *root, struct rune_config *cfg)
{
	json_t *l;
	_cleanup_free_ char *prop = NULL;
	int ret = get_typed(c, root, "", "linux", JSON_OBJECT, &l);

	if (ret < 0 || l == NULL)
		return ret;
	if ((ret = parse_namespaces(c, l, cfg)) < 0 ||
	    (ret = parse_id_maps(c, l, "uidMappings", &cfg->uid_mappings, &cfg->n_uid_mappings)) <
		0 ||
	    (ret = parse_id_maps(c, l, "gidMappings", &cfg->gid_mappings, &cfg->n_gid_mappings)) <
		0 ||
	    (ret = parse_devices(c, l, cfg)) < 0 || (ret = parse_sysctls(c, l, cfg)) < 0)
		return ret;
	if ((ret = get_str(c, l, ".linux", "cgroupsPath", false, &cfg->cgroups_path)) < 0 ||
	    (ret = get_typed(c, l, ".linux", "resources", JSON_OBJECT, &cfg->resources)) < 0 ||
	    (ret = get_typed(c, l, ".linux", "seccomp", JSON_OBJECT, &cfg->seccomp)) < 0 ||
	    (ret = get_typed(c, l, ".linux", "personality", JSON_OBJECT, &cfg->personality)) < 0 ||
	    (ret = get_typed(c, l, ".linux", "intelRdt", JSON_OBJECT, &cfg->intel_rdt)) < 0 ||
	    (ret = get_strv(c, l, ".linux", "maskedPaths", &cfg->masked_paths)) < 0 ||
	    (ret = get_strv(c, l, ".linux", "readonlyPaths", &cfg->readonly_paths)) < 0 ||
	    (ret = get_str(c, l, ".linux", "mountLabel", false, &cfg->mount_label)) < 0 ||
	    (ret = get_str(c, l, ".linux", "rootfsPropagation", false, &prop)) < 0)
		return ret;
	if (prop && *prop) {
		cfg->rootfs_propagation = propagation_flag(prop);
		if (cfg->rootfs_propagation == 0)
			return BAD(c, ".linux.rootfsPropagation", "unknown propagation \"%s\"",
				   prop);
	}
	if ((ret = check_sysctls(c, cfg)) < 0)
		return ret;
	if ((cfg->n_uid_mappings || cfg->n_gid_mappings) && !cfg->ns[RUNE_NS_USER].present)
		return BAD(c, ".linux.uidMappings",
			   "id mappings need a user namespace in .linux.namespaces");
	if (cfg->ns[RUNE_NS_USER].present && !cfg->ns[RUNE_NS_USER].path &&
	    (!cfg->n_uid_mappings || !cfg->n_gid_mappings))
		return BAD(c, ".linux.uidMappings",
			   "a new user namespace needs uidMappings and gidMappings");
	return 0;
}

/*
 * Without a mount namespace the init shares the caller's mounts: rune then
 * only chroots into the rootfs and must not mount anything, so a config that
 * needs a mount (or mknod in the rootfs, or /dev/console) is refused.
 */
static int check_mount_ns(struct ctx *c, const struct rune_config *cfg)
{
	const char *field = NULL;

	if (cfg->ns[RUNE_NS_MNT].present)
		return 0;
	if (cfg->n_mounts)
		field = ".mounts";
	else if (cfg->masked_paths && cfg->masked_paths[0])
		field = ".linux.maskedPaths";
	else if (cfg->readonly_paths && cfg->readonly_paths[0])
		field = ".linux.readonlyPaths";
	else if (cfg->root_readonly)
		field = ".root.readonly";
	else if (cfg->rootfs_propagation)
		field = ".linux.rootfsPropagation";
	else if (cfg->n_devices)
		field = ".linux.devices";
	else if (cfg->has_process && cfg->process.terminal)
		field = ".process.terminal";
	if (field == NULL)
		return 0;
	return BAD(c, field, "needs a mount namespace in .linux.namespaces");
}

/* ---- top level ---- */

static int check_version(struct ctx *c, const char *v)
{
	char *end;
	long major = strtol(v, &end, 10);

	if (end == v || *end != '.')
		return BAD(c, ".ociVersion", "\"%s\" is not a version", v);
	if (major != 1)
		return BAD(c, ".ociVersion", "unsupported version \"%s\" (rune supports 1.x)", v);
	return 0;
}

/*
 * Go writes uint64 fields (RLIM_INFINITY as 18446744073709551615) that
 * jansson's int64 refuses as "too big". Such literals (up to UINT64_MAX) get a ".0":
 * they parse as reals, which get_u64 accepts up to 2^64 (values past 2^53
 * are rounded; all-ones is RLIM_INFINITY either way).
 */
static char *widen_big_integers(const char *text)
{
	size_t n = strlen(text), o = 0;
	char *out = malloc(2 * n + 1);
	bool in_str = false;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t start = i, end;
		bool integral = true;

		if (in_str || (text[i] != '-' && (text[i] < '0' || text[i] > '9'))) {
			if (in_str && text[i] == '\\' && i + 1 < n)
				out[o++] = text[i++];
			else if (text[i] == '"')
				in_str = !in_str;
			out[o++] = text[i++];
			continue;
		}
		for (end = i; end < n && strchr("-+0123456789.eE", text[end]); end++)
			if (strchr(".eE", text[end]))
				integral = false;
		memcpy(out + o, text + start, end - start);
		o += end - start;
		if (integral && end - start >= 19 && text[start] != '-') {
			errno = 0;
			strtoll(text + start, NULL, 10);
			bool over_int64 = errno == ERANGE;
			errno = 0;
			strtoull(text + start, NULL, 10);
			if (over_int64 && errno == 0)
				o += sprintf(out + o, ".0");
		}
		i = end;
	}
	out[o] = '\0';
	return out;
}

json_t *rune_json_loads(const char *text, size_t flags, json_error_t *jerr)
{
	_cleanup_free_ char *wide = NULL;
	json_t *j = json_loads(text, flags, jerr);

	if (j || strstr(jerr->text, "too big") == NULL || (wide = widen_big_integers(text)) == NULL)
		return j;
	return json_loads(wide, flags, jerr);
}

int rune_config_parse(const char *text, const char *name, const char *bundle,
		      struct rune_config **out, err_t *err)
{
	struct ctx cc = { .name = name, .err = err }, *c = &cc;
	struct rune_config *cfg;
	json_error_t jerr;
	json_t *root_obj, *proc;
	int ret;

	cfg = calloc(1, sizeof(*cfg));
	if (cfg == NULL)
		return err_sys(err, ENOMEM, "%s", name);
	cfg->root = rune_json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (cfg->root == NULL) {
		ret = err_set(err, EINVAL, "%s: line %d column %d: %s", name, jerr.line,
			      jerr.column, jerr.text);
		goto fail;
	}
	if (!json_is_object(cfg->root)) {
		ret = BAD(c, ".", "expected an object");
		goto fail;
	}
	if ((ret = get_str(c, cfg->root, "", "ociVersion", true, &cfg->oci_version)) < 0 ||
	    (ret = check_version(c, cfg->oci_version)) < 0)
		goto fail;
	if ((ret = get_typed(c, cfg->root, "", "root", JSON_OBJECT, &root_obj)) < 0)
		goto fail;
	if (root_obj == NULL) {
		ret = BAD(c, ".root", "missing");
		goto fail;
	}
	if ((ret = get_str(c, root_obj, ".root", "path", true, &cfg->root_path)) < 0 ||
	    (ret = get_bool(c, root_obj, ".root", "readonly", &cfg->root_readonly)) < 0)
		goto fail;
	if (cfg->root_path[0] != '/' && bundle) {
		char *abs = path_join(bundle, cfg->root_path);
		free(cfg->root_path);
		cfg->root_path = abs;
	}
	if ((ret = get_str(c, cfg->root, "", "hostname", false, &cfg->hostname)) < 0 ||
	    (ret = get_str(c, cfg->root, "", "domainname", false, &cfg->domainname)) < 0)
		goto fail;
	if ((ret = get_typed(c, cfg->root, "", "process", JSON_OBJECT, &proc)) < 0)
		goto fail;
	if (proc) {
		cfg->has_process = true;
		if ((ret = rune_process_parse(proc, ".process", &cfg->process, err)) < 0)
			goto fail;
	}
	if ((ret = get_typed(c, cfg->root, "", "annotations", JSON_OBJECT, &cfg->annotations)) < 0)
		goto fail;
	if ((ret = parse_mounts(c, cfg->root, bundle, cfg)) < 0 ||
	    (ret = parse_hooks(c, cfg->root, cfg)) < 0 ||
	    (ret = parse_linux(c, cfg->root, cfg)) < 0 || (ret = check_mount_ns(c, cfg)) < 0)
		goto fail;
	*out = cfg;
	return 0;
fail:
	rune_config_free(cfg);
	return ret;
}

int rune_config_load(const char *bundle, struct rune_config **out, err_t *err)
{
	_cleanup_free_ char *path = path_join(bundle, "config.json");
	_cleanup_free_ char *text = NULL;
	int ret;

	if (path == NULL)
		return err_sys(err, ENOMEM, "config.json");
	ret = read_file(path, &text, NULL, err);
	if (ret < 0)
		return ret;
	return rune_config_parse(text, "config.json", bundle, out, err);
}

void rune_config_free(struct rune_config *c)
{
	if (c == NULL)
		return;
	free(c->oci_version);
	free(c->root_path);
	free(c->hostname);
	free(c->domainname);
	rune_process_clear(&c->process);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].destination);
		free(c->mounts[i].type);
		free(c->mounts[i].source);
		strv_free(c->mounts[i].options);
		free(c->mounts[i].data);
	}
	free(c->mounts);
	for (int k = 0; k < RUNE_HOOK_COUNT; k++) {
		for (size_t i = 0; i < c->hooks[k].n; i++) {
			free(c->hooks[k].v[i].path);
			strv_free(c->hooks[k].v[i].args);
			strv_free(c->hooks[k].v[i].env);
		}
		free(c->hooks[k].v);
	}
	for (int k = 0; k < RUNE_NS_COUNT; k++)
		free(c->ns[k].path);
	free(c->uid_mappings);
	free(c->gid_mappings);
	for (size_t i = 0; i < c->n_devices; i++)
		free(c->devices[i].path);
	free(c->devices);
	free(c->cgroups_path);
	strv_free(c->masked_paths);
	strv_free(c->readonly_paths);
	for (size_t i = 0; i < c->n_sysctls; i++) {
		free(c->sysctls[i].key);
		free(c->sysctls[i].value);
	}
	free(c->sysctls);
	free(c->mount_label);
	json_decref(c->root);
	free(c);
}

int rune_signal_parse(const char *s)
{
	unsigned long long n;

	if (parse_ull(s, &n) == 0)
		return n < (unsigned long long)NSIG ? (int)n : -1; /* 0: a liveness probe */
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncasecmp(s, "RTMIN+", 6) == 0 && parse_ull(s + 6, &n) == 0 &&
	    SIGRTMIN + (long long)n <= SIGRTMAX)
		return SIGRTMIN + n;
	if (strcasecmp(s, "RTMIN") == 0)
		return SIGRTMIN;
	if (strcasecmp(s, "RTMAX") == 0)
		return SIGRTMAX;
	for (int i = 1; i < NSIG; i++) {
		const char *abbrev = sigabbrev_np(i);
		if (abbrev && strcasecmp(abbrev, s) == 0)
			return i;
	}
	return -1;
}

json_t *rune_config_resources(struct rune_config *cfg)
{
	json_t *linux_obj;

	if (cfg->resources)
		return cfg->resources;
	linux_obj = json_object_get(cfg->root, "linux");
	if (linux_obj == NULL) {
		linux_obj = json_object();
		if (json_object_set_new(cfg->root, "linux", linux_obj) < 0)
			return NULL;
	}
	cfg->resources = json_object();
	if (json_object_set_new(linux_obj, "resources", cfg->resources) < 0)
		cfg->resources = NULL;
	return cfg->resources;
}
