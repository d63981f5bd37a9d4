/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools verify: would EINIT accept this SIGSTRUCT (for this image, these SECS values)? */
#include <stdio.h>
#include <string.h>

#include "sgx-tools.h"
#include "sgx/loader.h"

static const char help[] =
    "Usage: sgx-tools verify --sigstruct SIG [--image FILE --pages SPEC | --elf FILE]\n"
    "                        [LAYOUT] [--secs-attributes N] [--secs-xfrm N]\n"
    "                        [--secs-miscselect N]\n"
    "Exits 0 only if the SIGSTRUCT passes EINIT's checks (headers, exponent,\n"
    "q1/q2, RSA signature) and, given an enclave, its enclave hash is the\n"
    "enclave's MRENCLAVE. The --secs-* values (default: the SIGSTRUCT's own)\n"
    "are checked against its masked attributes, xfrm and miscselect as EINIT\n"
    "does; a failure names the EINIT error class. Prints mrenclave and mrsigner.\n" HELP_LAYOUT;

enum { OPT_SECS_ATTRIBUTES = 1000, OPT_SECS_XFRM, OPT_SECS_MISCSELECT };

struct secs_args {
	uint64_t attributes, xfrm, miscselect;
	int have_attributes, have_xfrm, have_miscselect;
};

/* 1 if opt was a --secs-* option, 0 if not, < 0 on a bad value. */
static int secs_arg(struct secs_args *s, int opt, const char *arg, err_t *err)
{
	int ret;

	switch (opt) {
	case OPT_SECS_ATTRIBUTES:
		s->have_attributes = 1;
		ret = parse_u64("secs-attributes", arg, UINT64_MAX, &s->attributes, err);
		break;
	case OPT_SECS_XFRM:
		s->have_xfrm = 1;
		ret = parse_u64("secs-xfrm", arg, UINT64_MAX, &s->xfrm, err);
		break;
	case OPT_SECS_MISCSELECT:
		s->have_miscselect = 1;
		ret = parse_u64("secs-miscselect", arg, UINT32_MAX, &s->miscselect, err);
		break;
	default:
		return 0;
	}
	return ret < 0 ? ret : 1;
}

struct verify_args {
	const char *path;
	struct image_args image;
	struct secs_args secs;
};

static int verify_option(void *ctx, int opt, const char *arg, err_t *err)
{
	struct verify_args *a = ctx;
	int ret;

	if (opt == OPT_SIGSTRUCT) {
		a->path = arg;
		return 1;
	}
	ret = image_arg(&a->image, opt, arg, err);
	if (ret == 0)
		ret = secs_arg(&a->secs, opt, arg, err);
	return ret;
}

int cmd_verify(int argc, char **argv, err_t *err)
{
	static const struct option table[] = {
		IMAGE_OPTIONS,
		{ "sigstruct", required_argument, NULL, OPT_SIGSTRUCT },
		{ "secs-attributes", required_argument, NULL, OPT_SECS_ATTRIBUTES },
		{ "secs-xfrm", required_argument, NULL, OPT_SECS_XFRM },
		{ "secs-miscselect", required_argument, NULL, OPT_SECS_MISCSELECT },
		{ 0 }
	};
	static const struct command_options cmd = { .table = table,
						    .help = help,
						    .handler = verify_option };
	struct verify_args a = { 0 };
	const struct secs_args *s = &a.secs;
	struct sgx_sigstruct ss;
	uint8_t mrenclave[32], signer[32];
	char hex[65];
	int ret;

	ret = parse_options(&cmd, &a, argc, argv, err);
	if (ret <= 0)
		return ret;
	if (a.path == NULL)
		return usage_error(err, "--sigstruct SIG is required");
	ret = sgx_sigstruct_load(&ss, a.path, err);
	if (ret < 0)
		return ret;
	/* Without an enclave, the hash is checked against the SIGSTRUCT's own. */
	memcpy(mrenclave, ss.body.enclavehash, 32);
	if (a.image.image || a.image.elf || a.image.pages) {
		ret = image_mrenclave(&a.image, 0, mrenclave, err);
		if (ret < 0)
			return ret;
	}
	ret =
	    sgx_einit_check(&ss, mrenclave, s->have_attributes ? s->attributes : ss.body.attributes,
			    s->have_xfrm ? s->xfrm : ss.body.xfrm,
			    s->have_miscselect ? (uint32_t)s->miscselect : ss.body.miscselect, err);
	if (ret > 0)
		return err_wrap(err, "%s: EINIT would fail with %s", a.path,
				sgx_return_code_name(ret));
	if (ret < 0)
		return err_wrap(err, "%s", a.path);
	sgx_hex(ss.body.enclavehash, 32, hex);
	printf("mrenclave: %s\n", hex);
	sgx_mrsigner(&ss, signer);
	sgx_hex(signer, 32, hex);
	printf("mrsigner: %s\n", hex);
	return 0;
}
