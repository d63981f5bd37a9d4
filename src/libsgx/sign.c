/* SPDX-License-Identifier: Apache-2.0 */
/* SIGSTRUCT signing with OpenSSL 3: local keys and the remote-signer flow. */
#include "sgx/sigstruct.h"
#include "libsgx/fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common/cleanup.h"

#define KEY_BITS 3072
#define MAX_PEM	 (1 << 20)

/* err_set with OpenSSL's latest reason appended; clears OpenSSL's queue. */
static int ossl_fail(err_t *err, int code, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;
	int ret;

	ret = err_set(err, code, "%s%s%s", what, reason ? ": " : "", reason ? reason : "");
	ERR_clear_error();
	return ret;
}

/* Encrypted keys are refused: a library must never prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static EVP_PKEY *decode_key(const void *pem, size_t len, int selection)
{
	const unsigned char *p = pem;
	OSSL_DECODER_CTX *dctx;
	EVP_PKEY *pkey = NULL;

	/* NULL structure: any of PKCS#8, SPKI, PKCS#1 ("RSA PRIVATE/PUBLIC KEY"). */
	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
	if (dctx == NULL)
		return NULL;
	OSSL_DECODER_CTX_set_pem_password_cb(dctx, no_passphrase, NULL);
	if (OSSL_DECODER_from_data(dctx, &p, &len) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	OSSL_DECODER_CTX_free(dctx);
	return pkey;
}

/* Checks the key is RSA-3072 with e = 3 and stores the modulus little-endian. */
static int take_modulus(struct sgx_sigstruct *ss, EVP_PKEY *pkey, BIGNUM **np, err_t *err)
{
	BIGNUM *n = NULL, *e = NULL;
	int ret = 0;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		return err_set(err, EINVAL, "key is not an RSA key");
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
		ret = ossl_fail(err, EINVAL, "read RSA key parameters");
		goto out;
	}
	if (BN_num_bits(n) != KEY_BITS) {
		ret = err_set(err, EINVAL, "RSA key is %d bits, SGX needs %d", BN_num_bits(n),
			      KEY_BITS);
		goto out;
	}
	if (!BN_is_word(e, 3)) {
		ret = err_set(err, EINVAL, "RSA public exponent is not 3");
		goto out;
	}
	if (BN_bn2lebinpad(n, ss->modulus, SGX_MODULUS_SIZE) != SGX_MODULUS_SIZE) {
		ret = err_set(err, EINVAL, "RSA modulus does not fit");
		goto out;
	}
	ss->exponent = 3;
	*np = n;
	n = NULL;
out:
	BN_free(n);
	BN_free(e);
	return ret;
}

/* Stores the big-endian signature little-endian and computes q1, q2. */
static int take_signature(struct sgx_sigstruct *ss, const BIGNUM *n, const uint8_t *sig, size_t len,
			  err_t *err)
{
	BIGNUM *s = NULL, *sq = NULL, *q1 = NULL, *q2 = NULL, *r = NULL;
	BN_CTX *ctx = BN_CTX_new();
	int ret = 0;

	if (len != SGX_MODULUS_SIZE) {
		ret = err_set(err, EINVAL, "signature is %zu bytes, expected %d", len,
			      SGX_MODULUS_SIZE);
		goto out;
	}
	s = BN_bin2bn(sig, (int)len, NULL);
	sq = BN_new();
	q1 = BN_new();
	q2 = BN_new();
	r = BN_new();
	if (!ctx || !s || !sq || !q1 || !q2 || !r) {
		ret = err_set(err, ENOMEM, "signature: out of memory");
		goto out;
	}
	/* q1 = floor(s^2 / n), q2 = floor(s * (s^2 mod n) / n): EINIT's inputs. */
	if (!BN_sqr(sq, s, ctx) || !BN_div(q1, r, sq, n, ctx) || !BN_mul(sq, s, r, ctx) ||
	    !BN_div(q2, NULL, sq, n, ctx)) {
		ret = ossl_fail(err, ENOMEM, "compute q1/q2");
		goto out;
	}
	if (BN_bn2lebinpad(s, ss->signature, SGX_MODULUS_SIZE) != SGX_MODULUS_SIZE ||
	    BN_bn2lebinpad(q1, ss->q1, SGX_MODULUS_SIZE) != SGX_MODULUS_SIZE ||
	    BN_bn2lebinpad(q2, ss->q2, SGX_MODULUS_SIZE) != SGX_MODULUS_SIZE)
		ret = err_set(err, EINVAL, "signature or q1/q2 out of range");
out:
	BN_free(s);
	BN_free(sq);
	BN_free(q1);
	BN_free(q2);
	BN_free(r);
	BN_CTX_free(ctx);
	return ret;
}

