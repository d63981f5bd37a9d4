/* SPDX-License-Identifier: Apache-2.0 */
/* cgroup layout detection, paths, create/enter/destroy, pids, kill, freezer. */
#include "librune/cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

/* ---- files ---- */

static char *join3(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s", a, b) < 0)
		return NULL;
	return s;
}

/* The path as a test sees it: without the fake root prefix. */
static const char *unprefixed(const struct rune_cgroup_host *h, const char *p)
{
	size_t n = strlen(h->root);

	return n && strncmp(p, h->root, n) == 0 ? p + n : p;
}

int cg_write(const struct rune_cgroup_host *h, const char *dir, const char *file, const char *value,
	     err_t *err)
{
	_cleanup_free_ char *p = join3(dir, file);
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);
	ssize_t w;

	if (p == NULL)
		return err_sys(err, ENOMEM, "write %s", file);
	if (h->trace)
		fprintf(h->trace, "%s %s\n", unprefixed(h, p), value);
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "write %s to %s", value, p);
	/* cgroupfs takes one value per write(2): never split it. */
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	if (w < 0)
		return err_sys(err, errno, "write %s to %s", value, p);
	if ((size_t)w != len)
		return err_set(err, EIO, "write %s to %s: short write", value, p);
	return 0;
}

int cg_vwritef(const struct rune_cgroup_host *h, const char *dir, const char *file, err_t *err,
	       const char *fmt, va_list ap)
{
	_cleanup_free_ char *v = NULL;

	if (vasprintf(&v, fmt, ap) < 0) {
		v = NULL;
		return err_sys(err, ENOMEM, "write %s", file);
	}
	return cg_write(h, dir, file, v, err);
}

int cg_writef(const struct rune_cgroup_host *h, const char *dir, const char *file, err_t *err,
	      const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cg_vwritef(h, dir, file, err, fmt, ap);
	va_end(ap);
	return r;
}

int cg_read(const char *dir, const char *file, char **out, err_t *err)
{
	_cleanup_free_ char *p = join3(dir, file);
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = 0, cap = 0;

	if (p == NULL)
		return err_sys(err, ENOMEM, "read %s", file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "read %s", p);
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 8192);

			if (nb == NULL)
				return err_sys(err, ENOMEM, "read %s", p);
			buf = nb;
			cap += 8192;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(err, errno, "read %s", p);
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	*out = steal_ptr(buf);
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *v, err_t *err)
{
	_cleanup_free_ char *s = NULL;
	char *end;
	int r;

	r = cg_read(dir, file, &s, err);
	if (r < 0)
		return r;
	if (strcmp(s, "max") == 0) {
		*v = UINT64_MAX;
		return 0;
	}
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || (*end && *end != '\n'))
		return err_set(err, EINVAL, "read %s/%s: not a number: \"%s\"", dir, file, s);
	return 0;
}

bool cg_has_file(const char *dir, const char *file)
{
	_cleanup_free_ char *p = join3(dir, file);

	return p && access(p, F_OK) == 0;
}

int cg_keyed_u64(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	const char *l = text;

	while (l && *l) {
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
			*v = strtoull(l + kl + 1, NULL, 10);
			return 0;
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return -ENOENT;
}

/* ---- detection ---- */

static void hier_clear(struct rune_cgroup_hierarchy *c)
{
	free(c->mountpoint);
	free(c->mount_root);
	free(c->controllers);
	free(c->available);
	free(c->self);
}

void rune_cgroup_host_free(struct rune_cgroup_host *h)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		hier_clear(&h->hier[i]);
	free(h->hier);
	free(h->root);
	free(h);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
void rune_mountinfo_unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Whether every comma-separated item of list appears in opts (comma-separated). */
static bool list_in(const char *list, const char *opts)
{
	_cleanup_free_ char *l = strdup(list);
	char *save = NULL;

	if (l == NULL)
		return false;
	for (char *t = strtok_r(l, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t tl = strlen(t);
		const char *o = opts;
		bool found = false;

		while (o) {
			if (strncmp(o, t, tl) == 0 && (o[tl] == ',' || o[tl] == '\0')) {
				found = true;
				break;
			}
			o = strchr(o, ',');
			if (o)
				o++;
		}
		if (!found)
			return false;
	}
	return true;
}

/* One line of /proc/self/cgroup. */
struct self_line {
	int id;
	char *controllers;
	char *path;
};

static void self_lines_free(struct self_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].controllers);
		free(v[i].path);
	}
	free(v);
}

static int parse_self_cgroup(const char *file, struct self_line **out, size_t *n, err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	_cleanup_free_ char *line = NULL;
	struct self_line *v = NULL;
	size_t cap = 0, cnt = 0;

	if (f == NULL)
		return err_sys(err, errno, "open %s", file);
	while (getline(&line, &cap, f) > 0) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		struct self_line *nv;

		if (c2 == NULL)
			continue;
		*c1 = *c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (nv == NULL)
			goto oom;
		v = nv;
		v[cnt].id = atoi(line);
		v[cnt].controllers = strdup(c1 + 1);
		v[cnt].path = strdup(c2 + 1);
		cnt++;
		if (!v[cnt - 1].controllers || !v[cnt - 1].path)
			goto oom;
	}
	*out = v;
	*n = cnt;
	return 0;
oom:
	self_lines_free(v, cnt);
	return err_sys(err, ENOMEM, "parse %s", file);
}

/* The caller's path relative to the mount's root (runc strips the root too). */
static char *self_relative(const char *self, const char *mount_root)
{
	size_t rl = strlen(mount_root);

	if (strcmp(mount_root, "/") != 0 && strncmp(self, mount_root, rl) == 0 &&
	    (self[rl] == '/' || self[rl] == '\0'))
		return cg_clean_path(self + rl);
	return cg_clean_path(self);
}

