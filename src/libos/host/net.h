/* SPDX-License-Identifier: Apache-2.0 */
/* The LibOS PAL's socket pass-through (LIBOS_OCALL_NET), see net.c. */
#ifndef LIBOS_HOST_NET_H
#define LIBOS_HOST_NET_H

#include "libos/libos_abi.h"

/* Netcall numbers beyond Linux's (the LibOS has its copy): wake an epoll_wait of that epoll fd. */
#define LIBOS_NETCALL_KICK 100000
/* Wait until a[0] is readable: a[1] milliseconds (< 0: no limit): 1, 0, or -EINTR. */
#define LIBOS_NETCALL_POLLIN 100001

/* Serves one netcall; stopping() says the workload ends (blocking waits return -EINTR). */
long net_call(struct libos_mailbox *mb, int (*stopping)(void));

/* The PAL's root (a directory descriptor): unix socket paths are bound and connected inside it. */
void net_set_root(int rootfd);

/* Closes every socket and epoll the enclave opened. */
void net_close_all(void);

/* fd is a socket the enclave opened (not an epoll). */
int net_owns(int fd);

/* In a child of fork(): only the descriptors in keep are still the enclave's. */
void net_after_fork(const int *keep, int n);

#endif
