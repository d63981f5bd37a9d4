/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsignd-client: a minimal HTTP/1.1 client over OpenSSL for the signature
 * service (include/signd/client.h). One request per connection
 * ("Connection: close"), a deadline over the whole exchange, bounded
 * responses; TLS 1.2+ with the server's certificate checked against the CA
 * and the URL's host; a SIGSTRUCT is handed back only once it verifies and
 * carries the material that was sent.
 */
#include "signd/client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/cleanup.h"
#include "sgx/fileio.h"

#define RESP_MAX	(1 << 20)
#define HEAD_MAX	(16 << 10)
#define DEFAULT_TIMEOUT 30

struct url {
	int tls;
	char host[256]; /* without brackets */
	char port[8];
	char prefix[256]; /* "" or "/path", no trailing slash */
	int ip;		  /* host is an address literal */
};

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct timespec deadline;
};

/* ---- URL ---- */

static int parse_url(const char *s, struct url *u, err_t *err)
{
	const char *p, *host_end, *path;
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "https://", 8) == 0) {
		u->tls = 1;
		p = s + 8;
	} else if (strncmp(s, "http://", 7) == 0) {
		p = s + 7;
	} else {
		return err_set(err, EINVAL,
			       "server URL '%s': expected https://HOST[:PORT] (or http://)", s);
	}
	if (*p == '[') {
		host_end = strchr(p, ']');
		if (host_end == NULL)
			return err_set(err, EINVAL,
				       "server URL '%s': no ']' after the IPv6 address", s);
		n = (size_t)(host_end - p - 1);
		if (n == 0 || n >= sizeof(u->host))
			return err_set(err, EINVAL, "server URL '%s': bad host", s);
		memcpy(u->host, p + 1, n);
		if (inet_pton(AF_INET6, u->host, &a6) != 1)
			return err_set(err, EINVAL, "server URL '%s': '%s' is not an IPv6 address",
				       s, u->host);
		u->ip = 1;
		p = host_end + 1;
	} else {
		n = strcspn(p, ":/?#");
		if (n == 0 || n >= sizeof(u->host))
			return err_set(err, EINVAL, "server URL '%s': bad host", s);
		memcpy(u->host, p, n);
		if (strspn(u->host,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
			return err_set(err, EINVAL, "server URL '%s': bad host '%s'", s, u->host);
		u->ip = inet_pton(AF_INET, u->host, &a4) == 1;
		p += n;
	}
	snprintf(u->port, sizeof(u->port), "%s", u->tls ? "443" : "80");
	if (*p == ':') {
		char *end;
		unsigned long port;

		errno = 0;
		port = strtoul(p + 1, &end, 10);
		if (end == p + 1 || errno || port == 0 || port > 65535 || (*end && *end != '/'))
			return err_set(err, EINVAL, "server URL '%s': bad port", s);
		snprintf(u->port, sizeof(u->port), "%lu", port);
		p = end;
	}
	path = p;
	if (*path && *path != '/')
		return err_set(err, EINVAL, "server URL '%s': expected a path after the host", s);
	n = strlen(path);
	while (n && path[n - 1] == '/')
		n--;
	if (n >= sizeof(u->prefix))
		return err_set(err, EINVAL, "server URL '%s': path too long", s);
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)path[i]) || path[i] == '?' || path[i] == '#')
			return err_set(err, EINVAL,
				       "server URL '%s': no query, fragment or space in the path",
				       s);
	memcpy(u->prefix, path, n);
	return 0;
}

/* ---- connection ---- */

static int remaining_ms(const struct conn *c)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (c->deadline.tv_sec - now.tv_sec) * 1000 +
	     (c->deadline.tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
	return 0;
}

/* Waits for fd to be ready (POLLIN/POLLOUT) within the deadline. */
static int wait_fd(struct conn *c, short events, err_t *err)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int ms, n;

	for (;;) {
		ms = remaining_ms(c);
		if (ms == 0)
			return err_set(err, ETIMEDOUT, "timed out");
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return err_sys(err, errno, "poll");
	}
}

