/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools measure: print MRENCLAVE. */
#include <stdio.h>

#include "sgx-tools.h"

static const char help[] =
    "Usage: sgx-tools measure --image FILE --pages SPEC [--size BYTES] [--ssa-frame-size N]\n"
    "       sgx-tools measure --elf FILE [--heap BYTES] [--stack BYTES] [--tcs N]\n"
    "                         [--size BYTES] [--ssa-frame-size N]\n"
    "Prints MRENCLAVE as 64 lowercase hex digits. SPEC: comma-separated TYPE or\n"
    "TYPE*COUNT, TYPE one of tcs, r, rw, rx, rwx. --size defaults to the next power\n"
    "of two of the image; --ssa-frame-size to 1.\n";

static int measure_option(void *ctx, int opt, const char *arg, err_t *err)
{
	return image_arg(ctx, opt, arg, err);
}

int cmd_measure(int argc, char **argv, err_t *err)
{
	static const struct option table[] = { IMAGE_OPTIONS, { 0 } };
	static const struct command_options cmd = { .table = table,
						    .help = help,
						    .handler = measure_option };
	struct image_args a = { 0 };
	uint8_t mrenclave[32];
	char hex[65];
	int ret;

	ret = parse_options(&cmd, &a, argc, argv, err);
	if (ret <= 0)
		return ret;
	ret = image_mrenclave(&a, 0, mrenclave, err);
	if (ret < 0)
		return ret;
	sgx_hex(mrenclave, 32, hex);
	printf("%s\n", hex);
	return 0;
}
