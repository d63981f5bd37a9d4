// SPDX-License-Identifier: Apache-2.0
/*
 * The RA-TLS tests' helper (tests/ratls/test-*.sh), on the emulated QE of
 * $SGX_EMU_SECRET (a scratch one):
 *   quote [ID-OPTIONS]                          a raw quote on stdout
 *   cert --form dice|legacy|both --key K --cert C [--tamper WHAT] [ID-OPTIONS]
 *   serve --key K --cert C --port-file F [--count N]   a TLS server on 127.0.0.1
 *   serve --attested --port N [--count N]   the same in an enclave (the LibOS):
 *         a new key, its DICE certificate with a quote from /dev/attestation
 *   collateral DIR [--tcb-status S] [--qe-status S] [--fmspc HEX]
 *                  [--next-update-days N] [--revoke-pck] [--pcesvn N]
 * ID-OPTIONS (the enclave a REPORT is made for): --mrenclave HEX
 * --attributes N --isvprodid N --isvsvn N --report-data HEX.
 * Collateral is signed by a TCB signing key certified by the emulator root
 * (the root's key is in the emulator's keys file), CRLs by its CAs.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "ratls/ratls.h"
#include "sgx/loader.h"
#include "sgx/quote.h"
#include "emu-report.h"

static void die(const char *what, err_t err)
{
	fprintf(stderr, "ratls-helper: %s: %s\n", what, err ? err_msg(err) : "failed");
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	if (n > max || strlen(s) % 2)
		die("hex argument", NULL);
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			die("hex argument", NULL);
}

/* The enclave the REPORTs are made for. */
static struct sgx_report_body enclave = { .attributes = 0x4, .xfrm = 0x3 };
static int flip_report_body; /* --tamper quote */
static int zero_report_data; /* --tamper binding */

/* What an enclave's EREPORT for the QE would give (the emulator's report key). */
static int make_report(void *ctx, const struct sgx_targetinfo *qe, const uint8_t rd[64],
		       struct sgx_report *r, err_t *err)
{
	(void)ctx;
	memset(r, 0, sizeof(*r));
	r->body = enclave;
	if (!zero_report_data)
		memcpy(r->body.reportdata, rd, 64);
	RAND_bytes(r->keyid, 32);
	return emu_report_mac(r, qe, err);
}

static struct ratls_host_source host = { .report = make_report };

static int quote_source(void *ctx, const uint8_t rd[64], uint8_t **q, size_t *len, err_t *err)
{
	int ret = ratls_quote_from_provider(ctx, rd, q, len, err);

	if (!ret && flip_report_body)
		(*q)[48 + 64] ^= 1; /* a byte of MRENCLAVE */
	return ret;
}

static const struct ratls_quote_source source = { .quote = quote_source, .ctx = &host };

static void write_pem(const char *path, X509 *c, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	if (!f || (c && !PEM_write_X509(f, c)) ||
	    (k && !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) || fclose(f))
		die(path, NULL);
}

/* ---- cert ---- */

static void tamper_cert(X509 *c, EVP_PKEY *key, const char *what)
{
	EVP_PKEY *other = EVP_EC_gen("P-256");
	ASN1_OBJECT *obj = OBJ_txt2obj(RATLS_OID_DICE_EVIDENCE, 1);
	int i;

	if (strcmp(what, "selfsig") == 0) {
		X509_sign(c, other, EVP_sha256()); /* signed by another key */
	} else if (strcmp(what, "expired") == 0) {
		X509_gmtime_adj(X509_getm_notAfter(c), -60);
		X509_sign(c, key, EVP_sha256());
	} else if (strcmp(what, "key") == 0) {
		/* The evidence binds key; the certificate carries (and is signed by) another. */
		X509_set_pubkey(c, other);
		X509_sign(c, other, EVP_sha256());
	} else if (strcmp(what, "tag") == 0) {
		i = X509_get_ext_by_OBJ(c, obj, -1);
		if (i < 0)
			die("--tamper tag: no DICE extension", NULL);
		/* d9 ea 60 = tag 60000: make it 60001 (an Intel TEE report, not a quote) */
		((unsigned char *)ASN1_STRING_get0_data(
		    X509_EXTENSION_get_data(X509_get_ext(c, i))))[2] ^= 1;
		X509_sign(c, key, EVP_sha256());
	} else if (strcmp(what, "noevidence") == 0) {
		while (X509_get_ext_count(c) > 0)
			X509_EXTENSION_free(X509_delete_ext(c, 0));
		X509_sign(c, key, EVP_sha256());
	} else if (strcmp(what, "quote") != 0 && strcmp(what, "binding") != 0) {
		die("--tamper: selfsig, expired, key, tag, noevidence, quote or binding", NULL);
	}
	ASN1_OBJECT_free(obj);
	EVP_PKEY_free(other);
}

