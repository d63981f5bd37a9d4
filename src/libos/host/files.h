/* SPDX-License-Identifier: Apache-2.0 */
/* The PAL's side of allowed (pass-through) files: LIBOS_OCALL_A* (libos_abi.h). */
#ifndef LIBOS_HOST_FILES_H
#define LIBOS_HOST_FILES_H

#include <stdint.h>

#include "libos/libos_abi.h"

/* Serves one LIBOS_OCALL_A* inside rootfd: the result, or -errno. */
long files_ocall(struct libos_mailbox *mb, uint64_t nr, int rootfd);

/* Closes every handle (the workload is gone). */
void files_close_all(void);

/* In a child of fork(): forgets every handle (their descriptors are closed). */
void files_after_fork(void);

#endif
