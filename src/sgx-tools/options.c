/* SPDX-License-Identifier: Apache-2.0 */
/* Option values shared by the subcommands: numbers, images, SIGSTRUCT fields. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgx-tools.h"
#include "common/cleanup.h"
#include "sgx/measure.h"
#include "sgx/fileio.h"

int usage_error(err_t *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(err, EINVAL, "%s", msg);
	return USAGE_ERROR;
}

int parse_u64(const char *name, const char *s, uint64_t max, uint64_t *out, err_t *err)
{
	unsigned long long v;
	uint64_t mul = 1;
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		return err_set(err, EINVAL, "--%s '%s': not a number", name, s);
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return err_set(err, EINVAL, "--%s '%s': not a number", name, s);
	if (*end && end[1] == '\0') {
		switch (*end) {
		case 'k':
		case 'K':
			mul = 1ULL << 10;
			end++;
			break;
		case 'm':
		case 'M':
			mul = 1ULL << 20;
			end++;
			break;
		case 'g':
		case 'G':
			mul = 1ULL << 30;
			end++;
			break;
		}
	}
	if (*end)
		return err_set(err, EINVAL, "--%s '%s': not a number", name, s);
	if (v > max / mul)
		return err_set(err, ERANGE, "--%s '%s': above %llu", name, s,
			       (unsigned long long)max);
	*out = v * mul;
	return 0;
}

int image_arg(struct image_args *a, int opt, const char *arg, err_t *err)
{
	uint64_t v;
	int ret = 0;

	switch (opt) {
	case OPT_IMAGE:
		a->image = arg;
		return 1;
	case OPT_PAGES:
		a->pages = arg;
		return 1;
	case OPT_ELF:
		a->elf = arg;
		return 1;
	case OPT_MRENCLAVE:
		a->mrenclave = arg;
		return 1;
	case OPT_SIZE:
		ret = parse_u64("size", arg, SGX_IMAGE_MAX_SIZE, &a->size, err);
		a->layout.size = a->size;
		break;
	case OPT_SSA:
		ret = parse_u64("ssa-frame-size", arg, 1024, &v, err);
		a->ssaframesize = a->layout.ssaframesize = (uint32_t)v;
		if (ret == 0 && v == 0)
			ret = err_set(err, EINVAL, "--ssa-frame-size: must be at least 1");
		break;
	case OPT_HEAP:
		ret = parse_u64("heap", arg, SGX_IMAGE_MAX_SIZE, &a->layout.heap, err);
		a->layout_set = 1;
		break;
	case OPT_STACK:
		ret = parse_u64("stack", arg, SGX_IMAGE_MAX_SIZE, &a->layout.stack, err);
		a->layout_set = 1;
		break;
	case OPT_TCS:
		ret = parse_u64("tcs", arg, 4096, &v, err);
		a->layout.tcs = (unsigned)v;
		a->layout_set = 1;
		break;
	default:
		return 0;
	}
	return ret < 0 ? ret : 1;
}

int image_load(const struct image_args *a, struct sgx_image *img, err_t *err)
{
	if (a->elf && a->image)
		return usage_error(err, "--elf and --image are exclusive");
	if (a->elf) {
		if (a->pages)
			return usage_error(err, "--pages applies to --image, not --elf");
		return sgx_image_from_elf(img, a->elf, &a->layout, err);
	}
	if (a->image == NULL)
		return usage_error(
		    err, "an enclave is needed: --image FILE --pages SPEC, or --elf FILE");
	if (a->pages == NULL)
		return usage_error(err, "--image needs --pages SPEC (e.g. tcs,rwx*5)");
	if (a->layout_set)
		return usage_error(err, "--heap, --stack and --tcs apply to --elf only");
	return sgx_image_from_flat(img, a->image, a->pages, a->size, a->ssaframesize, err);
}

static int parse_hash(const char *s, uint8_t out[32], err_t *err)
{
	if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64)
		return err_set(err, EINVAL, "--mrenclave '%s': expected 64 hex digits", s);
	for (int i = 0; i < 32; i++) {
		unsigned v;

		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
	return 0;
}

int image_mrenclave(const struct image_args *a, int allow_hash, uint8_t mrenclave[32], err_t *err)
{
	struct sgx_image img;
	int ret;

	if (a->mrenclave) {
		if (!allow_hash)
			return usage_error(err, "--mrenclave is not an option of this command");
		if (a->image || a->elf)
			return usage_error(err, "--mrenclave excludes --image and --elf");
		return parse_hash(a->mrenclave, mrenclave, err);
	}
	ret = image_load(a, &img, err);
	if (ret < 0)
		return ret;
	ret = sgx_image_measure(&img, mrenclave, err);
	sgx_image_free(&img);
	return ret;
}

static int parse_field(const char *name, const char *s, uint64_t max, uint64_t *v, err_t *err)
{
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		return err_set(err, EINVAL, "--%s '%s': not a number", name, s);
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return err_set(err, EINVAL, "--%s '%s': not a number", name, s);
	if (*v > max)
		return err_set(err, ERANGE, "--%s '%s': above 0x%llx", name, s,
			       (unsigned long long)max);
	return 0;
}

int sign_arg(struct sgx_sign_opts *o, int opt, const char *arg, err_t *err)
{
	uint64_t v = 0;
	int ret;

	switch (opt) {
	case OPT_DATE:
		ret = sgx_parse_date(arg, &o->date, err);
		return ret < 0 ? ret : 1;
	case OPT_VENDOR:
		if (strcmp(arg, "intel") == 0) {
			o->vendor = SGX_SIGSTRUCT_VENDOR_INTEL;
			return 1;
		}
		ret = parse_field("vendor", arg, UINT32_MAX, &v, err);
		if (ret == 0 && v != 0 && v != SGX_SIGSTRUCT_VENDOR_INTEL)
			ret =
			    err_set(err, EINVAL, "--vendor '%s': must be 0 or 0x8086 (intel)", arg);
		o->vendor = (uint32_t)v;
		break;
	case OPT_ATTRIBUTES:
		ret = parse_field("attributes", arg, UINT64_MAX, &o->attributes, err);
		break;
	case OPT_XFRM:
		ret = parse_field("xfrm", arg, UINT64_MAX, &o->xfrm, err);
		break;
	case OPT_ATTRIBUTES_MASK:
		ret = parse_field("attributes-mask", arg, UINT64_MAX, &o->attributes_mask, err);
		break;
	case OPT_XFRM_MASK:
		ret = parse_field("xfrm-mask", arg, UINT64_MAX, &o->xfrm_mask, err);
		break;
	case OPT_MISCSELECT:
		ret = parse_field("miscselect", arg, UINT32_MAX, &v, err);
		o->miscselect = (uint32_t)v;
		break;
	case OPT_MISCMASK:
		ret = parse_field("miscmask", arg, UINT32_MAX, &v, err);
		o->miscmask = (uint32_t)v;
		break;
	case OPT_ISVPRODID:
		ret = parse_field("isvprodid", arg, UINT16_MAX, &v, err);
		o->isvprodid = (uint16_t)v;
		break;
	case OPT_ISVSVN:
		ret = parse_field("isvsvn", arg, UINT16_MAX, &v, err);
		o->isvsvn = (uint16_t)v;
		break;
	case OPT_SWDEFINED:
		ret = parse_field("swdefined", arg, UINT32_MAX, &v, err);
		o->swdefined = (uint32_t)v;
		break;
	default:
		return 0;
	}
	return ret < 0 ? ret : 1;
}

/* The usage error for getopt_long's '?' or ':' (optstring starts with ':'). */
static int option_error(int c, char **argv, err_t *err)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(err, "option '%s' needs a value", arg);
	return usage_error(err, "unknown option '%s'", arg);
}

