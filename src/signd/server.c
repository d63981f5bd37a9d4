/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune-signd's HTTP(S) server on libmicrohttpd (GnuTLS inside it for TLS):
 * routing, authentication (before anything else), body limits, the two
 * signing endpoints and the audit line of every request.
 *
 * A request's life: MHD calls the handler once with the headers (we route,
 * authenticate and may answer at once: 401, 404, 405, 413 on a declared
 * length), then with each piece of the body, then once more when it is all
 * there (we answer). MHD only lets a response be queued at the first or the
 * last call; a chunked body that outgrows the limit closes the connection.
 * The completed callback frees the request (and audits one that never got
 * an answer: timeout, client gone).
 */
#include "signd/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/cleanup.h"

#define KEY_MAX (1 << 20)
/* TLS 1.2 and 1.3 only, GnuTLS's usual choice of ciphers within them. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

#define PATH_PING	  "/ping"
#define PATH_HEALTHZ	  "/healthz"
#define PATH_ROOT	  "/"
#define PATH_V1_SIGN	  "/api/v1/signature/pkcs1"
#define PATH_V1_PUBKEY	  "/api/v1/signature/public-key"
#define PATH_V2_SIGSTRUCT "/api/v2/sigstruct"

struct signd_server {
	const struct signd_config *cfg;
	struct MHD_Daemon *mhd;
	struct sgx_signer *signer;
	struct signd_p11 *p11; /* the token behind the signer, if any */
	char mrsigner[65];
	struct signd_audit *audit;
	pthread_mutex_t auth_lock;
	struct signd_auth *auth;
	char *tls_cert, *tls_key, *client_ca;
	unsigned port;
	char url[80];
	int stopping;
	int started;	     /* until then MHD's messages are kept for the start error */
	char start_msg[256]; /* MHD's last message while starting */
	pthread_mutex_t idle_lock;
	pthread_cond_t idle;
	unsigned inflight;
};

enum endpoint {
	EP_UNKNOWN,
	EP_PING,
	EP_HEALTHZ,
	EP_ROOT,
	EP_V1_SIGN,
	EP_V1_PUBKEY,
	EP_V2_SIGSTRUCT,
};

static const struct route {
	const char *path;
	enum endpoint ep;
	const char *method; /* GET also answers HEAD */
	int open;	    /* no credentials needed: health checks */
} routes[] = {
	{ PATH_PING, EP_PING, "GET", 1 },
	{ PATH_HEALTHZ, EP_HEALTHZ, "GET", 1 },
	{ PATH_ROOT, EP_ROOT, "GET", 1 },
	{ PATH_V1_SIGN, EP_V1_SIGN, "POST", 0 },
	{ PATH_V1_PUBKEY, EP_V1_PUBKEY, "GET", 0 },
	{ PATH_V2_SIGSTRUCT, EP_V2_SIGSTRUCT, "POST", 0 },
};

struct request {
	struct signd_server *srv;
	const struct route *route;
	char method[16];
	char path[160];
	char remote[INET6_ADDRSTRLEN];
	struct signd_auth *auth;
	const struct signd_client *client;
	const char *auth_method; /* "token", "certificate" */
	char cert_cn[260];	 /* the verified client certificate's subject CN */
	char *body;
	size_t len, cap;
	int responded;
	json_t *audit; /* what the request showed: MRENCLAVE, attributes... */
};

/* A connection's: how many requests it started (MHD's socket context). */
struct conn_state {
	unsigned requests;
	struct timespec opened;
	char remote[INET6_ADDRSTRLEN];
};

/* ---- helpers ---- */

/* Printable ASCII only: a path goes into a JSON line and a terminal. */
static void sanitize(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < size; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f && src[i] != '"' && src[i] != '\\')
			     ? src[i]
			     : '?';
	dst[i] = '\0';
}

static void remote_address(struct MHD_Connection *conn, char *buf, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(buf, size, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
			  (socklen_t)size);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)size);
}

static void audit_set(struct request *r, const char *key, json_t *v)
{
	if (r->audit == NULL)
		r->audit = json_object();
	if (r->audit && v)
		json_object_set_new(r->audit, key, v);
	else
		json_decref(v);
}

