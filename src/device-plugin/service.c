/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DevicePlugin service: device IDs "0" .. "N-1", one per MiB of EPC
 * (Alibaba's convention: Allocate sees only IDs, so only a per-MiB
 * resource can carry a limit).
 */
#include "device-plugin/service.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "deviceplugin.pb-c.h"

#define HEALTHY	  "Healthy"
#define UNHEALTHY "Unhealthy"

static enum grpc_status pack(const ProtobufCMessage *m, struct devplug_answer *a)
{
	size_t n = protobuf_c_message_get_packed_size(m);

	if ((a->out = malloc(n ? n : 1)) == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return GRPC_RESOURCE_EXHAUSTED;
	}
	a->out_len = protobuf_c_message_pack(m, a->out);
	return GRPC_OK;
}

static enum grpc_status invalid(struct devplug_answer *a, const char *fmt, const char *what)
{
	snprintf(a->why, sizeof(a->why), fmt, what);
	return GRPC_INVALID_ARGUMENT;
}

enum grpc_status devplug_options(struct devplug_answer *a)
{
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

	o.get_preferred_allocation_available = true;
	return pack(&o.base, a);
}

enum grpc_status devplug_list(const struct devplug_inventory *inv, struct devplug_answer *a)
{
	V1beta1__ListAndWatchResponse r = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
	_cleanup_free_ V1beta1__Device *devs = calloc(inv->devices ?: 1, sizeof(*devs));
	_cleanup_free_ V1beta1__Device **ptrs = calloc(inv->devices ?: 1, sizeof(*ptrs));
	_cleanup_free_ char *ids = calloc(inv->devices ?: 1, 12);

	if (devs == NULL || ptrs == NULL || ids == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return GRPC_RESOURCE_EXHAUSTED;
	}
	for (unsigned i = 0; i < inv->devices; i++) {
		v1beta1__device__init(&devs[i]);
		snprintf(ids + 12 * i, 12, "%u", i);
		devs[i].id = ids + 12 * i;
		devs[i].health = inv->healthy ? HEALTHY : UNHEALTHY;
		ptrs[i] = &devs[i];
	}
	r.n_devices = inv->devices;
	r.devices = ptrs;
	return pack(&r.base, a);
}

/* A device ID we advertise: "0" .. "N-1", canonical decimal. */
static bool parse_id(const char *s, unsigned n, unsigned *id)
{
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1]))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v >= n)
		return false;
	*id = v;
	return true;
}

/* Every ID known and none twice: GRPC_OK, else why names the first bad one. */
static enum grpc_status check_ids(const struct devplug_inventory *inv, char **ids, size_t n,
				  struct devplug_answer *a)
{
	_cleanup_free_ uint8_t *seen = calloc(inv->devices / 8 + 1, 1);
	unsigned id;

	if (seen == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return GRPC_RESOURCE_EXHAUSTED;
	}
	for (size_t i = 0; i < n; i++) {
		if (!parse_id(ids[i], inv->devices, &id))
			return invalid(a, "unknown device ID \"%.40s\"", ids[i]);
		if (seen[id / 8] & (1u << id % 8))
			return invalid(a, "device ID \"%.40s\" given twice", ids[i]);
		seen[id / 8] |= 1u << id % 8;
	}
	return GRPC_OK;
}

/* One container's answer: the limit, the device nodes, aesmd's socket. */
struct container_answer {
	V1beta1__ContainerAllocateResponse r;
	V1beta1__ContainerAllocateResponse__EnvsEntry env, *envs[1];
	char limit[16];
	/* each node, and the /dev/sgx/ aliases of sgx_enclave and sgx_provision */
	V1beta1__DeviceSpec specs[6], *spec_ptrs[6];
	char host[6][4096], ctr[6][64];
	V1beta1__Mount mount, *mounts[1];
};

