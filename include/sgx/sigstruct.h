/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGSTRUCT: build, sign (RSA-3072, e = 3, PKCS#1 v1.5 over SHA-256 of the
 * two signed ranges), verify as EINIT does, and the two-step remote-signer
 * flow (export the 256 signed bytes, assemble from a detached signature).
 */
#ifndef SGX_SIGSTRUCT_H
#define SGX_SIGSTRUCT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The bytes the signature covers: [0,128) then [900,1028). */
#define SGX_SIGSTRUCT_MATERIAL_SIZE 256

/* What the signer chooses; everything but the key and the enclave hash. */
struct sgx_sign_opts {
	uint32_t vendor; /* 0 or SGX_SIGSTRUCT_VENDOR_INTEL */
	uint32_t date;	 /* BCD 0xYYYYMMDD, or 0 */
	uint32_t swdefined;
	uint32_t miscselect;
	uint32_t miscmask;
	uint64_t attributes;
	uint64_t xfrm;
	uint64_t attributes_mask;
	uint64_t xfrm_mask;
	uint16_t isvprodid;
	uint16_t isvsvn;
};

/*
 * The defaults sgx-tools sign uses: vendor 0, date today (UTC, or
 * SOURCE_DATE_EPOCH when set, for reproducible builds), attributes
 * MODE64BIT (0x4), attributes mask ~0 (every flag, DEBUG included, must be
 * what the signer chose), xfrm 0x3 with mask 0x3 (x87+SSE required, other
 * features free), miscselect 0, miscmask ~0, isvprodid 0, isvsvn 0.
 */
void sgx_sign_opts_default(struct sgx_sign_opts *o);
/* BCD date from "YYYYMMDD" or "0"; -EINVAL if not a valid date. */
int sgx_parse_date(const char *s, uint32_t *bcd, err_t *err);
/* BCD date of a time_t (UTC). */
uint32_t sgx_bcd_date(int64_t t);

/* Fills headers, signer fields and the enclave hash; clears key and signature. */
void sgx_sigstruct_init(struct sgx_sigstruct *ss, const struct sgx_sign_opts *o,
			const uint8_t mrenclave[32]);
/* Reads the signer fields back (the inverse of sgx_sigstruct_init). */
void sgx_sigstruct_get_opts(const struct sgx_sigstruct *ss, struct sgx_sign_opts *o);

/* Copies out the 256 signed bytes. */
void sgx_sigstruct_material(const struct sgx_sigstruct *ss,
			    uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE]);
/* A SIGSTRUCT with the signed bytes from material and no key/signature yet. */
void sgx_sigstruct_from_material(struct sgx_sigstruct *ss,
				 const uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE]);

/*
 * Signs ss in place with an RSA-3072 e=3 private key in PEM (PKCS#8 or
 * PKCS#1): sets modulus, exponent, signature, q1, q2.
 */
int sgx_sigstruct_sign(struct sgx_sigstruct *ss, const void *key_pem, size_t key_len, err_t *err);
int sgx_sigstruct_sign_file(struct sgx_sigstruct *ss, const char *key_path, err_t *err);

/*
 * Remote signer: installs a detached big-endian PKCS#1 v1.5 SHA-256
 * signature (openssl dgst -sha256 -sign) made with the key whose public
 * half is pub_pem (SPKI or PKCS#1 PEM), computes q1/q2 and checks the
 * result with sgx_sigstruct_check.
 */
int sgx_sigstruct_set_signature(struct sgx_sigstruct *ss, const uint8_t *sig, size_t sig_len,
				const void *pub_pem, size_t pub_len, err_t *err);

/*
 * A signing key loaded once and used many times (a signing service): the
 * same checks as sgx_sigstruct_sign (RSA-3072, e = 3, unencrypted PEM).
 * Once loaded, a signer is read-only: any number of threads may sign with
 * it at once.
 */
