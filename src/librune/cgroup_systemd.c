/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systemd cgroup driver (--systemd-cgroup), as runc's: the container's
 * init is placed in a transient scope unit through systemd's D-Bus API
 * (StartTransientUnit, Delegate=yes), with the limits systemd manages passed
 * as unit properties so that a daemon-reload keeps them; rune then writes
 * every limit through cgroupfs as well and joins the hierarchies systemd
 * does not manage (v1 cpuset, freezer...). delete stops the unit.
 *
 * Device rules stay rune's alone: systemd gets no DevicePolicy/DeviceAllow,
 * so it never takes the devices controller and never rewrites them. (runc
 * hands systemd a subset, which a daemon-reload then writes back without
 * the wildcard rules systemd can't express.)
 *
 * sd-bus is dlopen'ed (libsystemd.so.0) only when the driver is used: the
 * cgroupfs path, which every benchmark measures, loads nothing more.
 * As root, rune talks to systemd's private socket (/run/systemd/private, as
 * systemctl does), which needs no dbus-daemon; else to the system bus.
 */
#include "librune/cgroup_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

#define SD_DEST		    "org.freedesktop.systemd1"
#define SD_PATH		    "/org/freedesktop/systemd1"
#define SD_MANAGER	    "org.freedesktop.systemd1.Manager"
#define SD_PRIVATE_SOCKET   "/run/systemd/private"
#define SD_JOB_TIMEOUT_USEC (30ULL * 1000000) /* runc's */

/* ---- unit names ---- */

int cg_systemd_unit(const char *path, char **slice, char **unit, err_t *err)
{
	const char *last = strrchr(path, '/'), *prev;

	*slice = *unit = NULL;
	if (last == NULL || last[1] == '\0')
		return err_set(err, EINVAL, "systemd cgroup path \"%s\" names no unit", path);
	for (prev = last; prev > path && prev[-1] != '/'; prev--)
		;
	*unit = strdup(last + 1);
	*slice = prev == last ? strdup("-.slice") : strndup(prev, last - prev);
	if (*unit == NULL || *slice == NULL) {
		free(*unit);
		free(*slice);
		*slice = *unit = NULL;
		return err_sys(err, ENOMEM, "systemd unit name");
	}
	return 0;
}

/* ---- linux.resources -> unit properties ---- */

static int prop_add(json_t *props, const char *name, const char *sig, json_t *value, err_t *err)
{
	if (value == NULL ||
	    json_array_append_new(props, json_pack("[ssO]", name, sig, value)) < 0) {
		json_decref(value);
		return err_sys(err, ENOMEM, "systemd property %s", name);
	}
	json_decref(value);
	return 0;
}

static int prop_u64(json_t *props, const char *name, uint64_t v, err_t *err)
{
	/* jansson holds int64: UINT64_MAX ("infinity") travels as -1. */
	return prop_add(props, name, "t", json_integer((json_int_t)v), err);
}

static bool get_int(json_t *obj, const char *key, int64_t *v)
{
	json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j))
		return false;
	*v = json_integer_value(j);
	return true;
}

static bool on_v2(const struct rune_cgroup_host *h, const char *controller)
{
	const struct rune_cgroup_hierarchy *hier = rune_cgroup_controller(h, controller);

	return hier && hier->v2;
}

/* "0-3,7" -> a little-endian CPU bitmask, systemd's AllowedCPUs "ay". */
static int cpu_list_mask(const char *name, const char *list, json_t **out, err_t *err)
{
	uint8_t mask[1024] = { 0 };
	size_t top = 0;
	const char *p = list;

	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			goto bad;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo)
				goto bad;
		}
		if (hi >= sizeof(mask) * 8)
			goto bad;
		for (unsigned long b = lo; b <= hi; b++)
			mask[b / 8] |= 1u << (b % 8);
		if (hi / 8 + 1 > top)
			top = hi / 8 + 1;
		p = end;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	*out = json_array();
	for (size_t i = 0; *out && i < top; i++)
		json_array_append_new(*out, json_integer(mask[i]));
	return *out ? 0 : err_sys(err, ENOMEM, "%s", name);
bad:
	return err_set(err, EINVAL, "%s: invalid list \"%s\"", name, list);
}

