/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgx-tools sign and gendata: a SIGSTRUCT (with a local key, or from a
 * signature service: --server), or the 256 bytes a remote signer signs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgx-tools.h"
#include "common/cleanup.h"
#include "sgx/fileio.h"
#include "signd/client.h"

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
    "Usage: sgx-tools sign (--key KEY.pem | --server URL [SERVER OPTIONS])\n"
    "                      (--image FILE --pages SPEC | --elf FILE | --mrenclave HEX)\n"
    "                      --out SIGSTRUCT [FIELDS] [LAYOUT]\n"
    "Signs the enclave's MRENCLAVE into a 1808-byte SIGSTRUCT: with a local key, or\n"
    "by a signature service (rune-signd), which gets the signing material and\n"
    "answers the SIGSTRUCT; it is checked (it verifies, and its signed fields are\n"
    "the ones sent) before it is written.\n"
    "SERVER OPTIONS:\n"
    "  --server URL          https://HOST:PORT (http:// only to a loopback address)\n"
    "  --token-file F        the bearer token (rune-signd gen-token), in a file\n"
    "  --client-cert F --client-key F   a client certificate and its key (mTLS)\n"
    "  --cacert F            the CA of the server's certificate [the system's]\n"
    "  --v1                  the v1 API (Inclavare's servers) instead of /api/v2\n"
    "  --timeout SECONDS     for the whole request [30]\n" HELP_FIELDS;
static const char help_gendata[] =
    "Usage: sgx-tools gendata (--image FILE --pages SPEC | --elf FILE | --mrenclave HEX)\n"
    "                         --out MATERIAL [FIELDS] [LAYOUT]\n"
    "Writes the 256 bytes a SIGSTRUCT signature covers (bytes 0-127 and 900-1027),\n"
    "for 'openssl dgst -sha256 -sign KEY.pem' and then 'sgx-tools catsig'. It takes\n"
    "no --key: the key stays with the signer.\n" HELP_FIELDS;

struct sign_args {
	int with_key; /* sign; gendata takes no --key */
	const char *key, *out;
	const char *server, *token_file, *client_cert, *client_key, *cacert;
	int v1;
	unsigned timeout;
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
	if (a->with_key) {
		uint64_t v;

		switch (opt) {
		case OPT_SERVER:
			a->server = arg;
			return 1;
		case OPT_TOKEN_FILE:
			a->token_file = arg;
			return 1;
		case OPT_CLIENT_CERT:
			a->client_cert = arg;
			return 1;
		case OPT_CLIENT_KEY:
			a->client_key = arg;
			return 1;
		case OPT_CACERT:
			a->cacert = arg;
			return 1;
		case OPT_V1:
			a->v1 = 1;
			return 1;
		case OPT_TIMEOUT:
			ret = parse_u64("timeout", arg, 3600, &v, err);
			if (ret < 0)
				return ret;
			if (v == 0)
				return err_set(err, EINVAL, "--timeout: at least 1 second");
			a->timeout = (unsigned)v;
			return 1;
		}
	}
	ret = image_arg(&a->image, opt, arg, err);
	if (ret == 0)
		ret = sign_arg(&a->fields, opt, arg, err);
	return ret;
}

/* --server: the material to the service, its SIGSTRUCT checked into ss. */
static int sign_remote(const struct sign_args *a, struct sgx_sigstruct *ss, err_t *err)
{
	uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE];
	struct signd_client_opts o = { .url = a->server,
				       .client_cert = a->client_cert,
				       .client_key = a->client_key,
				       .cacert = a->cacert,
				       .timeout = a->timeout };
	char *token = NULL;
	int ret;

	if (a->token_file) {
		ret = signd_client_read_token(a->token_file, &token, err);
		if (ret < 0)
			return ret;
		o.token = token;
	}
	sgx_sigstruct_material(ss, material);
	ret = a->v1 ? signd_client_sigstruct_v1(&o, material, ss, err)
		    : signd_client_sigstruct(&o, material, ss, err);
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	if (ret < 0)
		return err_wrap(err, "sign by %s", a->server);
	return 0;
}

static int run(int argc, char **argv, int with_key, err_t *err)
{
	static const struct option sign_table[] = {
		IMAGE_OPTIONS,
		SIGN_OPTIONS,
		{ "key", required_argument, NULL, OPT_KEY },
		{ "out", required_argument, NULL, OPT_OUT },
		{ "server", required_argument, NULL, OPT_SERVER },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "client-cert", required_argument, NULL, OPT_CLIENT_CERT },
		{ "client-key", required_argument, NULL, OPT_CLIENT_KEY },
		{ "cacert", required_argument, NULL, OPT_CACERT },
		{ "v1", no_argument, NULL, OPT_V1 },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 }
	};
	/* gendata: --key too, only to say it takes none. */
	static const struct option gendata_table[] = { IMAGE_OPTIONS,
						       SIGN_OPTIONS,
						       { "key", required_argument, NULL, OPT_KEY },
						       { "out", required_argument, NULL, OPT_OUT },
						       { 0 } };
	static const struct command_options sign = { .table = sign_table,
						     .help = help_sign,
						     .handler = sign_option };
	static const struct command_options gendata = { .table = gendata_table,
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
	if (with_key && !!a.key == !!a.server)
		return usage_error(err, "--key KEY.pem or --server URL is required (one of them)");
	if (!a.server &&
	    (a.token_file || a.client_cert || a.client_key || a.cacert || a.v1 || a.timeout))
		return usage_error(err, "--token-file, --client-cert, --client-key, --cacert, "
					"--v1 and --timeout go with --server");
	if (!!a.client_cert != !!a.client_key)
		return usage_error(err, "--client-cert and --client-key go together");
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
	ret = a.server ? sign_remote(&a, &ss, err) : sgx_sigstruct_sign_file(&ss, a.key, err);
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
