/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The little of gRPC a device plugin needs, on unix sockets: HTTP/2 from
 * libnghttp2 (plaintext, prior knowledge), gRPC's message framing (a flag
 * byte, a 4-byte big-endian length, the protobuf bytes) and status
 * trailers. A server with unary and server-streaming calls, and a unary
 * client (Registration.Register on the kubelet's socket).
 */
#ifndef DEVPLUG_GRPC_H
#define DEVPLUG_GRPC_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* gRPC status codes (grpc/doc/statuscodes.md) used here. */
enum grpc_status {
	GRPC_OK = 0,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
};

/* Requests larger than this are refused (gRPC's default receive limit). */
#define GRPC_MAX_MESSAGE (4u << 20)

struct grpc_server;
struct grpc_call;

/*
 * A method's handler gets the request's message (the protobuf bytes) once
 * the client has sent all of it, and must answer: grpc_call_reply or
 * grpc_call_finish, or, for a server stream, grpc_call_send now and later,
 * until grpc_call_finish or the peer goes (on_close).
 */
typedef void (*grpc_handler_fn)(struct grpc_call *call, const uint8_t *msg, size_t len, void *data);
struct grpc_method {
	const char *path; /* "/package.Service/Method" */
	grpc_handler_fn handler;
};

struct grpc_server_ops {
	const struct grpc_method *methods; /* ended by a NULL path */
	/* A call the handler kept open went away (peer reset, connection closed, server freed). */
	void (*on_close)(struct grpc_call *call, void *data);
	/* wake_fd became readable; non-zero stops grpc_server_serve. */
	int (*on_wake)(void *data);
	void *data;
};

/* Takes listen_fd (a listening unix socket) over, whatever the result. */
int grpc_server_new(int listen_fd, const struct grpc_server_ops *ops, struct grpc_server **out,
		    err_t *err);
/* Serves until on_wake says stop, or a fatal error. */
int grpc_server_serve(struct grpc_server *s, int wake_fd, err_t *err);
void grpc_server_free(struct grpc_server *s);

/* Unary: one response message and status OK. */
int grpc_call_reply(struct grpc_call *call, const uint8_t *msg, size_t len);
/* Streaming: one more response message; the call stays open. */
int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len);
/* Ends the call with status (and message when not OK). */
int grpc_call_finish(struct grpc_call *call, enum grpc_status status, const char *message);

/*
 * Calls sock's method with one request message and waits at most
 * timeout_ms for the whole answer: 0 with the response message in *resp
 * (malloc'd), or a negative errno with err naming what failed (a gRPC
 * status other than OK: "grpc-status 3: why").
 */
int grpc_unary_call(const char *sock, const char *method, const uint8_t *req, size_t req_len,
		    uint8_t **resp, size_t *resp_len, int timeout_ms, err_t *err);

#endif