static int memory_props(const struct rune_cgroup_host *h, json_t *props, json_t *mem, err_t *err)
{
	bool v2 = on_v2(h, "memory");
	int64_t limit = 0, swap = 0, reservation = 0;
	int r = 0;

	if (get_int(mem, "limit", &limit) && limit != 0)
		r = prop_u64(props, v2 ? "MemoryMax" : "MemoryLimit",
			     limit < 0 ? UINT64_MAX : (uint64_t)limit, err);
	if (r == 0 && v2 && get_int(mem, "reservation", &reservation) && reservation > 0)
		r = prop_u64(props, "MemoryLow", (uint64_t)reservation, err);
	if (r == 0 && v2 && get_int(mem, "swap", &swap)) {
		int64_t swap_max;
		bool set;

		r = cg_swap_v2(swap, limit ? limit : -1, &swap_max, &set, err);
		if (r == 0 && set)
			r = prop_u64(props, "MemorySwapMax",
				     swap_max < 0 ? UINT64_MAX : (uint64_t)swap_max, err);
	}
	return r;
}

static int cpu_props(const struct rune_cgroup_host *h, json_t *props, json_t *cpu, err_t *err)
{
	bool v2 = on_v2(h, "cpu");
	int64_t shares, quota = 0, period = 0;
	const char *set;
	json_t *mask;
	int r = 0;

	if (get_int(cpu, "shares", &shares) && shares > 0)
		r = v2 ? prop_u64(props, "CPUWeight", cg_shares_to_weight((uint64_t)shares), err)
		       : prop_u64(props, "CPUShares", (uint64_t)shares, err);
	get_int(cpu, "quota", &quota);
	get_int(cpu, "period", &period);
	if (r == 0 && period > 0)
		r = prop_u64(props, "CPUQuotaPeriodUSec", (uint64_t)period, err);
	if (r == 0 && (quota != 0 || period > 0)) {
		uint64_t per_sec = UINT64_MAX;

		if (quota > 0) {
			/* systemd takes quota per second, in steps of 10ms, rounded up (runc). */
			uint64_t p = period > 0 ? (uint64_t)period : 100000;
			per_sec = (uint64_t)quota * 1000000 / p;
			per_sec = (per_sec + 9999) / 10000 * 10000;
		}
		r = prop_u64(props, "CPUQuotaPerSecUSec", per_sec, err);
	}
	/* systemd manages cpuset only on cgroup2. */
	if (r == 0 && on_v2(h, "cpuset") &&
	    (set = json_string_value(json_object_get(cpu, "cpus"))) && *set &&
	    (r = cpu_list_mask("cpu.cpus", set, &mask, err)) == 0)
		r = prop_add(props, "AllowedCPUs", "ay", mask, err);
	if (r == 0 && on_v2(h, "cpuset") &&
	    (set = json_string_value(json_object_get(cpu, "mems"))) && *set &&
	    (r = cpu_list_mask("cpu.mems", set, &mask, err)) == 0)
		r = prop_add(props, "AllowedMemoryNodes", "ay", mask, err);
	return r;
}

int cg_systemd_properties(const struct rune_cgroup_host *h, json_t *resources, json_t *props,
			  err_t *err)
{
	json_t *mem = json_object_get(resources, "memory");
	json_t *cpu = json_object_get(resources, "cpu");
	json_t *pids = json_object_get(resources, "pids");
	json_t *blkio = json_object_get(resources, "blockIO");
	int64_t v;
	int r = 0;

	if (json_is_object(mem))
		r = memory_props(h, props, mem, err);
	if (r == 0 && json_is_object(cpu))
		r = cpu_props(h, props, cpu, err);
	if (r == 0 && json_is_object(pids) && get_int(pids, "limit", &v) && v != 0)
		r = prop_u64(props, "TasksMax", v < 0 ? UINT64_MAX : (uint64_t)v, err);
	if (r == 0 && json_is_object(blkio) && get_int(blkio, "weight", &v) && v > 0)
		r = on_v2(h, "io")
			? prop_u64(props, "IOWeight", cg_blkio_weight_to_io((uint64_t)v), err)
			: prop_u64(props, "BlockIOWeight", (uint64_t)v, err);
	return r;
}

/* ---- sd-bus, loaded on first use ---- */

