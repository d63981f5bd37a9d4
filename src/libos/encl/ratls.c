// SPDX-License-Identifier: Apache-2.0
/*
 * RA-TLS files for unmodified servers. Where the measured manifest names
 * them ("ratls_cert PATH", "ratls_key PATH", rune-image build --ratls-cert
 * --ratls-key), the LibOS makes, inside the enclave, a P-256 key pair
 * (BearSSL, seeded from RDRAND) and a self-signed certificate for it in
 * the interoperable RA-TLS form (TCG DICE evidence, 2.23.133.5.4.9: CBOR
 * tag 60000 over [quote, claims], claims {"pubkey-hash": [1, SHA-256 of
 * the DER SubjectPublicKeyInfo]}, the quote's report data SHA-256(claims)),
 * the quote from the in-enclave quote path (/dev/attestation/quote's).
 * pseudo.c serves both, PEM, read-only, at those paths.
 *
 * The key never leaves the enclave but through the workload itself, and it
 * signs one message the LibOS chooses: the certificate's TBS, built here
 * from a fixed template, the key and the quote (whose report body must be
 * this enclave's REPORT). The host picks nothing else that gets signed.
 * Made once per enclave (at start; a child process makes its own at first
 * open).
 */
#include "libos.h"

#include <bearssl/bearssl_ec.h>
#include <bearssl/bearssl_hash.h>
#include <bearssl/bearssl_rand.h>

/* What the certificate says, fixed: its name and a validity the host's clock has no part in. */
#define CN	   "RA-TLS LibOS enclave"
#define NOT_BEFORE "200101000000Z"
#define NOT_AFTER  "491231235959Z"

static const uint8_t oid_dice_evidence[] = { 0x06, 0x06, 0x67, 0x81, 0x05, 0x05, 0x04, 0x09 };
static const uint8_t alg_ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
					    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
/* SubjectPublicKeyInfo of a P-256 key, up to the point (65 bytes follow). */
static const uint8_t spki_prefix[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
				       0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
				       0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00 };
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };

enum { NOT_MADE, MAKING, MADE, FAILED };

static struct {
	int state;
	long err;
	uint8_t *cert; /* PEM, from the heap (cert_room bytes) */
	uint64_t cert_len, cert_room;
	char key[320]; /* PEM */
	uint64_t key_len;
} rt;

/* "KEY VALUE" of the manifest: VALUE's length copied to out (NUL-ended), or 0. */
uint64_t manifest_value(const char *key, char *out, uint64_t n)
{
	const char *l = libos_manifest.text;
	uint64_t kl = str_len(key), k = 0;

	while (*l) {
		if (!str_ncmp(l, key, kl) && l[kl] == ' ') {
			for (l += kl + 1; *l && *l != '\n' && k + 1 < n; l++)
				out[k++] = *l;
			out[k] = 0;
			return k;
		}
		while (*l && *l != '\n')
			l++;
		if (*l)
			l++;
	}
	return 0;
}

int ratls_enabled(void)
{
	char p[RATLS_PATH_MAX + 1];

	return manifest_value("ratls_cert", p, sizeof(p)) > 0;
}

/* ---- DER, built backwards from the end of a buffer ---- */

struct der {
	uint8_t *start, *p;
	int bad;
};

static void pre(struct der *d, const void *src, uint64_t n)
{
	if (d->bad || n > (uint64_t)(d->p - d->start)) {
		d->bad = 1;
		return;
	}
	d->p -= n;
	memcpy(d->p, src, n);
}

static void pre_hdr(struct der *d, uint8_t tag, uint64_t len)
{
	uint8_t h[5] = { tag };
	uint64_t n = 2;

	if (len < 0x80) {
		h[1] = (uint8_t)len;
	} else if (len < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)len;
		n = 3;
	} else if (len < 0x10000) {
		h[1] = 0x82;
		h[2] = (uint8_t)(len >> 8);
		h[3] = (uint8_t)len;
		n = 4;
	} else {
		h[1] = 0x83;
		h[2] = (uint8_t)(len >> 16);
		h[3] = (uint8_t)(len >> 8);
		h[4] = (uint8_t)len;
		n = 5;
	}
	pre(d, h, n);
}

/* Everything prepended since end, wrapped in TAG. */
static void wrap(struct der *d, uint8_t tag, const uint8_t *end)
{
	pre_hdr(d, tag, (uint64_t)(end - d->p));
}

/* A CBOR byte string's head (major type 2). */
static void pre_cbor_bstr(struct der *d, uint64_t len)
{
	uint8_t h[5] = { 0x40 | (uint8_t)len };
	uint64_t n = 1;

	if (len >= 24 && len < 0x100) {
		h[0] = 0x58;
		h[1] = (uint8_t)len;
		n = 2;
	} else if (len >= 0x100 && len < 0x10000) {
		h[0] = 0x59;
		h[1] = (uint8_t)(len >> 8);
		h[2] = (uint8_t)len;
		n = 3;
	} else if (len >= 0x10000) {
		h[0] = 0x5a;
		h[1] = (uint8_t)(len >> 24);
		h[2] = (uint8_t)(len >> 16);
		h[3] = (uint8_t)(len >> 8);
		h[4] = (uint8_t)len;
		n = 5;
	}
	pre(d, h, n);
}

