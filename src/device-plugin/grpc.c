/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gRPC over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md) on libnghttp2's sessions:
 * nghttp2 parses and builds the frames, this file moves bytes between the
 * sessions and the sockets, frames the messages and maps calls to streams.
 */
#include "device-plugin/grpc.h"

#include <errno.h>
#include <fcntl.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

#define MAX_CONNECTIONS 16
#define MAX_STREAMS	8 /* concurrent, per connection: the kubelet needs a few */
/* Request bytes a connection may hold at once, over all its streams. */
#define CONN_MAX_IN  (2 * GRPC_MAX_MESSAGE)
#define MAX_PATH_LEN 128
/* A stream whose peer does not read its answers is reset past this. */
#define MAX_PENDING_OUT (1u << 20)
/* A connection stops pulling frames from nghttp2 while this much waits for the socket. */
#define OUT_HIGH_WATER (64u << 10)

struct buf {
	uint8_t *data;
	size_t len, cap, off; /* off: what has been consumed from the front */
};

static int buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		if ((d = realloc(b->data, cap)) == NULL)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

/* A gRPC message: flag 0 (uncompressed), length, bytes. */
static int buf_add_message(struct buf *b, const uint8_t *msg, size_t len)
{
	uint8_t hdr[5] = { 0, len >> 24, len >> 16, len >> 8, len };

	return buf_add(b, hdr, 5) ?: buf_add(b, msg, len);
}

/*
 * The one message a body holds: 0 with *msg and *len, or a gRPC status
 * with *why.
 */
static int unframe(const struct buf *b, const uint8_t **msg, size_t *len, const char **why)
{
	const uint8_t *p = b->data + b->off;
	size_t n = buf_pending(b), l;

	if (n < 5) {
		*why = "no complete message";
		return GRPC_INVALID_ARGUMENT;
	}
	if (p[0] != 0) {
		*why = "compressed messages are not supported";
		return GRPC_UNIMPLEMENTED;
	}
	l = (size_t)p[1] << 24 | p[2] << 16 | p[3] << 8 | p[4];
	if (l != n - 5) {
		*why = l > n - 5 ? "truncated message" : "more than one message";
		return GRPC_INVALID_ARGUMENT;
	}
	*msg = p + 5;
	*len = l;
	return GRPC_OK;
}

struct conn;

struct grpc_call {
	struct conn *conn;
	int32_t stream_id;
	char path[MAX_PATH_LEN];
	bool grpc_content; /* content-type application/grpc[+proto] */
	struct buf in, out;
	bool responded; /* response headers submitted */
	bool finished;	/* trailers due once out drains */
	bool kept;	/* a handler kept it open (on_close when it goes) */
	int status;
	char message[160]; /* grpc-message, percent-encoded */
	struct grpc_call *next;
};

struct conn {
	int fd;
	nghttp2_session *h2;
	struct grpc_server *srv;
	struct buf out;
	struct grpc_call *calls;
	size_t in_held; /* request bytes its calls hold */
	bool dead;
	struct conn *next;
};

struct grpc_server {
	int listen_fd;
	struct grpc_server_ops ops;
	struct conn *conns;
	unsigned nconns;
};

/* grpc-message is percent-encoded: printable ASCII but '%' as is. */
static void percent_encode(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 4 < size; s++) {
		unsigned char c = *s;

		if (c >= 0x20 && c <= 0x7e && c != '%')
			dst[o++] = c;
		else
			o += snprintf(dst + o, size - o, "%%%02X", c);
	}
	dst[o] = '\0';
}

static struct grpc_call *find_call(struct conn *c, int32_t stream_id)
{
	for (struct grpc_call *call = c->calls; call; call = call->next)
		if (call->stream_id == stream_id)
			return call;
	return NULL;
}

static void call_free_input(struct grpc_call *call)
{
	call->conn->in_held -= call->in.len;
	free(call->in.data);
	call->in = (struct buf){ 0 };
}

static void call_free(struct grpc_call *call)
{
	call_free_input(call);
	free(call->out.data);
	free(call);
}

