// SPDX-License-Identifier: Apache-2.0
/* The verdict, for sgx-tools verify-quote and ratls-verify: text or JSON. */
#include <string.h>

#include "ratls_internal.h"

void ratls_identity_print(FILE *f, const struct ratls_identity *id, int json)
{
	char mre[65], mrs[65], rd[129];
	const char *tcb = ratls_tcb_status_name(id->tcb_status);

	ratls_hex(id->mrenclave, 32, mre);
	ratls_hex(id->mrsigner, 32, mrs);
	ratls_hex(id->report_data, 64, rd);
	if (json) {
		fprintf(
		    f,
		    "{\"verdict\": \"ok\", \"mrenclave\": \"%s\", \"mrsigner\": \"%s\", "
		    "\"isvprodid\": %u, \"isvsvn\": %u, \"debug\": %s, \"report_data\": \"%s\", "
		    "\"tcb_status\": \"%s\", \"root\": \"",
		    mre, mrs, id->isvprodid, id->isvsvn, id->debug ? "true" : "false", rd, tcb);
		for (const char *p = id->root; *p; p++)
			fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		fprintf(f, "\"");
		if (id->form)
			fprintf(f, ", \"form\": \"%s\"", id->form);
		fprintf(f, "}\n");
		return;
	}
	fprintf(f,
		"verdict: ok (authentic under the root CA)\nmrenclave: %s\nmrsigner: %s\n"
		"isvprodid: %u\nisvsvn: %u\ndebug: %s\nreport_data: %s\ntcb status: %s%s\n"
		"root: %s\n",
		mre, mrs, id->isvprodid, id->isvsvn, id->debug ? "true" : "false", rd, tcb,
		id->tcb_status == RATLS_TCB_NOT_CHECKED ? " (no collateral)" : "", id->root);
	if (id->form)
		fprintf(f, "form: %s\n", id->form);
}

/* A JSON string's body: the refusal messages are ASCII, quotes and backslashes escaped. */
static void json_str(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void ratls_refusal_print_json(FILE *f, const char *msg)
{
	const char *colon = strstr(msg, ": "), *why = colon ? colon + 2 : msg, *found, *exp;

	/* "RA-TLS key binding: report data (...): expected ...": the check is all before it. */
	exp = strstr(msg, ": expected ");
	if (exp && exp > colon)
		colon = exp, why = exp + 2;
	fprintf(f, "{\"verdict\": \"refused\", \"check\": \"");
	json_str(f, msg, colon ? (size_t)(colon - msg) : 0);
	fprintf(f, "\", \"reason\": \"");
	json_str(f, why, strlen(why));
	fprintf(f, "\"");
	if (strncmp(why, "expected ", 9) == 0 && (found = strstr(why, ", found "))) {
		fprintf(f, ", \"expected\": \"");
		json_str(f, why + 9, (size_t)(found - why - 9));
		fprintf(f, "\", \"found\": \"");
		json_str(f, found + 8, strlen(found + 8));
		fprintf(f, "\"");
	}
	fprintf(f, "}\n");
}
