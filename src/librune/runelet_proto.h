/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The runelet protocol: how `rune exec`, `rune attest` and `rune kill`
 * (through exec's proxy) talk to init-runelet. A SOCK_SEQPACKET unix socket,
 * runelet.sock in the container's state directory; one JSON object a
 * datagram (at most RUNELET_MSG_MAX bytes), "type" naming it; stdio fds ride
 * along with SCM_RIGHTS.
 *
 *   rune -> runelet                         runelet -> rune
 *   {"type":"exec","path","argv","env"}     {"type":"started","pid"}, later
 *     + 3 fds: the process's stdio          {"type":"exit","code"}
 *   {"type":"kill","signal"} (during exec)
 *   {"type":"attest","report_data"?,        {"type":"report","report":HEX}
 *    "target_info"?}  (hex)
 *                                           {"type":"error","code","msg"} to any
 */
#ifndef RUNE_RUNELET_PROTO_H
#define RUNE_RUNELET_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define RUNELET_SOCKET_NAME "runelet.sock"
#define RUNELET_MSG_MAX	    65536

/* Sends j (and up to 3 fds); 0 or -errno (-E2BIG past RUNELET_MSG_MAX). */
int runelet_send(int fd, json_t *j, const int *fds, size_t nfds);
/* The next message (NULL at EOF or on garbage); passed fds in fds/nfds (max 3). */
json_t *runelet_recv(int fd, int *fds, size_t *nfds);
void runelet_reply_error(int conn, int code, const char *msg);

#endif
