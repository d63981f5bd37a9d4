/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing policies: what a client may have signed. EINIT compares an
 * enclave's SECS attributes with the SIGSTRUCT's only under the SIGSTRUCT's
 * masks, so a bit left out of the mask is one the enclave may run with
 * whatever the SIGSTRUCT says: the policy checks every attribute an enclave
 * signed with this SIGSTRUCT could run with, not just the ones it asks for.
 */
#include "signd/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void signd_policy_free(struct signd_policy *p)
{
	free(p->name);
	free(p->isvprodid);
	free(p->mrenclave);
	memset(p, 0, sizeof(*p));
}

static void defaults(struct signd_policy *p)
{
	p->allow_debug = 0;
	p->isvsvn_min = 0;
	p->isvsvn_max = UINT16_MAX;
	p->attributes_allowed = ~0ULL;
	p->xfrm_allowed = ~0ULL;
}

int signd_policy_default(struct signd_policy *p, err_t *err)
{
	memset(p, 0, sizeof(*p));
	defaults(p);
	p->name = strdup("default");
	if (p->name == NULL)
		return err_set(err, ENOMEM, "policy: out of memory");
	return 0;
}

static int u16_value(const json_t *v, const char *what, uint16_t *out, err_t *err)
{
	json_int_t i;

	if (!json_is_integer(v))
		return err_set(err, EINVAL, "%s: expected an integer", what);
	i = json_integer_value(v);
	if (i < 0 || i > UINT16_MAX)
		return err_set(err, EINVAL, "%s: %" JSON_INTEGER_FORMAT " is not in 0..65535", what,
			       i);
	*out = (uint16_t)i;
	return 0;
}

static int parse_key(struct signd_policy *p, const char *key, const json_t *v, err_t *err)
{
	size_t i;
	json_t *e;
	int ret;

	if (strcmp(key, "allow_debug") == 0) {
		if (!json_is_boolean(v))
			return err_set(err, EINVAL, "allow_debug: expected true or false");
		p->allow_debug = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "isvprodid") == 0) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			return err_set(err, EINVAL, "isvprodid: expected a non-empty array");
		p->isvprodid = calloc(json_array_size(v), sizeof(*p->isvprodid));
		if (p->isvprodid == NULL)
			return err_set(err, ENOMEM, "isvprodid: out of memory");
		json_array_foreach(v, i, e)
		{
			ret = u16_value(e, "isvprodid", &p->isvprodid[i], err);
			if (ret < 0)
				return ret;
		}
		p->n_isvprodid = json_array_size(v);
		return 0;
	}
	if (strcmp(key, "isvsvn_min") == 0)
		return u16_value(v, key, &p->isvsvn_min, err);
	if (strcmp(key, "isvsvn_max") == 0)
		return u16_value(v, key, &p->isvsvn_max, err);
	if (strcmp(key, "attributes_allowed") == 0)
		return signd_json_u64(v, key, &p->attributes_allowed, err);
	if (strcmp(key, "xfrm_allowed") == 0)
		return signd_json_u64(v, key, &p->xfrm_allowed, err);
	if (strcmp(key, "mrenclave") == 0) {
		if (!json_is_array(v) || json_array_size(v) == 0)
			return err_set(err, EINVAL, "mrenclave: expected a non-empty array");
		p->mrenclave = calloc(json_array_size(v), sizeof(*p->mrenclave));
		if (p->mrenclave == NULL)
			return err_set(err, ENOMEM, "mrenclave: out of memory");
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e) ||
			    signd_unhex(json_string_value(e), p->mrenclave[i], 32) < 0)
				return err_set(err, EINVAL,
					       "mrenclave[%zu]: expected 64 hex digits", i);
		}
		p->n_mrenclave = json_array_size(v);
		return 0;
	}
	return err_set(err, EINVAL, "unknown key '%s'", key);
}

