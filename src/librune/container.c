/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container lifecycle. `create` forks the container's init with clone3 into
 * its new namespaces; parent and child then step through a short protocol
 * over a SOCK_SEQPACKET pair (sync.h):
 *
 *   parent                              child (init)
 *   cgroup dirs, clone, id maps
 *                    -- SYNC_MAPS -->   setns, hostname, sysctl, rootfs mounts,
 *   move init into   <-- SYNC_PTY --    devices, pty, console, masked paths
 *   its cgroups      -- SYNC_GO -->     (moving a task takes an RCU grace period:
 *                                        it overlaps the mounts)
 *   prestart,        <-- SYNC_HOOKS --  unshare cgroup namespace
 *   createRuntime    -- HOOKS_DONE -->  createContainer hooks, pivot_root,
 *                                       rlimits, identity, PATH lookup
 *   state.json,      <-- SYNC_READY --  waits on start.sock
 *   pid file, exit
 *
 * `start` connects to start.sock in the state directory (bound by the init
 * before pivot_root) and removes it; the init runs the startContainer
 * hooks, loads seccomp and execs the workload. The connection is
 * close-on-exec: `start` reads EOF once the workload runs, or the error
 * that stopped it (a failing startContainer hook, a failed execve).
 */
#include "librune/container.h"

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
#include "librune/handler.h"
#include "librune/hooks.h"
#include "librune/internal.h"
#include "librune/linux.h"
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

/* cgroup_fd >= 0: born in that v2 cgroup (no migration); *used says whether that worked. */
static pid_t clone3_fork(unsigned long long flags, int cgroup_fd, bool *used)
{
	struct clone_args args = { .flags = flags, .exit_signal = SIGCHLD };
	pid_t pid;

	*used = false;
	if (cgroup_fd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = cgroup_fd;
		pid = syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0) {
			*used = true;
			return pid;
		}
		/* Older kernels, or a cgroup that can't take processes: move it later. */
		args.flags &= ~CLONE_INTO_CGROUP;
		args.cgroup = 0;
	}
	return syscall(SYS_clone3, &args, sizeof(args));
}

/* ---- the init (child) side ---- */

struct init_args {
	const struct rune_ctx *ctx;
	const struct rune_create_opts *opts;
	const struct rune_config *cfg;
	struct rune_cgroup_host *cgroup_host;
	const char *cgroup_path;
	struct rune_seccomp *seccomp;
	struct rune_handler *handler;
	const char *start_path;
	int sync_fd;
	int preserve_fds;
	bool in_v2;	  /* born in its v2 cgroup (CLONE_INTO_CGROUP) */
	bool self_move;	  /* joins its v1 cgroups itself; else rune moves it and sends GO */
	bool cgroup_late; /* systemd makes the cgroup after the fork: wait before mounting */
	unsigned long late_flags; /* new namespaces made after joining a user namespace */
};

static int join_namespaces(const struct rune_config *cfg, err_t *err)
{
	/* The user namespace first: the others are owned by it. pid was joined by the parent. */
	static const enum rune_ns_type order[] = { RUNE_NS_USER, RUNE_NS_IPC,	 RUNE_NS_UTS,
						   RUNE_NS_NET,	 RUNE_NS_CGROUP, RUNE_NS_TIME,
						   RUNE_NS_MNT };
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const struct rune_namespace *ns = &cfg->ns[order[i]];
		_cleanup_close_ int fd = -1;

		if (!ns->present || ns->path == NULL || order[i] == RUNE_NS_PID)
			continue;
		fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return err_sys(err, errno, "open %s namespace %s", rune_ns_name(order[i]),
				       ns->path);
		if (setns(fd, rune_ns_clone_flag(order[i])) < 0)
			return err_sys(err, errno, "join %s namespace %s", rune_ns_name(order[i]),
				       ns->path);
	}
	return 0;
}

/* createContainer and startContainer hooks run in the init: the state names it. */
static int run_init_hooks(const struct init_args *a, enum rune_hook_kind kind, const char *status,
			  err_t *err)
{
	const struct rune_config *cfg = a->cfg;
	_cleanup_free_ char *text = NULL;
	json_t *st;

	if (cfg->hooks[kind].n == 0)
		return 0;
	st = json_pack("{s:s,s:s,s:s,s:I,s:s}", "ociVersion", cfg->oci_version, "id", a->opts->id,
		       "status", status, "pid", (json_int_t)getpid(), "bundle", a->opts->bundle);
	text = json_dumps(st, JSON_COMPACT);
	json_decref(st);
	if (text == NULL)
		return err_sys(err, ENOMEM, "%s hooks", rune_hook_kind_name(kind));
	return rune_hooks_run(&cfg->hooks[kind], kind, text, err);
}

/*
 * With a user namespace joined by path, the new namespaces must belong to it:
 * they are made here, after the join. A new pid namespace only takes the
 * children of who unshares it: this process forks the init there, tells rune
 * its pid and leaves.
 */