static const struct self_line *match_v1(const struct self_line *v, size_t n, const char *opts)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id > 0 && v[i].controllers[0] && list_in(v[i].controllers, opts))
			return &v[i];
	return NULL;
}

static const struct self_line *match_v2(const struct self_line *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].id == 0 && v[i].controllers[0] == '\0')
			return &v[i];
	return NULL;
}

static bool have_hier(const struct rune_cgroup_host *h, bool v2, const char *controllers)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->hier[i].v2 == v2 && (v2 || strcmp(h->hier[i].controllers, controllers) == 0))
			return true;
	return false;
}

static int add_hier(struct rune_cgroup_host *h, bool v2, const char *mnt, const char *root,
		    const struct self_line *sl, err_t *err)
{
	struct rune_cgroup_hierarchy *nv, *c;

	nv = realloc(h->hier, (h->n + 1) * sizeof(*nv));
	if (nv == NULL)
		return err_sys(err, ENOMEM, "cgroup detection");
	h->hier = nv;
	c = &h->hier[h->n++];
	memset(c, 0, sizeof(*c));
	c->v2 = v2;
	c->id = sl ? sl->id : 0;
	if (asprintf(&c->mountpoint, "%s%s", h->root, mnt) < 0)
		c->mountpoint = NULL;
	c->mount_root = strdup(root);
	c->controllers = strdup(v2 ? "" : sl->controllers);
	c->self = self_relative(sl ? sl->path : "/", root);
	c->available = NULL;
	if (v2 && cg_read(c->mountpoint, "cgroup.controllers", &c->available, NULL) < 0)
		c->available = NULL;
	if (c->available == NULL)
		c->available = strdup("");
	if (!c->mountpoint || !c->mount_root || !c->controllers || !c->self || !c->available)
		return err_sys(err, ENOMEM, "cgroup detection");
	return 0;
}

/*
 * A later mount on (or above) a hierarchy's mountpoint hides it: a tmpfs over
 * /sys/fs/cgroup/unified leaves no cgroup2 to use there.
 */
static void drop_shadowed(struct rune_cgroup_host *h, const char *mnt)
{
	size_t rl = strlen(h->root), ml = strlen(mnt);

	for (size_t i = 0; i < h->n;) {
		const char *hm = h->hier[i].mountpoint + rl;
		if (ml > 1 && strncmp(hm, mnt, ml) == 0 && (hm[ml] == '\0' || hm[ml] == '/')) {
			hier_clear(&h->hier[i]);
			memmove(&h->hier[i], &h->hier[i + 1], (h->n - i - 1) * sizeof(h->hier[0]));
			h->n--;
			continue;
		}
		i++;
	}
}

/* Handles one mountinfo line if it is a cgroup mount. */
static int parse_mount_line(struct rune_cgroup_host *h, char *line, const struct self_line *sl,
			    size_t nsl, err_t *err)
{
	char *f[6] = { 0 }, *save = NULL, *sep, *fstype, *opts;
	const struct self_line *m;
	int i = 0;

	sep = strstr(line, " - ");
	if (sep == NULL)
		return 0;
	*sep = '\0';
	for (char *t = strtok_r(line, " ", &save); t && i < 6; t = strtok_r(NULL, " ", &save))
		f[i++] = t;
	if (i < 5)
		return 0;
	save = NULL;
	fstype = strtok_r(sep + 3, " \n", &save);
	(void)strtok_r(NULL, " \n", &save); /* source */
	opts = strtok_r(NULL, " \n", &save);
	if (fstype == NULL || opts == NULL)
		return 0;
	rune_mountinfo_unescape(f[3]);
	rune_mountinfo_unescape(f[4]);
	drop_shadowed(h, f[4]);
	if (strcmp(fstype, "cgroup2") == 0) {
		if (have_hier(h, true, NULL))
			return 0; /* a second mount of the same hierarchy */
		return add_hier(h, true, f[4], f[3], match_v2(sl, nsl), err);
	}
	if (strcmp(fstype, "cgroup") != 0)
		return 0;
	m = match_v1(sl, nsl, opts);
	if (m == NULL || have_hier(h, false, m->controllers))
		return 0;
	return add_hier(h, false, f[4], f[3], m, err);
}

static int detect_layout(struct rune_cgroup_host *h, err_t *err)
{
	bool v1 = false, v2 = false;

	for (size_t i = 0; i < h->n; i++) {
		if (h->hier[i].v2)
			v2 = true;
		else
			v1 = true;
	}
	if (!v1 && !v2)
		return err_set(err, ENOENT, "no cgroup filesystem is mounted");
	h->layout = v1 && v2 ? RUNE_CGROUP_HYBRID : v1 ? RUNE_CGROUP_V1 : RUNE_CGROUP_V2;
	return 0;
}

/* Keeps v1 hierarchies first (in /proc/self/cgroup order is not needed). */
static int cmp_hier(const void *a, const void *b)
{
	const struct rune_cgroup_hierarchy *x = a, *y = b;

	if (x->v2 != y->v2)
		return x->v2 ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int rune_cgroup_host_detect_at(const char *root, const char *mountinfo, const char *self_cgroup,
			       struct rune_cgroup_host **out, err_t *err)
{
	struct rune_cgroup_host *h;
	struct self_line *sl = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL, *sd = NULL;
	size_t nsl = 0, cap = 0;
	int r;

	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->root = strdup(root ? root : "")) == NULL) {
		free(h);
		return err_sys(err, ENOMEM, "cgroup detection");
	}
	r = parse_self_cgroup(self_cgroup, &sl, &nsl, err);
	if (r < 0)
		goto fail;
	f = fopen(mountinfo, "re");
	if (f == NULL) {
		r = err_sys(err, errno, "open %s", mountinfo);
		goto fail;
	}
	while (getline(&line, &cap, f) > 0) {
		r = parse_mount_line(h, line, sl, nsl, err);
		if (r < 0)
			goto fail;
	}
	r = detect_layout(h, err);
	if (r < 0)
		goto fail;
	qsort(h->hier, h->n, sizeof(*h->hier), cmp_hier);
	if (asprintf(&sd, "%s/run/systemd/system", h->root) >= 0)
		h->systemd = access(sd, F_OK) == 0;
	else
		sd = NULL;
	self_lines_free(sl, nsl);
	*out = h;
	return 0;
