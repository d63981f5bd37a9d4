/* SPDX-License-Identifier: Apache-2.0 */
#ifndef RUNE_ATTRS_H
#define RUNE_ATTRS_H

#include <jansson.h>

#include "common/error.h"
#include "librune/config.h"

int rune_apply_scheduler(json_t *scheduler, err_t *err);
int rune_apply_io_priority(json_t *io_priority, err_t *err);
int rune_apply_personality(json_t *personality, err_t *err);
/* Writes p's AppArmor profile / SELinux label for the next execve. */
int rune_apply_lsm(const struct rune_process *p, err_t *err);
/* On the host: refuses a profile or label the host's LSMs can't apply ("where: ..."). */
int rune_check_lsm(const struct rune_process *p, const char *where, err_t *err);
/* Fails early (before anything is created) on what this host can't provide. */
int rune_check_host_support(const struct rune_config *cfg, err_t *err);

/* Creates a time namespace with linux.timeOffsets (may be NULL) and enters it. */
int rune_enter_new_time_ns(json_t *offsets, err_t *err);

#endif
