/* SPDX-License-Identifier: Apache-2.0 */
/* The container engine: its public API (include/rune/librune.h) and what goes with it inside. */
#ifndef RUNE_CONTAINER_H
#define RUNE_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "rune/librune.h"
#include "librune/config.h"
#include "librune/state.h"

/* Converts a wait status into a shell-style exit code. */
int rune_exit_code(int status);

#endif
