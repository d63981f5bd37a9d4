/* SPDX-License-Identifier: Apache-2.0 */
/* The operations on a created container: start, delete, kill, state, ps, pause, update. */
#include "librune/init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "librune/attrs.h"
#include "librune/cgroup.h"
#include "librune/enclave.h"
#include "librune/handler.h"
#include "librune/hooks.h"
#include "librune/internal.h"
#include "librune/linux.h"
#include "librune/log.h"
#include "librune/seccomp.h"
#include "librune/sync.h"
#include "librune/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
int rune_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

static int load_checked(const struct rune_ctx *ctx, const char *id, struct rune_state **s,
			enum rune_status *status, err_t *err)
{
	int ret = rune_state_load(ctx->root, id, s, err);

	if (ret < 0)
		return ret;
	*status = rune_state_status(*s);
	return 0;
}

static int run_poststart(struct rune_state *s, err_t *err)
{
	_cleanup_free_ char *text = NULL;
	int ret;

	if (s->hooks == NULL || json_array_size(json_object_get(s->hooks, "poststart")) == 0)
		return 0;
	text = rune_oci_state_text(s, RUNE_STATUS_RUNNING);
	ret = rune_hooks_run_json(s->hooks, RUNE_HOOK_POSTSTART, text, s->bundle, err);
	return ret;
}

int rune_container_start(const struct rune_ctx *ctx, const char *id, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int conn = -1;
	enum rune_status status;
	struct sync_msg m;
	err_t warn = NULL;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	/* runc's words: tools match them. */
	if (status == RUNE_STATUS_STOPPED)
		return err_set(err, EINVAL, "cannot start a container that has stopped");
	if (status == RUNE_STATUS_RUNNING)
		return err_set(err, EINVAL, "cannot start an already running container");
	if (status != RUNE_STATUS_CREATED)
		return err_set(err, EINVAL, "cannot start a container in the %s state",
			       rune_status_name(status));
	path = path_join(s->dir, RUNE_START_SOCKET);
	conn = unix_connect_at(path, SOCK_STREAM, err);
	if (conn < 0)
		return err_wrap(err, "start container \"%s\"", id);
	rune_debug("start %s: init %d", id, s->pid);
	if (write(conn, "0", 1) != 1)
		return err_sys(err, errno, "start container \"%s\"", id);
	unlink(path);
	/* EOF: the workload was exec'd; a message: why the container stopped instead. */
	int passed = -1;
	ret = sync_recv(conn, &m, &passed);
	if (passed >= 0)
		close(passed);
	if (ret == 0 && m.type == SYNC_ERROR) {
		while (waitpid(s->pid, NULL, WNOHANG) < 0 && errno == EINTR)
			;
		return err_set(err, m.code, "%s", m.msg);
	}
	/* The spec: a failing poststart hook is a warning; the container keeps running. */
	if (run_poststart(s, &warn) < 0)
		fprintf(stderr, "rune: warning: %s\n", err_msg(warn));
	err_free(&warn);
	return 0;
}

static int with_cgroup(const struct rune_state *s, struct rune_cgroup_host **h, err_t *err)
{
	if (s->cgroup_path == NULL)
		return err_set(err, ENOENT, "container \"%s\" has no cgroup", s->id);
	return rune_cgroup_host_detect(h, err);
}

/* Signals the init through a pidfd checked against its start time: never a reused pid. */
static int signal_init(const struct rune_state *s, int sig, err_t *err)
{
	_cleanup_close_ int pidfd = pidfd_open_same(s->pid, s->pid_start_time);

	if (pidfd < 0)
		return err_set(err, ESRCH, "container \"%s\" is not running", s->id);
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return err_sys(err, errno, "kill container \"%s\"", s->id);
	return 0;
}

static void wait_gone(pid_t pid, unsigned long long start_time, int ms)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	for (int i = 0; i < ms / 2 && proc_alive(pid, start_time); i++)
		nanosleep(&ts, NULL);
}

