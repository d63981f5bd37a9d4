// SPDX-License-Identifier: Apache-2.0
/*
 * Sockets pass through to the host, one system call per OCALL with the
 * bytes of its pointer arguments in the mailbox (LIBOS_OCALL_NET). What
 * crosses is not protected by the enclave (docs/libos.md: TLS inside the
 * enclave is the answer); what comes back is checked like any OCALL
 * result: lengths within what was asked, descriptors in range. A socket is
 * an object of ipc.c (OBJ_SOCKET) holding the host's descriptor. Unix
 * sockets pass through too: an abstract name as it is, a path only below
 * an allowed path of the manifest (the host's files there are the
 * workload's), made absolute here; the host binds it inside its root.
 */
#include "libos.h"

#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC  02000000
#define ADDR_MAX      128 /* sizeof(struct sockaddr_storage) */
#define OPT_MAX	      256
#define HOST_FD_MAX   (1 << 20)
#define AF_UNIX	      1
#define SUN_PATH_MAX  108 /* sizeof(sockaddr_un.sun_path) */
#define UNIX_PATH_LEN 4096

/* Copies the output bytes back, checked against what was asked. */
long net_host(long nr, const int64_t a[6], const void *in, uint64_t in_len, void *out,
	      uint64_t out_max, uint64_t *out_len, int blocking)
{
	volatile struct libos_mailbox *mb = libos_mb;
	struct libos_netcall h;
	uint64_t n;
	long r;

	if (in_len > LIBOS_NET_DATA_MAX || out_max > LIBOS_NET_DATA_MAX)
		return -EINVAL;
	memcpy(h.a, a, sizeof(h.a));
	h.in_len = in_len;
	h.out_max = out ? out_max : 0;
	memcpy((void *)mb->buf, &h, sizeof(h));
	if (in_len)
		memcpy((uint8_t *)mb->buf + sizeof(h), in, in_len);
	r = blocking ? ocall_blocking(LIBOS_OCALL_NET, nr, 0, 0) : ocall(LIBOS_OCALL_NET, nr, 0, 0);
	if (r < -4095)
		return -EIO;
	if (r < 0 || !out)
		return r;
	n = (uint64_t)mb->out[0];
	if (n > out_max)
		return -EIO;
	memcpy(out, (const uint8_t *)mb->buf + sizeof(h), n);
	if (out_len)
		*out_len = n;
	return r;
}

static long host_fd_ok(long r)
{
	return r >= 0 && r < HOST_FD_MAX ? r : r < 0 ? r : -EIO;
}

/* A socket object for a new host descriptor, installed as a descriptor of ours. */
static long new_socket(long host_fd, int nonblock, int cloexec)
{
	struct fobj *o;
	int fd;

	if (host_fd < 0)
		return host_fd;
	o = ipc_socket(host_fd, nonblock);
	if (!o) {
		int64_t a[6] = { host_fd };

		net_host(3, a, NULL, 0, NULL, 0, NULL, 0);
		return -ENOMEM;
	}
	fd = fs_install(o, cloexec);
	if (fd < 0)
		ipc_put(o);
	return fd;
}

/* The socket behind fd: its host descriptor in *hfd. */
static struct fobj *sock(int64_t fd, int64_t *hfd, long *err)
{
	struct fobj *o = fs_obj(fd);

	*hfd = o ? ipc_host_fd(o) : -1;
	if (*hfd < 0) {
		*err = fs_valid(fd) ? -88 /* ENOTSOCK */ : -EBADF;
		return NULL;
	}
	return o;
}

/* A socklen_t* from the workload: its value, at most max. */
static long user_len(uint64_t lenp, uint64_t max, uint32_t *len)
{
	if (!user_ok(lenp, 4))
		return -EFAULT;
	memcpy(len, (const void *)lenp, 4);
	if ((int32_t)*len < 0)
		return -EINVAL;
	if (*len > max)
		*len = (uint32_t)max;
	return 0;
}

/*
 * An AF_UNIX path as the host takes it: absolute (relative to the working
 * directory), normalised and below an allowed path, else EACCES.
 */
