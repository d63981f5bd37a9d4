/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "rune.h"

static const struct cli_option delete_options[] = {
	{ "force", 'f', NULL, "delete even a running container (killed with SIGKILL)" },
	{ 0 },
};

static int cmd_delete(struct cli *cli, int argc, char **argv)
{
	bool force = false;
	int rc = 0;

	while (cli_getopt(cli, argc, argv) == 'f')
		force = true;
	/* As runc 1.1: one id (two used to delete both where runc deletes none). */
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	err_t err = NULL;
	if (rune_container_delete(&cli->ctx, argv[optind], force, &err) < 0) {
		/* runc: deleting a missing container with --force is not an error. */
		if (force && err && err->code == ENOENT) {
			err_free(&err);
			return 0;
		}
		rc = cli_fail(cli, &err);
	}
	return rc;
}

static const struct cli_option kill_options[] = {
	{ "all", 'a', NULL, "send the signal to every process of the container" },
	{ 0 },
};

static int cmd_kill(struct cli *cli, int argc, char **argv)
{
	const char *sig_name = "SIGTERM";
	bool all = false;
	err_t err = NULL;
	int sig;

	while (cli_getopt(cli, argc, argv) == 'a')
		all = true;
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage(cli, argv[0], "\"kill\" requires 1 or 2 arguments");
	if (argc - optind == 2)
		sig_name = argv[optind + 1];
	sig = rune_signal_parse(sig_name);
	if (sig < 0)
		return cli_usage(cli, argv[0], "unknown signal \"%s\"", sig_name);
	if (rune_container_kill(&cli->ctx, argv[optind], sig, all, &err) < 0)
		return cli_fail(cli, &err);
	return 0;
}

const struct command command_delete = {
	.name = "delete",
	.alias = "rm",
	.fn = cmd_delete,
	.usage = "[command options] <container-id>",
	.summary = "delete a container and what it holds (state, cgroup)",
	.options = delete_options,
};

const struct command command_kill = {
	.name = "kill",
	.fn = cmd_kill,
	.usage = "[command options] <container-id> [signal]",
	.summary = "send a signal (default: SIGTERM) to the container's init",
	.options = kill_options,
};