/* nghttp2 pulls the answer's DATA from here; trailers go once all is out. */
static ssize_t read_out(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t length,
			uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct grpc_call *call = source->ptr;
	size_t n = buf_pending(&call->out);
	char status[12];

	(void)user;
	if (n) {
		n = n < length ? n : length;
		memcpy(buf, call->out.data + call->out.off, n);
		call->out.off += n;
		return n;
	}
	if (!call->finished)
		return NGHTTP2_ERR_DEFERRED;
	snprintf(status, sizeof(status), "%d", call->status);
	nghttp2_nv trailers[] = {
		{ (uint8_t *)"grpc-status", (uint8_t *)status, 11, strlen(status),
		  NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"grpc-message", (uint8_t *)call->message, 12, strlen(call->message),
		  NGHTTP2_NV_FLAG_NONE },
	};
	*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
	if (nghttp2_submit_trailer(h2, stream_id, trailers, call->message[0] ? 2 : 1) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	return 0;
}

#define NV(n, v)                                                                                   \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE \
	}

/* Response headers and DATA from call->out (trailers when finished). */
static int respond(struct grpc_call *call)
{
	nghttp2_nv hdrs[] = { NV(":status", "200"), NV("content-type", "application/grpc") };
	nghttp2_data_provider prd = { .source.ptr = call, .read_callback = read_out };

	if (call->responded)
		return nghttp2_session_resume_data(call->conn->h2, call->stream_id) == 0 ||
			       !nghttp2_session_find_stream(call->conn->h2, call->stream_id)
			   ? 0
			   : -EIO;
	call->responded = true;
	return nghttp2_submit_response(call->conn->h2, call->stream_id, hdrs, 2, &prd) ? -EIO : 0;
}

int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	if (call->finished)
		return -EINVAL;
	if (buf_pending(&call->out) + len > MAX_PENDING_OUT) {
		/* The peer does not read: drop the stream, on_close follows. */
		nghttp2_submit_rst_stream(call->conn->h2, NGHTTP2_FLAG_NONE, call->stream_id,
					  NGHTTP2_ENHANCE_YOUR_CALM);
		return -ENOBUFS;
	}
	if (buf_add_message(&call->out, msg, len) < 0)
		return -ENOMEM;
	/* resume_data fails when nothing was deferred: that is fine. */
	if (call->responded) {
		nghttp2_session_resume_data(call->conn->h2, call->stream_id);
		return 0;
	}
	return respond(call);
}

int grpc_call_finish(struct grpc_call *call, enum grpc_status status, const char *message)
{
	char s[12];

	if (call->finished)
		return -EINVAL;
	call->finished = true;
	call->status = status;
	percent_encode(call->message, sizeof(call->message), status ? message : NULL);
	if (call->responded || status == GRPC_OK)
		return respond(call);
	/* Trailers-Only: one HEADERS frame that ends the stream. */
	snprintf(s, sizeof(s), "%d", status);
	nghttp2_nv hdrs[] = {
		NV(":status", "200"),
		NV("content-type", "application/grpc"),
		{ (uint8_t *)"grpc-status", (uint8_t *)s, 11, strlen(s), NGHTTP2_NV_FLAG_NONE },
		{ (uint8_t *)"grpc-message", (uint8_t *)call->message, 12, strlen(call->message),
		  NGHTTP2_NV_FLAG_NONE },
	};
	call->responded = true;
	return nghttp2_submit_response(call->conn->h2, call->stream_id, hdrs,
				       call->message[0] ? 4 : 3, NULL)
		   ? -EIO
		   : 0;
}

int grpc_call_reply(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	if (call->finished)
		return -EINVAL;
	if (buf_add_message(&call->out, msg, len) < 0)
		return grpc_call_finish(call, GRPC_RESOURCE_EXHAUSTED, "out of memory");
	return grpc_call_finish(call, GRPC_OK, NULL);
}

/* --- the server's nghttp2 callbacks --- */

