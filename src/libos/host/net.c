// SPDX-License-Identifier: Apache-2.0
/*
 * Sockets of the LibOS's workload, passed through to the host: the
 * enclave asks for one system call at a time (LIBOS_OCALL_NET) with its
 * pointer arguments replaced by bytes in the mailbox. Only descriptors the
 * enclave created here (sockets, accepted connections, epoll instances)
 * may be named, so the enclave never reaches the PAL's or rune's own
 * descriptors. An epoll instance has a kick eventfd: the LibOS wakes a
 * thread blocked in a host epoll_wait when something inside the enclave
 * (a pipe, an eventfd) becomes ready. A unix socket's path is the
 * enclave's view: bound and connected inside the PAL's root (resolved as
 * allowed files are), and given back without the root's prefix.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "net.h"

#define MAX_OWNED 1024
#define SLICE_MS  50
#define KICK_DATA UINT64_MAX

static struct {
	pthread_mutex_t lock;
	int fd[MAX_OWNED];
	int kick[MAX_OWNED]; /* for an epoll fd: its eventfd; else -1 */
	int n;
} owned = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The PAL's root (net_set_root): its descriptor and its path on the host ("" for "/"). */
static int root_fd = -1;
static char root_path[PATH_MAX];

void net_set_root(int rootfd)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", rootfd);
	n = readlink(link, root_path, sizeof(root_path) - 1);
	root_path[n > 0 ? n : 0] = 0;
	root_fd = n > 0 ? rootfd : -1; /* its path unknown: unix socket paths are refused */
	if (!strcmp(root_path, "/"))
		root_path[0] = 0;
}

/*
 * A unix socket address from the enclave (len bytes at in) as the host's
 * kernel takes it, in *out: an abstract name (or anything not a path) as
 * it is; a path ("/dir/name", from the enclave) inside the PAL's root.
 * When the root is the PAL's own "/" (a container's, after pivot_root),
 * the kernel resolves it there; else it is resolved in the root as
 * allowed files are (RESOLVE_IN_ROOT: a symlink leads where it points
 * inside the root) to its host path: the socket's, to connect or send to,
 * or the directory's it is made in, to bind.
 */
static long unix_addr_in(const uint8_t *in, uint64_t len, int creating,
			 struct sockaddr_storage *out, socklen_t *out_len)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	struct sockaddr_un *un = (struct sockaddr_un *)out;
	const char *path = (const char *)in + 2, *name = "";
	char rel[sizeof(un->sun_path)], link[64], real[PATH_MAX];
	size_t pl = strlen(root_path);
	sa_family_t family;
	ssize_t n;
	int fd;

	if (len > sizeof(*out))
		return -EINVAL;
	memcpy(out, in, len);
	*out_len = (socklen_t)len;
	if (len <= 2)
		return 0;
	memcpy(&family, in, sizeof(family));
	if (family != AF_UNIX || !path[0])
		return 0;
	if (path[0] != '/' || !memchr(path, 0, len - 2))
		return -EINVAL;
	if (root_fd < 0)
		return -EACCES;
	if (!pl)
		return 0; /* the root is "/": the kernel's resolution is the root's */
	if (snprintf(rel, sizeof(rel), ".%s", path) >= (int)sizeof(rel))
		return -ENAMETOOLONG; /* it could not fit in sun_path under the root either */
	if (creating) {		      /* the directory it goes in, and its name there */
		char *slash = strrchr(rel, '/');

		name = path + (slash - rel) - 1; /* "/name" */
		*slash = 0;
		if (!strcmp(name, "/") || !strcmp(name, "/.") || !strcmp(name, "/.."))
			return -EINVAL;
	}
	fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	real[n] = 0;
	if (strncmp(real, root_path, pl) || (real[pl] && real[pl] != '/'))
		return -EACCES; /* not below the root after all */
	if ((size_t)n + strlen(name) + 1 > sizeof(un->sun_path))
		return -ENAMETOOLONG;
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, real, (size_t)n);
	memcpy(un->sun_path + n, name, strlen(name) + 1);
	*out_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(un->sun_path) + 1);
	return 0;
}

/*
 * An address the kernel gave (len bytes in *a) as the enclave sees it: a
 * unix path in the root without the root's prefix; copied to out (room
 * max), its full length returned.
 */
