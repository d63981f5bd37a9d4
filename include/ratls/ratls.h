/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libratls: remote attestation for TLS. The DCAP quote verifier (the PCK
 * chain to the pinned Intel SGX Root CA or a root the caller trusts, the
 * QE's and the quote's signatures, the TCB status and QE identity from
 * Intel PCS collateral read from disk, then a policy) and RA-TLS
 * certificates: self-signed X.509 certificates whose extensions carry a
 * quote binding the certificate's key, in the interoperable TCG DICE form
 * and the Intel/Gramine legacy form, made and verified (also inside an
 * OpenSSL handshake). Every refusal is one line naming the check that
 * failed: "<check>: <why>" (values compared: "expected X, found Y").
 * See docs/attestation.md.
 */
#ifndef RATLS_RATLS_H
#define RATLS_RATLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "sgx/quote.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SHA-256 of the DER of the Intel SGX Root CA certificate: the built-in trust. */
#define RATLS_INTEL_ROOT_CA_SHA256                                                                 \
	"44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

/* RA-TLS certificate extensions (docs/attestation.md). */
#define RATLS_OID_DICE_EVIDENCE	 "2.23.133.5.4.9"	      /* TCG DICE tagged evidence */
#define RATLS_OID_GRAMINE_QUOTE	 "0.6.9.42.840.113741.1337.6" /* Gramine's legacy quote */
#define RATLS_OID_INTEL_QUOTE	 "1.2.840.113741.1.13.1"      /* Intel SDK's legacy quote */
#define RATLS_CBOR_TAG_TEE_QUOTE 60000
#define RATLS_CLAIM_PUBKEY_HASH	 "pubkey-hash"
#define RATLS_IANA_HASH_SHA256	 1

enum ratls_tcb_status {
	RATLS_TCB_NOT_CHECKED = 0,
	RATLS_TCB_UP_TO_DATE,
	RATLS_TCB_SW_HARDENING_NEEDED,
	RATLS_TCB_CONFIGURATION_NEEDED,
	RATLS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	RATLS_TCB_OUT_OF_DATE,
	RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	RATLS_TCB_REVOKED,
	RATLS_TCB_STATUS_COUNT
};

/* Intel's names ("UpToDate", ...; "not checked"); -1 from the parser for another name. */
const char *ratls_tcb_status_name(enum ratls_tcb_status s);
int ratls_tcb_status_parse(const char *name);

/*
 * Collateral as Intel's PCS serves it, saved in a directory (names in
 * docs/attestation.md): TCB info and QE identity JSON (their signatures
 * over the bytes served), the TCB signing chain, the PCK and root CA CRLs.
 */
struct ratls_collateral;
int ratls_collateral_load(const char *dir, struct ratls_collateral **c, err_t *err);
void ratls_collateral_free(struct ratls_collateral *c);

/*
 * What a verified quote must also show. A policy file is JSON:
 * {"mrenclave": HEX, "mrsigner": HEX, "isvprodid": N, "min_isvsvn": N,
 *  "allow_debug": false, "report_data": HEX, "tcb_status": ["UpToDate", ...]}
 * (mrenclave and/or mrsigner required; unknown keys refused).
 */
struct ratls_policy {
	int have_mrenclave, have_mrsigner, have_isvprodid, have_min_isvsvn, have_report_data;
	uint8_t mrenclave[32], mrsigner[32], report_data[64];
	size_t report_data_len; /* compared over these bytes, the rest must be zero */
	uint16_t isvprodid, min_isvsvn;
	int allow_debug;
	unsigned tcb_statuses; /* 1 << status of each accepted; 0: any but Revoked */
};

/* The policy of ratls-verify without --policy: authentic, not DEBUG. */
void ratls_policy_default(struct ratls_policy *p);
int ratls_policy_load(const char *path, struct ratls_policy *p, err_t *err);

/* Whom to trust: root_pem NULL trusts the Intel SGX Root CA (pinned) only. */
struct ratls_trust {
	const char *root_pem;
	size_t root_pem_len;
	const struct ratls_collateral *collateral; /* NULL: TCB status not checked */
};