fail:
	self_lines_free(sl, nsl);
	rune_cgroup_host_free(h);
	return err_wrap(err, "detect cgroup layout");
}

int rune_cgroup_host_detect(struct rune_cgroup_host **h, err_t *err)
{
	return rune_cgroup_host_detect_at(NULL, "/proc/self/mountinfo", "/proc/self/cgroup", h,
					  err);
}

enum rune_cgroup_layout rune_cgroup_layout(const struct rune_cgroup_host *h)
{
	return h->layout;
}

const char *rune_cgroup_layout_name(enum rune_cgroup_layout l)
{
	switch (l) {
	case RUNE_CGROUP_V1:
		return "v1";
	case RUNE_CGROUP_V2:
		return "v2";
	case RUNE_CGROUP_HYBRID:
		return "hybrid";
	}
	return "unknown";
}

void rune_cgroup_hierarchies(const struct rune_cgroup_host *h,
			     const struct rune_cgroup_hierarchy **v, size_t *n)
{
	*v = h->hier;
	*n = h->n;
}

static bool word_in(const char *word, const char *list, const char *seps)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p) {
		size_t l = strcspn(p, seps);

		if (l == wl && strncmp(p, word, wl) == 0)
			return true;
		p += l;
		p += strspn(p, seps);
	}
	return false;
}

const struct rune_cgroup_hierarchy *rune_cgroup_controller(const struct rune_cgroup_host *h,
							   const char *controller)
{
	const char *v1 = strcmp(controller, "io") == 0 ? "blkio" : controller;
	const char *v2 = strcmp(controller, "blkio") == 0 ? "io" : controller;
	bool implicit = strcmp(v2, "freezer") == 0 || strcmp(v2, "devices") == 0;

	for (size_t i = 0; i < h->n; i++)
		if (!h->hier[i].v2 && word_in(v1, h->hier[i].controllers, ","))
			return &h->hier[i];
	for (size_t i = 0; i < h->n; i++) {
		if (!h->hier[i].v2)
			continue;
		/* cpuacct's numbers live in cpu.stat, which every v2 cgroup has. */
		if (implicit || strcmp(v2, "cpuacct") == 0 ||
		    word_in(v2, h->hier[i].available, " "))
			return &h->hier[i];
	}
	return NULL;
}

char *rune_cgroup_dir(const struct rune_cgroup_hierarchy *hier, const char *path)
{
	char *s = NULL;

	if (strcmp(path, "/") == 0)
		path = "";
	if (asprintf(&s, "%s%s", hier->mountpoint, path) < 0)
		return NULL;
	return s;
}

int cg_target_get(const struct rune_cgroup_host *h, const char *path, const char *controller,
		  const char *what, struct cg_target *t, err_t *err)
{
	t->hier = rune_cgroup_controller(h, controller);
	t->dir = NULL;
	if (t->hier == NULL)
		return err_set(err, EOPNOTSUPP,
			       "%s: the %s controller is not available on this host (%s layout)",
			       what, controller, rune_cgroup_layout_name(h->layout));
	t->dir = rune_cgroup_dir(t->hier, path);
	if (t->dir == NULL)
		return err_sys(err, ENOMEM, "%s", what);
	return 0;
}

void cg_target_clear(struct cg_target *t)
{
	free(t->dir);
	t->dir = NULL;
}

/* ---- paths ---- */

char *cg_clean_path(const char *p)
{
	size_t n = strlen(p);
	char *out = malloc(n + 2);
	size_t w = 0;

	if (out == NULL)
		return NULL;
	while (*p) {
		size_t l;

		p += strspn(p, "/");
		l = strcspn(p, "/");
		if (l == 0)
			break;
		if (l == 1 && p[0] == '.') {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (w > 0 && out[w - 1] != '/')
				w--;
			if (w > 0)
				w--; /* the slash */
		} else {
			out[w++] = '/';
			memcpy(out + w, p, l);
			w += l;
		}
		p += l;
	}
	if (w == 0)
		out[w++] = '/';
	out[w] = '\0';
	return out;
}

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static int expand_slice(const char *slice, char **out, err_t *err)
{
	size_t l = strlen(slice), base;
	char *s, *w;

	if (l < 6 || strcmp(slice + l - 6, ".slice") != 0 || strchr(slice, '/'))
		return err_set(err, EINVAL, "invalid systemd slice name \"%s\"", slice);
	if (strcmp(slice, "-.slice") == 0)
		return (*out = strdup("")) ? 0 : err_sys(err, ENOMEM, "slice");
	base = l - 6;
	if (slice[0] == '-' || slice[base - 1] == '-' || strstr(slice, "--"))
		return err_set(err, EINVAL, "invalid systemd slice name \"%s\"", slice);
	/* At most one "/x.slice" per dash, plus the last one. */
	s = w = malloc(l * (l + 8) + 1);
	if (s == NULL)
		return err_sys(err, ENOMEM, "slice");
	for (size_t i = 0; i <= base; i++) {
		if (i == base || slice[i] == '-') {
			w += sprintf(w, "/%.*s.slice", (int)i, slice);
		}
	}
	*out = s;
	return 0;
}

