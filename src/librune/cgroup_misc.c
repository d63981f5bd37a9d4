// SPDX-License-Identifier: Apache-2.0
/*
 * The misc controller's sgx_epc resource (Linux 5.17 and later, on SGX
 * hosts): the kernel's own cap on the EPC a cgroup's enclaves take, which
 * also holds PALs that go to the driver directly. Detected, never assumed:
 * the hierarchy carrying "misc" must list sgx_epc in its root's
 * misc.capacity ("sgx_epc 98041856").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "librune/cgroup_internal.h"

bool rune_cgroup_has_sgx_epc(const struct rune_cgroup_host *h)
{
	const struct rune_cgroup_hierarchy *hier = rune_cgroup_controller(h, "misc");
	_cleanup_free_ char *cap = NULL;
	uint64_t v;

	/* Only the root cgroup has misc.capacity: a hierarchy mounted at a sub-cgroup can't tell. */
	if (hier == NULL || strcmp(hier->mount_root, "/") != 0 ||
	    cg_read(hier->mountpoint, "misc.capacity", &cap, NULL) < 0)
		return false;
	return cg_keyed_u64(cap, "sgx_epc", &v) == 0 && v > 0;
}

int rune_cgroup_set_sgx_epc(const struct rune_cgroup_host *h, const char *path, uint64_t bytes,
			    err_t *err)
{
	struct cg_target t;
	int ret;

	if (!rune_cgroup_has_sgx_epc(h))
		return 0;
	if ((ret = cg_target_get(h, path, "misc", "misc.max sgx_epc", &t, err)) < 0)
		return ret;
	if (bytes)
		ret = cg_writef(h, t.dir, "misc.max", err, "sgx_epc %" PRIu64, bytes);
	else
		ret = cg_write(h, t.dir, "misc.max", "sgx_epc max", err);
	cg_target_clear(&t);
	return ret < 0 ? ret : 1;
}
