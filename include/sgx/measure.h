/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MRENCLAVE, computed the way ECREATE/EADD/EEXTEND extend it: SHA-256 over
 * 64-byte records (and, for EEXTEND, the 256 bytes measured). Streaming, so
 * images of any size are measured in constant memory.
 */
#ifndef SGX_MEASURE_H
#define SGX_MEASURE_H

#include <stdint.h>

#include "common/error.h"
#include "sgx/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sgx_measure; /* opaque */

/* ECREATE: size is the ELRANGE size (a power of two, at least a page). */
int sgx_measure_new(struct sgx_measure **m, uint32_t ssaframesize, uint64_t size, err_t *err);
/*
 * EADD of the page at offset with SECINFO flags, then, if measured, 16
 * EEXTENDs of its content. page is 4096 bytes, NULL for a zero page.
 * Refuses what EADD refuses: unaligned or out-of-range offset, flags that
 * are not a TCS or REG page, permissions on a TCS, W without R. A page
 * added twice is the caller's to prevent (sgx_image_measure does).
 */
int sgx_measure_add_page(struct sgx_measure *m, uint64_t offset, uint64_t secinfo_flags,
			 const void *page, int measured, err_t *err);
/*
 * EADD (and EEXTEND if measured) of count consecutive pages from offset, all
 * with secinfo_flags: the same records as count sgx_measure_add_page calls,
 * hashed in batches. pages holds count * 4096 bytes, NULL for zero pages.
 * Checks the whole run before measuring any of it.
 */
int sgx_measure_add_pages(struct sgx_measure *m, uint64_t offset, uint64_t count,
			  uint64_t secinfo_flags, const void *pages, int measured, err_t *err);
/* EINIT's finalisation: writes MRENCLAVE and frees m. */
void sgx_measure_finish(struct sgx_measure *m, uint8_t mrenclave[32]);
/* Frees an unfinished measurement (NULL is fine). */
void sgx_measure_free(struct sgx_measure *m);

/* 0 if EADD would accept these SECINFO flags, else -EINVAL with a reason. */
int sgx_secinfo_check(uint64_t secinfo_flags, err_t *err);

/* "tcs", "r", "rw", "rx", "rwx", "reg" (no permission) or "0x..." for other flags. */
const char *sgx_secinfo_name(uint64_t secinfo_flags);

#ifdef __cplusplus
}
#endif

#endif