static socklen_t addr_out(struct sockaddr_storage *a, socklen_t len, uint8_t *out, uint64_t max,
			  int64_t *copied)
{
	struct sockaddr_un *un = (struct sockaddr_un *)a;
	size_t pl = strlen(root_path);

	if (len > sizeof(*a))
		len = sizeof(*a);
	if (len > offsetof(struct sockaddr_un, sun_path) && a->ss_family == AF_UNIX && pl &&
	    un->sun_path[0] && len < sizeof(*a)) {
		((char *)a)[len] = 0; /* a path may fill sun_path without its NUL */
		if (!strncmp(un->sun_path, root_path, pl) && un->sun_path[pl] == '/') {
			memmove(un->sun_path, un->sun_path + pl, strlen(un->sun_path + pl) + 1);
			len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
					  strlen(un->sun_path) + 1);
		}
	}
	*copied = (int64_t)(len < max ? len : max);
	memcpy(out, a, (size_t)*copied);
	return len;
}

static int own(int fd, int kick)
{
	int ret = -EMFILE;

	pthread_mutex_lock(&owned.lock);
	if (owned.n < MAX_OWNED) {
		owned.fd[owned.n] = fd;
		owned.kick[owned.n++] = kick;
		ret = fd;
	}
	pthread_mutex_unlock(&owned.lock);
	if (ret < 0) {
		close(fd);
		if (kick >= 0)
			close(kick);
	}
	return ret;
}

/* fd's kick eventfd (-1 if none) if the enclave owns fd, else -2. */
static int owned_kick(int64_t fd)
{
	int k = -2;

	pthread_mutex_lock(&owned.lock);
	for (int i = 0; i < owned.n; i++)
		if (owned.fd[i] == fd)
			k = owned.kick[i];
	pthread_mutex_unlock(&owned.lock);
	return k;
}

int net_owns(int fd)
{
	return owned_kick(fd) == -1;
}

static int disown(int64_t fd)
{
	int ret = -EBADF;

	pthread_mutex_lock(&owned.lock);
	for (int i = 0; i < owned.n; i++)
		if (owned.fd[i] == fd) {
			close(owned.fd[i]);
			if (owned.kick[i] >= 0)
				close(owned.kick[i]);
			owned.fd[i] = owned.fd[--owned.n];
			owned.kick[i] = owned.kick[owned.n];
			ret = 0;
			break;
		}
	pthread_mutex_unlock(&owned.lock);
	return ret;
}

void net_close_all(void)
{
	pthread_mutex_lock(&owned.lock);
	for (int i = 0; i < owned.n; i++) {
		close(owned.fd[i]);
		if (owned.kick[i] >= 0)
			close(owned.kick[i]);
	}
	owned.n = 0;
	pthread_mutex_unlock(&owned.lock);
}

/* In a child of fork(): the table keeps the descriptors in keep, the others are gone. */
void net_after_fork(const int *keep, int n)
{
	int k = 0;

	pthread_mutex_init(&owned.lock, NULL);
	for (int i = 0; i < owned.n; i++) {
		int kept = 0;

		for (int j = 0; j < n; j++)
			kept |= keep[j] == owned.fd[i];
		if (kept && owned.kick[i] < 0) {
			owned.fd[k] = owned.fd[i];
			owned.kick[k++] = -1;
		}
	}
	owned.n = k;
}

/* Until fd is readable (or at its end): 1, 0 after timeout_ms (< 0: none), -EINTR when stopping. */
static long wait_readable(int fd, int64_t timeout_ms, int (*stopping)(void))
{
	int64_t left = timeout_ms;

	for (;;) {
		int slice = left < 0 || left > SLICE_MS ? SLICE_MS : (int)left, n;
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (stopping())
			return -EINTR;
		n = poll(&p, 1, slice);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			return 1;
		if (left >= 0 && (left -= slice) <= 0)
			return 0;
	}
}

static long sys(long r)
{
	return r < 0 ? -errno : r;
}

