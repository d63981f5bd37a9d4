/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc framing: see ttrpc.h. */
#include "shim/ttrpc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "ttrpc.pb-c.h"

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void ttrpc_hdr_encode(const struct ttrpc_hdr *h, uint8_t out[TTRPC_HDR_LEN])
{
	put_be32(out, h->len);
	put_be32(out + 4, h->stream);
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h)
{
	h->len = get_be32(in);
	h->stream = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

static int grow(uint8_t **buf, size_t *cap, size_t need, err_t *err)
{
	size_t n = *cap ? *cap : 4096;
	uint8_t *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (p == NULL)
		return err_sys(err, ENOMEM, "ttrpc buffer of %zu bytes", n);
	*buf = p;
	*cap = n;
	return 0;
}

int ttrpc_rx_feed(struct ttrpc_rx *rx, const void *data, size_t n, err_t *err)
{
	const uint8_t *p = data;
	size_t k;

	/* the rest of an oversize frame never reaches the buffer */
	k = rx->skip < n ? rx->skip : n;
	rx->skip -= k;
	p += k;
	n -= k;
	if (n == 0)
		return 0;
	if (rx->off) {
		memmove(rx->buf, rx->buf + rx->off, rx->len - rx->off);
		rx->len -= rx->off;
		rx->off = 0;
	}
	if (grow(&rx->buf, &rx->cap, rx->len + n, err) < 0)
		return -ENOMEM;
	memcpy(rx->buf + rx->len, p, n);
	rx->len += n;
	return 0;
}

int ttrpc_rx_next(struct ttrpc_rx *rx, struct ttrpc_hdr *h, const uint8_t **data)
{
	size_t avail = rx->len - rx->off;

	if (avail < TTRPC_HDR_LEN)
		return TTRPC_RX_MORE;
	ttrpc_hdr_decode(rx->buf + rx->off, h);
	if (h->len > TTRPC_MAX_DATA) {
		size_t have = avail - TTRPC_HDR_LEN;
		size_t k = have < h->len ? have : h->len;

		rx->off += TTRPC_HDR_LEN + k;
		rx->skip = h->len - k;
		*data = NULL;
		return TTRPC_RX_OVERSIZE;
	}
	if (avail - TTRPC_HDR_LEN < h->len)
		return TTRPC_RX_MORE;
	*data = rx->buf + rx->off + TTRPC_HDR_LEN;
	rx->off += TTRPC_HDR_LEN + h->len;
	return TTRPC_RX_FRAME;
}

void ttrpc_rx_free(struct ttrpc_rx *rx)
{
	free(rx->buf);
	memset(rx, 0, sizeof(*rx));
}

int ttrpc_check_stream(uint32_t *last, uint32_t id, err_t *err)
{
	if (id % 2 == 0)
		return err_set(err, EINVAL, "stream id %u: must be odd", id);
	if (id <= *last)
		return err_set(err, EINVAL, "stream id %u: cannot be re-used and must increment",
			       id);
	*last = id;
	return 0;
}

int ttrpc_tx_frame(struct ttrpc_tx *tx, uint32_t stream, uint8_t type, uint8_t flags,
		   const void *data, size_t len, err_t *err)
{
	struct ttrpc_hdr h = {
		.len = (uint32_t)len, .stream = stream, .type = type, .flags = flags
	};

	if (len > TTRPC_MAX_DATA)
		return err_set(err, EMSGSIZE, "ttrpc message of %zu bytes: over %u", len,
			       TTRPC_MAX_DATA);
	if (tx->off == tx->len)
		tx->off = tx->len = 0;
	if (grow(&tx->buf, &tx->cap, tx->len + TTRPC_HDR_LEN + len, err) < 0)
		return -ENOMEM;
	ttrpc_hdr_encode(&h, tx->buf + tx->len);
	if (len)
		memcpy(tx->buf + tx->len + TTRPC_HDR_LEN, data, len);
	tx->len += TTRPC_HDR_LEN + len;
	return 0;
}

int ttrpc_tx_flush(struct ttrpc_tx *tx, int fd, err_t *err)
{
	while (tx->off < tx->len) {
		ssize_t n =
		    send(fd, tx->buf + tx->off, tx->len - tx->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n < 0)
			return err_sys(err, errno, "write to ttrpc connection");
		tx->off += (size_t)n;
	}
	tx->off = tx->len = 0;
	return 0;
}

void ttrpc_tx_free(struct ttrpc_tx *tx)
{
	free(tx->buf);
	memset(tx, 0, sizeof(*tx));
}

int ttrpc_tx_response(struct ttrpc_tx *tx, uint32_t stream, int code, const char *msg,
		      const void *payload, size_t len, err_t *err)
{
	Ttrpc__Response resp = TTRPC__RESPONSE__INIT;
	Ttrpc__Status status = TTRPC__STATUS__INIT;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n;

	if (code != TTRPC_OK) {
		status.code = code;
		status.message = (char *)(msg ? msg : "");
		resp.status = &status;
	} else if (len) {
		resp.payload.data = (uint8_t *)payload;
		resp.payload.len = len;
	}
	n = ttrpc__response__get_packed_size(&resp);
	buf = malloc(n ? n : 1);
	if (buf == NULL)
		return err_sys(err, ENOMEM, "ttrpc response");
	ttrpc__response__pack(&resp, buf);
	return ttrpc_tx_frame(tx, stream, TTRPC_RESPONSE, 0, buf, n, err);
}

int ttrpc_check_peer(int fd, err_t *err)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return err_sys(err, errno, "SO_PEERCRED");
	if (cred.uid != geteuid() || cred.gid != getegid())
		return err_set(err, EPERM, "peer pid %d uid %u gid %u: not the shim's own user",
			       (int)cred.pid, cred.uid, cred.gid);
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Blocking write of the whole queue, bounded by deadline. */
static int tx_write_all(struct ttrpc_tx *tx, int fd, long long deadline, err_t *err)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		long long left = deadline - now_ms();
		int r = ttrpc_tx_flush(tx, fd, err);

		if (r <= 0)
			return r;
		if (left <= 0)
			return err_set(err, ETIMEDOUT, "ttrpc write: timed out");
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return err_sys(err, errno, "poll");
	}
}