/* A non-blocking TCP connection to one of the host's addresses. */
static int tcp_connect(struct conn *c, const struct url *u, int need_private, err_t *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL, *ai;
	int ret, last = ECONNREFUSED, refused_public = 0;

	ret = getaddrinfo(u->host, u->port, &hints, &res);
	if (ret != 0)
		return err_set(err, EHOSTUNREACH, "resolve %s: %s", u->host, gai_strerror(ret));
	for (ai = res; ai; ai = ai->ai_next) {
		socklen_t len = sizeof(int);
		int soerr = 0;

		if (need_private && !is_loopback(ai->ai_addr)) {
			refused_public = 1;
			continue;
		}
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			       ai->ai_protocol);
		if (c->fd < 0) {
			last = errno;
			continue;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS && wait_fd(c, POLLOUT, err) == 0 &&
		    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
			break;
		if (err && *err) {
			freeaddrinfo(res);
			return err_wrap(err, "connect to %s port %s", u->host, u->port);
		}
		last = soerr ? soerr : errno;
		close(c->fd);
		c->fd = -1;
	}
	freeaddrinfo(res);
	if (c->fd < 0 && refused_public)
		return err_set(err, EPERM,
			       "plain http:// with credentials only to a loopback address (the "
			       "token or certificate would cross the network in the clear): use "
			       "https://");
	if (c->fd < 0)
		return err_sys(err, last, "connect to %s port %s", u->host, u->port);
	return 0;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int ssl_fail(err_t *err, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	int ret;

	ret = err_set(err, EPROTO, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
	ERR_clear_error();
	return ret;
}

static int tls_setup(struct conn *c, const struct url *u, const struct signd_client_opts *o,
		     err_t *err)
{
	long verify;
	int ret, e;

	c->ctx = SSL_CTX_new(TLS_client_method());
	if (c->ctx == NULL || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1)
		return ssl_fail(err, "TLS setup");
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_default_passwd_cb(c->ctx, no_passphrase);
	SSL_CTX_set_options(c->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (o->cacert ? SSL_CTX_load_verify_locations(c->ctx, o->cacert, NULL) != 1
		      : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return ssl_fail(err, o->cacert ? "CA file" : "the system's CA store");
	if (o->client_cert) {
		if (SSL_CTX_use_certificate_chain_file(c->ctx, o->client_cert) != 1)
			return ssl_fail(err, "client certificate");
		if (SSL_CTX_use_PrivateKey_file(c->ctx, o->client_key, SSL_FILETYPE_PEM) != 1)
			return ssl_fail(err, "client key (an unencrypted PEM key)");
		if (SSL_CTX_check_private_key(c->ctx) != 1)
			return ssl_fail(err, "client key does not match the client certificate");
	}
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1)
		return ssl_fail(err, "TLS setup");
	if (u->ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), u->host) != 1)
			return ssl_fail(err, "TLS setup");
	} else if (SSL_set_tlsext_host_name(c->ssl, u->host) != 1 ||
		   SSL_set1_host(c->ssl, u->host) != 1) {
		return ssl_fail(err, "TLS setup");
	}
	for (;;) {
		ret = SSL_connect(c->ssl);
		if (ret == 1)
			return 0;
		e = SSL_get_error(c->ssl, ret);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ret = wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, err);
			if (ret < 0)
				return err_wrap(err, "TLS handshake with %s", u->host);
			continue;
		}
		verify = SSL_get_verify_result(c->ssl);
		if (verify != X509_V_OK) {
			ERR_clear_error();
			return err_set(err, EPROTO, "TLS: the server's certificate: %s",
				       X509_verify_cert_error_string(verify));
		}
		return ssl_fail(err, "TLS handshake");
	}
}

static void conn_close(struct conn *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
}

static int conn_write(struct conn *c, const void *buf, size_t len, err_t *err)
{
	const char *p = buf;

	while (len) {
		ssize_t n;

		if (c->ssl) {
			size_t w = 0;
			int ret = SSL_write_ex(c->ssl, p, len, &w), e;

			if (ret == 1) {
				n = (ssize_t)w;
			} else {
				e = SSL_get_error(c->ssl, ret);
				if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
					return ssl_fail(err, "send");
				if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, err) <
				    0)
					return err_wrap(err, "send");
				continue;
			}
		} else {
			n = write(c->fd, p, len);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (wait_fd(c, POLLOUT, err) < 0)
					return err_wrap(err, "send");
				continue;
			}
			if (n < 0)
				return err_sys(err, errno, "send");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Up to size bytes; 0 at the end of the stream. */
