// SPDX-License-Identifier: Apache-2.0
/*
 * DCAP v3 quotes (and v4, v5: test_version): the emulated QE (a REPORT for it becomes a quote with
 * Intel's layout; a REPORT not for it, refused; its keys created once,
 * 0600, beside the machine secret), libratls's verifier (a good quote
 * accepted; each tampering refused by the check it breaks; the policy;
 * the pinned Intel root without a root given), the parser (every
 * truncation, trailing bytes, each length field too large, other versions
 * and key types refused) and serialise(parse(q)) == q.
 */
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/cleanup.h"
#include "sgx/loader.h"
#include "ratls/ratls.h"
#include "sgx/quote.h"
#include "../sgx/sgx-test.h"
#include "emu-report.h"

static char dir[] = "/tmp/attest-quote-test.XXXXXX";

/* A REPORT as an enclave's EREPORT aimed at the emulated QE would be. */
static void make_report(struct sgx_report *r, const struct sgx_targetinfo *ti)
{
	err_t err = NULL;

	memset(r, 0, sizeof(*r));
	memset(r->body.mrenclave, 0xab, 32);
	memset(r->body.mrsigner, 0xcd, 32);
	r->body.attributes = 0x5;
	r->body.xfrm = 0x3;
	for (int i = 0; i < 64; i++)
		r->body.reportdata[i] = (uint8_t)i;
	memset(r->keyid, 0x11, 32);
	if (emu_report_mac(r, ti, &err) < 0) {
		printf("not ok - the REPORT's MAC: %s\n", err_msg(err));
		exit(1);
	}
}

static int get_quote(uint8_t **q, size_t *len)
{
	struct sgx_targetinfo ti;
	struct sgx_report r;
	err_t err = NULL;
	int ret;

	sgx_qe_emu_targetinfo(&ti);
	make_report(&r, &ti);
	ret = sgx_qe_emu_quote(&r, q, len, &err);
	if (ret < 0)
		printf("# quote: %s\n", err_msg(err));
	err_free(&err);
	return ret;
}

/* The verifier's message for quote q (after tamper), or "" when it accepts it. */
static char *verdict(const uint8_t *q, size_t len, const char *root, const struct ratls_policy *p)
{
	struct ratls_trust t = { .root_pem = root, .root_pem_len = strlen(root) };
	static char msg[512];
	err_t err = NULL;

	msg[0] = 0;
	if (ratls_quote_verify(q, len, &t, p, NULL, &err) < 0)
		snprintf(msg, sizeof(msg), "%s", err_msg(err));
	err_free(&err);
	return msg;
}

static void tamper(const uint8_t *q, size_t len, const char *root, size_t off, const char *what,
		   const char *check)
{
	_cleanup_free_ uint8_t *t = malloc(len);
	const char *m;

	memcpy(t, q, len);
	t[off] ^= 0x01;
	m = verdict(t, len, root, NULL);
	TAP_OK(strncmp(m, check, strlen(check)) == 0,
	       "a flipped byte in %s: refused by \"%s\" (%s)", what, check, m);
}

