// SPDX-License-Identifier: Apache-2.0
/*
 * Checks an emulated REPORT made inside a LibOS enclave
 * (tests/libos/test-libos-fds.sh, /dev/attestation/report): its MAC under
 * the report key of the given TARGETINFO, with the emulator's secret
 * (SGX_EMU_SECRET), as the target enclave's EGETKEY would.
 * Usage: libos-verify-report REPORT_HEX TARGETINFO_HEX
 * Exit 0 if the MAC verifies, 1 if not (saying why), 2 on bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "sgx/arch.h"
#include "sgx/loader.h"

static int unhex(const char *h, void *out, size_t n)
{
	uint8_t *o = out;

	if (strlen(h) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sscanf(h + 2 * i, "%2hhx", &o[i]) != 1)
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct sgx_report r;
	struct sgx_targetinfo t;
	err_t err = NULL;
	int ret;

	if (argc != 3 || unhex(argv[1], &r, sizeof(r)) < 0 || unhex(argv[2], &t, sizeof(t)) < 0) {
		fprintf(stderr,
			"usage: libos-verify-report REPORT_HEX(432 B) TARGETINFO_HEX(512 B)\n");
		return 2;
	}
	ret = sgx_emu_verify_report(&r, &t, &err);
	if (ret < 0) {
		printf("%s\n", err_msg(err));
		err_free(&err);
		return 1;
	}
	printf("the REPORT's MAC verifies with the target's report key\n");
	return 0;
}
