/* SPDX-License-Identifier: Apache-2.0 */
/* `events` support: runc's stats object, and OOM notification fds. */
#include "librune/cgroup_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/cleanup.h"

/* ---- JSON helpers: runc's omitempty fields are left out when zero ---- */

static void put_u64(json_t *o, const char *key, uint64_t v)
{
	json_int_t j =
	    v == UINT64_MAX ? RUNE_STATS_UNLIMITED : (json_int_t)(v > INT64_MAX ? INT64_MAX : v);

	json_object_set_new(o, key, json_integer(j));
}

static uint64_t get_u64(json_t *o, const char *key)
{
	json_int_t j = json_integer_value(json_object_get(o, key));

	return j == RUNE_STATS_UNLIMITED ? UINT64_MAX : (uint64_t)j;
}

char *rune_cgroup_stats_dumps(json_t *j)
{
	static const char sentinel[] = "-9223372036854775808", unlimited[] = "18446744073709551615";
	char *text = json_dumps(j, JSON_COMPACT), *p = text;

	_Static_assert(sizeof(sentinel) == sizeof(unlimited), "replaced in place");
	while (p && (p = strstr(p, sentinel)) != NULL)
		memcpy(p, unlimited, sizeof(unlimited) - 1);
	return text;
}

static void put_oe(json_t *o, const char *key, uint64_t v)
{
	if (v)
		put_u64(o, key, v);
}

static uint64_t file_u64(const char *dir, const char *file)
{
	uint64_t v = 0;

	if (cg_read_u64(dir, file, &v, NULL) < 0)
		return 0;
	return v;
}

static json_t *u64_list(const char *text)
{
	json_t *a = json_array();
	const char *p = text;
	char *end;

	while (a && p && *p) {
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p)
			break;
		json_array_append_new(a, json_integer((json_int_t)v));
		p = end;
	}
	return a;
}

static json_t *file_list(const char *dir, const char *file)
{
	_cleanup_free_ char *s = NULL;

	if (cg_read(dir, file, &s, NULL) < 0)
		return NULL;
	return u64_list(s);
}

/* ---- cpu ---- */

static void cpu_v1(const char *acct, const char *cpu, json_t *usage, json_t *thr)
{
	_cleanup_free_ char *stat = NULL;
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t v = 0;
	json_t *l;

	if (acct) {
		put_oe(usage, "total", file_u64(acct, "cpuacct.usage"));
		if ((l = file_list(acct, "cpuacct.usage_percpu")) != NULL)
			json_object_set_new(usage, "percpu", l);
		if ((l = file_list(acct, "cpuacct.usage_percpu_sys")) != NULL)
			json_object_set_new(usage, "percpu_kernel", l);
		if ((l = file_list(acct, "cpuacct.usage_percpu_user")) != NULL)
			json_object_set_new(usage, "percpu_user", l);
		/* cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds. */
		if (cg_read(acct, "cpuacct.stat", &stat, NULL) == 0 && hz > 0) {
			if (cg_keyed_u64(stat, "user", &v) == 0)
				put_u64(usage, "user", v * (1000000000ULL / (uint64_t)hz));
			if (cg_keyed_u64(stat, "system", &v) == 0)
				put_u64(usage, "kernel", v * (1000000000ULL / (uint64_t)hz));
		}
	}
	free(stat);
	stat = NULL;
	if (cpu && cg_read(cpu, "cpu.stat", &stat, NULL) == 0) {
		if (cg_keyed_u64(stat, "nr_periods", &v) == 0)
			put_oe(thr, "periods", v);
		if (cg_keyed_u64(stat, "nr_throttled", &v) == 0)
			put_oe(thr, "throttledPeriods", v);
		if (cg_keyed_u64(stat, "throttled_time", &v) == 0)
			put_oe(thr, "throttledTime", v);
	}
}

