/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools sign and gendata: a SIGSTRUCT, or the 256 bytes a remote signer signs. */
#include <stdio.h>

#include "sgx-tools.h"

/* The SIGSTRUCT fields and the layout, in both commands' help. */
#define HELP_FIELDS                                                                                \
	"FIELDS (defaults in brackets):\n"                                                         \
	"  --date YYYYMMDD|0     [today, UTC; SOURCE_DATE_EPOCH if set]\n"                         \
	"  --vendor 0|0x8086|intel [0]\n"                                                          \
	"  --attributes N        [0x4: MODE64BIT; 0x6 adds DEBUG]\n"                               \
	"  --attributes-mask N   [0xffffffffffffffff: all attributes must match]\n"                \
	"  --xfrm N              [0x3: x87, SSE]\n"                                                \
	"  --xfrm-mask N         [0x3: other XSAVE features free]\n"                               \
	"  --miscselect N        [0]   --miscmask N [0xffffffff]\n"                                \
	"  --isvprodid N         [0]   --isvsvn N   [0]   --swdefined N [0]\n" HELP_LAYOUT

static const char help_sign[] =
    "Usage: sgx-tools sign --key KEY.pem (--image FILE --pages SPEC | --elf FILE\n"
    "                      | --mrenclave HEX) --out SIGSTRUCT [FIELDS] [LAYOUT]\n"
    "Signs the enclave's MRENCLAVE into a 1808-byte SIGSTRUCT.\n" HELP_FIELDS;
static const char help_gendata[] =
    "Usage: sgx-tools gendata (--image FILE --pages SPEC | --elf FILE | --mrenclave HEX)\n"
    "                         --out MATERIAL [FIELDS] [LAYOUT]\n"
    "Writes the 256 bytes a SIGSTRUCT signature covers (bytes 0-127 and 900-1027),\n"
    "for 'openssl dgst -sha256 -sign KEY.pem' and then 'sgx-tools catsig'. It takes\n"
    "no --key: the key stays with the signer.\n" HELP_FIELDS;

struct sign_args {
	int with_key; /* sign; gendata takes no --key */
	const char *key, *out;
	struct image_args image;
	struct sgx_sign_opts fields;
};

static int sign_option(void *ctx, int opt, const char *arg, err_t *err)
{
	struct sign_args *a = ctx;
	int ret;

	switch (opt) {
	case OPT_KEY:
		if (!a->with_key)
			return usage_error(err, "gendata takes no --key: sign the output instead");
		a->key = arg;
		return 1;
	case OPT_OUT:
		a->out = arg;
		return 1;
	}
	ret = image_arg(&a->image, opt, arg, err);
	if (ret == 0)
		ret = sign_arg(&a->fields, opt, arg, err);
	return ret;
}

static int run(int argc, char **argv, int with_key, err_t *err)
{
	static const struct option table[] = { IMAGE_OPTIONS,
					       SIGN_OPTIONS,
					       { "key", required_argument, NULL, OPT_KEY },
					       { "out", required_argument, NULL, OPT_OUT },
					       { 0 } };
	static const struct command_options sign = { .table = table,
						     .help = help_sign,
						     .handler = sign_option };
	static const struct command_options gendata = { .table = table,
							.help = help_gendata,
							.handler = sign_option };
	uint8_t mrenclave[32], material[SGX_SIGSTRUCT_MATERIAL_SIZE];
	struct sign_args a = { .with_key = with_key };
	char hex[65];
	struct sgx_sigstruct ss;
	int ret;

	sgx_sign_opts_default(&a.fields);
	ret = parse_options(with_key ? &sign : &gendata, &a, argc, argv, err);
	if (ret <= 0)
		return ret;
	if (with_key && a.key == NULL)
		return usage_error(err, "--key KEY.pem is required");
	if (a.out == NULL)
		return usage_error(err, "--out FILE is required");
	ret = image_mrenclave(&a.image, 1, mrenclave, err);
	if (ret < 0)
		return ret;
	sgx_sigstruct_init(&ss, &a.fields, mrenclave);
	if (!with_key) {
		sgx_sigstruct_material(&ss, material);
		ret = write_out(a.out, material, sizeof(material), err);
		if (ret < 0)
			return ret;
		sgx_hex(mrenclave, 32, hex);
		fprintf(stderr, "wrote signing material %s (%zu bytes, MRENCLAVE %s)\n", a.out,
			sizeof(material), hex);
		return 0;
	}
	ret = sgx_sigstruct_sign_file(&ss, a.key, err);
	if (ret < 0)
		return ret;
	return write_sigstruct(a.out, &ss, err);
}

int cmd_sign(int argc, char **argv, err_t *err)
{
	return run(argc, argv, 1, err);
}

int cmd_gendata(int argc, char **argv, err_t *err)
{
	return run(argc, argv, 0, err);
}