static ssize_t conn_read(struct conn *c, void *buf, size_t size, err_t *err)
{
	for (;;) {
		if (c->ssl) {
			size_t r = 0;
			int ret = SSL_read_ex(c->ssl, buf, size, &r), e;

			if (ret == 1)
				return (ssize_t)r;
			e = SSL_get_error(c->ssl, ret);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
				return 0; /* closed without close_notify: the length tells */
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				return ssl_fail(err, "receive");
			if (wait_fd(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, err) < 0)
				return err_wrap(err, "receive");
		} else {
			ssize_t n = read(c->fd, buf, size);

			if (n >= 0)
				return n;
			if (errno != EAGAIN && errno != EINTR)
				return err_sys(err, errno, "receive");
			if (wait_fd(c, POLLIN, err) < 0)
				return err_wrap(err, "receive");
		}
	}
}

/*
 * A server that closes early must not kill the caller with SIGPIPE (a
 * library cannot change the process's disposition): blocked in this thread
 * while the request runs, and one raised meanwhile is taken back.
 */
static void sigpipe_block(sigset_t *old, int *pending)
{
	sigset_t pipe, now;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigpending(&now);
	*pending = sigismember(&now, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, old);
}

static void sigpipe_restore(const sigset_t *old, int pending)
{
	struct timespec zero = { 0 };
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!pending)
		while (sigtimedwait(&pipe, NULL, &zero) > 0)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* ---- HTTP ---- */

/* The value of header name in the head (CRLF lines), or NULL; *len its length. */
static const char *header(const char *head, const char *name, size_t *len)
{
	size_t n = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2;

		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			l += n + 1;
			while (*l == ' ' || *l == '\t')
				l++;
			*len = strcspn(l, "\r\n");
			while (*len && (l[*len - 1] == ' ' || l[*len - 1] == '\t'))
				(*len)--;
			return l;
		}
	}
	return NULL;
}

/* Decodes a chunked body into out (at least len bytes); -1 if malformed or incomplete. */
static ssize_t unchunk(const char *body, size_t len, char *out)
{
	size_t in = 0, n_out = 0;

	for (;;) {
		const char *end;
		char *num_end;
		unsigned long n;

		if (in >= len)
			return -1;
		n = strtoul(body + in, &num_end, 16);
		if (num_end == body + in || (size_t)(num_end - body) > len)
			return -1;
		end = memmem(num_end, len - (size_t)(num_end - body), "\r\n", 2);
		if (end == NULL)
			return -1;
		in = (size_t)(end - body) + 2;
		if (n == 0)
			return (ssize_t)n_out;
		if (n > len - in || len - in - n < 2)
			return -1;
		memcpy(out + n_out, body + in, n);
		n_out += n;
		in += n + 2;
	}
}

static int valid_token(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 1024)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)t[i]))
			return 0;
	return 1;
}