static json_t *hex64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

/* What the audit line records of a SIGSTRUCT's signed fields. */
static void audit_material(struct request *r, const struct sgx_sigstruct *ss)
{
	char hex[65];

	sgx_hex(ss->body.enclavehash, 32, hex);
	audit_set(r, "mrenclave", json_string(hex));
	audit_set(r, "attributes", hex64(ss->body.attributes));
	audit_set(r, "attributes_mask", hex64(ss->body.attributes_mask));
	audit_set(r, "xfrm", hex64(ss->body.xfrm));
	audit_set(r, "xfrm_mask", hex64(ss->body.xfrm_mask));
	audit_set(r, "isvprodid", json_integer(ss->body.isvprodid));
	audit_set(r, "isvsvn", json_integer(ss->body.isvsvn));
}

/* One audit line: who, what, the answer and why. 0 or -errno. */
static int audit(struct request *r, unsigned status, const char *decision, const char *reason)
{
	json_t *rec;
	int ret;

	rec = json_pack("{s:o, s:s, s:s, s:s, s:o, s:s, s:o}", "client",
			r->client ? json_string(r->client->name) : json_null(), "remote", r->remote,
			"method", r->method, "endpoint", r->path, "status",
			status ? json_integer(status) : json_null(), "decision", decision, "reason",
			reason ? json_string(reason) : json_null());
	if (rec == NULL)
		return -ENOMEM;
	if (r->auth_method)
		json_object_set_new(rec, "auth", json_string(r->auth_method));
	if (r->cert_cn[0])
		json_object_set_new(rec, "cert_cn", json_string(r->cert_cn));
	if (r->body)
		json_object_set_new(rec, "bytes", json_integer((json_int_t)r->len));
	if (r->audit)
		json_object_update(rec, r->audit);
	ret = signd_audit_write(r->srv->audit, rec);
	json_decref(rec);
	if (ret < 0)
		fprintf(stderr, "rune-signd: audit log: %s\n", strerror(-ret));
	return ret;
}

static enum MHD_Result send_response(struct request *r, struct MHD_Connection *conn,
				     unsigned status, const char *ctype, const void *body,
				     size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	r->responded = 1;
	resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"rune-signd\"");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED && r->route)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
					strcmp(r->route->method, "GET") == 0 ? "GET, HEAD"
									     : r->route->method);
	if (__atomic_load_n(&r->srv->stopping, __ATOMIC_RELAXED))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * An answer with no signature in it: audited (a failure to audit is only
 * reported), then sent. Errors are {"error": short, "reason": why}.
 */
static enum MHD_Result answer(struct request *r, struct MHD_Connection *conn, unsigned status,
			      const char *decision, const char *reason)
{
	_cleanup_free_ char *body = NULL;
	json_t *j;

	audit(r, status, decision, reason);
	j = json_pack("{s:s, s:s}", "error", MHD_get_reason_phrase_for(status), "reason",
		      reason ? reason : "");
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (body == NULL)
		return MHD_NO;
	return send_response(r, conn, status, "application/json", body, strlen(body));
}

