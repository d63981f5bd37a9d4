// SPDX-License-Identifier: Apache-2.0
/*
 * The emulated quoting enclave (QE3's behaviour, without an enclave): it
 * verifies the target enclave's REPORT with its own report key (what the
 * real QE gets from EGETKEY), then signs header + report body with its
 * attestation key. The attestation key is certified as the real one is:
 * the QE report's REPORTDATA is SHA-256(attestation key || auth data) || 0,
 * and a PCK key signs that QE report; the PCK certificate chains to a PCK
 * platform CA and a per-host "emulator root CA". All of them are created
 * once, in one 0600 file beside the emulator's machine secret.
 *
 * Like everything the emulator does, these quotes prove nothing: anyone
 * who can read that file (or the machine secret) forges them. Verifiers
 * accept them only when told to trust this host's emulator root CA.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/cleanup.h"
#include "sgx/loader.h"
#include "sgx/quote.h"
#include "libsgx/fileio.h"
#include "quote_internal.h"

/* What the emulated QE looks like: Intel's QE identity, its own MRENCLAVE. */
#define QE_ISVPRODID	1
#define QE_ISVSVN	8
#define QE_PCE_SVN	13
#define QE_ATTRIBUTES	0x15ULL /* INIT | MODE64BIT | PROVISIONKEY */
#define QE_XFRM		0x03ULL
#define PKI_VALID_YEARS 30

static const uint8_t qe_mrsigner[32] = { 0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e,
					 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
					 0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b,
					 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff };
static const uint8_t emu_cpusvn[16] = "RUNE-SGX-EMU\0\0\0";

static void qe_mrenclave(uint8_t out[32])
{
	static const char label[] = "rune SGX emulator quoting enclave v1";

	quote_sha256(label, sizeof(label) - 1, NULL, 0, out);
}

void sgx_qe_emu_targetinfo(struct sgx_targetinfo *ti)
{
	memset(ti, 0, sizeof(*ti));
	qe_mrenclave(ti->mrenclave);
	ti->attributes = QE_ATTRIBUTES;
	ti->xfrm = QE_XFRM;
}

/* ---- the keys and certificates ---- */

struct qe_pki {
	EVP_PKEY *root_key, *ca_key, *pck_key, *att_key;
	X509 *root, *ca, *pck;
};

static void pki_free(struct qe_pki *k)
{
	EVP_PKEY_free(k->root_key);
	EVP_PKEY_free(k->ca_key);
	EVP_PKEY_free(k->pck_key);
	EVP_PKEY_free(k->att_key);
	X509_free(k->root);
	X509_free(k->ca);
	X509_free(k->pck);
	memset(k, 0, sizeof(*k));
}

