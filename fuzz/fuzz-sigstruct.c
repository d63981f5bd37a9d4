/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: SIGSTRUCT parsing and EINIT verification, and the
 * remote-signer assembly (material + detached signature + PEM public key).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sgx/sigstruct.h"

static void fuzz_sigstruct(const uint8_t *data, size_t size)
{
	struct sgx_sigstruct ss;
	uint8_t h[32];
	err_t err = NULL;

	if (sgx_sigstruct_parse(&ss, data, size, &err) == 0) {
		sgx_sigstruct_check(&ss, &err);
		err_free(&err);
		memcpy(h, ss.body.enclavehash, 32);
		sgx_einit_check(&ss, h, ss.body.attributes, ss.body.xfrm, ss.body.miscselect, &err);
		sgx_mrsigner(&ss, h);
	}
	err_free(&err);
}

/* material (256) | signature length (1 byte, x2) | signature | PEM */
static void fuzz_catsig(const uint8_t *data, size_t size)
{
	struct sgx_sigstruct ss;
	size_t siglen;
	err_t err = NULL;

	if (size < SGX_SIGSTRUCT_MATERIAL_SIZE + 1)
		return;
	sgx_sigstruct_from_material(&ss, data);
	data += SGX_SIGSTRUCT_MATERIAL_SIZE;
	size -= SGX_SIGSTRUCT_MATERIAL_SIZE;
	siglen = (size_t)data[0] * 2;
	data++;
	size--;
	if (siglen > size)
		siglen = size;
	sgx_sigstruct_set_signature(&ss, data, siglen, data + siglen, size - siglen, &err);
	err_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == SGX_SIGSTRUCT_SIZE || size == 0) {
		fuzz_sigstruct(data, size);
		return 0;
	}
	if (data[0] & 1)
		fuzz_catsig(data + 1, size - 1);
	else
		fuzz_sigstruct(data + 1, size - 1);
	return 0;
}
