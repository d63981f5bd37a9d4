// SPDX-License-Identifier: Apache-2.0
/*
 * Unix domain sockets and sendmmsg/recvmmsg, for tests/libos/test-libos-unix.sh:
 * run in the LibOS and natively (in a chroot), the outputs must be the same.
 *   stream DIR    a SOCK_STREAM echo server at DIR/srv.sock and its client (a
 *                 thread): names from getsockname, getpeername and accept
 *                 (truncated to a short buffer too), shutdown, ECONNREFUSED
 *   seqpacket DIR the same exchange over SOCK_SEQPACKET, record boundaries kept
 *   dgram DIR     two SOCK_DGRAM sockets at DIR/a.sock and DIR/b.sock: sendto,
 *                 recvfrom with the sender's name (and truncated), connect,
 *                 an unbound sender's empty name, EADDRINUSE, bad lengths
 *   abstract NAME an abstract name (a leading NUL): bind, connect, names
 *   pair          socketpair: stream, dgram, seqpacket, poll on them; shared with a child
 *                 of fork; EOPNOTSUPP for AF_INET
 *   mmsg          sendmmsg/recvmmsg over a datagram pair: counts, msg_len,
 *                 partial success, MSG_WAITFORONE, MSG_DONTWAIT, a timeout
 *   connect PATH MSG  connects to PATH, sends MSG, prints the reply
 *   bind PATH     binds there: prints the result (errno name)
 *   scm           sendmsg and sendmmsg with SCM_RIGHTS: the result
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *err(long r)
{
	static char buf[32];

	if (r >= 0)
		return "ok";
	switch (errno) {
	case EACCES:
		return "EACCES";
	case ENOENT:
		return "ENOENT";
	case EINVAL:
		return "EINVAL";
	case EADDRINUSE:
		return "EADDRINUSE";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EAGAIN:
		return "EAGAIN";
	case ENOTCONN:
		return "ENOTCONN";
	case EFAULT:
		return "EFAULT";
	case ENAMETOOLONG:
		return "ENAMETOOLONG";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	}
	snprintf(buf, sizeof(buf), "errno %d", errno);
	return buf;
}

static socklen_t mkaddr(struct sockaddr_un *a, const char *dir, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	snprintf(a->sun_path, sizeof(a->sun_path), "%s%s%s", dir, *dir ? "/" : "", name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1);
}

/* An address the kernel gave: its length, and its name (abstract: '@' for the NUL). */
static void show(const char *what, const struct sockaddr_un *a, socklen_t len)
{
	printf("%s: len %u", what, (unsigned)len);
	if (len > offsetof(struct sockaddr_un, sun_path)) {
		size_t n = len - offsetof(struct sockaddr_un, sun_path);

		printf(" family %d name ", a->sun_family);
		for (size_t i = 0; i < n && i < sizeof(a->sun_path); i++) {
			char c = a->sun_path[i];

			if (!c && i)
				break;
			putchar(c ? c : '@');
		}
	}
	putchar('\n');
}

static void names(const char *who, int fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		show(who, &a, len);
	len = sizeof(a);
	if (getpeername(fd, (struct sockaddr *)&a, &len) == 0) {
		char w[64];

		snprintf(w, sizeof(w), "%s peer", who);
		show(w, &a, len);
	} else {
		printf("%s peer: %s\n", who, err(-1));
	}
}

struct client {
	struct sockaddr_un addr;
	socklen_t len;
	int type;
	char reply[3][64];
	long got[3];
	long after_shut;
};

static void *client(void *arg)
{
	struct client *c = arg;
	int fd = socket(AF_UNIX, c->type, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&c->addr, c->len) < 0) {
		c->got[0] = -errno;
		return NULL;
	}
	if (send(fd, "hello", 5, 0) != 5 || send(fd, "world!", 6, 0) != 6)
		c->got[0] = -errno;
	for (int i = 0; i < 2; i++)
		c->got[i] = recv(fd, c->reply[i], i ? 6 : 5, MSG_WAITALL);
	shutdown(fd, SHUT_WR);
	c->after_shut = recv(fd, c->reply[2], sizeof(c->reply[2]), 0);
	close(fd);
	return NULL;
}

