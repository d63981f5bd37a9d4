/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A process's stdio. containerd names each stream with a FIFO path (or
 * fifo://PATH), a file://PATH (output appended to the file) or a
 * binary://PATH?ARGS logger (a program reading the output on fds 3 and 4,
 * closing fd 5 once it is ready). Output to a file or a logger goes there
 * directly. FIFOs and terminals are copied in the daemon's loop, without
 * blocking and with backpressure: a copy reads again only once its buffer
 * is written out, so a slow reader makes the process wait on its write
 * instead of losing output. The stdin copy closes the process's stdin when
 * the client closes its end of the FIFO, or on CloseIO.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"

#define COPY_BUF	   (32 << 10)
#define CONSOLE_TIMEOUT_MS 5000
#define LOGGER_READY_MS	   10000
#define LOGGER_EXIT_MS	   2000
#define LOGGER_MAX_ARGS	   32
#define ORPHAN_IDLE_MS	   10000
#define LINGER_MAX_MS	   60000

enum kind { K_NONE, K_FIFO, K_FILE, K_BINARY };

static const char *const names[] = { "stdin", "stdout", "stderr" };

/* Decodes %XX (and '+' as a space in a query) of in[0..n). */
static char *pct_decode(const char *in, size_t n, bool query)
{
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		if (in[i] == '%' && i + 2 < n && isxdigit((unsigned char)in[i + 1]) &&
		    isxdigit((unsigned char)in[i + 2]) && sscanf(in + i + 1, "%2x", &v) == 1) {
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = query && in[i] == '+' ? ' ' : in[i];
		}
	}
	*o = '\0';
	return out;
}

/* The kind of uri; *rest: what follows the scheme. */
static int kind_of(int i, const char *uri, const char **rest, err_t *err)
{
	static const struct {
		const char *scheme;
		int kind;
	} schemes[] = { { "fifo://", K_FIFO }, { "file://", K_FILE }, { "binary://", K_BINARY } };

	if (uri == NULL || *uri == '\0')
		return K_NONE;
	if (strstr(uri, "://") == NULL) {
		*rest = uri;
		return K_FIFO;
	}
	for (size_t k = 0; k < ARRAY_SIZE(schemes); k++)
		if (strncmp(uri, schemes[k].scheme, strlen(schemes[k].scheme)) == 0) {
			*rest = uri + strlen(schemes[k].scheme);
			if (i == 0 && schemes[k].kind != K_FIFO)
				return err_set(err, EINVAL, "stdin %s: only a FIFO can be stdin",
					       uri);
			return schemes[k].kind;
		}
	return err_set(err, EINVAL, "%s %s: unknown scheme (fifo, file and binary are supported)",
		       names[i], uri);
}

/* mkdir -p of path's directory, as the reference shim does for file:// */
static void mkdir_parents(char *path)
{
	for (char *q = strchr(path + 1, '/'); q; q = strchr(q + 1, '/')) {
		*q = '\0';
		mkdir(path, 0755);
		*q = '/';
	}
}

static int open_file(int i, const char *uri, const char *rest, err_t *err)
{
	_cleanup_free_ char *path = pct_decode(rest, strcspn(rest, "?#"), false);
	int fd;

	if (path == NULL)
		return err_sys(err, ENOMEM, "%s", names[i]);
	if (path[0] != '/')
		return err_set(err, EINVAL, "%s %s: not an absolute file path", names[i], uri);
	mkdir_parents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(err, errno, "%s %s: open %s", names[i], uri, path);
	return fd;
}

/* Reads from the logger's fd 5 until it closes it, at most LOGGER_READY_MS. */
static int logger_ready(int fd, const char *path, err_t *err)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[64];
	ssize_t n;

	for (;;) {
		int r = poll(&p, 1, LOGGER_READY_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_set(err, ETIMEDOUT, "binary logger %s: not ready after %d s",
				       path, LOGGER_READY_MS / 1000);
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return err_sys(err, errno, "binary logger %s: ready pipe", path);
	}
}

/*
 * Starts the binary:// logger (argv: the path, then each query key and its
 * value; env: CONTAINER_ID, CONTAINER_NAMESPACE) reading out[0] on fd 3 and
 * err[0] on fd 4, and waits until it closed fd 5.
 */
