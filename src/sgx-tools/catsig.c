/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools catsig: SIGSTRUCT from signing material, a detached signature and a public key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sgx-tools.h"
#include "sgx/fileio.h"
#include "common/cleanup.h"

static const char help[] =
    "Usage: sgx-tools catsig --material MATERIAL --signature SIG --public-key PUB.pem\n"
    "                        --out SIGSTRUCT\n"
    "MATERIAL is what 'sgx-tools gendata' wrote; SIG the raw big-endian RSA PKCS#1\n"
    "v1.5 SHA-256 signature of it ('openssl dgst -sha256 -sign KEY.pem'); PUB.pem\n"
    "the signer's public key (SPKI 'PUBLIC KEY' or PKCS#1 'RSA PUBLIC KEY' PEM).\n"
    "The result is verified before it is written.\n";

static int slurp(const char *what, const char *path, size_t max, void **buf, size_t *len,
		 err_t *err)
{
	int ret = sgx_read_file(path, max, buf, len, err);

	if (ret < 0)
		return err_wrap(err, "%s", what);
	return 0;
}

struct catsig_args {
	const char *material, *sig, *pub, *out;
};

static int catsig_option(void *ctx, int opt, const char *arg, err_t *err)
{
	struct catsig_args *a = ctx;

	(void)err;
	switch (opt) {
	case OPT_MATERIAL:
		a->material = arg;
		return 1;
	case OPT_SIGNATURE:
		a->sig = arg;
		return 1;
	case OPT_PUBKEY:
		a->pub = arg;
		return 1;
	case OPT_OUT:
		a->out = arg;
		return 1;
	}
	return 0;
}

int cmd_catsig(int argc, char **argv, err_t *err)
{
	static const struct option table[] = {
		{ "material", required_argument, NULL, OPT_MATERIAL },
		{ "signature", required_argument, NULL, OPT_SIGNATURE },
		{ "public-key", required_argument, NULL, OPT_PUBKEY },
		{ "out", required_argument, NULL, OPT_OUT },
		{ 0 }
	};
	static const struct command_options cmd = { .table = table,
						    .help = help,
						    .handler = catsig_option };
	_cleanup_free_ void *mbuf = NULL, *sbuf = NULL, *pbuf = NULL;
	struct catsig_args a = { 0 };
	size_t mlen, slen, plen;
	struct sgx_sigstruct ss;
	int ret;

	ret = parse_options(&cmd, &a, argc, argv, err);
	if (ret <= 0)
		return ret;
	if (!a.material || !a.sig || !a.pub || !a.out)
		return usage_error(err,
				   "--material, --signature, --public-key and --out are required");
	if ((ret = slurp("material", a.material, SGX_SIGSTRUCT_MATERIAL_SIZE + 1, &mbuf, &mlen,
			 err)) < 0 ||
	    (ret = slurp("signature", a.sig, SGX_MODULUS_SIZE + 1, &sbuf, &slen, err)) < 0 ||
	    (ret = slurp("public key", a.pub, 1 << 20, &pbuf, &plen, err)) < 0)
		return ret;
	if (mlen != SGX_SIGSTRUCT_MATERIAL_SIZE)
		return err_set(err, EINVAL, "material %s: %zu bytes, expected %d", a.material, mlen,
			       SGX_SIGSTRUCT_MATERIAL_SIZE);
	sgx_sigstruct_from_material(&ss, mbuf);
	ret = sgx_sigstruct_set_signature(&ss, sbuf, slen, pbuf, plen, err);
	if (ret < 0)
		return err_wrap(err, "signature %s, public key %s", a.sig, a.pub);
	return write_sigstruct(a.out, &ss, err);
}