static EVP_PKEY *new_p256(void)
{
	return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/*
 * The PCK certificate's SGX extensions (OID 1.2.840.113741.1.13.1), as
 * Intel's carry them, DER by hand: PPID, TCB (component SVNs = the CPUSVN's
 * bytes, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type. The emulator's values
 * say what it is: the marker CPUSVN, FMSPC "RUNEMU", PCE-ID 0, Standard.
 */
#define SGX_EXT_OID "1.2.840.113741.1.13.1"
#define EMU_FMSPC   "RUNEMU"
#define DER_MAX	    1024

struct der {
	uint8_t b[DER_MAX];
	size_t n;
	int bad;
};

static void der_raw(struct der *d, const void *p, size_t n)
{
	if (d->bad || n > DER_MAX - d->n) {
		d->bad = 1;
		return;
	}
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

/* Appends TAG, the length of n bytes and the bytes. */
static void der_tlv(struct der *d, uint8_t tag, const void *p, size_t n)
{
	uint8_t h[4] = { tag };
	size_t hl = 2;

	if (n < 0x80) {
		h[1] = (uint8_t)n;
	} else if (n < 0x100) {
		h[1] = 0x81;
		h[2] = (uint8_t)n;
		hl = 3;
	} else {
		h[1] = 0x82;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	}
	der_raw(d, h, hl);
	der_raw(d, p, n);
}

/* SEQUENCE { OID SGX_EXT_OID.arc[.sub], the value (a TLV in v) } */
static void der_entry(struct der *d, uint8_t arc, uint8_t sub, const struct der *v)
{
	static const uint8_t base[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };
	struct der e, oid;

	e.n = oid.n = 0;
	e.bad = oid.bad = 0;
	der_raw(&oid, base, sizeof(base));
	der_raw(&oid, &arc, 1);
	if (sub)
		der_raw(&oid, &sub, 1);
	der_tlv(&e, 0x06, oid.b, oid.n);
	der_raw(&e, v->b, v->n);
	der_tlv(d, 0x30, e.b, e.n);
	d->bad |= e.bad | oid.bad | v->bad;
}

/* INTEGER (0x02) or ENUMERATED (0x0a) of v < 65536. */
static void der_small_int(struct der *d, uint8_t tag, unsigned v)
{
	uint8_t b[3] = { 0, (uint8_t)(v >> 8), (uint8_t)v };
	size_t skip = v > 0x7fff ? 0 : v > 0x7f ? 1 : 2;

	der_tlv(d, tag, b + skip, 3 - skip);
}

static int add_sgx_extensions(X509 *c)
{
	struct der *top = calloc(4, sizeof(struct der)), *tcb = top + 1, *seq = top + 2,
		   *v = top + 3;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	ASN1_OBJECT *obj = NULL;
	uint8_t ppid[16];
	int ok;

	if (!top || RAND_bytes(ppid, sizeof(ppid)) != 1) {
		free(top);
		return 0;
	}
	for (int i = 0; i < 16; i++) {
		v->n = 0;
		der_small_int(v, 0x02, emu_cpusvn[i]);
		der_entry(tcb, 2, (uint8_t)(i + 1), v);
	}
	v->n = 0;
	der_small_int(v, 0x02, QE_PCE_SVN);
	der_entry(tcb, 2, 17, v);
	v->n = 0;
	der_tlv(v, 0x04, emu_cpusvn, 16);
	der_entry(tcb, 2, 18, v);

	v->n = 0;
	der_tlv(v, 0x04, ppid, sizeof(ppid));
	der_entry(top, 1, 0, v);
	v->n = 0;
	der_tlv(v, 0x30, tcb->b, tcb->n);
	der_entry(top, 2, 0, v);
	v->n = 0;
	der_tlv(v, 0x04, "\0\0", 2);
	der_entry(top, 3, 0, v);
	v->n = 0;
	der_tlv(v, 0x04, EMU_FMSPC, 6);
	der_entry(top, 4, 0, v);
	v->n = 0;
	der_small_int(v, 0x0a, 0); /* SGX type: Standard */
	der_entry(top, 5, 0, v);
	der_tlv(seq, 0x30, top->b, top->n);

	ok = !top->bad && !tcb->bad && !seq->bad && !v->bad &&
	     (obj = OBJ_txt2obj(SGX_EXT_OID, 1)) && (os = ASN1_OCTET_STRING_new()) &&
	     ASN1_OCTET_STRING_set(os, seq->b, (int)seq->n) &&
	     (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) && X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	free(top);
	return ok;
}

/* A certificate for key named cn, signed by issuer_key (issuer NULL: self-signed). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *instance, X509 *issuer,
		       EVP_PKEY *issuer_key, int ca, int pathlen)
{
	X509 *c = X509_new();
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	char bc[32];
	int ok;

	if (!c)
		return NULL;
	ok = RAND_bytes(serial, sizeof(serial)) == 1;
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	ok = ok && (bn = BN_bin2bn(serial, sizeof(serial), NULL)) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) && X509_set_version(c, 2) &&
	     X509_gmtime_adj(X509_getm_notBefore(c), -24 * 3600) &&
	     X509_gmtime_adj(X509_getm_notAfter(c), (long)PKI_VALID_YEARS * 365 * 24 * 3600) &&
	     X509_set_pubkey(c, key) && (name = X509_get_subject_name(c)) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0) &&
	     X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
					(const unsigned char *)"rune SGX emulator (not Intel)", -1,
					-1, 0) &&
	     X509_NAME_add_entry_by_txt(name, "OU", MBSTRING_ASC, (const unsigned char *)instance,
					-1, -1, 0) &&
	     X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	BN_free(bn);
	if (ca)
		snprintf(bc, sizeof(bc),
			 pathlen >= 0 ? "critical,CA:TRUE,pathlen:%d" : "critical,CA:TRUE",
			 pathlen);
	ok =
	    ok &&
	    add_ext(c, issuer ? issuer : c, NID_basic_constraints, ca ? bc : "critical,CA:FALSE") &&
	    add_ext(c, issuer ? issuer : c, NID_key_usage,
		    ca ? "critical,keyCertSign,cRLSign"
		       : "critical,digitalSignature,nonRepudiation") &&
	    add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash") &&
	    add_ext(c, issuer ? issuer : c, NID_authority_key_identifier, "keyid:always") &&
	    (ca || add_sgx_extensions(c)) && X509_sign(c, issuer_key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static int pki_generate(struct qe_pki *k)
{
	uint8_t id[8];
	char inst[64];

	/* Each host's emulator PKI says which it is: a random instance id. */
	if (RAND_bytes(id, sizeof(id)) != 1)
		return -EIO;
	snprintf(inst, sizeof(inst), "emulator instance %02x%02x%02x%02x%02x%02x%02x%02x", id[0],
		 id[1], id[2], id[3], id[4], id[5], id[6], id[7]);
	k->root_key = new_p256();
	k->ca_key = new_p256();
	k->pck_key = new_p256();
	k->att_key = new_p256();
	if (!k->root_key || !k->ca_key || !k->pck_key || !k->att_key)
		return -EIO;
	k->root = make_cert(k->root_key, "rune SGX EMULATOR Root CA (emulated attestation only)",
			    inst, NULL, k->root_key, 1, -1);
	k->ca = k->root ? make_cert(k->ca_key, "rune SGX emulator PCK Platform CA", inst, k->root,
				    k->root_key, 1, 0)
			: NULL;
	k->pck = k->ca ? make_cert(k->pck_key, "rune SGX emulator PCK Certificate", inst, k->ca,
				   k->ca_key, 0, -1)
		       : NULL;
	return k->pck ? 0 : -EIO;
}

/* The file: root, root key, CA, CA key, PCK cert, PCK key, attestation key. */
static int pki_write(const struct qe_pki *k, BIO *b)
{
	return PEM_write_bio_X509(b, k->root) &&
	       PEM_write_bio_PrivateKey(b, k->root_key, NULL, NULL, 0, NULL, NULL) &&
	       PEM_write_bio_X509(b, k->ca) &&
	       PEM_write_bio_PrivateKey(b, k->ca_key, NULL, NULL, 0, NULL, NULL) &&
	       PEM_write_bio_X509(b, k->pck) &&
	       PEM_write_bio_PrivateKey(b, k->pck_key, NULL, NULL, 0, NULL, NULL) &&
	       PEM_write_bio_PrivateKey(b, k->att_key, NULL, NULL, 0, NULL, NULL);
}

static int pki_read(struct qe_pki *k, const void *buf, size_t len)
{
	BIO *b = BIO_new_mem_buf(buf, (int)len);
	int ok;

	if (!b)
		return -ENOMEM;
	ok = (k->root = PEM_read_bio_X509(b, NULL, NULL, NULL)) &&
	     (k->root_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) &&
	     (k->ca = PEM_read_bio_X509(b, NULL, NULL, NULL)) &&
	     (k->ca_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) &&
	     (k->pck = PEM_read_bio_X509(b, NULL, NULL, NULL)) &&
	     (k->pck_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) &&
	     (k->att_key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL));
	BIO_free(b);
	return ok ? 0 : -EBADMSG;
}

