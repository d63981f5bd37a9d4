/* SPDX-License-Identifier: Apache-2.0 */
/* sgx-tools epc [--json]: the host's EPC use, from the registry (docs/epc.md). */
#include <stdio.h>

#include "common/epc.h"
#include "sgx-tools.h"

static const char help[] =
    "Usage: sgx-tools epc [--json]\n"
    "Prints the host's EPC use from the registry ($SGX_EPC_DIR, else " EPC_DIR_DEFAULT "):\n"
    "the EPC's size ($SGX_EMU_EPC_SIZE, else 93.5 MiB), the bytes live enclaves\n"
    "hold, the processes holding them, the bytes out of the EPC (paged: the\n"
    "paging model's evicted pages, at least what lies beyond the EPC), and\n"
    "the model's pages evicted and reloaded so far and their modelled time\n"
    "(paging_ns), summed over the live processes. Entries of dead processes\n"
    "are removed.\n";

int cmd_epc(int argc, char **argv, err_t *err)
{
	static const struct option table[] = { { "json", no_argument, NULL, OPT_JSON }, { 0 } };
	static const struct command_options cmd = { .table = table,
						    .help = help,
						    .handler = json_option };
	struct epc_usage u;
	int json = 0, ret;

	ret = parse_options(&cmd, &json, argc, argv, err);
	if (ret <= 0)
		return ret;
	ret = epc_usage(epc_dir(), epc_size(), &u, err);
	if (ret < 0)
		return ret;
	printf(json ? "{\"size\": %llu, \"usage\": %llu, \"processes\": %u, \"paged\": %llu, "
		      "\"evictions\": %llu, \"reloads\": %llu, \"paging_ns\": %llu}\n"
		    : "size: %llu\nusage: %llu\nprocesses: %u\npaged: %llu\nevictions: %llu\n"
		      "reloads: %llu\npaging_ns: %llu\n",
	       (unsigned long long)u.size, (unsigned long long)u.pages * 4096, u.live,
	       (unsigned long long)u.paged, (unsigned long long)u.paging.evictions,
	       (unsigned long long)u.paging.reloads, (unsigned long long)u.paging.ns);
	return 0;
}
