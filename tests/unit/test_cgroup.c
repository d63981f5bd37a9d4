/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rune's cgroup module against fake cgroupfs trees in a temp dir: layout
 * detection (v1, v2, hybrid), cgroupsPath resolution, the exact files and
 * values written for each resource on v1 and v2, update, destroy, freezer,
 * pids, stats. Never touches the host's cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "librune/cgroup_internal.h"
#include "../tap.h"

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *_a = (a), *_b = (b);                                                   \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                           \
			printf("# %s:%d: %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, tap_case,    \
			       _a ? _a : "(null)", _b ? _b : "(null)");                            \
			tap_failures++;                                                            \
		}                                                                                  \
	} while (0)

/* ---- fake trees ---- */

struct fake {
	char root[64];
	char *trace_buf;
	size_t trace_len;
	FILE *trace;
	struct rune_cgroup_host *h;
};

static void put_file(const char *dir, const char *name, const char *content)
{
	_cleanup_free_ char *p = NULL;
	FILE *f;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(p, "w");
	if (f == NULL)
		abort();
	fputs(content, f);
	fclose(f);
}

static char *get_file(const char *dir, const char *name)
{
	char *s = NULL;

	if (cg_read(dir, name, &s, NULL) < 0)
		return NULL;
	return s;
}

static void mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	}
	mkdir(buf, 0755);
}

