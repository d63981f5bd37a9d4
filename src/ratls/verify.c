// SPDX-License-Identifier: Apache-2.0
/*
 * The quote verifier: the PCK chain to the root trusted (the pinned Intel
 * SGX Root CA, taken from the chain itself, or the caller's), the PCK
 * signature over the QE report, the attestation key binding, the quote
 * signature, the TCB status from collateral, then the policy. Every
 * refusal is one line naming the check that failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "ratls_internal.h"

void ratls_sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL))
		memset(out, 0, 32); /* OpenSSL out of memory: nothing will match */
}

EVP_PKEY *ratls_pubkey_from_raw(const uint8_t raw[64])
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

int ratls_verify_raw_sig(EVP_PKEY *key, const void *data, size_t len, const uint8_t sig[64])
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
	ERR_clear_error();
	return ok;
}

void ratls_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

int ratls_expect(const char *what, const uint8_t *want, const uint8_t *got, size_t n, err_t *err)
{
	char w[129], g[129];

	if (memcmp(want, got, n) == 0)
		return 0;
	ratls_hex(want, n > 64 ? 64 : n, w);
	ratls_hex(got, n > 64 ? 64 : n, g);
	return err_set(err, EPERM, "%s: expected %s, found %s", what, w, g);
}

STACK_OF(X509) * ratls_read_pem_chain(const void *pem, size_t len)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
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

char *ratls_subject(X509 *x, char *buf, int len)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, len);
	return buf;
}

/* The root given (PEM), which must be a self-signed certificate. */
static int given_root(const struct ratls_trust *t, X509 **root, err_t *err)
{
	BIO *b = t->root_pem_len <= INT32_MAX ? BIO_new_mem_buf(t->root_pem, (int)t->root_pem_len)
					      : NULL;
	char name[256];

	*root = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!*root)
		return err_set(err, EINVAL, "root CA: not a PEM certificate");
	if (X509_check_issued(*root, *root) != X509_V_OK)
		return err_set(err, EINVAL, "root CA: \"%s\" is not a self-signed certificate",
			       ratls_subject(*root, name, sizeof(name)));
	return 0;
}

/* The Intel SGX Root CA: the chain's last certificate, if its SHA-256 is the pin. */
static int intel_root(STACK_OF(X509) * chain, X509 **root, err_t *err)
{
	X509 *last = sk_X509_value(chain, sk_X509_num(chain) - 1);
	uint8_t *der = NULL, h[32];
	char hex[65], name[256];
	int n = i2d_X509(last, &der);

	if (n <= 0)
		return err_set(err, EBADMSG, "PCK certificate chain: its root does not encode");
	ratls_sha256(der, (size_t)n, h);
	OPENSSL_free(der);
	ratls_hex(h, 32, hex);
	if (strcmp(hex, RATLS_INTEL_ROOT_CA_SHA256) != 0)
		return err_set(err, EBADMSG,
			       "PCK certificate chain: rooted in \"%s\", not in the Intel SGX Root "
			       "CA: expected SHA-256 %s, found %s (trust another root with a "
			       "root CA given)",
			       ratls_subject(last, name, sizeof(name)), RATLS_INTEL_ROOT_CA_SHA256,
			       hex);
	if (!X509_up_ref(last))
		return err_set(err, ENOMEM, "PCK certificate chain");
	*root = last;
	return 0;
}

