/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's pure parts: config.json parsing and its error paths, signal
 * and capability names, container ids, the state file, path resolution
 * inside a rootfs. Prints "ok - X" / "not ok - X" lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "../tap.h"
#include "librune/config.h"
#include "librune/linux.h"
#include "librune/state.h"
#include "librune/util.h"

#define BASE                                                                                       \
	"\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"],"  \
	"\"cwd\":\"/\"}"

static const struct {
	const char *json;
	const char *want; /* substring of the error */
} bad_configs[] = {
	{ "{bad", "config.json: line 1" },
	{ "[]", "expected an object" },
	{ "{\"root\":{\"path\":\"r\"}}", ".ociVersion: missing" },
	{ "{\"ociVersion\":\"2.0.0\",\"root\":{\"path\":\"r\"}}", "unsupported version \"2.0.0\"" },
	{ "{\"ociVersion\":\"x\",\"root\":{\"path\":\"r\"}}", "is not a version" },
	{ "{\"ociVersion\":\"1.0.0\"}", ".root: missing" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":1}}",
	  ".root.path: expected a string, got an integer" },
	{ "{" BASE ",\"hostname\":5}", ".hostname: expected a string" },
	{ "{" BASE ",\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]}",
	  ".mounts[0].destination: \"rel\" is not an absolute path" },
	{ "{" BASE ",\"mounts\":[{\"type\":\"tmpfs\"}]}", ".mounts[0].destination: missing" },
	{ "{" BASE ",\"mounts\":[{\"destination\":\"/x\"}]}", ".mounts[0].type: missing" },
	{ "{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"foo\"}]}}",
	  ".linux.namespaces[0].type: unknown namespace type \"foo\"" },
	{ "{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"pid\"}]}}",
	  "duplicate namespace" },
	{ "{" BASE ",\"linux\":{\"namespaces\":[{\"type\":\"user\"}]}}",
	  "needs uidMappings and gidMappings" },
	{ "{" BASE ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"q\"}]}}",
	  ".linux.devices[0].type: unknown device type \"q\"" },
	{ "{" BASE ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"c\",\"major\":1}]}}",
	  "minor is required" },
	{ "{" BASE ",\"linux\":{\"rootfsPropagation\":\"weird\"}}", "unknown propagation" },
	{ "{" BASE ",\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\"}]}",
	  ".mounts: needs a mount namespace in .linux.namespaces" },
	{ "{" BASE ",\"linux\":{\"maskedPaths\":[\"/x\"]}}", ".linux.maskedPaths: needs a mount" },
	{ "{" BASE ",\"linux\":{\"readonlyPaths\":[\"/x\"]}}",
	  ".linux.readonlyPaths: needs a mount" },
	{ "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\",\"readonly\":true}}",
	  ".root.readonly: needs a mount" },
	{ "{" BASE ",\"linux\":{\"rootfsPropagation\":\"slave\"}}",
	  ".linux.rootfsPropagation: needs a mount" },
	{ "{" BASE ",\"linux\":{\"devices\":[{\"path\":\"/dev/x\",\"type\":\"p\"}]}}",
	  ".linux.devices: needs a mount" },
	{ "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{\"terminal\":true,"
	  "\"cwd\":\"/\"}}",
	  ".process.terminal: needs a mount" },
	{ "{" BASE ",\"linux\":{\"sysctl\":{\"../x\":\"1\"}}}", "invalid sysctl name" },
	{ "{" BASE ",\"hooks\":{\"prestart\":[{\"path\":\"rel\"}]}}",
	  ".hooks.prestart[0].path: \"rel\" is not an absolute path" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"cwd\":\"rel\"}}",
	  ".process.cwd: \"rel\" is not an absolute path" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"rlimits\":[{\"type\":"
	  "\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}",
	  ".process.rlimits[0].type: unknown rlimit" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"rlimits\":[{"
	  "\"type\":\"RLIMIT_NOFILE\",\"soft\":1.85e19,"
	  "\"hard\":1}]}}",
	  ".process.rlimits[0].soft: expected a non-negative integer" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"rlimits\":[{"
	  "\"type\":\"RLIMIT_NOFILE\",\"soft\":18446744073709551616,\"hard\":1}]}}",
	  "too big" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"capabilities\":{"
	  "\"bounding\":[\"NOT_A_CAP\"]}}}",
	  ".process.capabilities.bounding[0]: unknown capability" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"user\":{\"uid\":-1}}"
	  "}",
	  ".process.user.uid: -1 out of range" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":[1]}}",
	  ".process.args[0]: expected a string" },
	{ "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"ociVersion\":\"1.0.0\"}",
	  "duplicate" },
};

