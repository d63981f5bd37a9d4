/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SGX DCAP quotes (version 3, ECDSA-P256), as Intel's quoting enclave
 * (QE3) makes them: the layout, a bounds-checked parser and serialiser,
 * quote providers (the emulated QE today; Intel's DCAP quote library on
 * hardware is a later provider behind the same seam). The verifier is
 * libratls's (include/ratls/ratls.h). See docs/attestation.md.
 *
 * Layout (sgx_quote_3.h, packed, little-endian integers):
 *   header (48)            version 3, att_key_type 2 (ECDSA-P256), QE SVN,
 *                          PCE SVN, QE vendor id, user data (QE_ID)
 *   report body (384)      the attested enclave's
 *   u32 signature_data_len
 *   signature data:        signature (64: r||s, big-endian) over bytes [0, 432)
 *                          attestation public key (64: X||Y, big-endian)
 *                          QE report body (384)
 *                          QE report signature (64, by the PCK key)
 *                          u16 auth data size, auth data
 *                          u16 certification data type (5: PEM PCK chain),
 *                          u32 size, certification data
 */
#ifndef SGX_QUOTE_H
#define SGX_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SGX_QUOTE_VERSION_3	  3
#define SGX_QL_ALG_ECDSA_P256	  2
#define SGX_QL_CERT_PCK_CHAIN	  5
#define SGX_QUOTE_SIGNED_SIZE	  432  /* header + report body: what the attestation key signs */
#define SGX_QUOTE_SIG_DATA_OFFSET 436  /* after signature_data_len */
#define SGX_QUOTE_SIG_FIXED_SIZE  576  /* signature, key, QE report, its signature */
#define SGX_QUOTE_MIN_SIZE	  1020 /* empty auth and certification data */
#define SGX_QUOTE_MAX_SIZE	  (1 << 20)

/* Intel's QE vendor id (the emulated QE uses it too). */
#define SGX_QE_VENDOR_ID "\x93\x9a\x72\x33\xf7\x9c\x4c\xa9\x94\x0a\x0d\xb3\x95\x7f\x06\x07"

struct sgx_quote_header {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t att_key_data_0;
	uint16_t qe_svn;
	uint16_t pce_svn;
	uint8_t vendor_id[16];
	uint8_t user_data[20];
} __attribute__((packed));

_Static_assert(sizeof(struct sgx_quote_header) == 48, "quote header size");

/*
 * A parsed quote. auth_data and cert_data point into the buffer parsed
 * (or given to the serialiser): they live as long as it does.
 */
struct sgx_quote {
	struct sgx_quote_header header;
	struct sgx_report_body report_body;
	uint32_t signature_data_len;
	uint8_t signature[64];	/* r||s */
	uint8_t attest_key[64]; /* X||Y */
	struct sgx_report_body qe_report;
	uint8_t qe_report_signature[64];
	uint16_t auth_data_size;
	const uint8_t *auth_data;
	uint16_t cert_type;
	uint32_t cert_size;
	const uint8_t *cert_data;
};

/*
 * Parses a v3 ECDSA-P256 quote of exactly len bytes: every length is
 * checked against what remains, nothing may follow the signature data.
 * 0, or -EINVAL/-EBADMSG/-ENOTSUP with err naming the field.
 */
int sgx_quote_parse(struct sgx_quote *q, const void *buf, size_t len, err_t *err);
/* The bytes of q (signature_data_len computed). The caller frees *buf. */
int sgx_quote_serialize(const struct sgx_quote *q, uint8_t **buf, size_t *len, err_t *err);

/*
 * Quote providers: where a REPORT becomes a quote. The caller asks the
 * provider for its QE's TARGETINFO, has the enclave EREPORT for it, and
 * hands the REPORT over. The emulator's provider is built in; on SGX
 * hardware the provider will load Intel's DCAP quote library at run time
 * (sgx_qe_get_target_info, sgx_qe_get_quote_size, sgx_qe_get_quote): not
 * there yet, so it refuses with -ENOTSUP.
 */
struct sgx_quote_provider {
	const char *name; /* "emulator", "dcap" */
	int (*target_info)(struct sgx_targetinfo *qe, err_t *err);
	int (*quote)(const struct sgx_report *report, uint8_t **quote, size_t *len, err_t *err);
};

/*
 * The provider for the host: "emulator" when the loader would pick the
 * emulator ($SGX_LOADER_BACKEND, else no /dev/sgx_enclave), else "dcap".
 */
const struct sgx_quote_provider *sgx_quote_provider_default(void);
extern const struct sgx_quote_provider sgx_quote_provider_emulator;
extern const struct sgx_quote_provider sgx_quote_provider_dcap;

/*
 * The emulated QE. Its keys and certificates (a per-host "emulator root
 * CA", a PCK platform CA, a PCK certificate and key, the attestation key)
 * are created once, 0600, in SGX_EMU_QUOTE_KEYS_FILE beside the
 * emulator's machine secret (sgx_emu_set_secret_path(), $SGX_EMU_SECRET or
 * the default: the same directory, created the same way).
 */
#define SGX_EMU_QUOTE_KEYS_FILE "sgx-emu-quote-keys.pem"
void sgx_qe_emu_targetinfo(struct sgx_targetinfo *ti);
int sgx_qe_emu_quote(const struct sgx_report *report, uint8_t **quote, size_t *len, err_t *err);
/*
 * Reads the emulated QE's keys now, if they exist, for quotes made later
 * where the file cannot be reached (the LibOS PAL, after pivot_root).
 */
int sgx_qe_emu_preload(err_t *err);
/* The emulator root CA's certificate, PEM (NUL-terminated; the caller frees). */
int sgx_emu_root_ca_pem(char **pem, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
