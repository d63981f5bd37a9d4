/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container's init (child) side of `create`: the arguments rune hands
 * the process it clones, and its entry point. Internal to the engine.
 */
#ifndef RUNE_INIT_H
#define RUNE_INIT_H

#include <stdbool.h>

#include "librune/cgroup.h"
#include "librune/config.h"
#include "librune/container.h"
#include "librune/handler.h"
#include "librune/seccomp.h"

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

/* Sets the container up step by step with rune (create.c), then becomes the workload. */
__attribute__((noreturn)) void rune_init_main(struct init_args *a);

/* The OCI state JSON text of s at status (for hooks' stdin). */
char *rune_oci_state_text(const struct rune_state *s, enum rune_status status);

/*
 * create, with what `run` needs to stay in the foreground: the init's pid,
 * the pty master (if any) and the sync connection.
 */
int rune_create(const struct rune_ctx *ctx, const struct rune_create_opts *o, pid_t *init_pid,
		int *pty_master, int *sync_out, err_t *err);

#endif
