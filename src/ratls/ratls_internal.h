/* SPDX-License-Identifier: Apache-2.0 */
/* libratls's internals: crypto helpers, the PCK extensions, collateral checks, policy. */
#ifndef RATLS_INTERNAL_H
#define RATLS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ratls/ratls.h"

void ratls_sha256(const void *data, size_t len, uint8_t out[32]);
/* The P-256 public key of raw X||Y (big-endian), or NULL (not a point on the curve). */
EVP_PKEY *ratls_pubkey_from_raw(const uint8_t raw[64]);
/* 1 if sig (raw r||s, big-endian) verifies over SHA-256(data) with key, else 0. */
int ratls_verify_raw_sig(EVP_PKEY *key, const void *data, size_t len, const uint8_t sig[64]);
/* n bytes as lowercase hex into out (2n + 1 bytes). */
void ratls_hex(const uint8_t *p, size_t n, char *out);
/* "what: expected W, found G" (-EPERM) unless the n bytes are equal. */
int ratls_expect(const char *what, const uint8_t *want, const uint8_t *got, size_t n, err_t *err);
/* The certificates of a PEM buffer, in order (NULL: out of memory). */
STACK_OF(X509) * ratls_read_pem_chain(const void *pem, size_t len);
/* x's subject, one line, in buf. */
char *ratls_subject(X509 *x, char *buf, int len);

/* The PCK certificate's SGX extensions (OID 1.2.840.113741.1.13.1) a TCB check needs. */
struct ratls_pck_info {
	uint8_t fmspc[6], pceid[2], comp_svn[16];
	uint16_t pcesvn;
};
int ratls_pck_info(X509 *pck, struct ratls_pck_info *info, err_t *err);

/* The collateral's CRLs (for the PCK chain's verification); NULL without collateral. */
STACK_OF(X509_CRL) * ratls_collateral_crls(const struct ratls_collateral *c);
/*
 * The TCB status of the quote's platform and QE from collateral c, whose
 * signing chain must verify to root: the TCB info and QE identity signed,
 * current, for the PCK certificate's FMSPC and PCE-ID, the QE's identity.
 */
int ratls_collateral_check(const struct ratls_collateral *c, X509 *root, X509 *pck,
			   const struct sgx_quote *q, enum ratls_tcb_status *status, err_t *err);

/* The policy's checks on a verified identity: -EPERM naming the first that fails. */
int ratls_policy_check(const struct ratls_policy *p, const struct ratls_identity *id, err_t *err);

#endif
