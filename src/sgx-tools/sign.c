/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools sign and gendata: a SIGSTRUCT, or the 256 bytes a remote signer signs. */
#include <stdio.h>

#include "sgx-tools.h"

static const char help_sign[] =
    "Usage: sgx-tools sign --key KEY.pem (--image FILE --pages SPEC | --elf FILE\n"
    "                      | --mrenclave HEX) --out SIGSTRUCT [FIELDS] [LAYOUT]\n"
    "Signs the enclave's MRENCLAVE into a 1808-byte SIGSTRUCT.\n";
static const char help_gendata[] =
    "Usage: sgx-tools gendata (--image FILE --pages SPEC | --elf FILE | --mrenclave HEX)\n"
    "                         --out MATERIAL [FIELDS] [LAYOUT]\n"
    "Writes the 256 bytes a SIGSTRUCT signature covers (bytes 0-127 and 900-1027),\n"
    "for 'openssl dgst -sha256 -sign KEY.pem' and then 'sgx-tools catsig'.\n";
static const char help_fields[] =
    "FIELDS (defaults in brackets):\n"
    "  --date YYYYMMDD|0     [today, UTC; SOURCE_DATE_EPOCH if set]\n"
    "  --vendor 0|0x8086|intel [0]\n"
    "  --attributes N        [0x4: MODE64BIT; 0x6 adds DEBUG]\n"
    "  --attributes-mask N   [0xffffffffffffffff: all attributes must match]\n"
    "  --xfrm N              [0x3: x87, SSE]\n"
    "  --xfrm-mask N         [0x3: other XSAVE features free]\n"
    "  --miscselect N        [0]   --miscmask N [0xffffffff]\n"
    "  --isvprodid N         [0]   --isvsvn N   [0]   --swdefined N [0]\n"
    "LAYOUT: --size BYTES, --ssa-frame-size N [1], and for --elf: --heap BYTES,\n"
    "  --stack BYTES, --tcs N (see 'sgx-tools measure --help').\n";

static int run(int argc, char **argv, int with_key, err_t *err)
{
	static const struct option opts[] = { IMAGE_OPTIONS,
					      SIGN_OPTIONS,
					      { "key", required_argument, NULL, OPT_KEY },
					      { "out", required_argument, NULL, OPT_OUT },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	uint8_t mrenclave[32], material[SGX_SIGSTRUCT_MATERIAL_SIZE];
	const char *key = NULL, *out = NULL;
	struct image_args a = { 0 };
	struct sgx_sigstruct ss;
	struct sgx_sign_opts o;
	int c, ret;

	sgx_sign_opts_default(&o);
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(with_key ? help_sign : help_gendata, stdout);
			fputs(help_fields, stdout);
			return 0;
		case OPT_KEY:
			if (!with_key)
				return usage_error(
				    err, "gendata takes no --key: sign the output instead");
			key = optarg;
			continue;
		case OPT_OUT:
			out = optarg;
			continue;
		}
		ret = image_arg(&a, c, optarg, err);
		if (ret == 0)
			ret = sign_arg(&o, c, optarg, err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return option_error(c, argv, err);
	}
	if (no_operands(argc, argv, err) < 0)
		return USAGE_ERROR;
	if (with_key && key == NULL)
		return usage_error(err, "--key KEY.pem is required");
	if (out == NULL)
		return usage_error(err, "--out FILE is required");
	ret = image_mrenclave(&a, 1, mrenclave, err);
	if (ret < 0)
		return ret;
	sgx_sigstruct_init(&ss, &o, mrenclave);
	if (!with_key) {
		sgx_sigstruct_material(&ss, material);
		return write_out(out, material, sizeof(material), err);
	}
	ret = sgx_sigstruct_sign_file(&ss, key, err);
	if (ret < 0)
		return ret;
	return write_out(out, &ss, sizeof(ss), err);
}

int cmd_sign(int argc, char **argv, err_t *err)
{
	return run(argc, argv, 1, err);
}

int cmd_gendata(int argc, char **argv, err_t *err)
{
	return run(argc, argv, 0, err);
}