static int cmd_cert(const char *form, const char *keyp, const char *certp, const char *tamper)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	unsigned forms = strcmp(form, "dice") == 0     ? RATLS_FORM_DICE
			 : strcmp(form, "legacy") == 0 ? RATLS_FORM_LEGACY
			 : strcmp(form, "both") == 0   ? RATLS_FORM_DICE | RATLS_FORM_LEGACY
						       : 0;
	err_t err = NULL;
	X509 *c = NULL;

	if (!forms || !key || !keyp || !certp)
		die("cert: --form dice|legacy|both, --key and --cert", NULL);
	if (tamper && strcmp(tamper, "quote") == 0)
		flip_report_body = 1;
	if (tamper && strcmp(tamper, "binding") == 0)
		zero_report_data = 1;
	if (ratls_cert_make(key, forms, &source, 30, &c, &err) < 0)
		die("cert", err);
	if (tamper)
		tamper_cert(c, key, tamper);
	write_pem(keyp, NULL, key);
	write_pem(certp, c, NULL);
	X509_free(c);
	EVP_PKEY_free(key);
	return 0;
}

/* ---- serve ---- */

/* Inside the LibOS: a new key and its certificate, the quote from /dev/attestation. */
static void attested_cert(X509 **cert, EVP_PKEY **key)
{
	const struct ratls_quote_source dev = { .quote = ratls_quote_from_attestation_dir };
	err_t err = NULL;

	*key = EVP_EC_gen("P-256");
	if (!*key || ratls_cert_make(*key, RATLS_FORM_DICE, &dev, 1, cert, &err) < 0)
		die("attested certificate", err);
}

static int cmd_serve(const char *keyp, const char *certp, const char *portfile, int port, int count)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int ok;
	FILE *f;

	alarm(60); /* a forgotten server goes by itself */
	signal(SIGPIPE, SIG_IGN);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!keyp)
		attested_cert(&cert, &key);
	ok = ctx && (keyp ? SSL_CTX_use_certificate_file(ctx, certp, SSL_FILETYPE_PEM) &&
				SSL_CTX_use_PrivateKey_file(ctx, keyp, SSL_FILETYPE_PEM)
			  : SSL_CTX_use_certificate(ctx, cert) && SSL_CTX_use_PrivateKey(ctx, key));
	if (!ok || s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0)
		die("serve: set up", NULL);
	if (portfile) {
		f = fopen(portfile, "w");
		if (!f || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f))
			die(portfile, NULL);
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		SSL *ssl = c >= 0 ? SSL_new(ctx) : NULL;

		if (ssl && SSL_set_fd(ssl, c) && SSL_accept(ssl) == 1) {
			SSL_write(ssl, "hello from the enclave\n", 23);
			SSL_shutdown(ssl);
		}
		ERR_clear_error();
		SSL_free(ssl);
		if (c >= 0)
			close(c);
	}
	close(s);
	SSL_CTX_free(ctx);
	X509_free(cert);
	EVP_PKEY_free(key);
	return 0;
}

/* ---- collateral ---- */

struct emu_pki {
	X509 *root, *ca, *pck;
	EVP_PKEY *root_key, *ca_key;
};

static void load_pki(struct emu_pki *k)
{
	char *secret = getenv("SGX_EMU_SECRET"), path[4096], *pem = NULL, *d;
	err_t err = NULL;
	EVP_PKEY *skip = NULL;
	FILE *f;

	if (!secret || sgx_emu_root_ca_pem(&pem, &err) < 0) /* created if missing */
		die("SGX_EMU_SECRET and its keys", err);
	free(pem);
	d = strdup(secret);
	snprintf(path, sizeof(path), "%s/%s", dirname(d), SGX_EMU_QUOTE_KEYS_FILE);
	free(d);
	f = fopen(path, "r");
	/* root, its key, the platform CA, its key, the PCK certificate, ... */
	if (!f || !(k->root = PEM_read_X509(f, NULL, NULL, NULL)) ||
	    !(k->root_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) ||
	    !(k->ca = PEM_read_X509(f, NULL, NULL, NULL)) ||
	    !(k->ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) ||
	    !(k->pck = PEM_read_X509(f, NULL, NULL, NULL)) ||
	    !(skip = PEM_read_PrivateKey(f, NULL, NULL, NULL)))
		die(path, NULL);
	EVP_PKEY_free(skip);
	fclose(f);
}

