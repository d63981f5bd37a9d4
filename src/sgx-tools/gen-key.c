/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools gen-key --out KEY.pem */
#include <stdio.h>

#include "sgx-tools.h"

static const char help[] = "Usage: sgx-tools gen-key --out KEY.pem\n"
			   "Writes a new RSA-3072 key with public exponent 3 (PKCS#8 PEM, mode\n"
			   "0600). An existing file is never overwritten.\n";

int cmd_gen_key(int argc, char **argv, err_t *err)
{
	static const struct option opts[] = { { "out", required_argument, NULL, OPT_OUT },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	const char *out = NULL;
	int c;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OUT:
			out = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return option_error(c, argv, err);
		}
	}
	if (no_operands(argc, argv, err) < 0)
		return USAGE_ERROR;
	if (out == NULL)
		return usage_error(err, "--out KEY.pem is required");
	return sgx_key_generate(out, err);
}
