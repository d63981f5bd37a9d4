// SPDX-License-Identifier: Apache-2.0
/*
 * Quote generation (the emulated QE) and verification, per operation, and
 * the floor verification can't go below: the four ECDSA-P256 verifications
 * it has to do (the platform CA and PCK certificates, the QE report, the
 * quote); with collateral (argv[2], a directory) too. bench/quote.sh
 * builds and runs it; docs/benchmarks.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "sgx/loader.h"
#include "ratls/ratls.h"
#include "sgx/quote.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, err_t *err)
{
	fprintf(stderr, "bench-quote: %s: %s\n", what, err_msg(*err));
	exit(1);
}

/* A REPORT aimed at the emulated QE, MACed with its report key. */
static void make_report(struct sgx_report *r)
{
	struct sgx_targetinfo ti;
	EVP_MAC *m = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(m);
	char cipher[] = "AES-128-CBC";
	OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
			    OSSL_PARAM_construct_end() };
	uint8_t key[16];
	size_t n = 0;
	err_t err = NULL;

	memset(r, 0, sizeof(*r));
	memset(r->body.mrenclave, 0xab, 32);
	sgx_qe_emu_targetinfo(&ti);
	if (sgx_emu_report_key(&ti, r->keyid, key, &err) < 0)
		die("report key", &err);
	if (!ctx || !EVP_MAC_init(ctx, key, 16, p) ||
	    !EVP_MAC_update(ctx, (const unsigned char *)&r->body, sizeof(r->body)) ||
	    !EVP_MAC_final(ctx, r->mac, &n, 16))
		exit(1);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	uint8_t *q = NULL, sig[72], data[432] = { 0 };
	size_t len = 0, slen = sizeof(sig);
	char *root = NULL;
	struct sgx_report r;
	err_t err = NULL;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	EVP_MD_CTX *md;
	struct ratls_trust trust = { 0 };
	struct ratls_collateral *coll = NULL;
	double t0, gen, ver, ver_coll = 0, floor1;

	if (n < 1 || !k)
		return 2;
	make_report(&r);
	if (sgx_qe_emu_quote(&r, &q, &len, &err) < 0 || sgx_emu_root_ca_pem(&root, &err) < 0)
		die("first quote", &err);
	free(q);
	trust.root_pem = root;
	trust.root_pem_len = strlen(root);
	if (argc > 2 && ratls_collateral_load(argv[2], &coll, &err) < 0)
		die("collateral", &err);

	t0 = now();
	for (int i = 0; i < n; i++) {
		if (sgx_qe_emu_quote(&r, &q, &len, &err) < 0)
			die("quote", &err);
		if (i < n - 1)
			free(q);
	}
	gen = (now() - t0) / n;

	t0 = now();
	for (int i = 0; i < n; i++)
		if (ratls_quote_verify(q, len, &trust, NULL, NULL, &err) < 0)
			die("verify", &err);
	ver = (now() - t0) / n;

	if (coll) {
		trust.collateral = coll;
		t0 = now();
		for (int i = 0; i < n; i++)
			if (ratls_quote_verify(q, len, &trust, NULL, NULL, &err) < 0)
				die("verify with collateral", &err);
		ver_coll = (now() - t0) / n;
		ratls_collateral_free(coll);
	}

	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k) <= 0 ||
	    EVP_DigestSign(md, sig, &slen, data, sizeof(data)) <= 0)
		return 1;
	t0 = now();
	for (int i = 0; i < n; i++) {
		EVP_MD_CTX_reset(md);
		if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) <= 0 ||
		    EVP_DigestVerify(md, sig, slen, data, sizeof(data)) != 1)
			return 1;
	}
	floor1 = (now() - t0) / n;

	printf("quote size:                          %zu bytes\n", len);
	printf("quote generation (emulated QE):      %8.1f us/op\n", gen * 1e6);
	printf("quote verification (no collateral):  %8.1f us/op\n", ver * 1e6);
	printf("  floor: 4 ECDSA-P256 verifications: %8.1f us/op (%.2fx)\n", 4 * floor1 * 1e6,
	       ver / (4 * floor1));
	/* Collateral adds the TCB signing chain (twice: TCB info, QE identity), its two
	 * signatures and the CRLs' (2, and the root's again for the signing chains). */
	if (ver_coll > 0)
		printf("quote verification (collateral):     %8.1f us/op\n"
		       "  floor: 11 ECDSA-P256 verifications: %7.1f us/op (%.2fx)\n",
		       ver_coll * 1e6, 11 * floor1 * 1e6, ver_coll / (11 * floor1));
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	free(q);
	free(root);
	return 0;
}
