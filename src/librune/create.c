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

char *rune_oci_state_text(const struct rune_state *s, enum rune_status status)
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

/*
 * The helper of send_mount_sources: in the init's mount namespace, with
 * rune's credentials, it opens every bind source the init can't and sends
 * them to the init in order; then it reports to rune.
 */
__attribute__((noreturn)) static void mount_source_helper(const struct rune_config *cfg, int nsfd,
							  int init_fd, int report_fd)
{
	err_t e = NULL;
	int ret = 0;

	if (setns(nsfd, CLONE_NEWNS) < 0)
		ret = err_sys(&e, errno, "enter the container's mount namespace");
	for (size_t i = 0; ret == 0 && i < cfg->n_mounts; i++) {
		_cleanup_close_ int fd = -1;

		if (!rune_mount_source_from_host(cfg, i))
			continue;
		if ((ret = rune_open_mount_source(&cfg->mounts[i], &fd, &e)) == 0 &&
		    sync_send(init_fd, SYNC_MOUNT_FD, i, fd) < 0)
			ret = err_sys(&e, errno, "send mount source to the container init");
	}
	if (ret < 0)
		sync_send_error(report_fd, e, -ret);
	else
		sync_send(report_fd, SYNC_MOUNT_DONE, 0, -1);
	_exit(ret < 0);
}

/*
 * With a user namespace the init can't reach bind sources only the host's
 * root may (a 0700 directory), as runc 1.1 found: once the init has its
 * mount namespace, a helper forked from rune (rune's own namespaces, root
 * and cwd stay as they are) enters it and opens them for the init.
 */
