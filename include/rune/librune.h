/* SPDX-License-Identifier: Apache-2.0 */
/*
 * librune, the container engine behind the rune CLI: what a front end may
 * use. Everything else under src/librune is the engine's own.
 */
#ifndef RUNE_LIBRUNE_H
#define RUNE_LIBRUNE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define RUNE_DEFAULT_ROOT "/run/rune"

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
/* The OCI states of every container under ctx->root, each with its "owner" (a user name). */
int rune_container_list(const struct rune_ctx *ctx, json_t **out, err_t *err);
int rune_container_pids(const struct rune_ctx *ctx, const char *id, pid_t **pids, size_t *n,
			err_t *err);
int rune_container_pause(const struct rune_ctx *ctx, const char *id, bool pause, err_t *err);
int rune_container_update(const struct rune_ctx *ctx, const char *id, json_t *resources,
			  err_t *err);
/*
 * An enclave container's EPC limit (bytes; 0 removes it), for the enclaves
 * its init-runelet makes from now on; kept in its state, and written to the
 * misc cgroup's sgx_epc where the host offers it ("max" for none).
 */
int rune_container_update_epc(const struct rune_ctx *ctx, const char *id, uint64_t bytes,
			      err_t *err);
/*
 * The EPC the emulator models, in bytes: "emulator": {"epc_size": N} in
 * config_file (NULL: /etc/rune/config.json), else $SGX_EMU_EPC_SIZE, else
 * 93.5 MiB. A malformed or unsafe config file is an error naming it.
 */
int rune_emulated_epc_size(const char *config_file, uint64_t *bytes, err_t *err);
/*
 * runc's events: emit(line, data) with one JSON line per event ("stats"
 * every interval_ms, "oom" when one happens) until the container stops;
 * with once, one "stats" line.
 */
int rune_container_events(const struct rune_ctx *ctx, const char *id, bool once, long interval_ms,
			  void (*emit)(const char *line, void *data), void *data, err_t *err);

/*
 * The process `exec` runs: from a process JSON file, or the config's
 * process (frozen at create) with these changes.
 */
struct rune_exec_args {
	const char *process_file; /* OCI process JSON; then args is unused */
	char *const *args;	  /* the command (NULL-terminated) */
	bool tty;
	const char *const *env;		    /* KEY=VALUE, each replacing the key's value */
	const char *cwd;		    /* NULL: unchanged */
	const char *user;		    /* "UID[:GID]"; NULL: unchanged */
	const char *const *additional_gids; /* decimal gids */
	const char *const *caps;	    /* capability names: replace every set */
	bool no_new_privileges;
	const char *apparmor;	   /* AppArmor profile; NULL or "": unchanged */
	const char *process_label; /* SELinux label; NULL or "": unchanged */
};
struct rune_process;
int rune_exec_process_new(const struct rune_ctx *ctx, const char *id,
			  const struct rune_exec_args *a, struct rune_process **out, err_t *err);
void rune_exec_process_free(struct rune_process *p);

struct rune_exec_opts {
	const char *id;
	struct rune_process *process; /* from rune_exec_process_new */
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

/*
 * A local attestation REPORT of an enclave container (PAL v3) as JSON:
 * mrenclave, mrsigner, attributes, ..., report_data, source and the raw
 * report. report_data_hex: at most 64 bytes in hex (NULL: none);
 * target_info_file: a 512-byte TARGETINFO (NULL: the enclave's own).
 */
int rune_container_attest(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			  const char *target_info_file, json_t **out, err_t *err);

/*
 * A DCAP v3 quote of an enclave container (PAL v3): the quote provider's
 * QE TARGETINFO (the emulated QE here; Intel's quote library on SGX
 * hardware, not yet), a REPORT for it with report_data_hex (as
 * rune_container_attest, zero-padded), the quote. The quote's report data
 * is checked to be the one asked. *quote is malloc'ed.
 */
int rune_container_quote(const struct rune_ctx *ctx, const char *id, const char *report_data_hex,
			 uint8_t **quote, size_t *len, err_t *err);
/* Every field of a quote (header, report body, signature data, QE report, certification data). */
int rune_quote_json(const uint8_t *quote, size_t len, json_t **out, err_t *err);
/* The quote in base64 (NUL-terminated, malloc'ed). */
int rune_quote_base64(const uint8_t *quote, size_t len, char **out, err_t *err);

/* runc's `features` JSON, with rune's enclave annotations. */
json_t *rune_features(void);
/* runc's `spec` config.json (rootless: with a user namespace mapping the caller). */
json_t *rune_spec_default(bool rootless);

/* Signal name or number ("TERM", "SIGTERM", "15"; "0" probes) to number, -1 if unknown. */
int rune_signal_parse(const char *s);

/*
 * rune's log (--log FILE, --log-format text|json, --debug): one line an
 * entry, as runc writes it. Opens (creating) path for appending; NULL: no
 * log file. Returns 0 or -errno.
 */
int rune_log_open(const char *path, bool json, bool debug);
bool rune_log_debug_enabled(void);
void rune_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Only with --debug. */
#define rune_debug(...)                                                                            \
	do {                                                                                       \
		if (rune_log_debug_enabled())                                                      \
			rune_log("debug", __VA_ARGS__);                                            \
	} while (0)

#endif
