// SPDX-License-Identifier: Apache-2.0
/*
 * src/common/sha256.c: the FIPS 180-4 examples, then random data in random
 * pieces against OpenSSL, with the portable code and (where this CPU has
 * it) SHA-NI; and the two agree with each other. TAP output.
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/sha256.h"

static int failures;

static void report(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	failures += !ok;
}

static void hex(const uint8_t *d, char *out)
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* SHA-256 of data fed in pieces of at most step bytes (0: at once). */
static void digest(const uint8_t *data, size_t len, size_t step, uint8_t out[32])
{
	struct sha256 c;
	size_t off = 0;

	sha256_init(&c);
	while (off < len) {
		size_t n = step && len - off > step ? step : len - off;

		sha256_update(&c, data + off, n);
		off += n;
	}
	sha256_final(&c, out);
}

static int vectors(void)
{
	static const char *const want[] = {
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
	};
	static const char *const in[] = {
		"",
		"abc",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		NULL,
	};
	static uint8_t million[1000000];
	uint8_t d[32];
	char h[65];
	int ok = 1;

	memset(million, 'a', sizeof(million));
	for (int i = 0; i < 4; i++) {
		if (in[i])
			digest((const uint8_t *)in[i], strlen(in[i]), 0, d);
		else
			digest(million, sizeof(million), 997, d);
		hex(d, h);
		ok &= !strcmp(h, want[i]);
	}
	return ok;
}

static int random_against_openssl(unsigned seed)
{
	static uint8_t buf[70000];
	uint8_t d[32], ref[32];
	int ok = 1;

	srand(seed);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)rand() % sizeof(buf), step = (size_t)rand() % 200;

		if (round < 130)
			len = (size_t)round; /* every padding case */
		digest(buf, len, step, d);
		EVP_Digest(buf, len, ref, NULL, EVP_sha256(), NULL);
		ok &= !memcmp(d, ref, 32);
	}
	return ok;
}

int main(void)
{
	unsigned a, b, c, d, ebx7 = 0;
	int ni;

	__cpuid(1, a, b, c, d);
	if (__get_cpuid_max(0, NULL) >= 7) {
		unsigned c1 = c;

		__cpuid_count(7, 0, a, ebx7, c, d);
		c = c1;
	}
	ni = sha256_cpuid_has_shani(c, ebx7);
	sha256_set_shani(0);
	report(vectors(), "portable: FIPS 180-4 examples (empty, abc, 448 bits, a million a)");
	report(random_against_openssl(1), "portable: random lengths and pieces as OpenSSL");
	if (!ni) {
		printf("skip - SHA-NI: this CPU does not have it\n");
		return failures ? 1 : 0;
	}
	sha256_set_shani(1);
	report(vectors(), "SHA-NI: FIPS 180-4 examples");
	report(random_against_openssl(2), "SHA-NI: random lengths and pieces as OpenSSL");
	report(!sha256_cpuid_has_shani(0, 1u << 29) && !sha256_cpuid_has_shani(1u << 9, 0),
	       "SHA-NI needs both SSSE3 and SHA in CPUID");
	return failures ? 1 : 0;
}
