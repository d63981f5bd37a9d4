/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device plugin's answers (src/device-plugin/service.c) without a
 * socket: the device list, Allocate's limit, device nodes and mount, the
 * IDs it refuses, GetPreferredAllocation.
 */
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "device-plugin/service.h"
#include "deviceplugin.pb-c.h"
#include "../tap.h"

static const struct devplug_opts opts = { .dev_dir = "/devs" };

static enum grpc_status allocate(const struct devplug_opts *o, const struct devplug_inventory *inv,
				 char **ids, size_t n, V1beta1__AllocateResponse **out,
				 struct devplug_answer *a)
{
	V1beta1__ContainerAllocateRequest cr = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT,
					  *crs[] = { &cr };
	V1beta1__AllocateRequest r = V1BETA1__ALLOCATE_REQUEST__INIT;
	uint8_t buf[4096];
	enum grpc_status st;

	cr.devices_ids = ids;
	cr.n_devices_ids = n;
	r.container_requests = crs;
	r.n_container_requests = 1;
	memset(a, 0, sizeof(*a));
	st = devplug_allocate(o, inv, buf, protobuf_c_message_pack(&r.base, buf), a);
	*out = st == GRPC_OK ? v1beta1__allocate_response__unpack(NULL, a->out_len, a->out) : NULL;
	free(a->out);
	return st;
}

static void test_list(void)
{
	struct devplug_inventory inv = { .devices = 4, .healthy = false };
	struct devplug_answer a = { 0 };
	V1beta1__ListAndWatchResponse *r;

	CHECK(devplug_list(&inv, &a) == GRPC_OK);
	r = v1beta1__list_and_watch_response__unpack(NULL, a.out_len, a.out);
	CHECK(r && r->n_devices == 4);
	for (size_t i = 0; r && i < r->n_devices; i++) {
		char id[24];

		snprintf(id, sizeof(id), "%zu", i);
		CHECK(strcmp(r->devices[i]->id, id) == 0, "device %zu is \"%s\"", i,
		      r->devices[i]->id);
		CHECK(strcmp(r->devices[i]->health, "Unhealthy") == 0);
	}
	v1beta1__list_and_watch_response__free_unpacked(r, NULL);
	free(a.out);
}

static void test_allocate(void)
{
	/* sgx_enclave and the legacy isgx exist, sgx_provision does not */
	struct devplug_inventory inv = { .devices = 64, .healthy = true, .dev_nodes = 1 | 4 };
	struct devplug_opts o = opts;
	char *ids[] = { "0", "63", "7" };
	struct devplug_answer a;
	V1beta1__AllocateResponse *r;
	V1beta1__ContainerAllocateResponse *c;

	CHECK(allocate(&o, &inv, ids, 3, &r, &a) == GRPC_OK);
	c = r ? r->container_responses[0] : NULL;
	CHECK(c && c->n_envs == 1 && strcmp(c->envs[0]->key, "SGX_EPC_LIMIT") == 0 &&
	      strcmp(c->envs[0]->value, "3") == 0);
	CHECK(c && c->n_devices == 3 && c->n_mounts == 0);
	if (c && c->n_devices == 3) {
		CHECK(strcmp(c->devices[0]->host_path, "/devs/sgx_enclave") == 0 &&
		      strcmp(c->devices[0]->container_path, "/dev/sgx_enclave") == 0 &&
		      strcmp(c->devices[0]->permissions, "rw") == 0);
		CHECK(strcmp(c->devices[1]->container_path, "/dev/sgx/enclave") == 0);
		CHECK(strcmp(c->devices[2]->host_path, "/devs/isgx") == 0 &&
		      strcmp(c->devices[2]->container_path, "/dev/isgx") == 0);
	}
	v1beta1__allocate_response__free_unpacked(r, NULL);

	o.aesmd_dir = "/run/aesmd";
	inv.dev_nodes = 0;
	CHECK(allocate(&o, &inv, ids, 1, &r, &a) == GRPC_OK);
	c = r ? r->container_responses[0] : NULL;
	CHECK(c && c->n_devices == 0 && c->n_mounts == 1 && c->mounts[0]->read_only &&
	      strcmp(c->mounts[0]->host_path, "/run/aesmd") == 0 &&
	      strcmp(c->mounts[0]->container_path, "/var/run/aesmd") == 0);
	v1beta1__allocate_response__free_unpacked(r, NULL);
}