/* What the kernel would put in a new cgroup dir of each kind. */
static void populate(const struct rune_cgroup_hierarchy *hier, const char *dir, void *data)
{
	static const char *const v1_files[][3] = {
		{ "memory", "memory.limit_in_bytes", "9223372036854771712" },
		{ "memory", "memory.memsw.limit_in_bytes", "9223372036854771712" },
		{ "memory", "memory.soft_limit_in_bytes", "9223372036854771712" },
		{ "memory", "memory.kmem.limit_in_bytes", "9223372036854771712" },
		{ "memory", "memory.kmem.tcp.limit_in_bytes", "9223372036854771712" },
		{ "memory", "memory.swappiness", "60" },
		{ "memory", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0" },
		{ "memory", "memory.use_hierarchy", "1" },
		{ "memory", "memory.usage_in_bytes", "1048576" },
		{ "memory", "memory.stat", "cache 4096\nrss 8192" },
		{ "cpu", "cpu.shares", "1024" },
		{ "cpu", "cpu.cfs_period_us", "100000" },
		{ "cpu", "cpu.cfs_quota_us", "-1" },
		{ "cpu", "cpu.cfs_burst_us", "0" },
		{ "cpu", "cpu.rt_period_us", "1000000" },
		{ "cpu", "cpu.rt_runtime_us", "0" },
		{ "cpu", "cpu.idle", "0" },
		{ "cpu", "cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 99" },
		{ "cpuacct", "cpuacct.usage", "5000" },
		{ "cpuacct", "cpuacct.usage_percpu", "2000 3000" },
		{ "cpuacct", "cpuacct.stat", "user 3\nsystem 1" },
		{ "cpuset", "cpuset.cpus", "" },
		{ "cpuset", "cpuset.mems", "" },
		{ "pids", "pids.max", "max" },
		{ "pids", "pids.current", "3" },
		{ "blkio", "blkio.weight", "500" },
		{ "blkio", "blkio.weight_device", "" },
		{ "blkio", "blkio.leaf_weight", "500" },
		{ "blkio", "blkio.leaf_weight_device", "" },
		{ "blkio", "blkio.throttle.read_bps_device", "" },
		{ "blkio", "blkio.throttle.write_bps_device", "" },
		{ "blkio", "blkio.throttle.read_iops_device", "" },
		{ "blkio", "blkio.throttle.write_iops_device", "" },
		{ "blkio", "blkio.throttle.io_service_bytes_recursive",
		  "8:0 Read 100\n8:0 Write 200\nTotal 300" },
		{ "devices", "devices.allow", "" },
		{ "devices", "devices.deny", "" },
		{ "freezer", "freezer.state", "THAWED" },
		{ "hugetlb", "hugetlb.2MB.limit_in_bytes", "9223372036854771712" },
		{ "hugetlb", "hugetlb.2MB.usage_in_bytes", "0" },
		{ "hugetlb", "hugetlb.2MB.failcnt", "0" },
	};
	static const char *const v2_files[][3] = {
		{ "", "cgroup.subtree_control", "" },
		{ "", "cgroup.freeze", "0" },
		{ "", "cgroup.events", "populated 0\nfrozen 0" },
		{ "", "cpu.stat",
		  "usage_usec 10\nuser_usec 6\nsystem_usec 4\nnr_periods 5\n"
		  "nr_throttled 1\nthrottled_usec 2" },
		{ "cpu", "cpu.weight", "100" },
		{ "cpu", "cpu.max", "max 100000" },
		{ "cpu", "cpu.max.burst", "0" },
		{ "cpu", "cpu.idle", "0" },
		{ "cpuset", "cpuset.cpus", "" },
		{ "cpuset", "cpuset.mems", "" },
		{ "memory", "memory.max", "max" },
		{ "memory", "memory.swap.max", "max" },
		{ "memory", "memory.low", "0" },
		{ "memory", "memory.current", "4096" },
		{ "memory", "memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1" },
		{ "memory", "memory.stat", "anon 4096\nfile 8192" },
		{ "io", "io.weight", "default 100" },
		{ "io", "io.max", "" },
		{ "io", "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0" },
		{ "hugetlb", "hugetlb.2MB.max", "max" },
		{ "hugetlb", "hugetlb.2MB.rsvd.max", "max" },
		{ "rdma", "rdma.max", "" },
		{ "pids", "pids.max", "max" },
		{ "pids", "pids.current", "0" },
	};

	(void)data;
	put_file(dir, "cgroup.procs", "");
	if (hier->v2) {
		put_file(dir, "cgroup.controllers", hier->available);
		for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++) {
			const char *c = v2_files[i][0];
			size_t l = strlen(c);
			const char *a = hier->available;
			bool have = l == 0;

			for (const char *p = a; !have && (p = strstr(p, c)) != NULL; p += l)
				have = (p == a || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\0');
			if (have)
				put_file(dir, v2_files[i][1], v2_files[i][2]);
		}
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(v1_files); i++) {
		const char *c = v1_files[i][0];
		_cleanup_free_ char *list = NULL;

		if (asprintf(&list, ",%s,", hier->controllers) < 0)
			abort();
		char key[32];
		snprintf(key, sizeof(key), ",%s,", c);
		if (strstr(list, key))
			put_file(dir, v1_files[i][1], v1_files[i][2]);
	}
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

/* rmdir for fake dirs: drop the files the "kernel" put there first. */
static int fake_rmdir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0)
		return -1;
	/* Like cgroupfs: refuse if a child cgroup is left or a task is inside. */
	{
		_cleanup_free_ char *procs = get_file(dir, "cgroup.procs");

		if (procs && *procs) {
			errno = EBUSY;
			return -1;
		}
	}
	return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *const mi_hybrid =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char *const cg_hybrid = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n"
				     "5:devices:/\n4:memory:/sandbox/x\n3:cpuset:/\n"
				     "2:cpuacct:/\n1:cpu:/\n0::/\n";

/* Debian 10 style pure v1, with a joint cpu,cpuacct and a hugetlb hierarchy. */
static const char *const mi_v1 =
    "25 18 0:23 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/systemd rw shared:10 - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "29 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
    "30 25 0:28 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory\n"
    "31 25 0:29 / /sys/fs/cgroup/pids rw shared:15 - cgroup cgroup rw,pids\n"
    "32 25 0:30 / /sys/fs/cgroup/devices rw shared:16 - cgroup cgroup rw,devices\n"
    "33 25 0:31 / /sys/fs/cgroup/freezer rw shared:17 - cgroup cgroup rw,freezer\n"
    "34 25 0:32 / /sys/fs/cgroup/cpuset rw shared:18 - cgroup cgroup rw,cpuset\n"
    "35 25 0:33 / /sys/fs/cgroup/blkio rw shared:19 - cgroup cgroup rw,blkio\n"
    "36 25 0:34 / /sys/fs/cgroup/hugetlb rw shared:20 - cgroup cgroup rw,hugetlb\n"
    "37 25 0:35 / /sys/fs/cgroup/my\\040tree rw - cgroup cgroup rw,name=mine\n";
static const char *const cg_v1 = "11:name=mine:/\n10:hugetlb:/user.slice\n9:blkio:/user.slice\n"
				 "8:cpuset:/user.slice\n7:freezer:/user.slice\n"
				 "6:devices:/user.slice\n5:pids:/user.slice\n"
				 "4:memory:/user.slice\n3:cpu,cpuacct:/user.slice\n"
				 "1:name=systemd:/user.slice/session-1.scope\n";

static const char *const mi_v2 =
    "27 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
static const char *const cg_v2 = "0::/user.slice/user-0.slice/session-1.scope\n";

static void fake_init(struct fake *f, const char *mountinfo, const char *self_cgroup,
		      const char *v2_controllers, bool systemd)
{
	_cleanup_free_ char *mi = NULL, *cg = NULL;
	_cleanup_error_ err_t err = NULL;
	const struct rune_cgroup_hierarchy *v;
	size_t n;

	memset(f, 0, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/rune-cgtest.XXXXXX");
	if (mkdtemp(f->root) == NULL)
		abort();
	put_file(f->root, "mountinfo", mountinfo);
	put_file(f->root, "cgroup", self_cgroup);
	if (systemd) {
		_cleanup_free_ char *sd = NULL;

		if (asprintf(&sd, "%s/run/systemd/system", f->root) < 0)
			abort();
		mkdirs(sd);
	}
	/* Mountpoints first: detection reads cgroup.controllers there. */
	for (const char *l = mountinfo; *l;) {
		char mp[256], full[512], fstype[32];

		if (sscanf(l, "%*s %*s %*s %*s %255s", mp) == 1 &&
		    sscanf(strstr(l, " - ") + 3, "%31s", fstype) == 1 &&
		    strncmp(fstype, "cgroup", 6) == 0) {
			char *esc = strstr(mp, "\\040");

			if (esc) {
				*esc = ' ';
				memmove(esc + 1, esc + 4, strlen(esc + 4) + 1);
			}
			snprintf(full, sizeof(full), "%s%s", f->root, mp);
			mkdirs(full);
			if (strcmp(fstype, "cgroup2") == 0)
				put_file(full, "cgroup.controllers", v2_controllers);
		}
		l = strchr(l, '\n');
		l = l ? l + 1 : "";
	}
	if (asprintf(&mi, "%s/mountinfo", f->root) < 0 || asprintf(&cg, "%s/cgroup", f->root) < 0)
		abort();
	if (rune_cgroup_host_detect_at(f->root, mi, cg, &f->h, &err) < 0) {
		printf("# detect: %s\n", err_msg(err));
		abort();
	}
	/* The root cgroups' own files. */
	rune_cgroup_hierarchies(f->h, &v, &n);
	for (size_t i = 0; i < n; i++) {
		populate(&v[i], v[i].mountpoint, NULL);
		if (!v[i].v2 && strstr(v[i].controllers, "cpuset")) {
			put_file(v[i].mountpoint, "cpuset.cpus", "0-3");
			put_file(v[i].mountpoint, "cpuset.mems", "0");
		}
	}
	f->trace = open_memstream(&f->trace_buf, &f->trace_len);
	f->h->trace = f->trace;
	f->h->on_mkdir = populate;
	f->h->rmdir = fake_rmdir;
	f->h->no_bpf = true;
}

static void fake_free(struct fake *f)
{
	rune_cgroup_host_free(f->h);
	fclose(f->trace);
	free(f->trace_buf);
	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void trace_reset(struct fake *f)
{
	fclose(f->trace);
	free(f->trace_buf);
	f->trace_buf = NULL;
	f->trace = open_memstream(&f->trace_buf, &f->trace_len);
	f->h->trace = f->trace;
}

/* Whether the trace holds this exact line. */
static bool traced(struct fake *f, const char *fmt, ...)
{
	_cleanup_free_ char *want = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&want, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	fflush(f->trace);
	for (const char *l = f->trace_buf; l && *l;) {
		size_t len = strcspn(l, "\n");

		if (len == strlen(want) && strncmp(l, want, len) == 0)
			return true;
		l += len;
		if (*l)
			l++;
	}
	printf("# %s: not traced: %s\n", tap_case, want);
	return false;
}

/* Position of a line in the trace (-1 if absent), to check ordering. */
static long trace_pos(struct fake *f, const char *line)
{
	char *p;

	fflush(f->trace);
	p = f->trace_buf ? strstr(f->trace_buf, line) : NULL;
	return p ? p - f->trace_buf : -1;
}

static bool trace_mentions(struct fake *f, const char *s)
{
	fflush(f->trace);
	return f->trace_buf && strstr(f->trace_buf, s);
}

static bool dir_exists(struct fake *f, const char *p)
{
	_cleanup_free_ char *full = NULL;
	struct stat st;

	if (asprintf(&full, "%s%s", f->root, p) < 0)
		abort();
	return stat(full, &st) == 0;
}

static json_t *J(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	if (j == NULL) {
		printf("# bad test JSON: %s: %s\n", text, je.text);
		abort();
	}
	return j;
}

/* ---- detection ---- */

static void test_detect_hybrid(void)
{
	int before;
	struct fake f;
	const struct rune_cgroup_hierarchy *v, *c;
	size_t n;

	before = tap_begin("detect: hybrid layout (this host's)");
	fake_init(&f, mi_hybrid, cg_hybrid, "hugetlb", false);
	CHECK(rune_cgroup_layout(f.h) == RUNE_CGROUP_HYBRID);
	rune_cgroup_hierarchies(f.h, &v, &n);
	CHECK(n == 10);
	CHECK(v[n - 1].v2);
	CHECK_STR(v[n - 1].available, "hugetlb");
	c = rune_cgroup_controller(f.h, "memory");
	CHECK(c && !c->v2);
	if (c)
		CHECK_STR(c->self, "/sandbox/x");
	c = rune_cgroup_controller(f.h, "hugetlb");
	CHECK(c && c->v2);
	c = rune_cgroup_controller(f.h, "name=systemd");
	CHECK(c && strstr(c->mountpoint, "/sys/fs/cgroup/systemd"));
	c = rune_cgroup_controller(f.h, "freezer");
	CHECK(c && !c->v2);
	CHECK(rune_cgroup_controller(f.h, "net_cls") == NULL);
	CHECK(rune_cgroup_controller(f.h, "io") == rune_cgroup_controller(f.h, "blkio"));
	fake_free(&f);
	tap_end(before);
}

static void test_detect_v1(void)
{
	int before;
	struct fake f;
	const struct rune_cgroup_hierarchy *v, *c;
	size_t n;

	before = tap_begin("detect: pure v1 with joint cpu,cpuacct and an escaped mountpoint");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_layout(f.h) == RUNE_CGROUP_V1);
	rune_cgroup_hierarchies(f.h, &v, &n);
	CHECK(n == 10);
	c = rune_cgroup_controller(f.h, "cpuacct");
	CHECK(c && strcmp(c->controllers, "cpu,cpuacct") == 0);
	CHECK(c == rune_cgroup_controller(f.h, "cpu"));
	c = rune_cgroup_controller(f.h, "name=mine");
	CHECK(c && strstr(c->mountpoint, "/sys/fs/cgroup/my tree"));
	c = rune_cgroup_controller(f.h, "name=systemd");
	CHECK(c && strcmp(c->self, "/user.slice/session-1.scope") == 0);
	CHECK(rune_cgroup_controller(f.h, "hugetlb") != NULL);
	CHECK(rune_cgroup_controller(f.h, "rdma") == NULL);
	fake_free(&f);
	tap_end(before);
}

static void test_detect_v2(void)
{
	int before;
	struct fake f;
	const struct rune_cgroup_hierarchy *v, *c;
	size_t n;

	before = tap_begin("detect: pure v2");
	fake_init(&f, mi_v2, cg_v2, "cpuset cpu io memory hugetlb pids rdma misc", false);
	CHECK(rune_cgroup_layout(f.h) == RUNE_CGROUP_V2);
	rune_cgroup_hierarchies(f.h, &v, &n);
	CHECK(n == 1 && v[0].v2);
	CHECK_STR(v[0].self, "/user.slice/user-0.slice/session-1.scope");
	c = rune_cgroup_controller(f.h, "blkio");
	CHECK(c && c->v2);
	CHECK(rune_cgroup_controller(f.h, "freezer") == c);
	CHECK(rune_cgroup_controller(f.h, "devices") == c);
	CHECK(rune_cgroup_controller(f.h, "net_cls") == NULL);
	fake_free(&f);
	tap_end(before);
}

static void test_detect_errors(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct rune_cgroup_host *h = NULL;
	char dir[] = "/tmp/rune-cgtest.XXXXXX";
	char mi[64], cg[64];

	before = tap_begin("detect: no cgroup mounted, unreadable files");
	if (mkdtemp(dir) == NULL)
		abort();
	put_file(dir, "mountinfo", "22 1 0:5 / /proc rw - proc proc rw\n");
	put_file(dir, "cgroup", "0::/\n");
	snprintf(mi, sizeof(mi), "%s/mountinfo", dir);
	snprintf(cg, sizeof(cg), "%s/cgroup", dir);
	CHECK(rune_cgroup_host_detect_at(dir, mi, cg, &h, &err) == -ENOENT);
	CHECK(err && strstr(err_msg(err), "no cgroup filesystem is mounted"));
	err_free(&err);
	CHECK(rune_cgroup_host_detect_at(dir, "/nonexistent/mi", cg, &h, &err) == -ENOENT);
	CHECK(err && strstr(err_msg(err), "/nonexistent/mi"));
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	tap_end(before);
}

/* ---- paths ---- */

static void check_resolve(struct fake *f, const char *in, const char *id, bool sd, const char *want)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *out = NULL;
	int r = rune_cgroup_host_resolve_path(f->h, in, id, sd, &out, &err);

	if (r < 0)
		printf("# resolve \"%s\": %s\n", in ? in : "(null)", err_msg(err));
	CHECK(r == 0);
	CHECK_STR(out, want);
}

static void check_resolve_err(struct fake *f, const char *in, const char *id, bool sd,
			      const char *msg)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *out = NULL;
	int r = rune_cgroup_host_resolve_path(f->h, in, id, sd, &out, &err);

	CHECK(r < 0);
	CHECK(out == NULL);
	if (!(err && strstr(err_msg(err), msg)))
		printf("# resolve \"%s\": wanted \"%s\" in \"%s\"\n", in ? in : "(null)", msg,
		       err_msg(err));
	CHECK(err && strstr(err_msg(err), msg));
}