static int request(const struct signd_client_opts *o, const char *method, const char *path,
		   const void *body, size_t len, unsigned *status, char **resp, size_t *resp_len,
		   err_t *err)
{
	_cleanup_free_ char *req = NULL, *buf = NULL, *body_out = NULL;
	struct conn c = { .fd = -1 };
	struct url u;
	size_t have = 0, head_len = 0, want = 0;
	int has_len = 0, chunked = 0, ret;
	const char *v, *end;
	size_t vlen;
	int reqlen;

	*resp = NULL;
	*resp_len = 0;
	ret = parse_url(o->url, &u, err);
	if (ret < 0)
		return ret;
	if (o->token && !valid_token(o->token))
		return err_set(err, EINVAL,
			       "token: expected 1-1024 printable characters, no spaces");
	if (!!o->client_cert != !!o->client_key)
		return err_set(err, EINVAL, "a client certificate needs its key, and the reverse");
	if (o->client_cert && !u.tls)
		return err_set(err, EINVAL, "a client certificate needs an https:// server URL");
	clock_gettime(CLOCK_MONOTONIC, &c.deadline);
	c.deadline.tv_sec += o->timeout ? o->timeout : DEFAULT_TIMEOUT;

	reqlen = asprintf(&req,
			  "%s %s%s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: rune-signd-client\r\n"
			  "Accept: */*\r\nConnection: close\r\n%s%s%s"
			  "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
			  method, u.prefix, path, u.ip && strchr(u.host, ':') ? "[" : "", u.host,
			  u.ip && strchr(u.host, ':') ? "]" : "", u.port,
			  o->token ? "Authorization: Bearer " : "", o->token ? o->token : "",
			  o->token ? "\r\n" : "", len);
	if (reqlen < 0) {
		req = NULL;
		return err_set(err, ENOMEM, "out of memory");
	}
	ret = tcp_connect(&c, &u, !u.tls && o->token, err);
	if (ret == 0 && u.tls)
		ret = tls_setup(&c, &u, o, err);
	if (ret == 0)
		ret = conn_write(&c, req, (size_t)reqlen, err);
	if (ret == 0 && len)
		ret = conn_write(&c, body, len, err);
	if (ret < 0)
		goto out;
	buf = malloc(HEAD_MAX + RESP_MAX + 1);
	if (buf == NULL) {
		ret = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (head_len && has_len && have >= head_len + want)
			break;
		if (have == HEAD_MAX + RESP_MAX) {
			ret = err_set(err, EFBIG, "the answer is larger than %d bytes", RESP_MAX);
			goto out;
		}
		n = conn_read(&c, buf + have, HEAD_MAX + RESP_MAX - have, err);
		if (n < 0) {
			ret = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (head_len == 0) {
			end = memmem(buf, have, "\r\n\r\n", 4);
			if (end == NULL && have > HEAD_MAX) {
				ret = err_set(err, EPROTO, "the answer's headers are too long");
				goto out;
			}
			if (end == NULL)
				continue;
			head_len = (size_t)(end - buf) + 4;
			buf[head_len - 2] = '\0'; /* the head as a string, "...\r\n" */
			v = header(buf, "Content-Length", &vlen);
			if (v) {
				want = strtoul(v, NULL, 10);
				has_len = 1;
				if (want > RESP_MAX) {
					ret =
					    err_set(err, EFBIG,
						    "the answer is larger than %d bytes", RESP_MAX);
					goto out;
				}
			}
			v = header(buf, "Transfer-Encoding", &vlen);
			chunked = v && vlen == 7 && strncasecmp(v, "chunked", 7) == 0;
		}
	}
	if (head_len == 0 || sscanf(buf, "HTTP/1.%*1[01] %3u", status) != 1) {
		ret = err_set(err, EPROTO, "not an HTTP answer");
		goto out;
	}
	have -= head_len;
	body_out = malloc(have + 1);
	if (body_out == NULL) {
		ret = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (chunked) {
		ssize_t n = unchunk(buf + head_len, have, body_out);

		if (n < 0) {
			ret = err_set(err, EPROTO, "a broken chunked answer");
			goto out;
		}
		have = (size_t)n;
	} else if (has_len && have < want) {
		ret = err_set(err, EPROTO, "the answer ended after %zu of %zu bytes", have, want);
		goto out;
	} else {
		if (has_len)
			have = want;
		memcpy(body_out, buf + head_len, have);
	}
	body_out[have] = '\0';
	*resp = steal_ptr(body_out);
	*resp_len = have;
out:
	conn_close(&c);
	return ret;
}

int signd_client_request(const struct signd_client_opts *o, const char *method, const char *path,
			 const void *body, size_t len, unsigned *status, char **resp,
			 size_t *resp_len, err_t *err)
{
	sigset_t old;
	int pending, ret;

	sigpipe_block(&old, &pending);
	ret = request(o, method, path, body, len, status, resp, resp_len, err);
	sigpipe_restore(&old, pending);
	return ret;
}

/* ---- the signing endpoints ---- */

/* A refusal: the status and the server's JSON reason (or the start of its body). */
static int refused(unsigned status, const char *body, size_t len, err_t *err)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *reason = json_string_value(json_object_get(j, "reason"));
	char text[200];
	size_t i;
	int ret;

	if (reason == NULL) {
		for (i = 0; i < len && i + 1 < sizeof(text); i++)
			text[i] = isprint((unsigned char)body[i]) ? body[i] : '?';
		text[i] = '\0';
		reason = i ? text : "no reason given";
	}
	ret = err_set(err, status == 401 || status == 403 ? EACCES : EPROTO,
		      "the server refused (%u): %s", status, reason);
	json_decref(j);
	return ret;
}

/* The SIGSTRUCT's signed bytes must be the material sent: the server may not change a field. */
static int same_material(const struct sgx_sigstruct *ss,
			 const uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE], err_t *err)
{
	uint8_t got[SGX_SIGSTRUCT_MATERIAL_SIZE];

	sgx_sigstruct_material(ss, got);
	if (memcmp(got, material, sizeof(got)) != 0)
		return err_set(err, EBADMSG,
			       "the server's SIGSTRUCT is not for the material sent (its signed "
			       "fields differ): refused");
	return 0;
}

