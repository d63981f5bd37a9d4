/* SPDX-License-Identifier: Apache-2.0 */
/* File helpers private to libsgx (not part of the public API). */
#ifndef LIBSGX_FILEIO_H
#define LIBSGX_FILEIO_H

#include <stddef.h>

#include "common/error.h"

/*
 * Reads a whole regular file of at most max bytes (longer files are
 * truncated at max) into a buffer zero-padded to a multiple of 4096 bytes,
 * with at least one zero byte past len.
 */
int sgx_read_file(const char *path, size_t max, void **buf, size_t *len, err_t *err);
/* Writes buf to path (created with mode, truncated); excl refuses an existing file. */
int sgx_write_file(const char *path, const void *buf, size_t len, int mode, int excl, err_t *err);

#endif