static enum MHD_Result answerf(struct request *r, struct MHD_Connection *conn, unsigned status,
			       const char *decision, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result answerf(struct request *r, struct MHD_Connection *conn, unsigned status,
			       const char *decision, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return answer(r, conn, status, decision, reason);
}

/*
 * A signature: audited first, and only sent if the audit line was written
 * (no signature leaves the service unrecorded).
 */
static enum MHD_Result deliver(struct request *r, struct MHD_Connection *conn, const char *ctype,
			       const void *body, size_t len)
{
	audit_set(r, "mrsigner", json_string(r->srv->mrsigner));
	if (audit(r, MHD_HTTP_OK, "signed", NULL) < 0) {
		json_object_set_new(r->audit, "mrsigner", json_null());
		return answer(r, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "error",
			      "the audit log cannot be written: not signing");
	}
	return send_response(r, conn, MHD_HTTP_OK, ctype, body, len);
}

/* ---- authentication ---- */

static void take_snapshot(struct request *r)
{
	struct signd_server *s = r->srv;

	pthread_mutex_lock(&s->auth_lock);
	r->auth = s->auth;
	signd_auth_get(r->auth);
	pthread_mutex_unlock(&s->auth_lock);
}

/*
 * The client certificate, if the client sent one: 0 none, 1 verified and
 * its CN in r->cert_cn, -1 sent but not acceptable (*why says why). It
 * must chain to the client CA, be valid now, not be revoked by a CRL of
 * the snapshot, and not exclude TLS client authentication by its key
 * purposes (GnuTLS checks all four).
 */
static int peer_certificate(struct request *r, struct MHD_Connection *conn, const char **why)
{
	static __thread char reason[200];
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci ? (gnutls_session_t)ci->tls_session : NULL;
	const gnutls_datum_t *peers;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t text = { 0 };
	unsigned int n = 0, status = 0;
	size_t size;
	char cn[sizeof(r->cert_cn)];
	int ret;

	if (session == NULL || r->auth->trust == NULL)
		return 0;
	peers = gnutls_certificate_get_peers(session, &n);
	if (peers == NULL || n == 0)
		return 0;
	ret = signd_trust_verify(r->auth->trust, peers, n, &status);
	if (ret < 0 || status != 0) {
		if (ret == 0 && gnutls_certificate_verification_status_print(
				    status, GNUTLS_CRT_X509, &text, 0) == 0) {
			snprintf(reason, sizeof(reason), "client certificate refused: %s",
				 (const char *)text.data);
			gnutls_free(text.data);
		} else {
			snprintf(reason, sizeof(reason), "client certificate refused: %s",
				 gnutls_strerror(ret));
		}
		*why = reason;
		return -1;
	}
	size = sizeof(cn);
	if (gnutls_x509_crt_init(&crt) < 0 ||
	    gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size) < 0 ||
	    size == 0) {
		gnutls_x509_crt_deinit(crt);
		*why = "client certificate refused: no subject CN";
		return -1;
	}
	gnutls_x509_crt_deinit(crt);
	cn[sizeof(cn) - 1] = '\0';
	/* Printable only: it goes into the audit log and the reason. */
	sanitize(r->cert_cn, sizeof(r->cert_cn), cn);
	return 1;
}

/*
 * Who is asking. A client certificate, when sent, must be valid and name a
 * client; a token, when sent, must be valid; when both are sent they must
 * name the same client. Neither: no credentials.
 */
static const struct signd_client *authenticate(struct request *r, struct MHD_Connection *conn,
					       const char **why)
{
	static __thread char reason[360];
	const char *h =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const struct signd_client *by_cert = NULL, *by_token = NULL;
	int cert;
	size_t len;

	take_snapshot(r);
	cert = peer_certificate(r, conn, why);
	if (cert < 0)
		return NULL;
	if (cert > 0) {
		by_cert = signd_auth_lookup_cn(r->auth, r->cert_cn);
		if (by_cert == NULL) {
			snprintf(reason, sizeof(reason),
				 "client certificate CN '%s' is no client of this server",
				 r->cert_cn);
			*why = reason;
			return NULL;
		}
	}
	if (h == NULL) {
		if (by_cert == NULL)
			*why = r->srv->client_ca
				   ? "no credentials: send 'Authorization: Bearer "
				     "TOKEN' or a client certificate"
				   : "no credentials: send 'Authorization: Bearer TOKEN'";
		r->auth_method = by_cert ? "certificate" : NULL;
		return r->client = by_cert;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		*why = "unsupported authorization scheme: use 'Bearer TOKEN'";
		return NULL;
	}
	h += 7;
	while (*h == ' ')
		h++;
	len = strlen(h);
	while (len && h[len - 1] == ' ')
		len--;
	by_token = signd_auth_lookup(r->auth, h, len);
	if (by_token == NULL) {
		*why = "invalid token";
		return NULL;
	}
	if (by_token->expires && time(NULL) >= by_token->expires) {
		char when[32];

		signd_format_time(by_token->expires, when, sizeof(when));
		snprintf(reason, sizeof(reason), "the token of client '%s' expired at %s",
			 by_token->name, when);
		*why = reason;
		return NULL;
	}
	if (by_cert && by_cert != by_token) {
		snprintf(reason, sizeof(reason),
			 "the token is client '%s's, the certificate client '%s's: send one",
			 by_token->name, by_cert->name);
		*why = reason;
		return NULL;
	}
	r->auth_method = by_cert ? "certificate+token" : "token";
	return r->client = by_token;
}

