/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools verify-quote and emulator-root-ca: DCAP v3 quotes (docs/attestation.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sgx/fileio.h"
#include "sgx/loader.h"
#include "sgx/quote.h"
#include "sgx-tools.h"

static const char verify_help[] =
    "Usage: sgx-tools verify-quote --root-ca PEM [--mrenclave HEX] [--mrsigner HEX]\n"
    "                              [--report-data HEX] [--json] QUOTE|-\n"
    "Verifies a DCAP v3 ECDSA-P256 quote (a file, or - for stdin; raw bytes or\n"
    "base64, as rune attest prints a quote): its PCK certificate chain to\n"
    "the root CA in PEM (the only root trusted: e.g. this host's emulator root,\n"
    "which 'sgx-tools emulator-root-ca' prints), the PCK signature over the QE\n"
    "report, the QE report data binding the attestation key, the attestation\n"
    "key's signature over the header and report body; then the values\n"
    "expected: MRENCLAVE, MRSIGNER (32 bytes each) and the report data (up to\n"
    "64 bytes, zero-padded). Prints the enclave's identity and exits 0 for a\n"
    "quote that passes; otherwise one line names the check that failed (exit 1;\n"
    "with --json also a JSON verdict on stdout).\n"
    "TCB status and QE identity need collateral: not checked yet.\n";

static const char root_help[] =
    "Usage: sgx-tools emulator-root-ca\n"
    "Prints (PEM) this host's SGX emulator root CA: the root of the PCK chains\n"
    "in the emulated QE's quotes, created once beside the emulator's machine\n"
    "secret ($SGX_EMU_SECRET, else " SGX_EMU_SECRET_DEFAULT "). Emulated quotes\n"
    "prove nothing against this host's root: trust it for tests only.\n";

enum { OPT_ROOT_CA = 2000, OPT_MRSIGNER_Q, OPT_REPORT_DATA };

struct vq_args {
	const char *root_ca;
	uint8_t mrenclave[32], mrsigner[32], report_data[64];
	size_t report_data_len;
	int have_mrenclave, have_mrsigner, have_report_data, json;
};

static int unhex(const char *name, const char *s, uint8_t *out, size_t min, size_t max, size_t *len,
		 err_t *err)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 < min || n / 2 > max)
		return usage_error(err, "--%s \"%.80s\": %s", name, s,
				   n % 2	? "an odd number of hex digits"
				   : min == max ? "not 32 bytes (64 hex digits)"
						: "more than 64 bytes (128 hex digits)");
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return usage_error(err, "--%s \"%.80s\": not hex (0-9, a-f)", name, s);
	for (size_t i = 0; i < n / 2; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
	if (len)
		*len = n / 2;
	return 1;
}

static int vq_option(void *ctx, int opt, const char *arg, err_t *err)
{
	struct vq_args *a = ctx;

	switch (opt) {
	case OPT_ROOT_CA:
		a->root_ca = arg;
		return 1;
	case OPT_MRENCLAVE:
		a->have_mrenclave = 1;
		return unhex("mrenclave", arg, a->mrenclave, 32, 32, NULL, err);
	case OPT_MRSIGNER_Q:
		a->have_mrsigner = 1;
		return unhex("mrsigner", arg, a->mrsigner, 32, 32, NULL, err);
	case OPT_REPORT_DATA:
		a->have_report_data = 1;
		return unhex("report-data", arg, a->report_data, 0, 64, &a->report_data_len, err);
	case OPT_JSON:
		a->json = 1;
		return 1;
	}
	return 0;
}

