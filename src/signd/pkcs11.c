/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signing key on a PKCS#11 token, through p11-kit: an RFC 7512
 * "pkcs11:" URI names the module (module-path=, or any module p11-kit has
 * registered), the token and the private key (object=, id=); the PIN comes
 * from a file (pin-source=file:... or --pin-file), never from the URI
 * itself. Signing is C_Sign with CKM_RSA_PKCS over the SHA-256 DigestInfo,
 * which every RSA token has; the key's public half (CKA_MODULUS,
 * CKA_PUBLIC_EXPONENT) makes an external sgx_signer, which checks RSA-3072
 * e = 3 and verifies every signature.
 *
 * Sessions: one per concurrent signature, kept in a small pool (a PKCS#11
 * session runs one operation at a time); the login is the application's,
 * made once on the first session, and shared by the others.
 */
#include "signd/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "common/cleanup.h"

#define PIN_MAX	     256
#define POOL_MAX     64
#define MODULUS_MAX  1024
#define SHA256_BYTES 32

/* DER of DigestInfo { sha256, NULL } before the 32-byte hash (RFC 8017, 9.2). */
static const uint8_t sha256_prefix[] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
					 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 };

struct signd_p11 {
	CK_FUNCTION_LIST *module;  /* the one module used */
	CK_FUNCTION_LIST **loaded; /* what p11-kit loaded (a registered-modules search) */
	int own_module;		   /* module loaded by path: finalize and release it */
	CK_SLOT_ID slot;
	CK_OBJECT_HANDLE key;
	CK_SESSION_HANDLE login; /* the first session: holds the login for the rest */
	pthread_mutex_t lock;
	CK_SESSION_HANDLE pool[POOL_MAX];
	size_t n_pool;
	char *pub_pem;
	size_t pub_len;
	char token[33]; /* its label, for messages */
	CK_FLAGS token_flags;
};

static int ck_fail(err_t *err, const char *what, CK_RV rv)
{
	return err_set(err, EIO, "PKCS#11 %s: %s (0x%lx)", what, p11_kit_strerror(rv),
		       (unsigned long)rv);
}

/* A PKCS#11 blank-padded fixed-width string as a C string. */
static void trim(char *dst, const unsigned char *src, size_t n)
{
	memcpy(dst, src, n);
	while (n && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* The PIN: from pin_file if given, else the URI's pin-source (file:PATH or PATH). */
static int read_pin(P11KitUri *uri, const char *pin_file, char **pin, size_t *len, err_t *err)
{
	const char *src = pin_file;
	int ret;

	*pin = NULL;
	*len = 0;
	if (src == NULL) {
		src = p11_kit_uri_get_pin_source(uri);
		if (src && strncmp(src, "file:", 5) == 0)
			src += 5;
	}
	if (src == NULL)
		return 0;
	ret = signd_read_trusted("PIN file", src, 1, PIN_MAX, pin, len, err);
	if (ret < 0)
		return ret;
	while (*len && ((*pin)[*len - 1] == '\n' || (*pin)[*len - 1] == '\r'))
		(*pin)[--*len] = '\0';
	if (*len == 0) {
		free(*pin);
		*pin = NULL;
		return err_set(err, EINVAL, "PIN file %s: empty", src);
	}
	return 0;
}

/*
 * The token the URI names: in module m, or in every registered module.
 * Exactly one must match.
 */
static int find_token(struct signd_p11 *p, P11KitUri *uri, err_t *err)
{
	CK_FUNCTION_LIST **mods = p->module ? (CK_FUNCTION_LIST *[]){ p->module, NULL } : p->loaded;
	int found = 0;

	for (size_t m = 0; mods && mods[m]; m++) {
		CK_SLOT_ID slots[64];
		CK_ULONG n = 64;
		CK_INFO info;
		CK_RV rv;

		if (mods[m]->C_GetInfo(&info) != CKR_OK ||
		    !p11_kit_uri_match_module_info(uri, &info))
			continue;
		rv = mods[m]->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv != CKR_OK)
			continue;
		for (CK_ULONG i = 0; i < n; i++) {
			CK_TOKEN_INFO ti;
			CK_SLOT_INFO si;

			if (mods[m]->C_GetSlotInfo(slots[i], &si) != CKR_OK ||
			    !p11_kit_uri_match_slot_info(uri, &si) ||
			    mods[m]->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
			    !p11_kit_uri_match_token_info(uri, &ti))
				continue;
			if (found++) {
				return err_set(err, EINVAL,
					       "more than one token matches: name it (token=, "
					       "serial=, or module-path=)");
			}
			p->module = mods[m];
			p->slot = slots[i];
			trim(p->token, ti.label, sizeof(ti.label));
			p->token_flags = ti.flags;
		}
	}
	if (!found)
		return err_set(err, ENOENT, "no token matches%s",
			       p->own_module ? "" : " (in the modules p11-kit has registered)");
	return 0;
}

static int login(struct signd_p11 *p, const char *pin, size_t pin_len, err_t *err)
{
	CK_RV rv;

	rv = p->module->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, &p->login);
	if (rv != CKR_OK)
		return ck_fail(err, "open a session", rv);
	if (pin == NULL && (p->token_flags & CKF_LOGIN_REQUIRED))
		return err_set(err, EACCES,
			       "token '%s' needs a PIN: pin-source=file:PATH in the URI, or "
			       "--pin-file",
			       p->token);
	if (pin == NULL)
		return 0; /* a token without a PIN */
	rv = p->module->C_Login(p->login, CKU_USER, (CK_UTF8CHAR *)pin, pin_len);
	if (rv == CKR_PIN_INCORRECT)
		return err_set(err, EACCES, "token '%s': wrong PIN", p->token);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return ck_fail(err, "login", rv);
	return 0;
}