static void cpu_v2(const char *dir, json_t *usage, json_t *thr)
{
	_cleanup_free_ char *stat = NULL;
	uint64_t v;

	if (cg_read(dir, "cpu.stat", &stat, NULL) < 0)
		return;
	/* v2 counts microseconds. */
	if (cg_keyed_u64(stat, "usage_usec", &v) == 0)
		put_oe(usage, "total", v * 1000);
	if (cg_keyed_u64(stat, "user_usec", &v) == 0)
		put_u64(usage, "user", v * 1000);
	if (cg_keyed_u64(stat, "system_usec", &v) == 0)
		put_u64(usage, "kernel", v * 1000);
	if (cg_keyed_u64(stat, "nr_periods", &v) == 0)
		put_oe(thr, "periods", v);
	if (cg_keyed_u64(stat, "nr_throttled", &v) == 0)
		put_oe(thr, "throttledPeriods", v);
	if (cg_keyed_u64(stat, "throttled_usec", &v) == 0)
		put_oe(thr, "throttledTime", v * 1000);
}

static char *dir_of(const struct rune_cgroup_host *h, const char *path, const char *ctrl, bool *v2)
{
	const struct rune_cgroup_hierarchy *hier = rune_cgroup_controller(h, ctrl);

	if (hier == NULL)
		return NULL;
	if (v2)
		*v2 = hier->v2;
	return rune_cgroup_dir(hier, path);
}

static json_t *stats_cpu(const struct rune_cgroup_host *h, const char *path)
{
	_cleanup_free_ char *acct = NULL, *cpu = NULL;
	json_t *o = json_object(), *usage = json_object(), *thr = json_object();
	bool v2 = false;

	acct = dir_of(h, path, "cpuacct", &v2);
	cpu = dir_of(h, path, "cpu", NULL);
	if (acct && v2)
		cpu_v2(acct, usage, thr);
	else
		cpu_v1(acct, cpu, usage, thr);
	json_object_set_new(o, "usage", usage);
	json_object_set_new(o, "throttling", thr);
	return o;
}

/* ---- cpuset ---- */

/* "0-3,8" -> [0,1,2,3,8] */
static json_t *cpu_list(const char *s)
{
	json_t *a = json_array();
	char *end;

	while (a && *s) {
		unsigned long lo = strtoul(s, &end, 10), hi = lo;

		if (end == s)
			break;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		for (unsigned long i = lo; i <= hi && i - lo < 65536; i++)
			json_array_append_new(a, json_integer((json_int_t)i));
		s = *end == ',' ? end + 1 : end;
	}
	return a;
}

static json_t *stats_cpuset(const struct rune_cgroup_host *h, const char *path)
{
	static const char *const flags[][2] = {
		{ "cpuset.cpu_exclusive", "cpu_exclusive" },
		{ "cpuset.mem_hardwall", "mem_hardwall" },
		{ "cpuset.mem_exclusive", "mem_exclusive" },
		{ "cpuset.memory_migrate", "memory_migrate" },
		{ "cpuset.memory_spread_page", "memory_spread_page" },
		{ "cpuset.memory_spread_slab", "memory_spread_slab" },
		{ "cpuset.memory_pressure", "memory_pressure" },
		{ "cpuset.sched_load_balance", "sched_load_balance" },
	};
	_cleanup_free_ char *dir = dir_of(h, path, "cpuset", NULL);
	_cleanup_free_ char *cpus = NULL, *mems = NULL;
	json_t *o = json_object();

	if (dir == NULL)
		return o;
	if (cg_read(dir, "cpuset.effective_cpus", &cpus, NULL) == 0 && *cpus)
		json_object_set_new(o, "cpus", cpu_list(cpus));
	if (cg_read(dir, "cpuset.effective_mems", &mems, NULL) == 0 && *mems)
		json_object_set_new(o, "mems", cpu_list(mems));
	/* v2 has none of these files; runc prints them as 0 all the same. */
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
		put_u64(o, flags[i][1],
			cg_has_file(dir, flags[i][0]) ? file_u64(dir, flags[i][0]) : 0);
	/* Signed (-1: the system default), and always present in runc's output. */
	{
		_cleanup_free_ char *level = NULL;
		long long v = 0;
		if (cg_read(dir, "cpuset.sched_relax_domain_level", &level, NULL) == 0)
			v = strtoll(level, NULL, 10);
		json_object_set_new(o, "sched_relax_domain_level", json_integer(v));
	}
	return o;
}

