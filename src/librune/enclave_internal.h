/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the enclave host's files share (enclave.h is the engine's view):
 * the PAL's entry points and the enclave container as rune knows it.
 */
#ifndef RUNE_ENCLAVE_INTERNAL_H
#define RUNE_ENCLAVE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "librune/enclave.h"
#include "rune/pal.h"

#define RUNE_CONFIG_FILE "/etc/rune/config.json"
#define EPC_ANNOTATION	 "sgx.intel.com/epc"

struct pal_ops {
	int version;
	pal_init_fn init;
	pal_exec_v1_fn exec_v1;
	pal_create_process_fn create_process;
	pal_exec_fn exec;
	pal_kill_fn kill;
	pal_destroy_fn destroy;
	pal_get_local_report_fn get_local_report;
};

struct rune_enclave {
	char *type;
	char *runtime_path; /* where the PAL is (its real path), inside an allowed PAL directory */
	int pal_fd;	    /* O_PATH: the PAL as checked, until the init loads it */
	char *args;	    /* commas already turned into spaces */
	char *log_level;
	char *socket_path;
	uint64_t max_enclave_size; /* from the config file; 0: libsgx's default */
	uint64_t epc_size;	   /* emulator.epc_size from the config file; 0: the default */
	bool epc_paging_delay;	   /* emulator.epc_paging_delay: spend the modelled paging time */
	uint64_t epc_limit;	   /* bytes; 0: none */
	const char *epc_limit_source; /* where epc_limit came from, for libsgx's error */
	char *container_id;	      /* for libsgx's error too */
	void *handle;
	struct pal_ops ops;
	int listen_fd;
	int workload_pid; /* the PAL's pid of the main workload (v2+) */
	/* Occlum's conventions (-1 + errno, wait statuses), told by its occlum_pal_* exports. */
	bool occlum;
	/* pal_destroy runs once: by the main thread, or by a v1 terminating signal. */
	pthread_mutex_t destroy_lock;
	bool destroyed;
};

/*
 * A rune config file (RUNE_CONFIG_FILE): opened once, then checked (a
 * regular file, root's, writable by nobody else) and read through that fd.
 * *out NULL when there is none.
 */
int rune_config_file_load(const char *path, json_t **out, err_t *err);
/* Its "emulator": {"epc_size": N} (bytes or a quantity); 0 when absent. */
int rune_config_epc_size(const char *path, uint64_t *out, err_t *err);
/* Its "emulator": {"epc_paging_delay": true|false}; false when absent. */
int rune_config_epc_paging_delay(const char *path, bool *out, err_t *err);

/* A PAL's failure as an errno (Occlum returns -1 and sets errno). */
int rune_pal_error(const struct rune_enclave *e, int ret, int saved_errno);

/* The signals init-runelet and exec's proxy pass on to the enclave's processes. */
void rune_forwardable_signals(sigset_t *set);

#endif
