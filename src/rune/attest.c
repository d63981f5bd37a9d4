/* SPDX-License-Identifier: Apache-2.0 */

#include "rune.h"

enum { AT_REPORT_DATA = 256, AT_TARGET_INFO, AT_QUOTE, AT_JSON };

static const struct cli_option attest_options[] = {
	{ "report-data", AT_REPORT_DATA, "HEX", "up to 64 bytes for the REPORT's REPORTDATA" },
	{ "target-info", AT_TARGET_INFO, "FILE",
	  "a 512-byte TARGETINFO: the enclave the REPORT is for (default: the container's own)" },
	{ "quote", AT_QUOTE, NULL,
	  "print a DCAP v3 quote (base64) instead: for remote attestation (docs/attestation.md)" },
	{ "json", AT_JSON, NULL, "with --quote: every field of the quote as JSON" },
	{ 0 },
};

/* The quote as base64 and a newline (nothing else on stdout), or as JSON. */
static int print_quote(struct cli *cli, const char *id, const char *report_data, bool json)
{
	_cleanup_free_ uint8_t *quote = NULL;
	_cleanup_free_ char *b64 = NULL;
	err_t err = NULL;
	size_t len = 0;
	json_t *j;

	if (rune_container_quote(&cli->ctx, id, report_data, &quote, &len, &err) < 0)
		return cli_fail(cli, &err);
	if (json) {
		if (rune_quote_json(quote, len, &j, &err) < 0)
			return cli_fail(cli, &err);
		cli_print_json(j, true);
		json_decref(j);
		return 0;
	}
	if (rune_quote_base64(quote, len, &b64, &err) < 0)
		return cli_fail(cli, &err);
	printf("%s\n", b64);
	return 0;
}

static int cmd_attest(struct cli *cli, int argc, char **argv)
{
	const char *report_data = NULL, *ti_file = NULL;
	bool quote = false, json = false;
	err_t err = NULL;
	json_t *out;
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == AT_REPORT_DATA)
			report_data = optarg;
		else if (c == AT_TARGET_INFO)
			ti_file = optarg;
		else if (c == AT_QUOTE)
			quote = true;
		else
			json = true;
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (quote && ti_file)
		return cli_usage(
		    cli, argv[0],
		    "--target-info with --quote: a quote's REPORT is for the quoting enclave");
	if (json && !quote)
		return cli_usage(cli, argv[0],
				 "--json goes with --quote (attest prints JSON already)");
	if (quote)
		return print_quote(cli, argv[optind], report_data, json);
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
	.summary = "print a local attestation REPORT, or a quote (--quote), of an enclave "
		   "container (PAL v3)",
	.options = attest_options,
};