/* ---- memory ---- */

static json_t *mem_entry(const char *dir, const char *prefix, bool v2)
{
	json_t *e = json_object();
	char f[96];

	if (v2) {
		snprintf(f, sizeof(f), "%s.current", prefix);
		put_oe(e, "usage", file_u64(dir, f));
		snprintf(f, sizeof(f), "%s.peak", prefix);
		put_oe(e, "max", file_u64(dir, f));
		snprintf(f, sizeof(f), "%s.max", prefix);
		put_u64(e, "limit", file_u64(dir, f));
		put_u64(e, "failcnt", 0);
		return e;
	}
	snprintf(f, sizeof(f), "%s.usage_in_bytes", prefix);
	put_oe(e, "usage", file_u64(dir, f));
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", prefix);
	put_oe(e, "max", file_u64(dir, f));
	snprintf(f, sizeof(f), "%s.limit_in_bytes", prefix);
	put_u64(e, "limit", file_u64(dir, f));
	snprintf(f, sizeof(f), "%s.failcnt", prefix);
	put_u64(e, "failcnt", file_u64(dir, f));
	return e;
}

/* runc reports v2 swap as memory+swap, like v1's memsw. */
static json_t *swap_v2(const char *dir, json_t *mem)
{
	json_t *e = mem_entry(dir, "memory.swap", true);
	uint64_t mu = get_u64(mem, "usage"), ml = get_u64(mem, "limit");
	uint64_t su = get_u64(e, "usage"), sl = get_u64(e, "limit");

	put_oe(e, "usage", su + mu);
	/* Either one unlimited: unlimited (runc would wrap memory's "max" around). */
	put_u64(e, "limit", sl == UINT64_MAX || ml == UINT64_MAX ? UINT64_MAX : sl + ml);
	return e;
}