static void test_resolve(void)
{
	int before;
	struct fake f;

	before = tap_begin("resolve: default, absolute, relative (v1 and v2), cleaning");
	fake_init(&f, mi_v1, cg_v1, "", false);
	check_resolve(&f, NULL, "c1", false, "/c1");
	check_resolve(&f, "", "c1", false, "/c1");
	check_resolve(&f, "/a/b", "c1", false, "/a/b");
	check_resolve(&f, "/a/../../b//c/./", "c1", false, "/b/c");
	check_resolve(&f, "/..", "c1", false, "/");
	/* v1: relative to the caller's cgroup (first v1 hierarchy: cpu,cpuacct here). */
	check_resolve(&f, "foo/bar", "c1", false, "/user.slice/foo/bar");
	check_resolve(&f, "../../../etc", "c1", false, "/user.slice/etc");
	check_resolve_err(&f, NULL, "a/b", false, "invalid container id");
	check_resolve_err(&f, NULL, "", false, "invalid container id");
	fake_free(&f);

	/* v2: relative to the parent of the caller's cgroup, which holds processes. */
	fake_init(&f, mi_v2, cg_v2, "memory pids", false);
	check_resolve(&f, "foo", "c1", false, "/user.slice/user-0.slice/foo");
	check_resolve(&f, NULL, "c1", false, "/c1");
	fake_free(&f);
	tap_end(before);
}

static void test_resolve_systemd(void)
{
	int before;
	struct fake f;

	before = tap_begin("resolve: systemd slice:prefix:name, and a clear error without systemd");
	fake_init(&f, mi_hybrid, cg_hybrid, "", false);
	check_resolve_err(&f, "system.slice:docker:abc", "abc", true, "systemd is not running");
	check_resolve_err(&f, NULL, "abc", true, "no /run/systemd/system");
	fake_free(&f);

	fake_init(&f, mi_hybrid, cg_hybrid, "", true);
	check_resolve(&f, "system.slice:docker:abc", "abc", true, "/system.slice/docker-abc.scope");
	check_resolve(&f, "a-b-c.slice:p:n", "x", true, "/a.slice/a-b.slice/a-b-c.slice/p-n.scope");
	check_resolve(&f, "-.slice:p:n", "x", true, "/p-n.scope");
	check_resolve(&f, "machine.slice:p:sub.slice", "x", true, "/machine.slice/sub.slice");
	check_resolve(&f, NULL, "abc", true, "/system.slice/rune-abc.scope");
	check_resolve_err(&f, "/foo/bar", "x", true, "slice:prefix:name");
	check_resolve_err(&f, "a:b", "x", true, "slice:prefix:name");
	check_resolve_err(&f, "a:b:c:d", "x", true, "slice:prefix:name");
	check_resolve_err(&f, "notaslice:p:n", "x", true, "invalid systemd slice name");
	check_resolve_err(&f, "a--b.slice:p:n", "x", true, "invalid systemd slice name");
	fake_free(&f);
	tap_end(before);
}

/* ---- create + limits, v1 ---- */

#define V1 "/sys/fs/cgroup"

static void test_create_v1(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	json_t *res =
	    J("{\"memory\": {\"limit\": 16777216, \"reservation\": 8388608, "
	      "\"swap\": 33554432, \"swappiness\": 10, \"disableOOMKiller\": true, "
	      "\"kernelTCP\": 1048576},"
	      "\"cpu\": {\"shares\": 512, \"quota\": 50000, \"period\": 200000, "
	      "\"burst\": 1000, \"realtimeRuntime\": 9500, \"realtimePeriod\": 10000, "
	      "\"cpus\": \"1-2\", \"mems\": \"0\", \"idle\": 1},"
	      "\"pids\": {\"limit\": 32},"
	      "\"blockIO\": {\"weight\": 300, \"leafWeight\": 200, "
	      "  \"weightDevice\": [{\"major\": 8, \"minor\": 0, \"weight\": 400, "
	      "\"leafWeight\": 100}],"
	      "  \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1000}],"
	      "  \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 16, \"rate\": 7}]},"
	      "\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 4194304}],"
	      "\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, "
	      "{\"allow\": true, \"type\": \"c\", \"major\": 10, \"minor\": 229, "
	      "\"access\": \"rw\"}, {\"allow\": false, \"type\": \"b\", \"major\": 8}]}");

	before = tap_begin("create v1: every resource's file and value");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/pod/c1", 0, res, &err) == 0);
	if (err)
		printf("# %s\n", err_msg(err));
	CHECK(dir_exists(&f, V1 "/memory/pod/c1"));
	CHECK(dir_exists(&f, V1 "/my tree/pod/c1"));
	CHECK(dir_exists(&f, V1 "/cpu,cpuacct/pod/c1"));
	/* memory: from unlimited, memory first (memsw must stay >= memory) */
	CHECK(traced(&f, V1 "/memory/pod/c1/memory.limit_in_bytes 16777216"));
	CHECK(traced(&f, V1 "/memory/pod/c1/memory.memsw.limit_in_bytes 33554432"));
	CHECK(trace_pos(&f, "memory.limit_in_bytes 16777216") <
	      trace_pos(&f, "memory.memsw.limit_in_bytes 33554432"));
	CHECK(traced(&f, V1 "/memory/pod/c1/memory.soft_limit_in_bytes 8388608"));
	CHECK(traced(&f, V1 "/memory/pod/c1/memory.swappiness 10"));
	CHECK(traced(&f, V1 "/memory/pod/c1/memory.oom_control 1"));
	CHECK(traced(&f, V1 "/memory/pod/c1/memory.kmem.tcp.limit_in_bytes 1048576"));
	/* cpu */
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.shares 512"));
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.cfs_period_us 200000"));
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.cfs_quota_us 50000"));
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.cfs_burst_us 1000"));
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.rt_period_us 10000"));
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.rt_runtime_us 9500"));
	CHECK(trace_pos(&f, "cpu.rt_period_us") < trace_pos(&f, "cpu.rt_runtime_us"));
	CHECK(traced(&f, V1 "/cpu,cpuacct/pod/c1/cpu.idle 1"));
	/* cpuset: new levels inherit the parent's, then the config's */
	CHECK(traced(&f, V1 "/cpuset/pod/cpuset.cpus 0-3"));
	CHECK(traced(&f, V1 "/cpuset/pod/cpuset.mems 0"));
	CHECK(traced(&f, V1 "/cpuset/pod/c1/cpuset.cpus 1-2"));
	CHECK(traced(&f, V1 "/cpuset/pod/c1/cpuset.mems 0"));
	/* pids, blkio, hugetlb */
	CHECK(traced(&f, V1 "/pids/pod/c1/pids.max 32"));
	CHECK(traced(&f, V1 "/blkio/pod/c1/blkio.weight 300"));
	CHECK(traced(&f, V1 "/blkio/pod/c1/blkio.leaf_weight 200"));
	CHECK(traced(&f, V1 "/blkio/pod/c1/blkio.weight_device 8:0 400"));
	CHECK(traced(&f, V1 "/blkio/pod/c1/blkio.leaf_weight_device 8:0 100"));
	CHECK(traced(&f, V1 "/blkio/pod/c1/blkio.throttle.read_bps_device 8:0 1000"));
	CHECK(traced(&f, V1 "/blkio/pod/c1/blkio.throttle.write_iops_device 8:16 7"));
	CHECK(traced(&f, V1 "/hugetlb/pod/c1/hugetlb.2MB.limit_in_bytes 4194304"));
	/* devices: deny all, the config's rules in order, runc's defaults */
	CHECK(traced(&f, V1 "/devices/pod/c1/devices.deny a *:* rwm"));
	CHECK(traced(&f, V1 "/devices/pod/c1/devices.allow c 10:229 rw"));
	CHECK(traced(&f, V1 "/devices/pod/c1/devices.deny b 8:* rwm"));
	CHECK(traced(&f, V1 "/devices/pod/c1/devices.allow c 1:3 rwm"));
	CHECK(traced(&f, V1 "/devices/pod/c1/devices.allow c 136:* rwm"));
	CHECK(traced(&f, V1 "/devices/pod/c1/devices.allow c *:* m"));
	CHECK(trace_pos(&f, "devices.allow c 10:229 rw") < trace_pos(&f, "devices.deny b 8:*"));
	CHECK(trace_pos(&f, "devices.deny b 8:*") < trace_pos(&f, "devices.allow c 1:3 rwm"));
	/* nothing else on the named hierarchy but the directory */
	CHECK(!trace_mentions(&f, "/my tree/pod/c1/"));
	json_decref(res);
	fake_free(&f);
	tap_end(before);
}

