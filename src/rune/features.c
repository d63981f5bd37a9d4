/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>

#include "rune.h"

static int cmd_features(struct cli *cli, int argc, char **argv)
{
	json_t *j = rune_features();
	err_t err = NULL;

	(void)argc;
	(void)argv;
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
