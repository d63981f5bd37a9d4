// SPDX-License-Identifier: Apache-2.0
/*
 * The PCK certificate's SGX extensions (OID 1.2.840.113741.1.13.1, a
 * SEQUENCE of {OID, value}): FMSPC, PCE-ID, the TCB's 16 component SVNs
 * and PCESVN, what the TCB info is matched against. Parsed with OpenSSL's
 * generic ASN.1 decoder.
 */
#include <errno.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "ratls_internal.h"

#define SGX_EXT "1.2.840.113741.1.13.1"

/* The {OID, value} pairs of a DER SEQUENCE, or NULL. */
static STACK_OF(ASN1_TYPE) * pairs_of(const ASN1_STRING *seq)
{
	const unsigned char *p = ASN1_STRING_get0_data(seq);

	return d2i_ASN1_SEQUENCE_ANY(NULL, &p, ASN1_STRING_length(seq));
}

/* One pair: its OID in text and its value (pointers into pair). */
static int pair_get(ASN1_TYPE *t, char *oid, size_t oid_len, ASN1_TYPE **value,
		    STACK_OF(ASN1_TYPE) * *pair)
{
	ASN1_TYPE *o;

	if (ASN1_TYPE_get(t) != V_ASN1_SEQUENCE)
		return -1;
	*pair = pairs_of(t->value.sequence);
	if (!*pair || sk_ASN1_TYPE_num(*pair) != 2)
		return -1;
	o = sk_ASN1_TYPE_value(*pair, 0);
	if (ASN1_TYPE_get(o) != V_ASN1_OBJECT ||
	    OBJ_obj2txt(oid, (int)oid_len, o->value.object, 1) <= 0)
		return -1;
	*value = sk_ASN1_TYPE_value(*pair, 1);
	return 0;
}

static int octets(ASN1_TYPE *v, uint8_t *out, int n)
{
	if (ASN1_TYPE_get(v) != V_ASN1_OCTET_STRING ||
	    ASN1_STRING_length(v->value.octet_string) != n)
		return -1;
	memcpy(out, ASN1_STRING_get0_data(v->value.octet_string), (size_t)n);
	return 0;
}

static int small_int(ASN1_TYPE *v, long max, long *out)
{
	if (ASN1_TYPE_get(v) != V_ASN1_INTEGER)
		return -1;
	*out = ASN1_INTEGER_get(v->value.integer);
	return *out < 0 || *out > max ? -1 : 0;
}

/* The TCB SEQUENCE: .2.1 ... .2.16 component SVNs, .2.17 PCESVN. */
static int parse_tcb(ASN1_TYPE *v, struct ratls_pck_info *info, unsigned *seen)
{
	STACK_OF(ASN1_TYPE) * items, *pair = NULL;
	char oid[80];
	ASN1_TYPE *val;
	long n = 0;
	int ret = 0;

	if (ASN1_TYPE_get(v) != V_ASN1_SEQUENCE)
		return -1;
	items = pairs_of(v->value.sequence);
	for (int i = 0; items && !ret && i < sk_ASN1_TYPE_num(items); i++) {
		unsigned arc;

		ret = pair_get(sk_ASN1_TYPE_value(items, i), oid, sizeof(oid), &val, &pair);
		if (!ret && sscanf(oid, SGX_EXT ".2.%u", &arc) == 1 && arc >= 1 && arc <= 16) {
			ret = small_int(val, 255, &n);
			info->comp_svn[arc - 1] = (uint8_t)n;
			*seen |= 1u << (arc - 1);
		} else if (!ret && strcmp(oid, SGX_EXT ".2.17") == 0) {
			ret = small_int(val, 65535, &n);
			info->pcesvn = (uint16_t)n;
			*seen |= 1u << 16;
		}
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
		pair = NULL;
	}
	if (!items)
		ret = -1;
	sk_ASN1_TYPE_pop_free(items, ASN1_TYPE_free);
	return ret;
}

int ratls_pck_info(X509 *pck, struct ratls_pck_info *info, err_t *err)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(SGX_EXT, 1);
	int idx = obj ? X509_get_ext_by_OBJ(pck, obj, -1) : -1;
	STACK_OF(ASN1_TYPE) *items = NULL, *pair = NULL;
	ASN1_OCTET_STRING *data;
	unsigned seen = 0;
	char oid[80];
	ASN1_TYPE *val;
	int ret = 0;

	ASN1_OBJECT_free(obj);
	memset(info, 0, sizeof(*info));
	if (idx < 0)
		return err_set(err, EBADMSG, "PCK certificate: no SGX extensions (%s)", SGX_EXT);
	data = X509_EXTENSION_get_data(X509_get_ext(pck, idx));
	items = pairs_of(data);
	for (int i = 0; items && !ret && i < sk_ASN1_TYPE_num(items); i++) {
		ret = pair_get(sk_ASN1_TYPE_value(items, i), oid, sizeof(oid), &val, &pair);
		if (ret)
			break;
		if (strcmp(oid, SGX_EXT ".2") == 0)
			ret = parse_tcb(val, info, &seen);
		else if (strcmp(oid, SGX_EXT ".3") == 0 && !(ret = octets(val, info->pceid, 2)))
			seen |= 1u << 17;
		else if (strcmp(oid, SGX_EXT ".4") == 0 && !(ret = octets(val, info->fmspc, 6)))
			seen |= 1u << 18;
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
		pair = NULL;
	}
	if (!items)
		ret = -1;
	sk_ASN1_TYPE_pop_free(items, ASN1_TYPE_free);
	ERR_clear_error();
	if (ret)
		return err_set(err, EBADMSG, "PCK certificate: its SGX extensions do not parse");
	if (seen != (1u << 19) - 1)
		return err_set(err, EBADMSG,
			       "PCK certificate: its SGX extensions lack the TCB, PCE-ID or FMSPC");
	return 0;
}
