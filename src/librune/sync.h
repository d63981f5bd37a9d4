/* SPDX-License-Identifier: Apache-2.0 */
/* Messages between rune and the processes it spawns (SOCK_SEQPACKET, one struct a message). */
#ifndef RUNE_SYNC_H
#define RUNE_SYNC_H

#include <stdint.h>

#include "common/error.h"

enum sync_type {
	SYNC_GO = 1,	   /* parent -> child: the init is in its cgroups */
	SYNC_PTY,	   /* child -> parent, with the pty master fd */
	SYNC_HOOKS,	   /* child -> parent: run prestart/createRuntime now */
	SYNC_HOOKS_DONE,   /* parent -> child */
	SYNC_READY,	   /* child -> parent: waiting for start */
	SYNC_PID,	   /* exec: the process's pid (in value) */
	SYNC_ERROR,	   /* either way: code + message */
	SYNC_MAPS,	   /* parent -> child: user namespace id maps are written */
	SYNC_SECCOMP,	   /* exec: the process -> rune, with its seccomp listener fd */
	SYNC_SECCOMP_DONE, /* rune -> the process: the agent has it */
	SYNC_MOUNT_NS,	   /* init -> rune, with its mount namespace: open the bind sources */
	SYNC_MOUNT_FD,	   /* rune -> init, with the source of mount number value */
	SYNC_MOUNT_DONE,   /* the helper that opened them -> rune */
};

struct sync_msg {
	int32_t type;
	int32_t code;  /* positive errno for SYNC_ERROR */
	int64_t value; /* pid for SYNC_PID */
	char msg[2048];
};

int sync_send(int fd, enum sync_type type, int64_t value, int passfd);
/* Sends an error message built from err (or the errno code alone). */
int sync_send_error(int fd, err_t err, int code);
/* Receives one message; *fd gets a passed fd (or -1). Returns -ECONNRESET on EOF. */
int sync_recv(int fd, struct sync_msg *m, int *passfd);
/* Waits for a message of type want; SYNC_ERROR or EOF become an error in *err. */
int sync_expect(int fd, enum sync_type want, struct sync_msg *m, int *passfd, const char *who,
		err_t *err);

#endif