static json_t *keyed_object(const char *text)
{
	json_t *o = json_object();
	const char *l = text;

	while (o && l && *l) {
		char key[128];
		unsigned long long v;

		if (sscanf(l, "%127s %llu", key, &v) == 2)
			json_object_set_new(o, key, json_integer((json_int_t)v));
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return o;
}

static json_t *stats_memory(const struct rune_cgroup_host *h, const char *path)
{
	_cleanup_free_ char *dir = NULL, *stat = NULL, *events = NULL;
	json_t *o = json_object();
	bool v2 = false;
	uint64_t v = 0;

	dir = dir_of(h, path, "memory", &v2);
	if (dir == NULL)
		return o;
	if (cg_read(dir, "memory.stat", &stat, NULL) == 0) {
		if (cg_keyed_u64(stat, v2 ? "file" : "cache", &v) == 0)
			put_oe(o, "cache", v);
		json_object_set_new(o, "raw", keyed_object(stat));
	}
	json_object_set_new(o, "usage", mem_entry(dir, "memory", v2));
	if (v2) {
		json_t *u = json_object_get(o, "usage");

		/* memory.events "max": times the limit was hit, runc's failcnt. */
		if (cg_read(dir, "memory.events", &events, NULL) == 0 &&
		    cg_keyed_u64(events, "max", &v) == 0)
			put_u64(u, "failcnt", v);
		json_object_set_new(o, "swap", swap_v2(dir, u));
		/* v2 has no kernel memory accounting of its own; runc still prints the entries. */
		json_object_set_new(o, "kernel", json_pack("{s:i,s:i}", "limit", 0, "failcnt", 0));
		json_object_set_new(o, "kernelTCP",
				    json_pack("{s:i,s:i}", "limit", 0, "failcnt", 0));
	} else {
		json_object_set_new(o, "swap", mem_entry(dir, "memory.memsw", false));
		json_object_set_new(o, "kernel", mem_entry(dir, "memory.kmem", false));
		json_object_set_new(o, "kernelTCP", mem_entry(dir, "memory.kmem.tcp", false));
	}
	return o;
}

/* ---- pids ---- */

static json_t *stats_pids(const struct rune_cgroup_host *h, const char *path)
{
	_cleanup_free_ char *dir = dir_of(h, path, "pids", NULL);
	json_t *o = json_object();
	uint64_t max;

	if (dir == NULL)
		return o;
	put_oe(o, "current", file_u64(dir, "pids.current"));
	max = file_u64(dir, "pids.max");
	put_oe(o, "limit", max == UINT64_MAX ? 0 : max);
	return o;
}

/* ---- blkio ---- */

static void blkio_entry(json_t *arr, unsigned maj, unsigned min, const char *op, uint64_t v)
{
	json_t *e = json_object();

	put_oe(e, "major", maj);
	put_oe(e, "minor", min);
	if (op && *op)
		json_object_set_new(e, "op", json_string(op));
	put_oe(e, "value", v);
	json_array_append_new(arr, e);
}

/* v1: lines "8:0 Read 4096" (and a "Total N" line). */
static json_t *blkio_v1_list(const char *dir, const char *file)
{
	_cleanup_free_ char *text = NULL;
	json_t *a;
	const char *l;

	if (cg_read(dir, file, &text, NULL) < 0)
		return NULL;
	a = json_array();
	for (l = text; a && l && *l;) {
		unsigned maj, min;
		char op[32];
		unsigned long long v;

		if (sscanf(l, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
			blkio_entry(a, maj, min, op, v);
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return a;
}

static void blkio_v1(const char *dir, json_t *o)
{
	static const char *const map[][3] = {
		{ "ioServiceBytesRecursive", "blkio.io_service_bytes_recursive",
		  "blkio.throttle.io_service_bytes_recursive" },
		{ "ioServicedRecursive", "blkio.io_serviced_recursive",
		  "blkio.throttle.io_serviced_recursive" },
		{ "ioQueueRecursive", "blkio.io_queued_recursive", NULL },
		{ "ioServiceTimeRecursive", "blkio.io_service_time_recursive", NULL },
		{ "ioWaitTimeRecursive", "blkio.io_wait_time_recursive", NULL },
		{ "ioMergedRecursive", "blkio.io_merged_recursive", NULL },
		{ "ioTimeRecursive", "blkio.time_recursive", NULL },
		{ "sectorsRecursive", "blkio.sectors_recursive", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		/* CFQ's files when present, else the throttle layer's (what runc falls back to). */
		json_t *a = blkio_v1_list(dir, map[i][1]);

		if (a == NULL && map[i][2])
			a = blkio_v1_list(dir, map[i][2]);
		if (a && json_array_size(a))
			json_object_set_new(o, map[i][0], a);
		else
			json_decref(a);
	}
}

/* v2 io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
static void blkio_v2(const char *dir, json_t *o)
{
	_cleanup_free_ char *text = NULL;
	json_t *bytes = json_array(), *ios = json_array();

	if (cg_read(dir, "io.stat", &text, NULL) == 0) {
		for (char *l = text; l && *l;) {
			char *nl = strchr(l, '\n');
			unsigned maj, min;
			unsigned long long rb = 0, wb = 0, ri = 0, wi = 0;
			char *p;

			if (nl)
				*nl = '\0';
			if (sscanf(l, "%u:%u", &maj, &min) == 2) {
				if ((p = strstr(l, "rbytes=")))
					rb = strtoull(p + 7, NULL, 10);
				if ((p = strstr(l, "wbytes=")))
					wb = strtoull(p + 7, NULL, 10);
				if ((p = strstr(l, "rios=")))
					ri = strtoull(p + 5, NULL, 10);
				if ((p = strstr(l, "wios=")))
					wi = strtoull(p + 5, NULL, 10);
				blkio_entry(bytes, maj, min, "Read", rb);
				blkio_entry(bytes, maj, min, "Write", wb);
				blkio_entry(ios, maj, min, "Read", ri);
				blkio_entry(ios, maj, min, "Write", wi);
			}
			l = nl ? nl + 1 : NULL;
		}
	}
	if (json_array_size(bytes))
		json_object_set_new(o, "ioServiceBytesRecursive", bytes);
	else
		json_decref(bytes);
	if (json_array_size(ios))
		json_object_set_new(o, "ioServicedRecursive", ios);
	else
		json_decref(ios);
}

static json_t *stats_blkio(const struct rune_cgroup_host *h, const char *path)
{
	bool v2 = false;
	_cleanup_free_ char *dir = dir_of(h, path, "blkio", &v2);
	json_t *o = json_object();

	if (dir && v2)
		blkio_v2(dir, o);
	else if (dir)
		blkio_v1(dir, o);
	return o;
}

/* ---- hugetlb ---- */

static json_t *stats_hugetlb(const struct rune_cgroup_host *h, const char *path)
{
	bool v2 = false;
	_cleanup_free_ char *dir = dir_of(h, path, "hugetlb", &v2);
	json_t *o = json_object();
	struct dirent *e;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return o;
	/* One entry per page size: hugetlb.<size>.limit_in_bytes (v1) or .max (v2). */
	while ((e = readdir(d)) != NULL) {
		const char *suffix = v2 ? ".max" : ".limit_in_bytes";
		size_t l = strlen(e->d_name), sl = strlen(suffix);
		char size[32], f[96];
		json_t *s;

		if (strncmp(e->d_name, "hugetlb.", 8) != 0 || l <= 8 + sl ||
		    strcmp(e->d_name + l - sl, suffix) != 0 || strstr(e->d_name, ".rsvd."))
			continue;
		snprintf(size, sizeof(size), "%.*s", (int)(l - 8 - sl), e->d_name + 8);
		s = json_object();
		snprintf(f, sizeof(f), v2 ? "hugetlb.%s.current" : "hugetlb.%s.usage_in_bytes",
			 size);
		put_oe(s, "usage", file_u64(dir, f));
		if (!v2) {
			snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", size);
			put_oe(s, "max", file_u64(dir, f));
			snprintf(f, sizeof(f), "hugetlb.%s.failcnt", size);
			put_u64(s, "failcnt", file_u64(dir, f));
		} else {
			_cleanup_free_ char *ev = NULL;
			uint64_t v = 0;

			snprintf(f, sizeof(f), "hugetlb.%s.events", size);
			if (cg_read(dir, f, &ev, NULL) == 0)
				cg_keyed_u64(ev, "max", &v);
			put_u64(s, "failcnt", v);
		}
		json_object_set_new(o, size, s);
	}
	closedir(d);
	return o;
}

int rune_cgroup_stats(const struct rune_cgroup_host *h, const char *path, json_t **stats,
		      err_t *err)
{
	json_t *o;

	if (!rune_cgroup_exists(h, path))
		return err_set(err, ENOENT, "stats of cgroup %s: it does not exist", path);
	o = json_object();
	if (o == NULL)
		return err_sys(err, ENOMEM, "stats");
	json_object_set_new(o, "cpu", stats_cpu(h, path));
	json_object_set_new(o, "cpuset", stats_cpuset(h, path));
	json_object_set_new(o, "memory", stats_memory(h, path));
	json_object_set_new(o, "pids", stats_pids(h, path));
	json_object_set_new(o, "blkio", stats_blkio(h, path));
	json_object_set_new(o, "hugetlb", stats_hugetlb(h, path));
	json_object_set_new(o, "intel_rdt", json_object());
	/* runc prints it (null: a container's interfaces aren't a cgroup matter). */
	json_object_set_new(o, "network_interfaces", json_null());
	*stats = o;
	return 0;
}

/* ---- OOM notifications ---- */

struct rune_cgroup_oom {
	int fd;		/* eventfd (v1) or inotify (v2) */
	int control_fd; /* v1: memory.oom_control, kept open while registered */
	bool v2;
	char *dir;
	uint64_t last; /* v2: oom_kill count already reported */
};

void rune_cgroup_oom_close(struct rune_cgroup_oom *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->control_fd >= 0)
		close(w->control_fd);
	free(w->dir);
	free(w);
}

int rune_cgroup_oom_fd(const struct rune_cgroup_oom *w)
{
	return w->fd;
}

static uint64_t v2_oom_kills(const char *dir)
{
	_cleanup_free_ char *ev = NULL;
	uint64_t v = 0;

	if (cg_read(dir, "memory.events", &ev, NULL) == 0)
		cg_keyed_u64(ev, "oom_kill", &v);
	return v;
}

/* v1: "<eventfd> <fd of memory.oom_control>" into cgroup.event_control. */
static int oom_open_v1(const struct rune_cgroup_host *h, struct rune_cgroup_oom *w, err_t *err)
{
	_cleanup_free_ char *ctl = NULL;

	if (asprintf(&ctl, "%s/memory.oom_control", w->dir) < 0)
		return err_sys(err, ENOMEM, "oom notification");
	w->control_fd = open(ctl, O_RDONLY | O_CLOEXEC);
	if (w->control_fd < 0)
		return err_sys(err, errno, "oom notification: open %s", ctl);
	w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->fd < 0)
		return err_sys(err, errno, "oom notification: eventfd");
	return cg_writef(h, w->dir, "cgroup.event_control", err, "%d %d", w->fd, w->control_fd);
}

static int oom_open_v2(struct rune_cgroup_oom *w, err_t *err)
{
	_cleanup_free_ char *ev = NULL;

	if (asprintf(&ev, "%s/memory.events", w->dir) < 0)
		return err_sys(err, ENOMEM, "oom notification");
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0)
		return err_sys(err, errno, "oom notification: inotify");
	if (inotify_add_watch(w->fd, ev, IN_MODIFY) < 0)
		return err_sys(err, errno, "oom notification: watch %s", ev);
	w->last = v2_oom_kills(w->dir);
	return 0;
}

int rune_cgroup_oom_open(const struct rune_cgroup_host *h, const char *path,
			 struct rune_cgroup_oom **out, err_t *err)
{
	struct cg_target t;
	struct rune_cgroup_oom *w;
	int r;

	r = cg_target_get(h, path, "memory", "oom notification", &t, err);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		cg_target_clear(&t);
		return err_sys(err, ENOMEM, "oom notification");
	}
	w->fd = w->control_fd = -1;
	w->v2 = t.hier->v2;
	w->dir = steal_ptr(t.dir);
	r = w->v2 ? oom_open_v2(w, err) : oom_open_v1(h, w, err);
	if (r < 0) {
		rune_cgroup_oom_close(w);
		return r;
	}
	*out = w;
	return 0;
}

int rune_cgroup_oom_read(struct rune_cgroup_oom *w, uint64_t *count, err_t *err)
{
	char buf[4096];
	ssize_t n;

	*count = 0;
	if (!w->v2) {
		uint64_t v;

		n = read(w->fd, &v, sizeof(v));
		if (n < 0)
			return errno == EAGAIN ? 0 : err_sys(err, errno, "read oom eventfd");
		/* The eventfd also fires when the cgroup is removed. */
		if (!cg_has_file(w->dir, "cgroup.event_control"))
			return err_set(err, ENOENT, "cgroup %s is gone", w->dir);
		*count = v;
		return 0;
	}
	while ((n = read(w->fd, buf, sizeof(buf))) > 0)
		;
	if (!cg_has_file(w->dir, "memory.events"))
		return err_set(err, ENOENT, "cgroup %s is gone", w->dir);
	{
		uint64_t now = v2_oom_kills(w->dir);

		*count = now > w->last ? now - w->last : 0;
		w->last = now;
	}
	return 0;
}
