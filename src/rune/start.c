/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "rune.h"

static int cmd_start(struct cli *cli, int argc, char **argv)
{
	err_t err = NULL;

	cli_getopt(cli, argc, argv); /* no options: steps over a "--" */
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_start(&cli->ctx, argv[optind], &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

static int cmd_state(struct cli *cli, int argc, char **argv)
{
	err_t err = NULL;
	json_t *j = NULL;

	cli_getopt(cli, argc, argv); /* no options: steps over a "--" */
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

	cli_getopt(cli, argc, argv); /* no options: steps over a "--" */
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_pause(&cli->ctx, argv[optind], pause, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

static int cmd_pause(struct cli *cli, int argc, char **argv)
{
	return pause_resume(cli, argc, argv, true);
}

static int cmd_resume(struct cli *cli, int argc, char **argv)
{
	return pause_resume(cli, argc, argv, false);
}

static int unsupported(struct cli *cli, const char *what)
{
	err_t err = NULL;

	err_set(&err, ENOTSUP, "%s is not supported by rune (no CRIU integration yet)", what);
	return cli_fail(cli, &err);
}

static int cmd_checkpoint(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return unsupported(cli, "checkpoint");
}

static int cmd_restore(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return unsupported(cli, "restore");
}

const struct command command_start = {
	.name = "start",
	.fn = cmd_start,
	.usage = "<container-id>",
	.summary = "run the user's process in a created container",
};

const struct command command_state = {
	.name = "state",
	.fn = cmd_state,
	.usage = "<container-id>",
	.summary = "output the state of a container",
};

const struct command command_pause = {
	.name = "pause",
	.fn = cmd_pause,
	.usage = "<container-id>",
	.summary = "suspend every process of a container",
};

const struct command command_resume = {
	.name = "resume",
	.fn = cmd_resume,
	.usage = "<container-id>",
	.summary = "resume every process of a paused container",
};

/* Any option: the answer is that the command is not supported. */
const struct command command_checkpoint = {
	.name = "checkpoint",
	.fn = cmd_checkpoint,
	.usage = "<container-id>",
	.summary = "checkpoint a running container (not supported: no CRIU)",
	.any_options = true,
};

const struct command command_restore = {
	.name = "restore",
	.fn = cmd_restore,
	.usage = "<container-id>",
	.summary = "restore a container from a checkpoint (not supported: no CRIU)",
	.any_options = true,
};
