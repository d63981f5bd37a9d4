/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/hooks.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "librune/util.h"

static const char *const kind_names[RUNE_HOOK_COUNT] = {
	"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

const char *rune_hook_kind_name(enum rune_hook_kind k)
{
	return kind_names[k];
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A hook's stdin (the state) and stderr (its first bytes are kept for the error). */
struct hook_io {
	int in_fd, err_fd;
	const char *in;
	size_t in_len, in_off;
	char err[512];
	size_t err_len;
};

static void hook_read_err(struct hook_io *io)
{
	char buf[4096];
	ssize_t n = read(io->err_fd, buf, sizeof(buf));

	if (n > 0) {
		size_t keep = sizeof(io->err) - 1 - io->err_len;
		if ((size_t)n < keep)
			keep = n;
		memcpy(io->err + io->err_len, buf, keep);
		io->err_len += keep;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(io->err_fd);
		io->err_fd = -1;
	}
}

static void hook_write_in(struct hook_io *io)
{
	ssize_t n = write(io->in_fd, io->in + io->in_off, io->in_len - io->in_off);

	if (n > 0)
		io->in_off += n;
	/* EPIPE: a hook need not read its stdin at all. */
	if (io->in_off == io->in_len || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(io->in_fd);
		io->in_fd = -1;
	}
}

/*
 * Feeds stdin and drains stderr while waiting for pid, killing it once
 * timeout_s (0: none) has passed: a hook that neither reads a large state
 * nor stops writing can't block rune. Returns the wait status.
 */
static int wait_hook(pid_t pid, int timeout_s, struct hook_io *io, bool *timed_out)
{
	_cleanup_close_ int pidfd = syscall(SYS_pidfd_open, pid, 0);
	long long deadline = now_ms() + timeout_s * 1000LL;
	int status = 0;

	*timed_out = false;
	fcntl(io->in_fd, F_SETFL, O_NONBLOCK);
	fcntl(io->err_fd, F_SETFL, O_NONBLOCK);
	while (pidfd >= 0) {
		struct pollfd p[3] = { { .fd = pidfd, .events = POLLIN },
				       { .fd = io->in_fd, .events = POLLOUT },
				       { .fd = io->err_fd, .events = POLLIN } };
		long long left = deadline - now_ms();
		int r = poll(p, 3, timeout_s > 0 ? (left > 0 ? (int)left : 0) : -1);

		if (r < 0 && errno != EINTR)
			break;
		if (r == 0) {
			*timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (r < 0)
			continue;
		if (p[1].revents)
			hook_write_in(io);
		if (p[2].revents)
			hook_read_err(io);
		if (p[0].revents)
			break;
	}
	/* What it wrote before exiting; a child it left holding stderr is not waited for. */
	if (io->err_fd >= 0)
		hook_read_err(io);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static int run_one(const struct rune_hook *h, enum rune_hook_kind kind, size_t i,
		   const char *state_json, const char *dir, err_t *err)
{
	static char *empty[] = { NULL };
	char *default_argv[] = { h->path, NULL };
	struct hook_io io = { .in = state_json, .in_len = strlen(state_json) };
	int in[2] = { -1, -1 }, errp[2] = { -1, -1 };
	char *msg = io.err, why[64];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	bool timed_out;
	size_t n;
	pid_t pid;
	int status;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		int e = errno;
		for (int k = 0; k < 2; k++) {
			if (in[k] >= 0)
				close(in[k]);
			if (errp[k] >= 0)
				close(errp[k]);
		}
		return err_sys(err, e, "%s hook #%zu: start", kind_names[kind], i);
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(errp[1], 2);
		/* As runc: stdio only, never the caller's other fds. */
		cloexec_fds_from(3);
		if (dir && chdir(dir) < 0) {
			dprintf(2, "chdir %s: %s", dir, strerror(errno));
			_exit(126);
		}
		reset_signals_for_workload();
		execve(h->path, h->args ? h->args : default_argv, h->env ? h->env : empty);
		_exit(127);
	}
	close(in[0]);
	close(errp[1]);
	/* A hook that closes its stdin early must not kill rune; the init runs hooks
	 * too, and an enclave workload must not inherit the ignored SIGPIPE. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	io.in_fd = in[1];
	io.err_fd = errp[0];
	status = wait_hook(pid, h->timeout, &io, &timed_out);
	sigaction(SIGPIPE, &old_pipe, NULL);
	if (io.in_fd >= 0)
		close(io.in_fd);
	if (io.err_fd >= 0)
		close(io.err_fd);
	n = io.err_len;
	msg[n] = '\0';
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (timed_out)
		return err_set(err, ETIMEDOUT, "%s hook %s: timed out after %ds", kind_names[kind],
			       h->path, h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(h->path, X_OK) < 0)
		return err_sys(err, errno, "%s hook %s", kind_names[kind], h->path);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* runc's words ("error running startContainer hook #0: signal: bad system call"). */
	if (WIFEXITED(status)) {
		snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(status));
	} else {
		int n = snprintf(why, sizeof(why), "signal: ");
		snprintf(why + n, sizeof(why) - n, "%s", strsignal(WTERMSIG(status)));
		why[n] = tolower((unsigned char)why[n]); /* Go's lower-case text */
	}
	return err_set(err, ECANCELED, "error running %s hook #%zu (%s): %s%s%s", kind_names[kind],
		       i, h->path, why, *msg ? ": " : "", msg);
}

int rune_hooks_run(const struct rune_hooks_list *list, enum rune_hook_kind kind,
		   const char *state_json, const char *dir, err_t *err)
{
	/* The spec: after a failing poststart or poststop hook the others still run. */
	bool all = kind == RUNE_HOOK_POSTSTART || kind == RUNE_HOOK_POSTSTOP;
	int first = 0, failed = 0;

	for (size_t i = 0; i < list->n; i++) {
		int ret = run_one(&list->v[i], kind, i, state_json, dir, failed ? NULL : err);

		if (ret == 0)
			continue;
		if (failed++ == 0)
			first = ret;
		if (!all)
			break;
	}
	if (failed > 1 && err && *err) {
		_cleanup_free_ char *msg = strdup(err_msg(*err));
		int code = (*err)->code;

		err_free(err);
		err_set(err, code, "%s (and %d more %s hooks failed)", msg ? msg : "", failed - 1,
			kind_names[kind]);
	}
	return first;
}

int rune_hooks_run_json(json_t *hooks, enum rune_hook_kind kind, const char *state_json,
			const char *dir, err_t *err)
{
	json_t *arr = json_object_get(hooks, kind_names[kind]), *v, *a, *e;
	struct rune_hooks_list list = { .v = calloc(json_array_size(arr) + 1, sizeof(*list.v)) };
	size_t i, k;
	int ret;

	if (list.v == NULL)
		return err_sys(err, ENOMEM, "%s hooks", kind_names[kind]);
	json_array_foreach(arr, i, v)
	{
		struct rune_hook *h = &list.v[list.n];

		h->path = (char *)json_string_value(json_object_get(v, "path"));
		if (h->path == NULL)
			continue;
		list.n++;
		h->timeout = json_integer_value(json_object_get(v, "timeout"));
		a = json_object_get(v, "args");
		e = json_object_get(v, "env");
		if (json_is_array(a) && (h->args = calloc(json_array_size(a) + 1, sizeof(char *))))
			json_array_foreach(a, k, v) h->args[k] = (char *)json_string_value(v);
		if (json_is_array(e) && (h->env = calloc(json_array_size(e) + 1, sizeof(char *))))
			json_array_foreach(e, k, v) h->env[k] = (char *)json_string_value(v);
		v = json_array_get(arr, i); /* restore the loop variable */
	}
	ret = rune_hooks_run(&list, kind, state_json, dir, err);
	for (i = 0; i < list.n; i++) {
		free(list.v[i].args);
		free(list.v[i].env);
	}
	free(list.v);
	return ret;
}
