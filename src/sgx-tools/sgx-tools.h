/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools: shared option handling for the subcommands. */
#ifndef SGX_TOOLS_H
#define SGX_TOOLS_H

#include <getopt.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/image.h"
#include "sgx/sigstruct.h"

/* A subcommand's return value for a usage error (exit status 2). */
#define USAGE_ERROR (-10000)

/* Long-only option ids shared by several subcommands. */
enum {
	OPT_IMAGE = 256,
	OPT_PAGES,
	OPT_ELF,
	OPT_SIZE,
	OPT_SSA,
	OPT_HEAP,
	OPT_STACK,
	OPT_TCS,
	OPT_MRENCLAVE,
	OPT_DATE,
	OPT_VENDOR,
	OPT_ATTRIBUTES,
	OPT_XFRM,
	OPT_ATTRIBUTES_MASK,
	OPT_XFRM_MASK,
	OPT_MISCSELECT,
	OPT_MISCMASK,
	OPT_ISVPRODID,
	OPT_ISVSVN,
	OPT_SWDEFINED,
	OPT_KEY,
	OPT_OUT,
	OPT_SIGSTRUCT,
	OPT_MATERIAL,
	OPT_SIGNATURE,
	OPT_PUBKEY,
	OPT_JSON,
	OPT_SERVER,
	OPT_TOKEN_FILE,
	OPT_CLIENT_CERT,
	OPT_CLIENT_KEY,
	OPT_CACERT,
	OPT_V1,
	OPT_TIMEOUT,
	OPT_HELP,
};

#define IMAGE_OPTIONS                                                                              \
	{ "image", required_argument, NULL, OPT_IMAGE },                                           \
	    { "pages", required_argument, NULL, OPT_PAGES },                                       \
	    { "elf", required_argument, NULL, OPT_ELF },                                           \
	    { "size", required_argument, NULL, OPT_SIZE },                                         \
	    { "ssa-frame-size", required_argument, NULL, OPT_SSA },                                \
	    { "heap", required_argument, NULL, OPT_HEAP },                                         \
	    { "stack", required_argument, NULL, OPT_STACK },                                       \
	{                                                                                          \
		"tcs", required_argument, NULL, OPT_TCS                                            \
	}

#define SIGN_OPTIONS                                                                               \
	{ "date", required_argument, NULL, OPT_DATE },                                             \
	    { "vendor", required_argument, NULL, OPT_VENDOR },                                     \
	    { "attributes", required_argument, NULL, OPT_ATTRIBUTES },                             \
	    { "xfrm", required_argument, NULL, OPT_XFRM },                                         \
	    { "attributes-mask", required_argument, NULL, OPT_ATTRIBUTES_MASK },                   \
	    { "xfrm-mask", required_argument, NULL, OPT_XFRM_MASK },                               \
	    { "miscselect", required_argument, NULL, OPT_MISCSELECT },                             \
	    { "miscmask", required_argument, NULL, OPT_MISCMASK },                                 \
	    { "isvprodid", required_argument, NULL, OPT_ISVPRODID },                               \
	    { "isvsvn", required_argument, NULL, OPT_ISVSVN },                                     \
	    { "swdefined", required_argument, NULL, OPT_SWDEFINED },                               \
	{                                                                                          \
		"mrenclave", required_argument, NULL, OPT_MRENCLAVE                                \
	}

/* The layout options, as sign, gendata and verify list them in their help. */
#define HELP_LAYOUT                                                                                \
	"LAYOUT: --size BYTES, --ssa-frame-size N [1], and for --elf: --heap BYTES,\n"             \
	"  --stack BYTES, --tcs N (see 'sgx-tools measure --help').\n"

struct image_args {
	const char *image, *pages, *elf;
	const char *mrenclave; /* hex, instead of an image (sign, gendata) */
	uint64_t size;
	uint32_t ssaframesize;
	struct sgx_layout_opts layout;
	int layout_set;
};

/* Number with an optional K/M/G suffix (powers of 1024); any base strtoull takes. */
int parse_u64(const char *name, const char *s, uint64_t max, uint64_t *out, err_t *err);

/* 1 if opt was an image option (consumed), 0 if not, < 0 on a bad value. */
int image_arg(struct image_args *a, int opt, const char *arg, err_t *err);
/* Loads the image the options name: flat (with --pages) or ELF. */
int image_load(const struct image_args *a, struct sgx_image *img, err_t *err);
/* MRENCLAVE of the image, or the --mrenclave value if allow_hash. */
int image_mrenclave(const struct image_args *a, int allow_hash, uint8_t mrenclave[32], err_t *err);

/* 1 if opt was a SIGSTRUCT field option (consumed), 0 if not, < 0 on a bad value. */
int sign_arg(struct sgx_sign_opts *o, int opt, const char *arg, err_t *err);

/* Sets err for an unknown option or missing argument: a usage error. */
int usage_error(err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A command's own options: called by parse_options() for every option but
 * --help. Returns 1 if opt is one of the command's (arg consumed), 0 if not
 * (parse_options() then reports an unknown option), < 0 on a bad value with
 * err set (usage_error() for a misuse: exit status 2).
 */
typedef int (*option_handler_t)(void *ctx, int opt, const char *arg, err_t *err);

/* What a command's command line looks like. */
struct command_options {
	const struct option *table; /* getopt_long's, ending with { 0 }; --help is added */
	const char *help;	    /* --help prints it on stdout */
	option_handler_t handler;   /* the command's options */
	int operands;		    /* how many positional arguments it takes */
	const char *operand;	    /* what one is, for the error when the count differs */
};

/*
 * The option loop every command shares: getopt_long over argv (argv[0] is
 * the command's name), --help (or -h) prints the help, every other option goes to
 * c->handler(ctx, ...); an unknown option, a missing value or a wrong
 * number of operands is a usage error. Returns the index in argv of the
 * first operand (>= 1), 0 after printing the help (the command is done and
 * succeeds), or < 0 with err set.
 */
int parse_options(const struct command_options *c, void *ctx, int argc, char **argv, err_t *err);
/* The handler of a command whose only option is --json: ctx is an int set to 1 by it. */
int json_option(void *ctx, int opt, const char *arg, err_t *err);
/* Writes a file, mode 0644, replacing it. */
int write_out(const char *path, const void *buf, size_t len, err_t *err);
/*
 * Writes a SIGSTRUCT (write_out) and says so on stderr, with its MRENCLAVE
 * and MRSIGNER: "wrote SIGSTRUCT PATH (MRENCLAVE hex, MRSIGNER hex)".
 * stdout stays the commands' output.
 */
int write_sigstruct(const char *path, const struct sgx_sigstruct *ss, err_t *err);

int cmd_gen_key(int argc, char **argv, err_t *err);
int cmd_measure(int argc, char **argv, err_t *err);
int cmd_sign(int argc, char **argv, err_t *err);
int cmd_gendata(int argc, char **argv, err_t *err);
int cmd_catsig(int argc, char **argv, err_t *err);
int cmd_dump(int argc, char **argv, err_t *err);
int cmd_epc(int argc, char **argv, err_t *err);
int cmd_verify(int argc, char **argv, err_t *err);
int cmd_verify_quote(int argc, char **argv, err_t *err);
int cmd_emulator_root_ca(int argc, char **argv, err_t *err);

#endif
