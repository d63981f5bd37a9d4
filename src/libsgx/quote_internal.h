/* SPDX-License-Identifier: Apache-2.0 */
/* libsgx's quote code: the emulated QE's ECDSA-P256 and SHA-256 helpers, the length check the DCAP provider uses. */
#ifndef LIBSGX_QUOTE_INTERNAL_H
#define LIBSGX_QUOTE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "common/error.h"

/*
 * The length a quote's header and signature_data_len say it has (the
 * header checked, len at least the smallest quote of its version).
 */
int sgx_quote_declared_size(const void *buf, size_t len, size_t *size, err_t *err);

/* SHA-256(a || b). */
void quote_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);
/* A P-256 key's public point as raw X||Y (big-endian), as quotes carry it. 0 or -EIO. */
int quote_pubkey_raw(EVP_PKEY *key, uint8_t out[64]);
/* ECDSA-P256 over SHA-256(data): raw r||s (big-endian). 0 or -EIO. */
int quote_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t sig[64]);

#endif
