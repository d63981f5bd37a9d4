/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's state on disk: <root>/<id>/state.json, plus start.sock while
 * the container is created but not started. The format carries a version so
 * a newer rune reads an older state; the init's start time makes sure a
 * recycled pid is never mistaken for the container.
 */
#ifndef RUNE_STATE_H
#define RUNE_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "rune/librune.h" /* RUNE_DEFAULT_ROOT */

/* 2: the frozen process, seccomp and namespaces that `exec` needs. */
#define RUNE_STATE_VERSION 2
/* Exists while the container is created and not yet started (the init waits on it). */
#define RUNE_START_SOCKET "start.sock"

enum rune_status {
	RUNE_STATUS_CREATING,
	RUNE_STATUS_CREATED,
	RUNE_STATUS_RUNNING,
	RUNE_STATUS_PAUSED,
	RUNE_STATUS_STOPPED,
};

struct rune_state {
	char *id;
	char *dir; /* <root>/<id> */
	char *oci_version;
	pid_t pid;
	unsigned long long pid_start_time;
	char *bundle;
	char *rootfs;
	char *created;
	char *owner;
	json_t *annotations; /* object, owned */
	char *cgroup_path;
	bool cgroup_owned; /* made by this container's create: delete kills and removes it */
	bool systemd_cgroup;
	json_t *hooks;	   /* config hooks (poststop runs at delete), owned, or NULL */
	json_t *enclave;   /* enclave settings, owned, or NULL */
	char *exec_socket; /* enclave containers: init-runelet's control socket */
	bool use_terminal;
	/*
	 * Frozen at create, as runc does: what `exec` gives a new process never
	 * comes from the bundle, which may since have changed or gone.
	 */
	json_t *process;	  /* the config's process (template and privileges), owned */
	json_t *seccomp;	  /* linux.seccomp, owned, or NULL */
	unsigned long namespaces; /* CLONE_NEW* of the namespaces the config lists */
};

const char *rune_status_name(enum rune_status s);

/* Checks an id as runc does: [A-Za-z0-9_+.-]+, not "." or "..". */
int rune_id_validate(const char *id, err_t *err);
char *rune_state_dir(const char *root, const char *id);

int rune_state_load(const char *root, const char *id, struct rune_state **out, err_t *err);
int rune_state_save(const struct rune_state *s, err_t *err);
void rune_state_free(struct rune_state *s);

/* Current status, from the init's liveness, start.sock and the freezer. */
enum rune_status rune_state_status(const struct rune_state *s);

/* The OCI state JSON (what `rune state` prints and hooks read on stdin). */
json_t *rune_state_to_oci(const struct rune_state *s, enum rune_status status);

/* Lists the ids under root. */
int rune_state_list(const char *root, char ***ids, err_t *err);

/* Takes an exclusive flock on the state dir itself; returns the fd. */
int rune_state_lock(const char *dir, err_t *err);

static inline void rune_state_freep(struct rune_state **s)
{
	if (*s)
		rune_state_free(*s);
}
#define _cleanup_state_ __attribute__((cleanup(rune_state_freep)))

#endif
