/* SPDX-License-Identifier: Apache-2.0 */
/* The rune side of `exec` and `attest` into an enclave container: runelet protocol clients. */
#include "librune/enclave.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "librune/cgroup.h"
#include "librune/internal.h"
#include "librune/linux.h"
#include "librune/log.h"
#include "librune/sync.h"
#include "librune/util.h"
#include "rune/pal.h"

#include "librune/enclave_internal.h"
#include "librune/runelet_proto.h"

static int connect_runelet(const struct rune_state *s, err_t *err)
{
	_cleanup_free_ char *path = path_join(s->dir, RUNELET_SOCKET_NAME);
	int fd = unix_connect_at(path, SOCK_SEQPACKET, err);

	return fd < 0 ? err_wrap(err, "init-runelet of \"%s\"", s->id) : fd;
}

static int expect_reply(int fd, const char *want, json_t **out, err_t *err)
{
	json_t *j = runelet_recv(fd, NULL, NULL);
	const char *type = json_string_value(json_object_get(j, "type"));

	if (j == NULL)
		return err_set(err, EIO, "init-runelet closed the connection");
	if (type && strcmp(type, "error") == 0) {
		int ret =
		    err_set(err, json_integer_value(json_object_get(j, "code")) ?: EIO,
			    "enclave: %s", json_string_value(json_object_get(j, "msg")) ?: "error");
		json_decref(j);
		return ret;
	}
	if (type == NULL || strcmp(type, want) != 0) {
		json_decref(j);
		return err_set(err, EPROTO, "init-runelet: unexpected reply");
	}
	*out = j;
	return 0;
}

/* Waits for the enclave process's exit, forwarding our signals to it. */
static int proxy_wait(int conn)
{
	sigset_t mask;
	int sfd, code = 255;

	rune_forwardable_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { .fd = conn, .events = POLLIN },
				       { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD &&
			    si.ssi_signo != SIGPIPE && si.ssi_signo != SIGWINCH) {
				json_t *k = json_pack("{s:s,s:i}", "type", "kill", "signal",
						      (int)si.ssi_signo);
				runelet_send(conn, k, NULL, 0);
				json_decref(k);
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			json_t *j = runelet_recv(conn, NULL, NULL);
			const char *type = json_string_value(json_object_get(j, "type"));
			if (type && strcmp(type, "exit") == 0)
				code = json_integer_value(json_object_get(j, "code"));
			json_decref(j);
			break;
		}
	}
	close(sfd);
	return code;
}

/*
 * argv[0] on the container's PATH (from the exec's env), looked up in the
 * init's root without leaving it; as is when not there: it may name a
 * program inside the enclave only.
 */
static char *resolve_in_container(pid_t pid, char *const *env, const char *arg0)
{
	const char *path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int rootfd = -1;
	char root[64], *save = NULL;

	if (strchr(arg0, '/'))
		return strdup(arg0);
	for (char *const *e = env; e && *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path_env = *e + 5;
	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	copy = strdup(path_env);
	if (rootfd < 0 || copy == NULL)
		return strdup(arg0);
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *full = path_join(dir, arg0);
		int fd;
		struct stat st;

		if (full == NULL ||
		    rune_open_in_root(rootfd, full, O_PATH, false, false, &fd, NULL) < 0)
			continue;
		bool found = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
		close(fd);
		if (found)
			return steal_ptr(full);
	}
	return strdup(arg0);
}

/*
 * pal_create_process takes no user or cwd: every enclave process runs as the
 * container's user, in its cwd. Asking for others is refused, not ignored.
 * (Capabilities and no_new_privs were fixed for the whole enclave at init.)
 */
static int check_enclave_identity(const struct rune_state *s, const struct rune_process *p,
				  err_t *err)
{
	struct rune_process c = { 0 };
	int ret;

	/* The identity frozen in the state at create, never the bundle's current one. */
	if ((ret = rune_process_parse(s->process, "state: process", &c, err)) < 0)
		return ret;
	if (p->user.uid != c.user.uid || p->user.gid != c.user.gid)
		ret = err_set(err, ENOTSUP,
			      "exec into enclave container \"%s\" runs as its user %u:%u, not "
			      "%u:%u: an enclave runtime has one identity",
			      s->id, (unsigned)c.user.uid, (unsigned)c.user.gid,
			      (unsigned)p->user.uid, (unsigned)p->user.gid);
	else if (p->cwd && c.cwd && strcmp(p->cwd, c.cwd) != 0)
		ret = err_set(err, ENOTSUP,
			      "exec into enclave container \"%s\" runs in its cwd %s, not %s",
			      s->id, c.cwd, p->cwd);
	rune_process_clear(&c);
	return ret;
}