static void pre_name(struct der *d)
{
	static const uint8_t cn_oid[] = { 0x06, 0x03, 0x55, 0x04, 0x03 };
	const uint8_t *end = d->p;

	pre(d, CN, sizeof(CN) - 1);
	pre_hdr(d, 0x0c, sizeof(CN) - 1); /* UTF8String */
	pre(d, cn_oid, sizeof(cn_oid));
	wrap(d, 0x30, end);
	wrap(d, 0x31, end);
	wrap(d, 0x30, end);
}

/* ---- PEM ---- */

/* Base64 of n bytes in 64-character lines between the LABEL lines; its length, or 0. */
static uint64_t pem(const uint8_t *der, uint64_t n, const char *label, char *out, uint64_t room)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint64_t k = 0, ll = str_len(label), line = 0;

	if (room < 2 * ll + 40 + (n + 2) / 3 * 4 + n / 48 + 2)
		return 0;
	memcpy(out, "-----BEGIN ", 11);
	memcpy(out + 11, label, ll);
	memcpy(out + 11 + ll, "-----\n", 6);
	k = 17 + ll;
	for (uint64_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16 | (i + 1 < n ? (uint32_t)der[i + 1] << 8 : 0) |
			     (i + 2 < n ? der[i + 2] : 0);

		out[k++] = b64[v >> 18 & 63];
		out[k++] = b64[v >> 12 & 63];
		out[k++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[k++] = i + 2 < n ? b64[v & 63] : '=';
		if (++line == 16 || i + 3 >= n) {
			out[k++] = '\n';
			line = 0;
		}
	}
	memcpy(out + k, "-----END ", 9);
	memcpy(out + k + 9, label, ll);
	memcpy(out + k + 9 + ll, "-----\n", 6);
	return k + 15 + ll;
}

/* ---- the key and the certificate ---- */

struct keypair {
	br_ec_private_key sk;
	br_ec_public_key pk;
	uint8_t skbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pkbuf[BR_EC_KBUF_PUB_MAX_SIZE];
};

static int keygen(struct keypair *kp)
{
	br_hmac_drbg_context rng;
	uint64_t seed[6];
	int ok;

	for (int i = 0; i < 6; i++)
		if (rdrand64(&seed[i]) < 0)
			return -EIO;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	ok =
	    br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &kp->sk, kp->skbuf, BR_EC_secp256r1) == 32 &&
	    br_ec_compute_pub(&br_ec_p256_m31, &kp->pk, kp->pkbuf, &kp->sk) == 65;
	memset(&rng, 0, sizeof(rng));
	memset(seed, 0, sizeof(seed));
	return ok ? 0 : -EIO;
}

/* SEC 1 ECPrivateKey, PEM ("EC PRIVATE KEY"), into rt.key. */
static int key_pem(const struct keypair *kp)
{
	uint8_t der[121], *p = der;

	memcpy(p, "\x30\x77\x02\x01\x01\x04\x20", 7);
	memcpy(p + 7, kp->sk.x, 32);
	p[39] = 0xa0;
	p[40] = sizeof(oid_p256);
	memcpy(p + 41, oid_p256, sizeof(oid_p256));
	memcpy(p + 51, "\xa1\x44\x03\x42\x00", 5);
	memcpy(p + 56, kp->pk.q, 65);
	rt.key_len = pem(der, sizeof(der), "EC PRIVATE KEY", rt.key, sizeof(rt.key));
	memset(der, 0, sizeof(der));
	return rt.key_len ? 0 : -EIO;
}

static void sha256_of(const void *p, uint64_t n, uint8_t out[32])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, out);
}

/*
 * The certificate (DER) in buf, ending at its end: the TBS built
 * backwards, then its signature algorithm and value after it.
 */