static long unix_path(const char *call, const uint8_t *sun, uint32_t len, uint8_t *out,
		      uint32_t *out_len)
{
	char rel[SUN_PATH_MAX + 1], abs[UNIX_PATH_LEN], *path = abs;
	size_t n = 0, cl;

	while (n < len && n < SUN_PATH_MAX && sun[n])
		n++;
	memcpy(rel, sun, n);
	rel[n] = 0;
	fs_getcwd(abs, sizeof(abs));
	cl = str_len(abs);
	if (rel[0] == '/') {
		path = rel;
	} else {
		if (cl + 1 + n + 1 > sizeof(abs))
			return -ENAMETOOLONG;
		abs[cl] = '/';
		memcpy(abs + cl + 1, rel, n + 1);
	}
	if (fs_normalize(path, (char *)out + 2, ADDR_MAX - 2) < 0)
		return -ENAMETOOLONG;
	if (!fs_is_allowed((char *)out + 2)) {
		if (libos_manifest.debug)
			log_err("%s %s: a unix socket's path must be below an allowed path: EACCES",
				call, (char *)out + 2);
		return -EACCES;
	}
	*out_len = (uint32_t)(2 + str_len((char *)out + 2) + 1);
	return 0;
}

/*
 * A socket address from the workload (len bytes at uaddr) as the host
 * takes it, in out (*out_len bytes): as it is, but an AF_UNIX path.
 */
static long addr_in(const char *call, uint64_t uaddr, uint64_t len, uint8_t out[ADDR_MAX],
		    uint32_t *out_len)
{
	uint16_t family;

	if (len > ADDR_MAX)
		return -EINVAL;
	if (!user_ok(uaddr, len))
		return -EFAULT;
	memcpy(out, (const void *)uaddr, len);
	*out_len = (uint32_t)len;
	if (len <= 2)
		return 0;
	memcpy(&family, out, 2);
	if (family != AF_UNIX || !out[2])
		return 0; /* not a unix path: the host's kernel judges it; abstract names pass */
	if (len > 2 + SUN_PATH_MAX)
		return -EINVAL;
	return unix_path(call, (const uint8_t *)uaddr + 2, (uint32_t)len - 2, out, out_len);
}

/* An address or option the host wrote: copied out truncated, the full length reported. */
static long give(uint64_t dst, uint64_t lenp, uint32_t room, const uint8_t *src, uint64_t n,
		 long full)
{
	uint32_t l = (uint32_t)(full > 0 ? full : (long)n);

	if (dst && room && !user_ok(dst, room))
		return -EFAULT;
	if (dst)
		memcpy((void *)dst, src, n < room ? n : room);
	memcpy((void *)lenp, &l, 4);
	return 0;
}