static int systemd_path(const struct rune_cgroup_host *h, const char *cgroups_path, const char *id,
			char **out, err_t *err)
{
	_cleanup_free_ char *copy = NULL, *slice = NULL;
	char *parts[3], *save = NULL, *p;
	int n = 0, r;

	if (!h->systemd)
		return err_set(err, ENOTSUP,
			       "systemd cgroup driver: systemd is not running on this host "
			       "(no /run/systemd/system); use the cgroupfs driver");
	if (cgroups_path == NULL || *cgroups_path == '\0') {
		if (asprintf(&copy, "system.slice:rune:%s", id) < 0)
			return err_sys(err, ENOMEM, "cgroupsPath");
	} else if ((copy = strdup(cgroups_path)) == NULL) {
		return err_sys(err, ENOMEM, "cgroupsPath");
	}
	for (p = copy; n < 3; p = NULL) {
		parts[n] = strtok_r(p, ":", &save);
		if (parts[n] == NULL)
			break;
		n++;
	}
	if (n != 3 || strtok_r(NULL, ":", &save) != NULL || strchr(copy, '/') ||
	    strchr(parts[2], '/'))
		return err_set(err, EINVAL,
			       "expected cgroupsPath to be of format \"slice:prefix:name\" for "
			       "systemd cgroups, got \"%s\" instead",
			       cgroups_path);
	r = expand_slice(parts[0], &slice, err);
	if (r < 0)
		return err_wrap(err, "cgroupsPath \"%s\"", cgroups_path);
	if (strlen(parts[2]) > 6 && strcmp(parts[2] + strlen(parts[2]) - 6, ".slice") == 0)
		r = asprintf(out, "%s/%s", slice, parts[2]);
	else
		r = asprintf(out, "%s/%s-%s.scope", slice, parts[1], parts[2]);
	if (r < 0)
		return err_sys(err, ENOMEM, "cgroupsPath");
	return 0;
}

/* The caller's cgroup a relative cgroupsPath hangs under. */
static char *relative_base(const struct rune_cgroup_host *h)
{
	if (h->layout == RUNE_CGROUP_V2) {
		_cleanup_free_ char *parent = NULL;

		if (asprintf(&parent, "%s/..", h->hier[0].self) < 0)
			return NULL;
		return cg_clean_path(parent);
	}
	/* v1: the lowest-numbered hierarchy with a real controller (name=systemd tracks sessions). */
	for (size_t i = 0; i < h->n; i++)
		if (!h->hier[i].v2 && strncmp(h->hier[i].controllers, "name=", 5) != 0)
			return strdup(h->hier[i].self);
	return strdup(h->hier[0].self);
}

int rune_cgroup_host_resolve_path(const struct rune_cgroup_host *h, const char *cgroups_path,
				  const char *id, bool systemd, char **out, err_t *err)
{
	_cleanup_free_ char *base = NULL, *joined = NULL;

	if (id == NULL || *id == '\0' || strchr(id, '/') || strcmp(id, ".") == 0 ||
	    strcmp(id, "..") == 0)
		return err_set(err, EINVAL, "invalid container id \"%s\" for a cgroup name",
			       id ? id : "");
	if (systemd)
		return systemd_path(h, cgroups_path, id, out, err);
	if (cgroups_path == NULL || *cgroups_path == '\0') {
		if (asprintf(&joined, "/%s", id) < 0)
			return err_sys(err, ENOMEM, "cgroupsPath");
	} else if (cgroups_path[0] == '/') {
		joined = strdup(cgroups_path);
	} else {
		_cleanup_free_ char *rel = cg_clean_path(cgroups_path);

		base = relative_base(h);
		if (rel == NULL || base == NULL || asprintf(&joined, "%s%s", base, rel) < 0)
			joined = NULL;
	}
	if (joined == NULL)
		return err_sys(err, ENOMEM, "cgroupsPath");
	*out = cg_clean_path(joined);
	if (*out == NULL)
		return err_sys(err, ENOMEM, "cgroupsPath");
	return 0;
}

int rune_cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
			     err_t *err)
{
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	int r;

	r = rune_cgroup_host_detect(&h, err);
	if (r < 0)
		return r;
	return rune_cgroup_host_resolve_path(h, cgroups_path, id, systemd, out, err);
}

/* ---- create, enter ---- */

/* Directories create made, to undo on failure (deepest last). */
struct made {
	char **v;
	size_t n;
};

static int do_rmdir(const struct rune_cgroup_host *h, const char *dir)
{
	return h->rmdir ? h->rmdir(dir) : rmdir(dir);
}

static void made_undo(const struct rune_cgroup_host *h, struct made *m)
{
	while (m->n > 0) {
		m->n--;
		do_rmdir(h, m->v[m->n]);
		free(m->v[m->n]);
	}
	free(m->v);
	m->v = NULL;
}