static X509 *signing_cert(EVP_PKEY *key, const struct emu_pki *k)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();

	if (!c || !n || !X509_set_version(c, 2) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(c), 4242) ||
	    !X509_gmtime_adj(X509_getm_notBefore(c), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c), 86400L * 365) || !X509_set_pubkey(c, key) ||
	    !X509_NAME_add_entry_by_txt(
		n, "CN", MBSTRING_ASC, (const unsigned char *)"rune test TCB Signing", -1, -1, 0) ||
	    !X509_set_subject_name(c, n) ||
	    !X509_set_issuer_name(c, X509_get_subject_name(k->root)) ||
	    !X509_sign(c, k->root_key, EVP_sha256()))
		die("TCB signing certificate", NULL);
	X509_NAME_free(n);
	return c;
}

static void write_crl(const char *path, X509 *issuer, EVP_PKEY *key, X509 *revoked)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	FILE *f;

	if (!crl || !t || !X509_CRL_set_version(crl, 1) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_gmtime_adj(t, -3600) || !X509_CRL_set1_lastUpdate(crl, t) ||
	    !X509_gmtime_adj(t, 86400L * 30) || !X509_CRL_set1_nextUpdate(crl, t))
		die("CRL", NULL);
	if (revoked) {
		X509_REVOKED *r = X509_REVOKED_new();

		X509_gmtime_adj(t, -60);
		if (!r || !X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked)) ||
		    !X509_REVOKED_set_revocationDate(r, t) || !X509_CRL_add0_revoked(crl, r))
			die("CRL entry", NULL);
	}
	if (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, key, EVP_sha256()))
		die("CRL signature", NULL);
	f = fopen(path, "w");
	/* The PCS serves DER (or PEM): the PCK CRL in DER, the root's in PEM. */
	if (!f || !(strstr(path, "pck") ? i2d_X509_CRL_fp(f, crl) : PEM_write_X509_CRL(f, crl)) ||
	    fclose(f))
		die(path, NULL);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

/* {"KEY":BODY,"signature":"HEX"}: the signature over BODY's bytes exactly. */
static void write_signed(const char *path, const char *key, const char *body, EVP_PKEY *sk)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80], raw[64];
	const uint8_t *p = der;
	size_t n = sizeof(der);
	ECDSA_SIG *s = NULL;
	FILE *f;

	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, sk) <= 0 ||
	    EVP_DigestSign(md, der, &n, (const uint8_t *)body, strlen(body)) <= 0 ||
	    !(s = d2i_ECDSA_SIG(NULL, &p, (long)n)) ||
	    BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32) != 32)
		die("sign the collateral", NULL);
	f = fopen(path, "w");
	if (!f)
		die(path, NULL);
	fprintf(f, "{\"%s\":%s,\"signature\":\"", key, body);
	for (int i = 0; i < 64; i++)
		fprintf(f, "%02x", raw[i]);
	if (fprintf(f, "\"}") < 0 || fclose(f))
		die(path, NULL);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
}

static void pcs_date(char *buf, size_t len, long days)
{
	time_t t = time(NULL) + days * 86400;
	struct tm tm;

	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
}

struct coll_opts {
	const char *tcb_status, *qe_status, *fmspc;
	int next_days, revoke_pck, pcesvn;
};