static long cert_der(const struct keypair *kp, const uint8_t *quote, uint64_t qlen,
		     const uint8_t claims[51], uint8_t *buf, uint64_t room, uint8_t **out,
		     uint64_t *out_len)
{
	/* Room after the TBS: algorithm (12) and BIT STRING (3 + at most 72). */
	const uint64_t tail = 12 + 3 + 72;
	struct der d = { .start = buf, .p = buf + room - tail };
	uint8_t *tbs_end = d.p, *ext_end, serial[16], h[32], sig[72], *t;
	uint64_t v, n;

	/* extensions [3] { SEQUENCE { Extension { OID, OCTET STRING evidence } } } */
	ext_end = d.p;
	pre(&d, claims, 51);
	pre_cbor_bstr(&d, 51);
	pre(&d, quote, qlen);
	pre_cbor_bstr(&d, qlen);
	pre(&d, "\xd9\xea\x60\x82", 4); /* tag 60000, array of 2 */
	wrap(&d, 0x04, ext_end);
	pre(&d, oid_dice_evidence, sizeof(oid_dice_evidence));
	wrap(&d, 0x30, ext_end);
	wrap(&d, 0x30, ext_end);
	wrap(&d, 0xa3, ext_end);
	pre(&d, kp->pk.q, 65);
	pre(&d, spki_prefix, sizeof(spki_prefix));
	pre_name(&d); /* subject */
	pre(&d, "\x30\x1e\x17\x0d" NOT_BEFORE "\x17\x0d" NOT_AFTER, 32);
	pre_name(&d); /* issuer */
	pre(&d, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256));
	for (int i = 0; i < 2; i++) {
		if (rdrand64(&v) < 0)
			return -EIO;
		memcpy(serial + 8 * i, &v, 8);
	}
	serial[0] = (serial[0] & 0x7f) | 0x40; /* positive, 16 bytes */
	pre(&d, serial, sizeof(serial));
	pre_hdr(&d, 0x02, sizeof(serial));
	pre(&d, "\xa0\x03\x02\x01\x02", 5); /* v3 */
	wrap(&d, 0x30, tbs_end);
	if (d.bad)
		return -E2BIG_LIBOS;

	/* The one signature this key makes for the LibOS: over the TBS just built. */
	sha256_of(d.p, (uint64_t)(tbs_end - d.p), h);
	n = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, h, &kp->sk, sig);
	if (!n || n > sizeof(sig))
		return -EIO;
	t = tbs_end;
	memcpy(t, alg_ecdsa_sha256, sizeof(alg_ecdsa_sha256));
	t += sizeof(alg_ecdsa_sha256);
	*t++ = 0x03;
	*t++ = (uint8_t)(n + 1);
	*t++ = 0;
	memcpy(t, sig, n);
	t += n;
	/* The Certificate SEQUENCE around TBS, algorithm and signature. */
	pre_hdr(&d, 0x30, (uint64_t)(t - d.p));
	if (d.bad)
		return -E2BIG_LIBOS;
	*out = d.p;
	*out_len = (uint64_t)(t - d.p);
	return 0;
}

static long make(void)
{
	static struct keypair kp;
	uint8_t spki[91], claims[51], rd[64] = { 0 }, *quote = NULL, *buf = NULL, *der;
	uint64_t qlen = 0, room, dlen = 0;
	long r;

	r = keygen(&kp);
	if (r < 0) {
		log_err("RA-TLS certificate: no key (RDRAND or BearSSL failed)");
		return r;
	}
	/* claims = {"pubkey-hash": bstr([1, bstr SHA-256(SPKI)])}, report data SHA-256(claims). */
	memcpy(spki, spki_prefix, sizeof(spki_prefix));
	memcpy(spki + sizeof(spki_prefix), kp.pk.q, 65);
	memcpy(claims, "\xa1\x6bpubkey-hash\x58\x24\x82\x01\x58\x20", 19);
	sha256_of(spki, sizeof(spki), claims + 19);
	sha256_of(claims, sizeof(claims), rd);
	r = pseudo_quote(rd, &quote, &qlen);
	if (r < 0) {
		log_err("RA-TLS certificate: no quote of this enclave (error %ld)", -r);
		goto out;
	}
	room = PAGE_UP(qlen + 1024);
	buf = mm_alloc(room, 0);
	r = buf ? cert_der(&kp, quote, qlen, claims, buf, room, &der, &dlen) : -ENOMEM;
	if (r < 0) {
		log_err("RA-TLS certificate: cannot build it (error %ld)", -r);
		goto out;
	}
	rt.cert_room = PAGE_UP(dlen / 3 * 4 + dlen / 48 + 128);
	rt.cert = mm_alloc(rt.cert_room, 0);
	rt.cert_len = rt.cert ? pem(der, dlen, "CERTIFICATE", (char *)rt.cert, rt.cert_room) : 0;
	r = rt.cert_len && key_pem(&kp) == 0 ? 0 : -ENOMEM;
out:
	memset(&kp, 0, sizeof(kp));
	if (quote)
		mm_free(quote, PAGE_UP(qlen));
	if (buf)
		mm_free(buf, room);
	return r;
}

long ratls_make(void)
{
	int s = NOT_MADE;

	if (__atomic_compare_exchange_n(&rt.state, &s, MAKING, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_ACQUIRE)) {
		rt.err = make();
		__atomic_store_n(&rt.state, rt.err < 0 ? FAILED : MADE, __ATOMIC_RELEASE);
		return rt.err;
	}
	/* Another thread is making them (it may be waiting for the host): try again. */
	if (s == MAKING)
		return -EAGAIN;
	return s == MADE ? 0 : rt.err;
}

long ratls_file(int key, const uint8_t **data, uint64_t *size)
{
	long r = ratls_make();

	if (r < 0)
		return r;
	*data = key ? (const uint8_t *)rt.key : rt.cert;
	*size = key ? rt.key_len : rt.cert_len;
	return 0;
}
