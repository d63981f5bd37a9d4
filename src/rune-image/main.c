// SPDX-License-Identifier: Apache-2.0
/*
 * rune-image: builds TEE images for the LibOS (docs/libos.md).
 *
 *   rune-image build (--rootfs DIR | --bundle DIR)
 *                    (--key KEY.pem | --sign-server URL [--token-file F] [--cacert CA]
 *                     [--client-cert PEM --client-key PEM]) [--trusted PATH]...
 *                    [--allowed PATH]... [--env K=V]... [--host-argv] [--heap N] [--stack N] [--threads N]
 *                    [--debug] [--attestation none|dcap] [--no-default-trusted]
 *                    [--ratls-cert PATH --ratls-key PATH]
 *                    [--libos ELF] [--pal SO]
 *                    [-- PROG ARGS...]
 *   rune-image convert (--key KEY.pem | --sign-server URL ...) [--heap N] [--threads N] [--debug] [--libos ELF]
 *                      [--pal SO] [--max-size N] [--tag REPO:TAG] SRC DST
 *   rune-image inspect ROOTFS
 *
 * Trusted: the entrypoint, --trusted paths, and (unless --no-default-trusted)
 * every regular file under /bin /sbin /lib* /usr /etc. Allowed (--allowed):
 * paths passed through to the host's files, unprotected.
 * Writes ROOTFS/.rune/{libos.elf,libos.sig,manifest} and prints MRENCLAVE
 * and MRSIGNER. With --bundle it also sets ENCLAVE_TYPE,
 * ENCLAVE_RUNTIME_PATH (the bare name liberpal-libos.so, which rune looks
 * up in its allowed PAL directories, or the --pal path) and
 * ENCLAVE_RUNTIME_ARGS in the bundle's config.json, and process.args to the entrypoint argv (default: the
 * config's process.args). The LibOS enclave is found relative to this
 * program (build tree or installed), unless --libos names it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sgx/sigstruct.h"
#include "signd/client.h"
#include "teeimage/carrier.h"
#include "teeimage/convert.h"
#include "teeimage/teeimage.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rune-image build (--rootfs DIR | --bundle DIR)\n"
		"         (--key KEY.pem | --sign-server URL [--token-file F] [--cacert CA]\n"
		"                          [--client-cert PEM --client-key PEM])\n"
		"         [--trusted PATH]... [--allowed PATH]... [--env K=V]... [--host-argv]\n"
		"         [--heap BYTES]"
		" [--stack BYTES] [--threads N] [--debug] [--attestation none|dcap]\n"
		"         [--no-default-trusted] [--ratls-cert PATH --ratls-key PATH]\n"
		"         [--libos ELF] [--pal SO] [-- PROG ARGS...]\n"
		"       rune-image carrier --bundle DIR\n"
		"         (--key KEY.pem | --client | --sign-server URL [--token-file F] [--cacert "
		"CA]\n"
		"                                     [--client-cert PEM --client-key PEM])\n"
		"         [--cache DIR] [--cache-entries N] [--cache-size BYTES] [--layer DIR]...\n"
		"         [--debug] [--libos ELF] [--pal SO]\n"
		"       rune-image convert (--key KEY.pem | --sign-server URL [--token-file F] "
		"[--cacert CA]\n"
		"                                     [--client-cert PEM --client-key PEM])\n"
		"         [--heap BYTES] [--threads N] [--debug]\n"
		"         [--libos ELF] [--pal SO] [--max-size BYTES] [--tag REPO:TAG] SRC.tar "
		"DST.tar\n"
		"       rune-image inspect ROOTFS\n");
}

/* Long options without a letter. */
enum { OPT_RATLS_CERT = 0x100, OPT_RATLS_KEY };

/* The signature service's options, shared by build and carrier. */
/* clang-format off */
#define SERVER_LONGOPTS                                                                            \
	{ "sign-server", required_argument, NULL, 's' },                                           \
	{ "token-file", required_argument, NULL, 'K' },                                            \
	{ "client-cert", required_argument, NULL, 'C' },                                           \
	{ "client-key", required_argument, NULL, 'Y' },                                            \
	{ "cacert", required_argument, NULL, 'R' }
/* clang-format on */

/* 1 if c was one of SERVER_LONGOPTS (taken into so, *token_file). */
static int server_opt(int c, struct signd_client_opts *so, const char **token_file)
{
	switch (c) {
	case 's':
		so->url = optarg;
		return 1;
	case 'K':
		*token_file = optarg;
		return 1;
	case 'C':
		so->client_cert = optarg;
		return 1;
	case 'Y':
		so->client_key = optarg;
		return 1;
	case 'R':
		so->cacert = optarg;
		return 1;
	}
	return 0;
}