static void test_create_v1_moves_pid(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;

	before = tap_begin("create v1: pid written to cgroup.procs on every hierarchy; enter");
	fake_init(&f, mi_hybrid, cg_hybrid, "hugetlb", false);
	CHECK(rune_cgroup_create(f.h, "/c2", 4242, NULL, &err) == 0);
	CHECK(traced(&f, V1 "/memory/c2/cgroup.procs 4242"));
	CHECK(traced(&f, V1 "/systemd/c2/cgroup.procs 4242"));
	CHECK(traced(&f, V1 "/unified/c2/cgroup.procs 4242"));
	/* the v2 side lets the new cgroup use hugetlb */
	CHECK(traced(&f, V1 "/unified/cgroup.subtree_control +hugetlb"));
	trace_reset(&f);
	CHECK(rune_cgroup_enter(f.h, "/c2", 4343, &err) == 0);
	CHECK(traced(&f, V1 "/pids/c2/cgroup.procs 4343"));
	CHECK(traced(&f, V1 "/unified/c2/cgroup.procs 4343"));
	fake_free(&f);
	tap_end(before);
}

static void test_memory_order_v1(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	json_t *big = J("{\"memory\": {\"limit\": 100000000, \"swap\": 200000000}}");
	json_t *small = J("{\"memory\": {\"limit\": 1000000, \"swap\": 2000000}}");
	json_t *unl = J("{\"memory\": {\"limit\": -1}}");

	before = tap_begin("update v1: memory and memsw ordering, -1 means unlimited for both");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/c", 0, big, &err) == 0);
	trace_reset(&f);
	/* shrinking: memory first, then memsw */
	CHECK(rune_cgroup_update(f.h, "/c", small, &err) == 0);
	CHECK(trace_pos(&f, "memory.limit_in_bytes 1000000") >= 0);
	CHECK(trace_pos(&f, "memory.limit_in_bytes 1000000") <
	      trace_pos(&f, "memory.memsw.limit_in_bytes 2000000"));
	/* growing past the current memory limit: memsw first */
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/c", big, &err) == 0);
	CHECK(trace_pos(&f, "memsw.limit_in_bytes 200000000") >= 0);
	CHECK(trace_pos(&f, "memsw.limit_in_bytes 200000000") <
	      trace_pos(&f, "memory.limit_in_bytes 100000000"));
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/c", unl, &err) == 0);
	CHECK(traced(&f, V1 "/memory/c/memory.memsw.limit_in_bytes -1"));
	CHECK(traced(&f, V1 "/memory/c/memory.limit_in_bytes -1"));
	CHECK(trace_pos(&f, "memsw.limit_in_bytes -1") < trace_pos(&f, "memory.limit_in_bytes -1"));
	/* update touches nothing else: no device rules, no cpu */
	CHECK(!trace_mentions(&f, "devices."));
	CHECK(!trace_mentions(&f, "cpu."));
	json_decref(big);
	json_decref(small);
	json_decref(unl);
	fake_free(&f);
	tap_end(before);
}

#define DEFAULT_LIST                                                                               \
	"c *:* m\nb *:* m\nc 1:3 rwm\nc 1:8 rwm\nc 1:7 rwm\nc 5:0 rwm\nc 1:5 rwm\nc 1:9 rwm\n"     \
	"c 5:1 rwm\nc 136:* rwm\nc 5:2 rwm\nc 10:200 rwm\n"

static void test_devices_update_v1(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	char d[512];
	json_t *add = J("{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, {\"allow\": true, "
			"\"type\": \"c\", \"major\": 1, \"minor\": 11, \"access\": \"r\"}]}");
	json_t *drop = J("{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]}");

	before =
	    tap_begin("update v1 devices: only the difference, allows before denies, no deny-all");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/d", 0, NULL, &err) == 0);
	snprintf(d, sizeof(d), "%s" V1 "/devices/d", f.root);
	/* what the kernel lists after create's rules */
	put_file(d, "devices.list", DEFAULT_LIST);
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/d", add, &err) == 0);
	CHECK(traced(&f, V1 "/devices/d/devices.allow c 1:11 r"));
	CHECK(!trace_mentions(&f, "devices.deny"));
	CHECK(!trace_mentions(&f, "c 1:3 "));
	put_file(d, "devices.list", DEFAULT_LIST "c 1:11 r\n");
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/d", drop, &err) == 0);
	CHECK(traced(&f, V1 "/devices/d/devices.deny c 1:11 r"));
	CHECK(!trace_mentions(&f, "devices.allow"));
	/* fewer access bits: only the extra ones are denied */
	put_file(d, "devices.list", DEFAULT_LIST "c 1:11 rw\n");
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/d", add, &err) == 0);
	CHECK(traced(&f, V1 "/devices/d/devices.deny c 1:11 w"));
	CHECK(!trace_mentions(&f, "devices.allow"));
	/* from "allow all" there is no way around resetting first */
	put_file(d, "devices.list", "a *:* rwm\n");
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/d", add, &err) == 0);
	CHECK(trace_pos(&f, "devices.deny a *:* rwm") >= 0);
	CHECK(trace_pos(&f, "devices.deny a *:* rwm") < trace_pos(&f, "devices.allow c 1:11 r"));
	json_decref(add);
	json_decref(drop);
	fake_free(&f);
	tap_end(before);
}

static void test_check_before_update(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	json_t *low = J("{\"memory\": {\"limit\": 4096, \"checkBeforeUpdate\": true}}");

	before = tap_begin("update: checkBeforeUpdate refuses a limit below usage");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/c", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_update(f.h, "/c", low, &err) == -EBUSY);
	CHECK(err && strstr(err_msg(err), "below the current usage 1048576"));
	err_free(&err);
	CHECK(rune_cgroup_update(f.h, "/nope", low, &err) == -ENOENT);
	json_decref(low);
	fake_free(&f);
	tap_end(before);
}

/* ---- create + limits, v2 ---- */

#define V2 "/sys/fs/cgroup"

