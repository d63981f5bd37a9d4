/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Runs the runtime, one process per operation, as containerd's runc shim
 * does: errors come back through rune's JSON log (--log, --log-format
 * json), the last error line written during this run, else its stderr.
 * Every run is bounded: a runtime that hangs is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"

#define RUNE_TIMEOUT_MS 60000
#define MAX_ARGS	32

char *path_lookup(const char *name)
{
	const char *path = getenv("PATH");

	while (path && *path) {
		const char *end = strchrnul(path, ':');
		char cand[PATH_MAX];

		if (end > path &&
		    snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - path), path, name) <
			(int)sizeof(cand) &&
		    access(cand, X_OK) == 0)
			return strdup(cand);
		path = *end ? end + 1 : end;
	}
	return NULL;
}

char *sibling_find(const char *name)
{
	char self[PATH_MAX], *slash, *found;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash && (size_t)(slash + 1 - self) + strlen(name) < sizeof(self)) {
			strcpy(slash + 1, name);
			if (access(self, X_OK) == 0)
				return strdup(self);
		}
	}
	found = path_lookup(name);
	return found ? found : strdup(name);
}

char *rune_find(void)
{
	return sibling_find("rune");
}

/* The text of file from offset, at most max bytes. */
static char *read_from(int fd, off_t off, size_t max)
{
	char *buf = malloc(max + 1);
	ssize_t n;

	if (buf == NULL)
		return NULL;
	n = pread(fd, buf, max, off);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return buf;
}

/* The "msg" of the last error line of rune's JSON log in text, unescaped. */
static char *log_error(const char *text)
{
	const char *line = NULL, *p, *q;
	char *msg, *o;

	for (p = text; (p = strstr(p, "\"level\":\"")) != NULL; p++)
		if (strncmp(p + 9, "error", 5) == 0 || strncmp(p + 9, "fatal", 5) == 0)
			line = p;
	if (line == NULL)
		return NULL;
	while (line > text && line[-1] != '\n')
		line--;
	p = strstr(line, "\"msg\":\"");
	if (p == NULL)
		return NULL;
	p += 7;
	msg = o = malloc(strlen(p) + 1);
	if (msg == NULL)
		return NULL;
	for (q = p; *q && *q != '"' && *q != '\n'; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			*o++ = *q == 'n' ? ' ' : *q == 't' ? ' ' : *q;
			continue;
		}
		*o++ = *q;
	}
	*o = '\0';
	return msg;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* Moves fd to the child's stdio slot i, whatever numbers fds have. */
static void child_stdio(int fds[3])
{
	int moved[3];

	for (int i = 0; i < 3; i++)
		moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
	for (int i = 0; i < 3; i++)
		if (moved[i] < 0 || dup2(moved[i], i) < 0)
			_exit(127);
}

