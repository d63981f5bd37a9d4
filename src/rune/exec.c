/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "librune/state.h"
#include "librune/util.h"
#include "rune/rune.h"

enum {
	E_PROCESS = 'p',
	E_DETACH = 'd',
	E_TTY = 't',
	E_ENV = 'e',
	E_USER = 'u',
	E_CAP = 'c',
	E_GIDS = 'g',
	E_PID_FILE = 256,
	E_CONSOLE,
	E_CWD,
	E_NNP,
	E_PRESERVE,
	E_LABEL,
	E_APPARMOR,
	E_IGNORE_PAUSED,
	E_CGROUP,
};

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

/*
 * runc's exec exits 255 when exec itself fails (a missing container or
 * binary, a bad process file...), so that callers tell it from the
 * workload's own status; only malformed flags and a missing id are usage
 * errors (1).
 */
#define EXEC_FAILED 255

static int exec_fail(struct cli *cli, err_t *err)
{
	cli_fail(cli, err);
	return EXEC_FAILED;
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

COMMAND(exec)
{
	static const struct option opts[] = {
		{ "process", required_argument, NULL, E_PROCESS },
		{ "detach", no_argument, NULL, E_DETACH },
		{ "tty", no_argument, NULL, E_TTY },
		{ "env", required_argument, NULL, E_ENV },
		{ "user", required_argument, NULL, E_USER },
		{ "cap", required_argument, NULL, E_CAP },
		{ "additional-gids", required_argument, NULL, E_GIDS },
		{ "pid-file", required_argument, NULL, E_PID_FILE },
		{ "console-socket", required_argument, NULL, E_CONSOLE },
		{ "cwd", required_argument, NULL, E_CWD },
		{ "no-new-privs", no_argument, NULL, E_NNP },
		{ "preserve-fds", required_argument, NULL, E_PRESERVE },
		{ "process-label", required_argument, NULL, E_LABEL },
		{ "apparmor", required_argument, NULL, E_APPARMOR },
		{ "ignore-paused", no_argument, NULL, E_IGNORE_PAUSED },
		{ "cgroup", required_argument, NULL, E_CGROUP },
		{ 0 },
	};
	struct rune_process proc = { 0 };
	struct rune_exec_opts o = { .process = &proc };
	_cleanup_strv_ char **envs = NULL, **caps = NULL, **gids = NULL, **cgroups = NULL;
	_cleanup_free_ char *pid_file = NULL;
	const char *process_file = NULL, *user = NULL, *cwd = NULL, *label = NULL, *apparmor = NULL;
	bool tty = false, nnp = false;
	unsigned long long n;
	err_t err = NULL;
	int c, ret, status = 0;

	while ((c = cli_getopt(argc, argv, "+p:dte:u:c:g:", opts)) != -1) {
		switch (c) {
		case E_PROCESS:
			process_file = optarg;
			break;
		case E_DETACH:
			o.detach = true;
			break;
		case E_TTY:
			tty = true;
			break;
		case E_ENV:
			strv_append(&envs, optarg);
			break;
		case E_USER:
			user = optarg;
			break;
		case E_CAP:
			strv_append(&caps, optarg);
			break;
		case E_GIDS:
			/* A flag value runc's CLI can't parse: a usage error (1), as there. */
			if (parse_ull(optarg, &n) < 0 || n > UINT_MAX)
				return cli_usage(cli, argv[0],
						 "invalid value \"%s\" for --additional-gids",
						 optarg);
			strv_append(&gids, optarg);
			break;
		case E_PID_FILE:
			o.pid_file = optarg;
			break;
		case E_CONSOLE:
			o.console_socket = optarg;
			break;
		case E_CWD:
			cwd = optarg;
			break;
		case E_NNP:
			nnp = true;
			break;
		case E_PRESERVE:
			if (parse_ull(optarg, &n) < 0 || n > INT_MAX - 3)
				return cli_usage(cli, argv[0], "invalid --preserve-fds \"%s\"",
						 optarg);
			o.preserve_fds = n;
			break;
		case E_IGNORE_PAUSED:
			o.ignore_paused = true;
			break;
		case E_CGROUP:
			strv_append(&cgroups, optarg);
			break;
		case E_LABEL:
			label = optarg;
			break;
		case E_APPARMOR:
			apparmor = optarg;
			break;
		default:
			return cli_usage(cli, argv[0], "flag provided but not defined: %s",
					 argv[optind - 1]);
		}
	}
	/* As runc: a missing command is exec's failure (255), a missing id a usage error. */
	if (cli_need_args(cli, argv[0], argc - optind, process_file ? 1 : -1))
		return 1;
	o.id = argv[optind];
	o.cgroup_subs = cgroups;
	if (o.pid_file && o.pid_file[0] != '/') {
		char dir[PATH_MAX];
		if (getcwd(dir, sizeof(dir)))
			o.pid_file = pid_file = path_join(dir, o.pid_file);
	}

	if (process_file) {
		_cleanup_free_ char *text = NULL;
		json_error_t jerr;
		json_t *j;

		if (read_file(process_file, &text, NULL, &err) < 0)
			goto fail;
		j = rune_json_loads(text, 0, &jerr);
		if (j == NULL) {
			err_set(&err, EINVAL, "process %s: %s", process_file, jerr.text);
			goto fail;
		}
		ret = rune_process_parse(j, "process", &proc, &err);
		json_decref(j);
		if (ret < 0)
			goto fail;
	} else {
		if (template_process(&cli->ctx, o.id, &proc, &err) < 0)
			goto fail;
		proc.args = strv_dup(argv + optind + 1);
		proc.terminal = tty;
	}
	for (char **e = envs; e && *e; e++) {
		if (strchr(*e, '=') == NULL) {
			err_set(&err, EINVAL, "invalid environment variable \"%s\" (not KEY=VALUE)",
				*e);
			goto fail;
		}
		set_env(&proc.env, *e);
	}
	if (cwd) {
		free(proc.cwd);
		proc.cwd = strdup(cwd);
	}
	if (user && parse_user(user, &proc.user) < 0) {
		err_set(&err, EINVAL, "invalid --user \"%s\" (want UID[:GID], numeric)", user);
		goto fail;
	}
	for (char **g = gids; g && *g; g++) {
		gid_t *v = realloc(proc.user.additional_gids,
				   (proc.user.n_additional_gids + 1) * sizeof(gid_t));
		if (v == NULL) {
			err_set(&err, ENOMEM, "--additional-gids");
			goto fail;
		}
		proc.user.additional_gids = v;
		if (parse_ull(*g, &n) < 0) {
			err_set(&err, EINVAL, "invalid --additional-gids \"%s\"", *g);
			goto fail;
		}
		v[proc.user.n_additional_gids++] = n;
	}
	for (char **cp = caps; cp && *cp; cp++) {
		int cap = rune_cap_from_name(*cp);
		if (cap < 0) {
			err_set(&err, EINVAL, "unknown capability \"%s\"", *cp);
			goto fail;
		}
		proc.caps.set = true;
		proc.caps.bounding |= 1ULL << cap;
		proc.caps.effective |= 1ULL << cap;
		proc.caps.permitted |= 1ULL << cap;
		proc.caps.inheritable |= 1ULL << cap;
		proc.caps.ambient |= 1ULL << cap;
	}
	if (nnp)
		proc.no_new_privileges = true;
	/* As runc: a non-empty flag overrides the process's profile or label. */
	if ((apparmor && *apparmor && replace_str(&proc.apparmor_profile, apparmor) < 0) ||
	    (label && *label && replace_str(&proc.selinux_label, label) < 0)) {
		err_set(&err, ENOMEM, "exec");
		goto fail;
	}
	ret = rune_container_exec(&cli->ctx, &o, &status, &err);
	rune_process_clear(&proc);
	if (ret < 0)
		return exec_fail(cli, &err);
	return status;
fail:
	rune_process_clear(&proc);
	return exec_fail(cli, &err);
}