static void test_allocate_refuses(void)
{
	struct devplug_inventory inv = { .devices = 64, .healthy = true };
	const char *bad[] = { "64", "-1", "", "1x", "007", "99999999999999999999", " 1", "+1" };
	V1beta1__AllocateResponse *r;
	struct devplug_answer a;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *ids[] = { (char *)bad[i] };

		CHECK(allocate(&opts, &inv, ids, 1, &r, &a) == GRPC_INVALID_ARGUMENT, "ID \"%s\"",
		      bad[i]);
		CHECK(strstr(a.why, "unknown device ID"), "ID \"%s\": %s", bad[i], a.why);
	}
	char *twice[] = { "5", "6", "5" };
	CHECK(allocate(&opts, &inv, twice, 3, &r, &a) == GRPC_INVALID_ARGUMENT);
	CHECK(strstr(a.why, "\"5\" given twice"), "%s", a.why);
	CHECK(allocate(&opts, &inv, NULL, 0, &r, &a) == GRPC_INVALID_ARGUMENT);
	memset(&a, 0, sizeof(a));
	CHECK(devplug_allocate(&opts, &inv, (const uint8_t *)"\xff\xff", 2, &a) ==
	      GRPC_INVALID_ARGUMENT);
	CHECK(devplug_allocate(&opts, &inv, (const uint8_t *)"", 0, &a) == GRPC_INVALID_ARGUMENT);
}

static enum grpc_status prefer(char **avail, size_t na, char **must, size_t nm, int size,
			       V1beta1__PreferredAllocationResponse **out)
{
	struct devplug_inventory inv = { .devices = 16, .healthy = true };
	V1beta1__ContainerPreferredAllocationRequest cr =
	    V1BETA1__CONTAINER_PREFERRED_ALLOCATION_REQUEST__INIT;
	V1beta1__ContainerPreferredAllocationRequest *crs[] = { &cr };
	V1beta1__PreferredAllocationRequest r = V1BETA1__PREFERRED_ALLOCATION_REQUEST__INIT;
	struct devplug_answer a = { 0 };
	uint8_t buf[1024];
	enum grpc_status st;

	cr.available_deviceids = avail;
	cr.n_available_deviceids = na;
	cr.must_include_deviceids = must;
	cr.n_must_include_deviceids = nm;
	cr.allocation_size = size;
	r.container_requests = crs;
	r.n_container_requests = 1;
	st = devplug_preferred(&inv, buf, protobuf_c_message_pack(&r.base, buf), &a);
	*out = st == GRPC_OK
		   ? v1beta1__preferred_allocation_response__unpack(NULL, a.out_len, a.out)
		   : NULL;
	free(a.out);
	return st;
}

static void test_preferred(void)
{
	char *avail[] = { "1", "2", "3", "4" }, *must[] = { "3" }, *unknown[] = { "16" };
	V1beta1__PreferredAllocationResponse *r;

	CHECK(prefer(avail, 4, must, 1, 3, &r) == GRPC_OK);
	CHECK(r && r->n_container_responses == 1 && r->container_responses[0]->n_deviceids == 3);
	if (r && r->container_responses[0]->n_deviceids == 3)
		CHECK(strcmp(r->container_responses[0]->deviceids[0], "3") == 0 &&
		      strcmp(r->container_responses[0]->deviceids[1], "1") == 0 &&
		      strcmp(r->container_responses[0]->deviceids[2], "2") == 0);
	v1beta1__preferred_allocation_response__free_unpacked(r, NULL);
	CHECK(prefer(avail, 4, NULL, 0, 5, &r) == GRPC_INVALID_ARGUMENT);
	CHECK(prefer(avail, 4, NULL, 0, -1, &r) == GRPC_INVALID_ARGUMENT);
	CHECK(prefer(avail, 4, must, 1, 0, &r) == GRPC_INVALID_ARGUMENT);
	CHECK(prefer(unknown, 1, NULL, 0, 1, &r) == GRPC_INVALID_ARGUMENT);
}

