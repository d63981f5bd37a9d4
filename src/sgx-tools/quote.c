/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools verify-quote and emulator-root-ca: DCAP v3 quotes (docs/attestation.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "sgx/fileio.h"
#include "sgx/loader.h"
#include "ratls/ratls.h"
#include "sgx/quote.h"
#include "sgx-tools.h"

static const char verify_help[] =
    "Usage: sgx-tools verify-quote [--root-ca PEM] [--collateral DIR] [--policy FILE]\n"
    "                              [--mrenclave HEX] [--mrsigner HEX] [--report-data HEX]\n"
    "                              [--json] QUOTE|-\n"
    "Verifies a DCAP v3 ECDSA-P256 quote (a file, or - for stdin; raw bytes or\n"
    "base64, as rune attest prints a quote): its PCK certificate chain to the\n"
    "Intel SGX Root CA (built in: the chain's root, pinned by SHA-256) or to the\n"
    "root CA in PEM given instead (e.g. this host's emulator root, which\n"
    "'sgx-tools emulator-root-ca' prints), the PCK signature over the QE\n"
    "report, the QE report data binding the attestation key, the attestation\n"
    "key's signature over the header and report body. With --collateral, the\n"
    "TCB status and QE identity from Intel PCS collateral saved in DIR\n"
    "(tcbinfo.json, qeidentity.json, tcb-signing-chain.pem, pck.crl,\n"
    "root-ca.crl). Then the policy FILE (JSON: mrenclave, mrsigner, isvprodid,\n"
    "min_isvsvn, allow_debug, report_data, tcb_status) and the values given:\n"
    "MRENCLAVE, MRSIGNER (32 bytes each), the report data (up to 64 bytes,\n"
    "zero-padded). Prints the enclave's identity and exits 0 for a quote that\n"
    "passes; otherwise one line names the check that failed, with the values\n"
    "expected and found (exit 1; with --json also a JSON verdict on stdout).\n";

static const char root_help[] =
    "Usage: sgx-tools emulator-root-ca\n"
    "Prints (PEM) this host's SGX emulator root CA: the root of the PCK chains\n"
    "in the emulated QE's quotes, created once beside the emulator's machine\n"
    "secret ($SGX_EMU_SECRET, else " SGX_EMU_SECRET_DEFAULT "). Emulated quotes\n"
    "prove nothing against this host's root: trust it for tests only.\n";

enum { OPT_ROOT_CA = 2000, OPT_MRSIGNER_Q, OPT_REPORT_DATA, OPT_COLLATERAL, OPT_POLICY };

struct vq_args {
	const char *root_ca, *collateral, *policy;
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
	case OPT_COLLATERAL:
		a->collateral = arg;
		return 1;
	case OPT_POLICY:
		a->policy = arg;
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

/* Base64 (whitespace and line breaks ignored, '=' padding) in place, by OpenSSL; -EINVAL if it is not. */
static int unbase64(uint8_t *b, size_t *len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	int n = 0, tail = 0, ok;

	if (!ctx || *len > INT32_MAX) {
		EVP_ENCODE_CTX_free(ctx);
		return -EINVAL;
	}
	EVP_DecodeInit(ctx);
	/* Decoding in place is safe: the output never overtakes the input. */
	ok = EVP_DecodeUpdate(ctx, b, &n, b, (int)*len) >= 0 &&
	     EVP_DecodeFinal(ctx, b + n, &tail) == 1;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok)
		return -EINVAL;
	*len = (size_t)n + (size_t)tail;
	return 0;
}

/* The policy: the file's (else none), then the values given on the command line. */
static int vq_policy(const struct vq_args *a, struct ratls_policy *p, err_t *err)
{
	int ret = 0;

	ratls_policy_default(p);
	p->allow_debug = 1; /* without a policy file: only what is asked */
	if (a->policy)
		ret = ratls_policy_load(a->policy, p, err);
	if (a->have_mrenclave) {
		p->have_mrenclave = 1;
		memcpy(p->mrenclave, a->mrenclave, 32);
	}
	if (a->have_mrsigner) {
		p->have_mrsigner = 1;
		memcpy(p->mrsigner, a->mrsigner, 32);
	}
	if (a->have_report_data) {
		p->have_report_data = 1;
		memcpy(p->report_data, a->report_data, 64);
		p->report_data_len = a->report_data_len;
	}
	return ret;
}

int cmd_verify_quote(int argc, char **argv, err_t *err)
{
	static const struct option table[] = {
		{ "root-ca", required_argument, NULL, OPT_ROOT_CA },
		{ "collateral", required_argument, NULL, OPT_COLLATERAL },
		{ "policy", required_argument, NULL, OPT_POLICY },
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
	struct ratls_collateral *coll = NULL;
	struct ratls_trust trust = { 0 };
	struct ratls_identity id;
	struct vq_args a = { 0 };
	struct ratls_policy p;
	size_t len = 0, root_len = 0;
	int ret, qi;

	ret = parse_options(&cmd, &a, argc, argv, err);
	if (ret <= 0)
		return ret;
	qi = ret;
	if (a.root_ca) {
		ret = sgx_read_file(a.root_ca, 1 << 20, &root, &root_len, err);
		if (ret < 0)
			return err_wrap(err, "root CA");
		trust.root_pem = root;
		trust.root_pem_len = root_len;
	}
	ret = vq_policy(&a, &p, err);
	if (ret < 0)
		return ret;
	ret = read_input(argv[qi], &quote, &len, err);
	if (ret < 0)
		return ret;
	/* Raw quotes start with version 3, key type 2; anything else must be base64. */
	if (!(len >= 4 && quote[0] == 3 && quote[1] == 0 && quote[2] == 2 && quote[3] == 0) &&
	    unbase64(quote, &len) < 0)
		return err_set(err, EINVAL, "quote %s: neither a raw quote nor base64", argv[qi]);
	if (a.collateral) {
		ret = ratls_collateral_load(a.collateral, &coll, err);
		if (ret < 0)
			return ret;
		trust.collateral = coll;
	}
	ret = ratls_quote_verify(quote, len, &trust, &p, &id, err);
	ratls_collateral_free(coll);
	if (ret < 0) {
		if (a.json)
			ratls_refusal_print_json(stdout, err_msg(*err));
		return ret;
	}
	ratls_identity_print(stdout, &id, a.json);
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
