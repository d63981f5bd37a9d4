/* SPDX-License-Identifier: Apache-2.0 */
/* `attest`: an enclave container's local REPORT, checked and decoded. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "librune/container.h"
#include "librune/enclave.h"
#include "librune/util.h"
#include "sgx/quote.h"

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

/* --report-data: at most 64 bytes in hex (NULL: none). */
static int check_report_data(const char *hex_data, err_t *err)
{
	if (!hex_data || is_hex(hex_data, 64))
		return 0;
	return err_set(err, EINVAL, "--report-data \"%.80s\": %s", hex_data,
		       strlen(hex_data) > 128 ? "more than 64 bytes (128 hex digits)"
		       : strlen(hex_data) % 2 ? "an odd number of hex digits"
					      : "not hex (0-9, a-f)");
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

	if ((ret = check_report_data(report_data_hex, err)) < 0)
		return ret;
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

/* ---- quotes ---- */

/*
 * The quote providers (libsgx's, with OpenSSL) come from libratls, loaded
 * when a quote is asked for: rune does not link libcrypto, so its other
 * commands, one process each (create, start, kill, ...), do not pay for
 * loading it (docs/benchmarks.md). Found beside this program (../lib:
 * installed, or the build tree), else where the dynamic loader looks.
 */
struct quote_lib {
	const struct sgx_quote_provider *(*provider_default)(void);
	int (*parse)(struct sgx_quote *q, const void *buf, size_t len, err_t *err);
	int (*base64)(unsigned char *out, const unsigned char *in, int n); /* EVP_EncodeBlock */
};

#define QUOTE_LIB "libratls.so.0"

static int quote_lib(struct quote_lib *ql, err_t *err)
{
	static const char *const rels[] = { "../lib/" QUOTE_LIB, "../lib/libratls.so" };
	char exe[PATH_MAX], path[PATH_MAX + 32], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	void *h = NULL;

	if (n > 0 && (exe[n] = '\0', slash = strrchr(exe, '/')) != NULL) {
		*slash = '\0';
		for (size_t i = 0; !h && i < ARRAY_SIZE(rels); i++) {
			snprintf(path, sizeof(path), "%s/%s", exe, rels[i]);
			if (access(path, R_OK) == 0)
				h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
	}
	if (!h)
		h = dlopen(QUOTE_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return err_set(err, ENOENT, "quote: load %s (the quote providers): %s", QUOTE_LIB,
			       dlerror());
	/* the handle stays: rune is one command a process */
	*(void **)&ql->provider_default = dlsym(h, "sgx_quote_provider_default");
	*(void **)&ql->parse = dlsym(h, "sgx_quote_parse");
	*(void **)&ql->base64 = dlsym(h, "EVP_EncodeBlock");
	if (!ql->provider_default || !ql->parse || !ql->base64)
		return err_set(err, ENOENT, "quote: %s: a symbol is missing: %s", QUOTE_LIB,
			       dlerror());
	return 0;
}

static char *to_hex(const void *p, size_t n)
{
	char *s = malloc(2 * n + 1);

	for (size_t i = 0; s && i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", ((const unsigned char *)p)[i]);
	if (s)
		s[2 * n] = 0;
	return s;
}

int rune_container_quote(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			 uint8_t **quote, size_t *len, err_t *err)
{
	const struct sgx_quote_provider *qp;
	_cleanup_free_ char *ti_hex = NULL;
	struct quote_lib ql;
	struct sgx_targetinfo ti;
	struct sgx_report report;
	struct sgx_quote q;
	json_t *reply = NULL;
	int ret;

	if ((ret = check_report_data(report_data_hex, err)) < 0)
		return ret;
	if ((ret = quote_lib(&ql, err)) < 0)
		return ret;
	qp = ql.provider_default();
	if ((ret = qp->target_info(&ti, err)) < 0)
		return err_wrap(err, "quote (%s)", qp->name);
	if (!(ti_hex = to_hex(&ti, sizeof(ti))))
		return err_set(err, ENOMEM, "quote");
	if ((ret = rune_enclave_attest(ctx, id, report_data_hex, ti_hex, &reply, err)) < 0)
		return ret;
	ret = parse_report(json_string_value(json_object_get(reply, "report")), report_data_hex,
			   (unsigned char *)&report, err);
	json_decref(reply);
	if (ret < 0)
		return ret;
	if ((ret = qp->quote(&report, quote, len, err)) < 0)
		return err_wrap(err, "quote (%s)", qp->name);
	/* What was quoted is the REPORT the enclave made, its report data the one asked. */
	if ((ret = ql.parse(&q, *quote, *len, err)) < 0 ||
	    memcmp(&q.report_body, &report.body, sizeof(report.body)) != 0) {
		free(*quote);
		*quote = NULL;
		if (ret < 0)
			return err_wrap(err, "the quote provider's quote");
		return err_set(
		    err, EPROTO,
		    "the quote's report body (report data included) is not the enclave's REPORT");
	}
	return 0;
}

static json_t *body_json(const struct sgx_report_body *b)
{
	char attr[32], xfrm[32], misc[16];

	snprintf(attr, sizeof(attr), "0x%016llx", (unsigned long long)b->attributes);
	snprintf(xfrm, sizeof(xfrm), "0x%016llx", (unsigned long long)b->xfrm);
	snprintf(misc, sizeof(misc), "0x%08x", b->miscselect);
	return json_pack("{s:o,s:s,s:o,s:s,s:s,s:o,s:o,s:o,s:i,s:i,s:i,s:o,s:b,s:o}", "cpusvn",
			 hex(b->cpusvn, 16), "miscselect", misc, "isvextprodid",
			 hex(b->isvextprodid, 16), "attributes", attr, "xfrm", xfrm, "mrenclave",
			 hex(b->mrenclave, 32), "mrsigner", hex(b->mrsigner, 32), "config_id",
			 hex(b->config_id, 64), "isvprodid", b->isvprodid, "isvsvn", b->isvsvn,
			 "config_svn", b->config_svn, "isvfamilyid", hex(b->isvfamilyid, 16),
			 "debug", (b->attributes & SGX_ATTR_DEBUG) != 0, "report_data",
			 hex(b->reportdata, 64));
}

int rune_quote_json(const uint8_t *quote, size_t len, json_t **out, err_t *err)
{
	_cleanup_free_ char *auth = NULL;
	struct quote_lib ql;
	struct sgx_quote q;
	json_t *cert, *pem, *j;
	int ret;

	if ((ret = quote_lib(&ql, err)) < 0 || (ret = ql.parse(&q, quote, len, err)) < 0)
		return ret;
	if (!(auth = to_hex(q.auth_data, q.auth_data_size)))
		return err_set(err, ENOMEM, "quote");
	cert = json_pack("{s:i,s:i}", "type", q.cert_type, "size", q.cert_size);
	pem = q.cert_type == SGX_QL_CERT_PCK_CHAIN
		  ? json_stringn((const char *)q.cert_data,
				 strnlen((const char *)q.cert_data, q.cert_size))
		  : NULL;
	if (cert && pem)
		json_object_set_new(cert, "pem", pem);
	else if (cert) {
		_cleanup_free_ char *data = to_hex(q.cert_data, q.cert_size);

		json_object_set_new(cert, "data", data ? json_string(data) : json_null());
	}
	j = json_pack(
	    "{s:i,s:{s:i,s:i,s:i,s:i,s:i,s:o,s:o},s:o,s:i,s:{s:o,s:o,s:o,s:o,s:{s:i,s:s},"
	    "s:o}}",
	    "size", (int)len, "header", "version", q.header.version, "att_key_type",
	    q.header.att_key_type, "att_key_data_0", (int)q.header.att_key_data_0, "qe_svn",
	    q.header.qe_svn, "pce_svn", q.header.pce_svn, "vendor_id", hex(q.header.vendor_id, 16),
	    "user_data", hex(q.header.user_data, 20), "report_body", body_json(&q.report_body),
	    "signature_data_len", (int)q.signature_data_len, "signature_data", "signature",
	    hex(q.signature, 64), "attest_pub_key", hex(q.attest_key, 64), "qe_report",
	    body_json(&q.qe_report), "qe_report_signature", hex(q.qe_report_signature, 64),
	    "qe_auth_data", "size", q.auth_data_size, "data", auth, "certification_data", cert);
	if (!j)
		return err_set(err, ENOMEM, "quote as JSON");
	/* v4, v5: that header word is the TEE type; the chain is inside type 6. */
	if (q.header.version != SGX_QUOTE_VERSION_3) {
		json_object_set_new(json_object_get(j, "header"), "tee_type",
				    json_integer(q.header.att_key_data_0));
		json_object_set_new(
		    json_object_get(json_object_get(j, "signature_data"), "certification_data"),
		    "outer_type", json_integer(SGX_QL_CERT_QE_REPORT));
	}
	*out = j;
	return 0;
}

int rune_quote_base64(const uint8_t *quote, size_t len, char **out, err_t *err)
{
	struct quote_lib ql;
	int ret;

	if (len > INT_MAX / 2)
		return err_set(err, E2BIG, "quote: %zu bytes", len);
	if ((ret = quote_lib(&ql, err)) < 0)
		return ret;
	*out = malloc(4 * ((len + 2) / 3) + 1);
	if (!*out)
		return err_set(err, ENOMEM, "quote");
	ql.base64((unsigned char *)*out, quote, (int)len);
	return 0;
}
