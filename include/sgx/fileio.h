/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading and writing the toolkit's files (enclave images, SIGSTRUCTs,
 * signing material, keys) as libsgx does: only regular files are read (a
 * FIFO, socket or device node, also behind a symlink, is refused before it
 * is opened, so a read never blocks or reads a device), and sizes are
 * bounded. For tools over libsgx, such as sgx-tools.
 */
#ifndef SGX_FILEIO_H
#define SGX_FILEIO_H

#include <stddef.h>

#include "common/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Reads a whole regular file of at most max bytes (a longer file is
 * truncated at max: ask for max + 1 to tell "too long") into a new buffer,
 * zero-padded to a multiple of 4096 bytes with at least one zero byte past
 * *len. The caller frees *buf. 0, or a negative errno with err naming path.
 */
int sgx_read_file(const char *path, size_t max, void **buf, size_t *len, err_t *err);

/*
 * Writes len bytes of buf to path, created with mode (before the umask) or
 * truncated; excl refuses an existing file (-EEXIST) instead. 0, or a
 * negative errno with err naming path.
 */
int sgx_write_file(const char *path, const void *buf, size_t len, int mode, int excl, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