static int unshare_late(struct init_args *a, err_t *err)
{
	unsigned long flags = a->late_flags;
	pid_t pid;

	if (flags == 0)
		return 0;
	if (unshare(flags) < 0)
		return err_sys(err, errno, "create namespaces in the joined user namespace");
	if (!(flags & CLONE_NEWPID))
		return 0;
	pid = fork();
	if (pid < 0)
		return err_sys(err, errno, "fork the container init in its pid namespace");
	if (pid > 0) {
		sync_send(a->sync_fd, SYNC_PID, pid, -1);
		_exit(0);
	}
	return 0;
}

static bool needs_early_cgroup(const struct rune_config *cfg, const struct rune_cgroup_host *h)
{
	if (!cfg->ns[RUNE_NS_CGROUP].present || rune_cgroup_layout(h) != RUNE_CGROUP_V2)
		return false;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (cfg->mounts[i].type && strcmp(cfg->mounts[i].type, "cgroup2") == 0)
			return true;
	return false;
}

/* Waits until rune has moved us into the container's cgroups, then unshares the cgroup ns. */
static int enter_cgroup_ns(struct init_args *a, err_t *err)
{
	struct sync_msg m;
	int ret;

	if (!a->self_move && (ret = sync_expect(a->sync_fd, SYNC_GO, &m, NULL, "rune", err)) < 0)
		return ret;
	if (a->cfg->ns[RUNE_NS_CGROUP].present && !a->cfg->ns[RUNE_NS_CGROUP].path &&
	    unshare(CLONE_NEWCGROUP) < 0)
		return err_sys(err, errno, "create cgroup namespace");
	return 0;
}

