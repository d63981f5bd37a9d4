/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stats: the statistics `rune events --stats` prints (runc's JSON) as the
 * Metrics message of containerd's cgroups package, v1 on a v1 or hybrid
 * host, v2 on a unified one (what containerd's own shim does). Most fields
 * carry runc's names: they are filled by walking the message descriptors,
 * names compared without underscores or case ("pg_pg_in" is "pgpgin",
 * "kernel_tcp" is "kernelTCP"); the few that differ are set by hand.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "common/cleanup.h"
#include "shim/shim.h"
#include "cgroups.pb-c.h"

static bool name_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == '_')
			a++;
		while (*b == '_')
			b++;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		if (*a == '\0')
			return true;
		a++;
		b++;
	}
}

static json_t *get(json_t *obj, const char *name)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) if (name_eq(key, name)) return v;
	return NULL;
}

static uint64_t u64(json_t *v)
{
	json_int_t i = json_is_integer(v) ? json_integer_value(v) : 0;

	return i > 0 ? (uint64_t)i : 0;
}

/* Sets m's uint64 fields (and repeated ones, and sub-messages) from obj's members. */
static int fill(ProtobufCMessage *m, json_t *obj)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	if (!json_is_object(obj))
		return 0;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v = get(obj, f->name);
		char *at = (char *)m + f->offset;

		if (v == NULL)
			continue;
		if (f->type == PROTOBUF_C_TYPE_UINT64 && f->label != PROTOBUF_C_LABEL_REPEATED &&
		    json_is_integer(v)) {
			*(uint64_t *)at = u64(v);
		} else if (f->type == PROTOBUF_C_TYPE_UINT64 && json_is_array(v) &&
			   json_array_size(v)) {
			size_t n = json_array_size(v);
			uint64_t *a = calloc(n, sizeof(*a));

			if (a == NULL)
				return -ENOMEM;
			for (size_t k = 0; k < n; k++)
				a[k] = u64(json_array_get(v, k));
			*(size_t *)((char *)m + f->quantifier_offset) = n;
			*(uint64_t **)at = a;
		} else if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
			   f->label != PROTOBUF_C_LABEL_REPEATED && json_is_object(v)) {
			const ProtobufCMessageDescriptor *sd = f->descriptor;
			ProtobufCMessage *sub = calloc(1, sd->sizeof_message);

			if (sub == NULL)
				return -ENOMEM;
			sd->message_init(sub);
			*(ProtobufCMessage **)at = sub;
			if (fill(sub, v) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

bool stats_unified(void)
{
	struct statfs st;

	return statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

static int v1(json_t *data, Cg__V1Metrics *m)
{
	json_t *mem = get(data, "memory");

	if (fill(&m->base, data) < 0)
		return -ENOMEM;
	if (m->memory) {
		Cg__V1MemoryStat *ms = m->memory;

		if (fill(&ms->base, get(mem, "raw")) < 0)
			return -ENOMEM;
		ms->hierarchical_swap_limit = u64(get(get(mem, "raw"), "hierarchical_memsw_limit"));
	}
	return 0;
}

static int v2(json_t *data, Cg__V2Metrics *m)
{
	json_t *cpu = get(data, "cpu"), *mem = get(data, "memory");
	json_t *use = get(cpu, "usage"), *thr = get(cpu, "throttling");

	if (fill(&m->base, data) < 0)
		return -ENOMEM;
	if (m->cpu) {
		/* (fill made it: no names in common) */
		m->cpu->usage_usec = u64(get(use, "total")) / 1000;
		m->cpu->user_usec = u64(get(use, "user")) / 1000;
		m->cpu->system_usec = u64(get(use, "kernel")) / 1000;
		m->cpu->nr_periods = u64(get(thr, "periods"));
		m->cpu->nr_throttled = u64(get(thr, "throttled_periods"));
		m->cpu->throttled_usec = u64(get(thr, "throttled_time")) / 1000;
	}
	if (m->memory) {
		Cg__V2MemoryStat *ms = m->memory;

		if (fill(&ms->base, get(mem, "raw")) < 0)
			return -ENOMEM;
		ms->usage = u64(get(get(mem, "usage"), "usage"));
		ms->usage_limit = u64(get(get(mem, "usage"), "limit"));
		ms->max_usage = u64(get(get(mem, "usage"), "max"));
		ms->swap_usage = u64(get(get(mem, "swap"), "usage"));
		ms->swap_limit = u64(get(get(mem, "swap"), "limit"));
		ms->swap_max_usage = u64(get(get(mem, "swap"), "max"));
	}
	return 0;
}

int stats_metrics(const char *text, bool unified, const char **type_url, uint8_t **buf, size_t *len,
		  err_t *err)
{
	json_t *root = json_loads(text ? text : "", 0, NULL);
	json_t *data = json_object_get(root, "data");
	Cg__V1Metrics m1 = CG__V1_METRICS__INIT;
	Cg__V2Metrics m2 = CG__V2_METRICS__INIT;
	ProtobufCMessage *m;
	int ret;

	if (!json_is_object(data)) {
		json_decref(root);
		return err_set(err, EIO, "rune events --stats: no statistics in its output");
	}
	if (unified) {
		*type_url = "io.containerd.cgroups.v2.Metrics";
		m = &m2.base;
		ret = v2(data, &m2);
	} else {
		*type_url = "io.containerd.cgroups.v1.Metrics";
		m = &m1.base;
		ret = v1(data, &m1);
	}
	json_decref(root);
	if (ret == 0) {
		*len = protobuf_c_message_get_packed_size(m);
		*buf = malloc(*len ? *len : 1);
		if (*buf == NULL)
			ret = -ENOMEM;
		else
			protobuf_c_message_pack(m, *buf);
	}
	/* the sub-messages (the top one is on the stack) */
	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &m->descriptor->fields[i];
		ProtobufCMessage **sub = (ProtobufCMessage **)((char *)m + f->offset);

		if (f->type == PROTOBUF_C_TYPE_MESSAGE && *sub)
			protobuf_c_message_free_unpacked(*sub, NULL);
	}
	return ret < 0 ? err_sys(err, -ret, "statistics") : 0;
}