static int spawn_logger(struct shim *s, struct proc *p, const char *uri, const char *rest, int out,
			int errp, err_t *err)
{
	size_t plen = strcspn(rest, "?#");
	_cleanup_free_ char *path = pct_decode(rest, plen, false);
	_cleanup_free_ char *env_id = NULL, *env_ns = NULL;
	char *argv[LOGGER_MAX_ARGS + 1] = { 0 };
	_cleanup_close_ int rd = -1, wr = -1;
	int ready[2], argc = 0, ret = 0;
	pid_t pid = -1;

	if (path == NULL || asprintf(&env_id, "CONTAINER_ID=%s", p->ct->id) < 0 ||
	    asprintf(&env_ns, "CONTAINER_NAMESPACE=%s", s->ns) < 0)
		return err_sys(err, ENOMEM, "binary logger");
	if (path[0] != '/')
		return err_set(err, EINVAL, "stdout %s: not an absolute program path", uri);
	if (access(path, X_OK) < 0)
		return err_sys(err, errno, "binary logger %s", path);
	argv[argc++] = path;
	for (const char *q = rest[plen] == '?' ? rest + plen + 1 : ""; *q;) {
		size_t n = strcspn(q, "&#"), k = strcspn(q, "=");

		if (k > n)
			k = n;
		if (n && argc + 2 <= LOGGER_MAX_ARGS) {
			argv[argc++] = pct_decode(q, k, true);
			if (k < n && k + 1 < n)
				argv[argc++] = pct_decode(q + k + 1, n - k - 1, true);
		}
		if (q[n] != '&')
			break;
		q += n + 1;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i] == NULL)
			ret = err_sys(err, ENOMEM, "binary logger");
	if (ret == 0 && pipe2(ready, O_CLOEXEC) < 0)
		ret = err_sys(err, errno, "pipe");
	if (ret == 0) {
		rd = ready[0];
		wr = ready[1];
		pid = fork();
		if (pid < 0)
			ret = err_sys(err, errno, "fork binary logger %s", path);
	}
	if (ret == 0 && pid == 0) {
		char *envp[] = { env_id, env_ns, NULL };
		int from[3] = { out, errp, wr }, moved[3], null = open("/dev/null", O_RDWR);
		sigset_t none;

		for (int i = 0; i < 3; i++)
			moved[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10);
		for (int i = 0; i < 3; i++)
			if (null < 0 || dup2(null, i) < 0 || moved[i] < 0 ||
			    dup2(moved[i], 3 + i) < 0)
				_exit(127);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(path, argv, envp);
		_exit(127);
	}
	for (int i = 1; i < argc; i++)
		free(argv[i]);
	if (ret < 0)
		return ret;
	close(steal_fd(wr));
	ret = logger_ready(rd, path, err);
	if (ret < 0)
		kill(pid, SIGKILL); /* reaped by the loop */
	else
		p->logger = pid;
	return ret;
}

