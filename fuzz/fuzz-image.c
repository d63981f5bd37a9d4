/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the ELF enclave parser/layout and the flat image page
 * spec, then measurement of whatever they accept.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/image.h"

static void measure(struct sgx_image *img)
{
	uint8_t h[32];
	err_t err = NULL;

	/* Huge zero-filled layouts are legal but slow: measure small ones only. */
	if (sgx_image_total_pages(img) <= 4096)
		sgx_image_measure(img, h, &err);
	err_free(&err);
	sgx_image_free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sgx_image img;
	err_t err = NULL;

	if (size >= 4 && memcmp(data,
				"\x7f"
				"ELF",
				4) == 0) {
		/* A raw ELF (the seed corpus): default layout. */
		if (sgx_image_from_elf_mem(&img, data, size, NULL, &err) == 0)
			measure(&img);
		err_free(&err);
		return 0;
	}
	if (size < 4)
		return 0;
	if (data[0] & 1) {
		/* Layout options from 3 bytes, then the ELF. */
		struct sgx_layout_opts o = { .heap = (uint64_t)data[1] * 4096,
					     .stack = (uint64_t)(data[2] & 15) * 4096,
					     .tcs = data[3] & 7,
					     .ssaframesize = (data[2] >> 4) + 1 };
		if (sgx_image_from_elf_mem(&img, data + 4, size - 4, &o, &err) == 0)
			measure(&img);
	} else {
		/* Page spec up to the first NUL, then the flat image. */
		const uint8_t *nul = memchr(data + 1, 0, size - 1);
		char *spec;

		if (nul == NULL)
			return 0;
		spec = strndup((const char *)data + 1, (size_t)(nul - data - 1));
		if (spec && sgx_image_from_flat_mem(&img, nul + 1, size - (size_t)(nul + 1 - data),
						    spec, 0, 1, &err) == 0)
			measure(&img);
		free(spec);
	}
	err_free(&err);
	return 0;
}
