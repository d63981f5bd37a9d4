/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsignd: the enclave signature service (rune-signd) as a library. The
 * daemon is a thin main over it: load a configuration (a JSON file and/or
 * flags), start the server, wait for signals, stop. See docs/signd.md.
 */
#ifndef SIGND_SIGND_H
#define SIGND_SIGND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of the limits (docs/signd.md). */
#define SIGND_DEFAULT_MAX_BODY	      (64 * 1024)
#define SIGND_DEFAULT_TIMEOUT	      30
#define SIGND_DEFAULT_MAX_CONNECTIONS 256
#define SIGND_DEFAULT_PER_IP	      64
#define SIGND_DEFAULT_GRACE	      10

/*
 * Everything but the policies and the clients, which the server reads from
 * the files these name (and reads again on signd_server_reload). Strings
 * are malloc'ed; NULL when not set.
 */
struct signd_config {
	char *config_path; /* the JSON file, or NULL: flags only */
	char *listen;	   /* "ADDR:PORT", numeric address; port 0 picks a free one */
	char *tls_cert, *tls_key;
	char *client_ca; /* PEM CA(s) whose client certificates authenticate (mTLS) */
	char *
	    client_crl; /* PEM CRL(s) of those CAs: revoked client certificates (reread on SIGHUP) */
	int insecure_http; /* plain HTTP: only with a loopback address */
	char *key_path;	   /* the signing key, PEM */
	char *pkcs11_uri;  /* or a key on a PKCS#11 token: "pkcs11:token=...;object=..." */
	char *pin_file;	   /* the token's PIN (else the URI's pin-source) */
	char *tokens_path;
	char *audit_path; /* "-": standard error */
	int api_v1;	  /* the Inclavare-compatible v1 signing endpoint (default on) */
	size_t max_body;
	unsigned timeout; /* seconds a connection may stay idle */
	unsigned threads; /* 0: one per CPU */
	unsigned max_connections;
	unsigned per_ip;	 /* connections from one address; 0: no limit */
	unsigned shutdown_grace; /* seconds in-flight requests get on SIGTERM */
};

void signd_config_init(struct signd_config *c);
void signd_config_free(struct signd_config *c);
/*
 * Reads the JSON configuration file (it must be a regular file owned by
 * root or by us, writable by nobody else) into c: every key present
 * overrides c's value. Unknown keys are refused (a typo in a security
 * setting must not pass silently). The policies are read by the server.
 */
int signd_config_load(struct signd_config *c, const char *path, err_t *err);
/* The checks that need no file: listen address, TLS or loopback, required paths. */
int signd_config_check(const struct signd_config *c, err_t *err);

struct signd_server;
/*
 * Loads the key, the clients and the policies, opens the audit log and
 * starts listening (its own threads). c must outlive the server.
 */
int signd_server_start(struct signd_server **s, const struct signd_config *c, err_t *err);
/* The bound port, and a URL to print ("https://127.0.0.1:8443"). */
unsigned signd_server_port(const struct signd_server *s);
const char *signd_server_url(const struct signd_server *s);
/* How many clients the tokens file names. */
size_t signd_server_clients(const struct signd_server *s);
/*
 * SIGHUP: reads the tokens file and the configuration's policies again and
 * reopens the audit log. On error the server keeps what it had.
 */
int signd_server_reload(struct signd_server *s, err_t *err);
/*
 * SIGTERM: stops accepting connections, lets the requests in flight finish
 * (at most shutdown_grace seconds), then stops and frees everything.
 */
void signd_server_stop(struct signd_server *s);

/*
 * gen-token: adds client name (with policy, NULL: "default") to the tokens
 * file, creating it (mode 0600) if missing; the new token, a malloc'ed
 * string, goes to *token. Only its SHA-256 is stored, with the time the
 * token expires (0: never).
 */
int signd_gen_token(const char *tokens_path, const char *name, const char *policy, time_t expires,
		    char **token, err_t *err);
/*
 * gen-token --expires: "30d", "12h", "45m", "90s" from now, or a date
 * "YYYY-MM-DD" / time "YYYY-MM-DDTHH:MM:SSZ" (UTC), into *out. It must lie
 * in the future.
 */
int signd_parse_expiry(const char *s, time_t now, time_t *out, err_t *err);
/*
 * add-client: client name authenticates with a client certificate whose
 * subject CN is cn (policy: NULL, "default"); an existing token client of
 * that name gets the certificate too. No two clients share a CN.
 */
int signd_add_cert_client(const char *tokens_path, const char *name, const char *cn,
			  const char *policy, err_t *err);
/* revoke-token: removes client name (token and certificate) from the tokens file. */
int signd_revoke_token(const char *tokens_path, const char *name, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
