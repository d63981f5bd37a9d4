/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rune.h"

/* A letter is also the short option (-b, -d); the others have none. */
enum {
	OPT_BUNDLE = 'b',
	OPT_DETACH = 'd',
	OPT_PID_FILE = 256,
	OPT_CONSOLE,
	OPT_NO_PIVOT,
	OPT_NO_KEYRING,
	OPT_PRESERVE,
	OPT_KEEP,
	OPT_NO_SUBREAPER,
};

/* create's options, which run takes too. */
#define CREATE_OPTIONS                                                                             \
	{ "bundle", OPT_BUNDLE, "DIR", "the bundle directory (default: the current directory)" },  \
	    { "console-socket", OPT_CONSOLE, "SOCKET",                                             \
	      "an AF_UNIX socket that receives the master end of the container's terminal" },      \
	    { "pid-file", OPT_PID_FILE, "FILE", "write the container's init pid to FILE" },        \
	    { "no-pivot", OPT_NO_PIVOT, NULL,                                                      \
	      "enter the rootfs without pivot_root (for a rootfs on a ramdisk)" },                 \
	    { "no-new-keyring", OPT_NO_KEYRING, NULL,                                              \
	      "keep the caller's session keyring instead of a new one" },                          \
	{                                                                                          \
		"preserve-fds", OPT_PRESERVE, "N",                                                 \
		    "pass N more file descriptors, from 3 on, to the container (default: 0)"       \
	}

static const struct cli_option create_options[] = { CREATE_OPTIONS, { 0 } };

static const struct cli_option run_options[] = {
	CREATE_OPTIONS,
	{ "detach", OPT_DETACH, NULL, "do not wait for the container: exit once it has started" },
	{ "keep", OPT_KEEP, NULL, "keep the stopped container (state, cgroup) until delete" },
	{ "no-subreaper", OPT_NO_SUBREAPER, NULL,
	  "the workload's orphans go to the host's reaper, not to rune" },
	{ 0 },
};

/*
 * Shared by create and run (only run's table has --detach, --keep). *bundle_abs and
 * *pid_file_abs hold the absolute paths o points at (the caller frees them).
 */
static int parse_create(struct cli *cli, int argc, char **argv, struct rune_create_opts *o,
			bool *detach, char **bundle_abs, char **pid_file_abs)
{
	const char *bundle = ".";
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
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
			if ((o->preserve_fds = cli_parse_fd_count(optarg)) < 0)
				return cli_usage(cli, argv[0], "invalid --preserve-fds \"%s\"",
						 optarg);
			break;
		case OPT_DETACH:
			*detach = true;
			break;
		case OPT_KEEP:
			o->keep = true;
			break;
		case OPT_NO_SUBREAPER:
			o->no_subreaper = true;
			break;
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
	if (o->pid_file && (o->pid_file = *pid_file_abs = cli_absolute(o->pid_file)) == NULL) {
		err_t err = NULL;
		err_set(&err, ENOMEM, "--pid-file");
		return cli_fail(cli, &err);
	}
	return 0;
}

static int cmd_create(struct cli *cli, int argc, char **argv)
{
	struct rune_create_opts o = { 0 };
	_cleanup_free_ char *bundle = NULL, *pid_file = NULL;
	err_t err = NULL;
	bool detach = false;
	int ret = parse_create(cli, argc, argv, &o, &detach, &bundle, &pid_file);

	if (ret)
		return ret;
	if (rune_container_create(&cli->ctx, &o, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

static int cmd_run(struct cli *cli, int argc, char **argv)
{
	struct rune_create_opts o = { 0 };
	_cleanup_free_ char *bundle = NULL, *pid_file = NULL;
	err_t err = NULL;
	bool detach = false;
	int status = 0;
	int ret = parse_create(cli, argc, argv, &o, &detach, &bundle, &pid_file);

	if (ret)
		return ret;
	if (rune_container_run(&cli->ctx, &o, detach, &status, &err) < 0)
		return cli_fail(cli, &err);
	return status;
}

const struct command command_create = {
	.name = "create",
	.fn = cmd_create,
	.usage = "[command options] <container-id>",
	.summary = "create a container",
	.options = create_options,
};

const struct command command_run = {
	.name = "run",
	.fn = cmd_run,
	.usage = "[command options] <container-id>",
	.summary = "create and run a container",
	.options = run_options,
};