/* An echo server for one client (a thread) over a stream or seqpacket socket at DIR/srv.sock. */
static int stream(const char *dir, int type)
{
	struct client c = { .type = type };
	struct sockaddr_un peer;
	socklen_t len;
	pthread_t t;
	char buf[64];
	long n;
	int s, conn;

	s = socket(AF_UNIX, type, 0);
	c.len = mkaddr(&c.addr, dir, type == SOCK_STREAM ? "srv.sock" : "seq.sock");
	unlink(c.addr.sun_path);
	names("unbound", s);
	printf("connect before bind: %s\n", err(connect(s, (struct sockaddr *)&c.addr, c.len)));
	printf("bind: %s\n", err(bind(s, (struct sockaddr *)&c.addr, c.len)));
	printf("bind again: %s\n",
	       err(bind(socket(AF_UNIX, type, 0), (struct sockaddr *)&c.addr, c.len)));
	printf("listen: %s\n", err(listen(s, 4)));
	names("server", s);
	pthread_create(&t, NULL, client, &c);
	len = 3; /* truncated: the full length is reported */
	memset(&peer, 0x7f, sizeof(peer));
	conn = accept(s, (struct sockaddr *)&peer, &len);
	printf("accept: %s, len %u, family byte %d\n", err(conn), (unsigned)len,
	       ((unsigned char *)&peer)[0]);
	names("conn", conn);
	/* seqpacket: two records; stream: the bytes, maybe in one read */
	for (int i = 0; type == SOCK_SEQPACKET && i < 2; i++) {
		n = recv(conn, buf, sizeof(buf), 0);
		printf("record %d: %ld\n", i, n);
		send(conn, buf, (size_t)n, 0);
	}
	if (type == SOCK_STREAM) {
		size_t got = 0;

		while (got < 11 && (n = recv(conn, buf + got, sizeof(buf) - got, 0)) > 0)
			got += (size_t)n;
		printf("server got %zu: %.*s\n", got, (int)got, buf);
		send(conn, buf, 11, 0);
	}
	n = recv(conn, buf, sizeof(buf), 0);
	printf("server after the client's shutdown: %ld\n", n);
	close(conn);
	pthread_join(t, NULL);
	for (int i = 0; i < 2; i++)
		printf("client got %ld: %.*s\n", c.got[i], c.got[i] > 0 ? (int)c.got[i] : 0,
		       c.reply[i]);
	printf("client after shutdown: %ld\n", c.after_shut);
	close(s);
	printf("unlink: %s\n", err(unlink(c.addr.sun_path)));
	printf("connect after unlink: %s\n",
	       err(connect(socket(AF_UNIX, type, 0), (struct sockaddr *)&c.addr, c.len)));
	return 0;
}

static int dgram(const char *dir)
{
	struct sockaddr_un a, b, from;
	socklen_t la = mkaddr(&a, dir, "a.sock"), lb = mkaddr(&b, dir, "b.sock"), len;
	int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0);
	int anon = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[64];
	long n;

	unlink(a.sun_path);
	unlink(b.sun_path);
	printf("bind a: %s\n", err(bind(sa, (struct sockaddr *)&a, la)));
	printf("bind b: %s\n", err(bind(sb, (struct sockaddr *)&b, lb)));
	printf("bind a again: %s\n", err(bind(anon, (struct sockaddr *)&a, la)));
	printf("bind, addrlen 200: %s\n", err(bind(anon, (struct sockaddr *)&a, 200)));
	printf("bind, addrlen 1: %s\n", err(bind(anon, (struct sockaddr *)&a, 1)));
	n = sendto(sa, "ping", 4, 0, (struct sockaddr *)&b, lb);
	printf("sendto: %ld\n", n);
	len = sizeof(from);
	n = recvfrom(sb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	printf("recvfrom: %ld %.*s\n", n, n > 0 ? (int)n : 0, buf);
	show("from", &from, len);
	sendto(sa, "pong", 4, 0, (struct sockaddr *)&b, lb);
	len = 6;
	memset(&from, 0, sizeof(from));
	n = recvfrom(sb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	printf("recvfrom, room 6: %ld, len %u, copied %.4s\n", n, (unsigned)len, from.sun_path);
	n = sendto(anon, "anon", 4, 0, (struct sockaddr *)&b, lb);
	len = sizeof(from);
	n = recvfrom(sb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
	printf("from an unbound sender: %ld, len %u\n", n, (unsigned)len);
	printf("connect b to a: %s\n", err(connect(sb, (struct sockaddr *)&a, la)));
	printf("send: %ld\n", (long)send(sb, "back", 4, 0));
	n = recv(sa, buf, sizeof(buf), 0);
	printf("recv: %ld %.*s\n", n, n > 0 ? (int)n : 0, buf);
	names("b", sb);
	unlink(a.sun_path);
	unlink(b.sun_path);
	n = sendto(sa, "gone", 4, 0, (struct sockaddr *)&b, lb);
	printf("sendto an unlinked name: %s\n", err(n));
	return 0;
}

static int abstract(const char *name)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0), conn;
	char buf[16];
	long n;

	memcpy(a.sun_path + 1, name, strlen(name));
	printf("bind: %s\n", err(bind(s, (struct sockaddr *)&a, len)));
	printf("listen: %s\n", err(listen(s, 1)));
	printf("connect: %s\n", err(connect(c, (struct sockaddr *)&a, len)));
	conn = accept(s, NULL, NULL);
	names("server", s);
	names("client", c);
	send(c, "abs", 3, 0);
	n = recv(conn, buf, sizeof(buf), 0);
	printf("got %ld %.*s\n", n, n > 0 ? (int)n : 0, buf);
	/* autobind: an abstract name of five hex digits, given by the kernel */
	{
		int d = socket(AF_UNIX, SOCK_DGRAM, 0);
		struct sockaddr_un b = { .sun_family = AF_UNIX };

		len = sizeof(sa_family_t);
		printf("autobind: %s\n", err(bind(d, (struct sockaddr *)&b, len)));
		len = sizeof(b);
		getsockname(d, (struct sockaddr *)&b, &len);
		printf("autobound: len %u, abstract %d\n", (unsigned)len, b.sun_path[0] == 0);
	}
	return 0;
}

