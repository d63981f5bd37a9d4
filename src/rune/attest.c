/* SPDX-License-Identifier: Apache-2.0 */

#include "rune.h"

enum { AT_REPORT_DATA = 256, AT_TARGET_INFO };

static const struct cli_option attest_options[] = {
	{ "report-data", AT_REPORT_DATA, "HEX", "up to 64 bytes for the REPORT's REPORTDATA" },
	{ "target-info", AT_TARGET_INFO, "FILE",
	  "a 512-byte TARGETINFO: the enclave the REPORT is for (default: the container's own)" },
	{ 0 },
};

static int cmd_attest(struct cli *cli, int argc, char **argv)
{
	const char *report_data = NULL, *ti_file = NULL;
	err_t err = NULL;
	json_t *out;
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == AT_REPORT_DATA)
			report_data = optarg;
		else
			ti_file = optarg;
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (rune_container_attest(&cli->ctx, argv[optind], report_data, ti_file, &out, &err) < 0)
		return cli_fail(cli, &err);
	cli_print_json(out, true);
	json_decref(out);
	return 0;
}

const struct command command_attest = {
	.name = "attest",
	.fn = cmd_attest,
	.usage = "[command options] <container-id>",
	.summary = "print a local attestation report of an enclave container (PAL v3)",
	.options = attest_options,
};