struct sgx_signer {
	EVP_PKEY *pkey; /* the private key, or only the public one for an external signer */
	sgx_sign_fn sign;
	void *sign_ctx;
	BIGNUM *n;
	uint8_t modulus[SGX_MODULUS_SIZE]; /* little-endian, as a SIGSTRUCT stores it */
	char *pub_pem;
	size_t pub_len;
};

void sgx_signer_free(struct sgx_signer *signer)
{
	if (signer == NULL)
		return;
	EVP_PKEY_free(signer->pkey);
	BN_free(signer->n);
	free(signer->pub_pem);
	free(signer);
}

/* The checks and the public parts of a signer whose s->pkey is set. */
static int signer_setup(struct sgx_signer *s, err_t *err)
{
	struct sgx_sigstruct *ss;
	BIO *bio = NULL;
	char *data;
	long len;
	int ret;

	ss = calloc(1, sizeof(*ss));
	if (ss == NULL)
		return err_set(err, ENOMEM, "load signing key: out of memory");
	ret = take_modulus(ss, s->pkey, &s->n, err);
	if (ret < 0)
		goto out;
	memcpy(s->modulus, ss->modulus, sizeof(s->modulus));
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PUBKEY(bio, s->pkey) != 1) {
		ret = ossl_fail(err, EIO, "encode public key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	s->pub_pem = malloc((size_t)len + 1);
	if (s->pub_pem == NULL) {
		ret = err_set(err, ENOMEM, "encode public key: out of memory");
		goto out;
	}
	memcpy(s->pub_pem, data, (size_t)len);
	s->pub_pem[len] = '\0';
	s->pub_len = (size_t)len;
out:
	BIO_free(bio);
	free(ss);
	return ret;
}

int sgx_signer_load(struct sgx_signer **out, const void *key_pem, size_t key_len, err_t *err)
{
	struct sgx_signer *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, ENOMEM, "load signing key: out of memory");
	s->pkey = decode_key(key_pem, key_len, EVP_PKEY_KEYPAIR);
	ERR_clear_error();
	if (s->pkey == NULL) {
		sgx_signer_free(s);
		return err_set(err, EINVAL,
			       "not an unencrypted RSA private key in PEM (PKCS#8 or PKCS#1)");
	}
	ret = signer_setup(s, err);
	if (ret < 0) {
		sgx_signer_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int sgx_signer_external(struct sgx_signer **out, const void *pub_pem, size_t pub_len,
			sgx_sign_fn sign, void *ctx, err_t *err)
{
	struct sgx_signer *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return err_set(err, ENOMEM, "load signing key: out of memory");
	s->sign = sign;
	s->sign_ctx = ctx;
	s->pkey = decode_key(pub_pem, pub_len, EVP_PKEY_PUBLIC_KEY);
	ERR_clear_error();
	if (s->pkey == NULL) {
		sgx_signer_free(s);
		return err_set(err, EINVAL, "not an RSA public key in PEM (SPKI or PKCS#1)");
	}
	ret = signer_setup(s, err);
	if (ret < 0) {
		sgx_signer_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

/* An external signer's signature, checked with the public key before it is used. */
static int external_sign(const struct sgx_signer *signer, const void *data, size_t len,
			 uint8_t sig[SGX_MODULUS_SIZE], err_t *err)
{
	EVP_MD_CTX *md;
	int ret;

	ret = signer->sign(signer->sign_ctx, data, len, sig, err);
	if (ret < 0)
		return ret;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, signer->pkey) != 1 ||
	    EVP_DigestVerify(md, sig, SGX_MODULUS_SIZE, data, len) != 1)
		ret = ossl_fail(err, EBADMSG,
				"the signer's signature does not verify with its public key");
	EVP_MD_CTX_free(md);
	return ret;
}

const char *sgx_signer_public_pem(const struct sgx_signer *signer, size_t *len)
{
	if (len)
		*len = signer->pub_len;
	return signer->pub_pem;
}

void sgx_signer_mrsigner(const struct sgx_signer *signer, uint8_t mrsigner[32])
{
	unsigned int len = 0;

	if (EVP_Digest(signer->modulus, sizeof(signer->modulus), mrsigner, &len, EVP_sha256(),
		       NULL) != 1 ||
	    len != 32)
		memset(mrsigner, 0, 32);
}

int sgx_signer_sign(const struct sgx_signer *signer, const void *data, size_t len,
		    uint8_t sig[SGX_MODULUS_SIZE], err_t *err)
{
	size_t siglen = SGX_MODULUS_SIZE;
	EVP_MD_CTX *md;
	int ret = 0;

	if (signer->sign)
		return external_sign(signer, data, len, sig, err);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, signer->pkey) != 1 ||
	    EVP_DigestSign(md, sig, &siglen, data, len) != 1)
		ret = ossl_fail(err, EIO, "RSA signing failed");
	else if (siglen != SGX_MODULUS_SIZE)
		ret = err_set(err, EIO, "RSA signature is %zu bytes, expected %d", siglen,
			      SGX_MODULUS_SIZE);
	EVP_MD_CTX_free(md);
	return ret;
}