/* The PCK chain to root (CRLs checked when given); returns the PCK certificate's key. */
static int verify_chain(STACK_OF(X509) * chain, X509 *root, STACK_OF(X509_CRL) * crls,
			EVP_PKEY **pck_key, err_t *err)
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
			return err_set(err, EBADMSG,
				       "PCK certificate chain: its root \"%s\" has the subject of "
				       "the root CA given but is another certificate",
				       ratls_subject(last, name, sizeof(name)));
		return err_set(err, EBADMSG,
			       "PCK certificate chain: rooted in \"%s\", not in the root CA given",
			       ratls_subject(last, name, sizeof(name)));
	}
	if (store && ctx && X509_STORE_add_cert(store, root)) {
		ok = 1;
		for (int i = 0; crls && i < sk_X509_CRL_num(crls); i++)
			ok = ok && X509_STORE_add_crl(store, sk_X509_CRL_value(crls, i));
		if (crls)
			X509_STORE_set_flags(store,
					     X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
		ok = ok && X509_STORE_CTX_init(ctx, store, leaf, chain) &&
		     X509_verify_cert(ctx) == 1;
		code = X509_STORE_CTX_get_error(ctx);
		depth = X509_STORE_CTX_get_error_depth(ctx);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	if (!ok && code == X509_V_ERR_CERT_REVOKED)
		return err_set(
		    err, EBADMSG,
		    "PCK certificate chain: certificate %d is revoked by the collateral's "
		    "CRL (TCB status Revoked)",
		    depth);
	if (!ok)
		return err_set(err, EBADMSG,
			       "PCK certificate chain: does not verify to the root CA: %s "
			       "(certificate %d)",
			       code ? X509_verify_cert_error_string(code) : "OpenSSL failed",
			       depth);
	*pck_key = X509_get_pubkey(leaf);
	if (!*pck_key || EVP_PKEY_get_base_id(*pck_key) != EVP_PKEY_EC)
		return err_set(err, EBADMSG, "PCK certificate: its key is not an ECDSA key");
	return 0;
}

/* QE report signature, attestation key binding, quote signature. */
static int verify_signatures(const struct sgx_quote *q, const void *buf, EVP_PKEY *pck, err_t *err)
{
	uint8_t bind[64] = { 0 }, *ab;
	EVP_PKEY *att;
	size_t n = 64 + (size_t)q->auth_data_size;
	int ok;

	if (!ratls_verify_raw_sig(pck, &q->qe_report, sizeof(q->qe_report), q->qe_report_signature))
		return err_set(err, EBADMSG,
			       "QE report signature: does not verify with the PCK certificate's "
			       "key");
	ab = malloc(n);
	if (!ab)
		return err_sys(err, ENOMEM, "attestation key binding");
	memcpy(ab, q->attest_key, 64);
	if (q->auth_data_size)
		memcpy(ab + 64, q->auth_data, q->auth_data_size);
	ratls_sha256(ab, n, bind);
	free(ab);
	if (memcmp(bind, q->qe_report.reportdata, 64) != 0)
		return err_set(err, EBADMSG,
			       "attestation key binding: the QE report data is not "
			       "SHA-256(attestation key || QE auth data) followed by zeros");
	att = ratls_pubkey_from_raw(q->attest_key);
	if (!att)
		return err_set(err, EBADMSG,
			       "quote signature: the attestation key is not a P-256 point");
	ok = ratls_verify_raw_sig(att, buf, sgx_quote_signed_size(q->header.version), q->signature);
	EVP_PKEY_free(att);
	if (!ok)
		return err_set(err, EBADMSG,
			       "quote signature: does not verify with the attestation key over the "
			       "header and report body");
	return 0;
}

static void fill_identity(const struct sgx_quote *q, X509 *root, struct ratls_identity *id)
{
	const struct sgx_report_body *b = &q->report_body;

	memset(id, 0, sizeof(*id));
	memcpy(id->mrenclave, b->mrenclave, 32);
	memcpy(id->mrsigner, b->mrsigner, 32);
	memcpy(id->report_data, b->reportdata, 64);
	id->isvprodid = b->isvprodid;
	id->isvsvn = b->isvsvn;
	id->attributes = b->attributes;
	id->debug = (b->attributes & SGX_ATTR_DEBUG) != 0;
	ratls_subject(root, id->root, sizeof(id->root));
}

int ratls_quote_verify(const void *buf, size_t len, const struct ratls_trust *trust,
		       const struct ratls_policy *policy, struct ratls_identity *out, err_t *err)
{
	STACK_OF(X509) *chain = NULL;
	struct ratls_identity id;
	EVP_PKEY *pck = NULL;
	struct sgx_quote q;
	X509 *root = NULL;
	int ret;

	ret = sgx_quote_parse(&q, buf, len, err);
	if (ret < 0)
		return ret;
	if (q.cert_type != SGX_QL_CERT_PCK_CHAIN)
		return err_set(err, ENOTSUP,
			       "certification data: type %u, not 5 (a PEM PCK certificate chain)",
			       q.cert_type);
	if (trust->root_pem) {
		ret = given_root(trust, &root, err);
		if (ret < 0)
			goto out;
	}
	chain = ratls_read_pem_chain(q.cert_data, q.cert_size);
	if (!chain || sk_X509_num(chain) == 0) {
		ret =
		    err_set(err, EBADMSG,
			    "PCK certificate chain: no PEM certificate in the certification data");
		goto out;
	}
	if (!root) {
		ret = intel_root(chain, &root, err);
		if (ret < 0)
			goto out;
	}
	ret = verify_chain(chain, root, ratls_collateral_crls(trust->collateral), &pck, err);
	if (ret < 0)
		goto out;
	ret = verify_signatures(&q, buf, pck, err);
	if (ret < 0)
		goto out;
	fill_identity(&q, root, &id);
	if (trust->collateral) {
		ret = ratls_collateral_check(trust->collateral, root, sk_X509_value(chain, 0), &q,
					     &id.tcb_status, err);
		if (ret < 0)
			goto out;
	}
	if (out)
		*out = id;
	ret = policy ? ratls_policy_check(policy, &id, err) : 0;
out:
	ERR_clear_error();
	EVP_PKEY_free(pck);
	X509_free(root);
	sk_X509_pop_free(chain, X509_free);
	return ret;
}
