/* SPDX-License-Identifier: Apache-2.0 */
/* libsgx's quote code: the ECDSA-P256 and SHA-256 helpers the QE and the verifier share. */
#ifndef LIBSGX_QUOTE_INTERNAL_H
#define LIBSGX_QUOTE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* SHA-256(a || b). */
void quote_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);
/* A P-256 key's public point as raw X||Y (big-endian), as quotes carry it. 0 or -EIO. */
int quote_pubkey_raw(EVP_PKEY *key, uint8_t out[64]);
/* The P-256 public key of raw X||Y, or NULL (not a point on the curve). */
EVP_PKEY *quote_pubkey_from_raw(const uint8_t raw[64]);
/* ECDSA-P256 over SHA-256(data): raw r||s (big-endian). 0 or -EIO. */
int quote_sign(EVP_PKEY *key, const void *data, size_t len, uint8_t sig[64]);
/* 1 if sig (raw r||s) verifies over SHA-256(data) with key, else 0. */
int quote_verify_sig(EVP_PKEY *key, const void *data, size_t len, const uint8_t sig[64]);

#endif
