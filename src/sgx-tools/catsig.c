/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools catsig: SIGSTRUCT from signing material, a detached signature and a public key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sgx-tools.h"
#include "libsgx/fileio.h"
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

int cmd_catsig(int argc, char **argv, err_t *err)
{
	static const struct option opts[] = { { "material", required_argument, NULL, OPT_MATERIAL },
					      { "signature", required_argument, NULL,
						OPT_SIGNATURE },
					      { "public-key", required_argument, NULL, OPT_PUBKEY },
					      { "out", required_argument, NULL, OPT_OUT },
					      { "help", no_argument, NULL, 'h' },
					      { 0 } };
	const char *material = NULL, *sig = NULL, *pub = NULL, *out = NULL;
	_cleanup_free_ void *mbuf = NULL, *sbuf = NULL, *pbuf = NULL;
	size_t mlen, slen, plen;
	struct sgx_sigstruct ss;
	int c, ret;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_MATERIAL:
			material = optarg;
			break;
		case OPT_SIGNATURE:
			sig = optarg;
			break;
		case OPT_PUBKEY:
			pub = optarg;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case 'h':
			fputs(help, stdout);
			return 0;
		default:
			return option_error(c, argv, err);
		}
	}
	if (no_operands(argc, argv, err) < 0)
		return USAGE_ERROR;
	if (!material || !sig || !pub || !out)
		return usage_error(err,
				   "--material, --signature, --public-key and --out are required");
	if ((ret = slurp("material", material, SGX_SIGSTRUCT_MATERIAL_SIZE + 1, &mbuf, &mlen,
			 err)) < 0 ||
	    (ret = slurp("signature", sig, SGX_MODULUS_SIZE + 1, &sbuf, &slen, err)) < 0 ||
	    (ret = slurp("public key", pub, 1 << 20, &pbuf, &plen, err)) < 0)
		return ret;
	if (mlen != SGX_SIGSTRUCT_MATERIAL_SIZE)
		return err_set(err, EINVAL, "material %s: %zu bytes, expected %d", material, mlen,
			       SGX_SIGSTRUCT_MATERIAL_SIZE);
	sgx_sigstruct_from_material(&ss, mbuf);
	ret = sgx_sigstruct_set_signature(&ss, sbuf, slen, pbuf, plen, err);
	if (ret < 0)
		return err_wrap(err, "signature %s, public key %s", sig, pub);
	return write_out(out, &ss, sizeof(ss), err);
}