/* ---- endpoints ---- */

/*
 * The signed fields of a SIGSTRUCT from its signing material. 0, or the
 * HTTP status and reason of a refusal.
 */
static unsigned parse_material(const struct request *r, struct sgx_sigstruct *ss, int strict,
			       char *reason, size_t size)
{
	static const uint8_t zero[84];

	if (r->len != SGX_SIGSTRUCT_MATERIAL_SIZE) {
		snprintf(reason, size,
			 "signing material is %zu bytes, expected %d (what 'sgx-tools gendata' "
			 "writes)",
			 r->len, SGX_SIGSTRUCT_MATERIAL_SIZE);
		return MHD_HTTP_BAD_REQUEST;
	}
	sgx_sigstruct_from_material(ss, (const uint8_t *)r->body);
	if (!strict)
		return 0;
	if (memcmp(ss->header.header, SGX_SIGSTRUCT_HEADER, 16) != 0 ||
	    memcmp(ss->header.header2, SGX_SIGSTRUCT_HEADER2, 16) != 0) {
		snprintf(reason, size, "not SIGSTRUCT signing material: bad header constants");
		return MHD_HTTP_BAD_REQUEST;
	}
	if (ss->header.vendor != 0 && ss->header.vendor != SGX_SIGSTRUCT_VENDOR_INTEL) {
		snprintf(reason, size, "SIGSTRUCT vendor 0x%x: must be 0 or 0x8086",
			 ss->header.vendor);
		return MHD_HTTP_BAD_REQUEST;
	}
	if (memcmp(ss->header.reserved1, zero, sizeof(ss->header.reserved1)) != 0 ||
	    memcmp(ss->body.reserved2, zero, sizeof(ss->body.reserved2)) != 0 ||
	    memcmp(ss->body.reserved3, zero, sizeof(ss->body.reserved3)) != 0) {
		snprintf(reason, size, "SIGSTRUCT reserved fields are not zero");
		return MHD_HTTP_BAD_REQUEST;
	}
	return 0;
}

static enum MHD_Result check_policy(struct request *r, struct MHD_Connection *conn,
				    const struct sgx_sigstruct *ss, int *refused)
{
	_cleanup_error_ err_t err = NULL;

	audit_material(r, ss);
	audit_set(r, "policy", json_string(r->client->policy->name));
	*refused = signd_policy_check(r->client->policy, ss, &err) < 0;
	if (*refused)
		return answer(r, conn, MHD_HTTP_FORBIDDEN, "refused", err_msg(err));
	return MHD_YES;
}

static enum MHD_Result do_v2(struct request *r, struct MHD_Connection *conn)
{
	_cleanup_error_ err_t err = NULL;
	struct sgx_sigstruct ss;
	char reason[256];
	unsigned status;
	enum MHD_Result ret;
	int refused;

	status = parse_material(r, &ss, 1, reason, sizeof(reason));
	if (status)
		return answer(r, conn, status, "rejected", reason);
	ret = check_policy(r, conn, &ss, &refused);
	if (refused)
		return ret;
	if (sgx_signer_sign_sigstruct(r->srv->signer, &ss, &err) < 0)
		return answer(r, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "error", err_msg(err));
	return deliver(r, conn, "application/octet-stream", &ss, sizeof(ss));
}

/*
 * v1 signs what it is sent. 256 bytes are what a SIGSTRUCT signature covers:
 * those go through the policy like v2's (any other length can never become
 * a SIGSTRUCT's signature, whose input is exactly those 256 bytes).
 */
