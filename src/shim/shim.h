/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd-shim-rune-v2: one daemon per group of containers (a CRI pod),
 * a single-threaded poll() loop serving containerd.task.v2.Task over ttrpc
 * and reaping the containers' processes as a child subreaper.
 */
#ifndef SHIM_SHIM_H
#define SHIM_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "common/error.h"
#include "shim/ttrpc.h"

#define SHIM_SERVICE	"containerd.task.v2.Task"
#define SHIM_SOCKET_DIR "/run/containerd/s"
#define SHIM_RUNE_ROOT	"/run/containerd/runc"

struct conn {
	struct conn *next;
	int fd;
	uint32_t last_stream;
	struct ttrpc_rx rx;
	struct ttrpc_tx tx;
	bool closing; /* flush, then close (Shutdown) */
};

struct container {
	struct container *next;
	char *id;
	char *bundle;
	char *stdio[3];
	bool mounted; /* rootfs mounted by the shim */
	pid_t pid;
	int status; /* SHIM__STATUS__* */
	bool exited;
	uint32_t exit_status;
	struct timespec exited_at;
};

struct wait {
	struct wait *next;
	struct conn *conn;
	uint32_t stream;
	char *id;
};

struct publisher {
	const char *address; /* TTRPC_ADDRESS, or NULL: no events */
	int fd;
	uint32_t stream;
};

struct shim {
	const char *ns;
	const char *id;
	const char *address;
	bool debug;
	char *rune; /* the runtime binary */
	char *root; /* its --root */
	int listen_fd;
	int signal_fd;
	struct conn *conns;
	struct container *containers;
	struct wait *waits;
	struct publisher pub;
	bool exit; /* leave the loop */
};

/* server.c */
int shim_serve(struct shim *s, err_t *err);
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* task.c: one request; answers through the connection (or later, for Wait). */
void task_dispatch(struct shim *s, struct conn *c, uint32_t stream, const char *method,
		   const uint8_t *payload, size_t len);
void task_reaped(struct shim *s, pid_t pid, int wstatus);
void task_conn_closed(struct shim *s, struct conn *c);
void task_free_all(struct shim *s);
int reply(struct conn *c, uint32_t stream, int code, const char *msg, const void *payload,
	  size_t len);

/* rune.c: runs `rune --root R [--log B/log.json --log-format json] ARGS...`. */
struct rune_io {
	int fds[3]; /* the child's stdio, -1: /dev/null (stdout/stderr: captured) */
	char **out; /* if not NULL: what it wrote on stdout */
};
int rune_run(struct shim *s, const char *bundle, const char *const *args, struct rune_io *io,
	     err_t *err);
char *rune_find(void);

/* events.c */
int publish(struct shim *s, const char *topic, const char *type, const void *msg_packed,
	    size_t len);

#endif
