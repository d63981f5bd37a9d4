/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

ssize_t read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

int open_regular_at(int dirfd, const char *path, size_t max, err_t *err)
{
	_cleanup_close_ int pfd = openat(dirfd, path, O_PATH | O_CLOEXEC);
	char proc[64];
	struct stat st, st2;
	int fd;

	if (pfd < 0)
		return err_sys(err, errno, "open %s", path);
	if (fstat(pfd, &st) < 0)
		return err_sys(err, errno, "stat %s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", path);
	if ((unsigned long long)st.st_size > max)
		return err_set(err, EFBIG, "%s: %lld bytes, more than the %zu allowed", path,
			       (long long)st.st_size, max);
	/* Reopened through the checked fd: never a device or FIFO swapped in meanwhile. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* No /proc (inside a rootfs without one): open again and compare. */
		fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0 &&
		    (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)) {
			close(fd);
			return err_set(err, EAGAIN, "%s changed while it was opened", path);
		}
	}
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	return fd;
}

int read_file_at(int dirfd, const char *path, char **out, size_t *len, err_t *err)
{
	_cleanup_close_ int fd = open_regular_at(dirfd, path, RUNE_READ_MAX, err);
	_cleanup_free_ char *buf = NULL;
	size_t size = 0, cap = 0;

	if (fd < 0)
		return fd;
	for (;;) {
		if (cap - size < 4096) {
			char *n = realloc(buf, cap ? cap * 2 : 8192);
			if (n == NULL)
				return err_sys(err, ENOMEM, "read %s", path);
			buf = n;
			cap = cap ? cap * 2 : 8192;
		}
		ssize_t r = read(fd, buf + size, cap - size - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return err_sys(err, errno, "read %s", path);
		}
		if (r == 0)
			break;
		size += r;
		/* It grew after the check. */
		if (size > RUNE_READ_MAX)
			return err_set(err, EFBIG, "%s: more than the %d bytes allowed", path,
				       RUNE_READ_MAX);
	}
	buf[size] = '\0';
	if (len)
		*len = size;
	*out = steal_ptr(buf);
	return 0;
}

int read_file(const char *path, char **out, size_t *len, err_t *err)
{
	return read_file_at(AT_FDCWD, path, out, len, err);
}

int write_file(const char *path, const void *data, size_t len, mode_t mode, err_t *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int ret;

	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	ret = write_all(fd, data, len);
	if (ret < 0)
		return err_sys(err, -ret, "write %s", path);
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, err_t *err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int ret;

	/* A fresh name (O_EXCL, never through a planted symlink), renamed over path. */
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return err_sys(err, ENOMEM, "write %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "create a temporary file for %s", path);
	if (fchmod(fd, mode) < 0)
		ret = err_sys(err, errno, "chmod %s", tmp);
	else if ((ret = write_all(fd, data, len)) < 0)
		ret = err_sys(err, -ret, "write %s", tmp);
	else if (rename(tmp, path) < 0)
		ret = err_sys(err, errno, "rename %s", tmp);
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int mkdir_p(const char *path, mode_t mode, err_t *err)
{
	_cleanup_free_ char *p = strdup(path);

	if (p == NULL)
		return err_sys(err, ENOMEM, "mkdir %s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return err_sys(err, errno, "mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return err_sys(err, errno, "mkdir %s", p);
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int rm_rf(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return errno == ENOENT ? 0 : -errno;
	return 0;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

char **strv_dup(char *const *v)
{
	size_t n = strv_len(v);
	char **r = calloc(n + 1, sizeof(char *));

	if (r == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		r[i] = strdup(v[i]);
		if (r[i] == NULL) {
			strv_free(r);
			return NULL;
		}
	}
	return r;
}

void strv_free(char **v)
{
	if (v == NULL)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

char *strv_join(char *const *v, const char *sep)
{
	size_t n = 1, seplen = strlen(sep);
	char *r, *p;

	for (char *const *s = v; s && *s; s++)
		n += strlen(*s) + seplen;
	r = p = malloc(n);
	if (r == NULL)
		return NULL;
	*p = '\0';
	for (char *const *s = v; s && *s; s++)
		p = stpcpy(stpcpy(p, s == v ? "" : sep), *s);
	return r;
}

int strv_append(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char **r = realloc(*v, (n + 2) * sizeof(char *));

	if (r == NULL)
		return -ENOMEM;
	*v = r;
	r[n] = strdup(s);
	r[n + 1] = NULL;
	return r[n] ? 0 : -ENOMEM;
}

static int read_stat_field(pid_t pid, int field, char *state, unsigned long long *val)
{
	char path[64], buf[1024];
	_cleanup_close_ int fd = -1;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = '\0';
	/* comm may hold spaces and parens: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -EIO;
	p += 2;
	if (state)
		*state = *p;
	for (int i = 3; i < field && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p == NULL)
		return -EIO;
	if (val)
		*val = strtoull(p, NULL, 10);
	return 0;
}

int proc_start_time(pid_t pid, unsigned long long *out)
{
	return read_stat_field(pid, 22, NULL, out);
}

bool proc_alive(pid_t pid, unsigned long long start_time)
{
	unsigned long long st;
	char state;

	if (pid <= 0 || read_stat_field(pid, 22, &state, &st) < 0)
		return false;
	if (state == 'Z' || state == 'X')
		return false;
	return start_time == 0 || st == start_time;
}

int pidfd_open_same(pid_t pid, unsigned long long start_time)
{
	unsigned long long st;
	char state;
	int fd;

	if (pid <= 0 || start_time == 0)
		return -ESRCH;
	fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	/* Checked after the open: a pid reused before it shows another start time, and
	 * the pidfd itself never follows a pid reused after it. */
	if (read_stat_field(pid, 22, &state, &st) < 0 || st != start_time || state == 'Z' ||
	    state == 'X') {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

int parse_ull(const char *s, unsigned long long *out)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

char *path_join(const char *a, const char *b)
{
	char *r;
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (asprintf(&r, "%.*s/%s", (int)la, a, b) < 0)
		return NULL;
	return r;
}

char *rfc3339_now(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64], *r;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	if (asprintf(&r, "%s.%09ldZ", buf, ts.tv_nsec) < 0)
		return NULL;
	return r;
}

/*
 * The workload starts with no signal blocked and every disposition at its
 * default, whatever rune's caller left: a blocked mask and ignored signals
 * survive execve (SIGPIPE ignored under many daemons, SIGINT and SIGQUIT for
 * a shell's background job, glibc's two internal signals for anything started
 * by posix_spawn). Raw rt_sigaction, because glibc's sigaction refuses its
 * internal signals.
 */
void reset_signals_for_workload(void)
{
	struct kernel_sigaction {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} old, dfl = { .handler = SIG_DFL };

	for (int sig = 1; sig < NSIG; sig++)
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(old.mask)) == 0 &&
		    old.handler == SIG_IGN)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &dfl.mask, NULL, sizeof(dfl.mask));
}

int cloexec_fds_from(int first)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) == 0)
		return 0;
#endif
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd < first || fd == dirfd(d))
			continue;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
	return 0;
}

