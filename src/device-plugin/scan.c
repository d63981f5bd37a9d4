/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the node offers: the EPC's size (CPUID on SGX hosts, rune's emulator
 * configuration elsewhere) and which SGX device nodes exist.
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "device-plugin/devplug.h"
#include "rune/librune.h"

const char *const devplug_dev_nodes[] = { "sgx_enclave", "sgx_provision", "isgx", NULL };

#define SGX_CPUID	  0x12
#define SGX_CPUID_EPC	  2 /* the first section's sub-leaf */
#define SGX_MAX_SECTIONS  8
#define EPC_SECTION_VALID 1

int64_t devplug_epc_section_size(uint32_t eax, uint32_t ecx, uint32_t edx)
{
	if ((eax & 0xf) != EPC_SECTION_VALID)
		return -1;
	/* Size: ECX[31:12] its bits 12..31, EDX[19:0] its bits 32..51. */
	return ((int64_t)(edx & 0xfffff) << 32) | (ecx & 0xfffff000);
}

uint64_t devplug_epc_from_cpuid(devplug_cpuid_fn cpuid, void *ctx)
{
	uint32_t r[4];
	uint64_t total = 0;
	int64_t size;

	/* Leaf 7 sub-leaf 0, EBX bit 2: SGX; leaf 0x12 must exist. */
	if (cpuid(ctx, 0, 0, r) < 0 || r[0] < SGX_CPUID || cpuid(ctx, 7, 0, r) < 0 ||
	    !(r[1] & (1u << 2)))
		return 0;
	for (unsigned i = 0; i < SGX_MAX_SECTIONS; i++) {
		if (cpuid(ctx, SGX_CPUID, SGX_CPUID_EPC + i, r) < 0 ||
		    (size = devplug_epc_section_size(r[0], r[2], r[3])) < 0)
			break;
		total += (uint64_t)size;
	}
	return total;
}

static int host_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	(void)ctx;
	if (leaf > (uint32_t)__get_cpuid_max(0, NULL))
		return -1;
	__cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
	return 0;
}

uint64_t devplug_cpuid_epc(void)
{
	return devplug_epc_from_cpuid(host_cpuid, NULL);
}

/* A character device (a test may point dev_dir at its own nodes). */
static bool dev_node_exists(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISCHR(st.st_mode);
}

int devplug_scan(const struct devplug_opts *o, struct devplug_inventory *inv, err_t *err)
{
	uint64_t mib;
	int ret;

	*inv = (struct devplug_inventory){ 0 };
	for (unsigned i = 0; devplug_dev_nodes[i]; i++)
		if (dev_node_exists(o->dev_dir, devplug_dev_nodes[i]))
			inv->dev_nodes |= 1u << i;
	inv->epc_bytes = devplug_cpuid_epc();
	inv->hardware = inv->epc_bytes != 0;
	if (!inv->hardware &&
	    (ret = rune_emulated_epc_size(o->config_file, &inv->epc_bytes, err)) < 0)
		return ret;
	mib = inv->epc_bytes >> 20;
	inv->devices = mib > DEVPLUG_MAX_DEVICES ? DEVPLUG_MAX_DEVICES : mib;
	/* On hardware the enclaves need the driver: sgx_enclave, or the legacy isgx. */
	inv->healthy = !inv->hardware || (inv->dev_nodes & (1u << 0 | 1u << 2));
	return 0;
}
