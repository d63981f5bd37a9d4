/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune's log (--log FILE, --log-format text|json, --debug): one line an
 * entry, as runc writes it ({"level","msg","time"} in JSON, which clients
 * read). The file is opened once, close-on-exec, so the container's init
 * logs through it too until it execs the workload.
 */
#ifndef RUNE_LOG_H
#define RUNE_LOG_H

#include "rune/librune.h" /* rune_log_open, rune_log, rune_debug */

#endif
