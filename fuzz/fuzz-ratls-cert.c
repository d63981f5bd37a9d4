/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: RA-TLS certificate verification on a DER certificate
 * (the evidence extensions, the CBOR of the DICE form, the claims, the
 * quote inside, up to the root check: no root is trusted here).
 */
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "ratls/ratls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	X509 *c = d2i_X509(NULL, &p, (long)size);
	static const char root[] = "not a root";
	struct ratls_trust t = { .root_pem = root, .root_pem_len = sizeof(root) - 1 };
	struct ratls_policy pol = { 0 };
	err_t err = NULL;

	if (c) {
		ratls_cert_verify(c, &t, &pol, NULL, &err);
		err_free(&err);
		t.root_pem = NULL; /* the pinned Intel root: the chain's own last certificate */
		ratls_cert_verify(c, &t, &pol, NULL, &err);
		err_free(&err);
	}
	X509_free(c);
	return 0;
}
