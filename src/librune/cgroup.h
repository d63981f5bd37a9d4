/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune's cgroup module (cgroupfs driver) for v1, v2 and hybrid hosts.
 *
 * The host layout is detected at run time from /proc/self/mountinfo and
 * /proc/self/cgroup into a struct rune_cgroup_host; every other call takes it.
 * A container's cgroup is named by one path ("/foo/bar", as returned by
 * rune_cgroup_resolve_path) that exists under every mounted hierarchy:
 * <mountpoint>/foo/bar on each v1 hierarchy and on the v2 one. Each controller
 * is driven on the hierarchy that carries it: a v1 one if it is bound there,
 * else the v2 one (so on a hybrid host hugetlb goes through hugetlb.*.max).
 *
 * Resources are linux.resources (OCI runtime spec) as jansson objects,
 * borrowed. A limit the host can't apply is an error naming the resource and
 * the reason, never skipped.
 *
 * All functions return 0 or a negative errno and set *err.
 */
#ifndef RUNE_CGROUP_H
#define RUNE_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

enum rune_cgroup_layout {
	RUNE_CGROUP_V1 = 1, /* only v1 hierarchies */
	RUNE_CGROUP_V2,	    /* only the cgroup2 hierarchy */
	RUNE_CGROUP_HYBRID, /* v1 hierarchies plus a cgroup2 one */
};

struct rune_cgroup_hierarchy {
	char *mountpoint; /* where it is mounted, root prefix included: "/sys/fs/cgroup/memory" */
	char *mount_root; /* mountinfo's root field: the part of the tree visible there ("/") */
	bool v2;	  /* cgroup2 */
	char
	    *controllers; /* as /proc/self/cgroup names it: "cpu,cpuacct", "name=systemd"; v2: "" */
	char *available;  /* v2 only: cgroup.controllers at the mountpoint ("hugetlb"), else "" */
	char *self;	  /* the caller's cgroup there, relative to mount_root: "/" or "/a/b" */
	int id;		  /* hierarchy id in /proc/self/cgroup (0 for v2) */
};

struct rune_cgroup_host;

/* Reads /proc/self/mountinfo and /proc/self/cgroup. */
int rune_cgroup_host_detect(struct rune_cgroup_host **h, err_t *err);
/*
 * Same from the given files, for tests: every mountpoint is prefixed with
 * root (a temp dir holding a fake cgroupfs tree); root may be NULL or "".
 * systemd presence is looked up as <root>/run/systemd/system.
 */
int rune_cgroup_host_detect_at(const char *root, const char *mountinfo, const char *self_cgroup,
			       struct rune_cgroup_host **h, err_t *err);
void rune_cgroup_host_free(struct rune_cgroup_host *h);

enum rune_cgroup_layout rune_cgroup_layout(const struct rune_cgroup_host *h);
const char *rune_cgroup_layout_name(enum rune_cgroup_layout l); /* "v1", "v2", "hybrid" */

/*
 * Every mounted hierarchy (v1 ones, then the v2 one), for mounting cgroups
 * inside the container. The array belongs to h.
 */
void rune_cgroup_hierarchies(const struct rune_cgroup_host *h,
			     const struct rune_cgroup_hierarchy **v, size_t *n);
/*
 * The hierarchy that drives a controller ("memory", "cpu", "cpuacct",
 * "cpuset", "pids", "blkio"/"io", "hugetlb", "devices", "freezer",
 * "net_cls", "net_prio", "rdma"), or NULL if this host has none.
 * On v2, "freezer" and "devices" mean cgroup.freeze and the eBPF program.
 */
const struct rune_cgroup_hierarchy *rune_cgroup_controller(const struct rune_cgroup_host *h,
							   const char *controller);

/*
 * linux.cgroupsPath to the path every other call takes, runc's rules:
 *  - NULL/"" -> "/<id>";
 *  - absolute -> cleaned ("..", "//" removed; it never climbs above "/");
 *  - relative -> under the caller's cgroup (v1/hybrid: its cgroup on the
 *    lowest-numbered v1 hierarchy with a controller, as in /proc/self/cgroup,
 *    e.g. "cpu" here; pure v2: the parent of its
 *    cgroup, since the caller's own cgroup holds processes, as runc does);
 *  - systemd: "slice:prefix:name" -> "/a.slice/a-b.slice/prefix-name.scope"
 *    (default "system.slice:rune:<id>"); an error when systemd is not
 *    running (no /run/systemd/system), or on a malformed value.
 * *out is malloc'ed and absolute. Store it in the container's state: later
 * calls (delete, ps...) must use it as is, not resolve again.
 */