static long do_accept(int64_t fd, uint64_t addr, uint64_t lenp, uint64_t flags)
{
	uint8_t buf[ADDR_MAX];
	uint32_t room = 0;
	uint64_t n = 0;
	int64_t a[6], hfd;
	struct fobj *o;
	long r;

	if (flags & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	o = sock(fd, &hfd, &r);
	if (!o)
		return r;
	if (addr && (r = user_len(lenp, ADDR_MAX, &room)) < 0)
		return r;
	a[0] = hfd;
	a[3] = (int64_t)flags;
	ipc_get(o);
	r = host_fd_ok(net_host(288, a, NULL, 0, buf, sizeof(buf), &n, !ipc_nonblock(o)));
	ipc_put(o);
	if (r < 0)
		return r;
	r = new_socket(r, !!(flags & SOCK_NONBLOCK), !!(flags & SOCK_CLOEXEC));
	if (r >= 0 && addr && give(addr, lenp, room, buf, n, (long)n) < 0)
		return -EFAULT;
	return r;
}

/* Sends len bytes (copied in) to addr (alen bytes, 0: none): a short count at most the mailbox's. */
static long send_data(struct fobj *o, int64_t hfd, const uint8_t *data, uint64_t len,
		      uint64_t flags, const uint8_t *addr, uint64_t alen)
{
	int64_t a[6] = { hfd, 0, 0, (int64_t)flags };
	uint8_t *in;
	long r;

	if (len > LIBOS_NET_DATA_MAX - ADDR_MAX)
		len = LIBOS_NET_DATA_MAX -
		      ADDR_MAX; /* a short write, as a full socket buffer gives */
	a[2] = (int64_t)len;
	/* The bytes, then the address: one input buffer. */
	in = mm_alloc(len + ADDR_MAX, 0);
	if (!in)
		return -ENOMEM;
	memcpy(in, data, len);
	if (alen)
		memcpy(in + len, addr, alen);
	ipc_get(o);
	r = net_host(44, a, in, len + alen, NULL, 0, NULL, !ipc_nonblock(o));
	ipc_put(o);
	mm_free(in, len + ADDR_MAX);
	if (r > (long)len)
		return -EIO;
	if (r == -32)
		libos_raise(13); /* EPIPE: SIGPIPE, as the kernel would */
	return r;
}

/*
 * Receives at most len bytes into out, and the sender's address into addr
 * (*alen: its room in, the host's full length out) when addr is not NULL.
 */
static long recv_data(struct fobj *o, int64_t hfd, uint8_t *out, uint64_t len, uint64_t flags,
		      uint8_t *addr, uint32_t *alen)
{
	int64_t a[6] = { hfd, 0, 0, (int64_t)flags, addr != NULL };
	uint64_t n = 0;
	uint8_t *buf;
	long r;

	if (len > LIBOS_NET_DATA_MAX - ADDR_MAX)
		len = LIBOS_NET_DATA_MAX - ADDR_MAX;
	a[2] = (int64_t)len;
	buf = mm_alloc(len + ADDR_MAX, 0);
	if (!buf)
		return -ENOMEM;
	ipc_get(o);
	r = net_host(45, a, NULL, 0, buf, len + ADDR_MAX, &n, !ipc_nonblock(o));
	ipc_put(o);
	if (r >= 0) {
		/* buf: r bytes of data, then the sender's address (the rest) */
		uint64_t got = n - (uint64_t)r;

		if ((uint64_t)r > len || n < (uint64_t)r || got > ADDR_MAX) {
			r = -EIO;
		} else {
			memcpy(out, buf, (size_t)r);
			if (addr) {
				memcpy(addr, buf + r, got < *alen ? got : *alen);
				*alen = (uint32_t)got;
			}
		}
	}
	mm_free(buf, len + ADDR_MAX);
	return r;
}

static long do_sendto(int64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr,
		      uint64_t alen)
{
	uint8_t tmp[ADDR_MAX];
	uint32_t tlen = 0;
	int64_t hfd;
	struct fobj *o;
	long r;

	o = sock(fd, &hfd, &r);
	if (!o)
		return r;
	if (addr && (r = addr_in("sendto", addr, alen, tmp, &tlen)) < 0)
		return r;
	if (!user_ok(buf, len))
		return -EFAULT;
	return send_data(o, hfd, (const uint8_t *)buf, len, flags, tmp, tlen);
}

static long do_recvfrom(int64_t fd, uint64_t buf, uint64_t len, uint64_t flags, uint64_t addr,
			uint64_t lenp)
{
	uint8_t from[ADDR_MAX];
	uint32_t room = 0, got = ADDR_MAX;
	int64_t hfd;
	struct fobj *o;
	long r;

	o = sock(fd, &hfd, &r);
	if (!o)
		return r;
	if (!user_ok(buf, len))
		return -EFAULT;
	if (addr && (r = user_len(lenp, ADDR_MAX, &room)) < 0)
		return r;
	r = recv_data(o, hfd, (uint8_t *)buf, len, flags, addr ? from : NULL, &got);
	if (r >= 0 && addr && give(addr, lenp, room, from, got, (long)got) < 0)
		r = -EFAULT;
	return r;
}

/* struct msghdr and struct iovec, as x86-64 Linux lays them out. */
struct user_msghdr {
	uint64_t name;
	uint32_t namelen, pad0;
	uint64_t iov, iovlen, control, controllen;
	uint32_t flags, pad1;
};
struct user_iovec {
	uint64_t base, len;
};
#define IOV_MAX_LINUX 1024
#define EMSGSIZE      90

/* A sendmsg/recvmsg call: the socket, its msghdr and its iovecs, checked. */
struct msg_call {
	struct fobj *o;
	int64_t hfd;
	struct user_msghdr m;
	const struct user_iovec *iov;
	uint64_t total;		/* the iovecs' total, at most the mailbox's */
	uint8_t name[ADDR_MAX]; /* sendmsg: the address as the host takes it */
	uint32_t namelen;
};

/* The socket behind fd and the msghdr at umsg with its iovecs (and address, to send), checked. */
static long msg_in(int64_t fd, uint64_t umsg, int send, struct msg_call *c)
{
	struct user_msghdr *m = &c->m;
	long r;

	c->o = sock(fd, &c->hfd, &r);
	if (!c->o)
		return r;
	if (!user_ok(umsg, sizeof(*m)))
		return -EFAULT;
	memcpy(m, (const void *)umsg, sizeof(*m));
	if (m->iovlen > IOV_MAX_LINUX)
		return -EMSGSIZE;
	if (m->iovlen && !user_ok(m->iov, m->iovlen * sizeof(*c->iov)))
		return -EFAULT;
	c->iov = (const struct user_iovec *)m->iov;
	c->total = 0;
	for (uint64_t i = 0; i < m->iovlen; i++) {
		if (!user_ok(c->iov[i].base, c->iov[i].len))
			return -EFAULT;
		c->total += c->iov[i].len;
		if (c->total > LIBOS_NET_DATA_MAX - ADDR_MAX)
			c->total = LIBOS_NET_DATA_MAX - ADDR_MAX;
	}
	if (m->name && (m->namelen > ADDR_MAX || !user_ok(m->name, m->namelen)))
		return m->namelen > ADDR_MAX ? -EINVAL : -EFAULT;
	c->namelen = 0;
	if (m->name && send)
		return addr_in("sendmsg", m->name, m->namelen, c->name, &c->namelen);
	return 0;
}

/*
 * sendmsg: the iovecs gathered, sent as sendto sends. Ancillary data (file
 * descriptors, credentials, IP options) is not passed to the host: refused.
 */
static long do_sendmsg(int64_t fd, uint64_t umsg, uint64_t flags)
{
	struct msg_call c;
	uint8_t *data;
	uint64_t done = 0;
	long r;

	if ((r = msg_in(fd, umsg, 1, &c)) < 0)
		return r;
	if (c.m.controllen) {
		if (libos_manifest.debug)
			log_err("sendmsg: ancillary data is not supported: EINVAL");
		return -EINVAL;
	}
	data = mm_alloc(c.total + 1, 0);
	if (!data)
		return -ENOMEM;
	for (uint64_t i = 0; i < c.m.iovlen && done < c.total; i++) {
		uint64_t n = c.iov[i].len < c.total - done ? c.iov[i].len : c.total - done;

		memcpy(data + done, (const void *)c.iov[i].base, n);
		done += n;
	}
	r = send_data(c.o, c.hfd, data, c.total, flags, c.name, c.namelen);
	mm_free(data, c.total + 1);
	return r;
}

/* recvmsg: received as recvfrom receives, scattered over the iovecs; no ancillary data. */
static long do_recvmsg(int64_t fd, uint64_t umsg, uint64_t flags)
{
	struct msg_call c;
	uint8_t addr[ADDR_MAX], *data;
	uint32_t got = ADDR_MAX;
	uint64_t done = 0;
	long r;

	if ((r = msg_in(fd, umsg, 0, &c)) < 0)
		return r;
	data = mm_alloc(c.total + 1, 0);
	if (!data)
		return -ENOMEM;
	r = recv_data(c.o, c.hfd, data, c.total, flags, c.m.name ? addr : NULL, &got);
	for (uint64_t i = 0; r > 0 && i < c.m.iovlen && done < (uint64_t)r; i++) {
		uint64_t n = c.iov[i].len < (uint64_t)r - done ? c.iov[i].len : (uint64_t)r - done;

		memcpy((void *)c.iov[i].base, data + done, n);
		done += n;
	}
	mm_free(data, c.total + 1);
	if (r < 0)
		return r;
	if (c.m.name) {
		memcpy((void *)c.m.name, addr, got < c.m.namelen ? got : c.m.namelen);
		c.m.namelen = got;
	}
	c.m.flags = 0;
	c.m.controllen = 0;
	memcpy((void *)umsg, &c.m, sizeof(c.m));
	return r;
}

/* struct mmsghdr: a msghdr, then the byte count of that message. */
#define MMSG_SIZE      64
#define MMSG_LEN_OFF   56
#define MSG_DONTWAIT   0x40
#define MSG_WAITFORONE 0x10000

/*
 * sendmmsg and recvmmsg: sendmsg or recvmsg per message, as Linux: the
 * number done before an error (the error itself when none was), at most
 * IOV_MAX_LINUX messages; recvmmsg's timeout is looked at after each
 * message (and the time left written back), MSG_WAITFORONE makes the
 * messages after the first not wait.
 */
static long do_mmsg(int64_t fd, uint64_t vec, uint64_t vlen, uint64_t flags, uint64_t uts, int send)
{
	int64_t ns = -1, start = 0, hfd;
	uint64_t i;
	long r = 0;

	if (!sock(fd, &hfd, &r))
		return r;
	if (vlen > IOV_MAX_LINUX)
		vlen = IOV_MAX_LINUX;
	if (!send && uts) {
		if ((r = poll_user_timeout(uts, &ns)) < 0)
			return r;
		start = poll_now_ns();
	}
	for (i = 0; i < vlen; i++) {
		uint64_t m = vec + i * MMSG_SIZE;
		uint32_t len;

		if (!user_ok(m, MMSG_SIZE)) {
			r = -EFAULT;
			break;
		}
		r = send ? do_sendmsg(fd, m, flags) : do_recvmsg(fd, m, flags & ~MSG_WAITFORONE);
		if (r < 0)
			break;
		len = (uint32_t)r;
		memcpy((void *)(m + MMSG_LEN_OFF), &len, 4);
		if (send)
			continue;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (ns >= 0 && poll_now_ns() - start >= ns) {
			i++;
			break;
		}
	}
	if (!send && uts && i)
		poll_user_time_left(uts, ns, start);
	return i ? (long)i : r;
}

/* read/write of a socket (ipc.c): recv/send without an address. */
long net_rw(struct fobj *o, void *buf, uint64_t len, int write)
{
	int64_t a[6] = { ipc_host_fd(o), 0, 0 };
	uint64_t n = 0;
	long r;

	if (len > LIBOS_NET_DATA_MAX)
		len = LIBOS_NET_DATA_MAX;
	a[2] = (int64_t)len;
	if (write)
		r = net_host(1, a, buf, len, NULL, 0, NULL, !ipc_nonblock(o));
	else
		r = net_host(0, a, NULL, 0, buf, len, &n, !ipc_nonblock(o));
	if (r > (long)len || (!write && r >= 0 && (uint64_t)r != n))
		return -EIO;
	if (write && r == -32)
		libos_raise(13);
	return r;
}

/*
 * socketpair: a host pair, as sockets are (both ends cross the host: they
 * are shared with the processes fork and spawn start, like other sockets).
 */
static long do_socketpair(uint64_t domain, uint64_t type, uint64_t proto, uint64_t usv)
{
	int32_t sv[2];
	long r;

	if ((int32_t)domain != AF_UNIX)
		return (int32_t)domain == 2 || (int32_t)domain == 10 ? -95 /* EOPNOTSUPP */
								     : -97 /* EAFNOSUPPORT */;
	if ((uint32_t)proto)
		return -93; /* EPROTONOSUPPORT */
	if (!user_ok(usv, sizeof(sv)))
		return -EFAULT;
	r = host_socketpair_of((int32_t)type & ~SOCK_CLOEXEC, sv);
	if (r < 0)
		return r;
	r = new_socket(sv[0], !!(type & SOCK_NONBLOCK), !!(type & SOCK_CLOEXEC));
	if (r < 0) {
		host_fd_close(sv[1]);
		return r;
	}
	sv[0] = (int32_t)r;
	r = new_socket(sv[1], !!(type & SOCK_NONBLOCK), !!(type & SOCK_CLOEXEC));
	if (r < 0) {
		struct fobj *first = fs_obj(sv[0]);

		fs_release(sv[0]);
		ipc_put(first);
		return r;
	}
	sv[1] = (int32_t)r;
	memcpy((void *)usv, sv, sizeof(sv));
	return 0;
}

static long sockopt(int64_t fd, uint64_t level, uint64_t name, uint64_t val, uint64_t len, int set)
{
	uint8_t buf[OPT_MAX];
	int64_t a[6], hfd;
	uint32_t room;
	uint64_t n = 0;
	long r;

	if (!sock(fd, &hfd, &r))
		return r;
	a[0] = hfd;
	a[1] = (int64_t)level;
	a[2] = (int64_t)name;
	if (set) {
		if (len > OPT_MAX)
			return -EINVAL;
		if (!user_ok(val, len))
			return -EFAULT;
		memcpy(buf, (const void *)val, len);
		return net_host(54, a, buf, len, NULL, 0, NULL, 0);
	}
	if ((r = user_len(len, OPT_MAX, &room)) < 0)
		return r;
	r = net_host(55, a, NULL, 0, buf, room, &n, 0);
	if (r < 0)
		return r;
	if ((uint64_t)r < n || r > OPT_MAX)
		return -EIO;
	return give(val, len, room, buf, n, r);
}

static long sockname(long nr, int64_t fd, uint64_t addr, uint64_t lenp)
{
	uint8_t buf[ADDR_MAX];
	int64_t a[6], hfd;
	uint32_t room;
	uint64_t n = 0;
	long r;

	if (!sock(fd, &hfd, &r))
		return r;
	if ((r = user_len(lenp, ADDR_MAX, &room)) < 0)
		return r;
	a[0] = hfd;
	r = net_host(nr, a, NULL, 0, buf, room, &n, 0);
	if (r < 0)
		return r;
	if ((uint64_t)r < n || r > ADDR_MAX) /* the full length: the workload may trust it */
		return -EIO;
	return give(addr, lenp, room, buf, n, r);
}

long net_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5)
{
	int64_t a[6] = { 0 }, hfd, fd = (int32_t)a0;
	uint8_t addr[ADDR_MAX];
	uint32_t alen;
	long r;

	switch (nr) {
	case 41: /* socket */
		a[0] = (int32_t)a0;
		a[1] = (int32_t)a1 & ~SOCK_CLOEXEC;
		a[2] = (int32_t)a2;
		r = host_fd_ok(net_host(41, a, NULL, 0, NULL, 0, NULL, 0));
		return new_socket(r, !!(a1 & SOCK_NONBLOCK), !!(a1 & SOCK_CLOEXEC));
	case 49: /* bind */
	case 42: /* connect */
		if (!sock(fd, &hfd, &r))
			return r;
		if ((r = addr_in(nr == 49 ? "bind" : "connect", a1, (uint32_t)a2, addr, &alen)) < 0)
			return r;
		a[0] = hfd;
		return net_host(nr, a, addr, alen, NULL, 0, NULL,
				nr == 42 && !ipc_nonblock(fs_obj(fd)));
	case 50: /* listen */
		if (!sock(fd, &hfd, &r))
			return r;
		a[0] = hfd;
		a[1] = (int32_t)a1;
		return net_host(50, a, NULL, 0, NULL, 0, NULL, 0);
	case 43: /* accept */
		return do_accept(fd, a1, a2, 0);
	case 288: /* accept4 */
		return do_accept(fd, a1, a2, a3);
	case 44: /* sendto */
		return do_sendto(fd, a1, a2, a3, a4, (uint32_t)a5);
	case 45: /* recvfrom */
		return do_recvfrom(fd, a1, a2, a3, a4, a5);
	case 46: /* sendmsg */
		return do_sendmsg(fd, a1, a2);
	case 47: /* recvmsg */
		return do_recvmsg(fd, a1, a2);
	case 48: /* shutdown */
		if (!sock(fd, &hfd, &r))
			return r;
		a[0] = hfd;
		a[1] = (int32_t)a1;
		return net_host(48, a, NULL, 0, NULL, 0, NULL, 0);
	case 51: /* getsockname */
	case 52: /* getpeername */
		return sockname(nr, fd, a1, a2);
	case 307: /* sendmmsg */
		return do_mmsg(fd, a1, (uint32_t)a2, (uint32_t)a3, 0, 1);
	case 299: /* recvmmsg */
		return do_mmsg(fd, a1, (uint32_t)a2, (uint32_t)a3, a4, 0);
	case 53: /* socketpair */
		return do_socketpair(a0, a1, a2, a3);
	case 54: /* setsockopt */
		return sockopt(fd, a1, a2, a3, (uint32_t)a4, 1);
	case 55: /* getsockopt */
		return sockopt(fd, a1, a2, a3, a4, 0);
	}
	return -ENOSYS;
}