/* Creates the file once (temporary name, then link: concurrent creators agree). */
static int pki_create(const char *path, err_t *err)
{
	_cleanup_free_ char *tmp = NULL;
	struct qe_pki k = { 0 };
	BUF_MEM *mem;
	BIO *b = NULL;
	int fd, ret;

	if (pki_generate(&k) < 0) {
		pki_free(&k);
		return err_set(err, EIO, "create the emulator's quoting keys: OpenSSL failed");
	}
	b = BIO_new(BIO_s_mem());
	if (!b || !pki_write(&k, b)) {
		BIO_free(b);
		pki_free(&k);
		return err_set(err, EIO, "write the emulator's quoting keys: OpenSSL failed");
	}
	pki_free(&k);
	BIO_get_mem_ptr(b, &mem);
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		BIO_free(b);
		return err_sys(err, ENOMEM, "create %s", path);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		BIO_free(b);
		return err_sys(err, errno, "create %s", path);
	}
	errno = 0;
	if (fchmod(fd, 0600) < 0 || write(fd, mem->data, mem->length) != (ssize_t)mem->length ||
	    fsync(fd) < 0) {
		ret = errno ? errno : EIO;
		OPENSSL_cleanse(mem->data, mem->length);
		BIO_free(b);
		close(fd);
		unlink(tmp);
		return err_sys(err, ret, "write %s", tmp);
	}
	OPENSSL_cleanse(mem->data, mem->length);
	BIO_free(b);
	close(fd);
	ret = link(tmp, path) < 0 && errno != EEXIST ? errno : 0;
	unlink(tmp);
	if (ret)
		return err_sys(err, ret, "create %s", path);
	return 0;
}

/* The keys read by sgx_qe_emu_preload (before a pivot_root hides the file). */
static struct {
	void *buf;
	size_t len;
} preloaded;