static enum MHD_Result do_v1(struct request *r, struct MHD_Connection *conn)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *b64 = NULL, *body = NULL;
	uint8_t sig[SGX_MODULUS_SIZE];
	struct sgx_sigstruct ss;
	char reason[256];
	enum MHD_Result ret;
	json_t *j;
	int refused;

	if (r->len == 0)
		return answer(r, conn, MHD_HTTP_BAD_REQUEST, "rejected",
			      "empty body: nothing to sign");
	if (r->len == SGX_SIGSTRUCT_MATERIAL_SIZE) {
		parse_material(r, &ss, 0, reason, sizeof(reason));
		ret = check_policy(r, conn, &ss, &refused);
		if (refused)
			return ret;
	} else {
		audit_set(r, "material", json_string("opaque"));
	}
	if (sgx_signer_sign(r->srv->signer, r->body, r->len, sig, &err) < 0)
		return answer(r, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "error", err_msg(err));
	b64 = malloc(4 * ((sizeof(sig) + 2) / 3) + 1);
	if (b64 == NULL)
		return MHD_NO;
	EVP_EncodeBlock((unsigned char *)b64, sig, sizeof(sig));
	j = json_pack("{s:s, s:s}", "signature", b64, "publicKey",
		      sgx_signer_public_pem(r->srv->signer, NULL));
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (body == NULL)
		return MHD_NO;
	return deliver(r, conn, "application/json", body, strlen(body));
}

static enum MHD_Result serve(struct request *r, struct MHD_Connection *conn)
{
	size_t len;
	const char *pem;

	switch (r->route->ep) {
	case EP_PING:
		audit(r, MHD_HTTP_OK, "served", NULL);
		return send_response(r, conn, MHD_HTTP_OK, "text/plain", "ping", 4);
	case EP_HEALTHZ:
		audit(r, MHD_HTTP_OK, "served", NULL);
		return send_response(r, conn, MHD_HTTP_OK, "text/plain", "ok", 2);
	case EP_ROOT:
		audit(r, MHD_HTTP_OK, "served", NULL);
		return send_response(r, conn, MHD_HTTP_OK, "text/plain", "", 0);
	case EP_V1_PUBKEY:
		pem = sgx_signer_public_pem(r->srv->signer, &len);
		audit(r, MHD_HTTP_OK, "served", NULL);
		return send_response(r, conn, MHD_HTTP_OK, "application/x-pem-file", pem, len);
	case EP_V1_SIGN:
		return do_v1(r, conn);
	case EP_V2_SIGSTRUCT:
		return do_v2(r, conn);
	default:
		return answer(r, conn, MHD_HTTP_NOT_FOUND, "rejected", "no such endpoint");
	}
}

/* ---- MHD callbacks ---- */

