/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune's log (--log FILE, --log-format text|json, --debug): one line an
 * entry, as runc writes it ({"level","msg","time"} in JSON, which clients
 * read). The file is opened once, close-on-exec, so the container's init
 * logs through it too until it execs the workload.
 */
#ifndef RUNE_LOG_H
#define RUNE_LOG_H

#include <stdbool.h>

/* Opens (creating) path for appending; NULL: no log file. Returns 0 or -errno. */
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