static int pki_file(int create, void **out, size_t *out_len, err_t *err);

static int pki_load(struct qe_pki *k, err_t *err)
{
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;
	int ret;

	if (preloaded.buf)
		return pki_read(k, preloaded.buf, preloaded.len) < 0
			   ? err_set(err, EBADMSG, "emulator quoting keys: malformed")
			   : 0;
	ret = pki_file(1, &buf, &len, err);
	if (ret < 0)
		return ret;
	if (pki_read(k, buf, len) < 0) {
		OPENSSL_cleanse(buf, len);
		pki_free(k);
		return err_set(err, EBADMSG,
			       "emulator quoting keys: malformed (remove the file to start over)");
	}
	OPENSSL_cleanse(buf, len);
	return 0;
}

int sgx_qe_emu_preload(err_t *err)
{
	void *buf = NULL;
	size_t len = 0;
	int ret;

	if (preloaded.buf)
		return 0;
	ret = pki_file(0, &buf, &len, err);
	if (ret <= 0)
		return ret;
	preloaded.buf = buf;
	preloaded.len = len;
	return 0;
}

/* The keys file's bytes (created first if create): 1, 0 if absent (!create), or -errno. */
static int pki_file(int create, void **out, size_t *out_len, err_t *err)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int fd, ret;

	ret = sgx_emu_state_path(SGX_EMU_QUOTE_KEYS_FILE, &path, err);
	if (ret < 0)
		return ret;
	fd = sgx_open_regular(path, O_NOFOLLOW, &st, NULL);
	if (fd == -ENOENT && !create)
		return 0;
	if (fd == -ENOENT) {
		ret = pki_create(path, err);
		if (ret < 0)
			return ret;
		fd = sgx_open_regular(path, O_NOFOLLOW, &st, NULL);
	}
	if (fd == -EINVAL)
		return err_set(err, EINVAL, "emulator quoting keys %s: not a regular file", path);
	if (fd < 0)
		return err_sys(err, -fd, "open the emulator quoting keys %s", path);
	close(fd);
	if (st.st_mode & 077)
		return err_set(err, EPERM,
			       "emulator quoting keys %s: mode %04o, readable by others", path,
			       st.st_mode & 07777);
	ret = sgx_read_file(path, 64 * 1024, out, out_len, err);
	return ret < 0 ? ret : 1;
}

int sgx_emu_root_ca_pem(char **pem, err_t *err)
{
	struct qe_pki k = { 0 };
	BUF_MEM *mem;
	BIO *b;
	int ret;

	ret = pki_load(&k, err);
	if (ret < 0)
		return ret;
	b = BIO_new(BIO_s_mem());
	if (!b || !PEM_write_bio_X509(b, k.root)) {
		BIO_free(b);
		pki_free(&k);
		return err_set(err, EIO, "emulator root CA: OpenSSL failed");
	}
	pki_free(&k);
	BIO_get_mem_ptr(b, &mem);
	*pem = strndup(mem->data, mem->length);
	BIO_free(b);
	return *pem ? 0 : err_sys(err, ENOMEM, "emulator root CA");
}

/* ---- the quote ---- */

static int chain_pem(const struct qe_pki *k, uint8_t **out, uint32_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	int ok;

	ok = b && PEM_write_bio_X509(b, k->pck) && PEM_write_bio_X509(b, k->ca) &&
	     PEM_write_bio_X509(b, k->root);
	if (!ok) {
		BIO_free(b);
		return -EIO;
	}
	BIO_get_mem_ptr(b, &mem);
	*out = malloc(mem->length);
	if (*out)
		memcpy(*out, mem->data, mem->length);
	*len = (uint32_t)mem->length;
	BIO_free(b);
	return *out ? 0 : -ENOMEM;
}

/* $SGX_EMU_QUOTE_VERSION: 3 (unset), 4 or 5; anything else refused. */
static int quote_version(uint16_t *version, err_t *err)
{
	const char *v = getenv(SGX_EMU_QUOTE_VERSION_ENV);

	if (!v || !*v || !strcmp(v, "3"))
		*version = SGX_QUOTE_VERSION_3;
	else if (!strcmp(v, "4"))
		*version = SGX_QUOTE_VERSION_4;
	else if (!strcmp(v, "5"))
		*version = SGX_QUOTE_VERSION_5;
	else
		return err_set(err, EINVAL, "emulated QE: %s=%s: 3, 4 or 5",
			       SGX_EMU_QUOTE_VERSION_ENV, v);
	return 0;
}