/* The first call: route, authenticate, check what can be checked before the body. */
static enum MHD_Result first_call(struct request *r, struct MHD_Connection *conn, const char *url,
				  const char *method)
{
	const struct signd_config *cfg = r->srv->cfg;
	const char *why = NULL, *cl;
	int head;

	sanitize(r->method, sizeof(r->method), method);
	sanitize(r->path, sizeof(r->path), url);
	remote_address(conn, r->remote, sizeof(r->remote));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(url, routes[i].path) == 0)
			r->route = &routes[i];
	/* Credentials first, for everything but the health checks: no probing without a token. */
	if (!(r->route && r->route->open) && authenticate(r, conn, &why) == NULL)
		return answer(r, conn, MHD_HTTP_UNAUTHORIZED, "unauthenticated", why);
	if (r->route == NULL)
		return answer(r, conn, MHD_HTTP_NOT_FOUND, "rejected", "no such endpoint");
	head = strcmp(method, "HEAD") == 0 && strcmp(r->route->method, "GET") == 0;
	if (strcmp(method, r->route->method) != 0 && !head)
		return answerf(r, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "rejected", "%s %s: use %s",
			       r->method, r->route->path, r->route->method);
	if (r->route->ep == EP_V1_SIGN && !cfg->api_v1)
		return answer(r, conn, MHD_HTTP_FORBIDDEN, "refused",
			      "the v1 signing API is disabled on this server: use "
			      "POST " PATH_V2_SIGSTRUCT);
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl) {
		char *end;
		unsigned long long n;

		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno || *end || n > cfg->max_body)
			return answerf(r, conn, MHD_HTTP_CONTENT_TOO_LARGE, "rejected",
				       "body of %s bytes: the limit is %zu", cl, cfg->max_body);
	}
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct signd_server *s = cls;
	struct request *r = *con_cls;

	(void)version;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		r->srv = s;
		*con_cls = r;
		{
			const union MHD_ConnectionInfo *ci =
			    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

			if (ci && ci->socket_context)
				((struct conn_state *)ci->socket_context)->requests++;
		}
		pthread_mutex_lock(&s->idle_lock);
		s->inflight++;
		pthread_mutex_unlock(&s->idle_lock);
		return first_call(r, conn, url, method);
	}
	if (r->responded) {
		*upload_data_size = 0; /* an early answer: the rest of the body is dropped */
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		if (n > s->cfg->max_body - r->len) {
			/* Only a chunked body gets here (a declared length was checked): too late for a status. */
			audit(r, 0, "rejected", "chunked body over the limit: connection closed");
			r->responded = 1;
			return MHD_NO;
		}
		if (r->len + n > r->cap) {
			size_t cap = r->cap ? r->cap : 4096;
			char *p;

			while (cap < r->len + n)
				cap *= 2;
			if (cap > s->cfg->max_body)
				cap = s->cfg->max_body;
			p = realloc(r->body, cap);
			if (p == NULL)
				return MHD_NO;
			r->body = p;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload_data, n);
		r->len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->body == NULL && strcmp(r->route->method, "POST") == 0)
		r->body = strdup(""); /* an empty body: audited as 0 bytes */
	return serve(r, conn);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
		      enum MHD_RequestTerminationCode code)
{
	struct signd_server *s = cls;
	struct request *r = *con_cls;

	(void)conn;
	if (r == NULL)
		return;
	if (!r->responded) {
		const char *why =
		    code == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED   ? "timed out"
		    : code == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN ? "server shutting down"
		    : code == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client closed the connection"
								  : "connection error";
		audit(r, 0, "aborted", why);
	}
	if (r->auth)
		signd_auth_put(r->auth);
	json_decref(r->audit);
	if (r->body) {
		OPENSSL_cleanse(r->body, r->len);
		free(r->body);
	}
	free(r);
	*con_cls = NULL;
	pthread_mutex_lock(&s->idle_lock);
	if (--s->inflight == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->idle_lock);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct signd_server *s = cls;
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '.'))
		buf[--n] = '\0';
	/* While starting, the reason of a failure: it goes into the one error line. */
	if (!__atomic_load_n(&s->started, __ATOMIC_ACQUIRE)) {
		snprintf(s->start_msg, sizeof(s->start_msg), "%s", buf);
		return;
	}
	fprintf(stderr, "rune-signd: %s\n", buf);
}

/*
 * A connection that closes before any request was complete (a slow client
 * cut at the timeout, a failed TLS handshake, a port scan) gets an audit
 * line too: the request handler never saw it.
 */
static void connection_note(void *cls, struct MHD_Connection *conn, void **socket_context,
			    enum MHD_ConnectionNotificationCode toe)
{
	struct signd_server *s = cls;
	struct conn_state *cs = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		cs = calloc(1, sizeof(*cs));
		if (cs) {
			clock_gettime(CLOCK_MONOTONIC, &cs->opened);
			remote_address(conn, cs->remote, sizeof(cs->remote));
		}
		*socket_context = cs;
		return;
	}
	if (cs == NULL)
		return;
	if (cs->requests == 0) {
		struct timespec now;
		char reason[96];
		json_t *rec;

		clock_gettime(CLOCK_MONOTONIC, &now);
		snprintf(reason, sizeof(reason),
			 "connection closed after %ld s without a complete request%s",
			 (long)(now.tv_sec - cs->opened.tv_sec),
			 s->cfg->tls_cert ? " (or TLS handshake)" : "");
		rec = json_pack("{s:n, s:s, s:n, s:n, s:n, s:s, s:s}", "client", "remote",
				cs->remote, "method", "endpoint", "status", "decision", "aborted",
				"reason", reason);
		if (rec)
			signd_audit_write(s->audit, rec);
		json_decref(rec);
	}
	free(cs);
	*socket_context = NULL;
}

