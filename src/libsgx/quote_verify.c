// SPDX-License-Identifier: Apache-2.0
/*
 * The quote verifier (sgx_quote_verify) and the ECDSA-P256 helpers it
 * shares with the emulated QE. Every refusal is one line naming the check
 * that failed. (It moves to libratls with the RA-TLS slice; the pinned
 * Intel SGX Root CA, collateral and TCB status come with it.)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "sgx/quote.h"
#include "quote_internal.h"

void quote_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned n = 0;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, a, alen) ||
	    (blen && !EVP_DigestUpdate(md, b, blen)) || !EVP_DigestFinal_ex(md, out, &n))
		memset(out, 0, 32); /* OpenSSL out of memory: nothing will match */
	EVP_MD_CTX_free(md);
}

int quote_pubkey_raw(EVP_PKEY *key, uint8_t out[64])
{
	uint8_t pt[65];
	size_t n = 0;

	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt), &n) ||
	    n != 65 || pt[0] != 0x04)
		return -EIO;
	memcpy(out, pt + 1, 64);
	return 0;
}

EVP_PKEY *quote_pubkey_from_raw(const uint8_t raw[64])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[3];
	EVP_PKEY *key = NULL;
	uint8_t pt[65];
	char group[] = "prime256v1";

	pt[0] = 0x04;
	memcpy(pt + 1, raw, 64);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

int quote_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	const uint8_t *p = der;
	size_t n = sizeof(der);
	ECDSA_SIG *s = NULL;
	int ok;

	ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) > 0 &&
	     EVP_DigestSign(md, der, &n, data, len) > 0 && (s = d2i_ECDSA_SIG(NULL, &p, (long)n)) &&
	     BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
	     BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32;
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EIO;
}

int quote_verify_sig(EVP_PKEY *key, const void *data, size_t len, const uint8_t sig[64])
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	int n = -1, ok = 0;

	if (s && r && ss && ECDSA_SIG_set0(s, r, ss)) {
		r = ss = NULL;
		n = i2d_ECDSA_SIG(s, &der);
	}
	if (n > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) > 0)
		ok = EVP_DigestVerify(md, der, (size_t)n, data, len) == 1;
	OPENSSL_free(der);
	BN_free(r);
	BN_free(ss);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return ok;
}

static void hexs(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int expect(const char *what, const uint8_t *want, const uint8_t *got, size_t n, err_t *err)
{
	char w[129], g[129];

	if (memcmp(want, got, n) == 0)
		return 0;
	hexs(want, n, w);
	hexs(got, n, g);
	return err_set(err, EPERM, "%s: expected %s, found %s", what, w, g);
}

/* The certificates of a PEM chain, leaf first (anything after the last one is ignored). */
static STACK_OF(X509) * read_chain(const void *pem, size_t len)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	if (!sk || !b) {
		BIO_free(b);
		sk_X509_free(sk);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			break;
		}
	BIO_free(b);
	ERR_clear_error();
	return sk;
}

static char *subject(X509 *x, char *buf, int len)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, len);
	return buf;
}