/* epoll_wait in slices (the workload may end meanwhile); kicks are drained, not reported. */
static long epoll_wait_owned(int epfd, int kick, uint8_t *out, uint64_t max, int64_t timeout_ms,
			     int (*stopping)(void))
{
	struct epoll_event ev[256];
	int64_t left = timeout_ms;

	if (max > 256)
		max = 256;
	for (;;) {
		int slice = left < 0 || left > SLICE_MS ? SLICE_MS : (int)left, n, k = 0;
		uint64_t drain;

		if (stopping())
			return -EINTR;
		n = epoll_wait(epfd, ev, (int)max, slice);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == KICK_DATA) {
				if (read(kick, &drain, sizeof(drain)) < 0) {
					/* already drained by another waiter */
				}
				continue;
			}
			memcpy(out + 12 * k, &ev[i].events, 4);
			memcpy(out + 12 * k + 4, &ev[i].data.u64, 8);
			k++;
		}
		if (k || n > 0)
			return k; /* events, or a kick: the LibOS looks inside again */
		if (left >= 0 && (left -= slice) <= 0)
			return 0;
	}
}

long net_call(struct libos_mailbox *mb, int (*stopping)(void))
{
	struct libos_netcall h;
	uint8_t *data = mb->buf + sizeof(h);
	struct sockaddr_storage addr;
	socklen_t alen;
	int64_t fd;
	int kick, nfd;
	long r;

	memcpy(&h, mb->buf, sizeof(h));
	if (h.in_len > LIBOS_NET_DATA_MAX || h.out_max > LIBOS_NET_DATA_MAX)
		return -EINVAL;
	mb->out[0] = mb->out[1] = 0;
	fd = h.a[0];
	if (mb->arg[0] != SYS_socket && mb->arg[0] != SYS_epoll_create1 &&
	    mb->arg[0] != SYS_socketpair && owned_kick(fd) == -2)
		return -EBADF;
	switch (mb->arg[0]) {
	case SYS_socketpair: {
		/* The LibOS's channels and pipes between processes; the workload's pairs. */
		int sv[2];

		if (h.a[0] != AF_UNIX || h.out_max < sizeof(sv) || (h.a[1] & ~SOCK_NONBLOCK) < 0 ||
		    (h.a[1] & ~SOCK_NONBLOCK) > SOCK_SEQPACKET)
			return -EINVAL;
		if (socketpair(AF_UNIX, (int)h.a[1] | SOCK_CLOEXEC, (int)h.a[2], sv) < 0)
			return -errno;
		if (own(sv[0], -1) < 0) {
			close(sv[1]);
			return -EMFILE;
		}
		if (own(sv[1], -1) < 0) {
			disown(sv[0]);
			return -EMFILE;
		}
		memcpy(data, sv, sizeof(sv));
		mb->out[0] = sizeof(sv);
		return 0;
	}
	case LIBOS_NETCALL_POLLIN:
		return wait_readable((int)fd, h.a[1], stopping);
	case SYS_socket:
		if (h.a[0] != AF_INET && h.a[0] != AF_INET6 && h.a[0] != AF_UNIX)
			return -EAFNOSUPPORT;
		nfd = socket((int)h.a[0], (int)h.a[1] | SOCK_CLOEXEC, (int)h.a[2]);
		return nfd < 0 ? -errno : own(nfd, -1);
	case SYS_bind:
		r = unix_addr_in(data, h.in_len, 1, &addr, &alen);
		return r < 0 ? r : sys(bind((int)fd, (const struct sockaddr *)&addr, alen));
	case SYS_connect:
		r = unix_addr_in(data, h.in_len, 0, &addr, &alen);
		if (r < 0)
			return r;
		do
			r = connect((int)fd, (const struct sockaddr *)&addr, alen);
		while (r < 0 && errno == EINTR);
		return sys(r);
	case SYS_listen:
		return sys(listen((int)fd, (int)h.a[1]));
	case SYS_accept4:
		alen = sizeof(addr);
		do
			nfd = accept4((int)fd, (struct sockaddr *)&addr, &alen,
				      (int)(h.a[3] & SOCK_NONBLOCK) | SOCK_CLOEXEC);
		while (nfd < 0 && errno == EINTR);
		if (nfd < 0)
			return -errno;
		addr_out(&addr, alen, data, h.out_max, &mb->out[0]);
		return own(nfd, -1);
	case SYS_getsockname:
	case SYS_getpeername:
		alen = sizeof(addr);
		r = mb->arg[0] == SYS_getsockname
			? getsockname((int)fd, (struct sockaddr *)&addr, &alen)
			: getpeername((int)fd, (struct sockaddr *)&addr, &alen);
		if (r < 0)
			return -errno;
		return (int64_t)addr_out(&addr, alen, data, h.out_max, &mb->out[0]);
	case SYS_setsockopt:
		return sys(
		    setsockopt((int)fd, (int)h.a[1], (int)h.a[2], data, (socklen_t)h.in_len));
	case SYS_getsockopt:
		alen = (socklen_t)h.out_max;
		if (getsockopt((int)fd, (int)h.a[1], (int)h.a[2], data, &alen) < 0)
			return -errno;
		mb->out[0] = alen < h.out_max ? alen : h.out_max;
		return (int64_t)alen;
	case SYS_sendto:
		/* data: the bytes (a[2] of them), then the address (the rest) */
		if ((uint64_t)h.a[2] > h.in_len)
			return -EINVAL;
		alen = 0;
		if (h.in_len > (uint64_t)h.a[2] &&
		    (r = unix_addr_in(data + h.a[2], h.in_len - (uint64_t)h.a[2], 0, &addr,
				      &alen)) < 0)
			return r;
		do
			r = sendto((int)fd, data, (size_t)h.a[2], (int)h.a[3] | MSG_NOSIGNAL,
				   alen ? (const struct sockaddr *)&addr : NULL, alen);
		while (r < 0 && errno == EINTR);
		return sys(r);
	case SYS_recvfrom: {
		/* out: the bytes, then (a[4] != 0) the sender's address; out0 its length */
		uint64_t want = (uint64_t)h.a[2] < h.out_max ? (uint64_t)h.a[2] : h.out_max;
		int64_t n;

		alen = sizeof(addr);
		do
			r = recvfrom((int)fd, data, want, (int)h.a[3], (struct sockaddr *)&addr,
				     &alen);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return -errno;
		mb->out[0] = (uint64_t)r;
		if (h.a[4] && alen <= sizeof(addr) && (uint64_t)r + alen <= h.out_max) {
			mb->out[1] = addr_out(&addr, alen, data + r, h.out_max - (uint64_t)r, &n);
			mb->out[0] = r + n;
		}
		return r;
	}
	case SYS_shutdown:
		return sys(shutdown((int)fd, (int)h.a[1]));
	case SYS_close:
		return disown(fd);
	case SYS_fcntl:
		if (h.a[1] != F_GETFL && h.a[1] != F_SETFL)
			return -EINVAL;
		return sys(fcntl((int)fd, (int)h.a[1], (int)(h.a[2] & O_NONBLOCK)));
	case SYS_epoll_create1: {
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = KICK_DATA };

		nfd = epoll_create1(EPOLL_CLOEXEC);
		if (nfd < 0)
			return -errno;
		kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (kick < 0 || epoll_ctl(nfd, EPOLL_CTL_ADD, kick, &ev) < 0) {
			r = -errno;
			close(nfd);
			if (kick >= 0)
				close(kick);
			return r;
		}
		return own(nfd, kick);
	}
	case SYS_epoll_ctl: {
		struct epoll_event ev = { .events = (uint32_t)h.a[3],
					  .data.u64 = (uint64_t)h.a[4] };

		if (owned_kick(fd) < 0 || owned_kick(h.a[2]) != -1 || h.a[4] == (int64_t)KICK_DATA)
			return -EBADF;
		return sys(epoll_ctl((int)fd, (int)h.a[1], (int)h.a[2], &ev));
	}
	case SYS_epoll_wait:
		kick = owned_kick(fd);
		if (kick < 0 || (uint64_t)h.a[1] * 12 > h.out_max)
			return -EINVAL;
		r = epoll_wait_owned((int)fd, kick, data, (uint64_t)h.a[1], h.a[2], stopping);
		if (r > 0)
			mb->out[0] = (uint64_t)r * 12;
		return r;
	case LIBOS_NETCALL_KICK: {
		uint64_t one = 1;

		kick = owned_kick(fd);
		if (kick < 0)
			return -EINVAL;
		return write(kick, &one, sizeof(one)) < 0 && errno != EAGAIN ? -errno : 0;
	}
	case SYS_read:
	case SYS_write:
		if ((uint64_t)h.a[2] > (mb->arg[0] == SYS_read ? h.out_max : h.in_len))
			return -EINVAL;
		do
			r = mb->arg[0] == SYS_read
				? read((int)fd, data, (size_t)h.a[2])
				: send((int)fd, data, (size_t)h.a[2], MSG_NOSIGNAL);
		while (r < 0 && errno == EINTR);
		if (r > 0 && mb->arg[0] == SYS_read)
			mb->out[0] = (uint64_t)r;
		return sys(r);
	}
	return -ENOSYS;
}