static void test_bad_configs(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_configs); i++) {
		struct rune_config *c = NULL;
		err_t err = NULL;
		char name[160];
		int ret = rune_config_parse(bad_configs[i].json, "config.json", "/b", &c, &err);

		snprintf(name, sizeof(name), "config refused: %s", bad_configs[i].want);
		tap_report(ret < 0 && c == NULL && strstr(err_msg(err), bad_configs[i].want), name,
			   ret < 0 ? err_msg(err) : "accepted");
		err_free(&err);
		rune_config_free(c);
	}
}

/* Go's encoding of uint64: RLIM_INFINITY is 18446744073709551615, past int64. */
static void test_rlimit_infinity(void)
{
	static const char *const values[] = { "18446744073709551615", "1.8446744073709552e19",
					      "9223372036854775808" };
	static const unsigned long long want[] = { RLIM_INFINITY, RLIM_INFINITY,
						   9223372036854775808ULL };

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct rune_config *c = NULL;
		err_t err = NULL;
		char json[512], name[96];
		bool ok;

		snprintf(json, sizeof(json),
			 "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},\"process\":{"
			 "\"args\":[\"sh\"],\"cwd\":\"/\",\"env\":[\"X=-123 \\\" "
			 "99999999999999999999\"],"
			 "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":%s,\"hard\":%s}]}}",
			 values[i], values[i]);
		snprintf(name, sizeof(name), "rlimit %s accepted as %llu", values[i], want[i]);
		ok = rune_config_parse(json, "config.json", "/b", &c, &err) == 0 &&
		     c->process.n_rlimits == 1 && c->process.rlimits[0].soft == want[i] &&
		     c->process.rlimits[0].hard == want[i] &&
		     strcmp(c->process.env[0], "X=-123 \" 99999999999999999999") == 0;
		tap_report(ok, name, err_msg(err));
		err_free(&err);
		rune_config_free(c);
	}
}

static void test_versions(void)
{
	static const char *const ok_versions[] = { "1.0.0", "1.0.2-dev", "1.1.0", "1.2.0",
						   "1.9.9" };

	for (size_t i = 0; i < ARRAY_SIZE(ok_versions); i++) {
		char json[256], name[64];
		struct rune_config *c = NULL;
		err_t err = NULL;

		snprintf(json, sizeof(json), "{\"ociVersion\":\"%s\",\"root\":{\"path\":\"r\"}}",
			 ok_versions[i]);
		snprintf(name, sizeof(name), "ociVersion %s accepted", ok_versions[i]);
		tap_report(rune_config_parse(json, "config.json", "/b", &c, &err) == 0, name,
			   err_msg(err));
		err_free(&err);
		rune_config_free(c);
	}
}