static int pair(void)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	int sv[2];
	char buf[32];
	long n;

	for (int i = 0; i < 3; i++) {
		printf("socketpair %d: %s\n", types[i], err(socketpair(AF_UNIX, types[i], 0, sv)));
		struct pollfd pf = { .fd = sv[1], .events = POLLIN | POLLOUT };
		int ready = poll(&pf, 1, 0);

		printf("  poll before: %d, revents %#x\n", ready, pf.revents);
		send(sv[0], "one", 3, 0);
		send(sv[0], "two", 3, 0);
		ready = poll(&pf, 1, 1000);
		printf("  poll after: %d, revents %#x\n", ready, pf.revents);
		n = recv(sv[1], buf, sizeof(buf), 0);
		printf("  first read %ld\n", n);
		names("  end", sv[1]);
		close(sv[0]);
		close(sv[1]);
	}
	printf("socketpair AF_INET: %s\n", err(socketpair(AF_INET, SOCK_STREAM, 0, sv)));
	printf("socketpair nonblock: %s\n",
	       err(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv)));
	printf("  empty read: %s\n", err(recv(sv[0], buf, sizeof(buf), 0)));
	close(sv[0]);
	close(sv[1]);
	/* a child of fork writes to its end */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	fflush(stdout);
	if (fork() == 0) {
		close(sv[0]);
		send(sv[1], "from the child", 14, 0);
		_exit(0);
	}
	close(sv[1]);
	{
		size_t got = 0;

		while ((n = recv(sv[0], buf + got, sizeof(buf) - got, 0)) > 0)
			got += (size_t)n;
		printf("parent got %zu: %.*s\n", got, (int)got, buf);
	}
	wait(NULL);
	return 0;
}