int rune_cgroup_resolve_path(const char *cgroups_path, const char *id, bool systemd, char **out,
			     err_t *err);
/* The same against a given host (rune_cgroup_resolve_path detects one). */
int rune_cgroup_host_resolve_path(const struct rune_cgroup_host *h, const char *cgroups_path,
				  const char *id, bool systemd, char **out, err_t *err);

/* <mountpoint of hier><path>, malloc'ed. */
char *rune_cgroup_dir(const struct rune_cgroup_hierarchy *hier, const char *path);

/*
 * Creates path on every hierarchy (missing parents too), applies resources
 * (NULL: only the default device rules), then moves pid in (pid 0: none).
 * Device rules: deny all, then resources.devices in order, then runc's
 * default allow list (null, zero, full, tty, random, urandom, console,
 * pts (136:*), ptmx, net/tun, mknod of any char/block). On failure, removes every
 * directory it created.
 */
int rune_cgroup_create(const struct rune_cgroup_host *h, const char *path, pid_t pid,
		       json_t *resources, err_t *err);
/*
 * Moves a single-threaded process (a fresh init, an exec helper) into path:
 * v1 through "tasks", v2 through cgroup.procs unless in_v2_already (it was
 * cloned into it). pid 0 is the caller itself: only then does the kernel
 * skip the global threadgroup lock, whose RCU grace period otherwise costs
 * milliseconds per move.
 */
int rune_cgroup_enter_task(const struct rune_cgroup_host *h, const char *path, pid_t pid,
			   bool in_v2_already, err_t *err);
/*
 * exec --cgroup: runc's "[<controller>[,<controller>]:]<sub>" arguments
 * (NULL-terminated). A sub without controllers applies to every hierarchy and
 * must come alone; "ctrl:sub" to the hierarchy carrying ctrl, the others
 * keeping path. Refused: a sub climbing out of path ("... is not a sub cgroup
 * path"), a controller no hierarchy carries ("unknown controller ..."), one
 * named twice, malformed arguments. The sub-cgroups must exist.
 */
int rune_cgroup_check_subs(const struct rune_cgroup_host *h, const char *path, char *const *subs,
			   err_t *err);
/* Moves the caller into path's sub-cgroups subs (NULL or empty: path itself). */
int rune_cgroup_enter_task_sub(const struct rune_cgroup_host *h, const char *path,
			       char *const *subs, err_t *err);
/* An fd of path's v2 directory, for clone3(CLONE_INTO_CGROUP); -1 if there is none. */
int rune_cgroup_v2_dirfd(const struct rune_cgroup_host *h, const char *path);
/*
 * Creates path where missing and moves pid in, on every hierarchy, redoing a
 * level that vanished meanwhile (systemd removes empty dirs of the v1
 * controllers it doesn't manage); once pid is inside, nobody can remove them.
 */
int rune_cgroup_join(const struct rune_cgroup_host *h, const char *path, pid_t pid, err_t *err);
/* Moves pid (an exec'd process) into path on every hierarchy. */
int rune_cgroup_enter(const struct rune_cgroup_host *h, const char *path, pid_t pid, err_t *err);
/*
 * Applies resources to an existing cgroup (runc update): only the keys
 * present are written. Device rules are rewritten only if "devices" is
 * present.
 */
int rune_cgroup_update(const struct rune_cgroup_host *h, const char *path, json_t *resources,
		       err_t *err);

/*
 * The misc controller's sgx_epc resource (cgroup_misc.c). has: the
 * hierarchy carrying "misc" lists sgx_epc in its root's misc.capacity.
 * set: where it has, writes "sgx_epc N" ("sgx_epc max" for 0) to path's
 * misc.max and returns 1; where it has not, does nothing and returns 0.
 */
bool rune_cgroup_has_sgx_epc(const struct rune_cgroup_host *h);
int rune_cgroup_set_sgx_epc(const struct rune_cgroup_host *h, const char *path, uint64_t bytes,
			    err_t *err);

