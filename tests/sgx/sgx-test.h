/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the SGX unit tests: test vectors; TAP output from ../tap.h. */
#ifndef SGX_TEST_H
#define SGX_TEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sgx/fileio.h"
#include "../tap.h"

/* $SGX_VECTORS, else $SRCDIR/../shared/vectors/sgx (CI's), or NULL (the test then skips). */
static inline const char *vectors_dir(void)
{
	static char path[4096];
	const char *src = getenv("SRCDIR"), *v = getenv("SGX_VECTORS");
	FILE *f;

	if (v && *v)
		snprintf(path, sizeof(path), "%s", v);
	else
		snprintf(path, sizeof(path), "%s/../shared/vectors/sgx", src ? src : ".");
	char probe[4200];
	snprintf(probe, sizeof(probe), "%s/encl.ss", path);
	f = fopen(probe, "r");
	if (f == NULL)
		return NULL;
	fclose(f);
	return path;
}

/* Reads vectors_dir()/name; aborts the test run on failure (a broken fixture). */
static inline void *read_vector(const char *dir, const char *name, size_t *len)
{
	char path[4200];
	void *buf = NULL;
	err_t err = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sgx_read_file(path, 1 << 24, &buf, len, &err) < 0) {
		printf("not ok - read %s: %s\n", path, err_msg(err));
		err_free(&err);
		exit(1);
	}
	return buf;
}

static inline int hex_is(const uint8_t *b, const char *hex)
{
	char s[2 * 64 + 1];
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	return strcmp(s, hex) == 0;
}

#endif
