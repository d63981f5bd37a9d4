// SPDX-License-Identifier: Apache-2.0
/*
 * rune-image: builds TEE images for the LibOS (docs/libos.md).
 *
 *   rune-image build (--rootfs DIR | --bundle DIR)
 *                    (--key KEY.pem | --sign-server URL [--token-file F] [--cacert CA]
 *                     [--client-cert PEM --client-key PEM]) [--trusted PATH]...
 *                    [--allowed PATH]... [--env K=V]... [--host-argv] [--heap N] [--stack N] [--threads N]
 *                    [--debug] [--attestation none|dcap] [--no-default-trusted]
 *                    [--libos ELF] [--pal SO]
 *                    [-- PROG ARGS...]
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
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sgx/sigstruct.h"
#include "signd/client.h"
#include "teeimage/teeimage.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: rune-image build (--rootfs DIR | --bundle DIR)\n"
		   "         (--key KEY.pem | --sign-server URL [--token-file F] [--cacert CA]\n"
		   "                          [--client-cert PEM --client-key PEM])\n"
		   "         [--trusted PATH]... [--allowed PATH]... [--env K=V]... [--host-argv]\n"
		   "         [--heap BYTES]"
		   " [--stack BYTES] [--threads N] [--debug] [--attestation none|dcap]\n"
		   "         [--no-default-trusted] [--libos ELF] [--pal SO] [-- PROG ARGS...]\n"
		   "       rune-image inspect ROOTFS\n");
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end == 'K' || *end == 'k')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		n <<= 30, end++;
	if (*end)
		return -1;
	*v = n;
	return 0;
}

/* DIR/rel for the first rel that exists next to this program, or NULL. */
static char *near_self(const char *const *rels)
{
	char exe[PATH_MAX], *dir, path[PATH_MAX * 2];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return NULL;
	exe[n] = 0;
	dir = dirname(exe);
	for (size_t i = 0; rels[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rels[i]);
		if (access(path, R_OK) == 0)
			return realpath(path, NULL);
	}
	return NULL;
}

static int update_bundle(const char *bundle, const char *pal, const char *const *argv, err_t *err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *cfg, *proc, *env, *args, *nenv;
	size_t i;
	json_t *v;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		return err_set(err, EINVAL, "%s: %s", path, jerr.text);
	proc = json_object_get(cfg, "process");
	if (!json_is_object(proc)) {
		json_decref(cfg);
		return err_set(err, EINVAL, "%s: no process object", path);
	}
	env = json_object_get(proc, "env");
	nenv = json_array();
	json_array_foreach(env, i, v)
	{
		if (json_is_string(v) && strncmp(json_string_value(v), "ENCLAVE_", 8))
			json_array_append(nenv, v);
	}
	json_array_append_new(nenv, json_string("ENCLAVE_TYPE=intelSgx"));
	snprintf(path, sizeof(path), "ENCLAVE_RUNTIME_PATH=%s", pal);
	json_array_append_new(nenv, json_string(path));
	json_array_append_new(nenv, json_string("ENCLAVE_RUNTIME_ARGS=root=/"));
	json_object_set_new(proc, "env", nenv);
	args = json_array();
	for (i = 0; argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	json_object_set_new(proc, "args", args);
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	if (json_dump_file(cfg, path, JSON_INDENT(2)) < 0) {
		json_decref(cfg);
		return err_set(err, EIO, "write %s", path);
	}
	json_decref(cfg);
	return 0;
}

/* The bundle's rootfs and, unless given, its process.args. */
static int read_bundle(const char *bundle, char **rootfs, char ***argv, err_t *err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *cfg, *root, *args;
	const char *rp;

	snprintf(path, sizeof(path), "%s/config.json", bundle);
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		return err_set(err, EINVAL, "%s: %s", path, jerr.text);
	root = json_object_get(json_object_get(cfg, "root"), "path");
	rp = json_is_string(root) ? json_string_value(root) : "rootfs";
	if (rp[0] == '/')
		*rootfs = strdup(rp);
	else if (asprintf(rootfs, "%s/%s", bundle, rp) < 0)
		*rootfs = NULL;
	args = json_object_get(json_object_get(cfg, "process"), "args");
	if (!*argv && json_is_array(args) && json_array_size(args) > 0) {
		size_t n = json_array_size(args);

		*argv = calloc(n + 1, sizeof(char *));
		for (size_t i = 0; *argv && i < n; i++)
			(*argv)[i] = strdup(json_string_value(json_array_get(args, i)) ?: "");
	}
	json_decref(cfg);
	return *rootfs ? 0 : err_set(err, ENOMEM, "rootfs path");
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
		{ "sign-server", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 'K' },
		{ "client-cert", required_argument, NULL, 'C' },
		{ "client-key", required_argument, NULL, 'Y' },
		{ "cacert", required_argument, NULL, 'R' },
		{ "libos", required_argument, NULL, 'L' },
		{ "pal", required_argument, NULL, 'P' },
		{ "no-default-trusted", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const libos_rels[] = { "../share/libos/libos.elf",
						  "../share/rune/libos/libos.elf", NULL };
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
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "rune-image: bad size '%s'\n", optarg);
				return 2;
			}
			*(c == 'H' ? &o.heap : &o.stack) = v;
			break;
		case 'T':
			if (parse_size(optarg, &v) < 0 || v == 0 || v > 4096) {
				fprintf(stderr, "rune-image: bad thread count '%s'\n", optarg);
				return 2;
			}
			o.threads = (unsigned)v;
			break;
		case 'd':
			o.debug = 1;
			break;
		case 's':
			so.url = optarg;
			break;
		case 'K':
			token_file = optarg;
			break;
		case 'C':
			so.client_cert = optarg;
			break;
		case 'Y':
			so.client_key = optarg;
			break;
		case 'R':
			so.cacert = optarg;
			break;
		case 'Q':
			if (strcmp(optarg, "none") && strcmp(optarg, "dcap")) {
				fprintf(stderr, "rune-image: --attestation %s: none or dcap\n",
					optarg);
				return 2;
			}
			o.attestation = optarg;
			break;
		case 'N':
			o.no_default_trusted = 1;
			break;
		case 'L':
			libos = realpath(optarg, NULL);
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
	if (token_file && signd_client_read_token(token_file, &token, &err) < 0)
		goto fail;
	so.token = token;
	if (so.url) {
		o.sign = sign_by_server;
		o.sign_arg = &so;
	}
	if (bundle && read_bundle(bundle, &rootfs, &prog, &err) < 0)
		goto fail;
	if (!prog || !prog[0]) {
		fprintf(stderr, "rune-image: no entrypoint (give it after --)\n");
		return 2;
	}
	if (!libos)
		libos = near_self(libos_rels);
	if (!libos) {
		fprintf(stderr, "rune-image: the LibOS enclave (libos.elf) was not found next to "
				"this program: give --libos\n");
		return 1;
	}
	/* A bare name: where the host keeps its PALs is the host's business. */
	if (bundle && !pal)
		pal = strdup("liberpal-libos.so");
	if (tee_read_file(libos, 64 << 20, &elf, &elf_len, &err) < 0)
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
	if (bundle && update_bundle(bundle, pal, (const char *const *)prog, &err) < 0)
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
