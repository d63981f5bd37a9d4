/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "rune/rune.h"

static const struct option no_opts[] = { { 0 } };

COMMAND(start)
{
	err_t err = NULL;

	if (cli_getopt(argc, argv, "", no_opts) != -1)
		return cli_usage(cli, argv[0], "flag provided but not defined: %s",
				 argv[optind - 1]);
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_start(&cli->ctx, argv[optind], &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

COMMAND(state)
{
	err_t err = NULL;
	json_t *j = NULL;

	if (cli_getopt(argc, argv, "", no_opts) != -1)
		return cli_usage(cli, argv[0], "flag provided but not defined: %s",
				 argv[optind - 1]);
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_state(&cli->ctx, argv[optind], &j, &err) < 0)
		return cli_fail(cli, &err);
	cli_print_json(j, true);
	json_decref(j);
	return 0;
}

static int pause_resume(struct cli *cli, int argc, char **argv, bool pause)
{
	err_t err = NULL;

	if (cli_getopt(argc, argv, "", no_opts) != -1)
		return cli_usage(cli, argv[0], "flag provided but not defined: %s",
				 argv[optind - 1]);
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_pause(&cli->ctx, argv[optind], pause, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

COMMAND(pause)
{
	return pause_resume(cli, argc, argv, true);
}

COMMAND(resume)
{
	return pause_resume(cli, argc, argv, false);
}

static int unsupported(struct cli *cli, const char *what)
{
	err_t err = NULL;

	err_set(&err, ENOTSUP, "%s is not supported by rune (no CRIU integration yet)", what);
	return cli_fail(cli, &err);
}

COMMAND(checkpoint)
{
	(void)argc;
	(void)argv;
	return unsupported(cli, "checkpoint");
}

COMMAND(restore)
{
	(void)argc;
	(void)argv;
	return unsupported(cli, "restore");
}
