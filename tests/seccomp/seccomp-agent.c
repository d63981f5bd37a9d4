/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal seccomp agent for the integration tests:
 *   seccomp-agent SOCKET STATE_FILE ERRNO [CONNECTIONS]
 * listens on the unix socket SOCKET (linux.seccomp.listenerPath), takes
 * CONNECTIONS (default 1) connections, each carrying the
 * containerProcessState JSON with a listener fd (SCM_RIGHTS: one per
 * process, the init's then each exec's), saves the first JSON to STATE_FILE
 * and the Nth to STATE_FILE.N, and answers every notification with -ERRNO
 * until the last process using each filter is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "seccomp-agent: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0)
		die(path);
	return fd;
}

/* Reads the whole message; returns the fd that came with it. */
static int receive(int conn, char *buf, size_t size)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	size_t len;
	ssize_t n;
	int fd = -1;

	memset(&control, 0, sizeof(control));
	n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
	if (n <= 0)
		die("recvmsg");
	c = CMSG_FIRSTHDR(&mh);
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		die("no fd in the message");
	}
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	/*
	 * The rest, if the stream split it: until EOF or a quiet 200ms (runc
	 * keeps the connection open a while after sending).
	 */
	for (len = (size_t)n; len < size - 1; len += (size_t)n) {
		struct pollfd p = { .fd = conn, .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			break;
		n = read(conn, buf + len, size - 1 - len);
		if (n <= 0)
			break;
	}
	buf[len] = '\0';
	return fd;
}

static void save(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, path) < 0)
		die(path);
}

static void serve(int nfd, int err_no)
{
	for (;;) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (p.revents & POLLIN) {
			memset(&req, 0, sizeof(req));
			if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
				/* The caller died meanwhile. */
				if (errno == ENOENT || errno == EINTR)
					continue;
				die("SECCOMP_IOCTL_NOTIF_RECV");
			}
			memset(&resp, 0, sizeof(resp));
			resp.id = req.id;
			resp.error = -err_no;
			if (ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
				die("SECCOMP_IOCTL_NOTIF_SEND");
			continue;
		}
		/* POLLHUP: no process uses the filter any more. */
		if (p.revents & (POLLHUP | POLLERR))
			return;
	}
}

int main(int argc, char **argv)
{
	static char buf[65536];
	char path[3072];
	int lfd, conn, nfd, n = 1;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: seccomp-agent SOCKET STATE_FILE ERRNO [CONNECTIONS]\n");
		return 2;
	}
	if (argc == 5)
		n = atoi(argv[4]);
	/* Never outlive a broken test. */
	alarm(120);
	lfd = listen_on(argv[1]);
	for (int i = 0; i < n; i++) {
		pid_t pid;

		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			die("accept");
		nfd = receive(conn, buf, sizeof(buf));
		close(conn);
		if (i == 0)
			snprintf(path, sizeof(path), "%s", argv[2]);
		else
			snprintf(path, sizeof(path), "%s.%d", argv[2], i);
		save(path, buf);
		/* One server per listener; the last in this process. */
		pid = i + 1 < n ? fork() : 0;
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			close(lfd);
			serve(nfd, atoi(argv[3]));
			close(nfd);
			if (i + 1 < n)
				_exit(0);
			break;
		}
		close(nfd);
	}
	while (wait(NULL) > 0)
		;
	unlink(argv[1]);
	return 0;
}
