// SPDX-License-Identifier: Apache-2.0
/*
 * RA-TLS certificates: made (a self-signed X.509 certificate for a key,
 * its quote in an extension, the report data binding the key) and
 * verified, in two forms:
 *  - interoperable (TCG DICE, 2.23.133.5.4.9): CBOR tag 60000 over
 *    [bstr quote, bstr claims], claims = {"pubkey-hash": bstr(CBOR
 *    [hash-alg, bstr hash of the DER SubjectPublicKeyInfo])}, report data
 *    = SHA-256(claims) || 32 zero bytes;
 *  - legacy (Gramine's 0.6.9.42.840.113741.1337.6, Intel SDK's
 *    1.2.840.113741.1.13.1 when verifying): the raw quote, report data =
 *    SHA-256(DER SubjectPublicKeyInfo) || 32 zero bytes.
 * The verifier prefers the DICE evidence, else a legacy one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ratls_internal.h"

/* ---- making ---- */

/* SHA-256 of key's DER SubjectPublicKeyInfo. */
static int spki_sha256(EVP_PKEY *key, uint8_t h[32])
{
	uint8_t *der = NULL;
	int n = i2d_PUBKEY(key, &der);

	if (n <= 0)
		return -EIO;
	ratls_sha256(der, (size_t)n, h);
	OPENSSL_free(der);
	return 0;
}

/* The serialized CBOR of item (consumed); NULL item or no memory: -ENOMEM. */
static int cbor_out(cbor_item_t *item, uint8_t **out, size_t *len)
{
	size_t cap = 0;

	*out = NULL;
	*len = item ? cbor_serialize_alloc(item, out, &cap) : 0;
	if (item)
		cbor_decref(&item);
	return *len ? 0 : -ENOMEM;
}

static int array_add(cbor_item_t *a, cbor_item_t *v)
{
	int ok = a && v && cbor_array_push(a, v);

	if (v)
		cbor_decref(&v);
	return ok;
}

/* claims = {"pubkey-hash": bstr(CBOR [1, bstr SHA-256(SPKI)])} */
static int dice_claims(const uint8_t h[32], uint8_t **claims, size_t *len)
{
	cbor_item_t *entry = cbor_new_definite_array(2), *map = cbor_new_definite_map(1), *k, *v;
	uint8_t *he = NULL;
	size_t hel = 0;
	int ok;

	ok = array_add(entry, cbor_build_uint8(RATLS_IANA_HASH_SHA256)) &&
	     array_add(entry, cbor_build_bytestring(h, 32));
	if (cbor_out(ok ? entry : NULL, &he, &hel) < 0) {
		if (!ok && entry)
			cbor_decref(&entry);
		if (map)
			cbor_decref(&map);
		return -ENOMEM;
	}
	k = cbor_build_string(RATLS_CLAIM_PUBKEY_HASH);
	v = cbor_build_bytestring(he, hel);
	free(he);
	ok = map && k && v && cbor_map_add(map, (struct cbor_pair){ .key = k, .value = v });
	if (k)
		cbor_decref(&k);
	if (v)
		cbor_decref(&v);
	if (!ok && map)
		cbor_decref(&map);
	return cbor_out(ok ? map : NULL, claims, len);
}

/* 60000([bstr quote, bstr claims]) */
static int dice_evidence(const uint8_t *quote, size_t qlen, const uint8_t *claims, size_t clen,
			 uint8_t **out, size_t *len)
{
	cbor_item_t *tag = cbor_new_tag(RATLS_CBOR_TAG_TEE_QUOTE),
		    *arr = cbor_new_definite_array(2);
	int ok;

	ok = array_add(arr, cbor_build_bytestring(quote, qlen)) &&
	     array_add(arr, cbor_build_bytestring(claims, clen)) && tag;
	if (ok)
		cbor_tag_set_item(tag, arr);
	if (arr)
		cbor_decref(&arr);
	if (!ok && tag)
		cbor_decref(&tag);
	return cbor_out(ok ? tag : NULL, out, len);
}

