/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ttrpc framing (containerd/ttrpc PROTOCOL.md): a 10-byte header, a
 * big-endian u32 data length, a big-endian u32 stream id, a u8 type and a
 * u8 flags byte, then the data (at most 4 MiB). Unary calls only: a client
 * sends a Request frame on a new odd stream id, the server answers one
 * Response frame on the same id. The messages themselves (Request,
 * Response, Status) are protobuf, through protobuf-c (proto/ttrpc.proto).
 */
#ifndef SHIM_TTRPC_H
#define SHIM_TTRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define TTRPC_HDR_LEN  10
#define TTRPC_MAX_DATA (4u << 20)

enum ttrpc_type {
	TTRPC_REQUEST = 1,
	TTRPC_RESPONSE = 2,
	TTRPC_DATA = 3,
};

/* gRPC status codes, as containerd's errdefs maps them. */
enum ttrpc_code {
	TTRPC_OK = 0,
	TTRPC_CANCELED = 1,
	TTRPC_UNKNOWN = 2,
	TTRPC_INVALID_ARGUMENT = 3,
	TTRPC_DEADLINE_EXCEEDED = 4,
	TTRPC_NOT_FOUND = 5,
	TTRPC_ALREADY_EXISTS = 6,
	TTRPC_PERMISSION_DENIED = 7,
	TTRPC_RESOURCE_EXHAUSTED = 8,
	TTRPC_FAILED_PRECONDITION = 9,
	TTRPC_ABORTED = 10,
	TTRPC_UNIMPLEMENTED = 12,
	TTRPC_INTERNAL = 13,
	TTRPC_UNAVAILABLE = 14,
};

struct ttrpc_hdr {
	uint32_t len;
	uint32_t stream;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_hdr_encode(const struct ttrpc_hdr *h, uint8_t out[TTRPC_HDR_LEN]);
void ttrpc_hdr_decode(const uint8_t in[TTRPC_HDR_LEN], struct ttrpc_hdr *h);

/* Receive side: bytes in, whole frames out, however the bytes were split. */
struct ttrpc_rx {
	uint8_t *buf;
	size_t off; /* consumed bytes at the start of buf */
	size_t len; /* bytes in buf, consumed ones included */
	size_t cap;
	size_t skip; /* data of an oversize frame still to discard */
};

enum {
	TTRPC_RX_MORE = 0,     /* no whole frame yet */
	TTRPC_RX_FRAME = 1,    /* *h and *data: one frame (data valid until the next call) */
	TTRPC_RX_OVERSIZE = 2, /* *h: a frame over TTRPC_MAX_DATA, its data discarded */
};

int ttrpc_rx_feed(struct ttrpc_rx *rx, const void *data, size_t n, err_t *err);
int ttrpc_rx_next(struct ttrpc_rx *rx, struct ttrpc_hdr *h, const uint8_t **data);
void ttrpc_rx_free(struct ttrpc_rx *rx);

/* A request's stream id must be odd and above the last one (0 at first). */
int ttrpc_check_stream(uint32_t *last, uint32_t id, err_t *err);

/* Transmit side: frames queued in out, written without blocking. */
struct ttrpc_tx {
	uint8_t *buf;
	size_t off, len, cap;
};

int ttrpc_tx_frame(struct ttrpc_tx *tx, uint32_t stream, uint8_t type, uint8_t flags,
		   const void *data, size_t len, err_t *err);
/* Writes what it can: 0 when all is written, 1 when some is left, < 0 on error. */
int ttrpc_tx_flush(struct ttrpc_tx *tx, int fd, err_t *err);
static inline bool ttrpc_tx_pending(const struct ttrpc_tx *tx)
{
	return tx->len > tx->off;
}
void ttrpc_tx_free(struct ttrpc_tx *tx);

/* Queues a Response frame: status code and message, and payload when code is OK. */
int ttrpc_tx_response(struct ttrpc_tx *tx, uint32_t stream, int code, const char *msg,
		      const void *payload, size_t len, err_t *err);

/* The connected peer has our effective uid and gid (SO_PEERCRED). */
int ttrpc_check_peer(int fd, err_t *err);

/*
 * A blocking unary call on a connected socket (the event publisher's):
 * sends service/method with payload on *stream (then advanced by 2) plus
 * one metadata pair if key is not NULL, waits up to timeout_ms for the
 * answer. A non-OK status is an error naming it.
 */
int ttrpc_call(int fd, uint32_t *stream, const char *service, const char *method,
	       const void *payload, size_t len, const char *key, const char *value, int timeout_ms,
	       err_t *err);

#endif
