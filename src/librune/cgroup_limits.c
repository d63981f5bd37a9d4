/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.resources to cgroup files: v1 files where the controller sits on a
 * v1 hierarchy, v2 files (with runc's conversions) where it sits on cgroup2.
 * Every error names the resource ("memory.limit: ...").
 */
#include "librune/cgroup_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

struct ctx {
	const struct rune_cgroup_host *h;
	const char *path;
	bool create;
	err_t *err;
};

/* ---- runc's v1 -> v2 conversions ---- */

/* shares [2, 262144] -> weight [1, 10000], linearly (runc 1.0-1.2). */
uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

/* blkio weight [10, 1000] -> io.weight [1, 10000]. */
uint64_t cg_blkio_weight_to_io(uint64_t weight)
{
	if (weight == 0)
		return 0;
	if (weight < 10)
		weight = 10;
	return 1 + (weight - 10) * 9999 / 990;
}

/*
 * OCI swap is memory+swap; memory.swap.max is swap alone (-1: max). *set is
 * false when swap.max is to be left alone; swap == limit means no swap: 0.
 */
int cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, bool *set, err_t *err)
{
	*set = true;
	if (limit == -1 && swap == 0) {
		*out = -1;
		return 0;
	}
	if (swap == -1 || swap == 0) {
		*out = swap;
		*set = swap != 0;
		return 0;
	}
	if (limit == 0 || limit == -1)
		return err_set(err, EINVAL,
			       "memory.swap: can't set a swap limit without a memory limit");
	if (limit < 0 || swap < limit)
		return err_set(err, EINVAL,
			       "memory.swap: memory+swap (%" PRId64 ") must be >= memory (%" PRId64
			       ")",
			       swap, limit);
	*out = swap - limit;
	return 0;
}

/* ---- JSON access: 1 present, 0 absent/null, <0 wrong type ---- */

static int jint(struct ctx *c, json_t *o, const char *grp, const char *key, int64_t *v)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return err_set(c->err, EINVAL, "linux.resources.%s.%s: expected an integer", grp,
			       key);
	*v = json_integer_value(j);
	return 1;
}

static int jbool(struct ctx *c, json_t *o, const char *grp, const char *key, bool *v)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return err_set(c->err, EINVAL, "linux.resources.%s.%s: expected a boolean", grp,
			       key);
	*v = json_is_true(j);
	return 1;
}

static int jstr(struct ctx *c, json_t *o, const char *grp, const char *key, const char **v)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_string(j))
		return err_set(c->err, EINVAL, "linux.resources.%s.%s: expected a string", grp,
			       key);
	*v = json_string_value(j);
	return 1;
}

/* ---- writing ---- */

/* Lazily resolves the controller's hierarchy for the first field that needs it. */
static int target(struct ctx *c, struct cg_target *t, const char *controller, const char *what)
{
	if (t->hier)
		return 0;
	return cg_target_get(c->h, c->path, controller, what, t, c->err);
}

static int put(struct ctx *c, struct cg_target *t, const char *what, const char *file,
	       const char *value)
{
	int r = cg_write(c->h, t->dir, file, value, c->err);

	return r < 0 ? err_wrap(c->err, "%s", what) : 0;
}

