/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256, small and dependency-free: the shim hashes its socket name with it. */
#ifndef SHIM_SHA256_H
#define SHIM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	uint8_t buf[64];
	size_t n;
};
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, uint8_t out[32]);

#endif
