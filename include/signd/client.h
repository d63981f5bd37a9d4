/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signature service's client (libsignd-client): sends SIGSTRUCT signing
 * material to a rune-signd (or an Inclavare signature server, through the
 * v1 API) and gives back a SIGSTRUCT it has checked: it verifies as EINIT
 * checks it and its signed fields are the material that was sent. Used by
 * `sgx-tools sign --server`, and meant for the shim's Carrier and
 * rune-image. A minimal HTTP/1.1 client over OpenSSL (TLS 1.2 and later,
 * the server's certificate checked against the CA file or the system's
 * store and against the URL's host); one request per connection. See
 * docs/signd.md.
 */
#ifndef SIGND_CLIENT_H
#define SIGND_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/sigstruct.h"

#ifdef __cplusplus
extern "C" {
#endif

struct signd_client_opts {
	/*
	 * "https://HOST[:PORT][/PREFIX]", or "http://..." (plain HTTP: with
	 * credentials, only to a loopback address). HOST: a name, an IPv4
	 * address or [IPv6].
	 */
	const char *url;
	const char *token;	 /* bearer token, or NULL */
	const char *client_cert; /* client certificate (chain), PEM file, or NULL */
	const char *client_key;	 /* its private key, PEM file */
	const char *cacert;	 /* CA(s) for the server's certificate; NULL: the system's */
	unsigned timeout;	 /* seconds for the whole request; 0: 30 */
};

/*
 * POST /api/v2/sigstruct with the 256 bytes of signing material: the
 * 1808-byte SIGSTRUCT, checked (sgx_sigstruct_check, and its signed bytes
 * equal material) into *ss. A refusal gives the server's status and reason
 * in err ("server refused (403): DEBUG enclave ...").
 */
int signd_client_sigstruct(const struct signd_client_opts *o,
			   const uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE],
			   struct sgx_sigstruct *ss, err_t *err);

/*
 * The same through Inclavare's v1 API, POST /api/v1/signature/pkcs1: the
 * detached signature and the public key, assembled into *ss and checked
 * (sgx_sigstruct_set_signature).
 */
int signd_client_sigstruct_v1(const struct signd_client_opts *o,
			      const uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE],
			      struct sgx_sigstruct *ss, err_t *err);

/*
 * One request: method and path (after the URL's prefix), an optional body;
 * the status and the response body (malloc'ed, NUL-terminated beyond
 * *resp_len; at most 1 MiB). For other endpoints and for tests.
 */
int signd_client_request(const struct signd_client_opts *o, const char *method, const char *path,
			 const void *body, size_t len, unsigned *status, char **resp,
			 size_t *resp_len, err_t *err);

/*
 * A bearer token from its file (one line, surrounding whitespace dropped):
 * *token (the caller wipes and frees it), or -errno naming the file.
 */
int signd_client_read_token(const char *path, char **token, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