static int init_setup(struct init_args *a, err_t *err)
{
	const struct rune_config *cfg = a->cfg;
	struct rune_process *p = (struct rune_process *)&cfg->process;
	struct rune_rootfs_opts ro = {
		.cfg = cfg,
		.cgroup_host = a->cgroup_host,
		.cgroup_path = a->cgroup_path,
		.userns = cfg->ns[RUNE_NS_USER].present,
		.no_pivot = a->opts->no_pivot,
		.chroot_only = !cfg->ns[RUNE_NS_MNT].present,
		.console_fd = -1,
		.devnull_fd = -1,
	};
	_cleanup_close_ int rootfd = -1, master = -1, slave = -1, start_fd = -1, devnull = -1;
	_cleanup_close_ int notify_fd = -1;
	struct rune_handler *h = a->handler;
	struct sync_msg m;
	struct stat mntns;
	int ret, exit_code = 0;

	if ((ret = sync_expect(a->sync_fd, SYNC_MAPS, &m, NULL, "rune", err)) < 0)
		return ret;
	if (a->self_move &&
	    (ret = rune_cgroup_enter_task(a->cgroup_host, a->cgroup_path, 0, a->in_v2, err)) < 0)
		return ret;
	/* The start socket (and the handler's), while we still have the host's root uid and view. */
	if (a->start_path && (start_fd = unix_listen_at(a->start_path, SOCK_STREAM, err)) < 0)
		return start_fd;
	if (h->ops->prepare && (ret = h->ops->prepare(h, err)) < 0)
		return ret;
	/* The caller's mount namespace when ours is joined by path: never set up there. */
	if (stat("/proc/self/ns/mnt", &mntns) < 0)
		return err_sys(err, errno, "stat /proc/self/ns/mnt");
	if ((ret = join_namespaces(cfg, err)) < 0 ||
	    (ret = rune_check_joined_mount_ns(cfg, &mntns, err)) < 0 ||
	    (ret = unshare_late(a, err)) < 0)
		return ret;
	/* A fresh cgroup2 mount shows the cgroup namespace: be in our cgroup first. */
	if ((a->cgroup_late || needs_early_cgroup(cfg, a->cgroup_host)) &&
	    (ret = enter_cgroup_ns(a, err)) < 0)
		return ret;
	if (cfg->ns[RUNE_NS_TIME].present && !cfg->ns[RUNE_NS_TIME].path &&
	    (ret = rune_enter_new_time_ns(
		 json_object_get(json_object_get(cfg->root, "linux"), "timeOffsets"), err)) < 0)
		return ret;
	if (cfg->ns[RUNE_NS_USER].present) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return err_sys(err, errno, "become root in the user namespace");
	}
	if (!a->opts->no_new_keyring &&
	    syscall(SYS_keyctl, 1 /* JOIN_SESSION_KEYRING */, a->opts->id) < 0 && errno != ENOSYS &&
	    errno != EACCES && errno != EPERM)
		return err_sys(err, errno, "join session keyring");
	if (cfg->hostname) {
		if (!cfg->ns[RUNE_NS_UTS].present)
			return err_set(err, EINVAL,
				       "hostname set but no uts namespace in config.json");
		if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
			return err_sys(err, errno, "sethostname %s", cfg->hostname);
	}
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return err_sys(err, errno, "setdomainname %s", cfg->domainname);
	for (size_t i = 0; i < cfg->n_sysctls; i++)
		if ((ret = rune_write_sysctl(cfg->sysctls[i].key, cfg->sysctls[i].value, err)) < 0)
			return ret;
	if (p->has_oom_score_adj && (ret = rune_write_oom_score_adj(p->oom_score_adj, err)) < 0)
		return err_wrap(err, "oomScoreAdj %d", p->oom_score_adj);

	/* Opened here: a mount from the parent's namespace can't be cloned into ours. */
	if ((ret = rune_open_devnull(&devnull, err)) < 0)
		return ret;
	ro.devnull_fd = devnull;
	if ((ret = rune_rootfs_prepare(&ro, &rootfd, err)) < 0)
		return ret;
	if (p->terminal) {
		if ((ret = rune_open_pty_in_root(rootfd, &master, &slave, err)) < 0)
			return ret;
		if (p->console_height || p->console_width) {
			struct winsize ws = { .ws_row = p->console_height,
					      .ws_col = p->console_width };
			ioctl(slave, TIOCSWINSZ, &ws);
		}
		ro.console_fd = slave;
		/* As runc: the terminal belongs to the workload's user (in the container's ids). */
		if (fchown(slave, p->user.uid, -1) < 0)
			return err_sys(err, errno, "chown pty");
		if (sync_send(a->sync_fd, SYNC_PTY, 0, master) < 0)
			return err_sys(err, errno, "send pty to rune");
		close(steal_fd(master));
	}
	if ((ret = rune_rootfs_finish(&ro, rootfd, err)) < 0)
		return ret;
	/* runc creates a missing cwd (inside the rootfs, as root, before the identity change). */
	if (p->cwd) {
		_cleanup_close_ int cwdfd = -1;
		if ((ret = rune_open_in_root(rootfd, p->cwd, O_PATH, true, true, &cwdfd, err)) < 0)
			return err_wrap(err, "cwd");
	}
	if (h->ops->load && (ret = h->ops->load(h, err)) < 0)
		return ret;

	if (!a->cgroup_late && !needs_early_cgroup(cfg, a->cgroup_host) &&
	    (ret = enter_cgroup_ns(a, err)) < 0)
		return ret;
	if (sync_send(a->sync_fd, SYNC_HOOKS, 0, -1) < 0)
		return err_sys(err, errno, "sync with rune");
	if ((ret = sync_expect(a->sync_fd, SYNC_HOOKS_DONE, &m, NULL, "rune", err)) < 0)
		return ret;
	if ((ret = run_init_hooks(a, RUNE_HOOK_CREATE_CONTAINER, "creating", err)) < 0)
		return ret;
	if ((ret = rune_rootfs_pivot(&ro, err)) < 0)
		return ret;
	close(steal_fd(rootfd));
	if ((ret = rune_process_default_home(p, err)) < 0)
		return ret;

	if (slave >= 0) {
		if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
			return err_sys(err, errno, "set controlling terminal");
		if (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0)
			return err_sys(err, errno, "dup pty to stdio");
	} else {
		setsid();
	}
	if ((ret = rune_process_apply_rlimits(p, err)) < 0 ||
	    (ret = rune_apply_scheduler(p->scheduler, err)) < 0 ||
	    (ret = rune_apply_io_priority(p->io_priority, err)) < 0 ||
	    (ret = rune_apply_personality(cfg->personality, err)) < 0 ||
	    (ret = rune_apply_lsm(p, err)) < 0)
		return ret;
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_sys(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
	/* Without no_new_privs loading seccomp is privileged: before dropping capabilities. */
	if (a->seccomp && !p->no_new_privileges &&
	    (ret = rune_seccomp_load(a->seccomp, &notify_fd, err)) < 0)
		return ret;
	if (h->ops->locate && (ret = h->ops->locate(h, p, err)) < 0)
		return ret;
	if ((ret = rune_process_apply_identity(p, err)) < 0)
		return ret;
	if (a->seccomp && p->no_new_privileges && h->ops->confine_before_configure &&
	    (ret = rune_seccomp_load(a->seccomp, &notify_fd, err)) < 0)
		return ret;
	if (h->ops->configure && (ret = h->ops->configure(h, p, err)) < 0)
		return ret;

	/*
	 * A notify listener fd must reach rune (only it can reach listenerPath on the
	 * host), so such a filter is loaded before READY, as runc does; any other
	 * waits until just before execve.
	 */
	if (a->seccomp && p->no_new_privileges && !h->ops->confine_before_configure &&
	    rune_seccomp_has_notify(a->seccomp) &&
	    (ret = rune_seccomp_load(a->seccomp, &notify_fd, err)) < 0)
		return ret;

	/* The container must outlive `rune create`. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (sync_send(a->sync_fd, SYNC_READY, 0, notify_fd) < 0)
		return err_sys(err, errno, "sync with rune");
	if (notify_fd >= 0)
		close(steal_fd(notify_fd));

	if (start_fd >= 0) {
		char byte;
		int conn;
		do
			conn = accept4(start_fd, NULL, NULL, SOCK_CLOEXEC);
		while (conn < 0 && errno == EINTR);
		if (conn < 0 || read(conn, &byte, 1) != 1)
			_exit(1);
		close(steal_fd(start_fd));
		/* From here on errors go to `rune start`, which waits for EOF at execve. */
		close(a->sync_fd);
		a->sync_fd = conn;
	}
	if ((ret = run_init_hooks(a, RUNE_HOOK_START_CONTAINER, "running", err)) < 0)
		return ret;
	if (a->seccomp && p->no_new_privileges && !h->ops->confine_before_configure &&
	    !rune_seccomp_has_notify(a->seccomp) &&
	    (ret = rune_seccomp_load(a->seccomp, NULL, err)) < 0)
		return ret;
	/* Returns only when the workload could not run, or with its exit code. */
	if ((ret = h->ops->run(h, p, a->sync_fd, a->preserve_fds, &exit_code, err)) == 0)
		_exit(exit_code);
	return ret;
}

