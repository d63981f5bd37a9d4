/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools gen-key --out KEY.pem */
#include <stdio.h>

#include "sgx-tools.h"

static const char help[] = "Usage: sgx-tools gen-key --out KEY.pem\n"
			   "Writes a new RSA-3072 key with public exponent 3 (PKCS#8 PEM, mode\n"
			   "0600). An existing file is never overwritten.\n";

/* A key's MRSIGNER: that of any SIGSTRUCT it signs (SHA-256 of the modulus). */
static int key_mrsigner(const char *path, uint8_t mrsigner[32], err_t *err)
{
	static const uint8_t no_enclave[32];
	struct sgx_sigstruct ss;
	struct sgx_sign_opts o;
	int ret;

	sgx_sign_opts_default(&o);
	sgx_sigstruct_init(&ss, &o, no_enclave);
	ret = sgx_sigstruct_sign_file(&ss, path, err);
	if (ret < 0)
		return ret;
	sgx_mrsigner(&ss, mrsigner);
	return 0;
}

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
	uint8_t mrsigner[32];
	char hex[65];
	int ret;

	ret = parse_options(&cmd, &out, argc, argv, err);
	if (ret <= 0)
		return ret;
	if (out == NULL)
		return usage_error(err, "--out KEY.pem is required");
	ret = sgx_key_generate(out, err);
	if (ret < 0)
		return ret;
	ret = key_mrsigner(out, mrsigner, err);
	if (ret < 0)
		return err_wrap(err, "wrote %s, but cannot sign with it", out);
	sgx_hex(mrsigner, 32, hex);
	fprintf(stderr, "wrote key %s (RSA-3072, e=3, PKCS#8 PEM, mode 0600, MRSIGNER %s)\n", out,
		hex);
	return 0;
}
