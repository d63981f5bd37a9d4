/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's init: it steps through the create protocol with rune
 * (create.c), sets up namespaces, mounts, the console, hooks and the
 * workload's identity, waits for `start`, then hands over to its handler
 * (handler.h): execve, or init-runelet hosting a PAL.
 */
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
			  const char *dir, err_t *err)
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
	return rune_hooks_run(&cfg->hooks[kind], kind, text, dir, err);
}

static void created_exit(int sig)
{
	_exit(128 + sig);
}

/*
 * A created container dies of HUP, INT and TERM, as runc's (Go) init does
 * while it waits for start: a C pid 1 would ignore them. on: install the
 * handlers; off: back to the defaults before anything else runs.
 */
static void created_signals(bool on)
{
	struct sigaction sa = { .sa_handler = on ? created_exit : SIG_DFL };

	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
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

/*
 * Bind sources rune opens for us with the host's credentials (linux.h). It
 * opens them in our mount namespace: a mount of another namespace can't be
 * bound here, and our copies of the host's mounts keep their locked flags.
 */
static int receive_mount_sources(struct init_args *a, int **fds_out, err_t *err)
{
	const struct rune_config *cfg = a->cfg;
	_cleanup_close_ int nsfd = -1;
	struct sync_msg m;
	bool any = false;
	int *fds;
	int ret;

	for (size_t i = 0; i < cfg->n_mounts; i++)
		any |= rune_mount_source_from_host(cfg, i);
	if (!any)
		return 0;
	fds = malloc(cfg->n_mounts * sizeof(*fds));
	if (fds == NULL)
		return err_sys(err, ENOMEM, "mount sources");
	for (size_t i = 0; i < cfg->n_mounts; i++)
		fds[i] = -1;
	*fds_out = fds;
	nsfd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return err_sys(err, errno, "open /proc/self/ns/mnt");
	if (sync_send(a->sync_fd, SYNC_MOUNT_NS, 0, nsfd) < 0)
		return err_sys(err, errno, "sync with rune");
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		int fd = -1;

		if (!rune_mount_source_from_host(cfg, i))
			continue;
		if ((ret = sync_expect(a->sync_fd, SYNC_MOUNT_FD, &m, &fd, "rune", err)) < 0)
			return ret;
		fds[i] = fd;
		if (m.value != (int64_t)i || fd < 0)
			return err_set(err, EPROTO, "rune: mount source %lld instead of %zu",
				       (long long)m.value, i);
	}
	return 0;
}

static void close_mount_sources(int *fds, size_t n)
{
	for (size_t i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
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
	int *source_fds = NULL;
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
	    (ret = unshare_late(a, err)) < 0 ||
	    (ret = receive_mount_sources(a, &source_fds, err)) < 0)
		return ret;
	ro.source_fds = source_fds;
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
	rune_debug("init: namespaces ready; preparing the rootfs %s", cfg->root_path);
	ret = rune_rootfs_prepare(&ro, &rootfd, err);
	/* Host directories: never within the workload's reach. */
	close_mount_sources(source_fds, cfg->n_mounts);
	ro.source_fds = NULL;
	if (ret < 0)
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
	if ((ret = run_init_hooks(a, RUNE_HOOK_CREATE_CONTAINER, "creating", cfg->root_path, err)) <
	    0)
		return ret;
	rune_debug("init: mounts, devices and masks in place; entering the rootfs");
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
	rune_debug("init: the workload's identity: uid %u, gid %u", p->user.uid, p->user.gid);
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

	rune_debug("init: ready (%s), waiting for start", h->ops->name);
	/* The container must outlive `rune create`. */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (sync_send(a->sync_fd, SYNC_READY, h->ops->ready_value ? h->ops->ready_value(h) : 0,
		      notify_fd) < 0)
		return err_sys(err, errno, "sync with rune");
	if (notify_fd >= 0)
		close(steal_fd(notify_fd));

	if (start_fd >= 0) {
		char byte;
		int conn;

		created_signals(true);
		do
			conn = accept4(start_fd, NULL, NULL, SOCK_CLOEXEC);
		while (conn < 0 && errno == EINTR);
		created_signals(false);
		if (conn < 0 || read(conn, &byte, 1) != 1)
			_exit(1);
		close(steal_fd(start_fd));
		/* From here on errors go to `rune start`, which waits for EOF at execve. */
		close(a->sync_fd);
		a->sync_fd = conn;
	}
	/* As runc: the container's filter applies to its startContainer hooks. */
	if (a->seccomp && p->no_new_privileges && !h->ops->confine_before_configure &&
	    !rune_seccomp_has_notify(a->seccomp) &&
	    (ret = rune_seccomp_load(a->seccomp, NULL, err)) < 0)
		return ret;
	/* In the process's cwd (apply_identity entered it), as runc runs them. */
	if ((ret = run_init_hooks(a, RUNE_HOOK_START_CONTAINER, "running", NULL, err)) < 0)
		return ret;
	/* Returns only when the workload could not run, or with its exit code. */
	if ((ret = h->ops->run(h, p, a->sync_fd, a->preserve_fds, &exit_code, err)) == 0)
		_exit(exit_code);
	return ret;
}

__attribute__((noreturn)) void rune_init_main(struct init_args *a)
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
