/* SPDX-License-Identifier: Apache-2.0 */
/* SIGSTRUCT layout helpers, parsing, and verification as EINIT performs it. */
#include "sgx/sigstruct.h"
#include "libsgx/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "common/cleanup.h"

/* DER DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1). */
static const uint8_t sha256_prefix[19] = { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
					   0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					   0x01, 0x05, 0x00, 0x04, 0x20 };

void sgx_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static uint8_t bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

uint32_t sgx_bcd_date(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return 0;
	unsigned year = (unsigned)tm.tm_year + 1900;
	return ((uint32_t)bcd(year / 100) << 24) | ((uint32_t)bcd(year % 100) << 16) |
	       ((uint32_t)bcd((unsigned)tm.tm_mon + 1) << 8) | bcd((unsigned)tm.tm_mday);
}

int sgx_parse_date(const char *s, uint32_t *out, err_t *err)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, m, d;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (strlen(s) != 8 || strspn(s, "0123456789") != 8)
		return err_set(err, EINVAL, "date '%s': expected YYYYMMDD or 0", s);
	y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
	m = (unsigned)((s[4] - '0') * 10 + (s[5] - '0'));
	d = (unsigned)((s[6] - '0') * 10 + (s[7] - '0'));
	if (m < 1 || m > 12 || d < 1 || d > (unsigned)mdays[m - 1])
		return err_set(err, EINVAL, "date '%s': no such day", s);
	*out = ((uint32_t)bcd(y / 100) << 24) | ((uint32_t)bcd(y % 100) << 16) |
	       ((uint32_t)bcd(m) << 8) | bcd(d);
	return 0;
}

void sgx_sign_opts_default(struct sgx_sign_opts *o)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	int64_t now = (int64_t)time(NULL);

	if (epoch && *epoch) {
		char *end;
		long long v = strtoll(epoch, &end, 10);
		if (*end == '\0' && v >= 0)
			now = v;
	}
	memset(o, 0, sizeof(*o));
	o->date = sgx_bcd_date(now);
	o->attributes = SGX_ATTR_MODE64BIT;
	o->attributes_mask = ~0ULL;
	o->xfrm = SGX_XFRM_LEGACY;
	o->xfrm_mask = SGX_XFRM_LEGACY;
	o->miscmask = ~0U;
}

void sgx_sigstruct_init(struct sgx_sigstruct *ss, const struct sgx_sign_opts *o,
			const uint8_t mrenclave[32])
{
	memset(ss, 0, sizeof(*ss));
	memcpy(ss->header.header, SGX_SIGSTRUCT_HEADER, 16);
	memcpy(ss->header.header2, SGX_SIGSTRUCT_HEADER2, 16);
	ss->header.vendor = o->vendor;
	ss->header.date = o->date;
	ss->header.swdefined = o->swdefined;
	ss->exponent = 3;
	ss->body.miscselect = o->miscselect;
	ss->body.miscmask = o->miscmask;
	ss->body.attributes = o->attributes;
	ss->body.xfrm = o->xfrm;
	ss->body.attributes_mask = o->attributes_mask;
	ss->body.xfrm_mask = o->xfrm_mask;
	memcpy(ss->body.enclavehash, mrenclave, 32);
	ss->body.isvprodid = o->isvprodid;
	ss->body.isvsvn = o->isvsvn;
}

void sgx_sigstruct_get_opts(const struct sgx_sigstruct *ss, struct sgx_sign_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->vendor = ss->header.vendor;
	o->date = ss->header.date;
	o->swdefined = ss->header.swdefined;
	o->miscselect = ss->body.miscselect;
	o->miscmask = ss->body.miscmask;
	o->attributes = ss->body.attributes;
	o->xfrm = ss->body.xfrm;
	o->attributes_mask = ss->body.attributes_mask;
	o->xfrm_mask = ss->body.xfrm_mask;
	o->isvprodid = ss->body.isvprodid;
	o->isvsvn = ss->body.isvsvn;
}

void sgx_sigstruct_material(const struct sgx_sigstruct *ss, uint8_t material[256])
{
	memcpy(material, &ss->header, sizeof(ss->header));
	memcpy(material + sizeof(ss->header), &ss->body, sizeof(ss->body));
}

void sgx_sigstruct_from_material(struct sgx_sigstruct *ss, const uint8_t material[256])
{
	memset(ss, 0, sizeof(*ss));
	memcpy(&ss->header, material, sizeof(ss->header));
	memcpy(&ss->body, material + sizeof(ss->header), sizeof(ss->body));
	ss->exponent = 3;
}

void sgx_mrsigner(const struct sgx_sigstruct *ss, uint8_t mrsigner[32])
{
	unsigned int len = 0;

	if (EVP_Digest(ss->modulus, sizeof(ss->modulus), mrsigner, &len, EVP_sha256(), NULL) != 1 ||
	    len != 32)
		memset(mrsigner, 0, 32);
}