static __attribute__((noreturn)) void init_main(struct init_args *a)
{
	err_t err = NULL;
	int ret;

	sigset_t none;

	/* `run` blocks signals to forward them: the init takes them while it sets up. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	ret = init_setup(a, &err);
	/* Only reached on failure (or exec failing after start). */
	sync_send_error(a->sync_fd, err, -ret);
	if (err && a->start_path == NULL)
		fprintf(stderr, "rune: %s\n", err_msg(err));
	_exit(127);
}

/* ---- the parent side ---- */

static int write_id_map(pid_t pid, const char *file, const struct rune_id_map *m, size_t n,
			err_t *err)
{
	char path[64], buf[4096];
	size_t len = 0;

	for (size_t i = 0; i < n && len < sizeof(buf) - 40; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", m[i].container_id,
				m[i].host_id, m[i].size);
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return write_file(path, buf, len, 0644, err);
}

static char *oci_state_text(const struct rune_state *s, enum rune_status status)
{
	json_t *j = rune_state_to_oci(s, status);
	char *text = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return text;
}

int rune_send_console(const char *path, int master, err_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	_cleanup_close_ int sock = -1;
	const char *name = "/dev/ptmx";

	if (strlen(path) >= sizeof(addr.sun_path))
		return err_set(err, ENAMETOOLONG, "console socket %s: path too long", path);
	strcpy(addr.sun_path, path);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return err_sys(err, errno, "connect to console socket %s", path);
	if (send_fd(sock, master, name, strlen(name)) < 0)
		return err_sys(err, errno, "send pty to console socket %s", path);
	return 0;
}

int rune_write_pid_file(const char *path, pid_t pid, err_t *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d", pid);

	return write_file_atomic(path, buf, n, 0644, err) < 0 ? err_wrap(err, "pid file") : 0;
}

/* The init vanished without a word: say how it ended (an OOM kill is the usual cause). */
static int init_died(pid_t pid, const struct rune_config *cfg, err_t *err)
{
	json_t *limit = json_object_get(json_object_get(cfg->resources, "memory"), "limit");
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && json_is_integer(limit))
		return err_set(err, ENOMEM,
			       "container init was killed during setup: memory limit %lld bytes "
			       "(linux.resources.memory.limit) is too low",
			       (long long)json_integer_value(limit));
	if (WIFSIGNALED(status))
		return err_set(err, EIO, "container init was killed by signal %d (%s) during setup",
			       WTERMSIG(status), strsignal(WTERMSIG(status)));
	return err_set(err, EIO, "container init exited with status %d during setup",
		       WEXITSTATUS(status));
}

/*
 * The next message from the init, or the number of a terminating signal sent
 * to rune meanwhile (a caller's timeout): setup that hangs on hostile image
 * content must not make rune ignore it.
 */
static int recv_or_signal(int sync_fd, int term_fd, struct sync_msg *m, int *passfd)
{
	struct pollfd p[2] = { { .fd = sync_fd, .events = POLLIN },
			       { .fd = term_fd, .events = POLLIN } };
	struct signalfd_siginfo si;

	while (term_fd >= 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents)
			break;
		if (read(term_fd, &si, sizeof(si)) == sizeof(si))
			return si.ssi_signo;
	}
	return sync_recv(sync_fd, m, passfd);
}

/* What a failed create must undo. */
struct create_cleanup {
	char *state_dir;
	struct rune_cgroup_host *cgroup_host;
	char *cgroup_path;
	bool cgroup_made;
	bool systemd; /* a scope unit may exist */
	pid_t child;
};