int rune_container_delete(const struct rune_ctx *ctx, const char *id, bool force, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	enum rune_status status;
	int ret, lock;

	ret = load_checked(ctx, id, &s, &status, err);
	if (ret < 0) {
		/* A state dir without state.json is a create that died half way: remove it. */
		_cleanup_free_ char *dir = NULL, *sj = NULL;
		if (force && rune_id_validate(id, NULL) == 0) {
			dir = rune_state_dir(ctx->root, id);
			sj = path_join(dir, "state.json");
			if (access(dir, F_OK) == 0 && access(sj, F_OK) < 0) {
				err_free(err);
				rm_rf(dir);
				return 0;
			}
		}
		return ret;
	}
	if (status != RUNE_STATUS_STOPPED && status != RUNE_STATUS_CREATED && !force)
		return err_set(err, EBUSY, "cannot delete container \"%s\" that is not stopped: %s",
			       id, rune_status_name(status));
	rune_debug("delete %s: %s, init %d, cgroup %s (%s)", id, rune_status_name(status), s->pid,
		   s->cgroup_path ? s->cgroup_path : "none", s->cgroup_owned ? "owned" : "shared");
	lock = rune_state_lock(s->dir, err);
	if (lock < 0)
		return lock;
	/* A shared cgroup (it existed before create) is neither killed nor removed. */
	if (s->cgroup_path && s->cgroup_owned && rune_cgroup_host_detect(&h, NULL) < 0)
		h = NULL;
	if (status != RUNE_STATUS_STOPPED) {
		if (h && status == RUNE_STATUS_PAUSED)
			rune_cgroup_freeze(h, s->cgroup_path, false, NULL);
		signal_init(s, SIGKILL, NULL);
		if (h)
			rune_cgroup_kill(h, s->cgroup_path, SIGKILL, NULL);
		wait_gone(s->pid, s->pid_start_time, 2000);
	}
	/* A create cut short (pid 0) never made a container: no poststop. */
	if (s->pid > 0 && s->hooks && json_array_size(json_object_get(s->hooks, "poststop"))) {
		_cleanup_free_ char *text = rune_oci_state_text(s, RUNE_STATUS_STOPPED);
		err_t e2 = NULL;
		/* The spec: a poststop failure is logged, deletion goes on. */
		if (rune_hooks_run_json(s->hooks, RUNE_HOOK_POSTSTOP, text, s->bundle, &e2) < 0)
			fprintf(stderr, "rune: warning: %s\n", err_msg(e2));
		err_free(&e2);
	}
	if (s->systemd_cgroup && s->cgroup_path) {
		err_t e2 = NULL;
		/* Its processes are dead: the scope is usually gone already. */
		if (rune_systemd_stop(s->cgroup_path, &e2) < 0)
			fprintf(stderr, "rune: warning: %s\n", err_msg(e2));
		err_free(&e2);
	}
	if (h && (ret = rune_cgroup_destroy(h, s->cgroup_path, true, err)) < 0) {
		close(lock);
		return ret;
	}
	/*
	 * Every process of an owned cgroup is gone now, not only init (which
	 * wait_gone waits for, 2 s at most): their EPC registry entries are
	 * unlocked and reaped here.
	 */
	if (rune_handler_of_state(s)->gone)
		rune_handler_of_state(s)->gone();
	if (s->exec_socket)
		unlink(s->exec_socket);
	close(lock);
	if (rm_rf(s->dir) < 0)
		return err_sys(err, errno, "remove %s", s->dir);
	return 0;
}