int signd_client_sigstruct(const struct signd_client_opts *o,
			   const uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE],
			   struct sgx_sigstruct *ss, err_t *err)
{
	_cleanup_free_ char *resp = NULL;
	unsigned status = 0;
	size_t len;
	int ret;

	ret = signd_client_request(o, "POST", "/api/v2/sigstruct", material,
				   SGX_SIGSTRUCT_MATERIAL_SIZE, &status, &resp, &len, err);
	if (ret < 0)
		return ret;
	if (status != 200)
		return refused(status, resp, len, err);
	ret = sgx_sigstruct_parse(ss, resp, len, err);
	if (ret < 0)
		return err_wrap(err, "the server's answer");
	ret = same_material(ss, material, err);
	if (ret == 0 && (ret = sgx_sigstruct_check(ss, err)) < 0)
		err_wrap(err, "the server's SIGSTRUCT does not verify");
	return ret;
}

int signd_client_sigstruct_v1(const struct signd_client_opts *o,
			      const uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE],
			      struct sgx_sigstruct *ss, err_t *err)
{
	_cleanup_free_ char *resp = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	const char *b64, *pub;
	unsigned status = 0;
	size_t len, blen;
	json_t *j;
	int n, ret;

	ret = signd_client_request(o, "POST", "/api/v1/signature/pkcs1", material,
				   SGX_SIGSTRUCT_MATERIAL_SIZE, &status, &resp, &len, err);
	if (ret < 0)
		return ret;
	if (status != 200)
		return refused(status, resp, len, err);
	j = json_loadb(resp, len, 0, NULL);
	b64 = json_string_value(json_object_get(j, "signature"));
	pub = json_string_value(json_object_get(j, "publicKey"));
	if (b64 == NULL || pub == NULL) {
		json_decref(j);
		return err_set(err, EPROTO,
			       "the server's v1 answer: expected JSON with \"signature\" and "
			       "\"publicKey\"");
	}
	blen = strlen(b64);
	sig = malloc(blen / 4 * 3 + 3);
	n = sig && blen % 4 == 0 ? EVP_DecodeBlock(sig, (const unsigned char *)b64, (int)blen) : -1;
	if (n >= 0) {
		n -= (blen && b64[blen - 1] == '=') + (blen > 1 && b64[blen - 2] == '=');
	}
	if (n < 0) {
		json_decref(j);
		return err_set(err, EPROTO, "the server's v1 answer: the signature is not base64");
	}
	sgx_sigstruct_from_material(ss, material);
	ret = sgx_sigstruct_set_signature(ss, sig, (size_t)n, pub, strlen(pub), err);
	json_decref(j);
	if (ret < 0)
		return err_wrap(err, "the server's v1 signature");
	return same_material(ss, material, err);
}

/* The token from its file: one line, surrounding whitespace dropped. */
int signd_client_read_token(const char *path, char **token, err_t *err)
{
	_cleanup_free_ void *buf = NULL;
	char *t, *end;
	size_t len;
	int ret;

	ret = sgx_read_file(path, 4096, &buf, &len, err);
	if (ret < 0)
		return err_wrap(err, "token file");
	t = buf;
	while (*t && isspace((unsigned char)*t))
		t++;
	end = t + strlen(t);
	while (end > t && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*t == '\0')
		return err_set(err, EINVAL, "token file %s: empty", path);
	if (strpbrk(t, " \t\r\n"))
		return err_set(err, EINVAL, "token file %s: expected one token on one line", path);
	*token = strdup(t);
	explicit_bzero(buf, len);
	return *token ? 0 : err_set(err, ENOMEM, "out of memory");
}
