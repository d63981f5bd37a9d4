// SPDX-License-Identifier: Apache-2.0
/*
 * A stand-in for Intel's DCAP quote library (libsgx_dcap_ql.so.1) for
 * tests/ratls/ratls-dcap.c: it exports the three calls the DCAP provider
 * uses, records each call (fake_ql_log), and serves the TARGETINFO and
 * quote the test hands it (fake_ql_set), or misbehaves as the mode says.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static char mode[32] = "ok";
static uint8_t target[512], *quote, last_report[432];
static uint32_t quote_len;
static char log_buf[256];

EXPORT void fake_ql_note(const char *call)
{
	size_t n = strlen(log_buf);

	snprintf(log_buf + n, sizeof(log_buf) - n, "%s%s", n ? " " : "", call);
}

EXPORT const char *fake_ql_log(void)
{
	return log_buf;
}

EXPORT const uint8_t *fake_ql_last_report(void)
{
	return last_report;
}

/*
 * m: ok, target-error, size-error, quote-error, quote-unknown-error,
 * size-short, size-huge, size-small, overrun, wrong-body, padded,
 * padded-junk. A TARGETINFO given starts a new run: the log is cleared.
 */
EXPORT void fake_ql_set(const char *m, const uint8_t ti[512], const void *q, uint32_t len)
{
	snprintf(mode, sizeof(mode), "%s", m);
	if (ti)
		memcpy(target, ti, sizeof(target));
	if (q) {
		free(quote);
		quote = malloc(len);
		if (quote)
			memcpy(quote, q, len);
		quote_len = quote ? len : 0;
	}
	if (ti)
		log_buf[0] = 0;
}

static int is(const char *m)
{
	return strcmp(mode, m) == 0;
}

EXPORT uint32_t sgx_qe_get_target_info(uint8_t *ti)
{
	fake_ql_note("target_info");
	if (is("target-error"))
		return 0xe00d; /* SGX_QL_INTERFACE_UNAVAILABLE */
	memcpy(ti, target, sizeof(target));
	return 0;
}

EXPORT uint32_t sgx_qe_get_quote_size(uint32_t *size)
{
	fake_ql_note("quote_size");
	if (is("size-error"))
		return 0xe011; /* SGX_QL_NO_PLATFORM_CERT_DATA */
	if (is("size-short"))
		*size = 100;
	else if (is("size-huge"))
		*size = 64u << 20;
	else if (is("size-small"))
		*size = quote_len - 100;
	else if (is("padded") || is("padded-junk"))
		*size = quote_len + 16;
	else
		*size = quote_len;
	return 0;
}

EXPORT uint32_t sgx_qe_get_quote(const uint8_t *report, uint32_t size, uint8_t *out)
{
	fake_ql_note("quote");
	memcpy(last_report, report, sizeof(last_report));
	if (is("quote-error"))
		return 0xe015; /* SGX_QL_INVALID_REPORT */
	if (is("quote-unknown-error"))
		return 0xe0fe;
	if (!quote)
		return 0xe001;
	memcpy(out, quote, size < quote_len ? size : quote_len);
	if (is("overrun"))
		memset(out + size, 0, 8); /* past what was asked for */
	if (is("wrong-body"))
		out[48 + 64] ^= 1; /* MRENCLAVE */
	if (is("padded-junk"))
		out[quote_len + 3] = 'x';
	return 0;
}