static struct {
	bool loaded;
	int (*open_system)(sd_bus **);
	int (*bus_new)(sd_bus **);
	int (*set_address)(sd_bus *, const char *);
	int (*start)(sd_bus *);
	sd_bus *(*flush_close_unref)(sd_bus *);
	int (*new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *,
			       const char *, const char *);
	int (*append)(sd_bus_message *, const char *, ...);
	int (*append_array)(sd_bus_message *, char, const void *, size_t);
	int (*open_container)(sd_bus_message *, char, const char *);
	int (*close_container)(sd_bus_message *);
	int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
	int (*read)(sd_bus_message *, const char *, ...);
	sd_bus_message *(*message_unref)(sd_bus_message *);
	int (*add_match)(sd_bus *, sd_bus_slot **, const char *, sd_bus_message_handler_t, void *);
	int (*process)(sd_bus *, sd_bus_message **);
	int (*wait)(sd_bus *, uint64_t);
	void (*error_free)(sd_bus_error *);
	int (*error_has_name)(const sd_bus_error *, const char *);
} sd;

static int sd_load(err_t *err)
{
	void *lib;

	if (sd.loaded)
		return 0;
	lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL)
		return err_set(err, ENOTSUP, "systemd cgroup driver: cannot load libsystemd: %s",
			       dlerror());
#define SYM(field, name)                                                                           \
	if ((*(void **)&sd.field = dlsym(lib, name)) == NULL)                                      \
		return err_set(err, ENOTSUP, "systemd cgroup driver: libsystemd lacks %s", name);
	SYM(open_system, "sd_bus_open_system");
	SYM(bus_new, "sd_bus_new");
	SYM(set_address, "sd_bus_set_address");
	SYM(start, "sd_bus_start");
	SYM(flush_close_unref, "sd_bus_flush_close_unref");
	SYM(new_method_call, "sd_bus_message_new_method_call");
	SYM(append, "sd_bus_message_append");
	SYM(append_array, "sd_bus_message_append_array");
	SYM(open_container, "sd_bus_message_open_container");
	SYM(close_container, "sd_bus_message_close_container");
	SYM(call, "sd_bus_call");
	SYM(read, "sd_bus_message_read");
	SYM(message_unref, "sd_bus_message_unref");
	SYM(add_match, "sd_bus_add_match");
	SYM(process, "sd_bus_process");
	SYM(wait, "sd_bus_wait");
	SYM(error_free, "sd_bus_error_free");
	SYM(error_has_name, "sd_bus_error_has_name");
#undef SYM
	sd.loaded = true;
	return 0;
}

struct sd_conn {
	sd_bus *bus;
	bool direct; /* systemd's private socket: no bus daemon, no sender field */
	const char *job;
	char *job_result;
};

static int bus_fail(err_t *err, int r, const sd_bus_error *e, const char *what)
{
	if (e && e->message)
		return err_set(err, r < 0 ? -r : EIO, "systemd: %s: %s", what, e->message);
	return err_sys(err, r < 0 ? -r : EIO, "systemd: %s", what);
}

static int sd_connect(struct sd_conn *c, err_t *err)
{
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = sd_load(err)) < 0)
		return r;
	if (geteuid() == 0 && access(SD_PRIVATE_SOCKET, F_OK) == 0) {
		c->direct = true;
		r = sd.bus_new(&c->bus);
		if (r >= 0)
			r = sd.set_address(c->bus, "unix:path=" SD_PRIVATE_SOCKET);
		if (r >= 0)
			r = sd.start(c->bus);
	} else {
		r = sd.open_system(&c->bus);
	}
	if (r < 0) {
		if (c->bus)
			sd.flush_close_unref(c->bus);
		c->bus = NULL;
		return err_sys(err, -r, "systemd: connect to %s",
			       c->direct ? SD_PRIVATE_SOCKET : "the system bus");
	}
	return 0;
}

static void sd_disconnect(struct sd_conn *c)
{
	if (c->bus)
		sd.flush_close_unref(c->bus);
	free(c->job_result);
	c->bus = NULL;
}

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *e)
{
	struct sd_conn *c = data;
	const char *path = NULL, *unit = NULL, *result = NULL;
	uint32_t id;

	(void)e;
	if (sd.read(m, "uoss", &id, &path, &unit, &result) < 0 || c->job == NULL ||
	    strcmp(path, c->job) != 0)
		return 0;
	free(c->job_result);
	c->job_result = strdup(result);
	return 0;
}

