/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the cgroup*.c files and their unit tests; not engine API. */
#ifndef RUNE_CGROUP_INTERNAL_H
#define RUNE_CGROUP_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "librune/cgroup.h"

struct rune_cgroup_host {
	char *root; /* prefix of every mountpoint ("" on a real host) */
	enum rune_cgroup_layout layout;
	struct rune_cgroup_hierarchy *hier;
	size_t n;
	bool systemd; /* /run/systemd/system exists */
	/* Tests: every write is logged as "<path without root> <value>\n". */
	FILE *trace;
	/* Tests: called after each mkdir, to fill the new dir as the kernel would. */
	void (*on_mkdir)(const struct rune_cgroup_hierarchy *hier, const char *dir, void *data);
	void *on_mkdir_data;
	/* Tests: rmdir replacement (a fake tree's dirs hold regular files). */
	int (*rmdir)(const char *dir);
	/* Tests: skip the eBPF device program (needs a real cgroup2 fd). */
	bool no_bpf;
};

/* Files */
int cg_write(const struct rune_cgroup_host *h, const char *dir, const char *file, const char *value,
	     err_t *err);
int cg_writef(const struct rune_cgroup_host *h, const char *dir, const char *file, err_t *err,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int cg_vwritef(const struct rune_cgroup_host *h, const char *dir, const char *file, err_t *err,
	       const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
/* Reads dir/file, trailing newline removed. */
int cg_read(const char *dir, const char *file, char **out, err_t *err);
int cg_read_u64(const char *dir, const char *file, uint64_t *v, err_t *err);
bool cg_has_file(const char *dir, const char *file);
/* Value of "key N" in a flat keyed file (memory.stat, cgroup.events); -ENOENT if absent. */
int cg_keyed_u64(const char *text, const char *key, uint64_t *v);

/* The hierarchy driving a controller and the cgroup's dir there. */
struct cg_target {
	const struct rune_cgroup_hierarchy *hier;
	char *dir;
};
/* Fills t for controller, or fails naming what (e.g. "memory.limit") and why. */
int cg_target_get(const struct rune_cgroup_host *h, const char *path, const char *controller,
		  const char *what, struct cg_target *t, err_t *err);
void cg_target_clear(struct cg_target *t);

/* Limits (cgroup_limits.c). */
int cg_apply_resources(const struct rune_cgroup_host *h, const char *path, json_t *res, bool create,
		       err_t *err);
/* v1 devices.allow/deny, or the v2 eBPF program (cgroup_devices.c). */
int cg_apply_devices(const struct rune_cgroup_host *h, const char *path, json_t *rules, bool create,
		     err_t *err);
/* Validates linux.resources.devices (errors name the config's indices). */
int cg_devices_check(json_t *rules, err_t *err);
/* The v2 device program for rules, and loading + attaching it to a cgroup2 dir. */
struct bpf_insn;
int cg_bpf_devices_prog(json_t *rules, struct bpf_insn **out, size_t *n, err_t *err);
int cg_bpf_devices_load(json_t *rules, err_t *err); /* the program's fd */
int cg_bpf_devices_attach(const char *dir, json_t *rules, err_t *err);
/* runc's conversions, exposed for tests. */
uint64_t cg_shares_to_weight(uint64_t shares);
uint64_t cg_blkio_weight_to_io(uint64_t weight);
int cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, bool *set, err_t *err);

/* systemd driver (cgroup_systemd.c): "/a.slice/x.scope" -> "a.slice", "x.scope". */
int cg_systemd_unit(const char *path, char **slice, char **unit, err_t *err);
/* Appends the unit properties for resources to props, as [name, D-Bus signature, value]. */
int cg_systemd_properties(const struct rune_cgroup_host *h, json_t *resources, json_t *props,
			  err_t *err);

/* Path helpers (cgroup.c). */
char *cg_clean_path(const char *p); /* "/"-rooted, no "." "..", never above "/" */

#endif