static void test_create_v2(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	json_t *res =
	    J("{\"memory\": {\"limit\": 16777216, \"reservation\": 8388608, "
	      "\"swap\": 33554432},"
	      "\"cpu\": {\"shares\": 1024, \"quota\": 50000, \"period\": 200000, "
	      "\"burst\": 1000, \"cpus\": \"0-1\", \"mems\": \"0\", \"idle\": 0},"
	      "\"pids\": {\"limit\": -1},"
	      "\"blockIO\": {\"weight\": 500, "
	      "  \"throttleReadBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 1000}],"
	      "  \"throttleWriteBpsDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 0}],"
	      "  \"throttleReadIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 5}],"
	      "  \"throttleWriteIOPSDevice\": [{\"major\": 8, \"minor\": 0, \"rate\": 6}]},"
	      "\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 0}],"
	      "\"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3, \"hcaObjects\": 10000}},"
	      "\"unified\": {\"memory.high\": \"12345678\"}}");

	before = tap_begin("create v2: runc's conversions and v2 files");
	fake_init(&f, mi_v2, cg_v2, "cpuset cpu io memory hugetlb pids rdma", false);
	/* the "kernel" knows memory.high too */
	CHECK(rune_cgroup_create(f.h, "/k8s/c1", 0, NULL, &err) == 0);
	{
		_cleanup_free_ char *d = NULL;

		if (asprintf(&d, "%s" V2 "/k8s/c1", f.root) < 0)
			abort();
		put_file(d, "memory.high", "max");
	}
	trace_reset(&f);
	CHECK(rune_cgroup_create(f.h, "/k8s/c1", 0, res, &err) == 0);
	if (err)
		printf("# %s\n", err_msg(err));
	CHECK(traced(&f, V2 "/k8s/c1/memory.max 16777216"));
	CHECK(traced(&f, V2 "/k8s/c1/memory.swap.max 16777216"));
	CHECK(trace_pos(&f, "memory.swap.max") < trace_pos(&f, "memory.max"));
	CHECK(traced(&f, V2 "/k8s/c1/memory.low 8388608"));
	CHECK(traced(&f, V2 "/k8s/c1/cpu.weight 39"));
	CHECK(traced(&f, V2 "/k8s/c1/cpu.max 50000 200000"));
	CHECK(traced(&f, V2 "/k8s/c1/cpu.max.burst 1000"));
	CHECK(traced(&f, V2 "/k8s/c1/cpu.idle 0"));
	CHECK(traced(&f, V2 "/k8s/c1/cpuset.cpus 0-1"));
	CHECK(traced(&f, V2 "/k8s/c1/cpuset.mems 0"));
	CHECK(traced(&f, V2 "/k8s/c1/pids.max max"));
	CHECK(traced(&f, V2 "/k8s/c1/io.weight 4950"));
	CHECK(traced(&f, V2 "/k8s/c1/io.max 8:0 rbps=1000"));
	CHECK(traced(&f, V2 "/k8s/c1/io.max 8:0 wbps=max"));
	CHECK(traced(&f, V2 "/k8s/c1/io.max 8:0 riops=5"));
	CHECK(traced(&f, V2 "/k8s/c1/io.max 8:0 wiops=6"));
	CHECK(traced(&f, V2 "/k8s/c1/hugetlb.2MB.max 0"));
	CHECK(traced(&f, V2 "/k8s/c1/hugetlb.2MB.rsvd.max 0"));
	CHECK(traced(&f, V2 "/k8s/c1/rdma.max mlx5_1 hca_handle=3 hca_object=10000"));
	CHECK(traced(&f, V2 "/k8s/c1/memory.high 12345678"));
	/* prologue 6, 12 default rules (6+6+9*5+4), deny all 2 ends it */
	CHECK(traced(&f, "bpf-devices 69 insns"));
	json_decref(res);
	fake_free(&f);
	tap_end(before);
}

static void test_v2_subtree_and_update(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	json_t *period = J("{\"cpu\": {\"period\": 50000}}");
	json_t *quota = J("{\"cpu\": {\"quota\": -1}}");

	before =
	    tap_begin("v2: controllers enabled down the path; cpu.max keeps the half not given");
	fake_init(&f, mi_v2, cg_v2, "cpu memory pids", false);
	CHECK(rune_cgroup_create(f.h, "/a/b", 0, NULL, &err) == 0);
	CHECK(traced(&f, V2 "/cgroup.subtree_control +cpu"));
	CHECK(traced(&f, V2 "/cgroup.subtree_control +memory"));
	CHECK(traced(&f, V2 "/a/cgroup.subtree_control +pids"));
	CHECK(!trace_mentions(&f, "/a/b/cgroup.subtree_control"));
	{
		_cleanup_free_ char *d = NULL;

		if (asprintf(&d, "%s" V2 "/a/b", f.root) < 0)
			abort();
		put_file(d, "cpu.max", "30000 100000");
	}
	trace_reset(&f);
	CHECK(rune_cgroup_update(f.h, "/a/b", period, &err) == 0);
	CHECK(traced(&f, V2 "/a/b/cpu.max 30000 50000"));
	CHECK(rune_cgroup_update(f.h, "/a/b", quota, &err) == 0);
	CHECK(traced(&f, V2 "/a/b/cpu.max max 50000"));
	json_decref(period);
	json_decref(quota);
	fake_free(&f);
	tap_end(before);
}

/* ---- errors ---- */

static void check_create_err(struct fake *f, const char *json, const char *msg)
{
	_cleanup_error_ err_t err = NULL;
	json_t *res = J(json);

	CHECK(rune_cgroup_create(f->h, "/bad/c", 0, res, &err) < 0);
	if (!(err && strstr(err_msg(err), msg)))
		printf("# %s: wanted \"%s\" in \"%s\"\n", json, msg, err_msg(err));
	CHECK(err && strstr(err_msg(err), msg));
	/* nothing left behind, parents included */
	CHECK(!rune_cgroup_exists(f->h, "/bad/c"));
	CHECK(!rune_cgroup_exists(f->h, "/bad"));
	json_decref(res);
}

static void test_errors_v1(void)
{
	int before;
	struct fake f;

	before =
	    tap_begin("errors v1: unavailable controllers and files are named, create cleans up");
	fake_init(&f, mi_hybrid, cg_hybrid, "", false);
	check_create_err(&f, "{\"network\": {\"classID\": 1048577}}",
			 "network.classID: the net_cls controller is not available on this host");
	check_create_err(&f,
			 "{\"network\": {\"priorities\": [{\"name\": \"eth0\", "
			 "\"priority\": 5}]}}",
			 "network.priorities[0]: the net_prio controller is not available");
	check_create_err(&f, "{\"rdma\": {\"mlx5_1\": {\"hcaHandles\": 3}}}",
			 "rdma.mlx5_1: the rdma controller is not available");
	/* hugetlb is on the v2 side with no controller enabled in this fake */
	check_create_err(&f, "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}",
			 "hugepageLimits: the hugetlb controller is not available");
	check_create_err(&f, "{\"memory\": {\"swappiness\": 101}}",
			 "memory.swappiness: 101 is outside 0-100");
	check_create_err(&f, "{\"memory\": {\"limit\": \"lots\"}}",
			 "linux.resources.memory.limit: expected an integer");
	check_create_err(&f, "{\"devices\": [{\"allow\": true, \"access\": \"ax\"}]}",
			 "devices[0].access: \"ax\" names none of r, w, m");
	check_create_err(&f, "{\"devices\": [{\"allow\": true, \"type\": \"q\"}]}",
			 "devices[0].type");
	check_create_err(&f, "{\"unified\": {\"memory.max\": \"1\"}}",
			 "unified.memory.max: cannot use unified on cgroup v1");
	check_create_err(&f, "{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"weight\": 5}]}}",
			 "blockIO.weightDevice[0]: major and minor are required");
	fake_free(&f);

	fake_init(&f, mi_v1, cg_v1, "", false);
	check_create_err(&f, "{\"unified\": {\"memory.max\": \"1\"}}",
			 "unified: cannot use unified on cgroup v1 (cgroup v2 is not mounted");
	check_create_err(&f, "{\"hugepageLimits\": [{\"pageSize\": \"1GB\", \"limit\": 1}]}",
			 "page size 1GB is not supported on this host");
	check_create_err(&f, "{\"hugepageLimits\": [{\"pageSize\": \"2M\", \"limit\": 1}]}",
			 "pageSize: expected e.g. \"2MB\"");
	fake_free(&f);
	tap_end(before);
}

