/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the attestation tests that play an enclave on the emulator: the MAC
 * an EREPORT for TARGETINFO ti would put on report r (its body and key id
 * set by the caller), with the emulator's report key for ti.
 */
#ifndef RATLS_TEST_EMU_REPORT_H
#define RATLS_TEST_EMU_REPORT_H

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/error.h"
#include "sgx/loader.h"

static inline int emu_report_mac(struct sgx_report *r, const struct sgx_targetinfo *ti, err_t *err)
{
	EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
			    OSSL_PARAM_construct_end() };
	uint8_t key[16];
	size_t n = 0;
	int ret = sgx_emu_report_key(ti, r->keyid, key, err);

	if (!ret && (!ctx || !EVP_MAC_init(ctx, key, 16, p) ||
		     !EVP_MAC_update(ctx, (const uint8_t *)&r->body, sizeof(r->body)) ||
		     !EVP_MAC_final(ctx, r->mac, &n, sizeof(r->mac))))
		ret = err_set(err, EIO, "CMAC of the REPORT: OpenSSL failed");
	memset(key, 0, sizeof(key));
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return ret;
}

#endif
