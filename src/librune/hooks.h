/* SPDX-License-Identifier: Apache-2.0 */
#ifndef RUNE_HOOKS_H
#define RUNE_HOOKS_H

#include <jansson.h>

#include "common/error.h"
#include "librune/config.h"

const char *rune_hook_kind_name(enum rune_hook_kind k);
/*
 * Runs every hook of a kind in order, the state JSON on stdin; returns the
 * first failure. Create-time and startContainer hooks stop there; after a
 * failing poststart or poststop hook the others still run (the spec).
 * Hooks get stdio only and run in dir (NULL: the caller's cwd); runc runs
 * rune's own (prestart, createRuntime, poststart, poststop) in the bundle,
 * createContainer ones in the rootfs, startContainer ones in the process's cwd.
 */
int rune_hooks_run(const struct rune_hooks_list *list, enum rune_hook_kind kind,
		   const char *state_json, const char *dir, err_t *err);
/* The same, from the hooks JSON object kept in the state (poststop at delete). */
int rune_hooks_run_json(json_t *hooks, enum rune_hook_kind kind, const char *state_json,
			const char *dir, err_t *err);

#endif