/* The PCK chain to root; returns the PCK certificate's key (the caller frees it). */
static int verify_chain(STACK_OF(X509) * chain, X509 *root, EVP_PKEY **pck_key, err_t *err)
{
	X509 *leaf = sk_X509_value(chain, 0), *last = sk_X509_value(chain, sk_X509_num(chain) - 1);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char name[256];
	int ok = 0, code = 0, depth = 0;

	/* A chain that ends in another self-signed root: say whose. */
	if (sk_X509_num(chain) > 1 && X509_check_issued(last, last) == X509_V_OK &&
	    X509_cmp(last, root) != 0) {
		X509_STORE_free(store);
		X509_STORE_CTX_free(ctx);
		if (X509_NAME_cmp(X509_get_subject_name(last), X509_get_subject_name(root)) == 0)
			return err_set(
			    err, EBADMSG,
			    "PCK certificate chain: its root \"%s\" has the subject of the "
			    "root CA given but is another certificate",
			    subject(last, name, sizeof(name)));
		return err_set(err, EBADMSG,
			       "PCK certificate chain: rooted in \"%s\", not in the root CA given",
			       subject(last, name, sizeof(name)));
	}
	if (store && ctx && X509_STORE_add_cert(store, root) &&
	    X509_STORE_CTX_init(ctx, store, leaf, chain)) {
		ok = X509_verify_cert(ctx) == 1;
		code = X509_STORE_CTX_get_error(ctx);
		depth = X509_STORE_CTX_get_error_depth(ctx);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	if (!ok)
		return err_set(err, EBADMSG,
			       "PCK certificate chain: does not verify to the root CA given: %s "
			       "(certificate %d)",
			       code ? X509_verify_cert_error_string(code) : "OpenSSL failed",
			       depth);
	*pck_key = X509_get_pubkey(leaf);
	if (!*pck_key || EVP_PKEY_get_base_id(*pck_key) != EVP_PKEY_EC)
		return err_set(err, EBADMSG, "PCK certificate: its key is not an ECDSA key");
	return 0;
}

static int check_policy(const struct sgx_quote *q, const struct sgx_quote_policy *p, err_t *err)
{
	uint8_t rd[64] = { 0 };
	int ret = 0;

	if (!p)
		return 0;
	if (p->mrenclave)
		ret = expect("MRENCLAVE", p->mrenclave, q->report_body.mrenclave, 32, err);
	if (!ret && p->mrsigner)
		ret = expect("MRSIGNER", p->mrsigner, q->report_body.mrsigner, 32, err);
	if (!ret && p->report_data) {
		memcpy(rd, p->report_data, p->report_data_len > 64 ? 64 : p->report_data_len);
		ret = expect("report data", rd, q->report_body.reportdata, 64, err);
	}
	return ret;
}

int sgx_quote_verify(const void *buf, size_t len, const char *root_pem, size_t root_pem_len,
		     const struct sgx_quote_policy *policy, struct sgx_quote *out, err_t *err)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pck = NULL, *att = NULL;
	struct sgx_quote q;
	uint8_t bind[64] = { 0 };
	X509 *root = NULL;
	BIO *b;
	int ret;

	ret = sgx_quote_parse(&q, buf, len, err);
	if (ret < 0)
		return ret;
	if (out)
		*out = q;
	if (q.cert_type != SGX_QL_CERT_PCK_CHAIN)
		return err_set(err, ENOTSUP,
			       "certification data: type %u, not 5 (a PEM PCK certificate chain)",
			       q.cert_type);
	b = BIO_new_mem_buf(root_pem, (int)root_pem_len);
	root = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!root)
		return err_set(err, EINVAL, "root CA: not a PEM certificate");
	if (X509_check_issued(root, root) != X509_V_OK) {
		char name[256];

		ret = err_set(err, EINVAL, "root CA: \"%s\" is not a self-signed certificate",
			      subject(root, name, sizeof(name)));
		goto out;
	}
	chain = read_chain(q.cert_data, q.cert_size);
	if (!chain || sk_X509_num(chain) == 0) {
		ret =
		    err_set(err, EBADMSG,
			    "PCK certificate chain: no PEM certificate in the certification data");
		goto out;
	}
	ret = verify_chain(chain, root, &pck, err);
	if (ret < 0)
		goto out;
	if (!quote_verify_sig(pck, &q.qe_report, sizeof(q.qe_report), q.qe_report_signature)) {
		ret =
		    err_set(err, EBADMSG,
			    "QE report signature: does not verify with the PCK certificate's key");
		goto out;
	}
	quote_sha256(q.attest_key, 64, q.auth_data, q.auth_data_size, bind);
	if (memcmp(bind, q.qe_report.reportdata, 64) != 0) {
		ret = err_set(
		    err, EBADMSG,
		    "attestation key binding: the QE report data is not SHA-256(attestation "
		    "key || QE auth data) followed by zeros");
		goto out;
	}
	att = quote_pubkey_from_raw(q.attest_key);
	if (!att) {
		ret = err_set(err, EBADMSG,
			      "quote signature: the attestation key is not a P-256 point");
		goto out;
	}
	if (!quote_verify_sig(att, buf, SGX_QUOTE_SIGNED_SIZE, q.signature)) {
		ret = err_set(err, EBADMSG,
			      "quote signature: does not verify with the attestation key over the "
			      "header and report body");
		goto out;
	}
	ret = check_policy(&q, policy, err);
out:
	ERR_clear_error();
	EVP_PKEY_free(pck);
	EVP_PKEY_free(att);
	X509_free(root);
	sk_X509_pop_free(chain, X509_free);
	return ret;
}
