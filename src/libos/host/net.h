/* SPDX-License-Identifier: Apache-2.0 */
/* The LibOS PAL's socket pass-through (LIBOS_OCALL_NET), see net.c. */
#ifndef LIBOS_HOST_NET_H
#define LIBOS_HOST_NET_H

#include "libos/libos_abi.h"

/* Netcall numbers beyond Linux's (the LibOS has its copy): wake an epoll_wait of that epoll fd. */
#define LIBOS_NETCALL_KICK 100000

/* Serves one netcall; stopping() says the workload ends (blocking waits return -EINTR). */
long net_call(struct libos_mailbox *mb, int (*stopping)(void));

/* Closes every socket and epoll the enclave opened. */
void net_close_all(void);

#endif