int sgx_sigstruct_parse(struct sgx_sigstruct *ss, const void *buf, size_t len, err_t *err)
{
	if (len != SGX_SIGSTRUCT_SIZE)
		return err_set(err, EINVAL, "SIGSTRUCT is %zu bytes, expected %d", len,
			       SGX_SIGSTRUCT_SIZE);
	memcpy(ss, buf, SGX_SIGSTRUCT_SIZE);
	return 0;
}

int sgx_sigstruct_load(struct sgx_sigstruct *ss, const char *path, err_t *err)
{
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int ret;

	/* Read at most one byte more than a SIGSTRUCT: enough to detect a longer file. */
	ret = sgx_read_file(path, SGX_SIGSTRUCT_SIZE + 1, &buf, &len, err);
	if (ret < 0)
		return ret;
	ret = sgx_sigstruct_parse(ss, buf, len, err);
	if (ret < 0)
		return err_wrap(err, "%s", path);
	return 0;
}

/* The PKCS#1 v1.5 encoded message EINIT expects the signature to open to. */
static int encoded_message(const struct sgx_sigstruct *ss, uint8_t em[SGX_MODULUS_SIZE], err_t *err)
{
	uint8_t material[SGX_SIGSTRUCT_MATERIAL_SIZE];
	size_t ps = SGX_MODULUS_SIZE - 3 - sizeof(sha256_prefix) - 32;
	unsigned int len = 0;

	sgx_sigstruct_material(ss, material);
	em[0] = 0x00;
	em[1] = 0x01;
	memset(em + 2, 0xff, ps);
	em[2 + ps] = 0x00;
	memcpy(em + 3 + ps, sha256_prefix, sizeof(sha256_prefix));
	if (EVP_Digest(material, sizeof(material), em + 3 + ps + sizeof(sha256_prefix), &len,
		       EVP_sha256(), NULL) != 1)
		return err_set(err, EIO, "SHA-256 failed");
	return 0;
}

static BIGNUM *bn_le(const uint8_t *p)
{
	return BN_lebin2bn(p, SGX_MODULUS_SIZE, NULL);
}

/*
 * What EINIT checks of the SIGSTRUCT, in its order. Returns 0, the positive
 * EINIT error class, or a negative errno if the check could not run.
 */
static int verify(const struct sgx_sigstruct *ss, err_t *err)
{
	BIGNUM *n = NULL, *s = NULL, *q1 = NULL, *q2 = NULL, *t = NULL, *u = NULL, *em = NULL;
	uint8_t embuf[SGX_MODULUS_SIZE];
	BN_CTX *ctx = NULL;
	int ret;

	if (memcmp(ss->header.header, SGX_SIGSTRUCT_HEADER, 16) != 0) {
		err_set(err, EINVAL, "SIGSTRUCT header: bad value");
		return SGX_INVALID_SIG_STRUCT;
	}
	if (ss->header.vendor != 0 && ss->header.vendor != SGX_SIGSTRUCT_VENDOR_INTEL) {
		err_set(err, EINVAL, "SIGSTRUCT vendor: 0x%x, must be 0 or 0x8086",
			ss->header.vendor);
		return SGX_INVALID_SIG_STRUCT;
	}
	if (memcmp(ss->header.header2, SGX_SIGSTRUCT_HEADER2, 16) != 0) {
		err_set(err, EINVAL, "SIGSTRUCT header2: bad value");
		return SGX_INVALID_SIG_STRUCT;
	}
	if (ss->exponent != 3) {
		err_set(err, EINVAL, "SIGSTRUCT exponent: %u, must be 3", ss->exponent);
		return SGX_INVALID_SIG_STRUCT;
	}
	if (!is_zero(ss->header.reserved1, sizeof(ss->header.reserved1)) ||
	    !is_zero(ss->body.reserved2, sizeof(ss->body.reserved2)) ||
	    !is_zero(ss->body.reserved3, sizeof(ss->body.reserved3)) ||
	    !is_zero(ss->reserved4, sizeof(ss->reserved4))) {
		err_set(err, EINVAL, "SIGSTRUCT reserved fields: not zero");
		return SGX_INVALID_SIG_STRUCT;
	}
	ret = encoded_message(ss, embuf, err);
	if (ret < 0)
		return ret;

	ctx = BN_CTX_new();
	n = bn_le(ss->modulus);
	s = bn_le(ss->signature);
	q1 = bn_le(ss->q1);
	q2 = bn_le(ss->q2);
	t = BN_new();
	u = BN_new();
	em = BN_bin2bn(embuf, sizeof(embuf), NULL);
	if (!ctx || !n || !s || !q1 || !q2 || !t || !u || !em) {
		ret = err_set(err, ENOMEM, "SIGSTRUCT check: out of memory");
		goto out;
	}
	if (BN_is_zero(n) || !BN_is_odd(n)) {
		err_set(err, EINVAL, "SIGSTRUCT modulus: not an RSA modulus");
		ret = SGX_INVALID_SIGNATURE;
		goto out;
	}
	if (BN_cmp(s, n) >= 0) {
		err_set(err, EBADMSG, "SIGSTRUCT signature: not below the modulus");
		ret = SGX_INVALID_SIGNATURE;
		goto out;
	}
	/* The hardware computes s^3 mod n with the signer's quotients: r1 = s*s - q1*n, r2 = s*r1 - q2*n. */
	if (!BN_sqr(t, s, ctx) || !BN_mul(u, q1, n, ctx) || !BN_sub(t, t, u)) {
		ret = err_set(err, ENOMEM, "SIGSTRUCT check: bignum failure");
		goto out;
	}
	if (BN_is_negative(t) || BN_cmp(t, n) >= 0) {
		err_set(err, EBADMSG, "SIGSTRUCT q1: does not match the signature");
		ret = SGX_INVALID_SIGNATURE;
		goto out;
	}
	if (!BN_mul(t, s, t, ctx) || !BN_mul(u, q2, n, ctx) || !BN_sub(t, t, u)) {
		ret = err_set(err, ENOMEM, "SIGSTRUCT check: bignum failure");
		goto out;
	}
	if (BN_is_negative(t) || BN_cmp(t, n) >= 0) {
		err_set(err, EBADMSG, "SIGSTRUCT q2: does not match the signature");
		ret = SGX_INVALID_SIGNATURE;
		goto out;
	}
	if (BN_cmp(t, em) != 0) {
		err_set(err, EBADMSG, "SIGSTRUCT signature: does not verify with its modulus");
		ret = SGX_INVALID_SIGNATURE;
		goto out;
	}
	ret = 0;
out:
	BN_free(n);
	BN_free(s);
	BN_free(q1);
	BN_free(q2);
	BN_free(t);
	BN_free(u);
	BN_free(em);
	BN_CTX_free(ctx);
	return ret;
}