static void add_spec(struct container_answer *c, const char *host, const char *ctr)
{
	size_t i = c->r.n_devices++;

	v1beta1__device_spec__init(&c->specs[i]);
	snprintf(c->host[i], sizeof(c->host[i]), "%s", host);
	snprintf(c->ctr[i], sizeof(c->ctr[i]), "%s", ctr);
	c->specs[i].host_path = c->host[i];
	c->specs[i].container_path = c->ctr[i];
	c->specs[i].permissions = "rw";
	c->spec_ptrs[i] = &c->specs[i];
}

static void fill_container(const struct devplug_opts *o, const struct devplug_inventory *inv,
			   size_t mib, struct container_answer *c)
{
	v1beta1__container_allocate_response__init(&c->r);
	v1beta1__container_allocate_response__envs_entry__init(&c->env);
	snprintf(c->limit, sizeof(c->limit), "%zu", mib);
	c->env.key = "SGX_EPC_LIMIT";
	c->env.value = c->limit;
	c->envs[0] = &c->env;
	c->r.n_envs = 1;
	c->r.envs = c->envs;
	c->r.devices = c->spec_ptrs;
	for (unsigned i = 0; devplug_dev_nodes[i]; i++) {
		char host[4096], ctr[64];

		if (!(inv->dev_nodes & (1u << i)))
			continue;
		snprintf(host, sizeof(host), "%s/%s", o->dev_dir, devplug_dev_nodes[i]);
		snprintf(ctr, sizeof(ctr), "/dev/%s", devplug_dev_nodes[i]);
		add_spec(c, host, ctr);
		/* The SDK's older paths: /dev/sgx/enclave, /dev/sgx/provision (udev's links). */
		if (strncmp(devplug_dev_nodes[i], "sgx_", 4) == 0) {
			ctr[8] = '/';
			add_spec(c, host, ctr);
		}
	}
	if (o->aesmd_dir) {
		v1beta1__mount__init(&c->mount);
		c->mount.host_path = (char *)o->aesmd_dir;
		c->mount.container_path = DEVPLUG_AESMD_CONTAINER;
		c->mount.read_only = true;
		c->mounts[0] = &c->mount;
		c->r.n_mounts = 1;
		c->r.mounts = c->mounts;
	}
}

enum grpc_status devplug_allocate(const struct devplug_opts *o, const struct devplug_inventory *inv,
				  const uint8_t *req, size_t len, struct devplug_answer *a)
{
	V1beta1__AllocateRequest *r = v1beta1__allocate_request__unpack(NULL, len, req);
	V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
	_cleanup_free_ struct container_answer *c = NULL;
	_cleanup_free_ V1beta1__ContainerAllocateResponse **ptrs = NULL;
	enum grpc_status st = GRPC_OK;

	if (r == NULL)
		return invalid(a, "%s", "AllocateRequest: not a valid message");
	if (r->n_container_requests == 0) {
		st = invalid(a, "%s", "AllocateRequest: no container request");
		goto out;
	}
	c = calloc(r->n_container_requests, sizeof(*c));
	ptrs = calloc(r->n_container_requests, sizeof(*ptrs));
	if (c == NULL || ptrs == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		st = GRPC_RESOURCE_EXHAUSTED;
		goto out;
	}
	for (size_t i = 0; i < r->n_container_requests; i++) {
		V1beta1__ContainerAllocateRequest *cr = r->container_requests[i];

		if (cr->n_devices_ids == 0) {
			st =
			    invalid(a, "%s", "AllocateRequest: a container request with no device");
			goto out;
		}
		if ((st = check_ids(inv, cr->devices_ids, cr->n_devices_ids, a)) != GRPC_OK)
			goto out;
		fill_container(o, inv, cr->n_devices_ids, &c[i]);
		ptrs[i] = &c[i].r;
	}
	resp.n_container_responses = r->n_container_requests;
	resp.container_responses = ptrs;
	st = pack(&resp.base, a);
out:
	v1beta1__allocate_request__free_unpacked(r, NULL);
	return st;
}