static void test_good_config(void)
{
	const char *json =
	    "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
	    "\"hostname\":\"h\",\"process\":{\"terminal\":true,\"consoleSize\":{\"height\":"
	    "24,\"width\":80},\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,"
	    "\"additionalGids\":[5,6]},\"args\":[\"sh\",\"-c\",\"a b\"],\"env\":[\"A=1\"],"
	    "\"cwd\":\"/w\",\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"]},"
	    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}],"
	    "\"noNewPrivileges\":true,\"oomScoreAdj\":100},"
	    "\"mounts\":[{\"destination\":\"/b\",\"source\":\"/s\",\"options\":[\"rbind\","
	    "\"ro\",\"nosuid\",\"rprivate\"]},{\"destination\":\"/t\",\"type\":\"tmpfs\","
	    "\"options\":[\"mode=755\",\"size=1k\",\"noexec\",\"rw\"]}],"
	    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},{\"type\":"
	    "\"network\",\"path\":\"/proc/1/ns/net\"}],\"maskedPaths\":[\"/proc/"
	    "kcore\"],\"cgroupsPath\":\"/x/y\","
	    "\"resources\":{\"pids\":{\"limit\":5}},\"rootfsPropagation\":\"rshared\"},"
	    "\"annotations\":{\"k\":\"v\"}}";
	struct rune_config *c = NULL;
	err_t err = NULL;
	bool ok;

	if (rune_config_parse(json, "config.json", "/bundle", &c, &err) < 0) {
		tap_report(false, "good config parses", err_msg(err));
		err_free(&err);
		return;
	}
	ok = strcmp(c->root_path, "/bundle/rootfs") == 0 && c->root_readonly &&
	     strcmp(c->hostname, "h") == 0;
	tap_report(ok, "root path made absolute against the bundle", c->root_path);
	ok = c->process.terminal && c->process.console_height == 24 &&
	     c->process.user.uid == 1000 && c->process.user.gid == 100 &&
	     c->process.user.has_umask && c->process.user.umask == 18 &&
	     c->process.user.n_additional_gids == 2 && c->process.user.additional_gids[1] == 6 &&
	     strcmp(c->process.args[2], "a b") == 0 && strcmp(c->process.cwd, "/w") == 0 &&
	     c->process.no_new_privileges && c->process.oom_score_adj == 100;
	tap_report(ok, "process fields", NULL);
	ok = c->process.caps.set && c->process.caps.bounding == ((1ULL << 5) | (1ULL << 0)) &&
	     c->process.n_rlimits == 1 && c->process.rlimits[0].resource == RLIMIT_NOFILE &&
	     c->process.rlimits[0].soft == 10 && c->process.rlimits[0].hard == 20;
	tap_report(ok, "capabilities and rlimits", NULL);
	ok = c->n_mounts == 2 && c->mounts[0].bind && c->mounts[0].recursive &&
	     (c->mounts[0].flags & (MS_RDONLY | MS_NOSUID)) == (MS_RDONLY | MS_NOSUID) &&
	     c->mounts[0].propagation == (MS_PRIVATE | MS_REC) && !c->mounts[1].bind &&
	     c->mounts[1].flags == MS_NOEXEC && (c->mounts[1].clear_flags & MS_RDONLY) &&
	     strcmp(c->mounts[1].data, "mode=755,size=1k") == 0;
	tap_report(ok, "mount options split into flags, propagation and data", c->mounts[1].data);
	ok = c->ns[RUNE_NS_PID].present && !c->ns[RUNE_NS_PID].path &&
	     strcmp(c->ns[RUNE_NS_NET].path, "/proc/1/ns/net") == 0 &&
	     !c->ns[RUNE_NS_USER].present && strcmp(c->cgroups_path, "/x/y") == 0 &&
	     json_is_object(c->resources) && c->rootfs_propagation == (MS_SHARED | MS_REC) &&
	     strcmp(c->masked_paths[0], "/proc/kcore") == 0 && json_is_object(c->annotations);
	tap_report(ok, "linux fields", NULL);
	rune_config_free(c);
}

static void test_names(void)
{
	tap_report(
	    rune_signal_parse("TERM") == SIGTERM && rune_signal_parse("SIGKILL") == SIGKILL &&
		rune_signal_parse("9") == 9 && rune_signal_parse("sigusr1") == SIGUSR1 &&
		rune_signal_parse("RTMIN+2") == SIGRTMIN + 2 && rune_signal_parse("BOGUS") < 0 &&
		rune_signal_parse("0") == 0 && rune_signal_parse("999") < 0,
	    "signal names and numbers", NULL);
	tap_report(rune_cap_from_name("CAP_SYS_ADMIN") == 21 &&
		       rune_cap_from_name("CAP_CHOWN") == 0 &&
		       rune_cap_from_name("SYS_ADMIN") < 0 &&
		       strcmp(rune_cap_name(21), "CAP_SYS_ADMIN") == 0,
		   "capability names", NULL);
	tap_report(rune_id_validate("abc-1_2.3+x", NULL) == 0 &&
		       rune_id_validate("a/b", NULL) < 0 && rune_id_validate("..", NULL) < 0 &&
		       rune_id_validate("", NULL) < 0 && rune_id_validate("a b", NULL) < 0,
		   "container ids", NULL);
}

