// SPDX-License-Identifier: Apache-2.0
/*
 * The emulated QE's SHA-256 and ECDSA-P256 helpers: raw X||Y keys and raw
 * r||s signatures, as quotes carry them. (The verifier is libratls's.)
 */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>

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
