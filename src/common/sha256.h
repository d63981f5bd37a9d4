/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 (FIPS 180-4), small and dependency-free: the LibOS enclave
 * (freestanding, no libc) checks trusted files with it, the shim hashes its
 * socket name. Portable C, or the x86 SHA extensions when the caller says
 * the CPU has them (sha256_set_shani): this code never asks the CPU itself,
 * since CPUID faults inside an SGX enclave.
 */
#ifndef COMMON_SHA256_H
#define COMMON_SHA256_H

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

/*
 * Whether CPUID's answers show SHA-NI and SSSE3 (leaf 1 ECX, leaf 7
 * subleaf 0 EBX): what sha256_set_shani() needs.
 */
int sha256_cpuid_has_shani(uint32_t leaf1_ecx, uint32_t leaf7_ebx);

/* Use SHA-NI from now on (1) or the portable code (0, the default). */
void sha256_set_shani(int on);

#endif
