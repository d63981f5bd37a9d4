/* SPDX-License-Identifier: Apache-2.0 */
/* libsignd internals: policies, clients, files, audit. */
#ifndef SIGND_INTERNAL_H
#define SIGND_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sys/socket.h>

#include <gnutls/x509.h>
#include <jansson.h>

#include "common/error.h"
#include "sgx/sigstruct.h"
#include "signd/signd.h"

#define SIGND_NAME_MAX	64
#define SIGND_TOKEN_MAX 256

/* ---- files (util.c) ---- */

/*
 * Opens and reads a configuration file the daemon trusts: a regular file
 * of at most max bytes, owned by root or by the daemon's user, writable by
 * nobody else; secret: readable by nobody else either. The checks are made
 * on the opened file (fstat), so what is checked is what is read.
 * "what" names the file in the error ("tokens file").
 */
int signd_read_trusted(const char *what, const char *path, int secret, size_t max, char **buf,
		       size_t *len, err_t *err);
/* As signd_read_trusted, parsed as JSON (an object). */
int signd_load_json(const char *what, const char *path, size_t max, json_t **out, err_t *err);
/* A 64-bit value from a JSON integer or a "0x..." / decimal string. */
int signd_json_u64(const json_t *v, const char *what, uint64_t *out, err_t *err);
/* 1 if s is a valid client or policy name: [A-Za-z0-9._@-], 1 to 64 characters. */
int signd_valid_name(const char *s);
/* Lowercase hex <-> bytes; parse: exactly 2n hex digits. */
int signd_unhex(const char *s, uint8_t *out, size_t n);
/* RFC 3339 UTC time with milliseconds into buf (at least 32 bytes). */
void signd_now(char *buf, size_t size);
/* "YYYY-MM-DDTHH:MM:SSZ" (UTC, what the tokens file's token_expires holds) <-> time_t. */
int signd_parse_time(const char *s, time_t *out);
void signd_format_time(time_t t, char *buf, size_t size);

/* ---- configuration (config.c) ---- */

/* "ADDR:PORT" or "[IPV6]:PORT", numeric only. */
int signd_parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len, err_t *err);
int signd_is_loopback(const struct sockaddr_storage *ss);

/* ---- policies (policy.c) ---- */

struct signd_policy {
	char *name;
	int allow_debug;
	uint16_t *isvprodid; /* NULL: any */
	size_t n_isvprodid;
	uint16_t isvsvn_min, isvsvn_max;
	uint64_t attributes_allowed; /* bits an enclave may run with */
	uint64_t xfrm_allowed;
	uint8_t (*mrenclave)[32]; /* NULL: any */
	size_t n_mrenclave;
};

/* The built-in default: any enclave that cannot run in DEBUG mode. */
int signd_policy_default(struct signd_policy *p, err_t *err);
/* One policy from its JSON object; unknown keys are refused. */
int signd_policy_parse(struct signd_policy *p, const char *name, const json_t *obj, err_t *err);
void signd_policy_free(struct signd_policy *p);
/*
 * Whether the policy lets the key sign this SIGSTRUCT (its signed fields:
 * the rest is ignored). 0: allowed; -EPERM with the reason in err.
 */
int signd_policy_check(const struct signd_policy *p, const struct sgx_sigstruct *ss, err_t *err);

/* ---- clients and policies: what SIGHUP reloads (auth.c) ---- */

struct signd_client {
	char *name;
	int has_token;
	uint8_t hash[32]; /* SHA-256 of the token */
	time_t expires;	  /* the token is refused from then on; 0: never */
	char *cert_cn;	  /* the subject CN of its client certificate, or NULL */
	const struct signd_policy *policy;
};

/* An immutable snapshot, reference-counted: a request keeps the one it started with. */
struct signd_auth {
	int refs;
	struct signd_policy *policies;
	size_t n_policies;
	struct signd_client *clients;
	size_t n_clients;
	gnutls_x509_trust_list_t trust; /* client CA and CRLs; NULL: no client certificates */
};

/*
 * Builds a snapshot from the configuration file's "policies" (config_path
 * may be NULL: only the built-in default) and the tokens file.
 */
int signd_auth_load(struct signd_auth **out, const char *config_path, const char *tokens_path,
		    err_t *err);
void signd_auth_get(struct signd_auth *a);
void signd_auth_put(struct signd_auth *a);
/* The client whose token this is, or NULL. Compares every client's hash. */
const struct signd_client *signd_auth_lookup(const struct signd_auth *a, const char *token,
					     size_t len);
/* The client whose certificate has this subject CN (exact match), or NULL. */
const struct signd_client *signd_auth_lookup_cn(const struct signd_auth *a, const char *cn);

/* ---- client certificates (certs.c) ---- */

/*
 * The client CA(s) and, if crl_path, their CRLs (each signed by one of
 * those CAs and not past its next update) as one trust list.
 */
int signd_trust_load(gnutls_x509_trust_list_t *out, const char *ca_path, const char *crl_path,
		     err_t *err);
/*
 * Verifies a peer's chain (DER, leaf first) for TLS client authentication:
 * chains to a CA, in its dates, not revoked. 0 and *status (0: trusted,
 * else gnutls_certificate_status_t bits), or a GnuTLS error.
 */
int signd_trust_verify(gnutls_x509_trust_list_t tl, const gnutls_datum_t *peers, unsigned int n,
		       unsigned int *status);

/* ---- PKCS#11 keys (pkcs11.c) ---- */

struct signd_p11;
/*
 * Opens the token and finds the private key a "pkcs11:" URI names; the PIN
 * from pin_file, else from the URI's pin-source (pin-value is refused).
 */
int signd_p11_open(struct signd_p11 **p, const char *uri, const char *pin_file, err_t *err);
void signd_p11_close(struct signd_p11 *p);
/* The key's public half, SPKI PEM (owned by p). */
const char *signd_p11_public_pem(const struct signd_p11 *p, size_t *len);
/* The token's label. */
const char *signd_p11_token(const struct signd_p11 *p);
/* An sgx_sign_fn over the token (ctx: the signd_p11): C_Sign, CKM_RSA_PKCS, SHA-256. */
int signd_p11_sign(void *ctx, const void *data, size_t len, uint8_t sig[SGX_MODULUS_SIZE],
		   err_t *err);

/* ---- audit log (audit.c) ---- */

struct signd_audit;
int signd_audit_open(struct signd_audit **a, const char *path, err_t *err);
/* Reopens the same path (log rotation); keeps the old file on failure. */
int signd_audit_reopen(struct signd_audit *a, err_t *err);
void signd_audit_close(struct signd_audit *a);
/* Writes one JSON line (the object, with "time" added first). -errno on failure. */
int signd_audit_write(struct signd_audit *a, json_t *record);

#endif