static void test_errors_v2(void)
{
	int before;
	struct fake f;

	before = tap_begin("errors v2: limits v2 has no file for are refused by name");
	fake_init(&f, mi_v2, cg_v2, "cpuset cpu io memory pids", false);
	check_create_err(&f, "{\"cpu\": {\"realtimeRuntime\": 100}}",
			 "cpu.realtimeRuntime: realtime CPU limits do not exist on cgroup v2");
	check_create_err(&f, "{\"memory\": {\"kernel\": 100}}",
			 "memory.kernel: kernel memory limits do not exist on cgroup v2");
	check_create_err(&f, "{\"memory\": {\"swappiness\": 5}}", "memory.swappiness");
	check_create_err(&f, "{\"memory\": {\"disableOOMKiller\": true}}",
			 "memory.disableOOMKiller");
	check_create_err(&f, "{\"memory\": {\"swap\": 100}}",
			 "can't set a swap limit without a memory limit");
	check_create_err(&f, "{\"memory\": {\"limit\": 200, \"swap\": 100}}",
			 "memory+swap (100) must be >= memory (200)");
	check_create_err(&f, "{\"blockIO\": {\"leafWeight\": 100}}", "blockIO.leafWeight");
	check_create_err(&f,
			 "{\"blockIO\": {\"weightDevice\": [{\"major\": 8, \"minor\": 0, "
			 "\"weight\": 100}]}}",
			 "per-device weights need the BFQ I/O scheduler");
	check_create_err(&f, "{\"network\": {\"classID\": 1}}", "net_cls controller");
	check_create_err(&f, "{\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 1}]}",
			 "hugetlb controller is not available");
	fake_free(&f);
	tap_end(before);
}

static void test_create_bad_path(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;

	before = tap_begin("create: refuses the root cgroup and unclean paths");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/", 0, NULL, &err) == -EINVAL);
	err_free(&err);
	CHECK(rune_cgroup_create(f.h, "/a/../b", 0, NULL, &err) == -EINVAL);
	err_free(&err);
	CHECK(rune_cgroup_create(f.h, "relative", 0, NULL, &err) == -EINVAL);
	err_free(&err);
	CHECK(rune_cgroup_destroy(f.h, "/", true, &err) == -EINVAL);
	fake_free(&f);
	tap_end(before);
}

/* ---- destroy, pids, freezer, stats ---- */

