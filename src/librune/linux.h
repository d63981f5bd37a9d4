/* SPDX-License-Identifier: Apache-2.0 */
/* Container-side Linux setup: rootfs, mounts, devices, pivot_root, process attributes. */
#ifndef RUNE_LINUX_H
#define RUNE_LINUX_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "librune/config.h"

struct rune_cgroup_host;
struct stat;

struct rune_rootfs_opts {
	const struct rune_config *cfg;
	const struct rune_cgroup_host *cgroup_host; /* for "cgroup" mounts; may be NULL */
	const char *cgroup_path;
	bool userns; /* devices are bind-mounted, not created */
	bool no_pivot;
	bool chroot_only; /* no mount namespace: the caller's mounts, chroot and mount nothing */
	int console_fd;	  /* pty slave to bind on /dev/console, or -1 */
	int devnull_fd;	  /* verified host /dev/null, for maskedPaths */
	const int *source_fds; /* per mount: its bind source opened by rune, or -1; may be NULL */
};

/*
 * In a user namespace the init can't reach bind sources only the host's
 * root may (a 0700 directory): rune opens them (O_PATH, in the init's
 * mount namespace) and hands them over. Whether mount i is one of them.
 */
bool rune_mount_source_from_host(const struct rune_config *cfg, size_t i);
/* Opens m's source O_PATH in the current mount namespace. */
int rune_open_mount_source(const struct rune_mount *m, int *fd, err_t *err);

/* Opens host /dev/null and checks it is the real device (char 1:3). */
int rune_open_devnull(int *fd, err_t *err);

/*
 * Before pivot_root: / made rslave (rprivate) recursively, the rootfs bind,
 * mounts, devices and /dev symlinks. Mount targets are resolved inside the
 * rootfs (openat2 RESOLVE_IN_ROOT). Returns an O_PATH fd of the rootfs in
 * *rootfd. With chroot_only it only opens the rootfs.
 */
int rune_rootfs_prepare(const struct rune_rootfs_opts *o, int *rootfd, err_t *err);
/* Then /dev/console (o->console_fd), masked and read-only paths. */
int rune_rootfs_finish(const struct rune_rootfs_opts *o, int rootfd, err_t *err);
/* A pty from the container's devpts instance (the host's if it has none). */
int rune_open_pty_in_root(int rootfd, int *master, int *slave, err_t *err);
/*
 * pivot_root (or chroot with no_pivot), then root.readonly and rootfsPropagation;
 * only chroot with chroot_only.
 */
int rune_rootfs_pivot(const struct rune_rootfs_opts *o, err_t *err);

/*
 * A mount namespace joined by path must not be the one the init was in
 * before joining (the caller's): rune would set up the rootfs and
 * pivot_root there. before: stat of /proc/self/ns/mnt before joining.
 */
int rune_check_joined_mount_ns(const struct rune_config *cfg, const struct stat *before,
			       err_t *err);

/* Opens path inside the rootfs dirfd without leaving it; creates it (dir or file) if asked. */
int rune_open_in_root(int rootfd, const char *path, int flags, bool create, bool dir, int *out,
		      err_t *err);

/* Writes a sysctl (dot or slash form) through a verified procfs. */
int rune_write_sysctl(const char *key, const char *value, err_t *err);
/* Writes /proc/self/oom_score_adj through a verified procfs. */
int rune_write_oom_score_adj(int value, err_t *err);
/* Writes into a file under /proc only if it really is procfs (not a bind over it). */
int rune_write_proc_file(const char *path, const char *value, err_t *err);

/*
 * Applies the process attributes that precede exec, in runc's order:
 * rlimits, no_new_privs, capabilities + user/groups, umask, cwd.
 */
int rune_process_apply_rlimits(const struct rune_process *p, err_t *err);
int rune_process_apply_identity(const struct rune_process *p, err_t *err);
/* The workload's executable must be a regular file it may execute (checked as the workload). */
/* The error of a failed execve of exe, worded as runc's. */
int rune_exec_error(const char *exe, int code, err_t *err);
int rune_process_check_exe(const char *exe, err_t *err);
/* Adds HOME from the rootfs's /etc/passwd (or "/") when the env lacks it; after pivot_root. */
int rune_process_default_home(struct rune_process *p, err_t *err);
/* Resolves args[0] on the container's PATH; malloc'ed path or NULL. */
char *rune_process_lookup(const struct rune_process *p, const char *arg0);

#endif