static void test_state_roundtrip(void)
{
	char tmpl[] = "/tmp/rune-unit.XXXXXX";
	char *root = mkdtemp(tmpl);
	struct rune_state s = { 0 }, *l = NULL;
	err_t err = NULL;
	bool ok;

	s.id = "c1";
	s.dir = path_join(root, "c1");
	mkdir(s.dir, 0700);
	s.oci_version = "1.0.2";
	s.pid = getpid();
	proc_start_time(getpid(), &s.pid_start_time);
	s.bundle = "/b";
	s.rootfs = "/b/rootfs";
	s.created = "2026-01-01T00:00:00Z";
	s.cgroup_path = "/c1";
	s.annotations = json_pack("{s:s}", "a", "b");
	ok = rune_state_save(&s, &err) == 0 && rune_state_load(root, "c1", &l, &err) == 0 &&
	     l->pid == s.pid && l->pid_start_time == s.pid_start_time &&
	     strcmp(l->bundle, "/b") == 0 && strcmp(l->cgroup_path, "/c1") == 0 &&
	     json_equal(l->annotations, s.annotations);
	tap_report(ok, "state saved and loaded", err_msg(err));
	if (l) {
		/* Our own pid with the wrong start time is a recycled pid: stopped. */
		l->pid_start_time++;
		tap_report(rune_state_status(l) == RUNE_STATUS_STOPPED,
			   "a recycled pid is not the container", NULL);
		rune_state_free(l);
	}
	err_free(&err);
	tap_report(rune_state_load(root, "nope", &l, &err) == -ENOENT &&
		       strstr(err_msg(err), "does not exist"),
		   "missing container", err_msg(err));
	err_free(&err);
	json_decref(s.annotations);
	rm_rf(root);
	free(s.dir);
}

static void test_open_in_root(void)
{
	char tmpl[] = "/tmp/rune-unit.XXXXXX";
	char *root = mkdtemp(tmpl);
	char path[256], link[300];
	int rootfd, fd = -1;
	struct stat st;
	err_t err = NULL;

	snprintf(path, sizeof(path), "%s/etc", root);
	mkdir(path, 0755);
	/* A symlink pointing outside must resolve inside the rootfs instead. */
	snprintf(link, sizeof(link), "%s/escape", root);
	if (symlink("/../../../../tmp", link) < 0)
		perror("symlink");
	rootfd = open(root, O_PATH | O_DIRECTORY);
	int ret = rune_open_in_root(rootfd, "/escape/newdir", O_PATH, true, true, &fd, &err);
	tap_report(ret == 0, "create through an absolute symlink", err_msg(err));
	snprintf(path, sizeof(path), "%s/tmp/newdir", root);
	tap_report(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && stat("/tmp/newdir", &st) < 0,
		   "the symlink was resolved inside the rootfs", path);
	if (fd >= 0)
		close(fd);
	err_free(&err);
	ret = rune_open_in_root(rootfd, "/etc/../../..", O_PATH, false, true, &fd, &err);
	tap_report(ret == 0, "dot-dot stops at the rootfs", err_msg(err));
	if (fd >= 0) {
		struct stat a, b;
		fstat(fd, &a);
		fstat(rootfd, &b);
		tap_report(a.st_ino == b.st_ino, "dot-dot resolves to the rootfs itself", NULL);
		close(fd);
	}
	err_free(&err);
	/* Relative dangling symlinks and loops. */
	snprintf(link, sizeof(link), "%s/etc/rel", root);
	if (symlink("../../../var/lib", link) < 0)
		perror("symlink");
	ret = rune_open_in_root(rootfd, "/etc/rel/x", O_PATH, true, false, &fd, &err);
	snprintf(path, sizeof(path), "%s/var/lib/x", root);
	tap_report(ret == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode),
		   "create through a relative symlink, inside the rootfs", err_msg(err));
	if (ret == 0)
		close(fd);
	err_free(&err);
	snprintf(link, sizeof(link), "%s/loop1", root);
	if (symlink("loop2", link) < 0)
		perror("symlink");
	snprintf(link, sizeof(link), "%s/loop2", root);
	if (symlink("loop1", link) < 0)
		perror("symlink");
	ret = rune_open_in_root(rootfd, "/loop1/x", O_PATH, true, true, &fd, &err);
	tap_report(ret < 0, "a symlink loop is an error", err_msg(err));
	err_free(&err);
	close(rootfd);
	rm_rf(root);
}

int main(void)
{
	test_bad_configs();
	test_versions();
	test_rlimit_infinity();
	test_good_config();
	test_names();
	test_state_roundtrip();
	/* valgrind 3.19 doesn't know openat2. */
	if (RUNNING_ON_VALGRIND)
		printf("skip - path resolution in a rootfs (openat2 unknown to valgrind)\n");
	else
		test_open_in_root();
	return tap_exit();
}
