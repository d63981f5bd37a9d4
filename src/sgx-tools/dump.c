/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools dump: every SIGSTRUCT field, as text or JSON. */
#include <stdio.h>
#include <string.h>

#include "sgx-tools.h"
#include "common/cleanup.h"

static const char help[] =
    "Usage: sgx-tools dump [--json] SIGSTRUCT\n"
    "Prints every field, one 'name: value' a line, then mrenclave (the enclave\n"
    "hash), mrsigner (SHA-256 of the modulus) and whether the signature verifies.\n"
    "Byte arrays are hex in stored order; 64-bit fields are hex strings in JSON.\n";

struct out {
	int json;
	int first;
};

static void key(struct out *o, const char *name)
{
	if (o->json)
		printf("%s\n  \"%s\": ", o->first ? "{" : ",", name);
	else
		printf("%s: ", name);
	o->first = 0;
}

static void end_line(struct out *o)
{
	if (!o->json)
		printf("\n");
}

static void bytes(struct out *o, const char *name, const uint8_t *p, size_t n)
{
	char hex[2 * SGX_MODULUS_SIZE + 1];

	sgx_hex(p, n, hex);
	key(o, name);
	printf(o->json ? "\"%s\"" : "%s", hex);
	end_line(o);
}

static void u32(struct out *o, const char *name, uint32_t v, int as_hex)
{
	key(o, name);
	printf(as_hex && !o->json ? "0x%08x" : "%u", v);
	end_line(o);
}

static void u64(struct out *o, const char *name, uint64_t v)
{
	key(o, name);
	printf(o->json ? "\"0x%016llx\"" : "0x%016llx", (unsigned long long)v);
	end_line(o);
}

static void str(struct out *o, const char *name, const char *v)
{
	key(o, name);
	printf(o->json ? "\"%s\"" : "%s", v);
	end_line(o);
}

static void dump(const struct sgx_sigstruct *ss, int json)
{
	const struct sgx_sigstruct_header *h = &ss->header;
	const struct sgx_sigstruct_body *b = &ss->body;
	struct out o = { .json = json, .first = 1 };
	_cleanup_error_ err_t err = NULL;
	uint8_t signer[32];
	char date[16];

	bytes(&o, "header", h->header, sizeof(h->header));
	u32(&o, "vendor", h->vendor, 1);
	u32(&o, "date", h->date, 1);
	snprintf(date, sizeof(date), "%04x-%02x-%02x", h->date >> 16, (h->date >> 8) & 0xff,
		 h->date & 0xff);
	str(&o, "date_text", h->date ? date : "none");
	bytes(&o, "header2", h->header2, sizeof(h->header2));
	u32(&o, "swdefined", h->swdefined, 1);
	bytes(&o, "modulus", ss->modulus, sizeof(ss->modulus));
	u32(&o, "exponent", ss->exponent, 0);
	bytes(&o, "signature", ss->signature, sizeof(ss->signature));
	u32(&o, "miscselect", b->miscselect, 1);
	u32(&o, "miscmask", b->miscmask, 1);
	bytes(&o, "isvextprodid", b->isvextprodid, sizeof(b->isvextprodid));
	u64(&o, "attributes", b->attributes);
	u64(&o, "xfrm", b->xfrm);
	u64(&o, "attributes_mask", b->attributes_mask);
	u64(&o, "xfrm_mask", b->xfrm_mask);
	bytes(&o, "enclavehash", b->enclavehash, sizeof(b->enclavehash));
	bytes(&o, "isvfamilyid", b->isvfamilyid, sizeof(b->isvfamilyid));
	u32(&o, "isvprodid", b->isvprodid, 0);
	u32(&o, "isvsvn", b->isvsvn, 0);
	bytes(&o, "q1", ss->q1, sizeof(ss->q1));
	bytes(&o, "q2", ss->q2, sizeof(ss->q2));
	bytes(&o, "mrenclave", b->enclavehash, sizeof(b->enclavehash));
	sgx_mrsigner(ss, signer);
	bytes(&o, "mrsigner", signer, sizeof(signer));
	if (sgx_sigstruct_check(ss, &err) == 0) {
		str(&o, "signature_valid", "yes");
	} else {
		str(&o, "signature_valid", "no");
		/* Messages are ours and carry no quotes or backslashes. */
		str(&o, "signature_error", err_msg(err));
	}
	if (json)
		printf("\n}\n");
}

int cmd_dump(int argc, char **argv, err_t *err)
{
	static const struct option table[] = { { "json", no_argument, NULL, OPT_JSON }, { 0 } };
	static const struct command_options cmd = { .table = table,
						    .help = help,
						    .handler = json_option,
						    .operands = 1,
						    .operand = "SIGSTRUCT file" };
	struct sgx_sigstruct ss;
	int json = 0, ret;

	ret = parse_options(&cmd, &json, argc, argv, err);
	if (ret <= 0)
		return ret;
	ret = sgx_sigstruct_load(&ss, argv[ret], err);
	if (ret < 0)
		return ret;
	dump(&ss, json);
	return 0;
}