int send_fd(int sock, int fd, const void *data, size_t len)
{
	char byte = 0;
	struct iovec iov = { .iov_base = data ? (void *)data : &byte, .iov_len = data ? len : 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (fd >= 0) {
		struct cmsghdr *c;
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	for (;;) {
		if (sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int recv_fd(int sock, int *fd, void *data, size_t len)
{
	char byte;
	struct iovec iov = { .iov_base = data ? data : &byte, .iov_len = data ? len : 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	int resets = 0;
	ssize_t n;

	*fd = -1;
	/*
	 * A peer that exits with our messages unread makes the next recv fail with
	 * ECONNRESET once, even though its own last message (the error saying why)
	 * is still queued: read on.
	 */
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && (errno == EINTR || (errno == ECONNRESET && resets++ == 0)));
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return n;
}

/* sun_path is 108 bytes: go through an O_PATH fd of the directory so any --root works. */
static int unix_addr_at(const char *path, struct sockaddr_un *addr, int *dirfd_out)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	int dfd;

	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	dfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", dfd,
		     slash + 1) >= (int)sizeof(addr->sun_path)) {
		close(dfd);
		return -ENAMETOOLONG;
	}
	*dirfd_out = dfd;
	return 0;
}

/* Listens on (after removing a stale file) or connects to the socket at path. */
static int unix_socket_at(const char *path, int type, bool listening, err_t *err)
{
	const char *what = listening ? "listen on" : "connect to";
	struct sockaddr_un addr;
	_cleanup_close_ int dfd = -1;
	int fd, ret = unix_addr_at(path, &addr, &dfd);

	if (ret < 0)
		return err_sys(err, -ret, "%s %s", what, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(err, errno, "socket");
	if (listening) {
		unlink(path);
		ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
		      chmod(path, 0600) < 0 || listen(fd, 16) < 0;
	} else {
		ret = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0;
	}
	if (ret) {
		int saved = errno;
		close(fd);
		return err_sys(err, saved, "%s %s", what, path);
	}
	return fd;
}

int unix_listen_at(const char *path, int type, err_t *err)
{
	return unix_socket_at(path, type, true, err);
}

int unix_connect_at(const char *path, int type, err_t *err)
{
	return unix_socket_at(path, type, false, err);
}

int stderr_capture_begin(struct stderr_capture *c)
{
	c->saved = -1;
	c->memfd = memfd_create("stderr-capture", MFD_CLOEXEC);
	if (c->memfd < 0)
		return -errno;
	fflush(stderr);
	c->saved = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (c->saved < 0 || dup2(c->memfd, 2) < 0) {
		int e = errno;
		if (c->saved >= 0)
			close(c->saved);
		close(c->memfd);
		c->saved = c->memfd = -1;
		return -e;
	}
	return 0;
}

void stderr_capture_end(struct stderr_capture *c, char *last, size_t size)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n = 0;

	if (size)
		last[0] = '\0';
	if (c->memfd < 0)
		return;
	fflush(stderr);
	dup2(c->saved, 2);
	close(c->saved);
	/* Everything on to the real stderr (logs keep it); the tail stays in buf. */
	for (;;) {
		ssize_t r = pread(c->memfd, buf, sizeof(buf), off);
		if (r <= 0)
			break;
		write_all(2, buf, r);
		off += r;
		n = r;
	}
	close(c->memfd);
	c->memfd = c->saved = -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	ssize_t start = n;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (size && n > start)
		snprintf(last, size, "%.*s", (int)(n - start), buf + start);
}

int proc_set_cmdline(char *const *argv)
{
	unsigned long long start, end;
	size_t size, off = 0;
	char *area;

	if (read_stat_field(getpid(), 48, NULL, &start) < 0 ||
	    read_stat_field(getpid(), 49, NULL, &end) < 0 || end <= start)
		return -ENOENT;
	area = (char *)(uintptr_t)start;
	size = end - start;
	for (; argv && *argv && off < size - 1; argv++) {
		size_t n = strlen(*argv) + 1;

		if (n > size - 1 - off)
			n = size - 1 - off;
		memcpy(area + off, *argv, n);
		off += n;
	}
	/* NUL to the end: the kernel shows the area as it is, arguments NUL-separated. */
	memset(area + off, 0, size - off);
	return 0;
}
