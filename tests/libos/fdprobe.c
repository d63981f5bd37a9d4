// SPDX-License-Identifier: Apache-2.0
/*
 * A descriptor workload for tests/libos/test-libos-fds.sh, built static and
 * run both natively (in a chroot) and in the enclave; outputs must match.
 *   fdprobe [dup | dupw PATH | poll | select | devs]...
 * Descriptors 3 and up are closed first, so numbers are the same in both.
 * Every line is a fact with its value; errors print strerror.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void say(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, strerror(errno));
	else
		printf("%s: %ld\n", what, r);
}

/* A raw system call's result: the value, or -errno (libc wrappers may check). */
static long raw(long nr, long a, long b, long c)
{
	long r = syscall(nr, a, b, c);

	return r < 0 ? -errno : r;
}

static void sayraw(const char *what, long r)
{
	if (r < 0)
		printf("%s: %s\n", what, strerror((int)-r));
	else
		printf("%s: %ld\n", what, r);
}

static void rd(const char *what, int fd, size_t n)
{
	char buf[64];
	ssize_t r;

	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	r = read(fd, buf, n);
	if (r < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	buf[r] = 0;
	printf("%s: %zd \"%s\"\n", what, r, buf);
}

static void dup_errors(void)
{
	int fd = open("/data/file", O_RDONLY);

	sayraw("dup of a closed fd", raw(SYS_dup, 40, 0, 0));
	sayraw("dup2 of a closed fd", raw(SYS_dup2, 40, 41, 0));
	sayraw("dup2 onto itself", raw(SYS_dup2, fd, fd, 0));
	sayraw("dup2 of a closed fd onto itself", raw(SYS_dup2, 40, 40, 0));
	sayraw("dup2 onto a huge fd", raw(SYS_dup2, fd, 1000000, 0));
	sayraw("dup2 onto a negative fd", raw(SYS_dup2, fd, -1, 0));
	sayraw("dup3 onto itself", raw(SYS_dup3, fd, fd, 0));
	sayraw("dup3 with bad flags", raw(SYS_dup3, fd, 9, 1));
	sayraw("dup3 of a closed fd", raw(SYS_dup3, 40, 9, 0));
	sayraw("F_DUPFD of a closed fd", raw(SYS_fcntl, 40, F_DUPFD, 0));
	sayraw("F_DUPFD from a negative fd", raw(SYS_fcntl, fd, F_DUPFD, -1));
	sayraw("F_DUPFD from a huge fd", raw(SYS_fcntl, fd, F_DUPFD, 1000000));
	close(fd);
}

static void dup_files(void)
{
	int fd = open("/data/file", O_RDONLY), d, d2, t, t2;
	struct stat a, b;

	say("open /data/file", fd);
	say("its F_GETFL", fcntl(fd, F_GETFL));
	d = dup(fd);
	say("dup", d);
	rd("read 5 via fd", fd, 5);
	rd("read 5 via dup: the offset is shared", d, 5);
	say("lseek via dup", lseek(d, 2, SEEK_SET));
	say("lseek via fd, SEEK_CUR", lseek(fd, 0, SEEK_CUR));
	d2 = fcntl(fd, F_DUPFD, 10);
	say("F_DUPFD from 10", d2);
	say("F_DUPFD from 10 again", fcntl(fd, F_DUPFD, 10));
	say("F_DUPFD_CLOEXEC from 10", t = fcntl(fd, F_DUPFD_CLOEXEC, 10));
	say("its FD_CLOEXEC", fcntl(t, F_GETFD));
	say("the original's FD_CLOEXEC", fcntl(fd, F_GETFD));
	fstat(fd, &a);
	fstat(d2, &b);
	printf("same inode: %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	say("dup3 O_CLOEXEC onto 20", t2 = dup3(fd, 20, O_CLOEXEC));
	say("its FD_CLOEXEC", fcntl(t2, F_GETFD));
	say("dup2 onto 20 clears it", dup2(fd, 20));
	say("its FD_CLOEXEC", fcntl(20, F_GETFD));
	say("FD_CLOEXEC set on one", fcntl(d, F_SETFD, FD_CLOEXEC));
	say("is not the other's", fcntl(fd, F_GETFD));
	say("close fd", close(fd));
	rd("the dup still reads", d, 6);
	say("dup2 onto an open fd", dup2(d2, d));
	rd("it reads the new file's offset", d, 3);
	for (int i = 3; i < 32; i++)
		close(i);

	/* the lowest free descriptor, also below 3 */
	fd = open("/data/file", O_RDONLY);
	d = dup(0);
	close(0);
	say("dup after close(0)", t = dup(fd));
	rd("read 4 from 0", 0, 4);
	say("dup2 back onto 0", dup2(d, 0));
	close(d);
	close(fd);
}

/* A writable file: the offset and O_APPEND are the description's. */
static void dup_wfile(const char *path)
{
	int fd, d;

	printf("%s:\n", path);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	d = dup(fd);
	say("write via fd", write(fd, "abc", 3));
	say("write via dup", write(d, "def", 3));
	say("lseek via fd", lseek(fd, 0, SEEK_CUR));
	say("F_SETFL O_APPEND via dup", fcntl(d, F_SETFL, O_APPEND));
	say("F_GETFL via fd", fcntl(fd, F_GETFL));
	lseek(fd, 0, SEEK_SET);
	say("append via fd", write(fd, "gh", 2));
	lseek(d, 0, SEEK_SET);
	rd("the file", fd, 20);
	close(fd);
	close(d);
	unlink(path);
}

static void dup_ipc(void)
{
	int p[2], d, e, ep, ed, s, sd, save;
	struct epoll_event ev = { .events = EPOLLIN }, out;
	uint64_t v = 5;
	struct sockaddr_in a = { .sin_family = AF_INET }, b, c;
	socklen_t al = sizeof(b);

	say("pipe", pipe(p));
	save = dup(1);
	say("dup2 the pipe onto stdout", dup2(p[1], 1));
	say("write to stdout", write(1, "to the pipe", 11));
	say("dup2 stdout back", dup2(save, 1));
	close(save);
	rd("the pipe has", p[0], 11);

	d = dup(p[0]);
	say("F_SETFL O_NONBLOCK via the dup", fcntl(d, F_SETFL, O_NONBLOCK));
	say("O_NONBLOCK seen via the original", !!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	rd("read of the empty pipe", p[0], 4);
	e = dup(p[1]);
	close(p[1]);
	rd("a write end left: no EOF", p[0], 4);
	say("write via the dup of the write end", write(e, "wxyz", 4));
	rd("read via the dup of the read end", d, 4);
	close(e);
	rd("all write ends closed: EOF", d, 4);
	close(p[0]);
	close(d);

	e = eventfd(0, 0);
	d = dup(e);
	say("eventfd write via fd", write(e, &v, 8));
	say("eventfd read via dup", read(d, &v, 8));
	printf("eventfd value %llu\n", (unsigned long long)v);
	close(e);
	close(d);

	say("pipe", pipe(p));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ed = dup(ep);
	say("the epoll's FD_CLOEXEC", fcntl(ep, F_GETFD));
	say("the dup's FD_CLOEXEC", fcntl(ed, F_GETFD));
	ev.data.u64 = 77;
	say("epoll_ctl ADD via the dup", epoll_ctl(ed, EPOLL_CTL_ADD, p[0], &ev));
	write(p[1], "x", 1);
	say("epoll_wait via the original", epoll_wait(ep, &out, 1, 0));
	printf("data %llu\n", (unsigned long long)out.data.u64);
	d = dup(p[0]);
	close(p[0]);
	say("a dup of the watched fd keeps the item", epoll_wait(ep, &out, 1, 0));
	close(d);
	say("closing the last one removes it", epoll_wait(ep, &out, 1, 0));
	close(ep);
	close(ed);
	close(p[1]);

	s = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	say("bind", bind(s, (struct sockaddr *)&a, sizeof(a)));
	sd = dup(s);
	getsockname(s, (struct sockaddr *)&b, &al);
	al = sizeof(c);
	say("getsockname via the dup", getsockname(sd, (struct sockaddr *)&c, &al));
	printf("same port: %d\n", b.sin_port == c.sin_port && b.sin_port);
	close(s);
	say("listen via the dup after closing the original", listen(sd, 1));
	close(sd);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void saypoll(const char *what, struct pollfd *p, int n, int r)
{
	if (r < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	printf("%s: %d", what, r);
	for (int i = 0; i < n; i++)
		printf(" %#x", p[i].revents);
	printf("\n");
}

/* After ms milliseconds: write a byte to fd, connect to port, or signal a thread. */
struct later {
	int ms, fd, port, sig;
	pthread_t target;
};

static void *later_run(void *arg)
{
	struct later *l = arg;
	struct timespec d = { l->ms / 1000, l->ms % 1000 * 1000000L };

	nanosleep(&d, NULL);
	if (l->fd >= 0)
		write(l->fd, "L", 1);
	if (l->port) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = (in_port_t)l->port };
		int c = socket(AF_INET, SOCK_STREAM, 0);

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		connect(c, (struct sockaddr *)&a, sizeof(a));
		/* left open: the test's process ends */
	}
	if (l->sig)
		pthread_kill(l->target, l->sig);
	return NULL;
}

static pthread_t later(struct later *l)
{
	pthread_t t;

	pthread_create(&t, NULL, later_run, l);
	return t;
}

static volatile int got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static int listener(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	listen(s, 4);
	getsockname(s, (struct sockaddr *)&a, &al);
	*port = a.sin_port;
	return s;
}

static void t_poll(void)
{
	int p[2], q[2], f = open("/data/file", O_RDONLY), e = eventfd(0, 0), s, port, c;
	struct pollfd a[4];
	struct timespec t0, ts = { 0, 30000000 };
	struct later l = { .fd = -1 };
	uint64_t one = 1;
	pthread_t t;
	int r;

	pipe(p);
	a[0] = (struct pollfd){ p[0], POLLIN };
	a[1] = (struct pollfd){ p[1], POLLOUT };
	a[2] = (struct pollfd){ f, POLLIN | POLLOUT };
	a[3] = (struct pollfd){ -1, POLLIN };
	saypoll("an empty pipe, a file, fd -1", a, 4, poll(a, 4, 0));
	write(p[1], "x", 1);
	saypoll("the pipe has a byte", a, 4, poll(a, 4, 0));
	a[0].events = POLLRDNORM;
	saypoll("POLLRDNORM alone", a, 1, poll(a, 1, 0));
	read(p[0], &one, 1);
	a[0] = (struct pollfd){ 40, POLLIN };
	saypoll("a closed fd: POLLNVAL", a, 1, poll(a, 1, 0));
	sayraw("too many fds", raw(SYS_poll, (long)a, 1 << 20, 0));
	a[0] = (struct pollfd){ p[0], POLLIN };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = poll(a, 1, 60);
	printf("a 60 ms timeout: %d after >= 60 ms: %d\n", r, ms_since(&t0) >= 60);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = ppoll(a, 1, &ts, NULL);
	printf("ppoll, 30 ms: %d after >= 30 ms: %d\n", r, ms_since(&t0) >= 30);
	ts.tv_nsec = 1000000000;
	sayraw("ppoll: a bad timespec", raw(SYS_ppoll, (long)a, 1, (long)&ts));

	l.ms = 100;
	l.fd = p[1];
	/* t0 first: the thread's 100 ms may start before pthread_create returns */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t = later(&l);
	r = poll(a, 1, -1);
	printf("woken by another thread's write: %d %#x after >= 100 ms: %d\n", r, a[0].revents,
	       ms_since(&t0) >= 100);
	pthread_join(t, NULL);
	read(p[0], &one, 1);

	a[0] = (struct pollfd){ e, POLLIN | POLLOUT };
	saypoll("an eventfd at 0", a, 1, poll(a, 1, 0));
	write(e, &one, 8);
	a[0].events = POLLIN;
	saypoll("at 1", a, 1, poll(a, 1, 0));

	close(p[1]);
	a[0] = (struct pollfd){ p[0], POLLIN };
	saypoll("no writer left: POLLHUP", a, 1, poll(a, 1, 0));
	pipe(q);
	close(q[0]);
	a[1] = (struct pollfd){ q[1], POLLOUT };
	saypoll("no reader left: POLLERR", &a[1], 1, poll(&a[1], 1, 0));
	close(q[1]);
	close(p[0]);

	signal(SIGUSR1, on_usr1);
	pipe(p);
	l = (struct later){ .ms = 100, .fd = -1, .sig = SIGUSR1, .target = pthread_self() };
	t = later(&l);
	a[0] = (struct pollfd){ p[0], POLLIN };
	r = poll(a, 1, 5000);
	printf("a signal: %d %s, handler ran %d\n", r, r < 0 ? strerror(errno) : "", got_usr1);
	pthread_join(t, NULL);

	s = listener(&port);
	a[0] = (struct pollfd){ s, POLLIN };
	a[1] = (struct pollfd){ p[0], POLLIN };
	saypoll("a listening socket and a pipe", a, 2, poll(a, 2, 0));
	l = (struct later){ .ms = 100, .fd = p[1] };
	t = later(&l);
	saypoll("woken by a pipe write while a socket is watched", a, 2, poll(a, 2, 5000));
	pthread_join(t, NULL);
	read(p[0], &one, 1);
	l = (struct later){ .ms = 100, .fd = -1, .port = port };
	t = later(&l);
	saypoll("woken by a connection", a, 2, poll(a, 2, 5000));
	pthread_join(t, NULL);
	c = accept(s, NULL, NULL);
	a[0] = (struct pollfd){ c, POLLIN | POLLOUT };
	a[1] = (struct pollfd){ c, POLLIN };
	saypoll("an accepted socket, twice", a, 2, poll(a, 2, 0));
	close(c);
	close(s);
	close(p[0]);
	close(p[1]);
	close(f);
	close(e);
}

static void sayset(const char *what, int r, fd_set *rs, fd_set *ws, int n)
{
	if (r < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	printf("%s: %d r", what, r);
	for (int i = 0; i < n; i++)
		if (FD_ISSET(i, rs))
			printf(" %d", i);
	printf(" w");
	for (int i = 0; i < n; i++)
		if (FD_ISSET(i, ws))
			printf(" %d", i);
	printf("\n");
}

static void t_select(void)
{
	int p[2], f = open("/data/file", O_RDONLY), r;
	fd_set rs, ws;
	struct timeval tv = { 0, 0 };
	struct timespec ts = { 0, 20000000 }, t0;
	struct later l = { .fd = -1 };
	pthread_t t;

	pipe(p);
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(p[0], &rs);
	FD_SET(p[1], &ws);
	FD_SET(f, &rs);
	FD_SET(f, &ws);
	r = select(p[1] + 1, &rs, &ws, NULL, &tv);
	sayset("an empty pipe and a file", r, &rs, &ws, 8);
	write(p[1], "y", 1);
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_SET(p[0], &rs);
	FD_SET(p[0], &ws);
	r = select(p[0] + 1, &rs, &ws, NULL, &tv);
	sayset("the pipe has a byte (and is no writer)", r, &rs, &ws, 8);
	read(p[0], &r, 1);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	tv.tv_usec = 30000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = select(p[0] + 1, &rs, NULL, NULL, &tv);
	printf("a 30 ms timeout: %d after >= 30 ms: %d, time left %ld.%06ld\n", r,
	       ms_since(&t0) >= 30, (long)tv.tv_sec, (long)tv.tv_usec);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = pselect(p[0] + 1, &rs, NULL, NULL, &ts, NULL);
	printf("pselect, 20 ms: %d after >= 20 ms: %d\n", r, ms_since(&t0) >= 20);
	FD_ZERO(&rs);
	FD_SET(40, &rs);
	tv.tv_usec = 0;
	sayset("a closed fd", select(41, &rs, NULL, NULL, &tv), &rs, &rs, 0);
	sayraw("nfds < 0", raw(SYS_select, -1, 0, 0));
	tv.tv_usec = 1000000;
	write(p[1], "z", 1);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	sayset("usec >= 1000000: a second more", select(p[0] + 1, &rs, NULL, NULL, &tv), &rs, &rs,
	       0);
	tv.tv_usec = -1;
	sayraw("usec < 0", syscall(SYS_select, p[0] + 1, &rs, NULL, NULL, &tv) < 0 ? -errno : 0);
	read(p[0], &r, 1);
	l.ms = 100;
	l.fd = p[1];
	t = later(&l);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	FD_ZERO(&ws);
	r = select(p[0] + 1, &rs, &ws, NULL, NULL);
	sayset("woken by another thread's write", r, &rs, &ws, p[0] + 1);
	pthread_join(t, NULL);
	close(p[0]);
	close(p[1]);
	close(f);
}

/* /dev/null, /dev/zero, /dev/urandom, /dev/random: as Linux's (mode, rdev, read, write). */
static void t_devs(void)
{
	static const char *const devs[] = { "/dev/null", "/dev/zero", "/dev/random",
					    "/dev/urandom" };
	unsigned char buf[100];
	struct stat st;
	DIR *d;
	struct dirent *e;
	char names[256] = "";

	for (int i = 0; i < 4; i++) {
		int fd = open(devs[i], O_RDWR), nz = 0;
		ssize_t r;

		if (stat(devs[i], &st) < 0) {
			printf("stat %s: %s\n", devs[i], strerror(errno));
			continue;
		}
		printf("%s: mode %o rdev %u,%u\n", devs[i], st.st_mode, major(st.st_rdev),
		       minor(st.st_rdev));
		memset(buf, 0xaa, sizeof(buf));
		r = read(fd, buf, sizeof(buf));
		for (int k = 0; k < (int)sizeof(buf); k++)
			nz += buf[k] != 0 && buf[k] != 0xaa;
		printf("  read %zd, %s\n", r,
		       r == 0			     ? "EOF"
		       : nz > 50		     ? "random"
		       : buf[0] == 0 && buf[99] == 0 ? "zeros"
						     : "?");
		say("  write", write(fd, buf, sizeof(buf)));
		say("  F_GETFL", fcntl(fd, F_GETFL));
		close(fd);
	}
	d = opendir("/dev");
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "attestation") &&
		    strlen(names) < 200) {
			strcat(names, " ");
			strcat(names, e->d_name);
		}
	if (d)
		closedir(d);
	printf("/dev has the devices: %d\n", strstr(names, "null") && strstr(names, "zero") &&
						 strstr(names, "urandom") &&
						 strstr(names, "random"));
}

/*
 * sendmsg/recvmsg over UDP on 127.0.0.1: three iovecs gathered, scattered
 * over two, the sender's address; a datagram truncated; too many iovecs.
 */
static void t_msg(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, from;
	socklen_t al = sizeof(a);
	int r = socket(AF_INET, SOCK_DGRAM, 0), w = socket(AF_INET, SOCK_DGRAM, 0);
	char p1[] = "ab", p2[] = "cde", p3[] = "fghij", b1[4] = { 0 }, b2[16] = { 0 }, small[3];
	struct iovec out[3] = { { p1, 2 }, { p2, 3 }, { p3, 5 } };
	struct iovec in[2] = { { b1, 3 }, { b2, sizeof(b2) - 1 } };
	struct msghdr m = { 0 };
	long n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(r, (struct sockaddr *)&a, sizeof(a));
	getsockname(r, (struct sockaddr *)&a, &al);
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	m.msg_iov = out;
	m.msg_iovlen = 3;
	printf("sendmsg of 3 iovecs: %ld\n", (long)sendmsg(w, &m, 0));
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = in;
	m.msg_iovlen = 2;
	n = recvmsg(r, &m, 0);
	printf("recvmsg into 2 iovecs: %ld '%s' '%s', from 127.0.0.1: %d, namelen %u, flags %d\n",
	       n, b1, b2, from.sin_addr.s_addr == htonl(INADDR_LOOPBACK), (unsigned)m.msg_namelen,
	       m.msg_flags & ~MSG_TRUNC);
	sendto(w, "0123456789", 10, 0, (struct sockaddr *)&a, sizeof(a));
	n = recv(r, small, sizeof(small), 0);
	printf("a datagram into 3 bytes: %ld '%.3s'\n", n, small);
	memset(&m, 0, sizeof(m));
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	m.msg_iov = out;
	m.msg_iovlen = 1;
	m.msg_iovlen = 2000;
	printf("sendmsg with 2000 iovecs: %s\n", sendmsg(w, &m, 0) < 0 ? strerror(errno) : "sent");
	close(r);
	close(w);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	for (int i = 3; i < 1024; i++)
		close(i);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "dup")) {
			dup_errors();
			dup_files();
			dup_ipc();
		} else if (!strcmp(argv[i], "msg")) {
			t_msg();
		} else if (!strcmp(argv[i], "devs")) {
			t_devs();
		} else if (!strcmp(argv[i], "poll")) {
			t_poll();
		} else if (!strcmp(argv[i], "select")) {
			t_select();
		} else if (!strcmp(argv[i], "dupw") && i + 1 < argc) {
			dup_wfile(argv[++i]);
		} else {
			printf("unknown command %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
