/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools gen-key --out KEY.pem */
#include <stdio.h>

#include "sgx-tools.h"

static const char help[] = "Usage: sgx-tools gen-key --out KEY.pem\n"
			   "Writes a new RSA-3072 key with public exponent 3 (PKCS#8 PEM, mode\n"
			   "0600). An existing file is never overwritten.\n";

static int gen_key_option(void *ctx, int opt, const char *arg, err_t *err)
{
	const char **out = ctx;

	(void)err;
	if (opt != OPT_OUT)
		return 0;
	*out = arg;
	return 1;
}

int cmd_gen_key(int argc, char **argv, err_t *err)
{
	static const struct option table[] = { { "out", required_argument, NULL, OPT_OUT }, { 0 } };
	static const struct command_options cmd = { .table = table,
						    .help = help,
						    .handler = gen_key_option };
	const char *out = NULL;
	int ret;

	ret = parse_options(&cmd, &out, argc, argv, err);
	if (ret <= 0)
		return ret;
	if (out == NULL)
		return usage_error(err, "--out KEY.pem is required");
	return sgx_key_generate(out, err);
}