/* The private key the URI names (its attributes: object=, id=, type=private). */
static int find_key(struct signd_p11 *p, P11KitUri *uri, err_t *err)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[8], *a;
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0, got = 0;
	CK_RV rv;

	a = p11_kit_uri_get_attributes(uri, &n);
	for (CK_ULONG i = 0; i < n && i < 6; i++) {
		if (a[i].type == CKA_CLASS &&
		    (a[i].ulValueLen != sizeof(cls) || *(CK_OBJECT_CLASS *)a[i].pValue != cls))
			return err_set(err, EINVAL, "the URI's type= must be 'private'");
		tmpl[i] = a[i];
	}
	if (n > 6)
		return err_set(err, EINVAL, "too many object attributes in the URI");
	tmpl[n++] = (CK_ATTRIBUTE){ CKA_CLASS, &cls, sizeof(cls) };
	rv = p->module->C_FindObjectsInit(p->login, tmpl, n);
	if (rv != CKR_OK)
		return ck_fail(err, "find the key", rv);
	rv = p->module->C_FindObjects(p->login, found, 2, &got);
	p->module->C_FindObjectsFinal(p->login);
	if (rv != CKR_OK)
		return ck_fail(err, "find the key", rv);
	if (got == 0)
		return err_set(err, ENOENT,
			       "token '%s': no private key matches the URI (object=, id=; a "
			       "missing or wrong PIN hides private keys)",
			       p->token);
	if (got > 1)
		return err_set(err, EINVAL,
			       "token '%s': more than one private key matches: name it (object=, "
			       "id=)",
			       p->token);
	p->key = found[0];
	return 0;
}

