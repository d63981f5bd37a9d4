/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The init's handler: how a container's init becomes its workload, in the
 * spirit of crun's custom handlers. The generic setup (namespaces, mounts,
 * cgroups, identity, seccomp, hooks) calls these at fixed points and never
 * asks which handler it has. Two exist:
 *   execve  an ordinary container: the init execs the workload;
 *   pal     init-runelet, the enclave runtime host: a PAL (the skeleton, the
 *           LibOS, Occlum...) runs the workload in an enclave.
 * Every enclave runtime is a PAL under the second, not a handler of its own.
 */
#ifndef RUNE_HANDLER_H
#define RUNE_HANDLER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "librune/config.h"
#include "librune/container.h"
#include "librune/state.h"

struct rune_handler;

struct rune_handler_ops {
	const char *name;
	/*
	 * Loaded with no_new_privs before configure, not just before run: the
	 * handler runs untrusted code of the workload's from configure on (a PAL's
	 * pal_init), which must already be confined.
	 */
	bool confine_before_configure;
	/* rune, before the fork, the state dir made: config edits (devices), state fields. */
	int (*attach)(struct rune_handler *h, struct rune_config *cfg, const char *state_dir,
		      err_t *err);
	void (*save_state)(struct rune_handler *h, struct rune_state *st);
	/* The init, with the host's view and ids, before it joins any namespace. */
	int (*prepare)(struct rune_handler *h, err_t *err);
	/* The init, before pivot_root: what comes from the host. */
	int (*load)(struct rune_handler *h, err_t *err);
	/* The init after pivot_root, still as root (a PATH lookup that root's view allows). */
	int (*locate)(struct rune_handler *h, const struct rune_process *p, err_t *err);
	/* The init with the workload's identity: ready to run, or why not. */
	int (*configure)(struct rune_handler *h, const struct rune_process *p, err_t *err);
	/* What the init tells rune with READY (after configure), and rune's side of it. */
	int64_t (*ready_value)(struct rune_handler *h);
	void (*ready)(struct rune_handler *h, int64_t value, struct rune_state *st);
	/*
	 * The init at start: runs the workload. sync_fd tells `start` whether it
	 * began (closed on success, an error message otherwise). Returns only on
	 * failure, or with the workload's exit code (> 0 through *exit_code).
	 */
	int (*run)(struct rune_handler *h, const struct rune_process *p, int sync_fd,
		   int preserve_fds, int *exit_code, err_t *err);
	/* `rune exec` into a container of this handler; NULL: the generic way. */
	int (*exec_into)(const struct rune_ctx *ctx, const struct rune_state *s,
			 const struct rune_exec_opts *o, int *exit_status, err_t *err);
	void (*free)(struct rune_handler *h);
	/* rune, once the container's processes are gone (delete, a failed create): host leftovers. */
	void (*gone)(void);
};

struct rune_handler {
	const struct rune_handler_ops *ops;
	void *data;
};

extern const struct rune_handler_ops rune_handler_execve;
extern const struct rune_handler_ops rune_handler_pal;

/* The handler a config asks for; may edit cfg (the enclave keys leave the env). */
int rune_handler_select(const struct rune_ctx *ctx, struct rune_config *cfg,
			struct rune_handler *out, err_t *err);
/* The handler of a created container, from its state. */
const struct rune_handler_ops *rune_handler_of_state(const struct rune_state *s);
void rune_handler_free(struct rune_handler *h);

#endif
