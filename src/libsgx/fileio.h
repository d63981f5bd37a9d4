/* SPDX-License-Identifier: Apache-2.0 */
/* File helpers private to libsgx (not part of the public API). */
#ifndef LIBSGX_FILEIO_H
#define LIBSGX_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>

#include "common/error.h"

/*
 * Opens path for reading only if it is a regular file (symlinks followed),
 * never opening anything else: a FIFO, socket or device node is refused
 * with -EINVAL before it is opened (O_PATH, fstat, then a reopen through
 * /proc/self/fd). flags: 0 or O_NOFOLLOW. Returns the fd (O_CLOEXEC) and
 * fills *st.
 */
int sgx_open_regular(const char *path, int flags, struct stat *st, err_t *err);
/*
 * Reads a whole regular file (opened as sgx_open_regular does) of at most max bytes (longer files are
 * truncated at max) into a buffer zero-padded to a multiple of 4096 bytes,
 * with at least one zero byte past len.
 */
int sgx_read_file(const char *path, size_t max, void **buf, size_t *len, err_t *err);
/* As sgx_read_file, but a file larger than max is refused (-EFBIG) before it is read. */
int sgx_read_image_file(const char *path, size_t max, void **buf, size_t *len, err_t *err);
/* Writes buf to path (created with mode, truncated); excl refuses an existing file. */
int sgx_write_file(const char *path, const void *buf, size_t len, int mode, int excl, err_t *err);

#endif
