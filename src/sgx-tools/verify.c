/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools verify: is the SIGSTRUCT what EINIT accepts, and for this image? */
#include <stdio.h>
#include <string.h>

#include "sgx-tools.h"

static const char help[] =
    "Usage: sgx-tools verify --sigstruct SIG [--image FILE --pages SPEC | --elf FILE]\n"
    "                        [LAYOUT]\n"
    "Exits 0 only if the SIGSTRUCT passes EINIT's checks (headers, exponent,\n"
    "q1/q2, RSA signature) and, given an enclave, its enclave hash is the\n"
    "enclave's MRENCLAVE. Prints mrenclave and mrsigner.\n";

int cmd_verify(int argc, char **argv, err_t *err)
{
	static const struct option opts[] = { IMAGE_OPTIONS,
					      { "sigstruct", required_argument, NULL,
						OPT_SIGSTRUCT },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct image_args a = { 0 };
	const char *path = NULL;
	struct sgx_sigstruct ss;
	uint8_t mrenclave[32], signer[32];
	char hex[65];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		if (c == OPT_SIGSTRUCT) {
			path = optarg;
			continue;
		}
		ret = image_arg(&a, c, optarg, err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return option_error(c, argv, err);
	}
	if (no_operands(argc, argv, err) < 0)
		return USAGE_ERROR;
	if (path == NULL)
		return usage_error(err, "--sigstruct SIG is required");
	ret = sgx_sigstruct_load(&ss, path, err);
	if (ret < 0)
		return ret;
	ret = sgx_sigstruct_check(&ss, err);
	if (ret < 0)
		return err_wrap(err, "%s", path);
	if (a.image || a.elf || a.pages) {
		ret = image_mrenclave(&a, 0, mrenclave, err);
		if (ret < 0)
			return ret;
		/* EINIT with the SECS fields the signer asked for: only the hash can differ. */
		ret = sgx_einit_check(&ss, mrenclave, ss.body.attributes, ss.body.xfrm,
				      ss.body.miscselect, err);
		if (ret != 0)
			return err_wrap(err, "%s", path);
	}
	sgx_hex(ss.body.enclavehash, 32, hex);
	printf("mrenclave: %s\n", hex);
	sgx_mrsigner(&ss, signer);
	sgx_hex(signer, 32, hex);
	printf("mrsigner: %s\n", hex);
	return 0;
}