int sgx_signer_sign_sigstruct(const struct sgx_signer *signer, struct sgx_sigstruct *ss, err_t *err)
{
	uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE], sig[SGX_MODULUS_SIZE];
	int ret;

	memcpy(ss->modulus, signer->modulus, sizeof(ss->modulus));
	ss->exponent = 3;
	sgx_sigstruct_material(ss, material);
	ret = sgx_signer_sign(signer, material, sizeof(material), sig, err);
	if (ret < 0)
		return ret;
	ret = take_signature(ss, signer->n, sig, sizeof(sig), err);
	if (ret < 0)
		return ret;
	ret = sgx_sigstruct_check(ss, err);
	if (ret < 0)
		err_wrap(err, "signed SIGSTRUCT does not verify");
	return ret;
}

int sgx_sigstruct_sign(struct sgx_sigstruct *ss, const void *key_pem, size_t key_len, err_t *err)
{
	struct sgx_signer *signer;
	int ret;

	ret = sgx_signer_load(&signer, key_pem, key_len, err);
	if (ret < 0)
		return ret;
	ret = sgx_signer_sign_sigstruct(signer, ss, err);
	sgx_signer_free(signer);
	return ret;
}

int sgx_sigstruct_sign_file(struct sgx_sigstruct *ss, const char *key_path, err_t *err)
{
	_cleanup_free_ void *pem = NULL;
	size_t len;
	int ret;

	ret = sgx_read_file(key_path, MAX_PEM, &pem, &len, err);
	if (ret < 0)
		return ret;
	ret = sgx_sigstruct_sign(ss, pem, len, err);
	if (ret < 0)
		return err_wrap(err, "sign with %s", key_path);
	return 0;
}

int sgx_sigstruct_set_signature(struct sgx_sigstruct *ss, const uint8_t *sig, size_t sig_len,
				const void *pub_pem, size_t pub_len, err_t *err)
{
	EVP_PKEY *pkey;
	BIGNUM *n = NULL;
	int ret;

	pkey = decode_key(pub_pem, pub_len, EVP_PKEY_PUBLIC_KEY);
	/* A private key PEM carries the public key too. */
	if (pkey == NULL)
		pkey = decode_key(pub_pem, pub_len, EVP_PKEY_KEYPAIR);
	ERR_clear_error();
	if (pkey == NULL)
		return err_set(err, EINVAL, "not an RSA public key in PEM (SPKI or PKCS#1)");
	ret = take_modulus(ss, pkey, &n, err);
	if (ret == 0)
		ret = take_signature(ss, n, sig, sig_len, err);
	if (ret == 0) {
		ret = sgx_sigstruct_check(ss, err);
		if (ret < 0)
			err_wrap(err, "signature does not match the material and public key");
	}
	BN_free(n);
	EVP_PKEY_free(pkey);
	return ret;
}

int sgx_key_generate(const char *path, err_t *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *e = BN_new();
	BIO *bio = NULL;
	char *data;
	long len;
	int ret;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!e || !BN_set_word(e, 3) || !ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, KEY_BITS) != 1 ||
	    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) != 1 ||
	    EVP_PKEY_generate(ctx, &pkey) != 1) {
		ret = ossl_fail(err, EIO, "generate RSA-3072 key");
		goto out;
	}
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		ret = ossl_fail(err, EIO, "encode key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	ret = sgx_write_file(path, data, (size_t)len, 0600, 1, err);
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	BN_free(e);
	return ret;
}

int sgx_key_public_pem(const void *key_pem, size_t key_len, char **pub_pem, size_t *pub_len,
		       err_t *err)
{
	EVP_PKEY *pkey;
	BIO *bio = NULL;
	char *data;
	long len;
	int ret = 0;

	pkey = decode_key(key_pem, key_len, EVP_PKEY_KEYPAIR);
	if (pkey == NULL)
		return ossl_fail(err, EINVAL, "not an RSA private key in PEM");
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		ret = ossl_fail(err, EIO, "encode public key");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	*pub_pem = malloc((size_t)len + 1);
	if (*pub_pem == NULL) {
		ret = err_set(err, ENOMEM, "encode public key: out of memory");
		goto out;
	}
	memcpy(*pub_pem, data, (size_t)len);
	(*pub_pem)[len] = '\0';
	*pub_len = (size_t)len;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return ret;
}
