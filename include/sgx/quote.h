/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SGX DCAP quotes (versions 3, 4 and 5 of an SGX enclave, ECDSA-P256), as
 * Intel's quoting enclave (QE3) makes them: the layout, a bounds-checked
 * parser and serialiser, quote providers (the emulated QE, and Intel's
 * DCAP quote library on hardware). The verifier is libratls's
 * (include/ratls/ratls.h). See docs/attestation.md.
 *
 * Version 3 (sgx_quote_3.h, packed, little-endian integers):
 *   header (48)            version 3, att_key_type 2 (ECDSA-P256), QE SVN,
 *                          PCE SVN, QE vendor id, user data (QE_ID)
 *   report body (384)      the attested enclave's
 *   u32 signature_data_len
 *   signature data:        signature (64: r||s, big-endian) over the bytes
 *                          before signature_data_len
 *                          attestation public key (64: X||Y, big-endian)
 *                          QE report body (384)
 *                          QE report signature (64, by the PCK key)
 *                          u16 auth data size, auth data
 *                          u16 certification data type (5: PEM PCK chain),
 *                          u32 size, certification data
 * Version 4 (sgx_quote_4.h): the header's u32 at 4 is the TEE type (0 SGX,
 *   0x81 TDX: refused), then the same body; after the attestation key the
 *   signature data is certification data of type 6 (u16 6, u32 size),
 *   which holds the QE report, its signature, the auth data and the type-5
 *   chain as above.
 * Version 5 (sgx_quote_5.h): as version 4, with a body descriptor (u16
 *   type: 1 an SGX report; u32 size: 384) between header and body.
 * struct sgx_quote holds every version: the serialiser writes the layout
 * header.version names.
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
#define SGX_QUOTE_VERSION_4	  4
#define SGX_QUOTE_VERSION_5	  5
#define SGX_QUOTE_TEE_SGX	  0 /* v4, v5: the header's TEE type */
#define SGX_QUOTE_BODY_SGX	  1 /* v5: the body descriptor's type */
#define SGX_QL_ALG_ECDSA_P256	  2
#define SGX_QL_CERT_PCK_CHAIN	  5
#define SGX_QL_CERT_QE_REPORT	  6    /* v4, v5: QE report certification data */
#define SGX_QUOTE_SIGNED_SIZE	  432  /* v3 header + report body: what the attestation key signs */
#define SGX_QUOTE_SIG_DATA_OFFSET 436  /* v3, v4: after signature_data_len */
#define SGX_QUOTE_SIG_FIXED_SIZE  576  /* signature, key, QE report, its signature */
#define SGX_QUOTE_MIN_SIZE	  1020 /* v3 with empty auth and certification data */
#define SGX_QUOTE_MAX_SIZE	  (1 << 20)

/* What the attestation key signs: every byte before signature_data_len. */
static inline size_t sgx_quote_signed_size(uint16_t version)
{
	return version == SGX_QUOTE_VERSION_5 ? SGX_QUOTE_SIGNED_SIZE + 6 : SGX_QUOTE_SIGNED_SIZE;
}

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
 * Parses a v3, v4 or v5 ECDSA-P256 SGX quote of exactly len bytes: every
 * length is checked against what remains, nothing may follow the
 * signature data. For v4/v5, cert_* are the type-5 data inside the type-6
 * wrapper. 0, or -EINVAL/-EBADMSG/-ENOTSUP with err naming the field.
 */
int sgx_quote_parse(struct sgx_quote *q, const void *buf, size_t len, err_t *err);
/* The bytes of q (signature_data_len computed). The caller frees *buf. */
int sgx_quote_serialize(const struct sgx_quote *q, uint8_t **buf, size_t *len, err_t *err);

/*
 * Quote providers: where a REPORT becomes a quote. The caller asks the
 * provider for its QE's TARGETINFO, has the enclave EREPORT for it, and
 * hands the REPORT over. The emulator's provider is built in; on SGX
 * hardware "dcap" loads Intel's DCAP quote library at run time
 * (sgx_qe_get_target_info, sgx_qe_get_quote_size, sgx_qe_get_quote) and
 * checks what it returns; without the library it refuses, naming it.
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
 * Loads the DCAP provider's library now: path, or SGX_DCAP_QL_LIBRARY
 * (found the way dlopen finds it) when NULL. Its first use loads the
 * default otherwise; call this before a pivot_root hides the host's
 * libraries. Another path replaces the loaded library (the tests' fake).
 */
#define SGX_DCAP_QL_LIBRARY "libsgx_dcap_ql.so.1"
int sgx_dcap_ql_load(const char *path, err_t *err);

/*
 * The emulated QE. Its keys and certificates (a per-host "emulator root
 * CA", a PCK platform CA, a PCK certificate and key, the attestation key)
 * are created once, 0600, in SGX_EMU_QUOTE_KEYS_FILE beside the
 * emulator's machine secret (sgx_emu_set_secret_path(), $SGX_EMU_SECRET or
 * the default: the same directory, created the same way).
 */
#define SGX_EMU_QUOTE_KEYS_FILE "sgx-emu-quote-keys.pem"
/* Which quote version it makes: $SGX_EMU_QUOTE_VERSION (3, the default, 4 or 5). */
#define SGX_EMU_QUOTE_VERSION_ENV "SGX_EMU_QUOTE_VERSION"
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