static int mmsg(void)
{
	struct mmsghdr m[5];
	struct iovec iov[5];
	char bufs[5][16];
	const char *words[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
	struct timespec ts;
	int sv[2];
	int r;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 5; i++) {
		iov[i].iov_base = (void *)words[i];
		iov[i].iov_len = strlen(words[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	r = sendmmsg(sv[0], m, 3, 0);
	printf("sendmmsg 3: %d, lens %u %u %u\n", r, m[0].msg_len, m[1].msg_len, m[2].msg_len);
	r = sendmmsg(sv[0], m + 3, 2, 0);
	printf("sendmmsg 2 more: %d\n", r);
	m[1].msg_hdr.msg_iov = (struct iovec *)8;
	r = sendmmsg(sv[0], m, 3, 0);
	printf("sendmmsg, the second bad: %d, first len %u\n", r, m[0].msg_len);
	printf("sendmmsg, the first bad: %s\n", err(sendmmsg(sv[0], m + 1, 1, 0)));
	printf("sendmmsg vlen 0: %d\n", sendmmsg(sv[0], m, 0, 0));
	printf("sendmmsg on a file: %s\n", err(sendmmsg(1, m, 1, 0)));
	/* six queued: alpha beta gamma delta epsilon alpha */
	memset(m, 0, sizeof(m));
	for (int i = 0; i < 5; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	r = recvmmsg(sv[1], m, 2, 0, NULL);
	printf("recvmmsg 2: %d: %.*s %.*s\n", r, (int)m[0].msg_len, bufs[0], (int)m[1].msg_len,
	       bufs[1]);
	r = recvmmsg(sv[1], m, 5, MSG_DONTWAIT, NULL);
	printf("recvmmsg 5, MSG_DONTWAIT: %d:", r);
	for (int i = 0; i < r; i++)
		printf(" %.*s", (int)m[i].msg_len, bufs[i]);
	printf("\n");
	printf("recvmmsg on empty, MSG_DONTWAIT: %s\n",
	       err(recvmmsg(sv[1], m, 5, MSG_DONTWAIT, NULL)));
	send(sv[0], "x", 1, 0);
	send(sv[0], "yz", 2, 0);
	r = recvmmsg(sv[1], m, 5, MSG_WAITFORONE, NULL);
	printf("recvmmsg MSG_WAITFORONE: %d, lens %u %u\n", r, m[0].msg_len, m[1].msg_len);
	/* a timeout: looked at after each message */
	send(sv[0], "t1", 2, 0);
	ts.tv_sec = 0;
	ts.tv_nsec = 0;
	r = recvmmsg(sv[1], m, 5, 0, &ts);
	printf("recvmmsg, timeout 0: %d, left %ld.%09ld\n", r, (long)ts.tv_sec, ts.tv_nsec);
	ts.tv_nsec = 1000000000;
	printf("recvmmsg, bad timeout: %s\n", err(recvmmsg(sv[1], m, 5, 0, &ts)));
	printf("recvmmsg, timeout pointer bad: %s\n",
	       err(recvmmsg(sv[1], m, 5, 0, (struct timespec *)8)));
	return 0;
}

static int scm(void)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = "x", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct mmsghdr mm[2] = { { .msg_hdr = msg }, { .msg_hdr = msg } };
	int sv[2], one = 1;

	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	u.h.cmsg_level = SOL_SOCKET;
	u.h.cmsg_type = SCM_RIGHTS;
	u.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&u.h), &one, sizeof(one));
	printf("sendmsg SCM_RIGHTS: %s\n", err(sendmsg(sv[0], &msg, 0)));
	mm[0].msg_hdr.msg_control = NULL;
	mm[0].msg_hdr.msg_controllen = 0;
	printf("sendmmsg, the second with SCM_RIGHTS: %d\n", sendmmsg(sv[0], mm, 2, 0));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "stream") && argc > 2)
		return stream(argv[2], SOCK_STREAM);
	if (!strcmp(mode, "seqpacket") && argc > 2)
		return stream(argv[2], SOCK_SEQPACKET);
	if (!strcmp(mode, "dgram") && argc > 2)
		return dgram(argv[2]);
	if (!strcmp(mode, "abstract") && argc > 2 && strlen(argv[2]) < 100)
		return abstract(argv[2]);
	if (!strcmp(mode, "pair"))
		return pair();
	if (!strcmp(mode, "mmsg"))
		return mmsg();
	if (!strcmp(mode, "scm"))
		return scm();
	if (!strcmp(mode, "connect") && argc > 3) {
		struct sockaddr_un a;
		socklen_t len = mkaddr(&a, "", argv[2]);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		char buf[64];
		long n;

		if (connect(s, (struct sockaddr *)&a, len) < 0) {
			printf("connect: %s\n", err(-1));
			return 1;
		}
		send(s, argv[3], strlen(argv[3]), 0);
		shutdown(s, SHUT_WR);
		n = recv(s, buf, sizeof(buf), MSG_WAITALL);
		printf("reply %ld: %.*s\n", n, n > 0 ? (int)n : 0, buf);
		return 0;
	}
	if (!strcmp(mode, "bind") && argc > 2) {
		struct sockaddr_un a;
		socklen_t len = mkaddr(&a, "", argv[2]);

		printf("bind %s: %s\n", argv[2],
		       err(bind(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&a, len)));
		return 0;
	}
	fprintf(stderr,
		"usage: unixprobe stream|seqpacket|dgram DIR | abstract NAME | pair | mmsg | scm"
		" | connect PATH MSG | bind PATH\n");
	return 2;
}