/* The unsigned LibOS enclave: the --libos file, else this installation's. */
static int read_libos(const char *given, void **elf, size_t *len, err_t *err)
{
	_cleanup_free_ char *found = given ? NULL : tee_libos_default();

	if (!given && !found)
		return err_set(err, ENOENT,
			       "the LibOS enclave (libos.elf) was not found next to this program: "
			       "give --libos");
	return tee_read_file(given ? given : found, 64 << 20, elf, len, err);
}

/* --sign-server: the SIGSTRUCT signed by the signature service (checked by the client). */
static int sign_by_server(struct sgx_sigstruct *ss, void *arg, err_t *err)
{
	const struct signd_client_opts *o = arg;
	uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE];
	int ret;

	sgx_sigstruct_material(ss, material);
	ret = signd_client_sigstruct(o, material, ss, err);
	return ret < 0 ? err_wrap(err, "sign by %s", o->url) : 0;
}

/* With --sign-server: its token read and the signer set; 0, or -errno with err set. */
static int use_server(struct signd_client_opts *so, const char *token_file, char **token,
		      int (**sign)(struct sgx_sigstruct *, void *, err_t *), void **arg, err_t *err)
{
	if (!so->url)
		return 0;
	if (token_file && signd_client_read_token(token_file, token, err) < 0)
		return -EINVAL;
	so->token = *token;
	*sign = sign_by_server;
	*arg = so;
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rootfs", required_argument, NULL, 'r' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "trusted", required_argument, NULL, 't' },
		{ "allowed", required_argument, NULL, 'a' },
		{ "env", required_argument, NULL, 'e' },
		{ "host-argv", no_argument, NULL, 'A' },
		{ "heap", required_argument, NULL, 'H' },
		{ "stack", required_argument, NULL, 'S' },
		{ "threads", required_argument, NULL, 'T' },
		{ "debug", no_argument, NULL, 'd' },
		{ "attestation", required_argument, NULL, 'Q' },
		{ "ratls-cert", required_argument, NULL, OPT_RATLS_CERT },
		{ "ratls-key", required_argument, NULL, OPT_RATLS_KEY },
		SERVER_LONGOPTS,
		{ "libos", required_argument, NULL, 'L' },
		{ "pal", required_argument, NULL, 'P' },
		{ "no-default-trusted", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tee_build_opts o = { 0 };
	struct signd_client_opts so = { 0 };
	const char *token_file = NULL;
	_cleanup_free_ char *token = NULL;
	struct tee_build_result res;
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *libos = NULL, *pal = NULL, *rootfs = NULL;
	_cleanup_free_ void *elf = NULL;
	const char *bundle = NULL, **trusted, **allowed, **env;
	char **prog = NULL, hex[65];
	size_t ntrusted = 0, nallowed = 0, nenv = 0, elf_len;
	uint64_t v;
	int c;

	trusted = calloc(argc + 1, sizeof(char *));
	allowed = calloc(argc + 1, sizeof(char *));
	env = calloc(argc + 1, sizeof(char *));
	if (!trusted || !allowed || !env)
		return 1;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (server_opt(c, &so, &token_file))
			continue;
		switch (c) {
		case 'r':
			free(rootfs);
			rootfs = strdup(optarg);
			break;
		case 'b':
			bundle = optarg;
			break;
		case 'k':
			o.key_path = optarg;
			break;
		case 't':
			trusted[ntrusted++] = optarg;
			break;
		case 'a':
			allowed[nallowed++] = optarg;
			break;
		case 'e':
			env[nenv++] = optarg;
			break;
		case 'A':
			o.host_argv = 1;
			break;
		case 'H':
		case 'S':
			if (tee_parse_size(optarg, &v) < 0) {
				fprintf(stderr, "rune-image: bad size '%s'\n", optarg);
				return 2;
			}
			*(c == 'H' ? &o.heap : &o.stack) = v;
			break;
		case 'T':
			if (tee_parse_size(optarg, &v) < 0 || v == 0 || v > 4096) {
				fprintf(stderr, "rune-image: bad thread count '%s'\n", optarg);
				return 2;
			}
			o.threads = (unsigned)v;
			break;
		case 'd':
			o.debug = 1;
			break;
		case 'Q':
			if (strcmp(optarg, "none") && strcmp(optarg, "dcap")) {
				fprintf(stderr, "rune-image: --attestation %s: none or dcap\n",
					optarg);
				return 2;
			}
			o.attestation = optarg;
			break;
		case OPT_RATLS_CERT:
			o.ratls_cert = optarg;
			break;
		case OPT_RATLS_KEY:
			o.ratls_key = optarg;
			break;
		case 'N':
			o.no_default_trusted = 1;
			break;
		case 'L':
			free(libos);
			libos = strdup(optarg);
			break;
		case 'P':
			free(pal);
			pal = realpath(optarg, NULL);
			if (!pal) {
				fprintf(stderr, "rune-image: --pal %s: %m\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		prog = argv + optind;
	if ((!rootfs == !bundle) || !o.key_path == !so.url) {
		usage(stderr);
		return 2;
	}
	if (use_server(&so, token_file, &token, &o.sign, &o.sign_arg, &err) < 0)
		goto fail;
	if (bundle && tee_bundle_read(bundle, &rootfs, &prog, &err) < 0)
		goto fail;
	if (!prog || !prog[0]) {
		fprintf(stderr, "rune-image: no entrypoint (give it after --)\n");
		return 2;
	}
	/* A bare name: where the host keeps its PALs is the host's business. */
	if (bundle && !pal)
		pal = strdup("liberpal-libos.so");
	if (read_libos(libos, &elf, &elf_len, &err) < 0)
		goto fail;
	o.rootfs = rootfs;
	o.argv = (const char *const *)prog;
	o.trusted = trusted;
	o.allowed = allowed;
	o.env = nenv ? env : NULL;
	o.libos_elf = elf;
	o.libos_len = elf_len;
	if (tee_build(&o, &res, &err) < 0)
		goto fail;
	if (bundle && tee_bundle_enclave(bundle, pal, (const char *const *)prog, NULL, &err) < 0)
		goto fail;
	sgx_hex(res.mrenclave, 32, hex);
	printf("MRENCLAVE: %s\n", hex);
	sgx_hex(res.mrsigner, 32, hex);
	printf("MRSIGNER: %s\n", hex);
	free(trusted);
	free(allowed);
	free(env);
	return 0;
fail:
	fprintf(stderr, "rune-image: %s\n", err_msg(err));
	free(trusted);
	free(allowed);
	free(env);
	return 1;
}

/*
 * carrier: what the shim runs at Create for an enclave container (docs/shim.md):
 * the bundle's TEE files from the node's cache, built and signed on a miss.
 * Prints "own", "cached KEY" or "built KEY"; a failure is one line on stderr.
 */
static int cmd_carrier(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "key", required_argument, NULL, 'k' },
		{ "client", no_argument, NULL, 'c' },
		SERVER_LONGOPTS,
		{ "cache", required_argument, NULL, 'D' },
		{ "cache-entries", required_argument, NULL, 'E' },
		{ "cache-size", required_argument, NULL, 'Z' },
		{ "layer", required_argument, NULL, 'l' },
		{ "debug", no_argument, NULL, 'd' },
		{ "libos", required_argument, NULL, 'L' },
		{ "pal", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct tee_carrier_opts o = { .pal = "liberpal-libos.so" };
	struct signd_client_opts so = { 0 };
	struct tee_carrier_result res;
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *libos = NULL, *token = NULL;
	_cleanup_free_ const char **layers = calloc(argc + 1, sizeof(char *));
	_cleanup_free_ void *elf = NULL;
	const char *token_file = NULL;
	int c, client = 0;
	size_t nlayers = 0;
	uint64_t v;

	if (!layers)
		return 1;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (server_opt(c, &so, &token_file))
			continue;
		switch (c) {
		case 'b':
			o.bundle = optarg;
			break;
		case 'k':
			o.key_path = optarg;
			break;
		case 'c':
			client = 1;
			break;
		case 'D':
			o.cache_dir = optarg;
			break;
		case 'E':
		case 'Z':
			if (tee_parse_size(optarg, &v) < 0 || v == 0 || (c == 'E' && v > 1000000)) {
				fprintf(stderr, "rune-image: bad --%s '%s'\n",
					c == 'E' ? "cache-entries" : "cache-size", optarg);
				return 2;
			}
			if (c == 'E')
				o.max_entries = (unsigned)v;
			else
				o.max_bytes = v;
			break;
		case 'l':
			layers[nlayers++] = optarg;
			break;
		case 'd':
			o.debug = 1;
			break;
		case 'L':
			free(libos);
			libos = strdup(optarg);
			break;
		case 'P':
			o.pal = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.bundle || optind < argc || (!!o.key_path + !!so.url + client) != 1) {
		usage(stderr);
		return 2;
	}
	o.method = client ? TEE_SIGN_CLIENT : o.key_path ? TEE_SIGN_LOCAL_KEY : TEE_SIGN_SERVER;
	o.layers = layers;
	if (use_server(&so, token_file, &token, &o.sign, &o.sign_arg, &err) < 0)
		goto fail;
	o.signer_id = so.url;
	if (read_libos(libos, &elf, &o.libos_len, &err) < 0)
		goto fail;
	o.libos_elf = elf;
	if (tee_carrier(&o, &res, &err) < 0)
		goto fail;
	if (res.own)
		printf("own\n");
	else
		printf("%s %s\n", res.cached ? "cached" : "built", res.key);
	return 0;
fail:
	fprintf(stderr, "rune-image: %s\n", err_msg(err));
	return 1;
}

/*
 * convert: an image archive (docker save, podman save --format oci-archive,
 * ctr images export) into the same kind of archive whose new top layer holds
 * the signed TEE files and whose config runs them (docs/libos.md).
 */
static int cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "heap", required_argument, NULL, 'H' },
		{ "threads", required_argument, NULL, 'T' },
		{ "debug", no_argument, NULL, 'd' },
		{ "libos", required_argument, NULL, 'L' },
		{ "pal", required_argument, NULL, 'P' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "tag", required_argument, NULL, 't' },
		SERVER_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct tee_convert_opts o = { 0 };
	struct tee_convert_result res;
	struct signd_client_opts so = { 0 };
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ void *elf = NULL;
	_cleanup_free_ char *token = NULL;
	const char *libos = NULL, *token_file = NULL;
	char hex[65];
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (server_opt(c, &so, &token_file))
			continue;
		switch (c) {
		case 'k':
			o.key_path = optarg;
			break;
		case 'H':
		case 'T':
		case 'M':
			if (tee_parse_size(optarg, &v) < 0 ||
			    (c != 'H' && (v == 0 || (c == 'T' && v > 4096)))) {
				fprintf(stderr, "rune-image: bad --%s '%s'\n",
					c == 'H'   ? "heap"
					: c == 'T' ? "threads"
						   : "max-size",
					optarg);
				return 2;
			}
			if (c == 'H')
				o.heap = v;
			else if (c == 'T')
				o.threads = (unsigned)v;
			else
				o.max_bytes = v;
			break;
		case 'd':
			o.debug = 1;
			break;
		case 'L':
			libos = optarg;
			break;
		case 'P':
			o.pal = optarg;
			break;
		case 't':
			if (!*optarg || strpbrk(optarg, " \t\n@")) {
				fprintf(stderr, "rune-image: bad --tag '%s'\n", optarg);
				return 2;
			}
			o.tag = optarg;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!o.key_path == !so.url || argc - optind != 2) {
		usage(stderr);
		return 2;
	}
	if (use_server(&so, token_file, &token, &o.sign, &o.sign_arg, &err) < 0)
		goto fail;
	o.src = argv[optind];
	o.dst = argv[optind + 1];
	if (read_libos(libos, &elf, &o.libos_len, &err) < 0)
		goto fail;
	o.libos_elf = elf;
	if (tee_convert(&o, &res, &err) < 0)
		goto fail;
	printf("FORMAT: %s\nCONFIG: %s\nLAYER: %s\n", res.format, res.config_digest,
	       res.layer_diff_id);
	sgx_hex(res.mrenclave, 32, hex);
	printf("MRENCLAVE: %s\n", hex);
	sgx_hex(res.mrsigner, 32, hex);
	printf("MRSIGNER: %s\n", hex);
	return 0;
fail:
	fprintf(stderr, "rune-image: %s\n", err_msg(err));
	return 1;
}

static int cmd_inspect(int argc, char **argv)
{
	_cleanup_error_ err_t err = NULL;
	struct tee_inspect_result r;
	struct sgx_sign_opts so;
	uint8_t mrs[32];
	char hex[65];

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (tee_inspect(argv[1], &r, &err) < 0) {
		fprintf(stderr, "rune-image: %s\n", err_msg(err));
		return 1;
	}
	fputs(r.manifest, stdout);
	sgx_hex(r.mrenclave, 32, hex);
	printf("MRENCLAVE: %s\n", hex);
	sgx_mrsigner(&r.sig, mrs);
	sgx_hex(mrs, 32, hex);
	printf("MRSIGNER: %s\n", hex);
	sgx_sigstruct_get_opts(&r.sig, &so);
	printf("ATTRIBUTES: %#llx%s XFRM: %#llx ISVPRODID: %u ISVSVN: %u\n",
	       (unsigned long long)so.attributes, (so.attributes & 2) ? " (DEBUG)" : "",
	       (unsigned long long)so.xfrm, so.isvprodid, so.isvsvn);
	printf("SIGSTRUCT: %s, %s\n", r.sig_valid ? "signature valid" : "signature INVALID",
	       r.sig_matches ? "signs this enclave" : "signs ANOTHER enclave");
	free(r.manifest);
	return r.sig_valid && r.sig_matches ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "build"))
		return cmd_build(argc - 1, argv + 1);
	if (!strcmp(argv[1], "carrier"))
		return cmd_carrier(argc - 1, argv + 1);
	if (!strcmp(argv[1], "convert"))
		return cmd_convert(argc - 1, argv + 1);
	if (!strcmp(argv[1], "inspect"))
		return cmd_inspect(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "rune-image: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
