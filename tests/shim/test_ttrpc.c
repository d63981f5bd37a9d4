/* SPDX-License-Identifier: Apache-2.0 */
/* ttrpc framing: headers, frames split anyhow, oversize frames, stream ids, responses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/ttrpc.h"
#include "../tap.h"
#include "ttrpc.pb-c.h"

static size_t frame(uint8_t *out, uint32_t stream, uint8_t type, const char *data)
{
	struct ttrpc_hdr h = { .len = (uint32_t)strlen(data), .stream = stream, .type = type };

	ttrpc_hdr_encode(&h, out);
	memcpy(out + TTRPC_HDR_LEN, data, h.len);
	return TTRPC_HDR_LEN + h.len;
}

static void t_header(void)
{
	struct ttrpc_hdr h = { .len = 0x01020304, .stream = 7, .type = 1, .flags = 2 }, d;
	uint8_t b[TTRPC_HDR_LEN];
	static const uint8_t want[] = { 1, 2, 3, 4, 0, 0, 0, 7, 1, 2 };

	ttrpc_hdr_encode(&h, b);
	TAP_OK(memcmp(b, want, sizeof(want)) == 0,
	       "header: big-endian length, stream, type, flags");
	ttrpc_hdr_decode(b, &d);
	TAP_OK(d.len == h.len && d.stream == 7 && d.type == 1 && d.flags == 2, "header: decodes");
}

static void t_partial(void)
{
	struct ttrpc_rx rx = { 0 };
	uint8_t buf[64];
	size_t n = frame(buf, 1, TTRPC_REQUEST, "hello");
	struct ttrpc_hdr h;
	const uint8_t *d;
	int got = 0, r;

	n += frame(buf + n, 3, TTRPC_REQUEST, "");
	n += frame(buf + n, 5, TTRPC_REQUEST, "xyz");
	for (size_t i = 0; i < n; i++) { /* one byte at a time */
		ttrpc_rx_feed(&rx, buf + i, 1, NULL);
		while ((r = ttrpc_rx_next(&rx, &h, &d)) == TTRPC_RX_FRAME) {
			got++;
			if (got == 1)
				CHECK(h.stream == 1 && h.len == 5 && memcmp(d, "hello", 5) == 0);
			if (got == 2)
				CHECK(h.stream == 3 && h.len == 0);
			if (got == 3)
				CHECK(h.stream == 5 && h.len == 3 && memcmp(d, "xyz", 3) == 0);
		}
	}
	TAP_OK(got == 3, "partial reads: three frames fed byte by byte (%d)", got);
	ttrpc_rx_free(&rx);
	got = 0;
	ttrpc_rx_feed(&rx, buf, n, NULL);
	while (ttrpc_rx_next(&rx, &h, &d) == TTRPC_RX_FRAME)
		got++;
	TAP_OK(got == 3, "three frames in one read (%d)", got);
	ttrpc_rx_free(&rx);
}

static void t_oversize(void)
{
	struct ttrpc_rx rx = { 0 };
	struct ttrpc_hdr h = { .len = TTRPC_MAX_DATA + 1, .stream = 1, .type = 1 };
	uint8_t *big = calloc(1, TTRPC_HDR_LEN + TTRPC_MAX_DATA + 1 + 64);
	const uint8_t *d;
	size_t n, off = 0;
	int r, over = 0, frames = 0;

	ttrpc_hdr_encode(&h, big);
	n = TTRPC_HDR_LEN + h.len;
	n += frame(big + n, 3, TTRPC_REQUEST, "ok");
	while (off < n) { /* 64 KiB reads */
		size_t k = n - off < 65536 ? n - off : 65536;

		ttrpc_rx_feed(&rx, big + off, k, NULL);
		off += k;
		while ((r = ttrpc_rx_next(&rx, &h, &d)) != TTRPC_RX_MORE) {
			if (r == TTRPC_RX_OVERSIZE) {
				over++;
				CHECK(h.stream == 1);
			} else {
				frames++;
				CHECK(h.stream == 3 && h.len == 2);
			}
		}
	}
	TAP_OK(over == 1 && frames == 1, "oversize frame reported once, skipped, next frame read");
	TAP_OK(rx.cap < 1u << 20, "oversize data never buffered (%zu bytes)", rx.cap);
	ttrpc_rx_free(&rx);
	free(big);
	{
		struct ttrpc_tx tx = { 0 };
		int ret = ttrpc_tx_frame(&tx, 1, TTRPC_RESPONSE, 0, "", TTRPC_MAX_DATA + 1, NULL);

		TAP_OK(ret == -EMSGSIZE, "sending over 4 MiB refused");
		ttrpc_tx_free(&tx);
	}
}

static void t_streams(void)
{
	uint32_t last = 0;

	TAP_OK(ttrpc_check_stream(&last, 1, NULL) == 0 && ttrpc_check_stream(&last, 3, NULL) == 0,
	       "stream ids 1, 3 accepted");
	TAP_OK(ttrpc_check_stream(&last, 4, NULL) == -EINVAL, "even stream id refused");
	TAP_OK(ttrpc_check_stream(&last, 3, NULL) == -EINVAL, "re-used stream id refused");
	TAP_OK(ttrpc_check_stream(&last, 1, NULL) == -EINVAL, "decreasing stream id refused");
	TAP_OK(ttrpc_check_stream(&last, 9, NULL) == 0, "a gap is allowed");
}

static void t_response(void)
{
	struct ttrpc_tx tx = { 0 };
	struct ttrpc_rx rx = { 0 };
	struct ttrpc_hdr h;
	const uint8_t *d;
	uint8_t buf[256];
	int sv[2];
	ssize_t n;

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ttrpc_tx_response(&tx, 5, TTRPC_UNIMPLEMENTED, "method X", NULL, 0, NULL);
	ttrpc_tx_response(&tx, 7, TTRPC_OK, NULL, "\x08\x01", 2, NULL);
	TAP_OK(ttrpc_tx_flush(&tx, sv[0], NULL) == 0 && !ttrpc_tx_pending(&tx),
	       "responses written");
	n = read(sv[1], buf, sizeof(buf));
	ttrpc_rx_feed(&rx, buf, (size_t)n, NULL);
	if (ttrpc_rx_next(&rx, &h, &d) == TTRPC_RX_FRAME) {
		Ttrpc__Response *r = ttrpc__response__unpack(NULL, h.len, d);

		TAP_OK(r && h.stream == 5 && h.type == TTRPC_RESPONSE && r->status &&
			   r->status->code == 12 && strcmp(r->status->message, "method X") == 0,
		       "Unimplemented status decodes");
		ttrpc__response__free_unpacked(r, NULL);
	} else {
		TAP_OK(0, "Unimplemented status decodes");
	}
	if (ttrpc_rx_next(&rx, &h, &d) == TTRPC_RX_FRAME) {
		Ttrpc__Response *r = ttrpc__response__unpack(NULL, h.len, d);

		TAP_OK(r && h.stream == 7 && r->status == NULL && r->payload.len == 2,
		       "OK response carries the payload");
		ttrpc__response__free_unpacked(r, NULL);
	} else {
		TAP_OK(0, "OK response carries the payload");
	}
	TAP_OK(ttrpc_check_peer(sv[0], NULL) == 0, "SO_PEERCRED: our own user accepted");
	ttrpc_rx_free(&rx);
	ttrpc_tx_free(&tx);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	t_header();
	t_partial();
	t_oversize();
	t_streams();
	t_response();
	return tap_exit();
}