static int console_listen(struct stdio_run *io, err_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/rune-shim-pty.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return err_sys(err, errno, "console socket directory");
	io->console_dir = strdup(dir);
	if (io->console_dir == NULL || asprintf(&io->console_path, "%s/pty.sock", dir) < 0)
		return err_sys(err, ENOMEM, "console socket");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", io->console_path);
	io->console = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (io->console < 0 || bind(io->console, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(io->console, 1) < 0)
		return err_sys(err, errno, "console socket %s", io->console_path);
	return 0;
}

/* The pty master rune sent to the console socket (SCM_RIGHTS). */
static int console_recv(int lfd, err_t *err)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	char name[PATH_MAX];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	_cleanup_close_ int c = -1;
	struct cmsghdr *cm;
	int fd = -1;

	if (poll(&p, 1, CONSOLE_TIMEOUT_MS) <= 0)
		return err_set(err, ETIMEDOUT, "console socket: no terminal received");
	c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return err_sys(err, errno, "console socket: accept");
	p.fd = c;
	if (poll(&p, 1, CONSOLE_TIMEOUT_MS) <= 0 || recvmsg(c, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return err_set(err, EIO, "console socket: no terminal received");
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (fd < 0)
		return err_set(err, EIO, "console socket: no file descriptor received");
	return fd;
}

static int pipe_nb(int fds[2], int nonblock_end, err_t *err)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_sys(err, errno, "pipe");
	if (fcntl(fds[nonblock_end], F_SETFL, O_NONBLOCK) < 0)
		return err_sys(err, errno, "pipe");
	return 0;
}

int stdio_prepare(struct shim *s, struct proc *p, struct stdio_run *io, err_t *err)
{
	const char *rest[3] = { NULL, NULL, NULL };
	int kind[3], dest[3] = { -1, -1, -1 }, ret = 0;

	*io = (struct stdio_run){ .fds = { -1, -1, -1 },
				  .cp = { { -1, -1 }, { -1, -1 }, { -1, -1 } },
				  .console = -1 };
	for (int i = 0; i < 3; i++) {
		kind[i] = kind_of(i, p->stdio[i], &rest[i], err);
		if (kind[i] < 0)
			return kind[i];
	}
	/* where the output ends up: the client's FIFO, a file, a logger */
	if (kind[1] == K_BINARY || kind[2] == K_BINARY) {
		int out[2] = { -1, -1 }, er[2] = { -1, -1 };
		int k = kind[1] == K_BINARY ? 1 : 2;

		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0)
			ret = err_sys(err, errno, "pipe");
		if (ret == 0)
			ret = spawn_logger(s, p, p->stdio[k], rest[k], out[0], er[0], err);
		if (out[0] >= 0)
			close(out[0]);
		if (er[0] >= 0)
			close(er[0]);
		if (ret < 0) {
			if (out[1] >= 0)
				close(out[1]);
			if (er[1] >= 0)
				close(er[1]);
			return ret;
		}
		if (kind[1] == K_BINARY)
			dest[1] = out[1];
		else
			close(out[1]);
		if (kind[2] == K_BINARY)
			dest[2] = er[1];
		else
			close(er[1]);
	}
	for (int i = 1; i < 3 && ret == 0; i++) {
		if (kind[i] == K_FIFO) {
			/* read-write: never blocks, and no EPIPE if the client goes away */
			dest[i] = open(rest[i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
			if (dest[i] < 0)
				ret = err_sys(err, errno, "%s: open %s", names[i], rest[i]);
		} else if (kind[i] == K_FILE) {
			if (i == 2 && kind[1] == K_FILE && strcmp(p->stdio[1], p->stdio[2]) == 0)
				dest[i] = fcntl(dest[1], F_DUPFD_CLOEXEC, 0);
			else
				dest[i] = open_file(i, p->stdio[i], rest[i], err);
			if (dest[i] < 0)
				ret = dest[i] == -1 ? err_sys(err, errno, "dup") : dest[i];
		}
	}
	if (ret == 0 && kind[0] == K_FIFO) {
		io->cp[0][0] = open(rest[0], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (io->cp[0][0] < 0)
			ret = err_sys(err, errno, "stdin: open %s", rest[0]);
	}
	if (ret == 0 && p->terminal) {
		/* everything goes through the pty: the master comes after rune ran */
		io->cp[1][1] = steal_fd(dest[1]);
		ret = console_listen(io, err);
	}
	for (int i = 0; i < 3 && ret == 0 && !p->terminal; i++) {
		int fds[2];

		if (i == 0 && io->cp[0][0] >= 0) {
			ret = pipe_nb(fds, 1, err);
			io->fds[0] = fds[0];
			io->cp[0][1] = fds[1];
		} else if (i > 0 && kind[i] == K_FIFO) {
			ret = pipe_nb(fds, 0, err);
			io->fds[i] = fds[1];
			io->cp[i][0] = fds[0];
			io->cp[i][1] = steal_fd(dest[i]);
		} else if (i > 0 && dest[i] >= 0) {
			io->fds[i] = steal_fd(dest[i]);
		} else {
			/* never rune's own capture files: they would reach the process */
			io->fds[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (io->fds[i] < 0)
				ret = err_sys(err, errno, "open /dev/null");
		}
	}
	for (int i = 0; i < 3; i++)
		if (dest[i] >= 0)
			close(dest[i]);
	if (ret < 0) {
		_cleanup_error_ err_t ignored = NULL;

		stdio_finish(s, p, io, false, &ignored);
	}
	return ret;
}

static int add_copy(struct shim *s, const struct proc *p, int src, int dst, bool input)
{
	struct copy *c = calloc(1, sizeof(*c));

	if (c)
		c->buf = malloc(COPY_BUF);
	if (c == NULL || c->buf == NULL || fcntl(src, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(dst, F_SETFL, O_NONBLOCK | (fcntl(dst, F_GETFL) & O_APPEND)) < 0) {
		if (c)
			free(c->buf);
		free(c);
		close(src);
		close(dst);
		return -ENOMEM;
	}
	c->owner = p;
	c->src = src;
	c->dst = dst;
	c->input = input;
	c->next = s->copies;
	s->copies = c;
	return 0;
}

int stdio_finish(struct shim *s, struct proc *p, struct stdio_run *io, bool ok, err_t *err)
{
	int ret = 0;

	for (int i = 0; i < 3; i++)
		if (io->fds[i] >= 0)
			close(steal_fd(io->fds[i]));
	if (ok && io->console >= 0) {
		int m = console_recv(io->console, err);

		if (m < 0) {
			ret = m;
		} else {
			p->console = m;
			if (fcntl(m, F_SETFL, O_NONBLOCK) < 0)
				ret = err_sys(err, errno, "pty");
			if (io->cp[0][0] >= 0)
				io->cp[0][1] = fcntl(m, F_DUPFD_CLOEXEC, 0);
			if (io->cp[1][1] >= 0)
				io->cp[1][0] = fcntl(m, F_DUPFD_CLOEXEC, 0);
		}
	}
	if (io->console >= 0) {
		close(steal_fd(io->console));
		unlink(io->console_path);
	}
	if (io->console_dir)
		rmdir(io->console_dir);
	free(steal_ptr(io->console_path));
	free(steal_ptr(io->console_dir));
	for (int i = 0; i < 3; i++) {
		int *cp = io->cp[i];

		if (ok && ret == 0 && cp[0] >= 0 && cp[1] >= 0) {
			if (add_copy(s, p, cp[0], cp[1], i == 0) < 0)
				ret = err_sys(err, ENOMEM, "%s copy", names[i]);
		} else {
			if (cp[0] >= 0)
				close(cp[0]);
			if (cp[1] >= 0)
				close(cp[1]);
		}
		cp[0] = cp[1] = -1;
	}
	return ret;
}

/* ------------------------------------------------------------ copying */

static void copy_close(struct copy *c)
{
	if (c->src >= 0)
		close(c->src);
	if (c->dst >= 0)
		close(c->dst);
	c->src = c->dst = -1;
	c->len = 0;
}

static bool copy_done(const struct copy *c)
{
	return c->src < 0 && c->dst < 0;
}

static void copy_step(struct copy *c, short revents)
{
	size_t before = c->len;

	if (c->src >= 0 && !c->eof && c->len == 0 && revents) {
		ssize_t n = read(c->src, c->buf, COPY_BUF);

		if (n > 0) {
			c->off = 0;
			c->len = (size_t)n;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true; /* a pty master says EIO once the process is gone */
		}
	}
	while (c->len) {
		ssize_t n = write(c->dst, c->buf + c->off, c->len);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			/* the reader is gone: nothing more can be delivered */
			c->len = 0;
			c->eof = true;
			break;
		}
		c->off += (size_t)n;
		c->len -= (size_t)n;
	}
	if (c->len != before || c->eof)
		clock_gettime(CLOCK_MONOTONIC, &c->active);
	if (c->eof && c->len == 0)
		copy_close(c);
}

static long idle_ms(const struct copy *c, const struct timespec *now)
{
	return (now->tv_sec - c->active.tv_sec) * 1000 +
	       (now->tv_nsec - c->active.tv_nsec) / 1000000;
}

/* Frees the copies of deleted processes that are done or stalled for ORPHAN_IDLE_MS. */
static void reap_orphans(struct shim *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (struct copy **pc = &s->copies; *pc;) {
		struct copy *c = *pc;

		if (c->owner != NULL || (!copy_done(c) && idle_ms(c, &now) < ORPHAN_IDLE_MS)) {
			pc = &c->next;
			continue;
		}
		if (!copy_done(c))
			shim_log("output of a deleted process: reader stalled for %d s, %zu bytes "
				 "dropped",
				 ORPHAN_IDLE_MS / 1000, c->len);
		*pc = c->next;
		copy_close(c);
		free(c->buf);
		free(c);
	}
}

int stdio_timeout(const struct shim *s)
{
	struct timespec now;
	long t = -1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	for (const struct copy *c = s->copies; c; c = c->next) {
		long left;

		if (c->owner || copy_done(c))
			continue;
		left = ORPHAN_IDLE_MS - idle_ms(c, &now);
		if (left < 0)
			left = 0;
		if (t < 0 || left < t)
			t = left;
	}
	return (int)t;
}

void stdio_free_all(struct shim *s)
{
	while (s->copies) {
		struct copy *c = s->copies;

		s->copies = c->next;
		copy_close(c);
		free(c->buf);
		free(c);
	}
}

void stdio_linger(struct shim *s)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		size_t n = stdio_count(s);
		_cleanup_free_ struct pollfd *pfds = NULL;
		struct timespec now;
		int t;

		reap_orphans(s);
		if (s->copies == NULL || n == 0)
			return;
		/* a writer that never stops (a process outside the container's pid namespace) */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >=
		    LINGER_MAX_MS) {
			shim_log("output of deleted processes still flowing after %d s: dropped",
				 LINGER_MAX_MS / 1000);
			return;
		}
		pfds = calloc(n, sizeof(*pfds));
		if (pfds == NULL)
			return;
		stdio_pollfds(s, pfds);
		t = stdio_timeout(s);
		if (poll(pfds, n, t < 0 || t > 1000 ? 1000 : t) < 0 && errno != EINTR)
			return;
		stdio_handle(s, pfds);
	}
}

static void copy_pollfds(const struct copy *c, struct pollfd *pfd)
{
	pfd[0] = (struct pollfd){ .fd = !c->eof && c->len == 0 ? c->src : -1, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = c->len ? c->dst : -1, .events = POLLOUT };
}

size_t stdio_count(const struct shim *s)
{
	size_t n = 0;

	for (const struct copy *c = s->copies; c; c = c->next)
		n += 2;
	return n;
}

void stdio_pollfds(struct shim *s, struct pollfd *pfds)
{
	for (struct copy *c = s->copies; c; c = c->next, pfds += 2)
		copy_pollfds(c, pfds);
}

void stdio_handle(struct shim *s, const struct pollfd *pfds)
{
	for (struct copy *c = s->copies; c; c = c->next, pfds += 2)
		if (!copy_done(c) && (pfds[0].revents || pfds[1].revents))
			copy_step(c, pfds[0].revents);
	reap_orphans(s);
}

void stdio_close_input(struct shim *s, const struct proc *p)
{
	for (struct copy *c = s->copies; c; c = c->next)
		if (c->owner == p && c->input && !copy_done(c)) {
			c->eof = true;
			close(steal_fd(c->src));
			if (c->len == 0)
				copy_close(c);
		}
}

void stdio_release(struct shim *s, struct proc *p)
{
	for (struct copy *c = s->copies; c; c = c->next) {
		if (c->owner != p)
			continue;
		/* the output goes on to its reader, however slow, as long as it moves */
		c->owner = NULL;
		clock_gettime(CLOCK_MONOTONIC, &c->active);
		if (c->input)
			copy_close(c);
	}
	if (p->console >= 0)
		close(steal_fd(p->console));
	if (p->logger > 0) {
		/* its input is closed: give it the time to write the rest out */
		int pfd = (int)syscall(SYS_pidfd_open, p->logger, 0);

		if (pfd >= 0) {
			struct pollfd w = { .fd = pfd, .events = POLLIN };

			poll(&w, 1, LOGGER_EXIT_MS);
			close(pfd);
		}
		p->logger = 0;
	}
}
