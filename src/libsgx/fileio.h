/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File helpers private to libsgx. sgx_read_file and sgx_write_file are
 * public (sgx/fileio.h); these are libsgx's own.
 */
#ifndef LIBSGX_FILEIO_H
#define LIBSGX_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>

#include "common/error.h"
#include "sgx/fileio.h"

/*
 * Opens path for reading only if it is a regular file (symlinks followed),
 * never opening anything else: a FIFO, socket or device node is refused
 * with -EINVAL before it is opened (O_PATH, fstat, then a reopen through
 * /proc/self/fd). flags: 0 or O_NOFOLLOW. Returns the fd (O_CLOEXEC) and
 * fills *st.
 */
int sgx_open_regular(const char *path, int flags, struct stat *st, err_t *err);
/* As sgx_read_file, but a file larger than max is refused (-EFBIG) before it is read. */
int sgx_read_image_file(const char *path, size_t max, void **buf, size_t *len, err_t *err);

#endif
