/* SPDX-License-Identifier: Apache-2.0 */
/* `spec`: runc's default config.json. */
#include <string.h>
#include <unistd.h>

#include "librune/container.h"
#include "librune/util.h"

/* runc's defaults, so tooling that starts from `runc spec` sees the same file. */
static const char default_spec[] =
    "{\"ociVersion\":\"1.2.0\",\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},"
    "\"args\":[\"sh\"],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
    "sbin:/bin\",\"TERM=xterm\"],\"cwd\":\"/\",\"capabilities\":{"
    "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
    "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
    "\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
    "\"hostname\":\"rune\",\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
    "\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":["
    "\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":["
    "\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
    "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
    "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
    "{\"type\":\"uts\"},{\"type\":\"mount\"}],"
    "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
    "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\",\"/proc/sched_debug\","
    "\"/sys/firmware\",\"/proc/scsi\"],"
    "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
    "\"/proc/sysrq-trigger\"]}}";

/* runc spec --rootless: a user namespace mapping the caller, no netns, sysfs bound. */
static void make_rootless(json_t *spec)
{
	json_t *linux_obj = json_object_get(spec, "linux");
	json_t *ns = json_array(), *mounts = json_object_get(spec, "mounts"), *m;
	const char *keep[] = { "pid", "ipc", "uts", "mount" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keep); i++)
		json_array_append_new(ns, json_pack("{s:s}", "type", keep[i]));
	json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
	json_object_set_new(linux_obj, "namespaces", ns);
	json_object_set_new(
	    linux_obj, "uidMappings",
	    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)getuid(), "size", 1));
	json_object_set_new(
	    linux_obj, "gidMappings",
	    json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID", (int)getgid(), "size", 1));
	json_object_del(linux_obj, "resources");
	json_array_foreach(mounts, i, m)
	{
		const char *dest = json_string_value(json_object_get(m, "destination"));
		if (strcmp(dest, "/sys") == 0) {
			json_object_set_new(m, "type", json_string("none"));
			json_object_set_new(m, "source", json_string("/sys"));
			json_object_set_new(
			    m, "options",
			    json_pack("[s,s,s,s,s]", "rbind", "nosuid", "noexec", "nodev", "ro"));
		} else if (strcmp(dest, "/dev/pts") == 0) {
			json_object_set_new(m, "options",
					    json_pack("[s,s,s,s,s]", "nosuid", "noexec",
						      "newinstance", "ptmxmode=0666", "mode=0620"));
		}
	}
}

json_t *rune_spec_default(bool rootless)
{
	json_t *spec = json_loads(default_spec, 0, NULL);

	if (spec && rootless)
		make_rootless(spec);
	return spec;
}
