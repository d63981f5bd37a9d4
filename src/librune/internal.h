/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the engine's own files, not part of its interface. */
#ifndef RUNE_INTERNAL_H
#define RUNE_INTERNAL_H

#include <signal.h>
#include <sys/types.h>

#include "common/error.h"

/* Sends a pty master to a --console-socket (SCM_RIGHTS), as runc does. */
int rune_send_console(const char *path, int fd, err_t *err);
/* Writes pid to a --pid-file atomically (clients read it as soon as it exists). */
int rune_write_pid_file(const char *path, pid_t pid, err_t *err);
/*
 * Waits for pid (our child, or inherited as subreaper), forwarding the
 * signals in mask (blocked by the caller) and relaying the pty master if
 * master >= 0. Returns the wait status.
 */
int rune_wait_forwarding(pid_t pid, int master, sigset_t *mask);

#endif