static void test_destroy(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;

	before = tap_begin("destroy: every hierarchy, children first, busy reported, gone is fine");
	fake_init(&f, mi_hybrid, cg_hybrid, "", false);
	CHECK(rune_cgroup_create(f.h, "/d/c", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_create(f.h, "/d/c/sub/deeper", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_destroy(f.h, "/d/c", false, &err) == 0);
	CHECK(!rune_cgroup_exists(f.h, "/d/c"));
	CHECK(rune_cgroup_exists(f.h, "/d"));
	CHECK(rune_cgroup_destroy(f.h, "/d/c", false, &err) == 0);
	/* a task inside: EBUSY after the retries, named */
	CHECK(rune_cgroup_create(f.h, "/d/busy", 0, NULL, &err) == 0);
	{
		_cleanup_free_ char *d = NULL;

		if (asprintf(&d, "%s" V1 "/pids/d/busy", f.root) < 0)
			abort();
		put_file(d, "cgroup.procs", "999999999\n");
	}
	CHECK(rune_cgroup_destroy(f.h, "/d/busy", false, &err) == -EBUSY);
	CHECK(err && strstr(err_msg(err), "pids/d/busy: Device or resource busy"));
	err_free(&err);
	fake_free(&f);
	tap_end(before);
}

static void test_pids(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ pid_t *p = NULL;
	struct fake f;
	size_t n = 0;
	char d[512];

	before = tap_begin("pids: recursive, union over hierarchies, sorted, unique");
	fake_init(&f, mi_hybrid, cg_hybrid, "", false);
	CHECK(rune_cgroup_create(f.h, "/p/sub", 0, NULL, &err) == 0);
	snprintf(d, sizeof(d), "%s" V1 "/memory/p", f.root);
	put_file(d, "cgroup.procs", "30\n10\n");
	snprintf(d, sizeof(d), "%s" V1 "/memory/p/sub", f.root);
	put_file(d, "cgroup.procs", "20\n");
	snprintf(d, sizeof(d), "%s" V1 "/unified/p", f.root);
	put_file(d, "cgroup.procs", "10\n40\n");
	CHECK(rune_cgroup_pids(f.h, "/p", &p, &n, &err) == 0);
	CHECK(n == 4);
	if (n == 4)
		CHECK(p[0] == 10 && p[1] == 20 && p[2] == 30 && p[3] == 40);
	free(p);
	p = NULL;
	CHECK(rune_cgroup_pids(f.h, "/nonexistent", &p, &n, &err) == 0);
	CHECK(n == 0 && p == NULL);
	fake_free(&f);
	tap_end(before);
}

static void test_freezer(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	bool frozen = true;
	char d[512];

	before = tap_begin("freezer: v1 freezer.state, v2 cgroup.freeze + cgroup.events");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/f", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_is_frozen(f.h, "/f", &frozen, &err) == 0 && !frozen);
	CHECK(rune_cgroup_freeze(f.h, "/f", true, &err) == 0);
	CHECK(traced(&f, V1 "/freezer/f/freezer.state FROZEN"));
	CHECK(rune_cgroup_is_frozen(f.h, "/f", &frozen, &err) == 0 && frozen);
	CHECK(rune_cgroup_freeze(f.h, "/f", false, &err) == 0);
	CHECK(traced(&f, V1 "/freezer/f/freezer.state THAWED"));
	fake_free(&f);

	fake_init(&f, mi_v2, cg_v2, "", false);
	CHECK(rune_cgroup_create(f.h, "/f", 0, NULL, &err) == 0);
	snprintf(d, sizeof(d), "%s" V2 "/f", f.root);
	put_file(d, "cgroup.events", "populated 1\nfrozen 1\n");
	CHECK(rune_cgroup_freeze(f.h, "/f", true, &err) == 0);
	CHECK(traced(&f, V2 "/f/cgroup.freeze 1"));
	CHECK(rune_cgroup_is_frozen(f.h, "/f", &frozen, &err) == 0 && frozen);
	put_file(d, "cgroup.events", "populated 1\nfrozen 0\n");
	CHECK(rune_cgroup_freeze(f.h, "/f", false, &err) == 0);
	CHECK(traced(&f, V2 "/f/cgroup.freeze 0"));
	CHECK(rune_cgroup_is_frozen(f.h, "/f", &frozen, &err) == 0 && !frozen);
	fake_free(&f);
	tap_end(before);
}

static json_t *jpath(json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static void test_stats(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct fake f;
	json_t *s = NULL;
	long hz = sysconf(_SC_CLK_TCK);

	before = tap_begin("stats: runc's events --stats shape from v1 and v2 files");
	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/s", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_stats(f.h, "/s", &s, &err) == 0);
	CHECK(json_integer_value(jpath(s, "cpu", "usage", "total")) == 5000);
	CHECK(json_array_size(jpath(s, "cpu", "usage", "percpu")) == 2);
	CHECK(json_integer_value(jpath(s, "cpu", "usage", "user")) == 3 * (1000000000 / hz));
	CHECK(json_integer_value(jpath(s, "cpu", "throttling", "throttledPeriods")) == 2);
	CHECK(json_integer_value(jpath(s, "memory", "usage", "usage")) == 1048576);
	CHECK(json_integer_value(jpath(s, "memory", "cache", NULL)) == 4096);
	CHECK(json_integer_value(jpath(s, "memory", "raw", "rss")) == 8192);
	CHECK(json_integer_value(jpath(s, "pids", "current", NULL)) == 3);
	CHECK(jpath(s, "pids", "limit", NULL) == NULL); /* "max": omitted, as runc does */
	CHECK(json_array_size(jpath(s, "blkio", "ioServiceBytesRecursive", NULL)) == 2);
	CHECK(jpath(s, "hugetlb", "2MB", NULL) != NULL);
	json_decref(s);
	s = NULL;
	CHECK(rune_cgroup_stats(f.h, "/nope", &s, &err) == -ENOENT);
	err_free(&err);
	fake_free(&f);

	fake_init(&f, mi_v2, cg_v2, "cpu memory io pids hugetlb", false);
	CHECK(rune_cgroup_create(f.h, "/s", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_stats(f.h, "/s", &s, &err) == 0);
	CHECK(json_integer_value(jpath(s, "cpu", "usage", "total")) == 10000);
	CHECK(json_integer_value(jpath(s, "cpu", "usage", "kernel")) == 4000);
	CHECK(json_integer_value(jpath(s, "cpu", "throttling", "throttledTime")) == 2000);
	CHECK(json_integer_value(jpath(s, "memory", "usage", "usage")) == 4096);
	CHECK(json_integer_value(jpath(s, "memory", "usage", "failcnt")) == 4);
	CHECK(json_integer_value(jpath(s, "memory", "cache", NULL)) == 8192);
	CHECK(json_array_size(jpath(s, "blkio", "ioServiceBytesRecursive", NULL)) == 2);
	CHECK(jpath(s, "hugetlb", "2MB", NULL) != NULL);
	/* "max" limits print as runc prints them: the largest u64. */
	CHECK(json_integer_value(jpath(s, "memory", "usage", "limit")) == RUNE_STATS_UNLIMITED);
	CHECK(json_integer_value(jpath(s, "memory", "swap", "limit")) == RUNE_STATS_UNLIMITED);
	{
		_cleanup_free_ char *text =
		    rune_cgroup_stats_dumps(jpath(s, "memory", "swap", NULL));
		CHECK(text && strstr(text, "\"limit\":18446744073709551615"));
	}
	json_decref(s);
	fake_free(&f);
	tap_end(before);
}

static void test_oom(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct rune_cgroup_oom *w = NULL;
	struct pollfd p;
	uint64_t count = 9;
	struct fake f;
	char d[512];

	before =
	    tap_begin("oom: v2 memory.events watch counts new oom_kills; v1 registers an eventfd");
	fake_init(&f, mi_v2, cg_v2, "memory", false);
	CHECK(rune_cgroup_create(f.h, "/o", 0, NULL, &err) == 0);
	CHECK(rune_cgroup_oom_open(f.h, "/o", &w, &err) == 0);
	if (w) {
		CHECK(rune_cgroup_oom_read(w, &count, &err) == 0 && count == 0);
		snprintf(d, sizeof(d), "%s" V2 "/o", f.root);
		put_file(d, "memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n");
		p = (struct pollfd){ .fd = rune_cgroup_oom_fd(w), .events = POLLIN };
		CHECK(poll(&p, 1, 1000) == 1);
		CHECK(rune_cgroup_oom_read(w, &count, &err) == 0 && count == 2);
		snprintf(d, sizeof(d), "%s" V2 "/o/memory.events", f.root);
		unlink(d);
		CHECK(rune_cgroup_oom_read(w, &count, &err) == -ENOENT);
		err_free(&err);
		rune_cgroup_oom_close(w);
		w = NULL;
	}
	fake_free(&f);

	fake_init(&f, mi_v1, cg_v1, "", false);
	CHECK(rune_cgroup_create(f.h, "/o", 0, NULL, &err) == 0);
	snprintf(d, sizeof(d), "%s" V1 "/memory/o", f.root);
	put_file(d, "cgroup.event_control", "");
	CHECK(rune_cgroup_oom_open(f.h, "/o", &w, &err) == 0);
	if (w) {
		_cleanup_free_ char *ctl = get_file(d, "cgroup.event_control");
		int efd = -1, cfd = -1;

		CHECK(ctl && sscanf(ctl, "%d %d", &efd, &cfd) == 2);
		CHECK(efd == rune_cgroup_oom_fd(w) && cfd >= 0);
		rune_cgroup_oom_close(w);
	}
	fake_free(&f);
	tap_end(before);
}

/* ---- conversions, helpers, eBPF program ---- */

static void test_conversions(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	int64_t v = 0;
	bool set = false;

	before = tap_begin("conversions: shares->weight, blkio weight->io.weight, swap");
	CHECK(cg_shares_to_weight(0) == 0);
	CHECK(cg_shares_to_weight(2) == 1);
	CHECK(cg_shares_to_weight(1024) == 39);
	CHECK(cg_shares_to_weight(262144) == 10000);
	CHECK(cg_blkio_weight_to_io(10) == 1);
	CHECK(cg_blkio_weight_to_io(500) == 4950);
	CHECK(cg_blkio_weight_to_io(1000) == 10000);
	CHECK(cg_swap_v2(0, -1, &v, &set, &err) == 0 && v == -1 && set);
	CHECK(cg_swap_v2(-1, 100, &v, &set, &err) == 0 && v == -1 && set);
	CHECK(cg_swap_v2(0, 100, &v, &set, &err) == 0 && !set);
	CHECK(cg_swap_v2(300, 100, &v, &set, &err) == 0 && v == 200 && set);
	/* swap == limit: no swap at all */
	CHECK(cg_swap_v2(100, 100, &v, &set, &err) == 0 && v == 0 && set);
	CHECK(cg_swap_v2(50, 100, &v, &set, &err) < 0);
	tap_end(before);
}

static void test_allow_device(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	json_t *res = json_object();
	_cleanup_free_ char *s = NULL;

	before = tap_begin("allow_device: appends allow rules for linux.devices");
	CHECK(rune_cgroup_allow_device(res, 'c', 1, 3, "rwm", &err) == 0);
	CHECK(rune_cgroup_allow_device(res, 'b', 8, -1, "r", &err) == 0);
	s = json_dumps(res, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK_STR(s,
		  "{\"devices\":[{\"access\":\"rwm\",\"allow\":true,\"major\":1,\"minor\":3,"
		  "\"type\":\"c\"},{\"access\":\"r\",\"allow\":true,\"major\":8,\"type\":\"b\"}]}");
	json_decref(res);
	tap_end(before);
}

/* The kernel's verifier is the judge of the program; load it when we may. */
static void test_bpf_prog(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	struct bpf_insn *insns = NULL;
	size_t n = 0;
	json_t *rules = J("[{\"allow\": false, \"access\": \"rwm\"}, "
			  "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, "
			  "\"access\": \"rw\"}, {\"allow\": false, \"type\": \"c\", \"major\": 1, "
			  "\"minor\": 3, \"access\": \"w\"}]");

	before = tap_begin("eBPF device program: structure");
	CHECK(cg_bpf_devices_prog(rules, &insns, &n, &err) == 0);
	/* prologue 6, deny-w and allow-rw (3 matches, 3 access, 2 return each), deny all 2 */
	CHECK(n == 6 + 8 + 8 + 2);
	if (n == 24) {
		/* last rule first: the "w" deny, its jumps landing on the next rule */
		CHECK(insns[6].code == (BPF_JMP | BPF_JNE | BPF_K) && insns[6].imm == 2);
		CHECK(insns[6].off == 7 && insns[7].off == 6 && insns[11].off == 2);
		CHECK(insns[11].code == (BPF_JMP | BPF_JEQ | BPF_K));
		CHECK(insns[12].imm == 0 && insns[13].code == (BPF_JMP | BPF_EXIT));
		/* allow: any bit outside rw skips it */
		CHECK(insns[18].imm == BPF_DEVCG_ACC_MKNOD && insns[20].imm == 1);
		/* deny all: r0 = 0, exit, with no test before */
		CHECK(insns[22].code == (BPF_ALU64 | BPF_MOV | BPF_K) && insns[22].imm == 0);
		CHECK(insns[23].code == (BPF_JMP | BPF_EXIT));
	}
	/* ctx fields: access_type at 0, major at 4, minor at 8; offsets in .off, imm 0 */
	CHECK(insns[0].off == 0 && insns[4].off == 4 && insns[5].off == 8);
	CHECK(insns[4].imm == 0 && insns[5].imm == 0);
	free(insns);
	json_decref(rules);
	tap_end(before);
}

static void test_bpf_verifier(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	json_t *rules = J("[{\"allow\": false, \"access\": \"rwm\"}, "
			  "{\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, "
			  "\"access\": \"rw\"}, {\"allow\": false, \"type\": \"b\", "
			  "\"access\": \"m\"}, {\"allow\": true, \"type\": \"a\"}]");
	int fd;

	before = tap_begin("eBPF device program: accepted by the kernel's verifier");
	fd = cg_bpf_devices_load(rules, &err);
	if (fd < 0 && (fd == -EPERM || fd == -ENOSYS || fd == -EACCES)) {
		printf("skip - %s: %s\n", tap_case, err_msg(err));
		json_decref(rules);
		return;
	}
	if (fd < 0)
		printf("# %s\n", err_msg(err));
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	json_decref(rules);
	tap_end(before);
}

/* ---- systemd driver: unit names and the properties it sends ---- */

static void check_props(struct fake *f, const char *resources, const char *want)
{
	_cleanup_error_ err_t err = NULL;
	json_t *res = J(resources), *props = json_array(), *exp = J(want);

	CHECK(cg_systemd_properties(f->h, res, props, &err) == 0);
	if (!json_equal(props, exp)) {
		_cleanup_free_ char *got = json_dumps(props, JSON_COMPACT);
		printf("# properties for %s:\n#  got  %s\n#  want %s\n", resources, got, want);
		tap_failures++;
	}
	json_decref(res);
	json_decref(props);
	json_decref(exp);
}

static void test_systemd_properties(void)
{
	int before;
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *slice = NULL, *unit = NULL;
	struct fake f;

	before = tap_begin("systemd driver: unit names, properties on hybrid (v1 names) and v2");
	CHECK(cg_systemd_unit("/system.slice/rune-abc.scope", &slice, &unit, &err) == 0);
	CHECK_STR(slice, "system.slice");
	CHECK_STR(unit, "rune-abc.scope");
	free(slice);
	free(unit);
	CHECK(cg_systemd_unit("/a.slice/a-b.slice/p-x.scope", &slice, &unit, &err) == 0);
	CHECK_STR(slice, "a-b.slice");
	CHECK_STR(unit, "p-x.scope");
	free(slice);
	free(unit);
	CHECK(cg_systemd_unit("/p-x.scope", &slice, &unit, &err) == 0);
	CHECK_STR(slice, "-.slice");
	free(slice);
	free(unit);
	CHECK(cg_systemd_unit("/", &slice, &unit, &err) == -EINVAL);
	CHECK(slice == NULL && unit == NULL);

	fake_init(&f, mi_hybrid, cg_hybrid, "hugetlb", true);
	check_props(&f, "{}", "[]");
	/* v1 names; quota 50ms per 100ms: 500ms per second; limits -1: infinity. */
	check_props(&f,
		    "{\"memory\":{\"limit\":16777216,\"swap\":33554432},"
		    "\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000,"
		    "\"cpus\":\"0-1\"},\"pids\":{\"limit\":-1},\"blockIO\":{\"weight\":300}}",
		    "[[\"MemoryLimit\",\"t\",16777216],[\"CPUShares\",\"t\",512],"
		    "[\"CPUQuotaPeriodUSec\",\"t\",100000],"
		    "[\"CPUQuotaPerSecUSec\",\"t\",500000],[\"TasksMax\",\"t\",-1],"
		    "[\"BlockIOWeight\",\"t\",300]]");
	/* 1ms per 30ms rounds up to 40ms per second, as runc does. */
	check_props(&f, "{\"cpu\":{\"quota\":1000,\"period\":30000}}",
		    "[[\"CPUQuotaPeriodUSec\",\"t\",30000],"
		    "[\"CPUQuotaPerSecUSec\",\"t\",40000]]");
	/* Device rules stay with rune: systemd must not take the devices controller. */
	check_props(&f, "{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}", "[]");
	fake_free(&f);

	fake_init(&f, mi_v2, cg_v2, "cpuset cpu io memory hugetlb pids", true);
	/* v2 names and runc's conversions; swap is memory+swap in OCI, swap alone here. */
	check_props(&f,
		    "{\"memory\":{\"limit\":16777216,\"reservation\":8388608,"
		    "\"swap\":33554432},"
		    "\"cpu\":{\"shares\":1024,\"cpus\":\"0-2,9\",\"mems\":\"0\"},"
		    "\"blockIO\":{\"weight\":500}}",
		    "[[\"MemoryMax\",\"t\",16777216],[\"MemoryLow\",\"t\",8388608],"
		    "[\"MemorySwapMax\",\"t\",16777216],[\"CPUWeight\",\"t\",39],"
		    "[\"AllowedCPUs\",\"ay\",[7,2]],[\"AllowedMemoryNodes\",\"ay\",[1]],"
		    "[\"IOWeight\",\"t\",4950]]");
	{
		json_t *res = J("{\"cpu\":{\"cpus\":\"3-1\"}}"), *props = json_array();
		err_free(&err);
		CHECK(cg_systemd_properties(f.h, res, props, &err) == -EINVAL);
		CHECK(err && strstr(err_msg(err), "cpu.cpus: invalid list \"3-1\""));
		json_decref(res);
		json_decref(props);
	}
	fake_free(&f);
	tap_end(before);
}

/* ---- the misc controller's sgx_epc (cgroup_misc.c) ---- */

/* A file of the root cgroup of the hierarchy at mp (V1/V2-relative), in the fake tree. */
static void put_at(struct fake *f, const char *mp, const char *name, const char *content)
{
	_cleanup_free_ char *d = NULL;

	if (asprintf(&d, "%s%s", f->root, mp) < 0)
		abort();
	mkdirs(d);
	put_file(d, name, content);
}

static void test_sgx_epc_misc(void)
{
	static const char *const mi_misc_v1 =
	    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "32 31 0:29 / /sys/fs/cgroup/misc rw,relatime - cgroup cgroup rw,misc\n"
	    "33 31 0:30 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
	static const char *const cg_misc_v1 = "1:misc:/\n0::/\n";
	_cleanup_error_ err_t err = NULL;
	int before;
	struct fake f;

	before = tap_begin("misc cgroup sgx_epc: detected from misc.capacity, never assumed; "
			   "misc.max written");
	/* v2 with the misc controller but no misc.capacity: nothing offered, nothing written */
	fake_init(&f, mi_v2, cg_v2, "memory misc", false);
	CHECK(!rune_cgroup_has_sgx_epc(f.h));
	CHECK(rune_cgroup_create(f.h, "/k8s/c1", 0, NULL, &err) == 0);
	trace_reset(&f);
	CHECK(rune_cgroup_set_sgx_epc(f.h, "/k8s/c1", 1048576, &err) == 0);
	CHECK(!trace_mentions(&f, "misc.max"));
	/* misc resources, but not sgx_epc (a host without SGX) */
	put_at(&f, V2, "misc.capacity", "res_a 10\n");
	CHECK(!rune_cgroup_has_sgx_epc(f.h));
	/* sgx_epc 0: SGX without EPC (disabled in the BIOS) */
	put_at(&f, V2, "misc.capacity", "sgx_epc 0\n");
	CHECK(!rune_cgroup_has_sgx_epc(f.h));
	/* offered: "sgx_epc N" into the container's misc.max; 0 means no limit */
	put_at(&f, V2, "misc.capacity", "res_a 10\nsgx_epc 98041856\n");
	put_at(&f, V2 "/k8s/c1", "misc.max", "sgx_epc max\n");
	CHECK(rune_cgroup_has_sgx_epc(f.h));
	CHECK(rune_cgroup_set_sgx_epc(f.h, "/k8s/c1", 1048576, &err) == 1);
	CHECK(traced(&f, V2 "/k8s/c1/misc.max sgx_epc 1048576"));
	CHECK(rune_cgroup_set_sgx_epc(f.h, "/k8s/c1", 0, &err) == 1);
	CHECK(traced(&f, V2 "/k8s/c1/misc.max sgx_epc max"));
	/* a kernel that refuses the write: the error names the file */
	CHECK(rune_cgroup_set_sgx_epc(f.h, "/k8s/gone", 4096, &err) == -ENOENT);
	CHECK(err && strstr(err_msg(err), "/k8s/gone/misc.max"));
	err_free(&err);
	fake_free(&f);
	/* misc.capacity there, but the misc controller isn't in the v2 hierarchy */
	fake_init(&f, mi_v2, cg_v2, "memory", false);
	put_at(&f, V2, "misc.capacity", "sgx_epc 98041856\n");
	CHECK(!rune_cgroup_has_sgx_epc(f.h));
	fake_free(&f);
	/* a v1 misc hierarchy (hybrid) */
	fake_init(&f, mi_misc_v1, cg_misc_v1, "", false);
	put_at(&f, V1 "/misc", "misc.capacity", "sgx_epc 98041856\n");
	CHECK(rune_cgroup_has_sgx_epc(f.h));
	CHECK(rune_cgroup_create(f.h, "/c2", 0, NULL, &err) == 0);
	put_at(&f, V1 "/misc/c2", "misc.max", "sgx_epc max\n");
	CHECK(rune_cgroup_set_sgx_epc(f.h, "/c2", 2097152, &err) == 1);
	CHECK(traced(&f, V1 "/misc/c2/misc.max sgx_epc 2097152"));
	CHECK(!trace_mentions(&f, "unified/c2/misc.max"));
	fake_free(&f);
	tap_end(before);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_detect_hybrid();
	test_detect_v1();
	test_detect_v2();
	test_detect_errors();
	test_resolve();
	test_resolve_systemd();
	test_create_v1();
	test_create_v1_moves_pid();
	test_memory_order_v1();
	test_devices_update_v1();
	test_check_before_update();
	test_create_v2();
	test_v2_subtree_and_update();
	test_errors_v1();
	test_errors_v2();
	test_create_bad_path();
	test_destroy();
	test_pids();
	test_freezer();
	test_stats();
	test_oom();
	test_conversions();
	test_allow_device();
	test_bpf_prog();
	test_bpf_verifier();
	test_systemd_properties();
	test_sgx_epc_misc();
	return tap_exit();
}