static void test_parser(const uint8_t *q, size_t len)
{
	_cleanup_free_ uint8_t *big = malloc(len + 16);
	struct sgx_quote pq;
	err_t err = NULL;
	size_t bad = 0;
	uint8_t *t;

	for (size_t n = 0; n < len; n++) {
		if (sgx_quote_parse(&pq, q, n, &err) == 0)
			bad++;
		err_free(&err);
	}
	TAP_OK(bad == 0, "every truncation (0..%zu bytes) refused (%zu accepted)", len - 1, bad);
	memcpy(big, q, len);
	big[len] = 0;
	CHECK(sgx_quote_parse(&pq, big, len + 1, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "trailing bytes"), "a trailing byte refused: %s",
	       err_msg(err));
	err_free(&err);

	t = big;
	/* signature_data_len one more (truncated) and one less (trailing). */
	t[432]++;
	CHECK(sgx_quote_parse(&pq, t, len, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "signature_data_len"),
	       "signature_data_len too large: %s", err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[436 + 576] = 0xff;
	t[436 + 577] = 0xff;
	CHECK(sgx_quote_parse(&pq, t, len, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "auth data size 65535"),
	       "QE auth data size too large: %s", err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[436 + 578 + 32 + 2 + 3] = 0x7f; /* cert size's high byte */
	CHECK(sgx_quote_parse(&pq, t, len, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "certification data size"),
	       "certification data size too large: %s", err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[0] = 6;
	CHECK(sgx_quote_parse(&pq, t, len, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "version 6"), "version 6 refused: %s", err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[2] = 3;
	CHECK(sgx_quote_parse(&pq, t, len, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "key type 3"), "key type 3 (P-384) refused: %s",
	       err_msg(err));
	err_free(&err);
	CHECK(sgx_quote_parse(&pq, q, SGX_QUOTE_MAX_SIZE + 1, &err) < 0);
	TAP_OK(err && strstr(err_msg(err), "more than"), "more than SGX_QUOTE_MAX_SIZE refused: %s",
	       err_msg(err));
	err_free(&err);
}

static void test_layout(const uint8_t *q, size_t len)
{
	struct sgx_quote pq;
	uint8_t *again = NULL;
	size_t alen = 0;
	err_t err = NULL;
	int ok;

	ok = sgx_quote_parse(&pq, q, len, &err) == 0;
	TAP_OK(ok, "the quote parses (%zu bytes): %s", len, ok ? "" : err_msg(err));
	if (!ok)
		return;
	CHECK(pq.header.version == 3 && pq.header.att_key_type == 2);
	CHECK(memcmp(pq.header.vendor_id, SGX_QE_VENDOR_ID, 16) == 0);
	CHECK(pq.report_body.reportdata[63] == 63 && pq.report_body.mrenclave[0] == 0xab);
	CHECK(pq.auth_data_size == 32 && pq.auth_data[31] == 31);
	CHECK(pq.cert_type == 5);
	CHECK(memmem(pq.cert_data, pq.cert_size, "BEGIN CERTIFICATE", 17) != NULL);
	CHECK(pq.signature_data_len == len - 436);
	CHECK(pq.qe_report.isvprodid == 1);
	{
		BIO *b = BIO_new_mem_buf(pq.cert_data, (int)pq.cert_size);
		X509 *pck = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		ASN1_OBJECT *oid = OBJ_txt2obj("1.2.840.113741.1.13.1", 1);
		int i = pck && oid ? X509_get_ext_by_OBJ(pck, oid, -1) : -1;
		ASN1_OCTET_STRING *v =
		    i >= 0 ? X509_EXTENSION_get_data(X509_get_ext(pck, i)) : NULL;
		const unsigned char *p = v ? ASN1_STRING_get0_data(v) : NULL;
		ASN1_TYPE *t = p ? d2i_ASN1_TYPE(NULL, &p, ASN1_STRING_length(v)) : NULL;

		TAP_OK(t && ASN1_TYPE_get(t) == V_ASN1_SEQUENCE &&
			   memmem(ASN1_STRING_get0_data(v), ASN1_STRING_length(v), "RUNEMU", 6),
		       "the PCK certificate has SGX extensions (a DER SEQUENCE, FMSPC RUNEMU)");
		ASN1_TYPE_free(t);
		ASN1_OBJECT_free(oid);
		X509_free(pck);
		BIO_free(b);
	}
	CHECK(sgx_quote_serialize(&pq, &again, &alen, &err) == 0);
	TAP_OK(again && alen == len && memcmp(again, q, len) == 0,
	       "serialise(parse(quote)) == quote");
	free(again);
	err_free(&err);
}

/* The provider seam: the emulator's, or DCAP's (tests/ratls/ratls-dcap.c tests it). */
static void test_providers(void)
{
	const struct sgx_quote_provider *p;
	struct sgx_targetinfo t1, t2;
	err_t err = NULL;

	setenv("SGX_LOADER_BACKEND", "emulator", 1);
	p = sgx_quote_provider_default();
	sgx_qe_emu_targetinfo(&t1);
	CHECK(p == &sgx_quote_provider_emulator && p->target_info(&t2, &err) == 0 &&
	      memcmp(&t1, &t2, sizeof(t1)) == 0);
	setenv("SGX_LOADER_BACKEND", "sgx", 1);
	p = sgx_quote_provider_default();
	TAP_OK(p == &sgx_quote_provider_dcap, "providers: the emulator's, or dcap on hardware");
	err_free(&err);
	unsetenv("SGX_LOADER_BACKEND");
}

/*
 * Versions 4 and 5 from the emulated QE: the type-6 wrapper (and v5's body
 * descriptor) where Intel's layout puts them, serialise(parse(q)) == q,
 * accepted, each part tampered refused by its check, every truncation and
 * each length field refused.
 */
static void test_version(uint16_t v, const char *root)
{
	_cleanup_free_ uint8_t *q = NULL, *again = NULL, *t = NULL;
	size_t len = 0, alen = 0, bad = 0, sig, body = v == 5 ? 54 : 48;
	struct sgx_quote pq;
	err_t err = NULL;
	char env[2] = { (char)('0' + v), 0 };
	char *m;
	int ok;

	setenv(SGX_EMU_QUOTE_VERSION_ENV, env, 1);
	ok = get_quote(&q, &len) == 0;
	unsetenv(SGX_EMU_QUOTE_VERSION_ENV);
	TAP_OK(ok, "v%u: the emulated QE makes a version %u quote on request", v, v);
	if (!ok)
		return;
	sig = sgx_quote_signed_size(v) + 4;
	ok = sgx_quote_parse(&pq, q, len, &err) == 0;
	TAP_OK(ok && pq.header.version == v && pq.header.att_key_data_0 == 0 && q[sig + 128] == 6 &&
		   q[sig + 129] == 0 && pq.cert_type == 5 && pq.auth_data_size == 32 &&
		   pq.report_body.reportdata[63] == 63 &&
		   (v != 5 || (q[48] == 1 && q[50] == 0x80 && q[51] == 1)),
	       "v%u: it parses: TEE type 0 (SGX), certification data type 6 around the QE "
	       "report and the type-5 chain%s: %s",
	       v, v == 5 ? ", body descriptor (1, 384)" : "", ok ? "" : err_msg(err));
	err_free(&err);
	if (!ok)
		return;
	TAP_OK(sgx_quote_serialize(&pq, &again, &alen, &err) == 0 && alen == len &&
		   memcmp(again, q, len) == 0,
	       "v%u: serialise(parse(quote)) == quote", v);
	err_free(&err);
	m = verdict(q, len, root, NULL);
	TAP_OK(!*m, "v%u: the verifier accepts it (%s)", v, m);

	tamper(q, len, root, 10, "the v4+ header", "quote signature:");
	tamper(q, len, root, body + 64, "the report body (MRENCLAVE)", "quote signature:");
	tamper(q, len, root, sig + 3, "the quote signature", "quote signature:");
	tamper(q, len, root, sig + 64 + 5, "the attestation key", "attestation key binding:");
	tamper(q, len, root, sig + 128, "the certification data type (6 to 7)",
	       "quote: certification data type 7, not 6");
	tamper(q, len, root, sig + 134 + 64, "the QE report", "QE report signature:");
	tamper(q, len, root, sig + 134 + 384 + 7, "the QE report signature",
	       "QE report signature:");
	tamper(q, len, root, sig + 134 + 450 + 4, "the QE auth data", "attestation key binding:");
	tamper(q, len, root, sig + 134 + 450 + 32, "the inner certification data type (5 to 4)",
	       "certification data: type 4");
	if (v == 5) {
		tamper(q, len, root, 48, "the body descriptor's type (1 to 0)",
		       "quote body descriptor: type 0");
		tamper(q, len, root, 50, "the body descriptor's size",
		       "quote body descriptor: size");
	}

	for (size_t n = 0; n < len; n++) {
		if (sgx_quote_parse(&pq, q, n, &err) == 0)
			bad++;
		err_free(&err);
	}
	TAP_OK(bad == 0, "v%u: every truncation (0..%zu bytes) refused (%zu accepted)", v, len - 1,
	       bad);
	t = malloc(len + 1);
	memcpy(t, q, len);
	t[len] = 0;
	TAP_OK(sgx_quote_parse(&pq, t, len + 1, &err) < 0 && strstr(err_msg(err), "trailing bytes"),
	       "v%u: a trailing byte refused: %s", v, err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[sig + 130]++; /* the type-6 size: one more than there is */
	TAP_OK(sgx_quote_parse(&pq, t, len, &err) < 0 &&
		   strstr(err_msg(err), "QE report certification data size"),
	       "v%u: the type-6 size too large: %s", v, err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[sig + 134 + 448] = 0xff;
	t[sig + 134 + 449] = 0xff;
	TAP_OK(sgx_quote_parse(&pq, t, len, &err) < 0 &&
		   strstr(err_msg(err), "auth data size 65535"),
	       "v%u: the QE auth data size too large: %s", v, err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[sig + 134 + 450 + 32 + 2 + 3] = 0x7f;
	TAP_OK(sgx_quote_parse(&pq, t, len, &err) < 0 &&
		   strstr(err_msg(err), "certification data size"),
	       "v%u: the inner certification data size too large: %s", v, err_msg(err));
	err_free(&err);
	memcpy(t, q, len);
	t[4] = 0x81;
	TAP_OK(sgx_quote_parse(&pq, t, len, &err) < 0 && strstr(err_msg(err), "TEE type 0x81"),
	       "v%u: a TDX quote (TEE type 0x81) refused: %s", v, err_msg(err));
	err_free(&err);
}

static void remove_dir(void)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	_cleanup_free_ char *secret = NULL, *keys = NULL, *root = NULL, *other_root = NULL;
	_cleanup_free_ uint8_t *q = NULL, *q2 = NULL, *qo = NULL;
	size_t len = 0, len2 = 0, leno = 0;
	struct sgx_targetinfo ti;
	struct sgx_report r;
	struct sgx_quote pq, pq2;
	struct ratls_policy pol;
	struct stat st;
	err_t err = NULL;
	char *m;

	if (!mkdtemp(dir))
		return 1;
	if (asprintf(&secret, "%s/a/sgx-emu-secret", dir) < 0 ||
	    asprintf(&keys, "%s/a/%s", dir, SGX_EMU_QUOTE_KEYS_FILE) < 0)
		return 1;
	setenv("SGX_EMU_SECRET", secret, 1);

	TAP_OK(get_quote(&q, &len) == 0, "the emulated QE quotes a REPORT aimed at it");
	if (!q)
		goto out;
	TAP_OK(stat(keys, &st) == 0 && (st.st_mode & 0777) == 0600,
	       "its keys created 0600 beside the machine secret");
	TAP_OK(sgx_emu_root_ca_pem(&root, &err) == 0 && strstr(root, "BEGIN CERTIFICATE"),
	       "the emulator root CA's PEM");
	test_layout(q, len);
	{
		_cleanup_free_ char *pem = NULL, *real = NULL;

		chmod(keys, 0644);
		TAP_OK(sgx_emu_root_ca_pem(&pem, &err) < 0 &&
			   strstr(err_msg(err), "readable by others"),
		       "keys readable by others refused: %s", err_msg(err));
		err_free(&err);
		chmod(keys, 0600);
		if (asprintf(&real, "%s.real", keys) > 0 && rename(keys, real) == 0 &&
		    symlink(real, keys) == 0) {
			TAP_OK(sgx_emu_root_ca_pem(&pem, &err) < 0 && strstr(err_msg(err), keys),
			       "keys reached through a symlink refused: %s", err_msg(err));
			err_free(&err);
			unlink(keys);
			rename(real, keys);
		}
	}
	TAP_OK(get_quote(&q2, &len2) == 0 && sgx_quote_parse(&pq, q, len, NULL) == 0 &&
		   sgx_quote_parse(&pq2, q2, len2, NULL) == 0 &&
		   memcmp(pq.attest_key, pq2.attest_key, 64) == 0,
	       "a second quote: the same attestation key (created once)");

	m = verdict(q, len, root, NULL);
	TAP_OK(!*m, "the verifier accepts it with the emulator root CA (%s)", m);
	memset(&pol, 0, sizeof(pol));
	pol.have_mrenclave = pol.have_report_data = 1;
	memset(pol.mrenclave, 0xab, 32);
	memcpy(pol.report_data, pq.report_body.reportdata, 64);
	pol.report_data_len = 64;
	m = verdict(q, len, root, &pol);
	TAP_OK(!*m, "... and the MRENCLAVE and report data expected (%s)", m);
	pol.mrenclave[31] = 0;
	m = verdict(q, len, root, &pol);
	TAP_OK(strncmp(m, "MRENCLAVE: expected", 19) == 0, "another MRENCLAVE expected: %s", m);
	memset(&pol, 0, sizeof(pol));
	pol.have_report_data = 1;
	pol.report_data[0] = 'x';
	pol.report_data_len = 1;
	m = verdict(q, len, root, &pol);
	TAP_OK(strncmp(m, "report data: expected", 21) == 0, "other report data expected: %s", m);
	memset(&pol, 0, sizeof(pol));
	pol.have_isvprodid = 1;
	pol.isvprodid = 7;
	m = verdict(q, len, root, &pol);
	TAP_OK(strcmp(m, "ISVPRODID: expected 7, found 0") == 0, "another ISVPRODID expected: %s",
	       m);
	memset(&pol, 0, sizeof(pol));
	pol.have_min_isvsvn = 1;
	pol.min_isvsvn = 2;
	m = verdict(q, len, root, &pol);
	TAP_OK(strcmp(m, "ISVSVN: expected at least 2, found 0") == 0, "a minimum ISVSVN: %s", m);
	memset(&pol, 0, sizeof(pol));
	pol.tcb_statuses = 1u << RATLS_TCB_UP_TO_DATE;
	m = verdict(q, len, root, &pol);
	TAP_OK(strcmp(m, "TCB status: expected UpToDate, found not checked (no collateral)") == 0,
	       "a TCB status asked without collateral: %s", m);
	{
		struct ratls_trust t = { 0 };
		err_t e = NULL;

		TAP_OK(ratls_quote_verify(q, len, &t, NULL, NULL, &e) < 0 &&
			   strstr(err_msg(e), "not in the Intel SGX Root CA: expected "
					      "SHA-256 " RATLS_INTEL_ROOT_CA_SHA256),
		       "without a root given, only the pinned Intel SGX Root CA: %s", err_msg(e));
		err_free(&e);
	}

	tamper(q, len, root, 48 + 64, "the report body (MRENCLAVE)", "quote signature:");
	tamper(q, len, root, 48 + 320, "the report body (report data)", "quote signature:");
	tamper(q, len, root, 10, "the header", "quote signature:");
	tamper(q, len, root, 436 + 3, "the quote signature", "quote signature:");
	tamper(q, len, root, 436 + 64 + 5, "the attestation key", "attestation key binding:");
	tamper(q, len, root, 436 + 128 + 64, "the QE report", "QE report signature:");
	tamper(q, len, root, 436 + 512 + 7, "the QE report signature", "QE report signature:");
	tamper(q, len, root, 436 + 578 + 4, "the QE auth data", "attestation key binding:");
	tamper(q, len, root, 436 + 578 + 32, "the certification data type (5 to 4)",
	       "certification data: type 4");

	/* Another host's emulator: its chain is rooted elsewhere. */
	free(secret);
	if (asprintf(&secret, "%s/b/sgx-emu-secret", dir) < 0)
		goto out;
	sgx_emu_set_secret_path(secret, &err);
	TAP_OK(get_quote(&qo, &leno) == 0 && sgx_emu_root_ca_pem(&other_root, &err) == 0 &&
		   strcmp(root, other_root) != 0,
	       "another secret directory: another emulator root CA");
	if (qo) {
		m = verdict(qo, leno, root, NULL);
		TAP_OK(strncmp(m, "PCK certificate chain: rooted in", 32) == 0 &&
			   strstr(m, "EMULATOR Root CA"),
		       "a chain rooted elsewhere refused: %s", m);
		m = verdict(qo, leno, other_root, NULL);
		TAP_OK(!*m, "... and accepted with its own root (%s)", m);
	}
	m = verdict(q, len, "not a PEM", NULL);
	TAP_OK(strncmp(m, "root CA: not a PEM certificate", 30) == 0, "a bad root CA: %s", m);

	/* A REPORT the QE's report key did not MAC. */
	sgx_qe_emu_targetinfo(&ti);
	ti.mrenclave[0] ^= 1;
	make_report(&r, &ti);
	free(q2);
	q2 = NULL;
	TAP_OK(sgx_qe_emu_quote(&r, &q2, &len2, &err) < 0 &&
		   strstr(err_msg(err), "MAC does not verify with the QE's report key"),
	       "a REPORT aimed at another enclave refused: %s", err_msg(err));
	err_free(&err);

	test_parser(q, len);
	test_providers();
	test_version(4, other_root ? other_root : root); /* the secret of "b" is in use */
	test_version(5, other_root ? other_root : root);
	setenv(SGX_EMU_QUOTE_VERSION_ENV, "6", 1);
	free(q2);
	q2 = NULL;
	TAP_OK(get_quote(&q2, &len2) < 0, "the emulated QE: another version asked for, refused");
	unsetenv(SGX_EMU_QUOTE_VERSION_ENV);
out:
	remove_dir();
	return tap_exit();
}