static void made_forget(struct made *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* A new v1 cpuset cgroup has empty cpus/mems and refuses tasks: copy the parent's. */
static int cpuset_inherit(const struct rune_cgroup_host *h, const char *parent, const char *dir,
			  err_t *err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *cur = NULL, *up = NULL;
		int r;

		if (cg_read(dir, files[i], &cur, NULL) < 0 || cur[0] != '\0')
			continue;
		r = cg_read(parent, files[i], &up, err);
		if (r < 0)
			return r;
		r = cg_write(h, dir, files[i], up, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* v2: lets children use every controller this level has (as runc does). */
static void enable_subtree(const struct rune_cgroup_host *h, const char *dir)
{
	_cleanup_free_ char *avail = NULL;
	char *save = NULL;

	if (cg_read(dir, "cgroup.controllers", &avail, NULL) < 0)
		return;
	/* One at a time: a controller that refuses (busy, threaded) must not block the rest. */
	for (char *c = strtok_r(avail, " ", &save); c; c = strtok_r(NULL, " ", &save))
		cg_writef(h, dir, "cgroup.subtree_control", NULL, "+%s", c);
}

static int mkdir_one(const struct rune_cgroup_host *h, const struct rune_cgroup_hierarchy *hier,
		     const char *parent, const char *dir, struct made *m, err_t *err)
{
	char **nv;

	if (hier->v2)
		enable_subtree(h, parent);
	if (mkdir(dir, 0755) < 0) {
		if (errno != EEXIST)
			return err_sys(err, errno, "mkdir %s", dir);
		/* Someone else's empty cpuset level would refuse our tasks too. */
		if (!hier->v2 && word_in("cpuset", hier->controllers, ","))
			return cpuset_inherit(h, parent, dir, err);
		return 0;
	}
	nv = realloc(m->v, (m->n + 1) * sizeof(*nv));
	if (nv == NULL || (nv[m->n] = strdup(dir)) == NULL) {
		if (nv)
			m->v = nv;
		do_rmdir(h, dir);
		return err_sys(err, ENOMEM, "mkdir %s", dir);
	}
	m->v = nv;
	m->n++;
	if (h->on_mkdir)
		h->on_mkdir(hier, dir, h->on_mkdir_data);
	if (!hier->v2 && word_in("cpuset", hier->controllers, ","))
		return cpuset_inherit(h, parent, dir, err);
	return 0;
}

/* mkdir -p of path under hier, recording what it made. */
static int mkdir_path(const struct rune_cgroup_host *h, const struct rune_cgroup_hierarchy *hier,
		      const char *path, struct made *m, err_t *err)
{
	_cleanup_free_ char *dir = rune_cgroup_dir(hier, path);
	size_t base = strlen(hier->mountpoint), len;

	if (dir == NULL)
		return err_sys(err, ENOMEM, "mkdir");
	len = strlen(dir);
	for (size_t i = base + 1; i <= len; i++) {
		_cleanup_free_ char *parent = NULL;
		char c = dir[i];
		int r;

		if (c != '/' && c != '\0')
			continue;
		dir[i] = '\0';
		parent = strndup(dir, strrchr(dir, '/') - dir);
		r = parent ? mkdir_one(h, hier, parent, dir, m, err)
			   : err_sys(err, ENOMEM, "mkdir");
		dir[i] = c;
		if (r < 0)
			return r;
	}
	return 0;
}

/* Only clean absolute paths below the root: what resolve_path returns. */
static int check_path(const char *path, err_t *err)
{
	_cleanup_free_ char *clean = path && path[0] == '/' ? cg_clean_path(path) : NULL;

	if (clean == NULL || strcmp(clean, path) != 0 || strcmp(path, "/") == 0)
		return err_set(err, EINVAL, "invalid cgroup path \"%s\"", path ? path : "");
	return 0;
}

static int write_pid(const struct rune_cgroup_host *h, const struct rune_cgroup_hierarchy *hier,
		     const char *path, pid_t pid, err_t *err)
{
	_cleanup_free_ char *dir = rune_cgroup_dir(hier, path);

	if (dir == NULL)
		return err_sys(err, ENOMEM, "move pid %d", pid);
	return cg_writef(h, dir, "cgroup.procs", err, "%d", (int)pid);
}

/* Moves pid into path on every hierarchy; on failure puts it back in the caller's cgroups. */
static int move_pid(const struct rune_cgroup_host *h, const char *path, pid_t pid, err_t *err)
{
	for (size_t i = 0; i < h->n; i++) {
		int r = write_pid(h, &h->hier[i], path, pid, err);

		if (r < 0) {
			while (i-- > 0)
				write_pid(h, &h->hier[i], h->hier[i].self, pid, NULL);
			return err_wrap(err, "move pid %d into cgroup %s", (int)pid, path);
		}
	}
	return 0;
}

int rune_cgroup_create(const struct rune_cgroup_host *h, const char *path, pid_t pid,
		       json_t *resources, err_t *err)
{
	struct made m = { 0 };
	int r;

	r = check_path(path, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < h->n; i++) {
		r = mkdir_path(h, &h->hier[i], path, &m, err);
		if (r < 0)
			goto fail;
	}
	r = cg_apply_resources(h, path, resources, true, err);
	if (r < 0)
		goto fail;
	if (pid > 0) {
		r = move_pid(h, path, pid, err);
		if (r < 0)
			goto fail;
	}
	made_forget(&m);
	return 0;
fail:
	made_undo(h, &m);
	return err_wrap(err, "create cgroup %s", path);
}

int rune_cgroup_join(const struct rune_cgroup_host *h, const char *path, pid_t pid, err_t *err)
{
	int r = check_path(path, err);

	for (size_t i = 0; r == 0 && i < h->n; i++) {
		/* systemd trims empty dirs of controllers it doesn't manage: redo until we're in. */
		for (int tries = 0;; tries++) {
			struct made m = { 0 };

			r = mkdir_path(h, &h->hier[i], path, &m, err);
			made_forget(&m);
			if (r == 0)
				r = write_pid(h, &h->hier[i], path, pid, err);
			if (r != -ENOENT || tries == 20)
				break;
			err_free(err);
			usleep(1000);
		}
	}
	return r < 0 ? err_wrap(err, "join cgroup %s", path) : 0;
}

int rune_cgroup_enter(const struct rune_cgroup_host *h, const char *path, pid_t pid, err_t *err)
{
	int r = check_path(path, err);

	if (r < 0)
		return r;
	return move_pid(h, path, pid, err);
}

int rune_cgroup_enter_task(const struct rune_cgroup_host *h, const char *path, pid_t pid,
			   bool in_v2_already, err_t *err)
{
	int r = check_path(path, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *dir = rune_cgroup_dir(&h->hier[i], path);

		if (dir == NULL)
			return err_sys(err, ENOMEM, "move pid %d", (int)pid);
		if (h->hier[i].v2 && in_v2_already)
			continue;
		r = cg_writef(h, dir, h->hier[i].v2 ? "cgroup.procs" : "tasks", err, "%d",
			      (int)pid);
		if (r < 0)
			return err_wrap(err, "move %s into cgroup %s", pid ? "pid" : "self", path);
	}
	return 0;
}

/* ---- exec --cgroup ---- */

static bool hier_has_controller(const struct rune_cgroup_hierarchy *hier, const char *ctrl,
				size_t len)
{
	for (const char *c = hier->controllers; c && *c;) {
		size_t l = strcspn(c, ",");
		if (l == len && strncmp(c, ctrl, len) == 0)
			return true;
		c += l + (c[l] == ',');
	}
	return false;
}

/* path joined with sub, refused when it climbs out of path (runc's wording). */
static int sub_join(const char *path, const char *sub, char **out, err_t *err)
{
	_cleanup_free_ char *joined = NULL;
	size_t n = strlen(path);

	if (asprintf(&joined, "%s/%s", path, sub) < 0)
		return err_sys(err, ENOMEM, "cgroup %s", sub);
	*out = cg_clean_path(joined);
	if (*out == NULL)
		return err_sys(err, ENOMEM, "cgroup %s", sub);
	if (strncmp(*out, path, n) != 0 || ((*out)[n] != '/' && (*out)[n] != '\0')) {
		free(*out);
		*out = NULL;
		return err_set(err, EINVAL, "%s is not a sub cgroup path", sub);
	}
	return 0;
}

/* Checks runc's rules for the arguments as a whole: syntax, duplicates, known controllers. */
static int check_subs(const struct rune_cgroup_host *h, const char *path, char *const *subs,
		      err_t *err)
{
	size_t n = 0;

	for (char *const *a = subs; *a; a++)
		n++;
	for (char *const *a = subs; *a; a++) {
		const char *colon = strchr(*a, ':');
		_cleanup_free_ char *joined = NULL;
		int r;

		if (colon && strchr(colon + 1, ':'))
			return err_set(err, EINVAL, "invalid --cgroup argument: %s", *a);
		if (colon == NULL && n != 1)
			return err_set(
			    err, EINVAL,
			    "invalid --cgroup argument: %s (missing <controller>: prefix)", *a);
		if ((r = sub_join(path, colon ? colon + 1 : *a, &joined, err)) < 0)
			return r;
		for (const char *c = *a; colon && c <= colon;) {
			size_t l = strcspn(c, ",:");
			bool known = false;

			if (l == 0)
				return err_set(err, EINVAL,
					       "invalid --cgroup argument: %s (empty <controller> "
					       "prefix)",
					       *a);
			for (char *const *b = subs; b < a; b++) {
				const char *bc = strchr(*b, ':');
				for (const char *d = *b; bc && d < bc;) {
					size_t m = strcspn(d, ",:");
					if (m == l && strncmp(d, c, l) == 0)
						return err_set(err, EINVAL,
							       "invalid --cgroup argument(s): "
							       "controller %.*s specified multiple "
							       "times",
							       (int)l, c);
					d += m + 1;
				}
			}
			for (size_t i = 0; i < h->n && !known; i++)
				known = hier_has_controller(&h->hier[i], c, l);
			if (!known)
				return err_set(err, EINVAL, "unknown controller %.*s", (int)l, c);
			c += l + 1;
		}
	}
	return 0;
}

/* The cgroup the process joins on hier: a sub-cgroup the arguments name for it, or path. */
static int sub_for(const struct rune_cgroup_hierarchy *hier, const char *path, char *const *subs,
		   char **out, err_t *err)
{
	const char *sub = NULL;

	for (char *const *a = subs; *a; a++) {
		const char *colon = strchr(*a, ':');
		if (colon == NULL) {
			sub = *a;
			continue;
		}
		for (const char *c = *a; c < colon;) {
			size_t l = strcspn(c, ",:");
			if (hier_has_controller(hier, c, l))
				sub = colon + 1;
			c += l + 1;
		}
	}
	if (sub == NULL) {
		*out = strdup(path);
		return *out ? 0 : err_sys(err, ENOMEM, "cgroup %s", path);
	}
	return sub_join(path, sub, out, err);
}

int rune_cgroup_check_subs(const struct rune_cgroup_host *h, const char *path, char *const *subs,
			   err_t *err)
{
	int r = check_path(path, err);

	return r < 0 ? r : check_subs(h, path, subs, err);
}

int rune_cgroup_enter_task_sub(const struct rune_cgroup_host *h, const char *path,
			       char *const *subs, err_t *err)
{
	int r;

	if (subs == NULL || subs[0] == NULL)
		return rune_cgroup_enter_task(h, path, 0, false, err);
	if ((r = rune_cgroup_check_subs(h, path, subs, err)) < 0)
		return r;
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *sub = NULL, *dir = NULL;

		if ((r = sub_for(&h->hier[i], path, subs, &sub, err)) < 0)
			return r;
		dir = rune_cgroup_dir(&h->hier[i], sub);
		if (dir == NULL)
			return err_sys(err, ENOMEM, "cgroup %s", sub);
		r = cg_writef(h, dir, h->hier[i].v2 ? "cgroup.procs" : "tasks", err, "0");
		if (r < 0)
			return err_wrap(err, "move self into cgroup %s", sub);
	}
	return 0;
}

int rune_cgroup_v2_dirfd(const struct rune_cgroup_host *h, const char *path)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!h->hier[i].v2)
			continue;
		_cleanup_free_ char *dir = rune_cgroup_dir(&h->hier[i], path);
		return dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	}
	return -1;
}