static int add_raw_ext(X509 *c, const char *oid, const uint8_t *v, size_t n)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int ok;

	ok = obj && os && n <= INT32_MAX && ASN1_OCTET_STRING_set(os, v, (int)n) &&
	     (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return ok;
}

/* The quote over rd (first 32 bytes given, the rest zero) from src, in extension oid. */
static int add_quote_ext(X509 *c, const char *oid, const uint8_t h[32], const uint8_t *claims,
			 size_t clen, const struct ratls_quote_source *src, err_t *err)
{
	uint8_t rd[64] = { 0 }, *quote = NULL, *ev = NULL;
	size_t qlen = 0, evlen = 0;
	int ret, ok;

	memcpy(rd, h, 32);
	ret = src->quote(src->ctx, rd, &quote, &qlen, err);
	if (ret < 0)
		return ret;
	if (claims && dice_evidence(quote, qlen, claims, clen, &ev, &evlen) < 0) {
		free(quote);
		return err_set(err, ENOMEM, "RA-TLS certificate: the DICE evidence");
	}
	ok = claims ? add_raw_ext(c, oid, ev, evlen) : add_raw_ext(c, oid, quote, qlen);
	free(ev);
	free(quote);
	return ok ? 0 : err_set(err, EIO, "RA-TLS certificate: the %s extension", oid);
}

static int cert_frame(X509 *c, EVP_PKEY *key, int days)
{
	X509_NAME *name = X509_get_subject_name(c);
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	int ok;

	ok = RAND_bytes(serial, sizeof(serial)) == 1;
	serial[0] = (serial[0] & 0x7f) | 0x01;
	ok = ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) && X509_set_version(c, 2) &&
	     X509_gmtime_adj(X509_getm_notBefore(c), -3600) &&
	     X509_time_adj_ex(X509_getm_notAfter(c), days, 0, NULL) && X509_set_pubkey(c, key) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"RA-TLS enclave", -1, -1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"Inclavare Containers (rune)", -1,
					-1, 0) &&
	     X509_set_issuer_name(c, name);
	BN_free(bn);
	return ok;
}

int ratls_cert_make(EVP_PKEY *key, unsigned forms, const struct ratls_quote_source *src, int days,
		    X509 **out, err_t *err)
{
	X509 *c = X509_new();
	uint8_t h[32], ch[32], *claims = NULL;
	size_t clen = 0;
	int ret = 0;

	if (!forms || forms & ~(unsigned)(RATLS_FORM_DICE | RATLS_FORM_LEGACY) || days < 1) {
		X509_free(c);
		return err_set(err, EINVAL, "RA-TLS certificate: no form or no validity asked");
	}
	if (!c || spki_sha256(key, h) < 0 || !cert_frame(c, key, days)) {
		ret = err_set(err, EIO, "RA-TLS certificate: OpenSSL failed");
		goto out;
	}
	if (forms & RATLS_FORM_DICE) {
		if (dice_claims(h, &claims, &clen) < 0) {
			ret = err_set(err, ENOMEM, "RA-TLS certificate: the DICE claims");
			goto out;
		}
		ratls_sha256(claims, clen, ch);
		ret = add_quote_ext(c, RATLS_OID_DICE_EVIDENCE, ch, claims, clen, src, err);
	}
	if (!ret && forms & RATLS_FORM_LEGACY)
		ret = add_quote_ext(c, RATLS_OID_GRAMINE_QUOTE, h, NULL, 0, src, err);
	if (!ret &&
	    X509_sign(c, key,
		      EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <= 0)
		ret = err_set(err, EIO, "RA-TLS certificate: signing with its key failed");
out:
	free(claims);
	ERR_clear_error();
	if (ret < 0)
		X509_free(c);
	else
		*out = c;
	return ret;
}
