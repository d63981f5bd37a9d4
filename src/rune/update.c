/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/epc.h"
#include "rune.h"

/* "64M", "1g", "1024" -> bytes; "-1" stays -1 (unlimited). */
static int parse_bytes(const char *s, long long *out)
{
	char *end;
	double v;

	if (strcmp(s, "-1") == 0) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	while (*end == ' ')
		end++;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'k':
		v *= 1024;
		break;
	case 'm':
		v *= 1024 * 1024;
		break;
	case 'g':
		v *= 1024.0 * 1024 * 1024;
		break;
	case 't':
		v *= 1024.0 * 1024 * 1024 * 1024;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && strcasecmp(end + 1, "b") != 0 && strcasecmp(end + 1, "ib") != 0)
		return -EINVAL;
	*out = (long long)v;
	return 0;
}

enum {
	U_MEMORY = 256,
	U_SWAP,
	U_RESERVATION,
	U_KMEM,
	U_KMEM_TCP,
	U_SHARES,
	U_QUOTA,
	U_PERIOD,
	U_RT_PERIOD,
	U_RT_RUNTIME,
	U_CPUS,
	U_MEMS,
	U_PIDS,
	U_BLKIO,
	U_L3,
	U_MEMBW,
	U_EPC,
};

static const struct {
	int opt;
	const char *group, *key;
	bool bytes, string;
} update_fields[] = {
	{ U_MEMORY, "memory", "limit", true, false },
	{ U_SWAP, "memory", "swap", true, false },
	{ U_RESERVATION, "memory", "reservation", true, false },
	{ U_KMEM, "memory", "kernel", true, false },
	{ U_KMEM_TCP, "memory", "kernelTCP", true, false },
	{ U_SHARES, "cpu", "shares", false, false },
	{ U_QUOTA, "cpu", "quota", false, false },
	{ U_PERIOD, "cpu", "period", false, false },
	{ U_RT_PERIOD, "cpu", "realtimePeriod", false, false },
	{ U_RT_RUNTIME, "cpu", "realtimeRuntime", false, false },
	{ U_CPUS, "cpu", "cpus", false, true },
	{ U_MEMS, "cpu", "mems", false, true },
	{ U_PIDS, "pids", "limit", false, false },
	{ U_BLKIO, "blockIO", "weight", false, false },
};

static const struct cli_option update_options[] = {
	{ "resources", 'r', "FILE",
	  "the resources to set, as OCI linux.resources JSON ('-': stdin); flags win" },
	{ "blkio-weight", U_BLKIO, "N", "block IO weight, 10 to 1000" },
	{ "cpu-period", U_PERIOD, "USECS", "CFS period (hard cap)" },
	{ "cpu-quota", U_QUOTA, "USECS", "CFS quota: CPU time allowed in a period" },
	{ "cpu-share", U_SHARES, "N", "CPU shares (weight against other containers)" },
	{ "cpu-shares", U_SHARES, "N", "the same as --cpu-share" },
	{ "cpu-rt-period", U_RT_PERIOD, "USECS", "realtime period" },
	{ "cpu-rt-runtime", U_RT_RUNTIME, "USECS", "realtime runtime allowed in a period" },
	{ "cpuset-cpus", U_CPUS, "LIST", "the CPUs to run on (e.g. 0-3,5)" },
	{ "cpuset-mems", U_MEMS, "LIST", "the memory nodes to use" },
	{ "memory", U_MEMORY, "BYTES", "memory limit (k, m, g suffixes; -1: unlimited)" },
	{ "memory-reservation", U_RESERVATION, "BYTES", "memory soft limit" },
	{ "memory-swap", U_SWAP, "BYTES", "memory plus swap limit (-1: unlimited swap)" },
	{ "kernel-memory", U_KMEM, "BYTES", "kernel memory limit (cgroup v1)" },
	{ "kernel-memory-tcp", U_KMEM_TCP, "BYTES", "kernel TCP buffer limit (cgroup v1)" },
	{ "pids-limit", U_PIDS, "N", "the most processes the container may have" },
	{ "epc-limit", U_EPC, "BYTES",
	  "enclave containers: the EPC limit for enclaves made from now on (8192, 64Mi, 1Gi; "
	  "max: none)" },
	{ "l3-cache-schema", U_L3, "SCHEMA", "Intel RDT L3 cache schema (not available here)" },
	{ "mem-bw-schema", U_MEMBW, "SCHEMA",
	  "Intel RDT memory bandwidth schema (not available here)" },
	{ 0 },
};

