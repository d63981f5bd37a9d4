/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: loading PCS collateral (ratls_collateral_load): the
 * JSON document, its signature, and the slicing of the signed body out of
 * the bytes served (the one part of the JSON handling that is not
 * jansson's). The input is written as tcbinfo.json and qeidentity.json in
 * a scratch directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ratls/ratls.h"

static char dir[] = "/tmp/fuzz-collateral.XXXXXX";

static void put(const char *name, const uint8_t *data, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
}

static void remove_dir(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/tcbinfo.json", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qeidentity.json", dir);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ratls_collateral *c = NULL;
	err_t err = NULL;

	if (dir[sizeof(dir) - 2] == 'X') {
		if (!mkdtemp(dir))
			abort();
		atexit(remove_dir);
	}
	put("tcbinfo.json", data, size);
	put("qeidentity.json", data, size);
	if (ratls_collateral_load(dir, &c, &err) == 0)
		ratls_collateral_free(c);
	err_free(&err);
	return 0;
}
