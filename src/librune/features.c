/* SPDX-License-Identifier: Apache-2.0 */
/* `features`: what this runtime supports, in runc's JSON. */
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>

#include "librune/config.h"
#include "librune/container.h"
#include "librune/util.h"

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *rune_features(void)
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

	for (int c = 0; c <= cap_max_bits() - 1 && c < 64; c++)
		json_array_append_new(caps, json_string(rune_cap_name(c)));
	snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	json_t *seccomp = json_object(), *linux_obj = json_object(), *annotations = json_object();

	json_object_set_new(seccomp, "enabled", json_true());
	json_object_set_new(seccomp, "actions", strings(actions, ARRAY_SIZE(actions)));
	json_object_set_new(seccomp, "operators", strings(ops, ARRAY_SIZE(ops)));
	json_object_set_new(seccomp, "archs", strings(archs, ARRAY_SIZE(archs)));
	json_object_set_new(seccomp, "knownFlags", strings(flags, ARRAY_SIZE(flags)));
	json_object_set_new(seccomp, "supportedFlags", strings(flags, ARRAY_SIZE(flags)));
	json_object_set_new(seccomp, "lib", json_pack("{s:s}", "version", ver));

	json_object_set_new(linux_obj, "namespaces", strings(ns, ARRAY_SIZE(ns)));
	json_object_set_new(linux_obj, "capabilities", caps);
	json_object_set_new(
	    linux_obj, "cgroup",
	    json_pack("{s:b,s:b,s:b,s:b}", "v1", 1, "v2", 1, "systemd", 1, "systemdUser", 0));
	json_object_set_new(linux_obj, "seccomp", seccomp);
	json_object_set_new(linux_obj, "apparmor", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(linux_obj, "selinux", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(linux_obj, "intelRdt", json_pack("{s:b}", "enabled", 0));

	json_object_set_new(annotations, "org.opencontainers.runc.checkpoint.enabled",
			    json_string("false"));
	json_object_set_new(annotations, "io.github.inclavare-containers.rune.enclave.types",
			    json_string("intelSgx"));
	json_object_set_new(annotations, "io.github.inclavare-containers.rune.pal.versions",
			    json_string("1,2,3"));

	j = json_object();
	json_object_set_new(j, "ociVersionMin", json_string("1.0.0"));
	json_object_set_new(j, "ociVersionMax", json_string("1.2.0"));
	json_object_set_new(j, "hooks", strings(hooks, ARRAY_SIZE(hooks)));
	json_object_set_new(j, "mountOptions", strings(mount_opts, ARRAY_SIZE(mount_opts)));
	json_object_set_new(j, "linux", linux_obj);
	json_object_set_new(j, "annotations", annotations);
	return j;
}
