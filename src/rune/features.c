/* SPDX-License-Identifier: Apache-2.0 */
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "librune/config.h"
#include "librune/util.h"
#include "rune/rune.h"

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

COMMAND(features)
{
	static const char *const ns[] = { "cgroup", "ipc",  "mount", "network",
					  "pid",    "time", "user",  "uts" };
	static const char *const hooks[] = { "prestart",       "createRuntime", "createContainer",
					     "startContainer", "poststart",	"poststop" };
	static const char *const mount_opts[] = {
		"async",	 "atime",      "bind",	   "defaults",	 "dev",
		"diratime",	 "dirsync",    "exec",	   "mand",	 "noatime",
		"nodev",	 "nodiratime", "noexec",   "nomand",	 "norelatime",
		"nostrictatime", "nosuid",     "private",  "rbind",	 "relatime",
		"remount",	 "ro",	       "rprivate", "rshared",	 "rslave",
		"runbindable",	 "rw",	       "shared",   "silent",	 "slave",
		"strictatime",	 "suid",       "sync",	   "unbindable", "loud",
	};
	static const char *const actions[] = {
		"SCMP_ACT_ALLOW",	 "SCMP_ACT_ERRNO",	 "SCMP_ACT_KILL",
		"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
		"SCMP_ACT_NOTIFY",	 "SCMP_ACT_TRACE",	 "SCMP_ACT_TRAP",
	};
	static const char *const ops[] = { "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
					   "SCMP_CMP_LE", "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ",
					   "SCMP_CMP_NE" };
	static const char *const archs[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32" };
	static const char *const flags[] = { "SECCOMP_FILTER_FLAG_LOG",
					     "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
					     "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" };
	const struct scmp_version *v = seccomp_version();
	json_t *caps = json_array(), *j;
	char ver[64];

	(void)cli;
	(void)argc;
	(void)argv;
	for (int c = 0; c <= cap_max_bits() - 1 && c < 64; c++)
		json_array_append_new(caps, json_string(rune_cap_name(c)));
	snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	j = json_pack(
	    "{s:s,s:s,s:o,s:o,s:{s:o,s:o,s:{s:{s:b,s:b},s:{s:b,s:o,s:o,s:o,s:o,s:o,s:{s:s}},"
	    "s:{s:b},s:{s:b},s:{s:b}}},s:{s:s,s:s,s:s}}",
	    "ociVersionMin", "1.0.0", "ociVersionMax", "1.2.0", "hooks",
	    strings(hooks, ARRAY_SIZE(hooks)), "mountOptions",
	    strings(mount_opts, ARRAY_SIZE(mount_opts)), "linux", "namespaces",
	    strings(ns, ARRAY_SIZE(ns)), "capabilities", caps, "cgroup", "v1", 1, "v2", 1,
	    "seccomp", "enabled", 1, "actions", strings(actions, ARRAY_SIZE(actions)), "operators",
	    strings(ops, ARRAY_SIZE(ops)), "archs", strings(archs, ARRAY_SIZE(archs)), "knownFlags",
	    strings(flags, ARRAY_SIZE(flags)), "supportedFlags", strings(flags, ARRAY_SIZE(flags)),
	    "lib", "version", ver, "apparmor", "enabled", 0, "selinux", "enabled", 0, "intelRdt",
	    "enabled", 0, "annotations", "org.opencontainers.runc.checkpoint.enabled", "false",
	    "io.github.inclavare-containers.rune.enclave.types", "intelSgx",
	    "io.github.inclavare-containers.rune.pal.versions", "1,2,3");
	cli_print_json(j, true);
	json_decref(j);
	return 0;
}