int sgx_sigstruct_check(const struct sgx_sigstruct *ss, err_t *err)
{
	int ret = verify(ss, err);

	if (ret == SGX_INVALID_SIG_STRUCT)
		return -EINVAL;
	if (ret > 0)
		return -EBADMSG;
	return ret;
}

int sgx_einit_check(const struct sgx_sigstruct *ss, const uint8_t mrenclave[32],
		    uint64_t secs_attributes, uint64_t secs_xfrm, uint32_t secs_miscselect,
		    err_t *err)
{
	const struct sgx_sigstruct_body *b = &ss->body;
	int ret;

	ret = verify(ss, err);
	if (ret != 0)
		return ret;
	if (memcmp(b->enclavehash, mrenclave, 32) != 0) {
		char want[65], got[65];

		sgx_hex(b->enclavehash, 32, want);
		sgx_hex(mrenclave, 32, got);
		err_set(err, EPERM, "SIGSTRUCT enclave hash %s does not match MRENCLAVE %s", want,
			got);
		return SGX_INVALID_MEASUREMENT;
	}
	/* Only the launch enclave's signer may set EINITTOKENKEY; there is none here. */
	if (secs_attributes & SGX_ATTR_EINITTOKENKEY) {
		err_set(err, EPERM, "EINITTOKENKEY attribute needs the launch enclave signer");
		return SGX_INVALID_EINITTOKEN;
	}
	if ((secs_attributes & b->attributes_mask) != (b->attributes & b->attributes_mask)) {
		err_set(err, EPERM,
			"SECS attributes 0x%llx do not match SIGSTRUCT attributes 0x%llx under "
			"mask 0x%llx",
			(unsigned long long)secs_attributes, (unsigned long long)b->attributes,
			(unsigned long long)b->attributes_mask);
		return SGX_INVALID_ATTRIBUTE;
	}
	if ((secs_xfrm & b->xfrm_mask) != (b->xfrm & b->xfrm_mask)) {
		err_set(err, EPERM,
			"SECS xfrm 0x%llx does not match SIGSTRUCT xfrm 0x%llx under mask 0x%llx",
			(unsigned long long)secs_xfrm, (unsigned long long)b->xfrm,
			(unsigned long long)b->xfrm_mask);
		return SGX_INVALID_ATTRIBUTE;
	}
	if ((secs_miscselect & b->miscmask) != (b->miscselect & b->miscmask)) {
		err_set(
		    err, EPERM,
		    "SECS miscselect 0x%x does not match SIGSTRUCT miscselect 0x%x under mask 0x%x",
		    secs_miscselect, b->miscselect, b->miscmask);
		return SGX_INVALID_ATTRIBUTE;
	}
	return 0;
}