int signd_policy_parse(struct signd_policy *p, const char *name, const json_t *obj, err_t *err)
{
	const char *key;
	json_t *v;
	int ret;

	memset(p, 0, sizeof(*p));
	defaults(p);
	if (!signd_valid_name(name))
		return err_set(err, EINVAL, "policy name '%s': use 1-64 of A-Z a-z 0-9 . _ @ -",
			       name);
	p->name = strdup(name);
	if (p->name == NULL)
		return err_set(err, ENOMEM, "policy: out of memory");
	if (!json_is_object(obj)) {
		ret = err_set(err, EINVAL, "policy '%s': expected an object", name);
		goto fail;
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		ret = parse_key(p, key, v, err);
		if (ret < 0) {
			err_wrap(err, "policy '%s'", name);
			goto fail;
		}
	}
	if (p->isvsvn_min > p->isvsvn_max) {
		ret = err_set(err, EINVAL, "policy '%s': isvsvn_min %u is above isvsvn_max %u",
			      name, p->isvsvn_min, p->isvsvn_max);
		goto fail;
	}
	return 0;
fail:
	signd_policy_free(p);
	return ret;
}

int signd_policy_check(const struct signd_policy *p, const struct sgx_sigstruct *ss, err_t *err)
{
	const struct sgx_sigstruct_body *b = &ss->body;
	uint64_t allowed, reach, bad;
	char hex[65];

	if (p->mrenclave) {
		size_t i;

		for (i = 0; i < p->n_mrenclave; i++)
			if (memcmp(p->mrenclave[i], b->enclavehash, 32) == 0)
				break;
		if (i == p->n_mrenclave) {
			sgx_hex(b->enclavehash, 32, hex);
			return err_set(err, EPERM, "MRENCLAVE %s is not in the list of policy '%s'",
				       hex, p->name);
		}
	}
	if (p->isvprodid) {
		size_t i;

		for (i = 0; i < p->n_isvprodid; i++)
			if (p->isvprodid[i] == b->isvprodid)
				break;
		if (i == p->n_isvprodid)
			return err_set(err, EPERM, "ISVPRODID %u is not allowed by policy '%s'",
				       b->isvprodid, p->name);
	}
	if (b->isvsvn < p->isvsvn_min || b->isvsvn > p->isvsvn_max)
		return err_set(err, EPERM, "ISVSVN %u is outside the range %u-%u of policy '%s'",
			       b->isvsvn, p->isvsvn_min, p->isvsvn_max, p->name);

	/* Every attribute an enclave could run with: the signed ones where the mask fixes them, any elsewhere. */
	allowed = p->attributes_allowed & (p->allow_debug ? ~0ULL : ~SGX_ATTR_DEBUG);
	reach = (b->attributes & b->attributes_mask) | ~b->attributes_mask;
	bad = reach & ~allowed;
	if (bad & SGX_ATTR_DEBUG) {
		if (b->attributes & SGX_ATTR_DEBUG)
			return err_set(err, EPERM,
				       "DEBUG enclave (attributes 0x%" PRIx64
				       "): policy '%s' does not allow DEBUG",
				       b->attributes, p->name);
		return err_set(err, EPERM,
			       "attributes mask 0x%" PRIx64
			       " leaves DEBUG free (the enclave could run in DEBUG mode): policy "
			       "'%s' does not allow DEBUG",
			       b->attributes_mask, p->name);
	}
	if (bad)
		return err_set(err, EPERM,
			       "attributes 0x%" PRIx64 " under mask 0x%" PRIx64
			       " allow bits 0x%" PRIx64
			       " that policy '%s' does not (allowed: 0x%" PRIx64 ")",
			       b->attributes, b->attributes_mask, bad, p->name, allowed);
	reach = (b->xfrm & b->xfrm_mask) | ~b->xfrm_mask;
	bad = reach & ~p->xfrm_allowed;
	if (bad)
		return err_set(err, EPERM,
			       "xfrm 0x%" PRIx64 " under mask 0x%" PRIx64 " allow bits 0x%" PRIx64
			       " that policy '%s' does not (allowed: 0x%" PRIx64 ")",
			       b->xfrm, b->xfrm_mask, bad, p->name, p->xfrm_allowed);
	return 0;
}
