// SPDX-License-Identifier: Apache-2.0
/*
 * RA-TLS certificate verification (the forms are described in cert.c):
 * self-signature and validity, the evidence, the quote (ratls_quote_verify),
 * the key binding, the policy; and the OpenSSL hook that does it in a
 * handshake.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ratls_internal.h"

/* The extension oid's bytes, or NULL. */
static const ASN1_OCTET_STRING *ext_data(X509 *c, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int i = obj ? X509_get_ext_by_OBJ(c, obj, -1) : -1;

	ASN1_OBJECT_free(obj);
	return i >= 0 ? X509_EXTENSION_get_data(X509_get_ext(c, i)) : NULL;
}

/* A CBOR item of exactly len bytes, or NULL. */
static cbor_item_t *cbor_exact(const uint8_t *p, size_t len)
{
	struct cbor_load_result r;
	cbor_item_t *it = cbor_load(p, len, &r);

	if (it && (r.error.code != CBOR_ERR_NONE || r.read != len)) {
		cbor_decref(&it);
		return NULL;
	}
	return it;
}

static int is_bstr(const cbor_item_t *it)
{
	return it && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

/* The value of text key in map, or NULL (borrowed). */
static cbor_item_t *map_get(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *pairs = cbor_map_handle(map);
	size_t n = strlen(key);

	for (size_t i = 0; i < cbor_map_size(map); i++)
		if (cbor_isa_string(pairs[i].key) && cbor_string_is_definite(pairs[i].key) &&
		    cbor_string_length(pairs[i].key) == n &&
		    memcmp(cbor_string_handle(pairs[i].key), key, n) == 0)
			return pairs[i].value;
	return NULL;
}

/* The pubkey-hash claim ([alg, bstr hash]) against the certificate's key. */
static int check_pubkey_hash(X509 *cert, const uint8_t *claims, size_t clen, err_t *err)
{
	cbor_item_t *map = cbor_exact(claims, clen), *v, *entry = NULL, *alg = NULL, *h = NULL;
	const EVP_MD *md = NULL;
	uint8_t want[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned wn = 0;
	int n, ret;

	if (!map || !cbor_isa_map(map) || !cbor_map_is_definite(map)) {
		ret = err_set(err, EBADMSG, "RA-TLS claims: not a CBOR map");
		goto out;
	}
	v = map_get(map, RATLS_CLAIM_PUBKEY_HASH);
	if (!is_bstr(v)) {
		ret = err_set(err, EBADMSG, "RA-TLS claims: no \"pubkey-hash\" byte string");
		goto out;
	}
	entry = cbor_exact(cbor_bytestring_handle(v), cbor_bytestring_length(v));
	if (entry && cbor_isa_array(entry) && cbor_array_size(entry) == 2) {
		alg = cbor_array_get(entry, 0);
		h = cbor_array_get(entry, 1);
	}
	if (alg && cbor_isa_uint(alg))
		md = cbor_get_int(alg) == 1   ? EVP_sha256()
		     : cbor_get_int(alg) == 7 ? EVP_sha384()
		     : cbor_get_int(alg) == 8 ? EVP_sha512()
					      : NULL;
	if (!md || !is_bstr(h)) {
		ret = err_set(err, EBADMSG,
			      "RA-TLS claims: \"pubkey-hash\" is not [sha-256|sha-384|sha-512, "
			      "bstr hash]");
		goto out;
	}
	n = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
	if (n <= 0 || !EVP_Digest(der, (size_t)n, want, &wn, md, NULL)) {
		ret = err_set(err, EIO, "RA-TLS claims: hashing the certificate's key failed");
		goto out;
	}
	if (cbor_bytestring_length(h) != wn) {
		ret = err_set(err, EBADMSG,
			      "RA-TLS key binding: \"pubkey-hash\" is %zu bytes, not %u",
			      cbor_bytestring_length(h), wn);
		goto out;
	}
	ret = ratls_expect("RA-TLS key binding: \"pubkey-hash\" (of the certificate's key)", want,
			   cbor_bytestring_handle(h), wn, err);
	if (ret < 0)
		ret = -EBADMSG;
out:
	OPENSSL_free(der);
	if (alg)
		cbor_decref(&alg);
	if (h)
		cbor_decref(&h);
	if (entry)
		cbor_decref(&entry);
	if (map)
		cbor_decref(&map);
	return ret;
}

/* The evidence to check: the quote and the report data it must carry. */
struct evidence {
	const char *form;
	const uint8_t *quote;
	size_t quote_len;
	uint8_t report_data[64];
	cbor_item_t *root; /* owns quote for the DICE form */
};

static int dice_evidence(X509 *cert, const ASN1_OCTET_STRING *d, struct evidence *ev, err_t *err)
{
	cbor_item_t *arr = NULL, *q = NULL, *cl = NULL;
	int ret = 0;

	ev->form = "dice";
	ev->root = cbor_exact(ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d));
	if (!ev->root || !cbor_isa_tag(ev->root) ||
	    cbor_tag_value(ev->root) != RATLS_CBOR_TAG_TEE_QUOTE)
		return err_set(err, EBADMSG,
			       "RA-TLS evidence: not CBOR tag %d (an Intel TEE quote)",
			       RATLS_CBOR_TAG_TEE_QUOTE);
	arr = cbor_tag_item(ev->root);
	if (arr && cbor_isa_array(arr) && cbor_array_size(arr) == 2) {
		q = cbor_array_get(arr, 0);
		cl = cbor_array_get(arr, 1);
	}
	if (!is_bstr(q) || !is_bstr(cl)) {
		ret = err_set(err, EBADMSG, "RA-TLS evidence: not [bstr quote, bstr claims]");
		goto out;
	}
	ev->quote = cbor_bytestring_handle(q);
	ev->quote_len = cbor_bytestring_length(q);
	ratls_sha256(cbor_bytestring_handle(cl), cbor_bytestring_length(cl), ev->report_data);
	ret = check_pubkey_hash(cert, cbor_bytestring_handle(cl), cbor_bytestring_length(cl), err);
out:
	/* The quote's bytes live in the tree ev->root holds. */
	if (q)
		cbor_decref(&q);
	if (cl)
		cbor_decref(&cl);
	if (arr)
		cbor_decref(&arr);
	return ret;
}

static int find_evidence(X509 *cert, struct evidence *ev, err_t *err)
{
	const ASN1_OCTET_STRING *d = ext_data(cert, RATLS_OID_DICE_EVIDENCE);
	uint8_t *der = NULL;
	int n;

	memset(ev, 0, sizeof(*ev));
	if (d)
		return dice_evidence(cert, d, ev, err);
	ev->form = "legacy-gramine";
	d = ext_data(cert, RATLS_OID_GRAMINE_QUOTE);
	if (!d) {
		ev->form = "legacy-intel";
		d = ext_data(cert, RATLS_OID_INTEL_QUOTE);
	}
	if (!d)
		return err_set(
		    err, EBADMSG, "RA-TLS certificate: no evidence (no extension %s, %s or %s)",
		    RATLS_OID_DICE_EVIDENCE, RATLS_OID_GRAMINE_QUOTE, RATLS_OID_INTEL_QUOTE);
	ev->quote = ASN1_STRING_get0_data(d);
	ev->quote_len = (size_t)ASN1_STRING_length(d);
	n = i2d_PUBKEY(X509_get0_pubkey(cert), &der);
	if (n <= 0)
		return err_set(err, EBADMSG, "RA-TLS certificate: its key does not encode");
	ratls_sha256(der, (size_t)n, ev->report_data);
	OPENSSL_free(der);
	return 0;
}

static int check_frame(X509 *cert, err_t *err)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);

	if (!key || X509_verify(cert, key) != 1) {
		ERR_clear_error();
		return err_set(
		    err, EBADMSG,
		    "RA-TLS certificate: its self-signature does not verify with its key");
	}
	if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0)
		return err_set(err, EBADMSG, "RA-TLS certificate: not valid yet");
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
		return err_set(err, EBADMSG, "RA-TLS certificate: expired");
	return 0;
}

