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

int cmd_measure(int argc, char **argv, err_t *err)
{
	static const struct option opts[] = { IMAGE_OPTIONS,
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	struct image_args a = { 0 };
	uint8_t mrenclave[32];
	char hex[65];
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return 0;
		}
		ret = image_arg(&a, c, optarg, err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			return option_error(c, argv, err);
	}
	if (no_operands(argc, argv, err) < 0)
		return USAGE_ERROR;
	ret = image_mrenclave(&a, 0, mrenclave, err);
	if (ret < 0)
		return ret;
	sgx_hex(mrenclave, 32, hex);
	printf("%s\n", hex);
	return 0;
}
