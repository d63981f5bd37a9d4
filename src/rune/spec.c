/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rune.h"

enum { SPEC_ROOTLESS = 256 };

static const struct cli_option spec_options[] = {
	{ "bundle", 'b', "DIR", "write DIR/config.json (default: the current directory)" },
	{ "rootless", SPEC_ROOTLESS, NULL, "a config for a rootless container (a user namespace)" },
	{ 0 },
};

static int cmd_spec(struct cli *cli, int argc, char **argv)
{
	const char *bundle = ".";
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	bool rootless = false;
	err_t err = NULL;
	json_t *spec;
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else
			rootless = true;
	}
	if (cli_need_args(cli, argv[0], argc - optind, 0))
		return 1;
	spec = rune_spec_default(rootless);
	text = spec ? json_dumps(spec, JSON_INDENT(8) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(spec);
	if (text == NULL || asprintf(&path, "%s/config.json", bundle) < 0) {
		err_set(&err, ENOMEM, "spec");
		return cli_fail(cli, &err);
	}
	f = fopen(path, "wx"); /* never over an existing one */
	if (f == NULL && errno == EEXIST)
		err_set(&err, EEXIST, "File %s exists. Remove it first", path);
	else if (f == NULL)
		err_sys(&err, errno, "open %s", path);
	else if (fputs(text, f) == EOF || fclose(steal_ptr(f)) == EOF)
		err_sys(&err, errno, "write %s", path);
	return err ? cli_fail(cli, &err) : 0;
}

const struct command command_spec = {
	.name = "spec",
	.fn = cmd_spec,
	.usage = "[command options]",
	.summary = "create a new config.json (runc's default)",
	.options = spec_options,
};
