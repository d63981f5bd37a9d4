/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enclave containers: rune as a host of enclave runtimes (PAL API v1-v3).
 * A container is an enclave container when ENCLAVE_TYPE is set in
 * process.env (wins, and is removed from the workload's env) or as the
 * annotation enclave.type. Its init becomes init-runelet.
 */
#ifndef RUNE_ENCLAVE_H
#define RUNE_ENCLAVE_H

#include <jansson.h>
#include <signal.h>

#include "common/error.h"
#include "librune/cgroup.h"
#include "librune/config.h"
#include "librune/container.h"
#include "librune/state.h"

struct rune_enclave;

/* NULL in *out for an ordinary container. Edits cfg (env keys removed). */
int rune_enclave_from_config(const struct rune_ctx *ctx, struct rune_config *cfg,
			     struct rune_enclave **out, err_t *err);
/* Adds the SGX device nodes (and cgroup rules) when the host has them. */
void rune_enclave_add_devices(struct rune_enclave *e, struct rune_config *cfg);
/* In the init, with the host's ids and view: the control socket in the state dir. */
int rune_enclave_bind(struct rune_enclave *e, err_t *err);
/* In the init, before pivot_root: dlopen the PAL and resolve its symbols. */
int rune_enclave_load(struct rune_enclave *e, err_t *err);
/* In the init, after pivot_root and the workload's identity: pal_init. */
int rune_enclave_init(struct rune_enclave *e, err_t *err);
/* After start: runs the workload in the enclave, serves exec/attest/kill; returns the exit code. */
int rune_enclave_run(struct rune_enclave *e, const struct rune_process *p, int sync_fd);
/* What state.json keeps of it; and the control socket path (malloc'ed). */
/*
 * `rune state`: rune.epc.limit and, while the init lives, rune.epc.usage
 * (bytes) into annotations, from the state's enclave object.
 */
void rune_enclave_state_annotations(const json_t *enclave, pid_t pid, json_t *annotations);
/*
 * The container's EPC for `rune state` and `events --stats` ("epc"):
 * {"usage": bytes its enclaves hold, while the init (pid) lives, "limit":
 * bytes, when it has one}; a new reference (NULL without memory).
 */
json_t *rune_enclave_epc(const json_t *enclave, pid_t pid);
/* Where the host offers the misc cgroup's sgx_epc: the state's limit into path's misc.max. */
int rune_enclave_cgroup_limit(const json_t *enclave, const struct rune_cgroup_host *h,
			      const char *path, err_t *err);
/*
 * `rune update --epc-limit`: the new limit into the live init's registry
 * entry (pid > 0), where its libsgx reads it for the enclaves it makes
 * next, and into the state's enclave object (the caller saves it). bytes
 * 0 removes the limit.
 */
#define EPC_SOURCE_UPDATE "rune update --epc-limit"
int rune_enclave_update_limit(json_t *enclave, const char *id, pid_t pid, uint64_t bytes,
			      err_t *err);
/* After an enclave container's end: reaps the EPC registry entries of dead init-runelets. */
void rune_enclave_gone(void);
json_t *rune_enclave_state(const struct rune_enclave *e);
char *rune_enclave_socket_path(const struct rune_enclave *e);
void rune_enclave_free(struct rune_enclave *e);

int rune_enclave_exec(const struct rune_ctx *ctx, const struct rune_state *s,
		      const struct rune_exec_opts *o, int *exit_status, err_t *err);

/* The control socket lives in the container's state directory. */
void rune_enclave_set_state_dir(struct rune_enclave *e, const char *dir);
/* Asks init-runelet for a local report; *out: {"type":"report","report":HEX}. */
int rune_enclave_attest(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			const char *target_info_hex, json_t **out, err_t *err);

#endif