int rune_cgroup_update(const struct rune_cgroup_host *h, const char *path, json_t *resources,
		       err_t *err)
{
	int r = check_path(path, err);

	if (r < 0)
		return r;
	if (!rune_cgroup_exists(h, path))
		return err_set(err, ENOENT, "update cgroup %s: it does not exist", path);
	r = cg_apply_resources(h, path, resources, false, err);
	if (r < 0)
		return err_wrap(err, "update cgroup %s", path);
	return 0;
}

bool rune_cgroup_exists(const struct rune_cgroup_host *h, const char *path)
{
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *dir = rune_cgroup_dir(&h->hier[i], path);
		struct stat st;

		if (dir && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return true;
	}
	return false;
}

int rune_cgroup_allow_device(json_t *resources, char type, int64_t major, int64_t minor,
			     const char *access, err_t *err)
{
	json_t *devs = json_object_get(resources, "devices");
	json_t *rule;
	char t[2] = { type, 0 };

	if (!json_is_object(resources))
		return err_set(err, EINVAL, "allow device: resources is not an object");
	if (devs == NULL) {
		devs = json_array();
		if (devs == NULL || json_object_set_new(resources, "devices", devs) < 0)
			return err_sys(err, ENOMEM, "allow device");
	} else if (!json_is_array(devs)) {
		return err_set(err, EINVAL, "allow device: resources.devices is not an array");
	}
	rule = json_pack("{s:b, s:s, s:s}", "allow", 1, "type", t, "access", access);
	if (rule == NULL)
		return err_sys(err, ENOMEM, "allow device");
	if (major >= 0)
		json_object_set_new(rule, "major", json_integer(major));
	if (minor >= 0)
		json_object_set_new(rule, "minor", json_integer(minor));
	if (json_array_append_new(devs, rule) < 0)
		return err_sys(err, ENOMEM, "allow device");
	return 0;
}