/* The key's public half as SPKI PEM, from its modulus and public exponent. */
static int public_key(struct signd_p11 *p, err_t *err)
{
	uint8_t n[MODULUS_MAX], e[16];
	CK_KEY_TYPE type = 0;
	CK_ATTRIBUTE attrs[] = {
		{ CKA_KEY_TYPE, &type, sizeof(type) },
		{ CKA_MODULUS, n, sizeof(n) },
		{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
	};
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	BIO *bio = NULL;
	char *data;
	long len;
	CK_RV rv;
	int ret = 0;

	rv = p->module->C_GetAttributeValue(p->login, p->key, attrs, 3);
	if (rv != CKR_OK)
		return ck_fail(err, "read the key's type, modulus and exponent", rv);
	if (type != CKK_RSA)
		return err_set(err, EINVAL, "token '%s': the key is not an RSA key", p->token);
	bn = BN_bin2bn(n, (int)attrs[1].ulValueLen, NULL);
	be = BN_bin2bn(e, (int)attrs[2].ulValueLen, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    !(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    !(bio = BIO_new(BIO_s_mem())) || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
		ret = err_set(err, EIO, "token '%s': cannot make the public key", p->token);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	p->pub_pem = strndup(data, (size_t)len);
	p->pub_len = (size_t)len;
	if (p->pub_pem == NULL)
		ret = err_set(err, ENOMEM, "out of memory");
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return ret;
}

void signd_p11_close(struct signd_p11 *p)
{
	if (p == NULL)
		return;
	if (p->module) {
		for (size_t i = 0; i < p->n_pool; i++)
			p->module->C_CloseSession(p->pool[i]);
		if (p->login != CK_INVALID_HANDLE)
			p->module->C_CloseSession(p->login);
	}
	if (p->own_module && p->module) {
		p11_kit_module_finalize(p->module);
		p11_kit_module_release(p->module);
	}
	if (p->loaded)
		p11_kit_modules_finalize_and_release(p->loaded);
	pthread_mutex_destroy(&p->lock);
	free(p->pub_pem);
	free(p);
}

int signd_p11_open(struct signd_p11 **out, const char *uri_s, const char *pin_file, err_t *err)
{
	_cleanup_free_ char *pin = NULL;
	struct signd_p11 *p;
	P11KitUri *uri;
	const char *path;
	size_t pin_len = 0;
	CK_RV rv;
	int ret;

	*out = NULL;
	uri = p11_kit_uri_new();
	p = calloc(1, sizeof(*p));
	if (uri == NULL || p == NULL) {
		p11_kit_uri_free(uri);
		free(p);
		return err_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p->lock, NULL);
	p->login = CK_INVALID_HANDLE;
	ret = p11_kit_uri_parse(uri_s, P11_KIT_URI_FOR_OBJECT_ON_TOKEN_AND_MODULE, uri);
	if (ret != P11_KIT_URI_OK) {
		ret = err_set(err, EINVAL, "PKCS#11 URI: %s (expected pkcs11:token=...;object=...)",
			      p11_kit_uri_message(ret));
		goto fail;
	}
	if (p11_kit_uri_get_pin_value(uri)) {
		ret = err_set(err, EINVAL,
			      "PKCS#11 URI: pin-value= refused (a PIN on a command line or in a "
			      "config is read by anyone who can see it): use pin-source=file:PATH "
			      "or --pin-file");
		goto fail;
	}
	ret = read_pin(uri, pin_file, &pin, &pin_len, err);
	if (ret < 0)
		goto fail;
	path = p11_kit_uri_get_module_path(uri);
	if (path) {
		p->module = p11_kit_module_load(path, 0);
		if (p->module == NULL) {
			ret = err_set(err, ENOENT, "PKCS#11 module %s: %s", path,
				      p11_kit_message() ? p11_kit_message() : "cannot load it");
			goto fail;
		}
		p->own_module = 1;
		rv = p11_kit_module_initialize(p->module);
		if (rv != CKR_OK) {
			p11_kit_module_release(p->module);
			p->module = NULL;
			ret = ck_fail(err, "initialize the module", rv);
			goto fail;
		}
	} else {
		p->loaded = p11_kit_modules_load_and_initialize(0);
		if (p->loaded == NULL) {
			ret = err_set(err, ENOENT, "PKCS#11: p11-kit loaded no module: %s",
				      p11_kit_message() ? p11_kit_message() : "none registered");
			goto fail;
		}
	}
	ret = find_token(p, uri, err);
	if (ret == 0)
		ret = login(p, pin, pin_len, err);
	if (ret == 0)
		ret = find_key(p, uri, err);
	if (ret == 0)
		ret = public_key(p, err);
	if (ret < 0)
		goto fail;
	if (pin)
		OPENSSL_cleanse(pin, pin_len);
	p11_kit_uri_free(uri);
	*out = p;
	return 0;
fail:
	if (pin)
		OPENSSL_cleanse(pin, pin_len);
	p11_kit_uri_free(uri);
	signd_p11_close(p);
	return ret;
}

const char *signd_p11_public_pem(const struct signd_p11 *p, size_t *len)
{
	*len = p->pub_len;
	return p->pub_pem;
}

const char *signd_p11_token(const struct signd_p11 *p)
{
	return p->token;
}

static int session_get(struct signd_p11 *p, CK_SESSION_HANDLE *s, err_t *err)
{
	CK_RV rv;

	pthread_mutex_lock(&p->lock);
	if (p->n_pool) {
		*s = p->pool[--p->n_pool];
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);
	rv = p->module->C_OpenSession(p->slot, CKF_SERIAL_SESSION, NULL, NULL, s);
	return rv == CKR_OK ? 0 : ck_fail(err, "open a session", rv);
}

static void session_put(struct signd_p11 *p, CK_SESSION_HANDLE s, int broken)
{
	pthread_mutex_lock(&p->lock);
	if (!broken && p->n_pool < POOL_MAX) {
		p->pool[p->n_pool++] = s;
		s = CK_INVALID_HANDLE;
	}
	pthread_mutex_unlock(&p->lock);
	if (s != CK_INVALID_HANDLE)
		p->module->C_CloseSession(s);
}

int signd_p11_sign(void *ctx, const void *data, size_t len, uint8_t sig[SGX_MODULUS_SIZE],
		   err_t *err)
{
	struct signd_p11 *p = ctx;
	CK_MECHANISM mech = { CKM_RSA_PKCS, NULL, 0 };
	uint8_t di[sizeof(sha256_prefix) + SHA256_BYTES];
	CK_ULONG siglen = SGX_MODULUS_SIZE;
	CK_SESSION_HANDLE s;
	unsigned int hlen = 0;
	CK_RV rv;
	int ret;

	memcpy(di, sha256_prefix, sizeof(sha256_prefix));
	if (EVP_Digest(data, len, di + sizeof(sha256_prefix), &hlen, EVP_sha256(), NULL) != 1 ||
	    hlen != SHA256_BYTES)
		return err_set(err, EIO, "SHA-256 failed");
	ret = session_get(p, &s, err);
	if (ret < 0)
		return ret;
	rv = p->module->C_SignInit(s, &mech, p->key);
	if (rv == CKR_OK)
		rv = p->module->C_Sign(s, di, sizeof(di), sig, &siglen);
	session_put(p, s, rv != CKR_OK);
	if (rv != CKR_OK)
		return ck_fail(err, "C_Sign", rv);
	if (siglen != SGX_MODULUS_SIZE)
		return err_set(err, EIO, "PKCS#11 C_Sign: %lu bytes, expected %d",
			       (unsigned long)siglen, SGX_MODULUS_SIZE);
	return 0;
}