/*
 * Any IDs serve as well as any others (they stand for MiB, not for
 * hardware): the ones that must be included, then the first available.
 */
static enum grpc_status prefer_one(const struct devplug_inventory *inv,
				   const V1beta1__ContainerPreferredAllocationRequest *cr,
				   V1beta1__ContainerPreferredAllocationResponse *out,
				   struct devplug_answer *a)
{
	size_t want = cr->allocation_size, n = 0;
	enum grpc_status st;

	if (cr->allocation_size < 0 || want > cr->n_available_deviceids ||
	    cr->n_must_include_deviceids > want)
		return invalid(a, "%s",
			       "PreferredAllocationRequest: allocation_size does not fit the "
			       "devices given");
	if ((st = check_ids(inv, cr->available_deviceids, cr->n_available_deviceids, a)) ||
	    (st = check_ids(inv, cr->must_include_deviceids, cr->n_must_include_deviceids, a)))
		return st;
	if ((out->deviceids = calloc(want ?: 1, sizeof(char *))) == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return GRPC_RESOURCE_EXHAUSTED;
	}
	for (size_t i = 0; i < cr->n_must_include_deviceids; i++)
		out->deviceids[n++] = cr->must_include_deviceids[i];
	for (size_t i = 0; i < cr->n_available_deviceids && n < want; i++) {
		bool dup = false;

		for (size_t j = 0; j < cr->n_must_include_deviceids && !dup; j++)
			dup =
			    strcmp(cr->available_deviceids[i], cr->must_include_deviceids[j]) == 0;
		if (!dup)
			out->deviceids[n++] = cr->available_deviceids[i];
	}
	out->n_deviceids = n;
	return GRPC_OK;
}

enum grpc_status devplug_preferred(const struct devplug_inventory *inv, const uint8_t *req,
				   size_t len, struct devplug_answer *a)
{
	V1beta1__PreferredAllocationRequest *r =
	    v1beta1__preferred_allocation_request__unpack(NULL, len, req);
	V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
	_cleanup_free_ V1beta1__ContainerPreferredAllocationResponse *c = NULL;
	_cleanup_free_ V1beta1__ContainerPreferredAllocationResponse **ptrs = NULL;
	enum grpc_status st = GRPC_OK;
	size_t n;

	if (r == NULL)
		return invalid(a, "%s", "PreferredAllocationRequest: not a valid message");
	n = r->n_container_requests;
	c = calloc(n ?: 1, sizeof(*c));
	ptrs = calloc(n ?: 1, sizeof(*ptrs));
	if (c == NULL || ptrs == NULL) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		st = GRPC_RESOURCE_EXHAUSTED;
		goto out;
	}
	for (size_t i = 0; i < n && st == GRPC_OK; i++) {
		v1beta1__container_preferred_allocation_response__init(&c[i]);
		ptrs[i] = &c[i];
		st = prefer_one(inv, r->container_requests[i], &c[i], a);
	}
	resp.n_container_responses = n;
	resp.container_responses = ptrs;
	if (st == GRPC_OK)
		st = pack(&resp.base, a);
out:
	for (size_t i = 0; c && i < n; i++)
		free(c[i].deviceids);
	v1beta1__preferred_allocation_request__free_unpacked(r, NULL);
	return st;
}

/* Not asked for (pre_start_required is false); answered, IDs checked, all the same. */
enum grpc_status devplug_prestart(const struct devplug_inventory *inv, const uint8_t *req,
				  size_t len, struct devplug_answer *a)
{
	V1beta1__PreStartContainerRequest *r =
	    v1beta1__pre_start_container_request__unpack(NULL, len, req);
	V1beta1__PreStartContainerResponse resp = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;
	enum grpc_status st;

	if (r == NULL)
		return invalid(a, "%s", "PreStartContainerRequest: not a valid message");
	st = check_ids(inv, r->devices_ids, r->n_devices_ids, a);
	v1beta1__pre_start_container_request__free_unpacked(r, NULL);
	return st ?: pack(&resp.base, a);
}
