// SPDX-License-Identifier: Apache-2.0
/* DCAP quotes (v3, v4, v5): the bounds-checked parser and the serialiser (include/sgx/quote.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/quote.h"
#include "quote_internal.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

/* Where the version puts the report body and signature_data_len (0: not a version we read). */
static size_t body_offset(uint16_t version)
{
	switch (version) {
	case SGX_QUOTE_VERSION_3:
	case SGX_QUOTE_VERSION_4:
		return 48;
	case SGX_QUOTE_VERSION_5:
		return 54; /* after the body descriptor: u16 type, u32 size */
	}
	return 0;
}

/* The smallest quote of a version: empty auth and certification data. */
static size_t min_size(uint16_t version)
{
	size_t n = sgx_quote_signed_size(version) + 4 + SGX_QUOTE_SIG_FIXED_SIZE + 2 + 6;

	return version == SGX_QUOTE_VERSION_3 ? n : n + 6; /* the type-6 wrapper */
}

static int check_header(const uint8_t *b, size_t len, err_t *err)
{
	uint16_t version, key_type, body_type;
	uint32_t tee_type, body_size;

	if (len > SGX_QUOTE_MAX_SIZE)
		return err_set(err, EINVAL, "quote: %zu bytes, more than the %d a quote may have",
			       len, SGX_QUOTE_MAX_SIZE);
	if (len < 48)
		return err_set(err, EINVAL, "quote: %zu bytes, shorter than its 48-byte header",
			       len);
	version = get16(b);
	key_type = get16(b + 2);
	tee_type = get32(b + 4);
	if (!body_offset(version))
		return err_set(err, ENOTSUP,
			       "quote header: version %u (versions 3, 4 and 5 are supported)",
			       version);
	if (key_type != SGX_QL_ALG_ECDSA_P256)
		return err_set(
		    err, ENOTSUP,
		    "quote header: attestation key type %u (only 2, ECDSA-P256, is supported)",
		    key_type);
	if (version != SGX_QUOTE_VERSION_3 && tee_type != SGX_QUOTE_TEE_SGX)
		return err_set(err, ENOTSUP,
			       "quote header: TEE type 0x%x (only 0, SGX, is supported; 0x81 is "
			       "TDX)",
			       tee_type);
	if (len < min_size(version))
		return err_set(err, EINVAL,
			       "quote: %zu bytes, shorter than the %zu of the smallest version %u "
			       "quote",
			       len, min_size(version), version);
	if (version != SGX_QUOTE_VERSION_5)
		return 0;
	body_type = get16(b + 48);
	body_size = get32(b + 50);
	if (body_type != SGX_QUOTE_BODY_SGX)
		return err_set(err, ENOTSUP,
			       "quote body descriptor: type %u (only 1, an SGX enclave report, is "
			       "supported)",
			       body_type);
	if (body_size != sizeof(struct sgx_report_body))
		return err_set(err, EBADMSG,
			       "quote body descriptor: size %u, not the %zu of an SGX report body",
			       body_size, sizeof(struct sgx_report_body));
	return 0;
}

int sgx_quote_declared_size(const void *buf, size_t len, size_t *size, err_t *err)
{
	const uint8_t *b = buf;
	size_t off;
	int ret;

	/* The header is read whole before the length: len >= the smallest quote. */
	if ((ret = check_header(b, len, err)) < 0)
		return ret;
	off = sgx_quote_signed_size(get16(b));
	*size = off + 4 + get32(b + off);
	return 0;
}

/* A cursor over the signature data: every take checked against what is left. */
struct rd {
	const uint8_t *p, *end;
};

static size_t left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static const uint8_t *take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (n > left(r))
		return NULL;
	r->p += n;
	return p;
}

/* QE report, its signature, auth data, certification data: to r's end exactly. */
static int parse_qe_part(struct sgx_quote *q, struct rd *r, err_t *err)
{
	const uint8_t *p;

	if (!(p = take(r, 448)))
		return err_set(err, EBADMSG,
			       "quote: %zu bytes left for the 448 of the QE report "
			       "and its signature",
			       left(r));
	memcpy(&q->qe_report, p, 384);
	memcpy(q->qe_report_signature, p + 384, 64);
	if (!(p = take(r, 2)))
		return err_set(err, EBADMSG, "quote: no room for the QE auth data size");
	q->auth_data_size = get16(p);
	if (q->auth_data_size > left(r) || left(r) - q->auth_data_size < 6)
		return err_set(err, EBADMSG,
			       "quote: QE auth data size %u is more than the %zu bytes left",
			       q->auth_data_size, left(r) < 6 ? 0 : left(r) - 6);
	q->auth_data = take(r, q->auth_data_size);
	p = take(r, 6);
	q->cert_type = get16(p);
	q->cert_size = get32(p + 2);
	if (q->cert_size != left(r))
		return err_set(
		    err, EBADMSG, "quote: certification data size %u, but %zu bytes are left (%s)",
		    q->cert_size, left(r), q->cert_size > left(r) ? "truncated" : "trailing bytes");
	q->cert_data = take(r, q->cert_size);
	return 0;
}