static int cmd_update(struct cli *cli, int argc, char **argv)
{
	json_t *res = json_object();
	const char *res_file = NULL;
	uint64_t epc = 0; /* 0 with epc_given: "max", no limit */
	bool epc_given = false;
	err_t err = NULL;
	int c, ret;

	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		size_t i;
		if (c == 'r') {
			res_file = optarg;
			continue;
		}
		if (c == U_EPC) {
			/*
			 * What the annotation sgx.intel.com/epc takes, a Kubernetes
			 * quantity, or "max" (cgroup v2's word) to remove the limit.
			 */
			epc_given = true;
			epc = 0;
			if (strcmp(optarg, "max") != 0 &&
			    (epc_parse_quantity(optarg, &epc) < 0 || epc == 0)) {
				json_decref(res);
				return cli_usage(cli, argv[0],
						 "invalid value for --epc-limit: \"%s\" is not a "
						 "positive quantity (8192, 64Mi, 1Gi) or max",
						 optarg);
			}
			continue;
		}
		if (c == U_L3 || c == U_MEMBW) {
			json_decref(res);
			err_set(&err, ENOTSUP, "update: Intel RDT is not available on this host");
			return cli_fail(cli, &err);
		}
		for (i = 0; i < ARRAY_SIZE(update_fields); i++)
			if (update_fields[i].opt == c)
				break;
		if (i == ARRAY_SIZE(update_fields))
			continue; /* not reached: every other option is a field */
		json_t *grp = json_object_get(res, update_fields[i].group);
		if (grp == NULL) {
			grp = json_object();
			json_object_set_new(res, update_fields[i].group, grp);
		}
		long long v;
		if (update_fields[i].string) {
			json_object_set_new(grp, update_fields[i].key, json_string(optarg));
			continue;
		}
		ret = update_fields[i].bytes ? parse_bytes(optarg, &v)
					     : (sscanf(optarg, "%lld", &v) == 1 ? 0 : -EINVAL);
		if (ret < 0) {
			json_decref(res);
			return cli_usage(cli, argv[0], "invalid value for %s: \"%s\"",
					 argv[optind - 2] ? argv[optind - 2] : "flag", optarg);
		}
		json_object_set_new(grp, update_fields[i].key, json_integer(v));
	}
	if (cli_need_args(cli, argv[0], argc - optind, 1)) {
		json_decref(res);
		return 1;
	}
	if (res_file) {
		json_error_t jerr;
		json_t *r = strcmp(res_file, "-") == 0 ? json_loadf(stdin, 0, &jerr)
						       : json_load_file(res_file, 0, &jerr);
		if (r == NULL || !json_is_object(r)) {
			json_decref(res);
			json_decref(r);
			err_set(&err, EINVAL, "update: resources %s: %s", res_file,
				r ? "expected an object" : jerr.text);
			return cli_fail(cli, &err);
		}
		/* Flags given along with --resources win. */
		json_object_update_recursive(r, res);
		json_decref(res);
		res = r;
	}
	/* The EPC limit first: refused for an ordinary container before anything changes. */
	ret = epc_given ? rune_container_update_epc(&cli->ctx, argv[optind], epc, &err) : 0;
	if (ret == 0 && (res_file || json_object_size(res) || !epc_given))
		ret = rune_container_update(&cli->ctx, argv[optind], res, &err);
	json_decref(res);
	if (ret < 0)
		return cli_fail(cli, &err);
	return 0;
}

const struct command command_update = {
	.name = "update",
	.fn = cmd_update,
	.usage = "[command options] <container-id>",
	.summary = "update a container's resource limits",
	.options = update_options,
};