/* What a verified quote says. */
struct ratls_identity {
	uint8_t mrenclave[32], mrsigner[32], report_data[64];
	uint16_t isvprodid, isvsvn;
	uint64_t attributes;
	int debug;
	enum ratls_tcb_status tcb_status;
	char root[256];	  /* the root CA's subject */
	const char *form; /* certificates: "dice", "legacy-gramine", "legacy-intel" */
};

/*
 * Verifies a quote: parse, PCK chain to the root, QE report signature,
 * attestation key binding, quote signature; with collateral the TCB status
 * and QE identity (Revoked is always refused); then policy (NULL: none).
 * 0, or -EBADMSG (not authentic), -EPERM (a policy refusal), -EINVAL,
 * -ENOTSUP; err names the check. id (optional) is filled once authentic.
 */
int ratls_quote_verify(const void *quote, size_t len, const struct ratls_trust *trust,
		       const struct ratls_policy *policy, struct ratls_identity *id, err_t *err);

/* ---- RA-TLS certificates ---- */

enum { RATLS_FORM_DICE = 1, RATLS_FORM_LEGACY = 2 };

/* Where the quote comes from: the calling enclave's quote over report_data. */
struct ratls_quote_source {
	int (*quote)(void *ctx, const uint8_t report_data[64], uint8_t **quote, size_t *len,
		     err_t *err);
	void *ctx;
};

/*
 * Inside the LibOS (Gramine's interface): report data written to
 * DIR/user_report_data, the quote read from DIR/quote. ctx: the directory
 * (a const char *), NULL for /dev/attestation.
 */
int ratls_quote_from_attestation_dir(void *ctx, const uint8_t report_data[64], uint8_t **quote,
				     size_t *len, err_t *err);

/*
 * On the host: a quote provider (sgx_quote_provider_default(): Intel's
 * DCAP library or the emulated QE) over the REPORT the enclave makes for
 * its QE. ctx: a struct ratls_host_source.
 */
struct ratls_host_source {
	const struct sgx_quote_provider *provider;
	int (*report)(void *ctx, const struct sgx_targetinfo *qe, const uint8_t report_data[64],
		      struct sgx_report *report, err_t *err);
	void *report_ctx;
};
int ratls_quote_from_provider(void *ctx, const uint8_t report_data[64], uint8_t **quote,
			      size_t *len, err_t *err);

/*
 * A self-signed certificate for key with the quote (forms: RATLS_FORM_DICE
 * and/or RATLS_FORM_LEGACY, each with its own quote and report data),
 * valid from an hour ago for days.
 */
int ratls_cert_make(EVP_PKEY *key, unsigned forms, const struct ratls_quote_source *src, int days,
		    X509 **cert, err_t *err);

/*
 * Verifies an RA-TLS certificate: its self-signature and validity, the
 * evidence (the DICE extension when present, else a legacy one), the key
 * binding (report data), then the quote as ratls_quote_verify does.
 */
int ratls_cert_verify(X509 *cert, const struct ratls_trust *trust,
		      const struct ratls_policy *policy, struct ratls_identity *id, err_t *err);

/*
 * A TLS client or server that accepts only peers with an RA-TLS
 * certificate passing v's trust and policy; after the handshake v->id is
 * the peer's identity, or v->err says why it was refused. v lives as long
 * as the SSL_CTX is used.
 */
struct ratls_verifier {
	struct ratls_trust trust;
	struct ratls_policy policy;
	struct ratls_identity id;
	err_t err;
	int verified;
};
void ratls_ssl_ctx_verify_peer(SSL_CTX *ctx, struct ratls_verifier *v);

/* ---- output shared by the front ends ---- */

/*
 * The verdict and identity: "verdict: ok (...)", then one "name: value"
 * line each (mrenclave, mrsigner, isvprodid, isvsvn, debug, report_data,
 * tcb status, root, form), or one JSON object with the same names.
 */
void ratls_identity_print(FILE *f, const struct ratls_identity *id, int json);
/*
 * A refusal as one JSON object: {"verdict": "refused", "check": ...,
 * "reason": ...} plus "expected" and "found" when the message has them.
 */
void ratls_refusal_print_json(FILE *f, const char *msg);

#ifdef __cplusplus
}
#endif

#endif