static int check_operands(const struct command_options *c, int argc, char **argv, err_t *err)
{
	int n = argc - optind;

	if (n == c->operands)
		return 0;
	if (c->operands == 0)
		return usage_error(err, "unexpected argument '%s'", argv[optind]);
	if (c->operands == 1)
		return usage_error(err, "expected one %s", c->operand);
	return usage_error(err, "expected %d %ss", c->operands, c->operand);
}

int parse_options(const struct command_options *c, void *ctx, int argc, char **argv, err_t *err)
{
	static const struct option help = { "help", no_argument, NULL, 'h' };
	_cleanup_free_ struct option *table = NULL;
	size_t n = 0;
	int opt, ret;

	/* The command's table, then --help, then the end. */
	while (c->table[n].name)
		n++;
	table = calloc(n + 2, sizeof(*table));
	if (table == NULL)
		return err_set(err, ENOMEM, "out of memory");
	memcpy(table, c->table, n * sizeof(*table));
	table[n] = help;
	while ((opt = getopt_long(argc, argv, ":h", table, NULL)) != -1) {
		if (opt == 'h') {
			fputs(c->help, stdout);
			return 0;
		}
		if (opt == '?' || opt == ':')
			return option_error(opt, argv, err);
		ret = c->handler(ctx, opt, optarg, err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return option_error(opt, argv, err);
	}
	ret = check_operands(c, argc, argv, err);
	if (ret < 0)
		return ret;
	return optind;
}

int json_option(void *ctx, int opt, const char *arg, err_t *err)
{
	int *json = ctx;

	(void)arg;
	(void)err;
	if (opt != OPT_JSON)
		return 0;
	*json = 1;
	return 1;
}

int write_out(const char *path, const void *buf, size_t len, err_t *err)
{
	return sgx_write_file(path, buf, len, 0644, 0, err);
}

int write_sigstruct(const char *path, const struct sgx_sigstruct *ss, err_t *err)
{
	char mrenclave[65], mrsigner[65];
	uint8_t signer[32];
	int ret;

	ret = write_out(path, ss, sizeof(*ss), err);
	if (ret < 0)
		return ret;
	sgx_hex(ss->body.enclavehash, 32, mrenclave);
	sgx_mrsigner(ss, signer);
	sgx_hex(signer, 32, mrsigner);
	fprintf(stderr, "wrote SIGSTRUCT %s (MRENCLAVE %s, MRSIGNER %s)\n", path, mrenclave,
		mrsigner);
	return 0;
}