static int on_begin_headers(nghttp2_session *h2, const nghttp2_frame *frame, void *user)
{
	struct conn *c = user;
	struct grpc_call *call;

	(void)h2;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if ((call = calloc(1, sizeof(*call))) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	call->conn = c;
	call->stream_id = frame->hd.stream_id;
	call->next = c->calls;
	c->calls = call;
	return 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct grpc_call *call = find_call(user, frame->hd.stream_id);

	(void)h2, (void)flags;
	if (call == NULL || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (namelen == 5 && memcmp(name, ":path", 5) == 0 && valuelen < MAX_PATH_LEN) {
		memcpy(call->path, value, valuelen);
		call->path[valuelen] = '\0';
	} else if (namelen == 12 && memcmp(name, "content-type", 12) == 0) {
		call->grpc_content = (valuelen == 16 || (valuelen > 16 && value[16] == '+') ||
				      (valuelen > 16 && value[16] == ';')) &&
				     memcmp(value, "application/grpc", 16) == 0;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *h2, uint8_t flags, int32_t stream_id, const uint8_t *data,
			 size_t len, void *user)
{
	struct grpc_call *call = find_call(user, stream_id);

	(void)flags;
	if (call == NULL || call->finished)
		return 0;
	if (call->in.len + len > GRPC_MAX_MESSAGE + 5 || call->conn->in_held + len > CONN_MAX_IN) {
		grpc_call_finish(call, GRPC_RESOURCE_EXHAUSTED, "request too large");
		nghttp2_submit_rst_stream(h2, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_NO_ERROR);
		call_free_input(call);
		return 0;
	}
	if (buf_add(&call->in, data, len) < 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	call->conn->in_held += len;
	return 0;
}

/* The request is complete (END_STREAM): dispatch it. */
static void dispatch(struct grpc_call *call)
{
	struct grpc_server *s = call->conn->srv;
	const struct grpc_method *m = s->ops.methods;
	const char *why = NULL;
	const uint8_t *msg;
	size_t len;
	int status;

	if (call->finished)
		return;
	if (!call->grpc_content) {
		grpc_call_finish(call, GRPC_INVALID_ARGUMENT,
				 "content-type is not application/grpc");
		return;
	}
	while (m->path && strcmp(m->path, call->path) != 0)
		m++;
	if (m->path == NULL) {
		grpc_call_finish(call, GRPC_UNIMPLEMENTED, "unknown method");
		return;
	}
	if ((status = unframe(&call->in, &msg, &len, &why)) != GRPC_OK) {
		grpc_call_finish(call, status, why);
		return;
	}
	m->handler(call, msg, len, s->ops.data);
	call_free_input(call);
	if (!call->finished)
		call->kept = true;
}

static int on_frame_recv(nghttp2_session *h2, const nghttp2_frame *frame, void *user)
{
	struct grpc_call *call;

	(void)h2;
	if ((frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) ||
	    !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	if ((call = find_call(user, frame->hd.stream_id)) != NULL)
		dispatch(call);
	return 0;
}

static void drop_call(struct conn *c, struct grpc_call *call)
{
	for (struct grpc_call **p = &c->calls; *p; p = &(*p)->next)
		if (*p == call) {
			*p = call->next;
			break;
		}
	if (call->kept && !call->finished && c->srv && c->srv->ops.on_close)
		c->srv->ops.on_close(call, c->srv->ops.data);
	call_free(call);
}

static int on_stream_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code, void *user)
{
	struct grpc_call *call = find_call(user, stream_id);

	(void)h2, (void)error_code;
	if (call)
		drop_call(user, call);
	return 0;
}

/* --- connections (both sides) --- */

/* Moves what nghttp2 has to send into c->out, then as much as the socket takes. */
static int conn_flush(struct conn *c)
{
	while (buf_pending(&c->out) < OUT_HIGH_WATER) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(c->h2, &p);

		if (n < 0)
			return -EIO;
		if (n == 0)
			break;
		if (buf_add(&c->out, p, n) < 0)
			return -ENOMEM;
	}
	while (buf_pending(&c->out)) {
		ssize_t n = send(c->fd, c->out.data + c->out.off, buf_pending(&c->out),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0)
			return -errno;
		c->out.off += n;
	}
	return 0;
}

/* Reads what the socket has and feeds it to nghttp2: 0, or <0 when the connection is over. */
static int conn_read(struct conn *c)
{
	uint8_t buf[16384];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return n < 0 ? -errno : -ECONNRESET;
	if (nghttp2_session_mem_recv(c->h2, buf, n) < 0)
		return -EPROTO;
	return 0;
}

static short conn_events(struct conn *c)
{
	short ev = 0;

	if (nghttp2_session_want_read(c->h2))
		ev |= POLLIN;
	if (buf_pending(&c->out) || nghttp2_session_want_write(c->h2))
		ev |= POLLOUT;
	return ev;
}

static void conn_free(struct conn *c)
{
	while (c->calls)
		drop_call(c, c->calls);
	nghttp2_session_del(c->h2);
	if (c->fd >= 0)
		close(c->fd);
	free(c->out.data);
	free(c);
}

static nghttp2_session_callbacks *server_callbacks(void)
{
	nghttp2_session_callbacks *cb;

	if (nghttp2_session_callbacks_new(&cb) != 0)
		return NULL;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	return cb;
}

static void accept_conn(struct grpc_server *s)
{
	nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, MAX_STREAMS } };
	nghttp2_session_callbacks *cb;
	struct conn *c;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (s->nconns >= MAX_CONNECTIONS || (c = calloc(1, sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->srv = s;
	if ((cb = server_callbacks()) == NULL || nghttp2_session_server_new(&c->h2, cb, c) != 0 ||
	    nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, ARRAY_SIZE(iv)) != 0) {
		if (cb)
			nghttp2_session_callbacks_del(cb);
		c->srv = NULL;
		conn_free(c);
		return;
	}
	nghttp2_session_callbacks_del(cb);
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
}

int grpc_server_new(int listen_fd, const struct grpc_server_ops *ops, struct grpc_server **out,
		    err_t *err)
{
	struct grpc_server *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(listen_fd);
		return err_sys(err, ENOMEM, "gRPC server");
	}
	s->listen_fd = listen_fd;
	s->ops = *ops;
	*out = s;
	return 0;
}

void grpc_server_free(struct grpc_server *s)
{
	if (s == NULL)
		return;
	while (s->conns) {
		struct conn *c = s->conns;

		s->conns = c->next;
		conn_free(c);
	}
	close(s->listen_fd);
	free(s);
}

/* Flushes every connection and drops those that are over. */
static void reap_conns(struct grpc_server *s)
{
	for (struct conn **p = &s->conns; *p;) {
		struct conn *c = *p;

		if (!c->dead && conn_flush(c) < 0)
			c->dead = true;
		if (!c->dead && !nghttp2_session_want_read(c->h2) &&
		    !nghttp2_session_want_write(c->h2) && !buf_pending(&c->out))
			c->dead = true;
		if (c->dead) {
			*p = c->next;
			s->nconns--;
			conn_free(c);
		} else {
			p = &c->next;
		}
	}
}

int grpc_server_serve(struct grpc_server *s, int wake_fd, err_t *err)
{
	for (;;) {
		struct pollfd pfd[2 + MAX_CONNECTIONS];
		struct conn *conn_at[MAX_CONNECTIONS];
		nfds_t n = 2;

		reap_conns(s);
		pfd[0] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (struct conn *c = s->conns; c; c = c->next) {
			conn_at[n - 2] = c;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = conn_events(c) };
		}
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, errno, "gRPC server: poll");
		}
		if (pfd[0].revents && s->ops.on_wake(s->ops.data))
			return 0;
		if (pfd[1].revents & POLLIN)
			accept_conn(s);
		for (nfds_t i = 2; i < n; i++) {
			struct conn *c = conn_at[i - 2];

			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) && conn_read(c) < 0)
				c->dead = true;
		}
	}
}