struct sgx_signer;
int sgx_signer_load(struct sgx_signer **signer, const void *key_pem, size_t key_len, err_t *err);
void sgx_signer_free(struct sgx_signer *signer);
/* Its public key as SPKI PEM ("BEGIN PUBLIC KEY"), NUL-terminated; owned by the signer. */
const char *sgx_signer_public_pem(const struct sgx_signer *signer, size_t *len);
/* SHA-256 of the modulus as a SIGSTRUCT stores it (what EINIT makes MRSIGNER). */
void sgx_signer_mrsigner(const struct sgx_signer *signer, uint8_t mrsigner[32]);
/* RSA PKCS#1 v1.5 SHA-256 signature of data, big-endian (openssl dgst -sha256 -sign). */
int sgx_signer_sign(const struct sgx_signer *signer, const void *data, size_t len,
		    uint8_t sig[SGX_MODULUS_SIZE], err_t *err);
/*
 * A signer whose private key lives elsewhere (a PKCS#11 token): sign makes
 * the big-endian RSA PKCS#1 v1.5 SHA-256 signature of data, 0 or a
 * negative errno with err set; it may be called from several threads at
 * once. pub_pem is the key's public half (SPKI or PKCS#1 PEM), checked as
 * sgx_signer_load checks a key (RSA-3072, e = 3); every signature is
 * verified with it before use. ctx must outlive the signer.
 */
typedef int (*sgx_sign_fn)(void *ctx, const void *data, size_t len, uint8_t sig[SGX_MODULUS_SIZE],
			   err_t *err);
int sgx_signer_external(struct sgx_signer **signer, const void *pub_pem, size_t pub_len,
			sgx_sign_fn sign, void *ctx, err_t *err);
/* As sgx_sigstruct_sign, with a loaded signer. */
int sgx_signer_sign_sigstruct(const struct sgx_signer *signer, struct sgx_sigstruct *ss,
			      err_t *err);

/* Generates an RSA-3072 e=3 key, written as PKCS#8 PEM, mode 0600. */
int sgx_key_generate(const char *path, err_t *err);
/* Writes the public half of a private key PEM as SPKI PEM. */
int sgx_key_public_pem(const void *key_pem, size_t key_len, char **pub_pem, size_t *pub_len,
		       err_t *err);

/* Parses a SIGSTRUCT: exactly 1808 bytes. Structure only; see sgx_sigstruct_check. */
int sgx_sigstruct_parse(struct sgx_sigstruct *ss, const void *buf, size_t len, err_t *err);
int sgx_sigstruct_load(struct sgx_sigstruct *ss, const char *path, err_t *err);

/*
 * What EINIT checks of the SIGSTRUCT alone, in its order: header, header2,
 * exponent 3, reserved fields zero, then the signature: below the modulus,
 * the q1/q2 arithmetic (r1 = s^2 - q1*n and r2 = s*r1 - q2*n both in
 * [0, n)) and r2 equal to the PKCS#1 v1.5 SHA-256 encoding of the signed
 * ranges. The vendor field is signed but not checked, as on hardware.
 * 0, -EINVAL (malformed) or -EBADMSG (bad signature); err names the field.
 */
int sgx_sigstruct_check(const struct sgx_sigstruct *ss, err_t *err);

/*
 * EINIT: sgx_sigstruct_check, then ENCLAVEHASH against MRENCLAVE and the
 * masked ATTRIBUTES/XFRM/MISCSELECT against the SECS's. Returns 0 or the
 * positive EINIT error class (SGX_INVALID_SIG_STRUCT, SGX_INVALID_SIGNATURE,
 * SGX_INVALID_MEASUREMENT, SGX_INVALID_EINITTOKEN for the EINITTOKENKEY
 * attribute, SGX_INVALID_ATTRIBUTE), with err set; a negative errno only if
 * the check itself could not run (out of memory).
 */
int sgx_einit_check(const struct sgx_sigstruct *ss, const uint8_t mrenclave[32],
		    uint64_t secs_attributes, uint64_t secs_xfrm, uint32_t secs_miscselect,
		    err_t *err);

/* SHA-256 of the 384 modulus bytes as stored. */
void sgx_mrsigner(const struct sgx_sigstruct *ss, uint8_t mrsigner[32]);

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void sgx_hex(const uint8_t *in, size_t n, char *out);

#ifdef __cplusplus
}
#endif

#endif
