// SPDX-License-Identifier: Apache-2.0
/* DCAP v3 quotes: the bounds-checked parser and the serialiser (include/sgx/quote.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/quote.h"

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

int sgx_quote_parse(struct sgx_quote *q, const void *buf, size_t len, err_t *err)
{
	const uint8_t *b = buf, *p, *end;

	memset(q, 0, sizeof(*q));
	if (len > SGX_QUOTE_MAX_SIZE)
		return err_set(err, EINVAL, "quote: %zu bytes, more than the %d a quote may have",
			       len, SGX_QUOTE_MAX_SIZE);
	if (len < sizeof(q->header))
		return err_set(err, EINVAL, "quote: %zu bytes, shorter than its 48-byte header",
			       len);
	memcpy(&q->header, b, sizeof(q->header));
	if (q->header.version != SGX_QUOTE_VERSION_3)
		return err_set(err, ENOTSUP,
			       "quote header: version %u (only version 3 is supported)",
			       q->header.version);
	if (q->header.att_key_type != SGX_QL_ALG_ECDSA_P256)
		return err_set(
		    err, ENOTSUP,
		    "quote header: attestation key type %u (only 2, ECDSA-P256, is supported)",
		    q->header.att_key_type);
	if (len < SGX_QUOTE_MIN_SIZE)
		return err_set(err, EINVAL, "quote: %zu bytes, shorter than the %d of the smallest",
			       len, SGX_QUOTE_MIN_SIZE);
	memcpy(&q->report_body, b + 48, sizeof(q->report_body));
	q->signature_data_len = get32(b + SGX_QUOTE_SIGNED_SIZE);
	if (q->signature_data_len != len - SGX_QUOTE_SIG_DATA_OFFSET)
		return err_set(
		    err, EBADMSG, "quote: signature_data_len %u, but %zu bytes follow it (%s)",
		    q->signature_data_len, len - SGX_QUOTE_SIG_DATA_OFFSET,
		    q->signature_data_len > len - SGX_QUOTE_SIG_DATA_OFFSET ? "truncated"
									    : "trailing bytes");
	p = b + SGX_QUOTE_SIG_DATA_OFFSET;
	end = b + len;
	memcpy(q->signature, p, 64);
	memcpy(q->attest_key, p + 64, 64);
	memcpy(&q->qe_report, p + 128, 384);
	memcpy(q->qe_report_signature, p + 512, 64);
	p += SGX_QUOTE_SIG_FIXED_SIZE;
	/* len >= SGX_QUOTE_MIN_SIZE: the two length fields are there. */
	q->auth_data_size = get16(p);
	p += 2;
	if (q->auth_data_size > (size_t)(end - p) || (size_t)(end - p) - q->auth_data_size < 6)
		return err_set(
		    err, EBADMSG, "quote: QE auth data size %u is more than the %zu bytes left",
		    q->auth_data_size, (size_t)(end - p) < 6 ? 0 : (size_t)(end - p) - 6);
	q->auth_data = p;
	p += q->auth_data_size;
	q->cert_type = get16(p);
	q->cert_size = get32(p + 2);
	p += 6;
	if (q->cert_size != (size_t)(end - p))
		return err_set(err, EBADMSG,
			       "quote: certification data size %u, but %zu bytes are left (%s)",
			       q->cert_size, (size_t)(end - p),
			       q->cert_size > (size_t)(end - p) ? "truncated" : "trailing bytes");
	q->cert_data = p;
	return 0;
}

int sgx_quote_serialize(const struct sgx_quote *q, uint8_t **buf, size_t *len, err_t *err)
{
	size_t n, sig_len;
	uint8_t *b, *p;

	sig_len = SGX_QUOTE_SIG_FIXED_SIZE + 2 + (size_t)q->auth_data_size + 6 + q->cert_size;
	n = SGX_QUOTE_SIG_DATA_OFFSET + sig_len;
	if (n > SGX_QUOTE_MAX_SIZE)
		return err_set(err, EINVAL, "quote: %zu bytes, more than the %d a quote may have",
			       n, SGX_QUOTE_MAX_SIZE);
	if ((q->auth_data_size && !q->auth_data) || (q->cert_size && !q->cert_data))
		return err_set(err, EINVAL, "quote: auth or certification data missing");
	b = malloc(n);
	if (!b)
		return err_sys(err, ENOMEM, "quote");
	memcpy(b, &q->header, 48);
	memcpy(b + 48, &q->report_body, 384);
	put32(b + SGX_QUOTE_SIGNED_SIZE, (uint32_t)sig_len);
	p = b + SGX_QUOTE_SIG_DATA_OFFSET;
	memcpy(p, q->signature, 64);
	memcpy(p + 64, q->attest_key, 64);
	memcpy(p + 128, &q->qe_report, 384);
	memcpy(p + 512, q->qe_report_signature, 64);
	p += SGX_QUOTE_SIG_FIXED_SIZE;
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