/* --- the client: one unary call --- */

struct client_call {
	int32_t stream_id;
	struct buf req, resp;
	bool closed, http_ok;
	int grpc_status; /* -1: none received */
	char grpc_message[160];
	uint32_t rst_code;
};

static ssize_t read_req(nghttp2_session *h2, int32_t stream_id, uint8_t *buf, size_t length,
			uint32_t *flags, nghttp2_data_source *source, void *user)
{
	struct buf *b = source->ptr;
	size_t n = buf_pending(b);

	(void)h2, (void)stream_id, (void)user;
	n = n < length ? n : length;
	memcpy(buf, b->data + b->off, n);
	b->off += n;
	if (!buf_pending(b))
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return n;
}

static int client_on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
			    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
			    void *user)
{
	struct client_call *cc = user;

	(void)h2, (void)flags;
	if (frame->hd.stream_id != cc->stream_id)
		return 0;
	if (namelen == 7 && memcmp(name, ":status", 7) == 0)
		cc->http_ok = valuelen == 3 && memcmp(value, "200", 3) == 0;
	else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
		cc->grpc_status = valuelen && valuelen < 4 ? atoi((const char *)value) : 2;
	else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0)
		snprintf(cc->grpc_message, sizeof(cc->grpc_message), "%.*s",
			 (int)(valuelen < 150 ? valuelen : 150), (const char *)value);
	return 0;
}