static void undo_create(struct create_cleanup *c)
{
	err_t e = NULL;

	if (c->child > 0) {
		kill(c->child, SIGKILL);
		while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (c->systemd)
		rune_systemd_stop(c->cgroup_path, &e);
	err_free(&e);
	if (c->cgroup_made && c->cgroup_host)
		rune_cgroup_destroy(c->cgroup_host, c->cgroup_path, true, &e);
	err_free(&e);
	if (c->state_dir)
		rm_rf(c->state_dir);
}

/*
 * Socket activation: fds handed to rune under LISTEN_FDS (with LISTEN_PID
 * naming rune, else they were meant for another process) pass on to the
 * workload (after the preserved ones' slot 3..), with LISTEN_FDS and
 * LISTEN_PID=1 in its environment, as runc does.
 */
static int add_listen_fds(struct rune_config *cfg, const struct rune_create_opts *o,
			  int *preserve_fds, err_t *err)
{
	const char *v = getenv("LISTEN_FDS"), *who = getenv("LISTEN_PID");
	unsigned long long n, pid;
	char buf[64];

	/* sd_listen_fds(3): the fds are ours only if LISTEN_PID names us. */
	if (v == NULL || parse_ull(v, &n) < 0 || n == 0 || n > 1024)
		return 0;
	if (who == NULL || parse_ull(who, &pid) < 0 || pid != (unsigned long long)getpid())
		return 0;
	*preserve_fds = o->preserve_fds > (int)n ? o->preserve_fds : (int)n;
	snprintf(buf, sizeof(buf), "LISTEN_FDS=%llu", n);
	if (strv_append(&cfg->process.env, buf) < 0 ||
	    strv_append(&cfg->process.env, "LISTEN_PID=1") < 0)
		return err_sys(err, ENOMEM, "LISTEN_FDS");
	return 0;
}

static int create_container(const struct rune_ctx *ctx, const struct rune_create_opts *o,
			    pid_t *init_pid, int *pty_master, int *sync_out, err_t *err)
{
	_cleanup_config_ struct rune_config *cfg = NULL;
	_cleanup_cgroup_host_ struct rune_cgroup_host *cgh = NULL;
	_cleanup_free_ char *dir = NULL, *start_path = NULL, *cgpath = NULL;
	_cleanup_close_ int master = -1, own_pidns = -1, term_fd = -1;
	sigset_t term, saved_mask;
	struct rune_seccomp *seccomp = NULL;
	struct rune_handler handler = { 0 };
	struct create_cleanup undo = { 0 };
	struct rune_state st = { 0 };
	unsigned long long flags = 0, late_flags = 0;
	int preserve_fds = o->preserve_fds;
	int v2fd;
	bool in_v2 = false, self_move;
	struct sync_msg m;
	int sv[2] = { -1, -1 };
	pid_t pid;
	int ret;

	if ((ret = rune_id_validate(o->id, err)) < 0)
		return ret;
	if ((ret = rune_config_load(o->bundle, &cfg, err)) < 0)
		return ret;
	if (!cfg->has_process)
		return err_set(err, EINVAL, "config.json: .process: missing");
	if (cfg->process.args == NULL || cfg->process.args[0] == NULL)
		return err_set(err, EINVAL, "config.json: .process.args: must not be empty");
	if (access(cfg->root_path, F_OK) < 0)
		return err_sys(err, errno, "rootfs %s", cfg->root_path);
	if (o->console_socket && !cfg->process.terminal)
		return err_set(
		    err, EINVAL,
		    "--console-socket given but config.json's process.terminal is false");
	if (cfg->process.terminal && !o->console_socket && !o->foreground)
		return err_set(err, EINVAL,
			       "cannot allocate a tty without --console-socket when detached");
	if ((ret = rune_check_host_support(cfg, err)) < 0)
		return ret;
	if ((ret = rune_handler_select(ctx, cfg, &handler, err)) < 0)
		return ret;
	if ((ret = add_listen_fds(cfg, o, &preserve_fds, err)) < 0)
		goto out;
	if (cfg->seccomp && (ret = rune_seccomp_prepare(cfg->seccomp, &seccomp, err)) < 0)
		goto out;
	if ((ret = rune_cgroup_host_detect(&cgh, err)) < 0 ||
	    (ret = rune_cgroup_host_resolve_path(cgh, cfg->cgroups_path, o->id, ctx->systemd_cgroup,
						 &cgpath, err)) < 0)
		goto out;

	if ((ret = mkdir_p(ctx->root, 0700, err)) < 0)
		goto out;
	dir = rune_state_dir(ctx->root, o->id);
	if (mkdir(dir, 0711) < 0) {
		ret = errno == EEXIST
			  ? err_set(err, EEXIST, "container \"%s\" already exists", o->id)
			  : err_sys(err, errno, "mkdir %s", dir);
		goto out;
	}
	undo.state_dir = dir;
	/* From here on TERM, INT and HUP end the create and undo it (see recv_or_signal). */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigaddset(&term, SIGHUP);
	sigprocmask(SIG_BLOCK, &term, &saved_mask);
	term_fd = signalfd(-1, &term, SFD_CLOEXEC);
	if (handler.ops->attach && (ret = handler.ops->attach(&handler, cfg, dir, err)) < 0)
		goto fail;
	undo.cgroup_host = cgh;
	undo.cgroup_path = cgpath;
	/*
	 * Recorded before anything else is made, so that delete --force can undo a
	 * create killed half-way: pid 0 reads as "creating".
	 */
	st.id = (char *)o->id;
	st.dir = dir;
	st.oci_version = cfg->oci_version;
	st.bundle = (char *)o->bundle;
	st.rootfs = cfg->root_path;
	st.created = rfc3339_now();
	st.owner = "";
	st.annotations = cfg->annotations;
	st.cgroup_path = cgpath;
	st.systemd_cgroup = ctx->systemd_cgroup;
	/* A cgroup that exists already is shared: never ours to kill or remove. */
	st.cgroup_owned = ctx->systemd_cgroup || !rune_cgroup_exists(cgh, cgpath);
	st.hooks = json_object_get(cfg->root, "hooks");
	st.use_terminal = cfg->process.terminal;
	if (handler.ops->save_state)
		handler.ops->save_state(&handler, &st);
	st.process = json_object_get(cfg->root, "process");
	st.seccomp = cfg->seccomp;
	for (int k = 0; k < RUNE_NS_COUNT; k++)
		if (cfg->ns[k].present)
			st.namespaces |= rune_ns_clone_flag(k);
	if (st.created == NULL) {
		ret = err_sys(err, ENOMEM, "create");
		goto fail;
	}
	if ((ret = rune_state_save(&st, err)) < 0)
		goto fail;

	start_path = path_join(dir, RUNE_START_SOCKET);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = err_sys(err, errno, "socketpair");
		goto fail;
	}

	for (int k = 0; k < RUNE_NS_COUNT; k++) {
		/* cgroup: after the move into the container's cgroup; time: see init_setup. */
		if (!cfg->ns[k].present || cfg->ns[k].path || k == RUNE_NS_CGROUP ||
		    k == RUNE_NS_TIME)
			continue;
		flags |= rune_ns_clone_flag(k);
	}
	if (cfg->ns[RUNE_NS_PID].present && cfg->ns[RUNE_NS_PID].path) {
		_cleanup_close_ int fd = open(cfg->ns[RUNE_NS_PID].path, O_RDONLY | O_CLOEXEC);

		/* Only the init goes there: rune's later children (hooks) stay in ours. */
		own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
		leak_check_now();
		if (fd < 0 || own_pidns < 0 || setns(fd, CLONE_NEWPID) < 0) {
			ret =
			    err_sys(err, errno, "join pid namespace %s", cfg->ns[RUNE_NS_PID].path);
			goto fail;
		}
	}
	if (cfg->ns[RUNE_NS_USER].present && cfg->ns[RUNE_NS_USER].path) {
		/* New namespaces must belong to the joined user namespace: see unshare_late. */
		late_flags = flags;
		flags = 0;
	}

	/* systemd makes the scope around a running pid: the init waits for it. */
	if (!ctx->systemd_cgroup) {
		ret = rune_cgroup_create(cgh, cgpath, 0, cfg->resources, err);
		undo.cgroup_made = st.cgroup_owned;
		if (ret < 0)
			goto fail;
	}

	v2fd = ctx->systemd_cgroup ? -1 : rune_cgroup_v2_dirfd(cgh, cgpath);
	pid = clone3_fork(flags, v2fd, &in_v2);
	if (v2fd >= 0)
		close(v2fd);
	if (pid > 0 && own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0) {
		undo.child = pid;
		ret = err_sys(err, errno, "return to rune's own pid namespace");
		goto fail;
	}
	/* In a new user namespace the init can't write the host's cgroup files: we move it. */
	self_move = !cfg->ns[RUNE_NS_USER].present && !ctx->systemd_cgroup;
	if (pid < 0) {
		ret = err_sys(err, errno, "clone container init");
		goto fail;
	}
	if (pid == 0) {
		struct init_args a = { .ctx = ctx,
				       .opts = o,
				       .cfg = cfg,
				       .cgroup_host = cgh,
				       .cgroup_path = cgpath,
				       .seccomp = seccomp,
				       .handler = &handler,
				       .start_path = start_path,
				       .sync_fd = sv[1],
				       .preserve_fds = preserve_fds,
				       .in_v2 = in_v2,
				       .self_move = self_move,
				       .cgroup_late = ctx->systemd_cgroup,
				       .late_flags = late_flags };
		close(sv[0]);
		init_main(&a);
	}
	undo.child = pid;
	close(sv[1]);
	sv[1] = -1;

	if (cfg->ns[RUNE_NS_USER].present && !cfg->ns[RUNE_NS_USER].path) {
		if ((ret = write_id_map(pid, "uid_map", cfg->uid_mappings, cfg->n_uid_mappings,
					err)) < 0 ||
		    (ret = write_id_map(pid, "gid_map", cfg->gid_mappings, cfg->n_gid_mappings,
					err)) < 0)
			goto fail;
	}
	sync_send(sv[0], SYNC_MAPS, 0, -1);
	if (late_flags & CLONE_NEWPID) {
		/* The init is the child of this one, in the new pid namespace. */
		pid_t first = pid;

		if ((ret = sync_expect(sv[0], SYNC_PID, &m, NULL, "container init", err)) < 0)
			goto fail;
		pid = undo.child = m.value;
		while (waitpid(first, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (ctx->systemd_cgroup) {
		_cleanup_free_ char *desc = NULL;

		if (asprintf(&desc, "rune container %s", o->id) < 0) {
			ret = err_sys(err, ENOMEM, "systemd unit");
			goto fail;
		}
		/* The unit may be another container's: it is ours to undo only once started. */
		if ((ret = rune_systemd_start(cgh, cgpath, pid, cfg->resources, desc, err)) < 0)
			goto fail;
		undo.cgroup_made = undo.systemd = true;
		/* Then cgroupfs for every limit and the hierarchies systemd leaves alone. */
		if ((ret = rune_cgroup_join(cgh, cgpath, pid, err)) < 0 ||
		    (ret = rune_cgroup_create(cgh, cgpath, 0, cfg->resources, err)) < 0)
			goto fail;
		sync_send(sv[0], SYNC_GO, 0, -1);
	} else if (!self_move) {
		if ((ret = rune_cgroup_enter_task(cgh, cgpath, pid, in_v2, err)) < 0)
			goto fail;
		sync_send(sv[0], SYNC_GO, 0, -1);
	}

	st.pid = pid;
	if ((ret = proc_start_time(pid, &st.pid_start_time)) < 0) {
		ret = err_sys(err, -ret, "read the start time of container init %d", pid);
		goto fail;
	}

	for (;;) {
		int pf = -1;
		ret = recv_or_signal(sv[0], term_fd, &m, &pf);
		if (ret > 0) {
			ret = err_set(err, EINTR, "create of container \"%s\" interrupted by SIG%s",
				      o->id, sigabbrev_np(ret));
			goto fail;
		}
		if (ret < 0) {
			ret = init_died(pid, cfg, err);
			undo.child = -1;
			goto fail;
		}
		if (m.type == SYNC_ERROR) {
			ret = err_set(err, m.code, "%s", m.msg);
			goto fail;
		}
		if (m.type == SYNC_PTY) {
			master = pf;
			if (o->console_socket &&
			    (ret = rune_send_console(o->console_socket, master, err)) < 0)
				goto fail;
			continue;
		}
		if (pf >= 0 && m.type != SYNC_READY)
			close(steal_fd(pf));
		if (m.type == SYNC_HOOKS) {
			_cleanup_free_ char *text = oci_state_text(&st, RUNE_STATUS_CREATING);
			if ((ret = rune_hooks_run(&cfg->hooks[RUNE_HOOK_PRESTART],
						  RUNE_HOOK_PRESTART, text, err)) < 0 ||
			    (ret = rune_hooks_run(&cfg->hooks[RUNE_HOOK_CREATE_RUNTIME],
						  RUNE_HOOK_CREATE_RUNTIME, text, err)) < 0)
				goto fail;
			sync_send(sv[0], SYNC_HOOKS_DONE, 0, -1);
			continue;
		}
		if (m.type == SYNC_READY) {
			if (pf >= 0) {
				_cleanup_free_ char *text =
				    oci_state_text(&st, RUNE_STATUS_CREATING);
				ret = rune_seccomp_send_notify_fd(
				    rune_seccomp_listener_path(seccomp),
				    rune_seccomp_listener_metadata(seccomp), pf, text, err);
				close(pf);
				if (ret < 0)
					goto fail;
			}
			break;
		}
	}
	if ((ret = rune_state_save(&st, err)) < 0)
		goto fail;
	if (o->pid_file && (ret = rune_write_pid_file(o->pid_file, pid, err)) < 0)
		goto fail;
	*init_pid = pid;
	if (pty_master)
		*pty_master = steal_fd(master);
	if (sync_out)
		*sync_out = steal_fd(sv[0]);
	ret = 0;
	goto out;
fail:
	undo_create(&undo);
out:
	if (undo.state_dir)
		sigprocmask(SIG_SETMASK, &saved_mask, NULL);
	free(st.created);
	free(st.exec_socket);
	json_decref(st.enclave);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	rune_seccomp_free(seccomp);
	rune_handler_free(&handler);
	return ret;
}

int rune_container_create(const struct rune_ctx *ctx, const struct rune_create_opts *o, err_t *err)
{
	pid_t pid;

	return create_container(ctx, o, &pid, NULL, NULL, err);
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
	text = oci_state_text(s, RUNE_STATUS_RUNNING);
	ret = rune_hooks_run_json(s->hooks, RUNE_HOOK_POSTSTART, text, err);
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
	if (status != RUNE_STATUS_CREATED)
		return err_set(err, EINVAL, "cannot start a container that is %s",
			       rune_status_name(status));
	path = path_join(s->dir, RUNE_START_SOCKET);
	conn = unix_connect_at(path, SOCK_STREAM, err);
	if (conn < 0)
		return err_wrap(err, "start container \"%s\"", id);
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

/* ---- run in the foreground ---- */

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

static void copy_winsize(int master)
{
	struct winsize ws;

	if (ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* Waits for pid, forwarding signals and relaying the pty (master, or -1). */
int rune_wait_forwarding(pid_t pid, int master, sigset_t *mask)
{
	_cleanup_close_ int sfd = signalfd(-1, mask, SFD_CLOEXEC);
	bool stdin_open = master >= 0;
	char buf[16384];
	int status = 0;

	if (master >= 0 && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		tio_saved = true;
		atexit(restore_tty);
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		copy_winsize(master);
	}
	for (;;) {
		struct pollfd p[3] = { { .fd = sfd, .events = POLLIN },
				       { .fd = master, .events = POLLIN },
				       { .fd = stdin_open ? 0 : -1, .events = POLLIN } };
		int r = poll(p, 3, -1);

		if (r < 0 && errno != EINTR)
			break;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof(buf));
			if (n > 0)
				write_all(1, buf, n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN)
				master = -1; /* EIO: every slave closed */
		}
		if (p[2].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0)
				write_all(master, buf, n);
			else {
				stdin_open = false;
				/* Pass EOF on to the workload as ^D. */
				if (master >= 0 && n == 0)
					write_all(master, "\x04", 1);
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGWINCH && master >= 0) {
				copy_winsize(master);
			} else if (si.ssi_signo != SIGCHLD) {
				kill(pid, si.ssi_signo);
				continue;
			}
			pid_t w;
			while ((w = waitpid(-1, &status, WNOHANG)) > 0)
				if (w == pid) {
					/* Drain what the workload wrote last. */
					while (master >= 0) {
						struct pollfd q = { .fd = master,
								    .events = POLLIN };
						ssize_t n;
						if (poll(&q, 1, 0) <= 0)
							break;
						n = read(master, buf, sizeof(buf));
						if (n <= 0)
							break;
						write_all(1, buf, n);
					}
					restore_tty();
					return status;
				}
		}
	}
	waitpid(pid, &status, 0);
	restore_tty();
	return status;
}

static void block_forwarded_signals(sigset_t *mask, sigset_t *old)
{
	sigfillset(mask);
	sigdelset(mask, SIGKILL);
	sigdelset(mask, SIGSTOP);
	/* Faults must stay deliverable to rune itself. */
	sigdelset(mask, SIGSEGV);
	sigdelset(mask, SIGBUS);
	sigdelset(mask, SIGILL);
	sigdelset(mask, SIGFPE);
	sigdelset(mask, SIGTTIN);
	sigdelset(mask, SIGTTOU);
	sigdelset(mask, SIGTSTP);
	sigprocmask(SIG_BLOCK, mask, old);
}

int rune_container_run(const struct rune_ctx *ctx, const struct rune_create_opts *o, bool detach,
		       int *exit_status, err_t *err)
{
	struct rune_create_opts co = *o;
	_cleanup_close_ int master = -1, sync = -1;
	sigset_t mask, old;
	pid_t pid;
	int ret, status;

	co.foreground = !detach;
	if (detach) {
		if ((ret = rune_container_create(ctx, &co, err)) < 0)
			return ret;
		*exit_status = 0;
		return rune_container_start(ctx, o->id, err);
	}
	/* Signals arriving before the workload runs are queued, then forwarded. */
	block_forwarded_signals(&mask, &old);
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	ret = create_container(ctx, &co, &pid, &master, &sync, err);
	if (ret < 0)
		goto out;
	if (master >= 0 && o->console_socket)
		close(steal_fd(master));
	/* With a pid namespace the kernel kills the rest when init dies; without, we do. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if ((ret = rune_container_start(ctx, o->id, err)) < 0) {
		err_t e2 = NULL;
		rune_container_delete(ctx, o->id, true, &e2);
		err_free(&e2);
		goto out;
	}
	status = rune_wait_forwarding(pid, master, &mask);
	*exit_status = rune_exit_code(status);
	{
		err_t e2 = NULL;
		rune_container_delete(ctx, o->id, true, &e2);
		err_free(&e2);
	}
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}

/* ---- delete, kill, state, ps, pause, update ---- */

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
		_cleanup_free_ char *text = oci_state_text(s, RUNE_STATUS_STOPPED);
		err_t e2 = NULL;
		/* The spec: a poststop failure is logged, deletion goes on. */
		if (rune_hooks_run_json(s->hooks, RUNE_HOOK_POSTSTOP, text, &e2) < 0)
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
