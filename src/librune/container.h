/* SPDX-License-Identifier: Apache-2.0 */
/* The container engine: lifecycle operations behind the rune CLI. */
#ifndef RUNE_CONTAINER_H
#define RUNE_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "librune/config.h"
#include "librune/state.h"

/* Global settings (rune's global flags). */
struct rune_ctx {
	const char *root;
	bool systemd_cgroup;
	const char **pal_dirs; /* NULL-terminated: directories enclave runtimes may load from */
};

struct rune_create_opts {
	const char *id;
	const char *bundle; /* absolute */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	int preserve_fds;
	/* run: stay the init's parent; relay the terminal if there is no console socket. */
	bool foreground;
	/* run: leave the stopped container (state, cgroup) for delete. */
	bool keep;
	/* run: the workload's orphans go to the host's reaper, not to rune (runc's flag). */
	bool no_subreaper;
};

int rune_container_create(const struct rune_ctx *ctx, const struct rune_create_opts *o, err_t *err);
int rune_container_start(const struct rune_ctx *ctx, const char *id, err_t *err);
/* create + start; in the foreground waits and sets *exit_status (128+N if killed by N). */
int rune_container_run(const struct rune_ctx *ctx, const struct rune_create_opts *o, bool detach,
		       int *exit_status, err_t *err);
int rune_container_delete(const struct rune_ctx *ctx, const char *id, bool force, err_t *err);
int rune_container_kill(const struct rune_ctx *ctx, const char *id, int sig, bool all, err_t *err);
int rune_container_state(const struct rune_ctx *ctx, const char *id, json_t **out, err_t *err);
int rune_container_pids(const struct rune_ctx *ctx, const char *id, pid_t **pids, size_t *n,
			err_t *err);
int rune_container_pause(const struct rune_ctx *ctx, const char *id, bool pause, err_t *err);
int rune_container_update(const struct rune_ctx *ctx, const char *id, json_t *resources,
			  err_t *err);

struct rune_exec_opts {
	const char *id;
	struct rune_process *process; /* filled by the CLI */
	const char *pid_file;
	const char *console_socket;
	bool detach;
	int preserve_fds;
	/* exec into a paused container: the process runs once it is resumed */
	bool ignore_paused;
	/* --cgroup: sub-cgroups to join (rune_cgroup_enter_task_sub), NULL-terminated */
	char **cgroup_subs;
};
int rune_container_exec(const struct rune_ctx *ctx, const struct rune_exec_opts *o,
			int *exit_status, err_t *err);

/* Converts a wait status into a shell-style exit code. */
int rune_exit_code(int status);

#endif
