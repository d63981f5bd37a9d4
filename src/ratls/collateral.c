// SPDX-License-Identifier: Apache-2.0
/*
 * Collateral as Intel's PCS serves it, read from a directory: the TCB info
 * ({"tcbInfo": {...}, "signature": HEX}) and the QE identity
 * ({"enclaveIdentity": {...}, "signature": HEX}), each signed (raw r||s,
 * ECDSA-P256 over SHA-256) over the exact bytes of the body as served, by
 * the TCB signing certificate (tcb-signing-chain.pem); the PCK CRL and the
 * root CA CRL (PEM or DER). The signatures cover bytes, so the bodies are
 * sliced out of the files, checked, and only then parsed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "sgx/fileio.h"
#include "ratls_internal.h"

#define COLLATERAL_MAX (1 << 20)

/* One signed JSON document: the body's bytes, its signature, its parse. */
struct signed_json {
	const char *name, *key;
	char *raw;
	size_t raw_len;
	const char *body;
	size_t body_len;
	uint8_t sig[64];
	json_t *json;
};

struct ratls_collateral {
	struct signed_json tcb, qe;
	STACK_OF(X509) * signing_chain;
	STACK_OF(X509_CRL) * crls;
};

void ratls_collateral_free(struct ratls_collateral *c)
{
	if (!c)
		return;
	free(c->tcb.raw);
	free(c->qe.raw);
	json_decref(c->tcb.json);
	json_decref(c->qe.json);
	sk_X509_pop_free(c->signing_chain, X509_free);
	sk_X509_CRL_pop_free(c->crls, X509_CRL_free);
	free(c);
}

STACK_OF(X509_CRL) * ratls_collateral_crls(const struct ratls_collateral *c)
{
	return c ? c->crls : NULL;
}

/* ---- the bytes of a top-level member, as served ---- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at '"': past the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past one JSON value (the document parsed already: only its extent matters). */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;

	while (p && p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (!depth)
				return p;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']') {
			if (!depth)
				return p;
			if (--depth == 0)
				return p + 1;
		} else if (!depth &&
			   (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
			return p;
		p++;
	}
	return depth ? NULL : p;
}