static int watch_jobs(struct sd_conn *c, err_t *err)
{
	char match[256];
	int r;

	snprintf(match, sizeof(match),
		 "type='signal',%spath='" SD_PATH "',interface='" SD_MANAGER
		 "',member='JobRemoved'",
		 c->direct ? "" : "sender='" SD_DEST "',");
	r = sd.add_match(c->bus, NULL, match, on_job_removed, c);
	if (r < 0)
		return err_sys(err, -r, "systemd: watch jobs");
	if (!c->direct) {
		/* On the system bus systemd signals job ends only to subscribers. */
		sd_bus_message *m = NULL, *reply = NULL;
		sd_bus_error e = SD_BUS_ERROR_NULL;

		r = sd.new_method_call(c->bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe");
		if (r >= 0)
			r = sd.call(c->bus, m, 0, &e, &reply);
		sd.message_unref(m);
		sd.message_unref(reply);
		sd.error_free(&e);
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits for the JobRemoved of the job reply names; its result must be "done". */
static int wait_job(struct sd_conn *c, sd_bus_message *reply, const char *what, err_t *err)
{
	uint64_t deadline = now_usec() + SD_JOB_TIMEOUT_USEC;
	const char *job = NULL;
	int r;

	r = sd.read(reply, "o", &job);
	if (r < 0)
		return err_sys(err, -r, "systemd: %s: reading the job", what);
	c->job = job;
	while (c->job_result == NULL) {
		uint64_t now = now_usec();

		r = sd.process(c->bus, NULL);
		if (r < 0)
			return err_sys(err, -r, "systemd: %s: waiting for job %s", what, job);
		if (r > 0)
			continue;
		if (now >= deadline)
			return err_set(err, ETIMEDOUT,
				       "systemd: %s: job %s still running after 30s", what, job);
		r = sd.wait(c->bus, deadline - now);
		if (r < 0)
			return err_sys(err, -r, "systemd: %s: waiting for job %s", what, job);
	}
	c->job = NULL;
	if (strcmp(c->job_result, "done") != 0)
		return err_set(err, EIO, "systemd: %s: job %s", what, c->job_result);
	return 0;
}

/* Appends props ([name, signature, value] triples) as a(sv). */
static int append_props(sd_bus_message *m, json_t *props)
{
	json_t *p;
	size_t i;
	int r;

	r = sd.open_container(m, 'a', "(sv)");
	json_array_foreach(props, i, p)
	{
		const char *name = json_string_value(json_array_get(p, 0));
		const char *sig = json_string_value(json_array_get(p, 1));
		json_t *v = json_array_get(p, 2), *e;
		size_t k;

		if (r < 0 || (r = sd.open_container(m, 'r', "sv")) < 0 ||
		    (r = sd.append(m, "s", name)) < 0 || (r = sd.open_container(m, 'v', sig)) < 0)
			return r;
		if (strcmp(sig, "b") == 0) {
			r = sd.append(m, "b", (int)json_is_true(v));
		} else if (strcmp(sig, "s") == 0) {
			r = sd.append(m, "s", json_string_value(v));
		} else if (strcmp(sig, "t") == 0) {
			r = sd.append(m, "t", (uint64_t)json_integer_value(v));
		} else if (strcmp(sig, "ay") == 0) {
			uint8_t bytes[1024];
			size_t n = 0;
			json_array_foreach(v, k, e)
			{
				if (n < sizeof(bytes))
					bytes[n++] = (uint8_t)json_integer_value(e);
			}
			r = sd.append_array(m, 'y', bytes, n);
		} else if (strcmp(sig, "au") == 0) {
			r = sd.open_container(m, 'a', "u");
			json_array_foreach(v, k, e)
			{
				if (r < 0)
					break;
				r = sd.append(m, "u", (uint32_t)json_integer_value(e));
			}
			if (r >= 0)
				r = sd.close_container(m);
		} else {
			r = -EINVAL;
		}
		if (r < 0 || (r = sd.close_container(m)) < 0 || (r = sd.close_container(m)) < 0)
			return r;
	}
	return r < 0 ? r : sd.close_container(m);
}

/* A Manager method call with the unit name as its first argument; the caller appends the rest. */
static int manager_method(struct sd_conn *c, const char *method, const char *unit,
			  sd_bus_message **m)
{
	int r = sd.new_method_call(c->bus, m, SD_DEST, SD_PATH, SD_MANAGER, method);

	return r < 0 ? r : sd.append(*m, "s", unit);
}

/* Sends m (r: how building it went) and frees it. */
static int manager_send(struct sd_conn *c, sd_bus_message *m, int r, sd_bus_message **reply,
			sd_bus_error *e)
{
	if (r >= 0)
		r = sd.call(c->bus, m, 0, e, reply);
	sd.message_unref(m);
	return r;
}

int rune_systemd_start(const struct rune_cgroup_host *h, const char *path, pid_t pid,
		       json_t *resources, const char *description, err_t *err)
{
	_cleanup_free_ char *slice = NULL, *unit = NULL;
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct sd_conn c = { 0 };
	json_t *props;
	int r;

	if ((r = cg_systemd_unit(path, &slice, &unit, err)) < 0)
		return r;
	if (strlen(unit) < 6 || strcmp(unit + strlen(unit) - 6, ".scope") != 0)
		return err_set(err, EINVAL,
			       "systemd cgroup driver: %s: only scope units can hold a container",
			       unit);
	props = json_pack(
	    "[[sss][ss[i]][ssb][ssb][ssb][ssb][ssb][ssb][sss]]", "Description", "s", description,
	    "PIDs", "au", (int)pid, "Delegate", "b", 1, "DefaultDependencies", "b", 0,
	    "MemoryAccounting", "b", 1, "CPUAccounting", "b", 1, "TasksAccounting", "b", 1,
	    on_v2(h, "io") ? "IOAccounting" : "BlockIOAccounting", "b", 1, "Slice", "s", slice);
	if (props == NULL)
		return err_sys(err, ENOMEM, "systemd unit %s", unit);
	r = cg_systemd_properties(h, resources, props, err);
	if (r == 0 && (r = sd_connect(&c, err)) == 0 && (r = watch_jobs(&c, err)) == 0) {
		sd_bus_message *m = NULL;
		char what[300];

		snprintf(what, sizeof(what), "start unit %s", unit);
		r = manager_method(&c, "StartTransientUnit", unit, &m);
		if (r >= 0)
			r = sd.append(m, "s", "replace");
		if (r >= 0)
			r = append_props(m, props);
		if (r >= 0)
			r = sd.append(m, "a(sa(sv))", 0); /* no auxiliary units */
		r = manager_send(&c, m, r, &reply, &e);
		r = r < 0 ? bus_fail(err, r, &e, what) : wait_job(&c, reply, what, err);
		sd.message_unref(reply);
		sd.error_free(&e);
	}
	sd_disconnect(&c);
	json_decref(props);
	return r;
}

int rune_systemd_update(const struct rune_cgroup_host *h, const char *path, json_t *resources,
			err_t *err)
{
	_cleanup_free_ char *slice = NULL, *unit = NULL;
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct sd_conn c = { 0 };
	json_t *props = json_array();
	int r;

	if (props == NULL)
		return err_sys(err, ENOMEM, "systemd properties");
	if ((r = cg_systemd_unit(path, &slice, &unit, err)) == 0 &&
	    (r = cg_systemd_properties(h, resources, props, err)) == 0 && json_array_size(props) &&
	    (r = sd_connect(&c, err)) == 0) {
		sd_bus_message *m = NULL;
		char what[300];

		snprintf(what, sizeof(what), "set properties of unit %s", unit);
		r = manager_method(&c, "SetUnitProperties", unit, &m);
		if (r >= 0)
			r = sd.append(m, "b", 1); /* runtime: gone with a reboot, as the unit */
		if (r >= 0)
			r = append_props(m, props);
		r = manager_send(&c, m, r, &reply, &e);
		if (r < 0)
			r = bus_fail(err, r, &e, what);
		sd.message_unref(reply);
		sd.error_free(&e);
	}
	sd_disconnect(&c);
	json_decref(props);
	return r;
}

int rune_systemd_stop(const char *path, err_t *err)
{
	_cleanup_free_ char *slice = NULL, *unit = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	struct sd_conn c = { 0 };
	char what[300];
	int r;

	if ((r = cg_systemd_unit(path, &slice, &unit, err)) < 0 || (r = sd_connect(&c, err)) < 0 ||
	    (r = watch_jobs(&c, err)) < 0) {
		sd_disconnect(&c);
		return r;
	}
	snprintf(what, sizeof(what), "stop unit %s", unit);
	r = manager_method(&c, "StopUnit", unit, &m);
	if (r >= 0)
		r = sd.append(m, "s", "replace");
	r = manager_send(&c, m, r, &reply, &e);
	if (r < 0 && (sd.error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") ||
		      sd.error_has_name(&e, "org.freedesktop.systemd1.LoadFailed")))
		r = 0; /* an empty scope is gone by itself */
	else if (r < 0)
		r = bus_fail(err, r, &e, what);
	else
		r = wait_job(&c, reply, what, err);
	sd.message_unref(reply);
	sd.error_free(&e);
	sd_disconnect(&c);
	return r;
}
