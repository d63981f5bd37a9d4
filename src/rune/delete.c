/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <string.h>

#include "librune/config.h"
#include "rune/rune.h"

COMMAND(delete)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { 0 } };
	bool force = false;
	int c, rc = 0;

	while ((c = cli_getopt(argc, argv, "f", opts)) != -1) {
		if (c != 'f')
			return cli_usage(cli, argv[0], "flag provided but not defined: %s",
					 argv[optind - 1]);
		force = true;
	}
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

COMMAND(kill)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { 0 } };
	const char *sig_name = "SIGTERM";
	bool all = false;
	err_t err = NULL;
	int c, sig;

	while ((c = cli_getopt(argc, argv, "a", opts)) != -1) {
		if (c != 'a')
			return cli_usage(cli, argv[0], "flag provided but not defined: %s",
					 argv[optind - 1]);
		all = true;
	}
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