/* The bytes of the top-level object's member key (written without escapes). */
static int member_span(const char *buf, size_t len, const char *key, const char **start, size_t *n)
{
	const char *p = skip_ws(buf, buf + len), *end = buf + len, *k, *kend, *v;
	size_t klen = strlen(key);

	if (p == end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		k = p + 1;
		kend = p = skip_string(p, end);
		if (!p)
			return -1;
		p = skip_ws(p, end);
		if (p == end || *p != ':')
			return -1;
		v = skip_ws(p + 1, end);
		p = skip_value(v, end);
		if (!p || p == v)
			return -1;
		if ((size_t)(kend - k) == klen + 1 && memcmp(k, key, klen) == 0) {
			*start = v;
			*n = (size_t)(p - v);
			return 0;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return -1;
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1 ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", s[2 * i + 1]))
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int load_signed(const char *dir, struct signed_json *s, err_t *err)
{
	char path[4096];
	json_error_t jerr;
	json_t *doc;
	void *raw = NULL;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	ret = sgx_read_file(path, COLLATERAL_MAX, &raw, &s->raw_len, err);
	if (ret < 0)
		return err_wrap(err, "collateral");
	s->raw = raw;
	doc = json_loadb(s->raw, s->raw_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return err_set(err, EINVAL, "collateral %s: line %d: %s", path, jerr.line,
			       jerr.text);
	ret = unhex(json_string_value(json_object_get(doc, "signature")), s->sig, 64);
	json_decref(doc);
	if (ret < 0)
		return err_set(err, EINVAL,
			       "collateral %s: \"signature\": not 64 bytes of hex (r||s)", path);
	if (member_span(s->raw, s->raw_len, s->key, &s->body, &s->body_len) < 0)
		return err_set(err, EINVAL, "collateral %s: no \"%s\" object", path, s->key);
	/* The bytes the signature covers are the bytes parsed. */
	s->json = json_loadb(s->body, s->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!s->json || !json_is_object(s->json))
		return err_set(err, EINVAL, "collateral %s: \"%s\" is not a JSON object", path,
			       s->key);
	return 0;
}

static X509_CRL *load_crl(const char *dir, const char *name, err_t *err)
{
	char path[4096];
	void *raw = NULL;
	size_t len = 0;
	X509_CRL *crl = NULL;
	const unsigned char *p;
	BIO *b;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sgx_read_file(path, COLLATERAL_MAX, &raw, &len, err) < 0) {
		err_wrap(err, "collateral");
		return NULL;
	}
	b = BIO_new_mem_buf(raw, (int)len);
	crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	p = raw;
	if (!crl)
		crl = d2i_X509_CRL(NULL, &p, (long)len);
	free(raw);
	ERR_clear_error();
	if (!crl)
		err_set(err, EINVAL, "collateral %s: not a CRL (PEM or DER)", path);
	return crl;
}

int ratls_collateral_load(const char *dir, struct ratls_collateral **out, err_t *err)
{
	struct ratls_collateral *c = calloc(1, sizeof(*c));
	static const char *const crl_names[] = { "pck.crl", "root-ca.crl" };
	char path[4096];
	void *pem = NULL;
	size_t len = 0;
	int ret;

	if (!c)
		return err_sys(err, ENOMEM, "collateral %s", dir);
	c->tcb.name = "tcbinfo.json";
	c->tcb.key = "tcbInfo";
	c->qe.name = "qeidentity.json";
	c->qe.key = "enclaveIdentity";
	ret = load_signed(dir, &c->tcb, err);
	if (!ret)
		ret = load_signed(dir, &c->qe, err);
	if (ret < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/tcb-signing-chain.pem", dir);
	ret = sgx_read_file(path, COLLATERAL_MAX, &pem, &len, err);
	if (ret < 0) {
		err_wrap(err, "collateral");
		goto fail;
	}
	c->signing_chain = ratls_read_pem_chain(pem, len);
	free(pem);
	if (!c->signing_chain || sk_X509_num(c->signing_chain) == 0) {
		ret = err_set(err, EINVAL, "collateral %s: no PEM certificate", path);
		goto fail;
	}
	c->crls = sk_X509_CRL_new_null();
	for (size_t i = 0; c->crls && i < 2; i++) {
		X509_CRL *crl = load_crl(dir, crl_names[i], err);

		if (!crl) {
			ret = -EINVAL;
			goto fail;
		}
		if (!sk_X509_CRL_push(c->crls, crl)) {
			X509_CRL_free(crl);
			break;
		}
	}
	if (!c->crls || sk_X509_CRL_num(c->crls) != 2) {
		ret = err_sys(err, ENOMEM, "collateral %s", dir);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ratls_collateral_free(c);
	return ret;
}

/* ---- checks ---- */

/* The signing chain to root (CRLs checked), then the body's signature; parses the body. */
static int check_signed(const struct ratls_collateral *c, const struct signed_json *s, X509 *root,
			err_t *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = sk_X509_value(c->signing_chain, 0);
	int ok = 0, code = 0;

	if (store && ctx && X509_STORE_add_cert(store, root)) {
		ok = 1;
		for (int i = 0; i < sk_X509_CRL_num(c->crls); i++)
			ok = ok && X509_STORE_add_crl(store, sk_X509_CRL_value(c->crls, i));
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
		ok = ok && X509_STORE_CTX_init(ctx, store, leaf, c->signing_chain) &&
		     X509_verify_cert(ctx) == 1;
		code = X509_STORE_CTX_get_error(ctx);
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	if (!ok)
		return err_set(err, EBADMSG,
			       "TCB signing chain: does not verify to the root CA: %s",
			       code ? X509_verify_cert_error_string(code) : "OpenSSL failed");
	if (!ratls_verify_raw_sig(X509_get0_pubkey(leaf), s->body, s->body_len, s->sig))
		return err_set(err, EBADMSG,
			       "%s signature: does not verify with the TCB signing key over the "
			       "\"%s\" bytes served",
			       s->name, s->key);
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" (PCS's dates) as time_t, or -1. */
static time_t pcs_date(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!end || (*end && strcmp(end, "Z") != 0 && strncmp(end, ".", 1) != 0))
		return -1;
	return timegm(&tm);
}

/* The body's id and version, and that it is current (issued, not past nextUpdate). */
static int check_header(const struct signed_json *s, const char *id, int version, err_t *err)
{
	json_t *b = s->json;
	const char *next = json_string_value(json_object_get(b, "nextUpdate"));
	const char *issued = json_string_value(json_object_get(b, "issueDate"));
	time_t now = time(NULL), tn = pcs_date(next), ti = pcs_date(issued);

	if (!json_is_string(json_object_get(b, "id")) ||
	    strcmp(json_string_value(json_object_get(b, "id")), id) != 0)
		return err_set(err, EINVAL, "%s: \"id\": expected \"%s\"", s->name, id);
	if (json_integer_value(json_object_get(b, "version")) != version)
		return err_set(err, ENOTSUP, "%s: \"version\": expected %d, found %lld", s->name,
			       version,
			       (long long)json_integer_value(json_object_get(b, "version")));
	if (tn < 0 || ti < 0)
		return err_set(err, EINVAL, "%s: \"issueDate\" or \"nextUpdate\" is not a date",
			       s->name);
	if (now > tn)
		return err_set(err, EBADMSG, "%s: expired: its nextUpdate %s has passed", s->name,
			       next);
	if (now < ti)
		return err_set(err, EBADMSG, "%s: issued in the future (%s)", s->name, issued);
	return 0;
}

static int hex_field(const struct signed_json *s, json_t *o, const char *key, uint8_t *out,
		     size_t n, err_t *err)
{
	if (unhex(json_string_value(json_object_get(o, key)), out, n) < 0)
		return err_set(err, EINVAL, "%s: \"%s\": not %zu bytes of hex", s->name, key, n);
	return 0;
}

static int level_status(const struct signed_json *s, json_t *level, err_t *err)
{
	const char *name = json_string_value(json_object_get(level, "tcbStatus"));
	int st = name ? ratls_tcb_status_parse(name) : -1;

	if (st < 0)
		return err_set(err, EINVAL, "%s: a TCB level's \"tcbStatus\" %s is unknown",
			       s->name, name ? name : "(none)");
	return st;
}

/* The first TCB level (highest first, as PCS orders them) the platform's TCB reaches. */
static int platform_status(const struct signed_json *s, const struct ratls_pck_info *pck,
			   err_t *err)
{
	json_t *levels = json_object_get(s->json, "tcbLevels"), *level, *tcb, *comps;
	char svns[64];
	size_t i, n = 0;

	if (!json_is_array(levels))
		return err_set(err, EINVAL, "%s: no \"tcbLevels\" list", s->name);
	json_array_foreach(levels, i, level)
	{
		int reached = 1;

		tcb = json_object_get(level, "tcb");
		comps = json_object_get(tcb, "sgxtcbcomponents");
		if (!json_is_array(comps) || json_array_size(comps) != 16 ||
		    !json_is_integer(json_object_get(tcb, "pcesvn")))
			return err_set(err, EINVAL,
				       "%s: TCB level %zu: not 16 \"sgxtcbcomponents\" and a "
				       "\"pcesvn\"",
				       s->name, i);
		for (size_t j = 0; j < 16; j++) {
			json_t *svn = json_object_get(json_array_get(comps, j), "svn");

			if (!json_is_integer(svn))
				return err_set(
				    err, EINVAL,
				    "%s: TCB level %zu: component %zu has no integer \"svn\"",
				    s->name, i, j + 1);
			reached &= pck->comp_svn[j] >= json_integer_value(svn);
		}
		reached &= pck->pcesvn >= json_integer_value(json_object_get(tcb, "pcesvn"));
		if (reached)
			return level_status(s, level, err);
	}
	for (i = 0; i < 16; i++)
		n += (size_t)snprintf(svns + n, sizeof(svns) - n, "%s%u", i ? "," : "",
				      pck->comp_svn[i]);
	return err_set(err, EBADMSG,
		       "TCB level: the platform's TCB (component SVNs %s, PCESVN %u) is below "
		       "every level of %s",
		       svns, pck->pcesvn, s->name);
}

static int check_tcb_info(const struct signed_json *s, const struct ratls_pck_info *pck, err_t *err)
{
	uint8_t fmspc[6], pceid[2];
	int ret;

	ret = check_header(s, "SGX", 3, err);
	if (!ret)
		ret = hex_field(s, s->json, "fmspc", fmspc, 6, err);
	if (!ret)
		ret = hex_field(s, s->json, "pceId", pceid, 2, err);
	if (ret < 0)
		return ret;
	ret = ratls_expect("TCB info: FMSPC (the PCK certificate's)", fmspc, pck->fmspc, 6, err);
	if (!ret)
		ret = ratls_expect("TCB info: PCE-ID (the PCK certificate's)", pceid, pck->pceid, 2,
				   err);
	if (ret < 0)
		return -EBADMSG;
	return platform_status(s, pck, err);
}

/* The QE report against the QE identity: MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES. */
static int check_qe_identity(const struct signed_json *s, const struct sgx_report_body *qe,
			     err_t *err)
{
	uint8_t mrsigner[32], misc[4], misc_mask[4], attr[16], attr_mask[16], got[16], mine[4];
	json_t *levels, *level, *prodid;
	size_t i;
	int ret;

	ret = check_header(s, "QE", 2, err);
	if (!ret)
		ret = hex_field(s, s->json, "mrsigner", mrsigner, 32, err);
	if (!ret)
		ret = hex_field(s, s->json, "miscselect", misc, 4, err);
	if (!ret)
		ret = hex_field(s, s->json, "miscselectMask", misc_mask, 4, err);
	if (!ret)
		ret = hex_field(s, s->json, "attributes", attr, 16, err);
	if (!ret)
		ret = hex_field(s, s->json, "attributesMask", attr_mask, 16, err);
	if (ret < 0)
		return ret;
	ret = ratls_expect("QE identity: MRSIGNER", mrsigner, qe->mrsigner, 32, err);
	if (ret < 0)
		return -EBADMSG;
	prodid = json_object_get(s->json, "isvprodid");
	if (!json_is_integer(prodid) || json_integer_value(prodid) != qe->isvprodid)
		return err_set(err, EBADMSG, "QE identity: ISVPRODID: expected %lld, found %u",
			       (long long)json_integer_value(prodid), qe->isvprodid);
	/* MISCSELECT is a little-endian u32 in the report, big-endian hex in the JSON. */
	for (i = 0; i < 4; i++)
		mine[i] = (uint8_t)((qe->miscselect >> (8 * (3 - i))) & misc_mask[i]);
	if (memcmp(mine, misc, 4) != 0)
		return err_set(err, EBADMSG,
			       "QE identity: MISCSELECT %08x does not match %02x%02x%02x%02x",
			       qe->miscselect, misc[0], misc[1], misc[2], misc[3]);
	memcpy(got, &qe->attributes, 8);
	memcpy(got + 8, &qe->xfrm, 8);
	for (i = 0; i < 16; i++)
		got[i] &= attr_mask[i];
	if (ratls_expect("QE identity: ATTRIBUTES (masked)", attr, got, 16, err) < 0)
		return -EBADMSG;
	levels = json_object_get(s->json, "tcbLevels");
	json_array_foreach(levels, i, level)
	{
		json_t *svn = json_object_get(json_object_get(level, "tcb"), "isvsvn");

		if (!json_is_integer(svn))
			return err_set(err, EINVAL, "%s: TCB level %zu: no \"isvsvn\"", s->name, i);
		if (qe->isvsvn >= json_integer_value(svn))
			return level_status(s, level, err);
	}
	return err_set(err, EBADMSG, "QE identity: the QE's ISVSVN %u is below every TCB level",
		       qe->isvsvn);
}

/* Intel's convergence of the platform's and the QE's status. */
static enum ratls_tcb_status converge(int platform, int qe)
{
	if (platform == RATLS_TCB_REVOKED || qe == RATLS_TCB_REVOKED)
		return RATLS_TCB_REVOKED;
	if (qe != RATLS_TCB_OUT_OF_DATE)
		return platform;
	if (platform == RATLS_TCB_UP_TO_DATE || platform == RATLS_TCB_SW_HARDENING_NEEDED)
		return RATLS_TCB_OUT_OF_DATE;
	if (platform == RATLS_TCB_CONFIGURATION_NEEDED ||
	    platform == RATLS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
		return RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
	return platform;
}

int ratls_collateral_check(const struct ratls_collateral *c, X509 *root, X509 *pck_cert,
			   const struct sgx_quote *q, enum ratls_tcb_status *status, err_t *err)
{
	struct ratls_pck_info pck;
	int platform, qe, ret;

	ret = check_signed(c, &c->tcb, root, err);
	if (!ret)
		ret = check_signed(c, &c->qe, root, err);
	if (!ret)
		ret = ratls_pck_info(pck_cert, &pck, err);
	if (ret < 0)
		return ret;
	platform = check_tcb_info(&c->tcb, &pck, err);
	if (platform < 0)
		return platform;
	qe = check_qe_identity(&c->qe, &q->qe_report, err);
	if (qe < 0)
		return qe;
	*status = converge(platform, qe);
	if (*status == RATLS_TCB_REVOKED)
		return err_set(err, EBADMSG, "TCB status: Revoked (%s's level for this %s)",
			       platform == RATLS_TCB_REVOKED ? c->tcb.name : c->qe.name,
			       platform == RATLS_TCB_REVOKED ? "platform" : "QE");
	return 0;
}
