// SPDX-License-Identifier: Apache-2.0
/*
 * A descriptor workload for tests/libos/test-libos-fds.sh, built static and
 * run both natively (in a chroot) and in the enclave; outputs must match.
 *   fdprobe [dup | dupw PATH | ...]...
 * Descriptors 3 and up are closed first, so numbers are the same in both.
 * Every line is a fact with its value; errors print strerror.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
		} else if (!strcmp(argv[i], "dupw") && i + 1 < argc) {
			dup_wfile(argv[++i]);
		} else {
			printf("unknown command %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
