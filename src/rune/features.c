/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "rune.h"

static int cmd_features(struct cli *cli, int argc, char **argv)
{
	err_t err = NULL;
	json_t *j;

	/* As runc: no arguments (unknown flags were refused before). */
	if (cli_need_args(cli, argv[0], argc - 1, 0))
		return 1;
	j = rune_features();
	if (j == NULL) {
		err_set(&err, ENOMEM, "features");
		return cli_fail(cli, &err);
	}
	cli_print_json(j, true);
	json_decref(j);
	return 0;
}

const struct command command_features = {
	.name = "features",
	.fn = cmd_features,
	.usage = "",
	.summary = "show the features this runtime supports, as JSON",
};