/* ---- start, reload, stop ---- */

static void server_free(struct signd_server *s)
{
	if (s == NULL)
		return;
	sgx_signer_free(s->signer);
	signd_p11_close(s->p11);
	signd_audit_close(s->audit);
	if (s->auth)
		signd_auth_put(s->auth);
	if (s->tls_key) {
		OPENSSL_cleanse(s->tls_key, strlen(s->tls_key));
		free(s->tls_key);
	}
	free(s->tls_cert);
	free(s->client_ca);
	pthread_mutex_destroy(&s->auth_lock);
	pthread_mutex_destroy(&s->idle_lock);
	pthread_cond_destroy(&s->idle);
	free(s);
}

/*
 * A key on a PKCS#11 token: checked as a PEM key is (RSA-3072, e = 3), and
 * made to sign once, so a key that cannot sign stops the start, not the
 * first client.
 */
static int load_p11_signer(struct signd_server *s, const struct signd_config *c, err_t *err)
{
	static const char probe[] = "rune-signd: PKCS#11 key check";
	uint8_t sig[SGX_MODULUS_SIZE];
	char shown[1024], *pv; /* a URI of at most 512, each "pin-value=" grows by at most 3 */
	const char *pem;
	size_t len;
	int ret;

	ret = signd_p11_open(&s->p11, c->pkcs11_uri, c->pin_file, err);
	if (ret < 0) {
		/* The URI as given, but a PIN in it (refused) is not repeated. */
		snprintf(shown, 512, "%s", c->pkcs11_uri);
		for (pv = strstr(shown, "pin-value="); pv; pv = strstr(pv + 13, "pin-value=")) {
			size_t n = strcspn(pv + 10, ";&");

			memmove(pv + 13, pv + 10 + n, strlen(pv + 10 + n) + 1);
			memcpy(pv + 10, "***", 3);
		}
		return err_wrap(err, "signing key %s", shown);
	}
	pem = signd_p11_public_pem(s->p11, &len);
	ret = sgx_signer_external(&s->signer, pem, len, signd_p11_sign, s->p11, err);
	if (ret == 0)
		ret = sgx_signer_sign(s->signer, probe, sizeof(probe), sig, err);
	if (ret < 0)
		return err_wrap(err, "signing key on token '%s'", signd_p11_token(s->p11));
	return 0;
}

static int load_signer(struct signd_server *s, const struct signd_config *c, err_t *err)
{
	_cleanup_free_ char *pem = NULL;
	uint8_t mrsigner[32];
	size_t len;
	int ret;

	if (c->pkcs11_uri) {
		ret = load_p11_signer(s, c, err);
	} else {
		ret = signd_read_trusted("signing key", c->key_path, 1, KEY_MAX, &pem, &len, err);
		if (ret < 0)
			return ret;
		ret = sgx_signer_load(&s->signer, pem, len, err);
		OPENSSL_cleanse(pem, len);
		if (ret < 0)
			err_wrap(err, "signing key %s", c->key_path);
	}
	if (ret < 0)
		return ret;
	sgx_signer_mrsigner(s->signer, mrsigner);
	sgx_hex(mrsigner, 32, s->mrsigner);
	return 0;
}

/* What SIGHUP reloads: policies, clients, and the client CA with its CRLs. */
static int load_auth(const struct signd_config *c, struct signd_auth **out, err_t *err)
{
	struct signd_auth *a = NULL;
	int ret;

	ret = signd_auth_load(&a, c->config_path, c->tokens_path, err);
	if (ret == 0 && c->client_ca && c->tls_cert)
		ret = signd_trust_load(&a->trust, c->client_ca, c->client_crl, err);
	if (ret < 0) {
		signd_auth_put(a);
		return ret;
	}
	*out = a;
	return 0;
}

