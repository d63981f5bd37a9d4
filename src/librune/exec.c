/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `rune exec`: a helper child enters the container's cgroup and namespaces
 * (the user namespace first, the mount namespace last), then forks the
 * process itself so it lands in the container's pid namespace. The helper
 * reports that pid and exits; rune, a child subreaper while it waits,
 * inherits the process and reaps it.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "librune/attrs.h"
#include "librune/cgroup.h"
#include "librune/container.h"
#include "librune/handler.h"
#include "librune/init.h"
#include "librune/internal.h"
#include "librune/linux.h"
#include "librune/log.h"
#include "librune/seccomp.h"
#include "librune/sync.h"
#include "librune/util.h"

static bool same_user_ns(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	return stat(path, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

/*
 * Joins every namespace the config lists, all at once through a pidfd of the
 * init checked against its recorded start time: if the init died or its pid
 * was reused, this fails instead of leaving the process in rune's own
 * namespaces. Only a kind this kernel lacks is skipped.
 */
static int enter_namespaces(const struct rune_state *s, err_t *err)
{
	unsigned long flags = s->namespaces;
	_cleanup_close_ int pidfd = -1;

	pidfd = pidfd_open_same(s->pid, s->pid_start_time);
	if (pidfd < 0)
		return err_set(err, ESRCH, "container \"%s\": init %d is gone", s->id, s->pid);
	for (int k = 0; k < RUNE_NS_COUNT; k++)
		if (access(rune_ns_proc_path(k), F_OK) < 0)
			flags &= ~(unsigned long)rune_ns_clone_flag(k);
	/* The kernel refuses to re-enter the user namespace one is in (a joined host's). */
	if ((flags & CLONE_NEWUSER) && same_user_ns(s->pid))
		flags &= ~(unsigned long)CLONE_NEWUSER;
	rune_debug("exec %s: joining the namespaces 0x%lx of init %d", s->id, flags, s->pid);
	if (flags && setns(pidfd, flags) < 0)
		return err_sys(err, errno, "container \"%s\": join the namespaces of init %d",
			       s->id, s->pid);
	return 0;
}

/*
 * An init without a mount namespace of its own is only chrooted into the
 * rootfs (linux.c): the process must enter that root too, not the caller's /.
 * *fd is -1 when the init has its own mount namespace (joining it is enough).
 * The init is checked after the open: a pid reused before it shows another
 * start time.
 */
static int open_init_root(const struct rune_state *s, int *fd, err_t *err)
{
	_cleanup_close_ int root = -1, pidfd = -1;
	char path[64];

	*fd = -1;
	if (s->namespaces & CLONE_NEWNS)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/root", s->pid);
	root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return err_sys(err, errno, "open %s", path);
	pidfd = pidfd_open_same(s->pid, s->pid_start_time);
	if (pidfd < 0)
		return err_set(err, ESRCH, "container \"%s\": init %d is gone", s->id, s->pid);
	*fd = steal_fd(root);
	return 0;
}

/* exec --cgroup: the arguments checked before anything starts. */
static int check_cgroup_subs(const struct rune_state *s, const struct rune_exec_opts *o, err_t *err)
{
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	int ret;

	if (s->cgroup_path == NULL)
		return err_set(err, EINVAL, "exec --cgroup: container \"%s\" has no cgroup", s->id);
	if ((ret = rune_cgroup_host_detect(&h, err)) < 0)
		return ret;
	return rune_cgroup_check_subs(h, s->cgroup_path, o->cgroup_subs, err);
}

/*
 * Loads the filter; a notify listener goes to rune, which hands it to the
 * agent at listenerPath (runc sends one per process), and the process waits
 * until the agent has it.
 */
static int load_seccomp(struct rune_seccomp *seccomp, int sync_fd, err_t *err)
{
	_cleanup_close_ int notify_fd = -1;
	struct sync_msg m;
	int ret;

	if ((ret = rune_seccomp_load(seccomp, &notify_fd, err)) < 0)
		return ret;
	if (notify_fd < 0)
		return 0;
	if (sync_send(sync_fd, SYNC_SECCOMP, 0, notify_fd) < 0)
		return err_sys(err, errno, "send the seccomp listener to rune");
	return sync_expect(sync_fd, SYNC_SECCOMP_DONE, &m, NULL, "rune", err);
}

static int exec_process_setup(const struct rune_exec_opts *o, struct rune_seccomp *seccomp,
			      int sync_fd, err_t *err)
{
	struct rune_process *p = o->process;
	_cleanup_free_ char *exe = NULL;
	int ret;

	if (p->terminal) {
		int master, slave;
		if ((ret = rune_open_pty_in_root(AT_FDCWD, &master, &slave, err)) < 0)
			return ret;
		if (p->console_height || p->console_width) {
			struct winsize ws = { .ws_row = p->console_height,
					      .ws_col = p->console_width };
			ioctl(slave, TIOCSWINSZ, &ws);
		}
		/* As runc: the terminal belongs to the process's user. */
		if (fchown(slave, p->user.uid, -1) < 0)
			return err_sys(err, errno, "chown pty");
		if (sync_send(sync_fd, SYNC_PTY, 0, master) < 0)
			return err_sys(err, errno, "send pty to rune");
		close(master);
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
			return err_sys(err, errno, "set controlling terminal");
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
	}
	if ((ret = rune_process_apply_rlimits(p, err)) < 0 ||
	    (ret = rune_apply_scheduler(p->scheduler, err)) < 0 ||
	    (ret = rune_apply_io_priority(p->io_priority, err)) < 0 ||
	    (ret = rune_apply_lsm(p, err)) < 0)
		return ret;
	if (p->has_oom_score_adj && (ret = rune_write_oom_score_adj(p->oom_score_adj, err)) < 0)
		return ret;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_sys(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
	if (seccomp && !p->no_new_privileges && (ret = load_seccomp(seccomp, sync_fd, err)) < 0)
		return ret;
	exe = rune_process_lookup(p, p->args[0]);
	if ((ret = rune_process_apply_identity(p, err)) < 0)
		return ret;
	if (exe == NULL && (exe = rune_process_lookup(p, p->args[0])) == NULL)
		return err_set(err, ENOENT, "exec \"%s\": executable file not found in $PATH",
			       p->args[0]);
	if ((ret = rune_process_check_exe(exe, err)) < 0 ||
	    (ret = rune_process_default_home(p, err)) < 0)
		return ret;
	if (seccomp && p->no_new_privileges && (ret = load_seccomp(seccomp, sync_fd, err)) < 0)
		return ret;
	cloexec_fds_from(3 + o->preserve_fds);
	reset_signals_for_workload();
	execve(exe, p->args, p->env ? p->env : (char *[]){ NULL });
	return rune_exec_error(exe, errno, err);
}

static __attribute__((noreturn)) void exec_helper(const struct rune_exec_opts *o,
						  const struct rune_state *s,
						  struct rune_seccomp *seccomp, int sync_fd)
{
	_cleanup_cgroup_host_ struct rune_cgroup_host *h = NULL;
	err_t err = NULL;
	pid_t pid;
	int ret, root = -1;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (s->cgroup_path && (ret = rune_cgroup_host_detect(&h, &err)) == 0)
		ret = rune_cgroup_enter_task_sub(h, s->cgroup_path, o->cgroup_subs, &err);
	else
		ret = 0;
	if (ret == 0)
		ret = open_init_root(s, &root, &err);
	if (ret < 0 || (ret = enter_namespaces(s, &err)) < 0)
		goto fail;
	if (root >= 0 && (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0)) {
		ret = err_sys(&err, errno, "enter the container's root");
		goto fail;
	}
	if (root >= 0)
		close(root);
	pid = fork();
	if (pid < 0) {
		ret = err_sys(&err, errno, "fork");
		goto fail;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
		ret = exec_process_setup(o, seccomp, sync_fd, &err);
		sync_send_error(sync_fd, err, -ret);
		_exit(127);
	}
	sync_send(sync_fd, SYNC_PID, pid, -1);
	_exit(0);
fail:
	sync_send_error(sync_fd, err, -ret);
	_exit(1);
}

/* The exec'd process's listener to the agent; then the process may go on. */
static int send_notify(const struct rune_state *s, struct rune_seccomp *seccomp, int notify,
		       pid_t pid, int sync_fd, err_t *err)
{
	_cleanup_free_ char *text = rune_oci_state_text(s, RUNE_STATUS_RUNNING);
	int ret;

	if (text == NULL)
		return err_sys(err, ENOMEM, "container state");
	ret = rune_seccomp_send_process_notify_fd(rune_seccomp_listener_path(seccomp),
						  rune_seccomp_listener_metadata(seccomp), notify,
						  text, pid, err);
	if (ret < 0)
		return ret;
	if (sync_send(sync_fd, SYNC_SECCOMP_DONE, 0, -1) < 0)
		return err_sys(err, errno, "sync with the exec'd process");
	return 0;
}

int rune_container_exec(const struct rune_ctx *ctx, const struct rune_exec_opts *o,
			int *exit_status, err_t *err)
{
	_cleanup_state_ struct rune_state *s = NULL;
	_cleanup_close_ int master = -1;
	struct rune_seccomp *seccomp = NULL;
	enum rune_status status;
	struct sync_msg m;
	sigset_t mask, old;
	int sv[2] = { -1, -1 }, notify = -1;
	pid_t helper, pid = -1;
	int ret, wstatus;

	if ((ret = rune_state_load(ctx->root, o->id, &s, err)) < 0)
		return ret;
	status = rune_state_status(s);
	/* runc's wording: tools match it */
	if (status == RUNE_STATUS_PAUSED && !o->ignore_paused)
		return err_set(
		    err, EINVAL,
		    "cannot exec in a paused container (use --ignore-paused to override)");
	if (status != RUNE_STATUS_RUNNING && status != RUNE_STATUS_CREATED &&
	    status != RUNE_STATUS_PAUSED)
		return err_set(err, EINVAL, "cannot exec in a %s container",
			       rune_status_name(status));
	if (o->cgroup_subs && o->cgroup_subs[0] && (ret = check_cgroup_subs(s, o, err)) < 0)
		return ret;
	if (o->process->args == NULL || o->process->args[0] == NULL)
		return err_set(err, EINVAL, "exec: process args must not be empty");
	if (o->console_socket && !o->process->terminal)
		return err_set(err, EINVAL, "exec: --console-socket needs --tty");
	if (o->process->terminal && o->detach && !o->console_socket)
		return err_set(err, EINVAL,
			       "cannot allocate a tty without --console-socket when detached");
	if (s->process == NULL)
		return err_set(err, EINVAL,
			       "container \"%s\": its state has no frozen process (created by an "
			       "older rune): exec would not know its privileges",
			       o->id);
	if ((ret = rune_check_lsm(o->process, "exec", err)) < 0)
		return ret;
	if (rune_handler_of_state(s)->exec_into)
		return rune_handler_of_state(s)->exec_into(ctx, s, o, exit_status, err);
	/* The container's seccomp profile, as frozen at create, applies to exec'd processes. */
	if (s->seccomp && (ret = rune_seccomp_prepare(s->seccomp, &seccomp, err)) < 0)
		return ret;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = err_sys(err, errno, "socketpair");
		goto out;
	}
	sigfillset(&mask);
	sigdelset(&mask, SIGSEGV);
	sigdelset(&mask, SIGBUS);
	sigdelset(&mask, SIGTTIN);
	sigdelset(&mask, SIGTTOU);
	sigdelset(&mask, SIGTSTP);
	sigprocmask(SIG_BLOCK, &mask, &old);
	if (!o->detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	helper = fork();
	if (helper < 0) {
		ret = err_sys(err, errno, "fork");
		goto out_mask;
	}
	if (helper == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(sv[0]);
		exec_helper(o, s, seccomp, sv[1]);
	}
	close(sv[1]);
	sv[1] = -1;
	/*
	 * The helper reports the pid, the process itself its pty and then EOF at
	 * execve (or an error). Both write to this socket: take them in any order.
	 */
	for (;;) {
		int pf = -1;
		ret = sync_recv(sv[0], &m, &pf);
		if (ret == -ECONNRESET) {
			ret = pid > 0 ? 0 : err_set(err, EIO, "exec helper exited unexpectedly");
			break;
		}
		if (ret < 0) {
			ret = err_sys(err, -ret, "exec");
			break;
		}
		if (m.type == SYNC_ERROR) {
			ret = err_set(err, m.code, "%s", m.msg);
			break;
		}
		if (m.type == SYNC_PID) {
			pid = m.value;
			waitpid(helper, NULL, 0);
			helper = -1;
		} else if (m.type == SYNC_PTY) {
			master = pf;
			if (o->console_socket) {
				if ((ret = rune_send_console(o->console_socket, master, err)) < 0)
					break;
				close(steal_fd(master));
			}
		} else if (m.type == SYNC_SECCOMP && pf >= 0 && notify < 0) {
			notify = pf;
		} else if (pf >= 0) {
			close(pf);
		}
		/* The listener may come before the helper reports the pid. */
		if (notify >= 0 && pid > 0 &&
		    (ret = send_notify(s, seccomp, notify, pid, sv[0], err)) < 0)
			break;
		if (notify >= 0 && pid > 0)
			close(steal_fd(notify));
	}
	if (notify >= 0)
		close(notify);
	if (helper > 0)
		waitpid(helper, NULL, 0);
	if (ret < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			if (!o->detach)
				waitpid(pid, NULL, 0);
		}
		goto out_mask;
	}
	if (o->pid_file && (ret = rune_write_pid_file(o->pid_file, pid, err)) < 0)
		goto out_mask;
	if (o->detach) {
		*exit_status = 0;
		goto out_mask;
	}
	wstatus = rune_wait_forwarding(pid, master, &mask);
	*exit_status = rune_exit_code(wstatus);
out_mask:
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	rune_seccomp_free(seccomp);
	return ret;
}
