/* SPDX-License-Identifier: Apache-2.0 */
/* The process `exec` runs: a process JSON file, or the frozen config's process with changes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "librune/config.h"
#include "librune/container.h"
#include "librune/state.h"
#include "librune/util.h"

static int set_env(char ***env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

	for (char **e = *env; e && *e; e++)
		if (strncmp(*e, kv, klen) == 0 && (*e)[klen] == '=') {
			char *n = strdup(kv);
			if (n == NULL)
				return -ENOMEM;
			free(*e);
			*e = n;
			return 0;
		}
	return strv_append(env, kv);
}

/* The config's process, frozen in the state at create, is the template of an argv exec. */
static int template_process(const struct rune_ctx *ctx, const char *id, struct rune_process *p,
			    err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	int ret;

	if ((ret = rune_state_load(ctx->root, id, &s, err)) < 0)
		return ret;
	/* rune_container_exec refuses a state without it, with the reason. */
	if (s->process == NULL)
		return 0;
	if ((ret = rune_process_parse(s->process, "state: process", p, err)) < 0)
		return ret;
	p->terminal = false;
	p->console_height = p->console_width = 0;
	strv_free(p->args);
	p->args = NULL;
	return 0;
}

static int process_from_file(const char *file, struct rune_process *p, err_t *err)
{
	_cleanup_free_ char *text = NULL;
	json_error_t jerr;
	json_t *j;
	int ret;

	if ((ret = read_file(file, &text, NULL, err)) < 0)
		return ret;
	j = rune_json_loads(text, 0, &jerr);
	if (j == NULL)
		return err_set(err, EINVAL, "process %s: %s", file, jerr.text);
	ret = rune_process_parse(j, "process", p, err);
	json_decref(j);
	return ret;
}

/* --user UID[:GID]: both numeric, nothing else (runc refuses "1000:abc" too). */
static int parse_user(const char *s, struct rune_user *u)
{
	_cleanup_free_ char *copy = strdup(s);
	unsigned long long uid, gid;
	char *colon;

	if (copy == NULL)
		return -ENOMEM;
	colon = strchr(copy, ':');
	if (colon)
		*colon++ = '\0';
	if (parse_ull(copy, &uid) < 0 || uid > UINT_MAX - 1 ||
	    (colon && (parse_ull(colon, &gid) < 0 || gid > UINT_MAX - 1)))
		return -EINVAL;
	u->uid = uid;
	if (colon)
		u->gid = gid;
	return 0;
}

static int replace_str(char **dst, const char *src)
{
	char *n = strdup(src);

	if (n == NULL)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static int apply_changes(const struct rune_exec_args *a, struct rune_process *p, err_t *err)
{
	unsigned long long n;

	for (const char *const *e = a->env; e && *e; e++) {
		/* runc refuses them too ("invalid environment variable"). */
		if (strchr(*e, '=') == NULL)
			return err_set(err, EINVAL,
				       "invalid environment variable \"%s\" (not KEY=VALUE)", *e);
		if (set_env(&p->env, *e) < 0)
			return err_set(err, ENOMEM, "--env");
	}
	if (a->cwd) {
		free(p->cwd);
		p->cwd = strdup(a->cwd);
		if (p->cwd == NULL)
			return err_set(err, ENOMEM, "--cwd");
	}
	if (a->user && parse_user(a->user, &p->user) < 0)
		return err_set(err, EINVAL, "invalid --user \"%s\" (want UID[:GID], numeric)",
			       a->user);
	for (const char *const *g = a->additional_gids; g && *g; g++) {
		gid_t *v = realloc(p->user.additional_gids,
				   (p->user.n_additional_gids + 1) * sizeof(gid_t));
		if (v == NULL)
			return err_set(err, ENOMEM, "--additional-gids");
		p->user.additional_gids = v;
		if (parse_ull(*g, &n) < 0 || n > UINT_MAX - 1)
			return err_set(err, EINVAL, "invalid --additional-gids \"%s\"", *g);
		v[p->user.n_additional_gids++] = n;
	}
	for (const char *const *name = a->caps; name && *name; name++) {
		int cap = rune_cap_from_name(*name);
		if (cap < 0)
			return err_set(err, EINVAL, "unknown capability \"%s\"", *name);
		p->caps.set = true;
		p->caps.bounding |= 1ULL << cap;
		p->caps.effective |= 1ULL << cap;
		p->caps.permitted |= 1ULL << cap;
		p->caps.inheritable |= 1ULL << cap;
		p->caps.ambient |= 1ULL << cap;
	}
	if (a->no_new_privileges)
		p->no_new_privileges = true;
	/* As runc: a non-empty flag overrides the process's profile or label. */
	if ((a->apparmor && *a->apparmor && replace_str(&p->apparmor_profile, a->apparmor) < 0) ||
	    (a->process_label && *a->process_label &&
	     replace_str(&p->selinux_label, a->process_label) < 0))
		return err_set(err, ENOMEM, "exec");
	return 0;
}

int rune_exec_process_new(const struct rune_ctx *ctx, const char *id,
			  const struct rune_exec_args *a, struct rune_process **out, err_t *err)
{
	struct rune_process *p = calloc(1, sizeof(*p));
	int ret;

	if (p == NULL)
		return err_set(err, ENOMEM, "exec");
	if (a->process_file) {
		ret = process_from_file(a->process_file, p, err);
	} else {
		ret = template_process(ctx, id, p, err);
		if (ret == 0) {
			p->args = strv_dup(a->args);
			p->terminal = a->tty;
			if (p->args == NULL)
				ret = err_set(err, ENOMEM, "exec");
		}
	}
	if (ret == 0)
		ret = apply_changes(a, p, err);
	if (ret < 0) {
		rune_exec_process_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

void rune_exec_process_free(struct rune_process *p)
{
	if (p == NULL)
		return;
	rune_process_clear(p);
	free(p);
}
