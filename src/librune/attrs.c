/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process attributes beyond identity: scheduler, I/O priority, personality,
 * LSM labels and Intel RDT. What the host can't give is a clear error, never
 * silently skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "librune/attrs.h"
#include "librune/linux.h"
#include "librune/util.h"

struct sched_attr_v1 {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

static const struct {
	const char *name;
	int value;
} policies[] = {
	{ "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 },
	{ "SCHED_BATCH", 3 }, { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 },
};

static const struct {
	const char *name;
	uint64_t value;
} sched_flags[] = {
	{ "SCHED_FLAG_RESET_ON_FORK", 0x01 },  { "SCHED_FLAG_RECLAIM", 0x02 },
	{ "SCHED_FLAG_DL_OVERRUN", 0x04 },     { "SCHED_FLAG_KEEP_POLICY", 0x08 },
	{ "SCHED_FLAG_KEEP_PARAMS", 0x10 },    { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
	{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 },
};

int rune_apply_scheduler(json_t *s, err_t *err)
{
	struct sched_attr_v1 attr = { .size = sizeof(attr) };
	const char *policy;
	json_t *v;
	size_t i, k;

	if (s == NULL)
		return 0;
	policy = json_string_value(json_object_get(s, "policy"));
	for (k = 0; policy && k < ARRAY_SIZE(policies); k++)
		if (strcmp(policy, policies[k].name) == 0)
			break;
	if (policy == NULL || k == ARRAY_SIZE(policies))
		return err_set(err, EINVAL,
			       "config.json: .process.scheduler.policy: unknown policy \"%s\"",
			       policy ? policy : "");
	attr.sched_policy = policies[k].value;
	attr.sched_nice = json_integer_value(json_object_get(s, "nice"));
	attr.sched_priority = json_integer_value(json_object_get(s, "priority"));
	attr.sched_runtime = json_integer_value(json_object_get(s, "runtime"));
	attr.sched_deadline = json_integer_value(json_object_get(s, "deadline"));
	attr.sched_period = json_integer_value(json_object_get(s, "period"));
	json_array_foreach(json_object_get(s, "flags"), i, v)
	{
		for (k = 0; k < ARRAY_SIZE(sched_flags); k++)
			if (json_is_string(v) &&
			    strcmp(json_string_value(v), sched_flags[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(sched_flags))
			return err_set(err, EINVAL,
				       "config.json: .process.scheduler.flags[%zu]: unknown flag",
				       i);
		attr.sched_flags |= sched_flags[k].value;
	}
	if (syscall(SYS_sched_setattr, 0, &attr, 0) < 0)
		return err_sys(err, errno, "set scheduler %s", policy);
	return 0;
}

int rune_apply_io_priority(json_t *io, err_t *err)
{
	static const char *const classes[] = { NULL, "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
					       "IOPRIO_CLASS_IDLE" };
	const char *cls;
	long long prio;
	int k;

	if (io == NULL)
		return 0;
	cls = json_string_value(json_object_get(io, "class"));
	for (k = 1; cls && k < 4; k++)
		if (strcmp(cls, classes[k]) == 0)
			break;
	if (cls == NULL || k == 4)
		return err_set(err, EINVAL,
			       "config.json: .process.ioPriority.class: unknown class \"%s\"",
			       cls ? cls : "");
	prio = json_integer_value(json_object_get(io, "priority"));
	if (prio < 0 || prio > 7)
		return err_set(err, EINVAL,
			       "config.json: .process.ioPriority.priority: %lld not in [0, 7]",
			       prio);
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (k << 13) | (int)prio) < 0)
		return err_sys(err, errno, "set I/O priority %s %lld", cls, prio);
	return 0;
}

int rune_apply_personality(json_t *p, err_t *err)
{
	const char *domain;
	unsigned long persona;

	if (p == NULL)
		return 0;
	domain = json_string_value(json_object_get(p, "domain"));
	if (domain && strcmp(domain, "LINUX") == 0)
		persona = PER_LINUX;
	else if (domain && strcmp(domain, "LINUX32") == 0)
		persona = PER_LINUX32;
	else
		return err_set(err, EINVAL,
			       "config.json: .linux.personality.domain: unknown domain \"%s\"",
			       domain ? domain : "");
	if (json_array_size(json_object_get(p, "flags")))
		return err_set(err, ENOTSUP,
			       "config.json: .linux.personality.flags: not supported");
	if (personality(persona) < 0)
		return err_sys(err, errno, "personality %s", domain);
	return 0;
}

/*
 * Whether the host runs AppArmor / SELinux: asked on the host, before the
 * process enters the container (its /sys rarely shows securityfs or
 * selinuxfs, which would read as "off" on a host that has them).
 */
static bool apparmor_enabled(void)
{
	char buf[2] = "";
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, 1) : -1;

	if (fd >= 0)
		close(fd);
	return n == 1 && buf[0] == 'Y';
}

static bool selinux_enabled(void)
{
	struct stat st;

	return stat("/sys/fs/selinux/enforce", &st) == 0;
}

int rune_check_lsm(const struct rune_process *p, const char *where, err_t *err)
{
	if (p->apparmor_profile && *p->apparmor_profile && !apparmor_enabled())
		return err_set(err, ENOTSUP,
			       "%s: apparmor profile \"%s\" requested, but AppArmor is not "
			       "enabled on this host",
			       where, p->apparmor_profile);
	/* runc's check too: "selinux label is specified in config, but selinux is disabled" */
	if (p->selinux_label && *p->selinux_label && !selinux_enabled())
		return err_set(err, ENOTSUP,
			       "%s: SELinux label \"%s\" requested, but SELinux is not enabled "
			       "on this host",
			       where, p->selinux_label);
	return 0;
}

/*
 * LSM labels take effect at execve, written to /proc/self/attr on a verified
 * procfs (rune_check_lsm asked the host first). AppArmor's own attr
 * directory first, as runc does, the shared file on older kernels.
 */
int rune_apply_lsm(const struct rune_process *p, err_t *err)
{
	char buf[4096];

	if (p->apparmor_profile && *p->apparmor_profile) {
		snprintf(buf, sizeof(buf), "exec %s", p->apparmor_profile);
		if (rune_write_proc_file("/proc/self/attr/apparmor/exec", buf, NULL) < 0 &&
		    rune_write_proc_file("/proc/self/attr/exec", buf, err) < 0)
			return err_wrap(err, "apparmor profile %s", p->apparmor_profile);
	}
	if (p->selinux_label && *p->selinux_label &&
	    rune_write_proc_file("/proc/self/attr/exec", p->selinux_label, err) < 0)
		return err_wrap(err, "SELinux label %s", p->selinux_label);
	return 0;
}

static bool is_own_namespace(const char *path, enum rune_ns_type ns)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat(rune_ns_proc_path(ns), &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A sysctl is written in the namespace the container joins: never rune's own (the host's). */
static int check_sysctl_namespaces(const struct rune_config *cfg, err_t *err)
{
	for (size_t i = 0; i < cfg->n_sysctls; i++) {
		const struct rune_namespace *ns = &cfg->ns[cfg->sysctls[i].ns];

		if (ns->path && is_own_namespace(ns->path, cfg->sysctls[i].ns))
			return err_set(
			    err, EPERM,
			    "config.json: .linux.sysctl.%s: not allowed in the host's %s "
			    "namespace (joined by path %s)",
			    cfg->sysctls[i].key, rune_ns_name(cfg->sysctls[i].ns), ns->path);
	}
	return 0;
}

int rune_check_host_support(const struct rune_config *cfg, err_t *err)
{
	struct stat st;
	int ret;

	if ((ret = check_sysctl_namespaces(cfg, err)) < 0 ||
	    (ret = rune_check_lsm(&cfg->process, "config.json: .process", err)) < 0)
		return ret;

	if (cfg->intel_rdt && stat("/sys/fs/resctrl/info", &st) < 0)
		return err_set(err, ENOTSUP,
			       "config.json: .linux.intelRdt: resctrl is not mounted on this host "
			       "(Intel RDT unavailable)");
	json_t *offsets = json_object_get(json_object_get(cfg->root, "linux"), "timeOffsets");
	if (offsets && (!cfg->ns[RUNE_NS_TIME].present || cfg->ns[RUNE_NS_TIME].path))
		return err_set(err, EINVAL,
			       "config.json: .linux.timeOffsets: needs a new time namespace");
	if (cfg->mount_label && *cfg->mount_label && !selinux_enabled())
		return err_set(
		    err, ENOTSUP,
		    "config.json: .linux.mountLabel: SELinux is not enabled on this host");
	return 0;
}

/*
 * A new time namespace with the config's offsets. Offsets can only be set
 * before any process is in the namespace: unshare gives us one for our
 * children, we write the offsets, then move ourselves into it.
 */
int rune_enter_new_time_ns(json_t *offsets, err_t *err)
{
	static const char *const clocks[] = { "monotonic", "boottime" };
	int fd, ret = 0;

	if (unshare(0x00000080 /* CLONE_NEWTIME */) < 0)
		return err_sys(err, errno, "create time namespace");
	for (size_t i = 0; i < ARRAY_SIZE(clocks); i++) {
		json_t *o = json_object_get(offsets, clocks[i]);
		char buf[128];
		if (o == NULL)
			continue;
		snprintf(buf, sizeof(buf), "%s %lld %lld", clocks[i],
			 (long long)json_integer_value(json_object_get(o, "secs")),
			 (long long)json_integer_value(json_object_get(o, "nanosecs")));
		if ((ret = rune_write_proc_file("/proc/self/timens_offsets", buf, err)) < 0)
			return err_wrap(err, "timeOffsets");
	}
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open time namespace");
	if (setns(fd, 0x00000080) < 0)
		ret = err_sys(err, errno, "enter time namespace");
	close(fd);
	return ret;
}
