/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the image builders (private to libsgx). */
#ifndef LIBSGX_IMAGE_INTERNAL_H
#define LIBSGX_IMAGE_INTERNAL_H

#include <stdint.h>

#include "common/error.h"

/* Smallest power of two >= v, at least a page. */
uint64_t sgx_next_pow2(uint64_t v);
/* Defaults *size (0) to the next power of two of end, then validates it. */
int sgx_image_check_size(uint64_t *size, uint64_t end, err_t *err);

#endif
