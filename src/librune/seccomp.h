/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.seccomp: the OCI seccomp object compiled with libseccomp into a
 * classic BPF program at create time, loaded by the container's init just
 * before execve.
 *
 * Lifecycle (see docs/seccomp.md):
 *   rune create (parent)   rune_seccomp_prepare()   validates, compiles
 *   container init         rune_seccomp_load()      installs, maybe notify fd
 *   init -> parent         (engine's sync socket carries the notify fd)
 *   rune create (parent)   rune_seccomp_send_notify_fd() to listenerPath
 *
 * Ordering in init (as runc): the filter is NOT given NO_NEW_PRIVS by this
 * module. If process.noNewPrivileges is true the engine sets
 * PR_SET_NO_NEW_PRIVS and calls rune_seccomp_load() as late as possible,
 * after setuid/setgid/capset, just before execve. If it is false, loading a
 * filter needs CAP_SYS_ADMIN (in the container's user namespace), so the
 * engine must call rune_seccomp_load() BEFORE dropping capabilities and
 * changing uid; the filter then also applies to those calls.
 */
#ifndef RUNE_SECCOMP_H
#define RUNE_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct rune_seccomp;

/*
 * Validates and compiles `seccomp` (the config's linux.seccomp object; NULL or
 * JSON null gives *out = NULL and returns 0: no filter). Unknown syscall names
 * are skipped, as runc does. Anything else invalid fails with -EINVAL and a
 * message naming the JSON path, e.g.
 * ".linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"".
 * Does not keep references to `seccomp`.
 */
int rune_seccomp_prepare(json_t *seccomp, struct rune_seccomp **out, err_t *err);

/*
 * Installs the filter on the calling thread (seccomp(2)). Makes no
 * allocations on success, so it is safe after fork/clone. *notify_fd gets the
 * listener fd (O_CLOEXEC) when any rule uses SCMP_ACT_NOTIFY, else -1.
 * notify_fd may be NULL: a listener is then closed at once, and notifying
 * syscalls fail with ENOSYS. s may be NULL (no filter: returns 0).
 * Does not set no_new_privs: see the ordering above.
 */
int rune_seccomp_load(struct rune_seccomp *s, int *notify_fd, err_t *err);

/* True when the filter has SCMP_ACT_NOTIFY rules (the engine must then carry
 * the fd from init back to the parent and call rune_seccomp_send_notify_fd). */
bool rune_seccomp_has_notify(const struct rune_seccomp *s);
/* linux.seccomp.listenerPath / listenerMetadata, or NULL. */
const char *rune_seccomp_listener_path(const struct rune_seccomp *s);
const char *rune_seccomp_listener_metadata(const struct rune_seccomp *s);

/*
 * Connects to the unix stream socket at listener_path and sends, in one
 * message with notify_fd attached as SCM_RIGHTS, the OCI
 * "containerProcessState" JSON:
 *   {"ociVersion", "fds": ["seccompFd"], "pid", "metadata", "state"}
 * state_json is the container's state (as `rune state` prints it, with
 * "status": "creating" and the init's "pid"); pid and ociVersion are taken
 * from it. listener_metadata may be NULL or "" (then omitted, as runc does).
 * Does not close notify_fd.
 */
int rune_seccomp_send_notify_fd(const char *listener_path, const char *listener_metadata,
				int notify_fd, const char *state_json, err_t *err);
/* The same for an exec'd process: "pid" is pid (the state keeps the init's), as runc sends. */
int rune_seccomp_send_process_notify_fd(const char *listener_path, const char *listener_metadata,
					int notify_fd, const char *state_json, pid_t pid,
					err_t *err);

void rune_seccomp_free(struct rune_seccomp *s);

#endif
