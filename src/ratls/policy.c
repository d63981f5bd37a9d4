// SPDX-License-Identifier: Apache-2.0
/* Verification policies: the JSON policy file, the default, the checks (include/ratls/ratls.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ratls_internal.h"

static const char *const tcb_names[RATLS_TCB_STATUS_COUNT] = {
	[RATLS_TCB_NOT_CHECKED] = "not checked",
	[RATLS_TCB_UP_TO_DATE] = "UpToDate",
	[RATLS_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
	[RATLS_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
	[RATLS_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
	[RATLS_TCB_OUT_OF_DATE] = "OutOfDate",
	[RATLS_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
	[RATLS_TCB_REVOKED] = "Revoked",
};

const char *ratls_tcb_status_name(enum ratls_tcb_status s)
{
	return (unsigned)s < RATLS_TCB_STATUS_COUNT ? tcb_names[s] : "unknown";
}

int ratls_tcb_status_parse(const char *name)
{
	for (int i = RATLS_TCB_UP_TO_DATE; i < RATLS_TCB_STATUS_COUNT; i++)
		if (strcmp(name, tcb_names[i]) == 0)
			return i;
	return -1;
}

void ratls_policy_default(struct ratls_policy *p)
{
	memset(p, 0, sizeof(*p));
}

/* HEX of 1..max bytes (exactly max when exact) into out. */
static int policy_hex(const char *path, const char *key, json_t *v, uint8_t *out, size_t max,
		      int exact, size_t *len, err_t *err)
{
	const char *s = json_string_value(v);
	size_t n = s ? strlen(s) : 0;

	if (!s || n % 2 || n / 2 > max || (exact && n / 2 != max))
		return err_set(err, EINVAL, "policy %s: \"%s\": not %s%zu bytes of hex", path, key,
			       exact ? "" : "up to ", max);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return err_set(err, EINVAL, "policy %s: \"%s\": not hex", path, key);
	for (size_t i = 0; i < n / 2; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
	if (len)
		*len = n / 2;
	return 0;
}

static int policy_u16(const char *path, const char *key, json_t *v, uint16_t *out, err_t *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return err_set(err, EINVAL, "policy %s: \"%s\": not an integer from 0 to 65535",
			       path, key);
	*out = (uint16_t)json_integer_value(v);
	return 1;
}

static int policy_tcb(const char *path, json_t *v, unsigned *mask, err_t *err)
{
	size_t i;
	json_t *e;
	int s;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return err_set(err, EINVAL, "policy %s: \"tcb_status\": not a list of TCB statuses",
			       path);
	json_array_foreach(v, i, e)
	{
		s = json_is_string(e) ? ratls_tcb_status_parse(json_string_value(e)) : -1;
		if (s < 0 || s == RATLS_TCB_REVOKED)
			return err_set(err, EINVAL,
				       "policy %s: \"tcb_status\": %s is not one of UpToDate, "
				       "SWHardeningNeeded, ConfigurationNeeded, "
				       "ConfigurationAndSWHardeningNeeded, OutOfDate, "
				       "OutOfDateConfigurationNeeded",
				       path,
				       json_is_string(e) ? json_string_value(e) : "a non-string");
		*mask |= 1u << s;
	}
	return 0;
}

static int policy_member(const char *path, const char *key, json_t *v, struct ratls_policy *p,
			 err_t *err)
{
	if (strcmp(key, "mrenclave") == 0) {
		p->have_mrenclave = 1;
		return policy_hex(path, key, v, p->mrenclave, 32, 1, NULL, err);
	}
	if (strcmp(key, "mrsigner") == 0) {
		p->have_mrsigner = 1;
		return policy_hex(path, key, v, p->mrsigner, 32, 1, NULL, err);
	}
	if (strcmp(key, "report_data") == 0) {
		p->have_report_data = 1;
		return policy_hex(path, key, v, p->report_data, 64, 0, &p->report_data_len, err);
	}
	if (strcmp(key, "isvprodid") == 0)
		return p->have_isvprodid = policy_u16(path, key, v, &p->isvprodid, err);
	if (strcmp(key, "min_isvsvn") == 0)
		return p->have_min_isvsvn = policy_u16(path, key, v, &p->min_isvsvn, err);
	if (strcmp(key, "allow_debug") == 0) {
		if (!json_is_boolean(v))
			return err_set(err, EINVAL, "policy %s: \"allow_debug\": not true or false",
				       path);
		p->allow_debug = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "tcb_status") == 0)
		return policy_tcb(path, v, &p->tcb_statuses, err);
	return err_set(err, EINVAL,
		       "policy %s: unknown key \"%s\" (mrenclave, mrsigner, isvprodid, "
		       "min_isvsvn, allow_debug, report_data, tcb_status)",
		       path, key);
}

int ratls_policy_load(const char *path, struct ratls_policy *p, err_t *err)
{
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	int ret = 0;

	ratls_policy_default(p);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return err_set(err, EINVAL, "policy %s: line %d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(err, EINVAL, "policy %s: not a JSON object", path);
	}
	json_object_foreach(root, key, v)
	{
		ret = policy_member(path, key, v, p, err);
		if (ret < 0)
			break;
		ret = 0;
	}
	json_decref(root);
	if (!ret && !p->have_mrenclave && !p->have_mrsigner)
		ret = err_set(err, EINVAL,
			      "policy %s: names neither \"mrenclave\" nor \"mrsigner\"", path);
	return ret;
}

static int status_list(unsigned mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < RATLS_TCB_STATUS_COUNT; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
					      n ? " or " : "", tcb_names[i]);
	return 0;
}

int ratls_policy_check(const struct ratls_policy *p, const struct ratls_identity *id, err_t *err)
{
	uint8_t rd[64] = { 0 };
	char want[256];
	int ret = 0;

	if (p->have_mrenclave)
		ret = ratls_expect("MRENCLAVE", p->mrenclave, id->mrenclave, 32, err);
	if (!ret && p->have_mrsigner)
		ret = ratls_expect("MRSIGNER", p->mrsigner, id->mrsigner, 32, err);
	if (!ret && p->have_isvprodid && p->isvprodid != id->isvprodid)
		ret = err_set(err, EPERM, "ISVPRODID: expected %u, found %u", p->isvprodid,
			      id->isvprodid);
	if (!ret && p->have_min_isvsvn && id->isvsvn < p->min_isvsvn)
		ret = err_set(err, EPERM, "ISVSVN: expected at least %u, found %u", p->min_isvsvn,
			      id->isvsvn);
	if (!ret && !p->allow_debug && id->debug)
		ret = err_set(err, EPERM,
			      "DEBUG: expected a production enclave, found a DEBUG enclave "
			      "(attributes %#llx; its memory is readable by the host)",
			      (unsigned long long)id->attributes);
	if (!ret && p->have_report_data) {
		memcpy(rd, p->report_data, p->report_data_len > 64 ? 64 : p->report_data_len);
		ret = ratls_expect("report data", rd, id->report_data, 64, err);
	}
	if (!ret && p->tcb_statuses && !(p->tcb_statuses & (1u << id->tcb_status))) {
		status_list(p->tcb_statuses, want, sizeof(want));
		ret = err_set(err, EPERM, "TCB status: expected %s, found %s%s", want,
			      tcb_names[id->tcb_status],
			      id->tcb_status == RATLS_TCB_NOT_CHECKED ? " (no collateral)" : "");
	}
	return ret;
}