static int send_mount_sources(const struct rune_config *cfg, int sync_fd, int term_fd,
			      const char *id, err_t *err)
{
	_cleanup_close_ int nsfd = -1, report = -1;
	struct sync_msg m;
	bool any = false;
	int hs[2], pf = -1, ret;
	pid_t pid;

	for (size_t i = 0; i < cfg->n_mounts; i++)
		any |= rune_mount_source_from_host(cfg, i);
	if (!any)
		return 0;
	if ((ret = sync_expect(sync_fd, SYNC_MOUNT_NS, &m, &nsfd, "container init", err)) < 0)
		return ret;
	if (nsfd < 0)
		return err_set(err, EPROTO, "container init: no mount namespace sent");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, hs) < 0)
		return err_sys(err, errno, "socketpair");
	report = hs[0];
	pid = fork();
	if (pid == 0) {
		close(hs[0]);
		mount_source_helper(cfg, nsfd, sync_fd, hs[1]);
	}
	close(hs[1]);
	if (pid < 0)
		return err_sys(err, errno, "fork");
	ret = recv_or_signal(report, term_fd, &m, &pf);
	if (pf >= 0)
		close(pf);
	if (ret > 0) {
		/* The helper may be stuck in an open: don't wait for it. */
		kill(pid, SIGKILL);
		return err_set(err, EINTR, "create of container \"%s\" interrupted by SIG%s", id,
			       sigabbrev_np(ret));
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (ret < 0)
		return err_set(err, EIO,
			       "opening the bind sources: the helper exited unexpectedly");
	if (m.type == SYNC_ERROR)
		return err_set(err, m.code, "%s", m.msg);
	return 0;
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

/*
 * A cgroup that exists already, as runc checks it before making anything: a
 * frozen one would hold the init frozen for ever (refused, in runc's words);
 * processes in it are only a warning (runc's too).
 */
static int check_existing_cgroup(const struct rune_cgroup_host *h, const char *path, err_t *err)
{
	_cleanup_free_ pid_t *pids = NULL;
	bool frozen = false;
	size_t n = 0;

	if (!rune_cgroup_exists(h, path))
		return 0;
	if (rune_cgroup_pids(h, path, &pids, &n, NULL) == 0 && n > 0)
		fprintf(stderr,
			"rune: warning: container's cgroup is not empty: %zu process(es) found\n",
			n);
	if (rune_cgroup_is_frozen(h, path, &frozen, NULL) == 0 && frozen)
		return err_set(err, EBUSY, "cgroup %s: container's cgroup unexpectedly frozen",
			       path);
	return 0;
}

int rune_create(const struct rune_ctx *ctx, const struct rune_create_opts *o, pid_t *init_pid,
		int *pty_master, int *sync_out, err_t *err)
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
	rune_debug("create %s: bundle %s, rootfs %s, handler %s", o->id, o->bundle, cfg->root_path,
		   handler.ops->name);
	if ((ret = add_listen_fds(cfg, o, &preserve_fds, err)) < 0)
		goto out;
	if (cfg->seccomp && (ret = rune_seccomp_prepare(cfg->seccomp, &seccomp, err)) < 0)
		goto out;
	if ((ret = rune_cgroup_host_detect(&cgh, err)) < 0 ||
	    (ret = rune_cgroup_host_resolve_path(cgh, cfg->cgroups_path, o->id, ctx->systemd_cgroup,
						 &cgpath, err)) < 0)
		goto out;
	if ((ret = check_existing_cgroup(cgh, cgpath, err)) < 0)
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
	rune_debug("create %s: state recorded in %s (cgroup %s, %s)", o->id, dir, cgpath,
		   st.cgroup_owned ? "made by this create" : "shared: it exists already");

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
		if (ret < 0 || (ret = rune_enclave_cgroup_limit(st.enclave, cgh, cgpath, err)) < 0)
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
		rune_init_main(&a);
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
	if ((ret = send_mount_sources(cfg, sv[0], term_fd, o->id, err)) < 0)
		goto fail;
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
		    (ret = rune_cgroup_create(cgh, cgpath, 0, cfg->resources, err)) < 0 ||
		    (ret = rune_enclave_cgroup_limit(st.enclave, cgh, cgpath, err)) < 0)
			goto fail;
		sync_send(sv[0], SYNC_GO, 0, -1);
	} else if (!self_move) {
		if ((ret = rune_cgroup_enter_task(cgh, cgpath, pid, in_v2, err)) < 0)
			goto fail;
		sync_send(sv[0], SYNC_GO, 0, -1);
	}

	st.pid = pid;
	rune_debug("create %s: init is pid %d (new namespaces 0x%llx, made after a joined user "
		   "namespace 0x%llx, born in its v2 cgroup: %s)",
		   o->id, pid, flags, late_flags, in_v2 ? "yes" : "no");
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
			rune_debug("create %s: prestart and createRuntime hooks", o->id);
			_cleanup_free_ char *text = rune_oci_state_text(&st, RUNE_STATUS_CREATING);
			if ((ret = rune_hooks_run(&cfg->hooks[RUNE_HOOK_PRESTART],
						  RUNE_HOOK_PRESTART, text, o->bundle, err)) < 0 ||
			    (ret = rune_hooks_run(&cfg->hooks[RUNE_HOOK_CREATE_RUNTIME],
						  RUNE_HOOK_CREATE_RUNTIME, text, o->bundle, err)) <
				0)
				goto fail;
			sync_send(sv[0], SYNC_HOOKS_DONE, 0, -1);
			continue;
		}
		if (m.type == SYNC_READY) {
			rune_debug("create %s: the init is ready", o->id);
			if (handler.ops->ready)
				handler.ops->ready(&handler, m.value, &st);
			if (pf >= 0) {
				_cleanup_free_ char *text =
				    rune_oci_state_text(&st, RUNE_STATUS_CREATING);
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
	rune_debug("create %s failed: %s; undoing it", o->id, err ? err_msg(*err) : "");
	undo_create(&undo);
	if (handler.ops && handler.ops->gone)
		handler.ops->gone();
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

	return rune_create(ctx, o, &pid, NULL, NULL, err);
}