/* Every pid in path and below it, sorted, no duplicates; *pids malloc'ed (NULL if none). */
int rune_cgroup_pids(const struct rune_cgroup_host *h, const char *path, pid_t **pids, size_t *n,
		     err_t *err);
/* Sends sig to every process in path and below (kill --all). 0 if none. */
int rune_cgroup_kill(const struct rune_cgroup_host *h, const char *path, int sig, err_t *err);
/*
 * Removes path on every hierarchy, children first. Retries EBUSY for about
 * a second; with kill_stragglers, SIGKILLs what is still inside (thawing a
 * frozen cgroup first). 0 if already gone.
 */
int rune_cgroup_destroy(const struct rune_cgroup_host *h, const char *path, bool kill_stragglers,
			err_t *err);
/* true if path exists on at least one hierarchy. */
bool rune_cgroup_exists(const struct rune_cgroup_host *h, const char *path);

/* Freezes (pause) or thaws (resume), waiting until the kernel reports the new state. */
int rune_cgroup_freeze(const struct rune_cgroup_host *h, const char *path, bool freeze, err_t *err);
int rune_cgroup_is_frozen(const struct rune_cgroup_host *h, const char *path, bool *frozen,
			  err_t *err);

/*
 * runc's `events --stats` "data" object: cpu, cpuset, memory, pids, blkio,
 * hugetlb (fields a host lacks are left out or zero, as runc does).
 * jansson holds int64: a limit that is "max" holds RUNE_STATS_UNLIMITED,
 * which rune_cgroup_stats_dumps prints as runc does, 18446744073709551615.
 */
#define RUNE_STATS_UNLIMITED INT64_MIN
char *rune_cgroup_stats_dumps(json_t *j); /* compact, malloc'ed */
int rune_cgroup_stats(const struct rune_cgroup_host *h, const char *path, json_t **stats,
		      err_t *err);

/*
 * OOM notifications for `events`: poll rune_cgroup_oom_fd() for POLLIN, then
 * call rune_cgroup_oom_read() to learn how many new OOM kills happened
 * (0: spurious wakeup). v1: eventfd on memory.oom_control through
 * cgroup.event_control; v2: inotify on memory.events (oom_kill).
 * rune_cgroup_oom_read returns -ENOENT when the cgroup went away.
 */
struct rune_cgroup_oom;
int rune_cgroup_oom_open(const struct rune_cgroup_host *h, const char *path,
			 struct rune_cgroup_oom **w, err_t *err);
int rune_cgroup_oom_fd(const struct rune_cgroup_oom *w);
int rune_cgroup_oom_read(struct rune_cgroup_oom *w, uint64_t *count, err_t *err);
void rune_cgroup_oom_close(struct rune_cgroup_oom *w);

/*
 * Appends an allow rule to resources.devices (creating it), for the
 * engine's linux.devices entries: type 'a', 'c' or 'b'; major/minor -1 for
 * "*"; access e.g. "rwm".
 */
int rune_cgroup_allow_device(json_t *resources, char type, int64_t major, int64_t minor,
			     const char *access, err_t *err);

/*
 * The systemd driver (cgroup_systemd.c), for paths resolved with systemd
 * set: "/<slice path>/<unit>.scope". start places pid in a transient scope
 * (Delegate=yes) with the limits systemd manages as unit properties and
 * waits for the job; the caller then joins pid to the rest
 * (rune_cgroup_join) and writes every limit (rune_cgroup_create, pid 0).
 * update sets those properties (runtime); stop stops the unit (0 if it is
 * already gone). Errors name the unit and systemd's reason.
 */
int rune_systemd_start(const struct rune_cgroup_host *h, const char *path, pid_t pid,
		       json_t *resources, const char *description, err_t *err);
int rune_systemd_update(const struct rune_cgroup_host *h, const char *path, json_t *resources,
			err_t *err);
int rune_systemd_stop(const char *path, err_t *err);

static inline void rune_cgroup_host_freep(struct rune_cgroup_host **h)
{
	if (*h)
		rune_cgroup_host_free(*h);
}
#define _cleanup_cgroup_host_ __attribute__((cleanup(rune_cgroup_host_freep)))

/* Decodes a /proc/self/mountinfo field in place (\ooo escapes). */
void rune_mountinfo_unescape(char *s);

#endif