/* Reads a quote (at most what base64 of the largest quote takes) from path or stdin. */
static int read_input(const char *path, uint8_t **buf, size_t *len, err_t *err)
{
	const size_t max = (size_t)SGX_QUOTE_MAX_SIZE * 2;
	void *b = NULL;
	size_t n = 0;
	ssize_t r;
	int ret;

	if (strcmp(path, "-") != 0) {
		ret = sgx_read_file(path, max + 1, &b, &n, err);
		if (ret < 0)
			return ret;
	} else {
		b = malloc(max + 1);
		if (!b)
			return err_sys(err, ENOMEM, "read the quote");
		while (n <= max && (r = read(0, (char *)b + n, max + 1 - n)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				free(b);
				return err_sys(err, errno, "read the quote from stdin");
			}
			n += (size_t)r;
		}
		path = "stdin";
	}
	if (n > max) {
		free(b);
		return err_set(err, EFBIG, "quote %s: more than %zu bytes", path, max);
	}
	*buf = b;
	*len = n;
	return 0;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Base64 (whitespace ignored, '=' padding at the end) in place; -EINVAL if it is not. */
static int unbase64(uint8_t *b, size_t *len)
{
	uint32_t acc = 0;
	size_t out = 0, i, bits = 0, pad = 0;

	for (i = 0; i < *len; i++) {
		int c = b[i], v;

		if (isspace(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64val(c);
		if (v < 0 || pad)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			b[out++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || bits >= 6)
		return -EINVAL;
	*len = out;
	return 0;
}

static void print_result(const struct sgx_quote *q, int json)
{
	char mre[65], mrs[65], rd[129];
	const struct sgx_report_body *b = &q->report_body;
	int debug = (b->attributes & SGX_ATTR_DEBUG) != 0;

	sgx_hex(b->mrenclave, 32, mre);
	sgx_hex(b->mrsigner, 32, mrs);
	sgx_hex(b->reportdata, 64, rd);
	if (json)
		printf("{\"verdict\": \"ok\", \"mrenclave\": \"%s\", \"mrsigner\": \"%s\", "
		       "\"isvprodid\": %u, \"isvsvn\": %u, \"debug\": %s, \"report_data\": \"%s\", "
		       "\"tcb_status\": \"not checked\"}\n",
		       mre, mrs, b->isvprodid, b->isvsvn, debug ? "true" : "false", rd);
	else
		printf("verdict: ok (authentic under the root CA given)\nmrenclave: %s\n"
		       "mrsigner: %s\nisvprodid: %u\nisvsvn: %u\ndebug: %s\nreport_data: %s\n"
		       "tcb status: not checked (no collateral)\n",
		       mre, mrs, b->isvprodid, b->isvsvn, debug ? "true" : "false", rd);
}

/* A JSON string's body: the refusal messages are ASCII, quotes and backslashes escaped. */
static void json_str(const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
}

/*
 * --json and a refusal: {"verdict": "refused", "check": ..., "reason": ...}
 * on stdout (the line on stderr stays), plus expected and found when the
 * check compares values ("MRENCLAVE: expected X, found Y").
 */
static void print_refusal(const char *msg)
{
	const char *colon = strstr(msg, ": "), *why = colon ? colon + 2 : msg, *found;

	printf("{\"verdict\": \"refused\", \"check\": \"");
	json_str(msg, colon ? (size_t)(colon - msg) : 0);
	printf("\", \"reason\": \"");
	json_str(why, strlen(why));
	printf("\"");
	if (strncmp(why, "expected ", 9) == 0 && (found = strstr(why, ", found "))) {
		printf(", \"expected\": \"");
		json_str(why + 9, (size_t)(found - why - 9));
		printf("\", \"found\": \"");
		json_str(found + 8, strlen(found + 8));
		printf("\"");
	}
	printf("}\n");
}

int cmd_verify_quote(int argc, char **argv, err_t *err)
{
	static const struct option table[] = {
		{ "root-ca", required_argument, NULL, OPT_ROOT_CA },
		{ "mrenclave", required_argument, NULL, OPT_MRENCLAVE },
		{ "mrsigner", required_argument, NULL, OPT_MRSIGNER_Q },
		{ "report-data", required_argument, NULL, OPT_REPORT_DATA },
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 }
	};
	static const struct command_options cmd = { .table = table,
						    .help = verify_help,
						    .handler = vq_option,
						    .operands = 1,
						    .operand = "QUOTE file (or -)" };
	_cleanup_free_ uint8_t *quote = NULL;
	_cleanup_free_ void *root = NULL;
	struct vq_args a = { 0 };
	struct sgx_quote_policy p = { 0 };
	struct sgx_quote q;
	size_t len = 0, root_len = 0;
	int ret, qi;

	ret = parse_options(&cmd, &a, argc, argv, err);
	if (ret <= 0)
		return ret;
	qi = ret;
	if (!a.root_ca)
		return usage_error(err, "--root-ca PEM is required (the Intel SGX Root CA is "
					"not built in yet)");
	ret = sgx_read_file(a.root_ca, 1 << 20, &root, &root_len, err);
	if (ret < 0)
		return err_wrap(err, "root CA");
	ret = read_input(argv[qi], &quote, &len, err);
	if (ret < 0)
		return ret;
	/* Raw quotes start with version 3, key type 2; anything else must be base64. */
	if (!(len >= 4 && quote[0] == 3 && quote[1] == 0 && quote[2] == 2 && quote[3] == 0) &&
	    unbase64(quote, &len) < 0)
		return err_set(err, EINVAL, "quote %s: neither a raw quote nor base64", argv[qi]);
	if (a.have_mrenclave)
		p.mrenclave = a.mrenclave;
	if (a.have_mrsigner)
		p.mrsigner = a.mrsigner;
	if (a.have_report_data) {
		p.report_data = a.report_data;
		p.report_data_len = a.report_data_len;
	}
	ret = sgx_quote_verify(quote, len, root, root_len, &p, &q, err);
	if (ret < 0) {
		if (a.json)
			print_refusal(err_msg(*err));
		return ret;
	}
	print_result(&q, a.json);
	return 0;
}

int cmd_emulator_root_ca(int argc, char **argv, err_t *err)
{
	static const struct option table[] = { { 0 } };
	static const struct command_options cmd = { .table = table,
						    .help = root_help,
						    .handler = json_option };
	_cleanup_free_ char *pem = NULL;
	int ret;

	ret = parse_options(&cmd, NULL, argc, argv, err);
	if (ret <= 0)
		return ret;
	ret = sgx_emu_root_ca_pem(&pem, err);
	if (ret < 0)
		return ret;
	fputs(pem, stdout);
	return 0;
}