/* CPUID leaf 0x12's EPC sections (Alibaba's and Intel's plugins read them alike). */
static void test_epc_sections(void)
{
	/* 93.5 MiB at 0x70200000, as a 128 MiB-PRM part reports it */
	CHECK(devplug_epc_section_size(0x70200001, 0x05d80001, 0) == 0x05d80000);
	/* the low 12 bits of ECX are flags, not size */
	CHECK(devplug_epc_section_size(0x1, 0x00000fff, 0) == 0);
	/* EDX[19:0]: bits 32..51 (a 64 GiB + 4 KiB section); EDX's high bits are reserved */
	CHECK(devplug_epc_section_size(0x1, 0x1000, 0xfff00010) == (16LL << 32) + 0x1000);
	/* type 0: no more sections; other types are not EPC */
	CHECK(devplug_epc_section_size(0x0, 0x05d80000, 0) == -1);
	CHECK(devplug_epc_section_size(0x2, 0x05d80000, 0) == -1);
}

/* A CPUID of the test's: highest leaf, leaf 7's EBX, leaf 0x12's sub-leaves 2.. (EAX ECX EDX). */
struct fake_cpuid {
	uint32_t max_leaf, leaf7_ebx;
	uint32_t sections[10][3];
	unsigned asked; /* sub-leaves of 0x12 asked for */
};

static int fake_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	struct fake_cpuid *f = ctx;

	memset(r, 0, 4 * sizeof(*r));
	if (leaf > f->max_leaf)
		return -1;
	if (leaf == 0)
		r[0] = f->max_leaf;
	else if (leaf == 7 && subleaf == 0)
		r[1] = f->leaf7_ebx;
	else if (leaf == 0x12 && subleaf >= 2 && subleaf < 12) {
		f->asked++;
		r[0] = f->sections[subleaf - 2][0];
		r[2] = f->sections[subleaf - 2][1];
		r[3] = f->sections[subleaf - 2][2];
	}
	return 0;
}

/* The EPC summed over CPUID's sections, as the kernel enumerates them. */
static void test_epc_cpuid(void)
{
	struct fake_cpuid f = { .max_leaf = 0x1f, .leaf7_ebx = 1u << 2 };

	/* Two sockets' sections (93.5 MiB and 64 GiB + 4 KiB), then the end (type 0). */
	f.sections[0][0] = 0x70200001, f.sections[0][1] = 0x05d80001;
	f.sections[1][0] = 0x1, f.sections[1][1] = 0x1000, f.sections[1][2] = 0x10;
	CHECK(devplug_epc_from_cpuid(fake_cpuid, &f) == 0x05d80000 + (16ULL << 32) + 0x1000,
	      "two sections");
	CHECK(f.asked == 3, "stops at the first invalid one: asked %u", f.asked);
	/* An unknown section type ends the list (the kernel stops there too). */
	f.sections[1][0] = 0x2;
	f.asked = 0;
	CHECK(devplug_epc_from_cpuid(fake_cpuid, &f) == 0x05d80000 && f.asked == 2,
	      "unknown type: the first section only");
	/* No section at all. */
	memset(f.sections, 0, sizeof(f.sections));
	CHECK(devplug_epc_from_cpuid(fake_cpuid, &f) == 0, "zero sections");
	/* At most 8 sections (sub-leaves 2..9), however many say valid. */
	for (unsigned i = 0; i < 10; i++)
		f.sections[i][0] = 1, f.sections[i][1] = 1 << 20;
	f.asked = 0;
	CHECK(devplug_epc_from_cpuid(fake_cpuid, &f) == 8ULL << 20 && f.asked == 8,
	      "8 sections at most: asked %u", f.asked);
	/* No SGX in leaf 7, or no leaf 0x12: no EPC, and leaf 0x12 never asked. */
	f.leaf7_ebx = 0;
	f.asked = 0;
	CHECK(devplug_epc_from_cpuid(fake_cpuid, &f) == 0 && f.asked == 0, "no SGX bit");
	f.leaf7_ebx = 1u << 2;
	f.max_leaf = 0x11;
	CHECK(devplug_epc_from_cpuid(fake_cpuid, &f) == 0 && f.asked == 0, "no leaf 0x12");
}

int main(void)
{
	TAP_RUN(test_epc_sections);
	TAP_RUN(test_epc_cpuid);
	TAP_RUN(test_list);
	TAP_RUN(test_allocate);
	TAP_RUN(test_allocate_refuses);
	TAP_RUN(test_preferred);
	return tap_exit();
}