static int cmd_collateral(const char *dir, const struct coll_opts *o)
{
	struct emu_pki k = { 0 };
	EVP_PKEY *sk = EVP_EC_gen("P-256");
	X509 *sc;
	char path[4096], body[8192], comps[1024], issued[32], next[32];
	size_t n = 0;
	FILE *f;

	load_pki(&k);
	sc = signing_cert(sk, &k);
	pcs_date(issued, sizeof(issued), -1);
	pcs_date(next, sizeof(next), o->next_days);
	/* The emulator's PCK: component SVNs = the CPUSVN's bytes ("RUNE-SGX-EMU"). */
	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(comps + n, sizeof(comps) - n, "%s{\"svn\":%d}", i ? "," : "",
				      i < 12 ? "RUNE-SGX-EMU"[i] : 0);
	snprintf(body, sizeof(body),
		 "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
		 "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"
		 "\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":%d},"
		 "\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\"},"
		 "{\"tcb\":{\"sgxtcbcomponents\":[%s],\"pcesvn\":1},"
		 "\"tcbDate\":\"%s\",\"tcbStatus\":\"OutOfDate\"}]}",
		 issued, next, o->fmspc, comps, o->pcesvn, issued, o->tcb_status, comps, issued);
	snprintf(path, sizeof(path), "%s/tcbinfo.json", dir);
	write_signed(path, "tcbInfo", body, sk);
	snprintf(
	    body, sizeof(body),
	    "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
	    "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\","
	    "\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\","
	    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
	    "\"mrsigner\":\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF\","
	    "\"isvprodid\":1,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"%s\","
	    "\"tcbStatus\":\"%s\"},{\"tcb\":{\"isvsvn\":0},\"tcbDate\":\"%s\","
	    "\"tcbStatus\":\"OutOfDate\"}]}",
	    issued, next, issued, o->qe_status, issued);
	snprintf(path, sizeof(path), "%s/qeidentity.json", dir);
	write_signed(path, "enclaveIdentity", body, sk);
	snprintf(path, sizeof(path), "%s/tcb-signing-chain.pem", dir);
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, sc) || !PEM_write_X509(f, k.root) || fclose(f))
		die(path, NULL);
	snprintf(path, sizeof(path), "%s/pck.crl", dir);
	write_crl(path, k.ca, k.ca_key, o->revoke_pck ? k.pck : NULL);
	snprintf(path, sizeof(path), "%s/root-ca.crl", dir);
	write_crl(path, k.root, k.root_key, NULL);
	X509_free(sc);
	EVP_PKEY_free(sk);
	X509_free(k.root);
	X509_free(k.ca);
	X509_free(k.pck);
	EVP_PKEY_free(k.root_key);
	EVP_PKEY_free(k.ca_key);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "mrenclave", required_argument, NULL, 'm' },
					      { "attributes", required_argument, NULL, 'a' },
					      { "isvprodid", required_argument, NULL, 'p' },
					      { "isvsvn", required_argument, NULL, 's' },
					      { "report-data", required_argument, NULL, 'r' },
					      { "form", required_argument, NULL, 'f' },
					      { "key", required_argument, NULL, 'k' },
					      { "cert", required_argument, NULL, 'c' },
					      { "tamper", required_argument, NULL, 't' },
					      { "port-file", required_argument, NULL, 'P' },
					      { "count", required_argument, NULL, 'n' },
					      { "tcb-status", required_argument, NULL, 'T' },
					      { "qe-status", required_argument, NULL, 'Q' },
					      { "fmspc", required_argument, NULL, 'F' },
					      { "next-update-days", required_argument, NULL, 'N' },
					      { "revoke-pck", no_argument, NULL, 'R' },
					      { "pcesvn", required_argument, NULL, 'S' },
					      { "attested", no_argument, NULL, 'A' },
					      { "port", required_argument, NULL, 'O' },
					      { 0 } };
	const char *form = "dice", *key = NULL, *cert = NULL, *tamper = NULL, *portfile = NULL;
	struct coll_opts co = { "UpToDate", "UpToDate", "52554e454d55", 30, 0, 13 };
	uint8_t rd[64] = { 0 }, *q = NULL;
	int c, count = 1, attested = 0, port = 0;
	size_t len = 0;
	err_t err = NULL;

	memset(enclave.mrenclave, 0xab, 32);
	memset(enclave.mrsigner, 0xcd, 32);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			unhex(optarg, enclave.mrenclave, 32);
			break;
		case 'a':
			enclave.attributes = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			enclave.isvprodid = (uint16_t)atoi(optarg);
			break;
		case 's':
			enclave.isvsvn = (uint16_t)atoi(optarg);
			break;
		case 'r':
			unhex(optarg, rd, 64);
			break;
		case 'f':
			form = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 't':
			tamper = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'T':
			co.tcb_status = optarg;
			break;
		case 'Q':
			co.qe_status = optarg;
			break;
		case 'F':
			co.fmspc = optarg;
			break;
		case 'N':
			co.next_days = atoi(optarg);
			break;
		case 'R':
			co.revoke_pck = 1;
			break;
		case 'S':
			co.pcesvn = atoi(optarg);
			break;
		case 'A':
			attested = 1;
			break;
		case 'O':
			port = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		die("quote|cert|serve|collateral DIR", NULL);
	if (strcmp(argv[optind], "quote") == 0) {
		if (source.quote(source.ctx, rd, &q, &len, &err) < 0)
			die("quote", err);
		fwrite(q, 1, len, stdout);
		free(q);
		return 0;
	}
	if (strcmp(argv[optind], "cert") == 0)
		return cmd_cert(form, key, cert, tamper);
	if (strcmp(argv[optind], "serve") == 0 && key && cert && portfile)
		return cmd_serve(key, cert, portfile, 0, count);
	if (strcmp(argv[optind], "serve") == 0 && attested && port > 0)
		return cmd_serve(NULL, NULL, NULL, port, count);
	if (strcmp(argv[optind], "collateral") == 0 && optind + 1 < argc)
		return cmd_collateral(argv[optind + 1], &co);
	die("quote|cert|serve|collateral DIR", NULL);
	return 2;
}