/* ---- pids, kill ---- */

struct pidset {
	pid_t *v;
	size_t n, cap;
};

static int pidset_add_file(struct pidset *s, const char *dir, err_t *err)
{
	_cleanup_free_ char *text = NULL;
	char *p, *end;
	int r;

	r = cg_read(dir, "cgroup.procs", &text, err);
	if (r < 0)
		return r;
	for (p = text; *p; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (s->n == s->cap) {
			pid_t *nv = realloc(s->v, (s->cap * 2 + 16) * sizeof(*nv));

			if (nv == NULL)
				return err_sys(err, ENOMEM, "read %s/cgroup.procs", dir);
			s->v = nv;
			s->cap = s->cap * 2 + 16;
		}
		if (v > 0)
			s->v[s->n++] = (pid_t)v;
	}
	return 0;
}

/* Calls fn on dir and, recursively, on every child directory (children first if post). */
static int walk(const char *dir, bool post, int (*fn)(const char *dir, void *data), void *data)
{
	_cleanup_free_ char **kids = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (!post) {
		r = fn(dir, data);
		if (r < 0)
			return r;
	}
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		char **nv;

		if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		nv = realloc(kids, (n + 1) * sizeof(*nv));
		if (nv == NULL || (nv[n] = join3(dir, e->d_name)) == NULL) {
			if (nv)
				kids = nv;
			r = -ENOMEM;
			break;
		}
		kids = nv;
		n++;
	}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		if (r == 0)
			r = walk(kids[i], post, fn, data);
		free(kids[i]);
	}
	if (r == 0 && post)
		r = fn(dir, data);
	return r;
}

struct pids_ctx {
	struct pidset *s;
	err_t *err;
};

static int pids_cb(const char *dir, void *data)
{
	struct pids_ctx *c = data;
	int r = pidset_add_file(c->s, dir, c->err);

	/* A child cgroup removed under us is fine. */
	if (r == -ENOENT) {
		err_free(c->err);
		return 0;
	}
	return r;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int rune_cgroup_pids(const struct rune_cgroup_host *h, const char *path, pid_t **pids, size_t *n,
		     err_t *err)
{
	struct pidset s = { 0 };
	struct pids_ctx c = { &s, err };
	size_t w = 0;

	*pids = NULL;
	*n = 0;
	/* Union over hierarchies: an exec that failed halfway still shows up. */
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *dir = rune_cgroup_dir(&h->hier[i], path);
		int r;

		if (dir == NULL) {
			free(s.v);
			return err_sys(err, ENOMEM, "list pids of cgroup %s", path);
		}
		r = walk(dir, false, pids_cb, &c);
		if (r < 0) {
			free(s.v);
			if (err && *err == NULL)
				err_sys(err, -r, "list pids of cgroup %s", path);
			return r;
		}
	}
	if (s.n == 0) {
		free(s.v);
		return 0;
	}
	qsort(s.v, s.n, sizeof(*s.v), cmp_pid);
	for (size_t i = 0; i < s.n; i++)
		if (w == 0 || s.v[w - 1] != s.v[i])
			s.v[w++] = s.v[i];
	*pids = s.v;
	*n = w;
	return 0;
}

