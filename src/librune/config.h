/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI runtime config (config.json), parsed and validated up front into
 * plain structs. Every invalid field is reported with its JSON path:
 * "config.json: .linux.namespaces[2].type: unknown namespace type \"foo\"".
 * Parts the engine hands to other modules whole (linux.resources,
 * linux.seccomp) are kept as JSON (json_t, borrowed from config->root).
 */
#ifndef RUNE_CONFIG_H
#define RUNE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct rune_env_kv {
	char *key, *value;
};

struct rune_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
	char *name; /* "RLIMIT_NOFILE", for messages */
};

struct rune_caps {
	/* Bitmasks of CAP_* values (capability numbers < 64). */
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool set; /* process.capabilities present */
};

struct rune_user {
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
};

struct rune_process {
	bool terminal;
	unsigned console_height, console_width;
	struct rune_user user;
	char **args; /* NULL-terminated */
	char **env;  /* NULL-terminated, "K=V" */
	char *cwd;
	struct rune_caps caps;
	struct rune_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
	json_t *scheduler;   /* process.scheduler, or NULL (a reference of its own) */
	json_t *io_priority; /* process.ioPriority, or NULL (a reference of its own) */
};

enum rune_ns_type {
	RUNE_NS_PID,
	RUNE_NS_NET,
	RUNE_NS_MNT,
	RUNE_NS_IPC,
	RUNE_NS_UTS,
	RUNE_NS_USER,
	RUNE_NS_CGROUP,
	RUNE_NS_TIME,
	RUNE_NS_COUNT
};

struct rune_namespace {
	bool present;
	char *path; /* join this one, or NULL to create */
};

struct rune_id_map {
	uint32_t container_id, host_id, size;
};

struct rune_mount {
	char *destination;
	char *type;
	char *source;
	char **options; /* NULL-terminated, as given */
	/* Derived from options: */
	unsigned long flags;	   /* MS_* to set */
	unsigned long clear_flags; /* MS_* explicitly cleared (rw, suid, dev, exec...) */
	unsigned long propagation; /* MS_SHARED|MS_SLAVE|MS_PRIVATE|MS_UNBINDABLE (+MS_REC) */
	char *data; /* options the kernel takes as data (e.g. "mode=755,size=65536k") */
	bool bind, recursive;
	/* runc's recursive options ("rro", "rnosuid"...): MOUNT_ATTR_* for the whole tree */
	uint64_t rec_attr_set, rec_attr_clr;
	bool tmpcopyup; /* tmpfs: the directory's content copied into it */
};

struct rune_device {
	char *path;
	char type; /* 'c', 'b', 'u', 'p' */
	long long major, minor;
	bool has_mode;
	mode_t mode;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
};

struct rune_hook {
	char *path;
	char **args; /* NULL-terminated or NULL */
	char **env;  /* NULL-terminated or NULL */
	int timeout; /* seconds, 0 = none */
};

struct rune_hooks_list {
	struct rune_hook *v;
	size_t n;
};

enum rune_hook_kind {
	RUNE_HOOK_PRESTART,
	RUNE_HOOK_CREATE_RUNTIME,
	RUNE_HOOK_CREATE_CONTAINER,
	RUNE_HOOK_START_CONTAINER,
	RUNE_HOOK_POSTSTART,
	RUNE_HOOK_POSTSTOP,
	RUNE_HOOK_COUNT
};

struct rune_sysctl {
	char *key, *value;
	enum rune_ns_type ns; /* the namespace the sysctl belongs to */
};

struct rune_config {
	json_t *root; /* the whole document; owns the json_t pointers below */
	char *oci_version;
	char *root_path; /* root.path, absolute after rune_config_load */
	bool root_readonly;
	char *hostname;
	char *domainname;
	bool has_process;
	struct rune_process process;
	struct rune_mount *mounts;
	size_t n_mounts;
	struct rune_hooks_list hooks[RUNE_HOOK_COUNT];
	json_t *annotations; /* object or NULL */

	/* linux */
	struct rune_namespace ns[RUNE_NS_COUNT];
	struct rune_id_map *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct rune_device *devices;
	size_t n_devices;
	char *cgroups_path;
	json_t *resources; /* linux.resources or NULL */
	json_t *seccomp;   /* linux.seccomp or NULL */
	json_t *personality;
	json_t *intel_rdt;
	unsigned long rootfs_propagation; /* MS_* or 0 */
	char **masked_paths;
	char **readonly_paths;
	struct rune_sysctl *sysctls;
	size_t n_sysctls;
	char *mount_label;
};

/* Parses bundle/config.json; root.path is made absolute against bundle. */
int rune_config_load(const char *bundle, struct rune_config **out, err_t *err);
/* Parses a JSON document already in memory (name is used in messages). */
int rune_config_parse(const char *text, const char *name, const char *bundle,
		      struct rune_config **out, err_t *err);
/* Parses a process object (exec --process FILE, or config's .process). */
/* json_loads that also takes Go's uint64 values above INT64_MAX (as reals). */
json_t *rune_json_loads(const char *text, size_t flags, json_error_t *jerr);
int rune_process_parse(json_t *obj, const char *path, struct rune_process *p, err_t *err);
void rune_process_clear(struct rune_process *p);
void rune_config_free(struct rune_config *c);
/* linux.resources, created (owned by c->root) if the config has none; NULL on ENOMEM. */
json_t *rune_config_resources(struct rune_config *c);

const char *rune_ns_name(enum rune_ns_type t);	    /* "pid", "network", ... */
int rune_ns_clone_flag(enum rune_ns_type t);	    /* CLONE_NEW* */
const char *rune_ns_proc_path(enum rune_ns_type t); /* "/proc/self/ns/net", ... */
/* Capability name ("CAP_SYS_ADMIN") to number, -1 if unknown. */
int rune_cap_from_name(const char *name);
const char *rune_cap_name(int cap);
/* Signal name or number ("TERM", "SIGTERM", "15"; "0" probes) to number, -1 if unknown. */
int rune_signal_parse(const char *s);

static inline void rune_config_freep(struct rune_config **c)
{
	if (*c)
		rune_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(rune_config_freep)))

#endif