static int putf(struct ctx *c, struct cg_target *t, const char *what, const char *file,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int putf(struct ctx *c, struct cg_target *t, const char *what, const char *file,
		const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cg_vwritef(c->h, t->dir, file, c->err, fmt, ap);
	va_end(ap);
	return r < 0 ? err_wrap(c->err, "%s", what) : 0;
}

static int unsupported(struct ctx *c, const char *what, const char *why)
{
	return err_set(c->err, EOPNOTSUPP, "%s: %s", what, why);
}

/* v1 limits take -1 for unlimited; v2 takes "max". */
static int put_limit(struct ctx *c, struct cg_target *t, const char *what, const char *file,
		     int64_t v)
{
	if (t->hier->v2 && v < 0)
		return put(c, t, what, file, "max");
	return putf(c, t, what, file, "%" PRId64, v);
}

/* ---- memory ---- */

struct mem {
	int64_t limit, reservation, swap, kernel, kernel_tcp, swappiness;
	bool has_limit, has_res, has_swap, has_kernel, has_ktcp, has_swappiness;
	bool disable_oom, use_hier, check;
	bool has_disable_oom, has_use_hier;
};

static int mem_parse(struct ctx *c, json_t *o, struct mem *m)
{
	int r;

	memset(m, 0, sizeof(*m));
#define I(k, f, h)                                                                                 \
	r = jint(c, o, "memory", k, &m->f);                                                        \
	if (r < 0)                                                                                 \
		return r;                                                                          \
	m->h = r && m->f != 0
	I("limit", limit, has_limit);
	I("reservation", reservation, has_res);
	I("swap", swap, has_swap);
	I("kernel", kernel, has_kernel);
	I("kernelTCP", kernel_tcp, has_ktcp);
	r = jint(c, o, "memory", "swappiness", &m->swappiness);
	if (r < 0)
		return r;
	/* runc: -1 (or absent) means "leave alone". */
	m->has_swappiness = r && m->swappiness != -1;
#undef I
	r = jbool(c, o, "memory", "disableOOMKiller", &m->disable_oom);
	if (r < 0)
		return r;
	m->has_disable_oom = r;
	r = jbool(c, o, "memory", "useHierarchy", &m->use_hier);
	if (r < 0)
		return r;
	m->has_use_hier = r;
	r = jbool(c, o, "memory", "checkBeforeUpdate", &m->check);
	return r < 0 ? r : 0;
}

static bool mem_any(const struct mem *m)
{
	return m->has_limit || m->has_res || m->has_swap || m->has_kernel || m->has_ktcp ||
	       m->has_swappiness || m->has_disable_oom || m->has_use_hier;
}

/* runc update's checkBeforeUpdate: refuse a limit below what is already used. */
static int mem_check_usage(struct ctx *c, struct cg_target *t, const struct mem *m)
{
	uint64_t usage;
	int r;

	if (!m->check || c->create || !m->has_limit || m->limit < 0)
		return 0;
	r = cg_read_u64(t->dir, t->hier->v2 ? "memory.current" : "memory.usage_in_bytes", &usage,
			c->err);
	if (r < 0)
		return err_wrap(c->err, "memory.checkBeforeUpdate");
	if ((uint64_t)m->limit < usage)
		return err_set(c->err, EBUSY,
			       "memory.limit: %" PRId64 " is below the current usage %" PRIu64,
			       m->limit, usage);
	return 0;
}

static int mem_v1_limit_swap(struct ctx *c, struct cg_target *t, struct mem *m)
{
	uint64_t cur = 0;
	int r;

	/* runc: unlimited memory with no swap given means unlimited swap too. */
	if (m->has_limit && m->limit == -1 && !m->has_swap) {
		m->swap = -1;
		m->has_swap = cg_has_file(t->dir, "memory.memsw.limit_in_bytes");
	}
	if (!(m->has_limit && m->has_swap)) {
		if (m->has_limit) {
			r = put_limit(c, t, "memory.limit", "memory.limit_in_bytes", m->limit);
			if (r < 0)
				return r;
		}
		if (m->has_swap)
			return put_limit(c, t, "memory.swap", "memory.memsw.limit_in_bytes",
					 m->swap);
		return 0;
	}
	/* memsw must stay >= memory at every step: raise memsw first when growing. */
	r = cg_read_u64(t->dir, "memory.limit_in_bytes", &cur, c->err);
	if (r < 0)
		return err_wrap(c->err, "memory.limit");
	if (m->swap == -1 || cur < (uint64_t)m->swap) {
		r = put_limit(c, t, "memory.swap", "memory.memsw.limit_in_bytes", m->swap);
		if (r == 0)
			r = put_limit(c, t, "memory.limit", "memory.limit_in_bytes", m->limit);
	} else {
		r = put_limit(c, t, "memory.limit", "memory.limit_in_bytes", m->limit);
		if (r == 0)
			r = put_limit(c, t, "memory.swap", "memory.memsw.limit_in_bytes", m->swap);
	}
	return r;
}

static int mem_v1(struct ctx *c, struct cg_target *t, struct mem *m)
{
	int r = mem_v1_limit_swap(c, t, m);

	if (r == 0 && m->has_res)
		r = put_limit(c, t, "memory.reservation", "memory.soft_limit_in_bytes",
			      m->reservation);
	if (r == 0 && m->has_kernel)
		r = put_limit(c, t, "memory.kernel", "memory.kmem.limit_in_bytes", m->kernel);
	if (r == 0 && m->has_ktcp)
		r = put_limit(c, t, "memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes",
			      m->kernel_tcp);
	if (r == 0 && m->has_swappiness) {
		if (m->swappiness < 0 || m->swappiness > 100)
			return err_set(c->err, EINVAL,
				       "memory.swappiness: %" PRId64 " is outside 0-100",
				       m->swappiness);
		r = putf(c, t, "memory.swappiness", "memory.swappiness", "%" PRId64, m->swappiness);
	}
	if (r == 0 && m->has_disable_oom && m->disable_oom)
		r = put(c, t, "memory.disableOOMKiller", "memory.oom_control", "1");
	if (r == 0 && m->has_use_hier)
		r = put(c, t, "memory.useHierarchy", "memory.use_hierarchy",
			m->use_hier ? "1" : "0");
	return r;
}

static int mem_v2(struct ctx *c, struct cg_target *t, struct mem *m)
{
	int64_t swap = 0;
	bool set_swap;
	int r;

	if (m->has_kernel || m->has_ktcp)
		return unsupported(c, m->has_kernel ? "memory.kernel" : "memory.kernelTCP",
				   "kernel memory limits do not exist on cgroup v2");
	if (m->has_swappiness)
		return unsupported(c, "memory.swappiness", "not available on cgroup v2");
	if (m->has_disable_oom && m->disable_oom)
		return unsupported(c, "memory.disableOOMKiller", "not available on cgroup v2");
	if (m->has_use_hier && !m->use_hier)
		return unsupported(c, "memory.useHierarchy",
				   "cgroup v2 is always hierarchical; false is not possible");
	r = cg_swap_v2(m->has_swap ? m->swap : 0, m->has_limit ? m->limit : 0, &swap, &set_swap,
		       c->err);
	if (r < 0)
		return r;
	/* Swap first, as runc does. */
	if (set_swap) {
		r = put_limit(c, t, "memory.swap", "memory.swap.max", swap);
		if (r < 0)
			return r;
	}
	if (m->has_limit) {
		r = put_limit(c, t, "memory.limit", "memory.max", m->limit);
		if (r < 0)
			return r;
	}
	if (m->has_res)
		return put_limit(c, t, "memory.reservation", "memory.low", m->reservation);
	return 0;
}

static int apply_memory(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	struct mem m;
	int r;

	r = mem_parse(c, o, &m);
	if (r < 0 || !mem_any(&m))
		return r;
	r = target(c, &t, "memory", "memory");
	if (r == 0)
		r = mem_check_usage(c, &t, &m);
	if (r == 0)
		r = t.hier->v2 ? mem_v2(c, &t, &m) : mem_v1(c, &t, &m);
	cg_target_clear(&t);
	return r;
}

/* ---- cpu, cpuset ---- */

struct cpu {
	int64_t shares, quota, burst, period, rt_runtime, rt_period, idle;
	bool has_shares, has_quota, has_burst, has_period, has_rt_runtime, has_rt_period, has_idle;
};

static int cpu_parse(struct ctx *c, json_t *o, struct cpu *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	/* 0 means unset for these, as in runc. */
#define I(k, f, h, zero_unset)                                                                     \
	r = jint(c, o, "cpu", k, &p->f);                                                           \
	if (r < 0)                                                                                 \
		return r;                                                                          \
	p->h = r && (!(zero_unset) || p->f != 0)
	I("shares", shares, has_shares, true);
	I("quota", quota, has_quota, true);
	I("burst", burst, has_burst, false);
	I("period", period, has_period, true);
	I("realtimeRuntime", rt_runtime, has_rt_runtime, true);
	I("realtimePeriod", rt_period, has_rt_period, true);
	I("idle", idle, has_idle, false);
#undef I
	return 0;
}

static bool cpu_any(const struct cpu *p)
{
	return p->has_shares || p->has_quota || p->has_burst || p->has_period ||
	       p->has_rt_runtime || p->has_rt_period || p->has_idle;
}

static int cpu_v1_shares(struct ctx *c, struct cg_target *t, const struct cpu *p)
{
	uint64_t got;
	int r;

	r = putf(c, t, "cpu.shares", "cpu.shares", "%" PRId64, p->shares);
	if (r < 0)
		return r;
	/* The kernel clamps silently; runc reports it, so do we. */
	r = cg_read_u64(t->dir, "cpu.shares", &got, c->err);
	if (r < 0)
		return err_wrap(c->err, "cpu.shares");
	if (got != (uint64_t)p->shares)
		return err_set(c->err, ERANGE,
			       "cpu.shares: the kernel set %" PRIu64 " instead of %" PRId64
			       " (range 2-262144)",
			       got, p->shares);
	return 0;
}

static int cpu_v1_bandwidth(struct ctx *c, struct cg_target *t, const struct cpu *p)
{
	int r = 0;

	if (p->has_period) {
		r = putf(c, t, "cpu.period", "cpu.cfs_period_us", "%" PRId64, p->period);
		/* The old quota may not fit the new period: set the quota, then retry. */
		if (r == -EINVAL && p->has_quota) {
			err_free(c->err);
			r = putf(c, t, "cpu.quota", "cpu.cfs_quota_us", "%" PRId64, p->quota);
			if (r == 0)
				r = putf(c, t, "cpu.period", "cpu.cfs_period_us", "%" PRId64,
					 p->period);
		}
		if (r < 0)
			return r;
	}
	if (p->has_quota)
		r = putf(c, t, "cpu.quota", "cpu.cfs_quota_us", "%" PRId64, p->quota);
	if (r == 0 && p->has_burst)
		r = putf(c, t, "cpu.burst", "cpu.cfs_burst_us", "%" PRId64, p->burst);
	return r;
}

/*
 * A v1 cgroup's RT runtime must fit in its parent's, and new cgroups start
 * with 0: give each ancestor below the mount at least the runtime asked for.
 */
static int rt_runtime_ancestors(struct ctx *c, struct cg_target *t, int64_t runtime)
{
	size_t base = strlen(t->hier->mountpoint);
	_cleanup_free_ char *dir = strdup(t->dir);

	if (dir == NULL)
		return -ENOMEM;
	for (size_t i = base + 1; dir[i]; i++) {
		uint64_t cur = 0;

		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (cg_read_u64(dir, "cpu.rt_runtime_us", &cur, NULL) == 0 &&
		    (int64_t)cur < runtime &&
		    cg_writef(c->h, dir, "cpu.rt_runtime_us", NULL, "%" PRId64, runtime) < 0) {
			dir[i] = '/';
			return -EINVAL;
		}
		dir[i] = '/';
	}
	return 0;
}

static int cpu_v1_rt(struct ctx *c, struct cg_target *t, const struct cpu *p)
{
	int r = 0;

	/* Period before runtime: the runtime must fit in the period. */
	if (p->has_rt_period)
		r = putf(c, t, "cpu.realtimePeriod", "cpu.rt_period_us", "%" PRId64, p->rt_period);
	if (r < 0 || !p->has_rt_runtime)
		return r;
	r = putf(c, t, "cpu.realtimeRuntime", "cpu.rt_runtime_us", "%" PRId64, p->rt_runtime);
	if (r == -EINVAL && rt_runtime_ancestors(c, t, p->rt_runtime) == 0) {
		err_free(c->err);
		r = putf(c, t, "cpu.realtimeRuntime", "cpu.rt_runtime_us", "%" PRId64,
			 p->rt_runtime);
	}
	return r;
}

static int cpu_v1(struct ctx *c, struct cg_target *t, const struct cpu *p)
{
	int r = 0;

	if (p->has_shares)
		r = cpu_v1_shares(c, t, p);
	if (r == 0)
		r = cpu_v1_bandwidth(c, t, p);
	if (r == 0)
		r = cpu_v1_rt(c, t, p);
	if (r == 0 && p->has_idle)
		r = putf(c, t, "cpu.idle", "cpu.idle", "%" PRId64, p->idle);
	return r;
}

/* cpu.max is "QUOTA PERIOD": keep whichever half was not given. */
static int cpu_v2_max(struct ctx *c, struct cg_target *t, const struct cpu *p)
{
	_cleanup_free_ char *cur = NULL, *quota = NULL;
	uint64_t period = 100000;
	char *sp;

	if (cg_read(t->dir, "cpu.max", &cur, NULL) == 0 && (sp = strchr(cur, ' ')) != NULL) {
		*sp = '\0';
		period = strtoull(sp + 1, NULL, 10);
		quota = strdup(cur);
	}
	if (p->has_period)
		period = (uint64_t)p->period;
	if (p->has_quota) {
		free(quota);
		quota = NULL;
		if (p->quota > 0 && asprintf(&quota, "%" PRId64, p->quota) < 0)
			quota = NULL;
	}
	return putf(c, t, p->has_quota ? "cpu.quota" : "cpu.period", "cpu.max", "%s %" PRIu64,
		    quota ? quota : "max", period);
}

static int cpu_v2(struct ctx *c, struct cg_target *t, const struct cpu *p)
{
	int r = 0;

	if (p->has_rt_runtime || p->has_rt_period)
		return unsupported(c,
				   p->has_rt_runtime ? "cpu.realtimeRuntime" : "cpu.realtimePeriod",
				   "realtime CPU limits do not exist on cgroup v2");
	if (p->has_shares)
		r = putf(c, t, "cpu.shares", "cpu.weight", "%" PRIu64,
			 cg_shares_to_weight((uint64_t)p->shares));
	if (r == 0 && (p->has_quota || p->has_period))
		r = cpu_v2_max(c, t, p);
	if (r == 0 && p->has_burst)
		r = putf(c, t, "cpu.burst", "cpu.max.burst", "%" PRId64, p->burst);
	if (r == 0 && p->has_idle)
		r = putf(c, t, "cpu.idle", "cpu.idle", "%" PRId64, p->idle);
	return r;
}

static int apply_cpuset(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	const char *cpus = NULL, *mems = NULL;
	int r;

	r = jstr(c, o, "cpu", "cpus", &cpus);
	if (r >= 0)
		r = jstr(c, o, "cpu", "mems", &mems);
	if (r < 0)
		return r;
	if (cpus && *cpus) {
		r = target(c, &t, "cpuset", "cpu.cpus");
		if (r == 0)
			r = put(c, &t, "cpu.cpus", "cpuset.cpus", cpus);
	}
	if (r == 0 && mems && *mems) {
		r = target(c, &t, "cpuset", "cpu.mems");
		if (r == 0)
			r = put(c, &t, "cpu.mems", "cpuset.mems", mems);
	}
	cg_target_clear(&t);
	return r;
}

static int apply_cpu(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	struct cpu p;
	int r;

	r = cpu_parse(c, o, &p);
	if (r < 0)
		return r;
	if (cpu_any(&p)) {
		r = target(c, &t, "cpu", "cpu");
		if (r == 0)
			r = t.hier->v2 ? cpu_v2(c, &t, &p) : cpu_v1(c, &t, &p);
		cg_target_clear(&t);
		if (r < 0)
			return r;
	}
	return apply_cpuset(c, o);
}

/* ---- pids ---- */

static int apply_pids(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	int64_t limit;
	int r;

	r = jint(c, o, "pids", "limit", &limit);
	if (r <= 0 || limit == 0) /* runc: 0 leaves it alone */
		return r;
	r = target(c, &t, "pids", "pids.limit");
	if (r == 0)
		r = limit > 0 ? putf(c, &t, "pids.limit", "pids.max", "%" PRId64, limit)
			      : put(c, &t, "pids.limit", "pids.max", "max");
	cg_target_clear(&t);
	return r;
}

/* ---- blockIO ---- */

static int dev_num(struct ctx *c, json_t *e, const char *what, int64_t *maj, int64_t *min)
{
	json_t *a = json_object_get(e, "major"), *b = json_object_get(e, "minor");

	if (!json_is_integer(a) || !json_is_integer(b) || json_integer_value(a) < 0 ||
	    json_integer_value(b) < 0)
		return err_set(c->err, EINVAL, "linux.resources.%s: major and minor are required",
			       what);
	*maj = json_integer_value(a);
	*min = json_integer_value(b);
	return 0;
}

static int blkio_throttles(struct ctx *c, struct cg_target *t, json_t *o)
{
	static const struct {
		const char *key, *v1file, *v2key;
	} th[] = {
		{ "throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps" },
		{ "throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps" },
		{ "throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops" },
		{ "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops" },
	};

	for (size_t k = 0; k < ARRAY_SIZE(th); k++) {
		json_t *arr = json_object_get(o, th[k].key), *e;
		size_t i;

		json_array_foreach(arr, i, e)
		{
			char what[64];
			int64_t maj, min, rate;
			int r;

			snprintf(what, sizeof(what), "blockIO.%s[%zu]", th[k].key, i);
			r = dev_num(c, e, what, &maj, &min);
			if (r == 0 && jint(c, e, what, "rate", &rate) <= 0)
				r = err_set(c->err, EINVAL, "linux.resources.%s.rate: required",
					    what);
			if (r < 0)
				return r;
			if (t->hier->v2 && rate == 0)
				r = putf(c, t, what, "io.max", "%" PRId64 ":%" PRId64 " %s=max",
					 maj, min, th[k].v2key);
			else if (t->hier->v2)
				r = putf(c, t, what, "io.max",
					 "%" PRId64 ":%" PRId64 " %s=%" PRId64, maj, min,
					 th[k].v2key, rate);
			else
				r = putf(c, t, what, th[k].v1file,
					 "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, rate);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Weight files exist only with a scheduler that weighs (BFQ; CFQ before Linux 5.0). */
static int need_weight_file(struct ctx *c, struct cg_target *t, const char *what, const char *file)
{
	char why[128];

	if (cg_has_file(t->dir, file))
		return 0;
	snprintf(why, sizeof(why),
		 "this kernel has no %s (blkio weights need the BFQ I/O scheduler)", file);
	return unsupported(c, what, why);
}

/* Weight files: BFQ's take blkio's 10-1000 range as is, the others need converting on v2. */
static int blkio_weights(struct ctx *c, struct cg_target *t, json_t *o)
{
	bool v2 = t->hier->v2;
	bool bfq = cg_has_file(t->dir, v2 ? "io.bfq.weight" : "blkio.bfq.weight");
	const char *wfile = v2 ? (bfq ? "io.bfq.weight" : "io.weight")
			       : (bfq ? "blkio.bfq.weight" : "blkio.weight");
	const char *wdfile = v2	   ? "io.bfq.weight"
			     : bfq ? "blkio.bfq.weight_device"
				   : "blkio.weight_device";
	json_t *arr = json_object_get(o, "weightDevice"), *e;
	int64_t w = 0;
	size_t i;
	int r;

	r = jint(c, o, "blockIO", "weight", &w);
	if (r > 0 && w != 0) {
		uint64_t val = v2 && !bfq ? cg_blkio_weight_to_io((uint64_t)w) : (uint64_t)w;

		r = need_weight_file(c, t, "blockIO.weight", wfile);
		if (r == 0)
			r = putf(c, t, "blockIO.weight", wfile, "%" PRIu64, val);
	}
	if (r == 0 && jint(c, o, "blockIO", "leafWeight", &w) > 0 && w != 0) {
		if (v2)
			r = unsupported(c, "blockIO.leafWeight", "not available on cgroup v2");
		else if ((r = need_weight_file(c, t, "blockIO.leafWeight", "blkio.leaf_weight")) ==
			 0)
			r = putf(c, t, "blockIO.leafWeight", "blkio.leaf_weight", "%" PRId64, w);
	}
	if (r < 0)
		return r;
	json_array_foreach(arr, i, e)
	{
		char what[48];
		int64_t maj, min, dw = 0, lw = 0;

		snprintf(what, sizeof(what), "blockIO.weightDevice[%zu]", i);
		r = dev_num(c, e, what, &maj, &min);
		if (r < 0)
			return r;
		if (jint(c, e, what, "weight", &dw) > 0 && dw != 0) {
			if (v2 && !bfq)
				return unsupported(c, what,
						   "per-device weights need the BFQ I/O scheduler "
						   "(no io.bfq.weight)");
			if ((r = need_weight_file(c, t, what, wdfile)) == 0)
				r = putf(c, t, what, wdfile, "%" PRId64 ":%" PRId64 " %" PRId64,
					 maj, min, dw);
		}
		if (r == 0 && jint(c, e, what, "leafWeight", &lw) > 0 && lw != 0) {
			if (v2)
				r = unsupported(c, what,
						"leafWeight is not available on cgroup v2");
			else if ((r = need_weight_file(c, t, what, "blkio.leaf_weight_device")) ==
				 0)
				r = putf(c, t, what, "blkio.leaf_weight_device",
					 "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, lw);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static bool blkio_any(json_t *o)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) == 0) ||
		    (json_is_array(v) && json_array_size(v) == 0))
			continue;
		return true;
	}
	return false;
}

static int apply_blkio(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	int r;

	if (!blkio_any(o))
		return 0;
	r = target(c, &t, "blkio", "blockIO");
	if (r == 0)
		r = blkio_weights(c, &t, o);
	if (r == 0)
		r = blkio_throttles(c, &t, o);
	cg_target_clear(&t);
	return r;
}

/* ---- hugetlb ---- */

static bool valid_page_size(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && (s[n] == 'K' || s[n] == 'M' || s[n] == 'G') && s[n + 1] == 'B' &&
	       s[n + 2] == '\0';
}

static int hugetlb_one(struct ctx *c, struct cg_target *t, json_t *e, size_t i)
{
	const char *size = NULL;
	char what[48], file[64], rsvd[64];
	int64_t limit = 0;
	int r;

	snprintf(what, sizeof(what), "hugepageLimits[%zu]", i);
	r = jstr(c, e, what, "pageSize", &size);
	if (r == 0 || (r > 0 && !valid_page_size(size)))
		return err_set(c->err, EINVAL, "linux.resources.%s.pageSize: expected e.g. \"2MB\"",
			       what);
	if (r > 0)
		r = jint(c, e, what, "limit", &limit);
	if (r <= 0)
		return r < 0 ? r
			     : err_set(c->err, EINVAL, "linux.resources.%s.limit: required", what);
	snprintf(file, sizeof(file), "hugetlb.%s.%s", size, t->hier->v2 ? "max" : "limit_in_bytes");
	snprintf(rsvd, sizeof(rsvd), "hugetlb.%s.rsvd.%s", size,
		 t->hier->v2 ? "max" : "limit_in_bytes");
	if (!cg_has_file(t->dir, file))
		return err_set(c->err, EOPNOTSUPP,
			       "%s: page size %s is not supported on this host (no %s/%s)", what,
			       size, t->dir, file);
	r = put_limit(c, t, what, file, limit);
	/* Reservations are charged separately when the kernel has them (runc does both). */
	if (r == 0 && cg_has_file(t->dir, rsvd))
		r = put_limit(c, t, what, rsvd, limit);
	return r;
}

static int apply_hugetlb(struct ctx *c, json_t *arr)
{
	struct cg_target t = { 0 };
	json_t *e;
	size_t i;
	int r = 0;

	if (json_array_size(arr) == 0)
		return 0;
	r = target(c, &t, "hugetlb", "hugepageLimits");
	json_array_foreach(arr, i, e)
	{
		if (r == 0)
			r = hugetlb_one(c, &t, e, i);
	}
	cg_target_clear(&t);
	return r;
}

/* ---- network ---- */

static int apply_network(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	json_t *prios = json_object_get(o, "priorities"), *e;
	int64_t classid;
	size_t i;
	int r;

	r = jint(c, o, "network", "classID", &classid);
	if (r > 0) {
		r = target(c, &t, "net_cls", "network.classID");
		if (r == 0)
			r = putf(c, &t, "network.classID", "net_cls.classid", "%" PRId64, classid);
		cg_target_clear(&t);
	}
	if (r < 0)
		return r;
	json_array_foreach(prios, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		json_t *p = json_object_get(e, "priority");
		char what[48];

		snprintf(what, sizeof(what), "network.priorities[%zu]", i);
		if (name == NULL || !json_is_integer(p))
			r = err_set(c->err, EINVAL,
				    "linux.resources.%s: name and priority are required", what);
		if (r == 0)
			r = target(c, &t, "net_prio", what);
		if (r == 0)
			r = putf(c, &t, what, "net_prio.ifpriomap", "%s %" JSON_INTEGER_FORMAT,
				 name, json_integer_value(p));
		if (r < 0)
			break;
	}
	cg_target_clear(&t);
	return r;
}

/* ---- rdma ---- */

static int apply_rdma(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	const char *dev;
	json_t *lim;
	int r = 0;

	json_object_foreach(o, dev, lim)
	{
		char what[128], buf[96] = "";
		int64_t v;
		size_t n = 0;

		snprintf(what, sizeof(what), "rdma.%s", dev);
		if (jint(c, lim, what, "hcaHandles", &v) > 0)
			n += snprintf(buf + n, sizeof(buf) - n, " hca_handle=%" PRId64, v);
		if (jint(c, lim, what, "hcaObjects", &v) > 0)
			n += snprintf(buf + n, sizeof(buf) - n, " hca_object=%" PRId64, v);
		if (c->err && *c->err)
			r = -EINVAL;
		if (r == 0 && n > 0)
			r = target(c, &t, "rdma", what);
		if (r == 0 && n > 0)
			r = putf(c, &t, what, "rdma.max", "%s%s", dev, buf);
		if (r < 0)
			break;
	}
	cg_target_clear(&t);
	return r;
}

/* ---- unified ---- */

static const struct rune_cgroup_hierarchy *v2_hier(const struct rune_cgroup_host *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->hier[i].v2)
			return &h->hier[i];
	return NULL;
}

static int apply_unified(struct ctx *c, json_t *o)
{
	struct cg_target t = { 0 };
	const char *key;
	json_t *v;
	int r = 0;

	if (json_object_size(o) == 0)
		return 0;
	t.hier = v2_hier(c->h);
	/* runc's words ("cannot use unified on cgroup v1"), with the reason. */
	if (t.hier == NULL)
		return unsupported(c, "unified",
				   "cannot use unified on cgroup v1 (cgroup v2 is not mounted on "
				   "this host)");
	t.dir = rune_cgroup_dir(t.hier, c->path);
	if (t.dir == NULL)
		return err_sys(c->err, ENOMEM, "unified");
	json_object_foreach(o, key, v)
	{
		char what[160];

		snprintf(what, sizeof(what), "unified.%s", key);
		if (!json_is_string(v))
			r = err_set(c->err, EINVAL, "linux.resources.%s: expected a string", what);
		else if (strchr(key, '/') || key[0] == '.' || !strchr(key, '.'))
			r = err_set(c->err, EINVAL, "linux.resources.%s: not a cgroup file name",
				    what);
		else if (!cg_has_file(t.dir, key) && rune_cgroup_layout(c->h) != RUNE_CGROUP_V2)
			r = unsupported(c, what,
					"cannot use unified on cgroup v1: no such file in the "
					"cgroup v2 hierarchy (its controller is on a v1 one)");
		else if (!cg_has_file(t.dir, key))
			r = unsupported(c, what,
					"no such file in the cgroup (controller not available "
					"on the v2 hierarchy?)");
		else
			r = put(c, &t, what, key, json_string_value(v));
		if (r < 0)
			break;
	}
	cg_target_clear(&t);
	return r;
}

/* ---- devices ---- */

/* runc's allow list, appended after the config's rules. */
static const char *const default_devices[] = {
	"c * * m",   "b * * m",	  "c 1 3 rwm", "c 1 8 rwm",   "c 1 7 rwm", "c 5 0 rwm",
	"c 1 5 rwm", "c 1 9 rwm", "c 5 1 rwm", "c 136 * rwm", "c 5 2 rwm", "c 10 200 rwm",
};

static int add_rule(json_t *arr, const char *spec)
{
	char type[2] = { spec[0], 0 }, maj[8], min[8], acc[8];
	json_t *r;

	if (sscanf(spec + 2, "%7s %7s %7s", maj, min, acc) != 3)
		return -EINVAL;
	r = json_pack("{s:b, s:s, s:s}", "allow", 1, "type", type, "access", acc);
	if (r == NULL)
		return -ENOMEM;
	if (maj[0] != '*')
		json_object_set_new(r, "major", json_integer(atoi(maj)));
	if (min[0] != '*')
		json_object_set_new(r, "minor", json_integer(atoi(min)));
	return json_array_append_new(arr, r) < 0 ? -ENOMEM : 0;
}

/* deny all + the config's rules + the defaults, the list runc enforces. */
static json_t *device_rules(json_t *configured)
{
	json_t *all = json_array(), *e;
	size_t i;

	if (all == NULL)
		return NULL;
	if (json_array_append_new(all, json_pack("{s:b, s:s}", "allow", 0, "access", "rwm")) < 0)
		goto fail;
	json_array_foreach(configured, i, e)
	{
		if (json_array_append(all, e) < 0)
			goto fail;
	}
	for (i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (add_rule(all, default_devices[i]) < 0)
			goto fail;
	return all;
fail:
	json_decref(all);
	return NULL;
}

static int apply_devices(struct ctx *c, json_t *configured)
{
	json_t *rules;
	int r;

	r = cg_devices_check(configured, c->err);
	if (r < 0)
		return r;
	if (!c->create && configured == NULL)
		return 0;
	/* Without a devices controller only an explicit request is an error. */
	if (rune_cgroup_controller(c->h, "devices") == NULL) {
		if (json_array_size(configured) == 0)
			return 0;
		return unsupported(c, "devices", "no devices controller on this host");
	}
	rules = device_rules(configured);
	if (rules == NULL)
		return err_sys(c->err, ENOMEM, "devices");
	r = cg_apply_devices(c->h, c->path, rules, c->create, c->err);
	json_decref(rules);
	return r;
}

/* ---- all ---- */

static int check_object(struct ctx *c, json_t *res, const char *key, json_t **out)
{
	json_t *v = json_object_get(res, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (strcmp(key, "hugepageLimits") == 0 ? !json_is_array(v) : !json_is_object(v))
		return err_set(c->err, EINVAL, "linux.resources.%s: expected an %s", key,
			       strcmp(key, "hugepageLimits") == 0 ? "array" : "object");
	*out = v;
	return 0;
}

int cg_apply_resources(const struct rune_cgroup_host *h, const char *path, json_t *res, bool create,
		       err_t *err)
{
	static const struct {
		const char *key;
		int (*fn)(struct ctx *, json_t *);
	} groups[] = {
		{ "memory", apply_memory },
		{ "cpu", apply_cpu },
		{ "pids", apply_pids },
		{ "blockIO", apply_blkio },
		{ "hugepageLimits", apply_hugetlb },
		{ "network", apply_network },
		{ "rdma", apply_rdma },
		{ "unified", apply_unified },
	};
	struct ctx c = { h, path, create, err };
	int r;

	if (res && !json_is_object(res))
		return err_set(err, EINVAL, "linux.resources: expected an object");
	r = apply_devices(&c, json_object_get(res, "devices"));
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(groups); i++) {
		json_t *v;

		r = check_object(&c, res, groups[i].key, &v);
		if (r == 0 && v)
			r = groups[i].fn(&c, v);
	}
	return r;
}