int sgx_qe_emu_quote(const struct sgx_report *report, uint8_t **out, size_t *out_len, err_t *err)
{
	static const uint8_t auth[32] = { 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
					  11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
					  22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };
	_cleanup_free_ uint8_t *chain = NULL;
	struct sgx_targetinfo ti;
	struct qe_pki k = { 0 };
	struct sgx_quote q;
	uint16_t version = SGX_QUOTE_VERSION_3;
	err_t e = NULL;
	uint8_t id[32];
	int ret;

	if ((ret = quote_version(&version, err)) < 0)
		return ret;
	/* The REPORT must be for this QE: its MAC under the QE's report key. */
	sgx_qe_emu_targetinfo(&ti);
	ret = sgx_emu_verify_report(report, &ti, &e);
	if (ret == -EBADMSG)
		ret =
		    err_set(err, EBADMSG,
			    "emulated QE: the enclave's REPORT: its MAC does not verify with the "
			    "QE's report key (a REPORT not aimed at the QE, altered, or made under "
			    "another emulator machine secret: the container and rune must share "
			    "SGX_EMU_SECRET)");
	else if (ret < 0)
		ret = err_set(err, -ret, "emulated QE: the enclave's REPORT: %s", err_msg(e));
	err_free(&e);
	if (ret < 0)
		return ret;
	ret = pki_load(&k, err);
	if (ret < 0)
		return err_wrap(err, "emulated QE");

	memset(&q, 0, sizeof(q));
	q.header.version = version;
	q.header.att_key_type = SGX_QL_ALG_ECDSA_P256;
	/* v4 and v5 have the TEE type (0: SGX) there and no SVNs in the header. */
	if (version == SGX_QUOTE_VERSION_3) {
		q.header.qe_svn = QE_ISVSVN;
		q.header.pce_svn = QE_PCE_SVN;
	}
	memcpy(q.header.vendor_id, SGX_QE_VENDOR_ID, 16);
	q.report_body = report->body;
	if (quote_pubkey_raw(k.att_key, q.attest_key) < 0) {
		ret = err_set(err, EIO, "emulated QE: the attestation key: OpenSSL failed");
		goto out;
	}
	/* QE_ID: stable for the host, as the real one (derived from a seal key) is. */
	quote_sha256("rune SGX emulator QE_ID", 23, q.attest_key, 64, id);
	memcpy(q.header.user_data, id, 16);

	/* The QE report, certifying the attestation key, signed by the PCK key. */
	memcpy(q.qe_report.cpusvn, emu_cpusvn, 16);
	q.qe_report.attributes = QE_ATTRIBUTES;
	q.qe_report.xfrm = QE_XFRM;
	qe_mrenclave(q.qe_report.mrenclave);
	memcpy(q.qe_report.mrsigner, qe_mrsigner, 32);
	q.qe_report.isvprodid = QE_ISVPRODID;
	q.qe_report.isvsvn = QE_ISVSVN;
	q.auth_data = auth;
	q.auth_data_size = sizeof(auth);
	quote_sha256(q.attest_key, 64, auth, sizeof(auth), q.qe_report.reportdata);
	q.cert_type = SGX_QL_CERT_PCK_CHAIN;
	if (chain_pem(&k, &chain, &q.cert_size) < 0) {
		ret = err_set(err, EIO, "emulated QE: the PCK certificate chain: OpenSSL failed");
		goto out;
	}
	q.cert_data = chain;
	if (quote_sign(k.pck_key, &q.qe_report, sizeof(q.qe_report), q.qe_report_signature) < 0) {
		ret = err_set(err, EIO, "emulated QE: sign the QE report: OpenSSL failed");
		goto out;
	}
	/* Everything before signature_data_len: header (body descriptor) and report body. */
	ret = sgx_quote_serialize(&q, out, out_len, err);
	if (ret < 0)
		goto out;
	if (quote_sign(k.att_key, *out, sgx_quote_signed_size(version),
		       *out + sgx_quote_signed_size(version) + 4) < 0) {
		free(*out);
		*out = NULL;
		ret = err_set(err, EIO, "emulated QE: sign the quote: OpenSSL failed");
	}
out:
	pki_free(&k);
	return ret;
}

/* ---- providers ---- */

static int emu_target_info(struct sgx_targetinfo *qe, err_t *err)
{
	(void)err;
	sgx_qe_emu_targetinfo(qe);
	return 0;
}

const struct sgx_quote_provider sgx_quote_provider_emulator = {
	.name = "emulator",
	.target_info = emu_target_info,
	.quote = sgx_qe_emu_quote,
};