int ratls_cert_verify(X509 *cert, const struct ratls_trust *trust,
		      const struct ratls_policy *policy, struct ratls_identity *out, err_t *err)
{
	struct ratls_identity id;
	struct evidence ev = { 0 };
	int ret;

	ret = check_frame(cert, err);
	if (!ret)
		ret = find_evidence(cert, &ev, err);
	if (!ret)
		ret = ratls_quote_verify(ev.quote, ev.quote_len, trust, NULL, &id, err);
	if (!ret) {
		id.form = ev.form;
		if (out)
			*out = id;
		if (ratls_expect(ev.form[0] == 'd'
				     ? "RA-TLS key binding: report data (SHA-256 of the claims)"
				     : "RA-TLS key binding: report data (SHA-256 of the "
				       "certificate's key)",
				 ev.report_data, id.report_data, 64, err) < 0)
			ret = -EBADMSG;
	}
	if (!ret && policy)
		ret = ratls_policy_check(policy, &id, err);
	if (ev.root)
		cbor_decref(&ev.root);
	return ret;
}

static int verify_peer(X509_STORE_CTX *ctx, void *arg)
{
	struct ratls_verifier *v = arg;
	X509 *peer = X509_STORE_CTX_get0_cert(ctx);

	err_free(&v->err);
	v->verified = 0;
	if (!peer) {
		err_set(&v->err, EBADMSG, "RA-TLS: the peer sent no certificate");
	} else if (ratls_cert_verify(peer, &v->trust, &v->policy, &v->id, &v->err) == 0) {
		v->verified = 1;
		return 1;
	}
	X509_STORE_CTX_set_error(ctx, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

void ratls_ssl_ctx_verify_peer(SSL_CTX *ctx, struct ratls_verifier *v)
{
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_peer, v);
}