int signd_server_start(struct signd_server **out, const struct signd_config *c, err_t *err)
{
	struct MHD_OptionItem opts[20];
	struct sockaddr_storage ss;
	struct signd_server *s;
	const union MHD_DaemonInfo *di;
	unsigned int flags, threads, n = 0;
	socklen_t sslen;
	size_t len;
	int ret;

	ret = signd_config_check(c, err);
	if (ret < 0)
		return ret;
	ret = signd_parse_listen(c->listen, &ss, &sslen, err);
	if (ret < 0)
		return ret;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, ENOMEM, "out of memory");
	s->cfg = c;
	pthread_mutex_init(&s->auth_lock, NULL);
	pthread_mutex_init(&s->idle_lock, NULL);
	pthread_cond_init(&s->idle, NULL);
	ret = load_signer(s, c, err);
	if (ret == 0)
		ret = load_auth(c, &s->auth, err);
	if (ret == 0)
		ret = signd_audit_open(&s->audit, c->audit_path, err);
	if (ret == 0 && c->tls_cert) {
		ret = signd_read_trusted("TLS certificate", c->tls_cert, 0, KEY_MAX, &s->tls_cert,
					 &len, err);
		if (ret == 0)
			ret = signd_read_trusted("TLS key", c->tls_key, 1, KEY_MAX, &s->tls_key,
						 &len, err);
		if (ret == 0 && c->client_ca)
			ret = signd_read_trusted("client CA", c->client_ca, 0, KEY_MAX,
						 &s->client_ca, &len, err);
	}
	if (ret < 0)
		goto fail;

	threads = c->threads ? c->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &ss };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, c->timeout, NULL };
	opts[n++] =
	    (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, c->max_connections, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip, NULL };
	if (threads > 1)
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, threads, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, s };
	opts[n++] =
	    (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)connection_note, s };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL };
	if (c->tls_cert) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert };
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key };
		opts[n++] =
		    (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, TLS_PRIORITIES };
		/* Client certificates: requested (not required: tokens work too), checked per request. */
		if (s->client_ca)
			opts[n++] =
			    (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, s->client_ca };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	/* The logger first: MHD logs with its own until it is set. */
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER,
				  mhd_log, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (s->mhd == NULL) {
		ret = err_set(err, EADDRNOTAVAIL, "cannot listen on %s: %s", c->listen,
			      s->start_msg[0] ? s->start_msg : "libmicrohttpd failed to start");
		goto fail;
	}
	__atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
	di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : 0;
	{
		char host[INET6_ADDRSTRLEN] = "?";

		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host,
				  sizeof(host));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host,
				  sizeof(host));
		snprintf(s->url, sizeof(s->url),
			 ss.ss_family == AF_INET6 ? "%s://[%s]:%u" : "%s://%s:%u",
			 c->tls_cert ? "https" : "http", host, s->port);
	}
	*out = s;
	return 0;
fail:
	server_free(s);
	return ret;
}

unsigned signd_server_port(const struct signd_server *s)
{
	return s->port;
}

const char *signd_server_url(const struct signd_server *s)
{
	return s->url;
}

size_t signd_server_clients(const struct signd_server *s)
{
	return s->auth->n_clients;
}

int signd_server_reload(struct signd_server *s, err_t *err)
{
	struct signd_auth *fresh, *old;
	int ret;

	ret = load_auth(s->cfg, &fresh, err);
	if (ret < 0)
		return err_wrap(err, "reload (keeping the clients and policies we had)");
	pthread_mutex_lock(&s->auth_lock);
	old = s->auth;
	s->auth = fresh;
	pthread_mutex_unlock(&s->auth_lock);
	signd_auth_put(old);
	ret = signd_audit_reopen(s->audit, err);
	if (ret < 0)
		return err_wrap(err, "reload: reopen the audit log (keeping the old file)");
	return 0;
}

void signd_server_stop(struct signd_server *s)
{
	struct timespec deadline;
	MHD_socket fd;

	if (s == NULL)
		return;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
	/* No new connections; the requests in flight get the grace period. */
	fd = MHD_quiesce_daemon(s->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += s->cfg->shutdown_grace;
	pthread_mutex_lock(&s->idle_lock);
	while (s->inflight > 0)
		if (pthread_cond_timedwait(&s->idle, &s->idle_lock, &deadline) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->idle_lock);
	MHD_stop_daemon(s->mhd);
	server_free(s);
}