static int client_on_data(nghttp2_session *h2, uint8_t flags, int32_t stream_id,
			  const uint8_t *data, size_t len, void *user)
{
	struct client_call *cc = user;

	(void)h2, (void)flags;
	if (stream_id != cc->stream_id)
		return 0;
	if (cc->resp.len + len > GRPC_MAX_MESSAGE + 5)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return buf_add(&cc->resp, data, len) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

static int client_on_close(nghttp2_session *h2, int32_t stream_id, uint32_t error_code, void *user)
{
	struct client_call *cc = user;

	(void)h2;
	if (stream_id == cc->stream_id) {
		cc->closed = true;
		cc->rst_code = error_code;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int unix_connect(const char *path, err_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(err, ENAMETOOLONG, "%s: socket path too long", path);
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return err_sys(err, errno, "connect to %s", path);
	return steal_fd(fd);
}

/* Drives the session until the call's stream closes or the deadline passes. */
static int client_run(struct conn *c, struct client_call *cc, long deadline, err_t *err)
{
	while (!cc->closed) {
		struct pollfd pfd = { .fd = c->fd };
		long left = deadline - now_ms();
		int ret;

		if ((ret = conn_flush(c)) < 0)
			return err_sys(err, -ret, "send");
		pfd.events = conn_events(c);
		if (left <= 0)
			return err_set(err, ETIMEDOUT, "no answer in time");
		if ((ret = poll(&pfd, 1, left)) < 0 && errno != EINTR)
			return err_sys(err, errno, "poll");
		if (ret > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) &&
		    (ret = conn_read(c)) < 0 && !cc->closed)
			return ret == -EPROTO ? err_set(err, EPROTO, "not an HTTP/2 server")
					      : err_sys(err, -ret, "read");
	}
	return 0;
}

static int client_result(struct client_call *cc, uint8_t **resp, size_t *resp_len, err_t *err)
{
	const char *why = NULL;
	const uint8_t *msg;
	size_t len;

	if (cc->grpc_status < 0)
		return err_set(err, EPROTO, "no gRPC status (stream closed with %s)",
			       nghttp2_http2_strerror(cc->rst_code));
	if (cc->grpc_status != GRPC_OK)
		return err_set(err, EREMOTEIO, "grpc-status %d: %s", cc->grpc_status,
			       cc->grpc_message);
	if (!cc->http_ok)
		return err_set(err, EPROTO, "HTTP status is not 200");
	if (unframe(&cc->resp, &msg, &len, &why) != GRPC_OK)
		return err_set(err, EPROTO, "response: %s", why);
	if ((*resp = malloc(len ? len : 1)) == NULL)
		return err_sys(err, ENOMEM, "response");
	memcpy(*resp, msg, len);
	*resp_len = len;
	return 0;
}

int grpc_unary_call(const char *sock, const char *method, const uint8_t *req, size_t req_len,
		    uint8_t **resp, size_t *resp_len, int timeout_ms, err_t *err)
{
	struct client_call cc = { .grpc_status = -1 };
	struct conn c = { .fd = -1 };
	nghttp2_session_callbacks *cb = NULL;
	long deadline = now_ms() + timeout_ms;
	nghttp2_data_provider prd = { .source.ptr = &cc.req, .read_callback = read_req };
	nghttp2_nv hdrs[] = {
		NV(":method", "POST"),
		NV(":scheme", "http"),
		{ (uint8_t *)":path", (uint8_t *)method, 5, strlen(method), NGHTTP2_NV_FLAG_NONE },
		NV(":authority", "localhost"),
		NV("content-type", "application/grpc"),
		NV("te", "trailers"),
	};
	int ret;

	*resp = NULL;
	*resp_len = 0;
	if ((ret = buf_add_message(&cc.req, req, req_len)) < 0) {
		ret = err_sys(err, -ret, "%s", method);
		goto out;
	}
	if ((c.fd = unix_connect(sock, err)) < 0) {
		ret = c.fd;
		goto wrap;
	}
	if (nghttp2_session_callbacks_new(&cb) != 0) {
		ret = err_sys(err, ENOMEM, "%s", method);
		goto out;
	}
	nghttp2_session_callbacks_set_on_header_callback(cb, client_on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, client_on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, client_on_close);
	if (nghttp2_session_client_new(&c.h2, cb, &cc) != 0 ||
	    nghttp2_submit_settings(c.h2, NGHTTP2_FLAG_NONE, NULL, 0) != 0 ||
	    (cc.stream_id =
		 nghttp2_submit_request(c.h2, NULL, hdrs, ARRAY_SIZE(hdrs), &prd, NULL)) < 0) {
		ret = err_set(err, EIO, "%s: cannot start the HTTP/2 session", method);
		goto out;
	}
	if ((ret = client_run(&c, &cc, deadline, err)) == 0)
		ret = client_result(&cc, resp, resp_len, err);
wrap:
	if (ret < 0)
		err_wrap(err, "%s on %s", method, sock);
out:
	if (cb)
		nghttp2_session_callbacks_del(cb);
	nghttp2_session_del(c.h2);
	if (c.fd >= 0)
		close(c.fd);
	free(c.out.data);
	free(cc.req.data);
	free(cc.resp.data);
	return ret;
}