static int signal_all(const struct rune_cgroup_host *h, const char *path, int sig, err_t *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	int r;

	r = rune_cgroup_pids(h, path, &pids, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return err_sys(err, errno, "kill %d with signal %d", (int)pids[i], sig);
	return 0;
}

static void v2_kill(const struct rune_cgroup_host *h, const char *path)
{
	for (size_t i = 0; i < h->n; i++) {
		_cleanup_free_ char *dir = NULL;

		if (!h->hier[i].v2)
			continue;
		dir = rune_cgroup_dir(&h->hier[i], path);
		if (dir && cg_has_file(dir, "cgroup.kill"))
			cg_write(h, dir, "cgroup.kill", "1", NULL);
	}
}

int rune_cgroup_kill(const struct rune_cgroup_host *h, const char *path, int sig, err_t *err)
{
	const struct rune_cgroup_hierarchy *fz;
	bool was_frozen = false, froze = false;
	int r;

	r = check_path(path, err);
	if (r < 0)
		return r;
	/* v2's cgroup.kill (5.14+) kills the whole subtree atomically. */
	if (sig == SIGKILL)
		v2_kill(h, path);
	/* Freeze first so nothing forks between listing and signalling (as runc does). */
	fz = rune_cgroup_controller(h, "freezer");
	if (fz && rune_cgroup_is_frozen(h, path, &was_frozen, NULL) == 0 && !was_frozen)
		froze = rune_cgroup_freeze(h, path, true, NULL) == 0;
	r = signal_all(h, path, sig, err);
	if (froze || (was_frozen && sig == SIGKILL))
		rune_cgroup_freeze(h, path, false, NULL);
	if (r < 0)
		return err_wrap(err, "kill cgroup %s", path);
	return 0;
}

/* ---- destroy ---- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int rmdir_cb(const char *dir, void *data)
{
	if (do_rmdir(data, dir) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int rune_cgroup_destroy(const struct rune_cgroup_host *h, const char *path, bool kill_stragglers,
			err_t *err)
{
	int r = check_path(path, err);

	if (r < 0)
		return r;
	/* About a second: exiting tasks leave their cgroups asynchronously. */
	for (int attempt = 0; attempt < 100; attempt++) {
		_cleanup_free_ char *failed = NULL;

		r = 0;
		for (size_t i = 0; i < h->n; i++) {
			_cleanup_free_ char *dir = rune_cgroup_dir(&h->hier[i], path);
			int q = 0;

			if (dir == NULL)
				return err_sys(err, ENOMEM, "remove cgroup %s", path);
			/* The common case is a leaf: one rmdir, no directory walk. */
			if (rmdir(dir) == 0 || errno == ENOENT)
				continue;
			q = walk(dir, true, rmdir_cb, (void *)h);
			if (q < 0 && r == 0) {
				r = q;
				failed = steal_ptr(dir);
			}
		}
		if (r == 0)
			return 0;
		if (r != -EBUSY || attempt == 99)
			return err_sys(err, -r, "remove cgroup %s", failed);
		/* Still busy: only now look for stragglers, and retry at once. */
		if (kill_stragglers && attempt % 10 == 0) {
			rune_cgroup_kill(h, path, SIGKILL, NULL);
			if (attempt == 0)
				continue;
		}
		sleep_ms(10);
	}
	return 0;
}

/* ---- freezer ---- */

static int v1_freezer_state(const char *dir, char **state, err_t *err)
{
	return cg_read(dir, "freezer.state", state, err);
}

static int v2_frozen(const char *dir, bool *frozen, err_t *err)
{
	_cleanup_free_ char *ev = NULL;
	uint64_t v = 0;
	int r;

	r = cg_read(dir, "cgroup.events", &ev, err);
	if (r < 0)
		return r;
	if (cg_keyed_u64(ev, "frozen", &v) < 0)
		return err_set(err, ENOTSUP, "%s/cgroup.events has no \"frozen\" key", dir);
	*frozen = v == 1;
	return 0;
}

/* Polls until the kernel reports the wanted state, re-requesting it as runc does. */
static int freeze_wait(const struct rune_cgroup_host *h, const struct cg_target *t, bool freeze,
		       err_t *err)
{
	const char *want = freeze ? "FROZEN" : "THAWED";

	for (int i = 0; i < 2000; i++) {
		bool done;
		int r;

		if (i % 100 == 0) {
			r = t->hier->v2
				? cg_write(h, t->dir, "cgroup.freeze", freeze ? "1" : "0", err)
				: cg_write(h, t->dir, "freezer.state", want, err);
			if (r < 0)
				return r;
		}
		if (t->hier->v2) {
			r = v2_frozen(t->dir, &done, err);
			done = done == freeze;
		} else {
			_cleanup_free_ char *s = NULL;

			r = v1_freezer_state(t->dir, &s, err);
			done = r == 0 && strcmp(s, want) == 0;
		}
		if (r < 0)
			return r;
		if (done)
			return 0;
		sleep_ms(1);
	}
	return err_set(err, ETIMEDOUT, "timed out waiting for %s to become %s", t->dir, want);
}

int rune_cgroup_freeze(const struct rune_cgroup_host *h, const char *path, bool freeze, err_t *err)
{
	struct cg_target t;
	int r;

	r = check_path(path, err);
	if (r < 0)
		return r;
	r = cg_target_get(h, path, "freezer", freeze ? "pause" : "resume", &t, err);
	if (r < 0)
		return r;
	r = freeze_wait(h, &t, freeze, err);
	if (r < 0 && freeze)
		freeze_wait(h, &t, false, NULL); /* never leave it half frozen */
	cg_target_clear(&t);
	if (r < 0)
		return err_wrap(err, "%s cgroup %s", freeze ? "freeze" : "thaw", path);
	return 0;
}

int rune_cgroup_is_frozen(const struct rune_cgroup_host *h, const char *path, bool *frozen,
			  err_t *err)
{
	struct cg_target t;
	int r;

	*frozen = false;
	r = cg_target_get(h, path, "freezer", "freezer state", &t, err);
	if (r < 0)
		return r;
	if (t.hier->v2) {
		_cleanup_free_ char *want = NULL;

		r = cg_read(t.dir, "cgroup.freeze", &want, err);
		if (r == 0 && strcmp(want, "1") == 0)
			r = v2_frozen(t.dir, frozen, err);
	} else {
		_cleanup_free_ char *s = NULL;

		r = v1_freezer_state(t.dir, &s, err);
		if (r == 0)
			*frozen = strcmp(s, "FROZEN") == 0;
	}
	cg_target_clear(&t);
	return r;
}