int rune_container_kill(const struct rune_ctx *ctx, const char *id, int sig, bool all, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	enum rune_status status;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	rune_debug("kill %s: signal %d%s, init %d", id, sig, all ? " to every process" : "",
		   s->pid);
	if (status == RUNE_STATUS_STOPPED && !all)
		return err_set(err, ESRCH, "container \"%s\" is not running", id);
	if (all) {
		_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
		if ((ret = with_cgroup(s, &h, err)) < 0)
			return ret;
		return rune_cgroup_kill(h, s->cgroup_path, sig, err);
	}
	if ((ret = signal_init(s, sig, err)) < 0)
		return ret;
	/* A frozen task only dies once thawed: SIGKILL must reach a paused container. */
	if (sig == SIGKILL && status == RUNE_STATUS_PAUSED) {
		_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
		if (with_cgroup(s, &h, NULL) == 0)
			rune_cgroup_freeze(h, s->cgroup_path, false, NULL);
	}
	return 0;
}

int rune_container_state(const struct rune_ctx *ctx, const char *id, json_t **out, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	enum rune_status status;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	*out = rune_state_to_oci(s, status);
	return *out ? 0 : err_sys(err, ENOMEM, "state");
}

int rune_container_pids(const struct rune_ctx *ctx, const char *id, pid_t **pids, size_t *n,
			err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	enum rune_status status;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	if ((ret = with_cgroup(s, &h, err)) < 0)
		return ret;
	return rune_cgroup_pids(h, s->cgroup_path, pids, n, err);
}

int rune_container_pause(const struct rune_ctx *ctx, const char *id, bool pause, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	enum rune_status status;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	if (pause && status != RUNE_STATUS_RUNNING && status != RUNE_STATUS_CREATED)
		return err_set(err, EINVAL, "container \"%s\" is not running", id);
	if (!pause && status != RUNE_STATUS_PAUSED)
		return err_set(err, EINVAL, "container \"%s\" is not paused", id);
	if ((ret = with_cgroup(s, &h, err)) < 0)
		return ret;
	return rune_cgroup_freeze(h, s->cgroup_path, pause, err);
}

int rune_container_update_epc(const struct rune_ctx *ctx, const char *id, uint64_t bytes,
			      err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	_cleanup_close_ int lock = -1;
	enum rune_status status;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	if (status == RUNE_STATUS_STOPPED)
		return err_set(err, EINVAL, "container \"%s\" is stopped", id);
	if (status == RUNE_STATUS_CREATING)
		return err_set(err, EBUSY, "container \"%s\" is being created", id);
	if (s->enclave == NULL)
		return err_set(err, EINVAL,
			       "--epc-limit: container \"%s\" is not an enclave container", id);
	/* One update at a time: the state is read, changed and written back. */
	if ((lock = rune_state_lock(s->dir, err)) < 0)
		return lock;
	rune_state_free(steal_ptr(s));
	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	if ((ret = rune_enclave_update_limit(s->enclave, id, s->pid, bytes, err)) < 0)
		return ret;
	if (s->cgroup_path && (ret = rune_cgroup_host_detect(&h, err)) < 0)
		return ret;
	/* A removed limit is "sgx_epc max" in the misc cgroup (where the host has it). */
	if (s->cgroup_path && bytes == 0 &&
	    (ret = rune_cgroup_set_sgx_epc(h, s->cgroup_path, 0, err)) < 0)
		return err_wrap(err, "EPC limit in the misc cgroup");
	if (s->cgroup_path && bytes &&
	    (ret = rune_enclave_cgroup_limit(s->enclave, h, s->cgroup_path, err)) < 0)
		return ret;
	return rune_state_save(s, err);
}

int rune_container_update(const struct rune_ctx *ctx, const char *id, json_t *resources, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	enum rune_status status;
	int ret;

	if ((ret = load_checked(ctx, id, &s, &status, err)) < 0)
		return ret;
	if (status == RUNE_STATUS_STOPPED)
		return err_set(err, EINVAL, "container \"%s\" is stopped", id);
	if ((ret = with_cgroup(s, &h, err)) < 0)
		return ret;
	/* systemd first, so that a daemon-reload keeps the new values. */
	if (s->systemd_cgroup && (ret = rune_systemd_update(h, s->cgroup_path, resources, err)) < 0)
		return ret;
	return rune_cgroup_update(h, s->cgroup_path, resources, err);
}