int sgx_quote_parse(struct sgx_quote *q, const void *buf, size_t len, err_t *err)
{
	const uint8_t *b = buf, *p;
	size_t body, sig_off;
	struct rd r;
	uint16_t outer_type;
	uint32_t outer_size;
	int ret;

	memset(q, 0, sizeof(*q));
	if ((ret = check_header(b, len, err)) < 0)
		return ret;
	memcpy(&q->header, b, sizeof(q->header));
	body = body_offset(q->header.version);
	sig_off = sgx_quote_signed_size(q->header.version);
	memcpy(&q->report_body, b + body, sizeof(q->report_body));
	q->signature_data_len = get32(b + sig_off);
	if (q->signature_data_len != len - sig_off - 4)
		return err_set(
		    err, EBADMSG, "quote: signature_data_len %u, but %zu bytes follow it (%s)",
		    q->signature_data_len, len - sig_off - 4,
		    q->signature_data_len > len - sig_off - 4 ? "truncated" : "trailing bytes");
	r.p = b + sig_off + 4;
	r.end = b + len;
	/* len >= the smallest quote of the version: the fixed parts are there. */
	p = take(&r, 128);
	memcpy(q->signature, p, 64);
	memcpy(q->attest_key, p + 64, 64);
	if (q->header.version == SGX_QUOTE_VERSION_3)
		return parse_qe_part(q, &r, err);
	/* v4, v5: the QE part is certification data of type 6, which must fill the rest. */
	p = take(&r, 6);
	outer_type = get16(p);
	outer_size = get32(p + 2);
	if (outer_type != SGX_QL_CERT_QE_REPORT)
		return err_set(err, EBADMSG,
			       "quote: certification data type %u, not 6 (QE report certification "
			       "data, as version %u quotes carry)",
			       outer_type, q->header.version);
	if (outer_size != left(&r))
		return err_set(err, EBADMSG,
			       "quote: QE report certification data size %u, but %zu bytes are "
			       "left (%s)",
			       outer_size, left(&r),
			       outer_size > left(&r) ? "truncated" : "trailing bytes");
	return parse_qe_part(q, &r, err);
}

int sgx_quote_serialize(const struct sgx_quote *q, uint8_t **buf, size_t *len, err_t *err)
{
	size_t n, sig_len, qe_len, body, sig_off;
	int wrapped = q->header.version != SGX_QUOTE_VERSION_3;
	uint8_t *b, *p;

	body = body_offset(q->header.version);
	if (!body)
		return err_set(err, ENOTSUP, "quote: version %u (3, 4 or 5)", q->header.version);
	sig_off = sgx_quote_signed_size(q->header.version);
	qe_len = 448 + 2 + (size_t)q->auth_data_size + 6 + q->cert_size;
	sig_len = 128 + (wrapped ? 6 : 0) + qe_len;
	n = sig_off + 4 + sig_len;
	if (n > SGX_QUOTE_MAX_SIZE)
		return err_set(err, EINVAL, "quote: %zu bytes, more than the %d a quote may have",
			       n, SGX_QUOTE_MAX_SIZE);
	if ((q->auth_data_size && !q->auth_data) || (q->cert_size && !q->cert_data))
		return err_set(err, EINVAL, "quote: auth or certification data missing");
	b = malloc(n);
	if (!b)
		return err_sys(err, ENOMEM, "quote");
	memcpy(b, &q->header, 48);
	if (q->header.version == SGX_QUOTE_VERSION_5) {
		put16(b + 48, SGX_QUOTE_BODY_SGX);
		put32(b + 50, sizeof(q->report_body));
	}
	memcpy(b + body, &q->report_body, 384);
	put32(b + sig_off, (uint32_t)sig_len);
	p = b + sig_off + 4;
	memcpy(p, q->signature, 64);
	memcpy(p + 64, q->attest_key, 64);
	p += 128;
	if (wrapped) {
		put16(p, SGX_QL_CERT_QE_REPORT);
		put32(p + 2, (uint32_t)qe_len);
		p += 6;
	}
	memcpy(p, &q->qe_report, 384);
	memcpy(p + 384, q->qe_report_signature, 64);
	p += 448;
	put16(p, q->auth_data_size);
	if (q->auth_data_size)
		memcpy(p + 2, q->auth_data, q->auth_data_size);
	p += 2 + q->auth_data_size;
	put16(p, q->cert_type);
	put32(p + 2, q->cert_size);
	if (q->cert_size)
		memcpy(p + 6, q->cert_data, q->cert_size);
	*buf = b;
	*len = n;
	return 0;
}
