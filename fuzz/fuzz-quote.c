/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the DCAP quote parser (v3, v4, v5: every length field), the
 * serialiser (serialise(parse(q)) == q) and libratls's verifier up to where an
 * untrusted quote takes it (its own chain's last certificate as the root).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ratls/ratls.h"
#include "sgx/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sgx_quote q;
	uint8_t *again = NULL;
	size_t len = 0;
	err_t err = NULL;
	const char *last;

	if (sgx_quote_parse(&q, data, size, &err) == 0) {
		if (sgx_quote_serialize(&q, &again, &len, &err) == 0 &&
		    (len != size || memcmp(again, data, size) != 0))
			abort();
		free(again);
		err_free(&err);
		last = q.cert_size ? memmem(q.cert_data, q.cert_size, "-----BEGIN", 10) : NULL;
		if (last) {
			struct ratls_trust t = { .root_pem = last,
						 .root_pem_len =
						     q.cert_size -
						     (size_t)(last - (const char *)q.cert_data) };

			ratls_quote_verify(data, size, &t, NULL, NULL, &err);
		}
	}
	err_free(&err);
	return 0;
}