int rune_enclave_exec(const struct rune_ctx *ctx, const struct rune_state *s,
		      const struct rune_exec_opts *o, int *exit_status, err_t *err)
{
	const struct rune_process *p = o->process;
	int stdio[3] = { 0, 1, 2 };
	json_t *req, *jargv, *jenv, *reply = NULL;
	_cleanup_close_ int conn = -1;
	int ret;

	(void)ctx;
	if (p->terminal)
		return err_set(err, ENOTSUP,
			       "exec --tty into an enclave container is not supported");
	/* init-runelet serves requests once the workload runs, from `start` on. */
	if (rune_state_status(s) != RUNE_STATUS_RUNNING)
		return err_set(err, EINVAL,
			       "cannot exec into enclave container \"%s\" before it is started",
			       s->id);
	if ((ret = check_enclave_identity(s, p, err)) < 0)
		return ret;
	jargv = json_array();
	jenv = json_array();
	for (char **a = p->args; a && *a; a++)
		json_array_append_new(jargv, json_string(*a));
	for (char **v = p->env; v && *v; v++)
		if (strncmp(*v, "ENCLAVE_", 8) != 0)
			json_array_append_new(jenv, json_string(*v));
	_cleanup_free_ char *path = resolve_in_container(s->pid, p->env, p->args[0]);
	req = json_pack("{s:s,s:s,s:o,s:o}", "type", "exec", "path", path, "argv", jargv, "env",
			jenv);
	if ((conn = connect_runelet(s, err)) < 0) {
		json_decref(req);
		return conn;
	}
	ret = runelet_send(conn, req, stdio, 3);
	json_decref(req);
	if (ret == -E2BIG)
		return err_set(err, E2BIG,
			       "exec request too large: argv and env exceed %d KiB, the limit for "
			       "an enclave exec",
			       RUNELET_MSG_MAX / 1024);
	if (ret < 0)
		return err_sys(err, -ret, "send exec request");
	if ((ret = expect_reply(conn, "started", &reply, err)) < 0)
		return ret;
	json_decref(reply);
	if (o->detach) {
		/* A host-side proxy stands for the enclave process: its exit status mirrors it. */
		pid_t proxy = fork();
		if (proxy < 0)
			return err_sys(err, errno, "fork exec proxy");
		if (proxy == 0) {
			setsid();
			int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (devnull >= 0) {
				dup2(devnull, 0);
				dup2(devnull, 1);
				dup2(devnull, 2);
			}
			_exit(proxy_wait(conn));
		}
		if (o->pid_file) {
			if ((ret = rune_write_pid_file(o->pid_file, proxy, err)) < 0)
				return ret;
		}
		*exit_status = 0;
		return 0;
	}
	if (o->pid_file) {
		if ((ret = rune_write_pid_file(o->pid_file, getpid(), err)) < 0)
			return ret;
	}
	*exit_status = proxy_wait(conn);
	return 0;
}

int rune_enclave_attest(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			const char *target_info_hex, json_t **out, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_close_ int conn = -1;
	json_t *req, *reply = NULL;
	int ret;

	if ((ret = rune_state_load(ctx->root, id, &s, err)) < 0)
		return ret;
	if (s->enclave == NULL)
		return err_set(err, EINVAL, "container \"%s\" is not an enclave container", id);
	if (rune_state_status(s) != RUNE_STATUS_RUNNING)
		return err_set(err, EINVAL, "container \"%s\" is not running", id);
	if ((conn = connect_runelet(s, err)) < 0)
		return conn;
	req = json_pack("{s:s}", "type", "attest");
	if (report_data_hex)
		json_object_set_new(req, "report_data", json_string(report_data_hex));
	if (target_info_hex)
		json_object_set_new(req, "target_info", json_string(target_info_hex));
	ret = runelet_send(conn, req, NULL, 0);
	json_decref(req);
	if (ret < 0)
		return err_sys(err, -ret, "send attest request");
	if ((ret = expect_reply(conn, "report", &reply, err)) < 0)
		return ret;
	*out = reply;
	return 0;
}
