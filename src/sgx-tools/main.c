/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools: measure, sign and inspect SGX enclaves. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sgx-tools.h"

static const struct {
	const char *name;
	int (*fn)(int, char **, err_t *);
	const char *help;
} cmds[] = {
	{ "gen-key", cmd_gen_key, "--out KEY.pem: new RSA-3072 e=3 signing key" },
	{ "measure", cmd_measure, "(--image FILE --pages SPEC | --elf FILE): print MRENCLAVE" },
	{ "sign", cmd_sign, "--key KEY.pem (--image FILE --pages SPEC | --elf FILE) --out SIG" },
	{ "gendata", cmd_gendata, "(as sign, without --key) --out MATERIAL: the 256 signed bytes" },
	{ "catsig", cmd_catsig,
	  "--material M --signature S --public-key PUB.pem --out SIG: assemble a SIGSTRUCT" },
	{ "dump", cmd_dump, "[--json] SIGSTRUCT: print every field" },
	{ "verify", cmd_verify,
	  "--sigstruct SIG [--image FILE --pages SPEC | --elf FILE]: check a SIGSTRUCT" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sgx-tools COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f,
		"\n'sgx-tools COMMAND --help' for a command's options; see docs/sgx-tools.md.\n");
}

int main(int argc, char **argv)
{
	_cleanup_error_ err_t err = NULL;
	int ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name) != 0)
			continue;
		ret = cmds[i].fn(argc - 1, argv + 1, &err);
		if (ret == 0)
			return 0;
		fprintf(stderr, "sgx-tools %s: %s\n", cmds[i].name, err_msg(err));
		if (ret == USAGE_ERROR) {
			fprintf(stderr, "Try 'sgx-tools %s --help'.\n", cmds[i].name);
			return 2;
		}
		return 1;
	}
	fprintf(stderr, "sgx-tools: unknown command '%s'\n", argv[1]);
	fprintf(stderr, "Try 'sgx-tools --help'.\n");
	return 2;
}
