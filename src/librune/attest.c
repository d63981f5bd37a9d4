/* SPDX-License-Identifier: Apache-2.0 */
/* `attest`: an enclave container's local REPORT, checked and decoded. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "librune/container.h"
#include "librune/enclave.h"
#include "librune/util.h"

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

int rune_container_attest(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			  const char *target_info_file, json_t **out, err_t *err)
{
	_cleanup_free_ char *ti_hex = NULL, *ti = NULL;
	unsigned char report[R_SIZE];
	json_t *reply = NULL, *j;
	const char *rhex;
	size_t len = 0;
	char attr[32], xfrm[32];
	int ret;

	if (report_data_hex && !is_hex(report_data_hex, 64))
		return err_set(err, EINVAL, "--report-data \"%.80s\": %s", report_data_hex,
			       strlen(report_data_hex) > 128 ? "more than 64 bytes (128 hex digits)"
			       : strlen(report_data_hex) % 2 ? "an odd number of hex digits"
							     : "not hex (0-9, a-f)");
	if (target_info_file) {
		if ((ret = read_file(target_info_file, &ti, &len, err)) < 0)
			return ret;
		if (len != 512)
			return err_set(err, EINVAL,
				       "target info %s: %zu bytes, a TARGETINFO is 512",
				       target_info_file, len);
		ti_hex = malloc(2 * len + 1);
		if (ti_hex == NULL)
			return err_set(err, ENOMEM, "target info");
		for (size_t i = 0; i < len; i++)
			snprintf(ti_hex + 2 * i, 3, "%02x", (unsigned char)ti[i]);
	}
	if ((ret = rune_enclave_attest(ctx, id, report_data_hex, ti_hex, &reply, err)) < 0)
		return ret;
	rhex = json_string_value(json_object_get(reply, "report"));
	if ((ret = parse_report(rhex, report_data_hex, report, err)) < 0) {
		json_decref(reply);
		return ret;
	}
	snprintf(attr, sizeof(attr), "0x%016llx", (unsigned long long)le64(report + R_ATTRIBUTES));
	snprintf(xfrm, sizeof(xfrm), "0x%016llx", (unsigned long long)le64(report + R_XFRM));
	j = json_pack("{s:o,s:o,s:s,s:s,s:i,s:i,s:o,s:s,s:O}", "mrenclave",
		      hex(report + R_MRENCLAVE, 32), "mrsigner", hex(report + R_MRSIGNER, 32),
		      "attributes", attr, "xfrm", xfrm, "isvprodid",
		      report[R_ISVPRODID] | report[R_ISVPRODID + 1] << 8, "isvsvn",
		      report[R_ISVSVN] | report[R_ISVSVN + 1] << 8, "report_data",
		      hex(report + R_REPORTDATA, 64), "source",
		      access("/dev/sgx_enclave", F_OK) == 0 ? "sgx" : "emulator", "report",
		      json_object_get(reply, "report"));
	json_decref(reply);
	if (j == NULL)
		return err_set(err, ENOMEM, "attest");
	*out = j;
	return 0;
}
