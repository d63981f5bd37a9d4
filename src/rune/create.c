/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "librune/util.h"
#include "rune/rune.h"

enum {
	OPT_BUNDLE = 'b',
	OPT_PID_FILE = 256,
	OPT_CONSOLE,
	OPT_NO_PIVOT,
	OPT_NO_KEYRING,
	OPT_PRESERVE,
	OPT_DETACH = 'd',
	OPT_KEEP,
	OPT_NO_SUBREAPER
};

static const struct option create_opts[] = {
	{ "bundle", required_argument, NULL, OPT_BUNDLE },
	{ "pid-file", required_argument, NULL, OPT_PID_FILE },
	{ "console-socket", required_argument, NULL, OPT_CONSOLE },
	{ "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
	{ "no-new-keyring", no_argument, NULL, OPT_NO_KEYRING },
	{ "preserve-fds", required_argument, NULL, OPT_PRESERVE },
	{ "detach", no_argument, NULL, OPT_DETACH },
	{ "keep", no_argument, NULL, OPT_KEEP },
	{ "no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER },
	{ 0 },
};

/*
 * Shared by create and run; run also takes --detach. *bundle_abs and
 * *pid_file_abs hold the absolute paths o points at (the caller frees them).
 */
static int parse_create(struct cli *cli, int argc, char **argv, bool is_run,
			struct rune_create_opts *o, bool *detach, char **bundle_abs,
			char **pid_file_abs)
{
	const char *bundle = ".";
	unsigned long long n;
	int c;

	while ((c = cli_getopt(argc, argv, is_run ? "b:d" : "b:", create_opts)) != -1) {
		switch (c) {
		case OPT_BUNDLE:
			bundle = optarg;
			break;
		case OPT_PID_FILE:
			o->pid_file = optarg;
			break;
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case OPT_NO_PIVOT:
			o->no_pivot = true;
			break;
		case OPT_NO_KEYRING:
			o->no_new_keyring = true;
			break;
		case OPT_PRESERVE:
			if (parse_ull(optarg, &n) < 0 || n > INT_MAX - 3)
				return cli_usage(cli, argv[0], "invalid --preserve-fds \"%s\"",
						 optarg);
			o->preserve_fds = n;
			break;
		case OPT_DETACH:
			if (!is_run)
				goto bad;
			*detach = true;
			break;
		case OPT_KEEP:
			if (!is_run)
				goto bad;
			o->keep = true;
			break;
		case OPT_NO_SUBREAPER:
			if (!is_run)
				goto bad;
			o->no_subreaper = true;
			break;
		default:
		bad:
			return cli_usage(cli, argv[0], "flag provided but not defined: %s",
					 argv[optind - 1]);
		}
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	o->id = argv[optind];
	*bundle_abs = realpath(bundle, NULL);
	if (*bundle_abs == NULL) {
		err_t err = NULL;
		err_sys(&err, errno, "bundle %s", bundle);
		return cli_fail(cli, &err);
	}
	o->bundle = *bundle_abs;
	/* Absolute pid file: rune may chdir, and clients pass relative ones. */
	if (o->pid_file && o->pid_file[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof(cwd)))
			o->pid_file = *pid_file_abs = path_join(cwd, o->pid_file);
	}
	return 0;
}

COMMAND(create)
{
	struct rune_create_opts o = { 0 };
	_cleanup_free_ char *bundle = NULL, *pid_file = NULL;
	err_t err = NULL;
	bool detach = false;
	int ret = parse_create(cli, argc, argv, false, &o, &detach, &bundle, &pid_file);

	if (ret)
		return ret;
	if (rune_container_create(&cli->ctx, &o, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

COMMAND(run)
{
	struct rune_create_opts o = { 0 };
	_cleanup_free_ char *bundle = NULL, *pid_file = NULL;
	err_t err = NULL;
	bool detach = false;
	int status = 0;
	int ret = parse_create(cli, argc, argv, true, &o, &detach, &bundle, &pid_file);

	if (ret)
		return ret;
	if (rune_container_run(&cli->ctx, &o, detach, &status, &err) < 0)
		return cli_fail(cli, &err);
	return status;
}
