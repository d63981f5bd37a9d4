/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "librune/enclave.h"
#include "librune/util.h"
#include "rune/rune.h"

/* Offsets in the SGX REPORT structure (body first, then KEYID and MAC). */
enum {
	R_ATTRIBUTES = 48,
	R_XFRM = 56,
	R_MRENCLAVE = 64,
	R_MRSIGNER = 128,
	R_ISVPRODID = 256,
	R_ISVSVN = 258,
	R_REPORTDATA = 320,
	R_SIZE = 432
};

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static json_t *hex(const unsigned char *p, size_t n)
{
	char buf[2 * 64 + 1];

	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 * i, 3, "%02x", p[i]);
	return json_string(buf);
}

static bool is_hex(const char *s, size_t max_bytes)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > max_bytes)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * The PAL places the report data (Inclavare's convention): the REPORT it
 * returns must be a whole REPORT whose REPORTDATA is exactly what was asked
 * (zero-padded to 64 bytes; all zero when none was asked), else a PAL or
 * enclave that drops or replaces it would pass unnoticed.
 */
static int parse_report(const char *rhex, const char *report_data, unsigned char report[R_SIZE],
			err_t *err)
{
	unsigned char want[64] = { 0 };
	size_t n = rhex ? strlen(rhex) : 0;
	json_t *got, *asked;

	if (n % 2 || n / 2 < R_SIZE || !is_hex(rhex, n / 2))
		return err_set(err, EPROTO,
			       "the PAL returned a malformed REPORT (%zu bytes, not %d)", n / 2,
			       R_SIZE);
	for (size_t i = 0; i < R_SIZE; i++)
		sscanf(rhex + 2 * i, "%2hhx", &report[i]);
	for (size_t i = 0; report_data && report_data[2 * i]; i++)
		sscanf(report_data + 2 * i, "%2hhx", &want[i]);
	if (memcmp(report + R_REPORTDATA, want, sizeof(want)) == 0)
		return 0;
	got = hex(report + R_REPORTDATA, 64);
	asked = hex(want, 64);
	err_set(err, EPROTO, "the REPORT's REPORTDATA %s is not the report data asked for (%s)",
		json_string_value(got), json_string_value(asked));
	json_decref(got);
	json_decref(asked);
	return -EPROTO;
}

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
	_cleanup_free_ char *ti_hex = NULL, *ti = NULL;
	unsigned char report[R_SIZE];
	json_t *reply = NULL, *out;
	const char *rhex;
	err_t err = NULL;
	size_t len = 0;
	char attr[32];
	int c;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == AT_REPORT_DATA)
			report_data = optarg;
		else
			ti_file = optarg;
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1))
		return 1;
	if (report_data && !is_hex(report_data, 64))
		return cli_usage(cli, argv[0], "--report-data \"%.80s\": %s", report_data,
				 strlen(report_data) > 128 ? "more than 64 bytes (128 hex digits)"
				 : strlen(report_data) % 2 ? "an odd number of hex digits"
							   : "not hex (0-9, a-f)");
	if (ti_file) {
		if (read_file(ti_file, &ti, &len, &err) < 0)
			return cli_fail(cli, &err);
		if (len != 512) {
			err_set(&err, EINVAL, "target info %s: %zu bytes, a TARGETINFO is 512",
				ti_file, len);
			return cli_fail(cli, &err);
		}
		ti_hex = malloc(2 * len + 1);
		for (size_t i = 0; i < len; i++)
			snprintf(ti_hex + 2 * i, 3, "%02x", (unsigned char)ti[i]);
	}
	if (rune_enclave_attest(&cli->ctx, argv[optind], report_data, ti_hex, &reply, &err) < 0)
		return cli_fail(cli, &err);
	rhex = json_string_value(json_object_get(reply, "report"));
	if (parse_report(rhex, report_data, report, &err) < 0) {
		json_decref(reply);
		return cli_fail(cli, &err);
	}
	snprintf(attr, sizeof(attr), "0x%016llx", (unsigned long long)le64(report + R_ATTRIBUTES));
	out = json_pack("{s:o,s:o,s:s,s:s+,s:i,s:i,s:o,s:s,s:o}", "mrenclave",
			hex(report + R_MRENCLAVE, 32), "mrsigner", hex(report + R_MRSIGNER, 32),
			"attributes", attr, "xfrm", "0x", (char[17]){ 0 }, "isvprodid",
			report[R_ISVPRODID] | report[R_ISVPRODID + 1] << 8, "isvsvn",
			report[R_ISVSVN] | report[R_ISVSVN + 1] << 8, "report_data",
			hex(report + R_REPORTDATA, 64), "source",
			access("/dev/sgx_enclave", F_OK) == 0 ? "sgx" : "emulator", "report",
			json_incref(json_object_get(reply, "report")));
	snprintf(attr, sizeof(attr), "0x%016llx", (unsigned long long)le64(report + R_XFRM));
	json_object_set_new(out, "xfrm", json_string(attr));
	cli_print_json(out, true);
	json_decref(out);
	json_decref(reply);
	return 0;
}

const struct command command_attest = {
	.name = "attest",
	.fn = cmd_attest,
	.usage = "[command options] <container-id>",
	.summary = "print a local attestation report of an enclave container (PAL v3)",
	.options = attest_options,
};
