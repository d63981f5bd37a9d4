/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/hooks.h"

#include <errno.h>
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

/* Waits for pid, killing it once timeout_s (0: none) has passed. Returns the wait status. */
static int wait_with_timeout(pid_t pid, int timeout_s, bool *timed_out)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	long long deadline = now_ms() + timeout_s * 1000LL;
	int status = 0;

	*timed_out = false;
	if (pidfd >= 0 && timeout_s > 0) {
		for (;;) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			long long left = deadline - now_ms();
			int r = poll(&p, 1, left > 0 ? (int)left : 0);
			if (r > 0)
				break;
			if (r == 0) {
				*timed_out = true;
				kill(pid, SIGKILL);
				break;
			}
			if (errno != EINTR)
				break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static int run_one(const struct rune_hook *h, enum rune_hook_kind kind, size_t i,
		   const char *state_json, err_t *err)
{
	static char *empty[] = { NULL };
	char *default_argv[] = { h->path, NULL };
	int in[2], errp[2];
	char errbuf[512];
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	bool timed_out;
	ssize_t n;
	pid_t pid;
	int status;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return err_sys(err, errno, "%s hook #%zu: pipe", kind_names[kind], i);
	pid = fork();
	if (pid < 0)
		return err_sys(err, errno, "%s hook #%zu: fork", kind_names[kind], i);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(errp[1], 2);
		reset_signals_for_workload();
		execve(h->path, h->args ? h->args : default_argv, h->env ? h->env : empty);
		_exit(127);
	}
	close(in[0]);
	close(errp[1]);
	/* The hook may not read stdin at all: a closed pipe is fine. */
	sigaction(SIGPIPE, &ign, &old_pipe);
	write_all(in[1], state_json, strlen(state_json));
	/* The init runs hooks too: an enclave workload must not inherit this. */
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(in[1]);
	status = wait_with_timeout(pid, h->timeout, &timed_out);
	n = read(errp[0], errbuf, sizeof(errbuf) - 1);
	close(errp[0]);
	errbuf[n > 0 ? n : 0] = '\0';
	while (n > 0 && (errbuf[n - 1] == '\n'))
		errbuf[--n] = '\0';
	for (char *p = errbuf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	if (timed_out)
		return err_set(err, ETIMEDOUT, "%s hook %s: timed out after %ds", kind_names[kind],
			       h->path, h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && access(h->path, X_OK) < 0)
		return err_sys(err, errno, "%s hook %s", kind_names[kind], h->path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, ECANCELED, "%s hook %s failed (%s %d)%s%s", kind_names[kind],
			       h->path, WIFEXITED(status) ? "exit status" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			       *errbuf ? ": " : "", errbuf);
	return 0;
}

int rune_hooks_run(const struct rune_hooks_list *list, enum rune_hook_kind kind,
		   const char *state_json, err_t *err)
{
	for (size_t i = 0; i < list->n; i++) {
		int ret = run_one(&list->v[i], kind, i, state_json, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int rune_hooks_run_json(json_t *hooks, enum rune_hook_kind kind, const char *state_json, err_t *err)
{
	json_t *arr = json_object_get(hooks, kind_names[kind]), *v;
	size_t i;
	int ret = 0;

	json_array_foreach(arr, i, v)
	{
		struct rune_hook h = { 0 };
		json_t *a, *e;
		size_t k;

		h.path = (char *)json_string_value(json_object_get(v, "path"));
		if (h.path == NULL)
			continue;
		h.timeout = json_integer_value(json_object_get(v, "timeout"));
		a = json_object_get(v, "args");
		e = json_object_get(v, "env");
		if (json_is_array(a)) {
			h.args = calloc(json_array_size(a) + 1, sizeof(char *));
			json_array_foreach(a, k, v) h.args[k] = (char *)json_string_value(v);
		}
		if (json_is_array(e)) {
			h.env = calloc(json_array_size(e) + 1, sizeof(char *));
			json_array_foreach(e, k, v) h.env[k] = (char *)json_string_value(v);
		}
		ret = run_one(&h, kind, i, state_json, err);
		free(h.args);
		free(h.env);
		if (ret < 0)
			break;
		v = json_array_get(arr, i); /* restore the loop variable */
	}
	return ret;
}