static int response_status(const uint8_t *data, size_t len, err_t *err)
{
	Ttrpc__Response *resp = ttrpc__response__unpack(NULL, len, data);
	int ret = 0;

	if (resp == NULL)
		return err_set(err, EBADMSG, "ttrpc response: not a Response message");
	if (resp->status && resp->status->code != TTRPC_OK)
		ret = err_set(err, EREMOTEIO, "status %d: %s", resp->status->code,
			      resp->status->message ? resp->status->message : "");
	ttrpc__response__free_unpacked(resp, NULL);
	return ret;
}

int ttrpc_call(int fd, uint32_t *stream, const char *service, const char *method,
	       const void *payload, size_t len, const char *key, const char *value, int timeout_ms,
	       err_t *err)
{
	Ttrpc__Request req = TTRPC__REQUEST__INIT;
	Ttrpc__KeyValue kv = TTRPC__KEY_VALUE__INIT, *kvs[1] = { &kv };
	struct ttrpc_tx tx = { 0 };
	struct ttrpc_rx rx = { 0 };
	_cleanup_free_ uint8_t *buf = NULL;
	long long deadline = now_ms() + timeout_ms;
	uint32_t id = *stream;
	size_t n;
	int ret;

	req.service = (char *)service;
	req.method = (char *)method;
	req.payload.data = (uint8_t *)payload;
	req.payload.len = len;
	if (key) {
		kv.key = (char *)key;
		kv.value = (char *)value;
		req.metadata = kvs;
		req.n_metadata = 1;
	}
	n = ttrpc__request__get_packed_size(&req);
	buf = malloc(n ? n : 1);
	if (buf == NULL)
		return err_sys(err, ENOMEM, "ttrpc request");
	ttrpc__request__pack(&req, buf);
	*stream += 2;
	ret = ttrpc_tx_frame(&tx, id, TTRPC_REQUEST, 0, buf, n, err);
	if (ret == 0)
		ret = tx_write_all(&tx, fd, deadline, err);
	ttrpc_tx_free(&tx);
	if (ret < 0)
		goto out;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct ttrpc_hdr h;
		const uint8_t *data;
		uint8_t chunk[4096];
		long long left = deadline - now_ms();
		ssize_t r;

		ret = ttrpc_rx_next(&rx, &h, &data);
		if (ret == TTRPC_RX_FRAME && h.stream == id && h.type == TTRPC_RESPONSE) {
			ret = response_status(data, h.len, err);
			goto out;
		}
		if (ret != TTRPC_RX_MORE)
			continue; /* another stream's frame, or an oversize one: not ours */
		if (left <= 0) {
			ret = err_set(err, ETIMEDOUT, "ttrpc %s/%s: no answer in %d ms", service,
				      method, timeout_ms);
			goto out;
		}
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR) {
			ret = err_sys(err, errno, "poll");
			goto out;
		}
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			ret = err_sys(err, errno, "read from ttrpc connection");
			goto out;
		}
		if (r == 0) {
			ret = err_set(err, ECONNRESET, "ttrpc connection closed by the peer");
			goto out;
		}
		ret = ttrpc_rx_feed(&rx, chunk, (size_t)r, err);
		if (ret < 0)
			goto out;
	}
out:
	ttrpc_rx_free(&rx);
	return ret < 0 ? ret : 0;
}