static int wait_bounded(pid_t pid, int *wstatus, int timeout_ms)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r;

		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			kill(pid, SIGKILL);
		close(pfd);
	}
	while (waitpid(pid, wstatus, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/* argv forked and exec'ed with fds as its stdio, signals as by default. */
static pid_t spawn(const char *const *argv, int fds[3])
{
	sigset_t all;
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	child_stdio(fds);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execv(argv[0], (char *const *)argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int helper_run(const char *const *argv, int timeout_ms, char **out, err_t *err)
{
	_cleanup_close_ int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	_cleanup_close_ int ofd = memfd_create("helper-stdout", MFD_CLOEXEC);
	_cleanup_close_ int efd = memfd_create("helper-stderr", MFD_CLOEXEC);
	_cleanup_free_ char *text = NULL;
	int fds[3] = { null, ofd, efd }, wstatus = 0;
	struct stat st;
	char *line;
	pid_t pid;

	if (null < 0 || ofd < 0 || efd < 0)
		return err_sys(err, errno, "%s's stdio", argv[0]);
	pid = spawn(argv, fds);
	if (pid < 0)
		return err_sys(err, errno, "fork %s", argv[0]);
	if (wait_bounded(pid, &wstatus, timeout_ms) < 0)
		return err_sys(err, errno, "wait for %s", argv[0]);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		if (out) {
			fstat(ofd, &st);
			*out = read_from(ofd, 0, (size_t)st.st_size);
			if (*out == NULL)
				return err_sys(err, ENOMEM, "%s's output", argv[0]);
		}
		return 0;
	}
	if (WIFSIGNALED(wstatus))
		return err_set(err, EIO, "%s: killed by signal %d%s", argv[0], WTERMSIG(wstatus),
			       WTERMSIG(wstatus) == SIGKILL ? " (timed out?)" : "");
	fstat(efd, &st);
	text = read_from(efd, st.st_size > 4096 ? st.st_size - 4096 : 0, 4096);
	if (text == NULL)
		return err_sys(err, ENOMEM, "%s", argv[0]);
	trim(text);
	line = strrchr(text, '\n');
	return err_set(err, EIO, "%s", line ? line + 1 : *text ? text : "exited with an error");
}

int rune_run(const struct settings *rt, const char *bundle, const char *const *args,
	     struct rune_io *io, err_t *err)
{
	const char *argv[MAX_ARGS];
	_cleanup_close_ int null = -1, out = -1, errfd = -1, logfd = -1;
	_cleanup_free_ char *logpath = NULL;
	int fds[3], wstatus = 0, n = 0, i;
	off_t logoff = 0;
	pid_t pid;

	argv[n++] = rt->rune;
	argv[n++] = "--root";
	argv[n++] = rt->root;
	if (rt->systemd_cgroup > 0)
		argv[n++] = "--systemd-cgroup";
	if (bundle) {
		if (asprintf(&logpath, "%s/log.json", bundle) < 0)
			return err_sys(err, ENOMEM, "rune log path");
		argv[n++] = "--log";
		argv[n++] = logpath;
		argv[n++] = "--log-format";
		argv[n++] = "json";
		logfd = open(logpath, O_RDONLY | O_CLOEXEC);
		if (logfd >= 0)
			logoff = lseek(logfd, 0, SEEK_END);
	}
	for (i = 0; args[i] && n < MAX_ARGS - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;

	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	out = memfd_create("rune-stdout", MFD_CLOEXEC);
	errfd = memfd_create("rune-stderr", MFD_CLOEXEC);
	if (null < 0 || out < 0 || errfd < 0)
		return err_sys(err, errno, "rune's stdio");
	fds[0] = io && io->fds[0] >= 0 ? io->fds[0] : null;
	fds[1] = io && io->fds[1] >= 0 ? io->fds[1] : out;
	fds[2] = io && io->fds[2] >= 0 ? io->fds[2] : errfd;

	pid = spawn(argv, fds);
	if (pid < 0)
		return err_sys(err, errno, "fork %s", rt->rune);
	if (wait_bounded(pid, &wstatus, RUNE_TIMEOUT_MS) < 0)
		return err_sys(err, errno, "wait for %s", rt->rune);
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		if (io && io->out) {
			struct stat st;

			fstat(out, &st);
			*io->out = read_from(out, 0, (size_t)st.st_size);
			if (*io->out == NULL)
				return err_sys(err, ENOMEM, "rune %s output", args[0]);
		}
		return 0;
	}
	{
		_cleanup_free_ char *log = NULL, *msg = NULL, *text = NULL;

		if (logfd < 0 && logpath)
			logfd = open(logpath, O_RDONLY | O_CLOEXEC);
		if (logfd >= 0) {
			log = read_from(logfd, logoff, 64 << 10);
			msg = log ? log_error(log) : NULL;
		}
		if (msg == NULL) {
			text = read_from(errfd, 0, 4096);
			if (text)
				trim(text);
		}
		if (WIFSIGNALED(wstatus))
			return err_set(err, EIO, "rune %s: killed by signal %d%s%s", args[0],
				       WTERMSIG(wstatus), msg || (text && *text) ? ": " : "",
				       msg    ? msg
				       : text ? text
					      : "");
		return err_set(err, EIO, "rune %s: %s", args[0],
			       msg		 ? msg
			       : (text && *text) ? text
						 : "exited with an error");
	}
}
