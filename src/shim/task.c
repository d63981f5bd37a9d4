/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd.task.v2.Task: the container table and one function per
 * method. Each runs rune synchronously and answers at once, except Wait,
 * which is kept until the process exits (task_reaped) so that it never
 * holds up other calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "shim/shim.h"
#include "task.pb-c.h"

int reply(struct conn *c, uint32_t stream, int code, const char *msg, const void *payload,
	  size_t len)
{
	_cleanup_error_ err_t err = NULL;

	if (ttrpc_tx_response(&c->tx, stream, code, msg, payload, len, &err) < 0) {
		shim_log("reply on stream %u: %s", stream, err_msg(err));
		return -EIO;
	}
	return 0;
}

static int reply_msg(struct conn *c, uint32_t stream, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	_cleanup_free_ uint8_t *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return reply(c, stream, TTRPC_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
	protobuf_c_message_pack(m, buf);
	return reply(c, stream, TTRPC_OK, NULL, buf, n);
}

static int code_of(int ret)
{
	switch (-ret) {
	case ENOENT:
	case ESRCH:
		return TTRPC_NOT_FOUND;
	case EEXIST:
		return TTRPC_ALREADY_EXISTS;
	case EINVAL:
		return TTRPC_INVALID_ARGUMENT;
	case ENOTSUP:
		return TTRPC_UNIMPLEMENTED;
	case EBUSY:
		return TTRPC_FAILED_PRECONDITION;
	default:
		return TTRPC_UNKNOWN;
	}
}

static int reply_err(struct conn *c, uint32_t stream, int ret, err_t err)
{
	return reply(c, stream, code_of(ret), err_msg(err), NULL, 0);
}

static void publish_msg(struct shim *s, const char *topic, const char *type,
			const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	_cleanup_free_ uint8_t *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return;
	protobuf_c_message_pack(m, buf);
	publish(s, topic, type, buf, n);
}

static struct container *find(struct shim *s, const char *id)
{
	for (struct container *c = s->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

/* The container named id (exec_id must be empty: execs are not served yet). */
static struct container *lookup(struct shim *s, const char *id, const char *exec_id, err_t *err)
{
	struct container *ct;

	if (exec_id && *exec_id) {
		err_set(err, ENOENT, "exec %s in %s: not found (exec is not supported yet)",
			exec_id, id);
		return NULL;
	}
	ct = find(s, id);
	if (ct == NULL)
		err_set(err, ENOENT, "container %s: not found", id);
	return ct;
}

static void container_free(struct container *ct)
{
	free(ct->id);
	free(ct->bundle);
	for (int i = 0; i < 3; i++)
		free(ct->stdio[i]);
	free(ct);
}

void task_free_all(struct shim *s)
{
	while (s->containers) {
		struct container *ct = s->containers;

		s->containers = ct->next;
		container_free(ct);
	}
	while (s->waits) {
		struct wait *w = s->waits;

		s->waits = w->next;
		free(w->id);
		free(w);
	}
}

static void unlink_container(struct shim *s, struct container *ct)
{
	for (struct container **p = &s->containers; *p; p = &(*p)->next)
		if (*p == ct) {
			*p = ct->next;
			return;
		}
}

/* ------------------------------------------------------------ rootfs */

static const struct {
	const char *name;
	unsigned long set, clear;
} mount_flags[] = {
	{ "ro", MS_RDONLY, 0 },		  { "rw", 0, MS_RDONLY },     { "bind", MS_BIND, 0 },
	{ "rbind", MS_BIND | MS_REC, 0 }, { "nosuid", MS_NOSUID, 0 }, { "nodev", MS_NODEV, 0 },
	{ "noexec", MS_NOEXEC, 0 },	  { "suid", 0, MS_NOSUID },   { "dev", 0, MS_NODEV },
	{ "exec", 0, MS_NOEXEC },
};

static int mount_one(const Shim__Mount *m, const char *target, err_t *err)
{
	_cleanup_free_ char *data = calloc(1, 1);
	unsigned long flags = 0;

	for (size_t i = 0; i < m->n_options; i++) {
		const char *o = m->options[i];
		size_t k;
		char *nd;

		for (k = 0; k < ARRAY_SIZE(mount_flags); k++)
			if (strcmp(o, mount_flags[k].name) == 0)
				break;
		if (k < ARRAY_SIZE(mount_flags)) {
			flags = (flags | mount_flags[k].set) & ~mount_flags[k].clear;
			continue;
		}
		if (asprintf(&nd, "%s%s%s", data ? data : "", data && *data ? "," : "", o) < 0)
			return err_sys(err, ENOMEM, "mount options");
		free(data);
		data = nd;
	}
	if (mount(m->source, target, m->type, flags & ~MS_RDONLY, data) < 0)
		return err_sys(err, errno, "mount %s (%s) on %s", m->source, m->type, target);
	if ((flags & MS_BIND) && (flags & MS_RDONLY) &&
	    mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return err_sys(err, errno, "remount %s read-only", target);
	return 0;
}

static void umount_rootfs(const char *bundle)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/rootfs", bundle);
	/* overlay, and what a bind mount brought along */
	while (umount2(path, 0) == 0)
		;
	if (errno == EBUSY)
		umount2(path, MNT_DETACH);
}

static int mount_rootfs(const Shim__CreateTaskRequest *r, err_t *err)
{
	char path[PATH_MAX];

	if (r->n_rootfs == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/rootfs", r->bundle);
	if (mkdir(path, 0711) < 0 && errno != EEXIST)
		return err_sys(err, errno, "mkdir %s", path);
	for (size_t i = 0; i < r->n_rootfs; i++)
		if (mount_one(r->rootfs[i], path, err) < 0) {
			umount_rootfs(r->bundle);
			return -EIO;
		}
	return 1;
}

/* ------------------------------------------------------------ stdio */

/*
 * A stdio FIFO containerd's client made, opened read-write: the open never
 * blocks, whether the client's end is open yet or not, and the container
 * gets it as is (a copying loop in the shim comes with terminals and
 * binary:// loggers).
 */
static int open_stdio(const char *path, err_t *err)
{
	if (path == NULL || *path == '\0')
		return open("/dev/null", O_RDWR | O_CLOEXEC);
	if (strncmp(path, "fifo://", 7) == 0)
		path += 7;
	else if (strstr(path, "://"))
		return err_set(err, ENOTSUP, "stdio %s: only FIFOs are supported yet", path);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	return fd;
}

static int read_pid(const char *bundle, pid_t *pid, err_t *err)
{
	char path[PATH_MAX], buf[32];
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/init.pid", bundle);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return err_set(err, EINVAL, "%s: empty", path);
	buf[n] = '\0';
	*pid = (pid_t)strtol(buf, NULL, 10);
	if (*pid <= 0)
		return err_set(err, EINVAL, "%s: not a pid: %s", path, buf);
	return 0;
}

/* ------------------------------------------------------------ methods */

static int do_create(struct shim *s, const Shim__CreateTaskRequest *r, struct container **out,
		     err_t *err)
{
	_cleanup_close_ int in = -1, o = -1, e = -1;
	struct container *ct;
	int mounted, ret;

	if (find(s, r->id))
		return err_set(err, EEXIST, "container %s: already exists", r->id);
	if (r->terminal)
		return err_set(err, ENOTSUP, "terminal: not supported yet");
	if (r->checkpoint && *r->checkpoint)
		return err_set(err, ENOTSUP, "checkpoint: not supported");
	in = open_stdio(r->stdin, err);
	if (in < 0)
		return in;
	o = open_stdio(r->stdout, err);
	if (o < 0)
		return o;
	e = open_stdio(r->stderr, err);
	if (e < 0)
		return e;
	mounted = mount_rootfs(r, err);
	if (mounted < 0)
		return mounted;
	{
		_cleanup_free_ char *pidfile = NULL;
		struct rune_io io = { .fds = { in, o, e } };

		if (asprintf(&pidfile, "%s/init.pid", r->bundle) < 0)
			return err_sys(err, ENOMEM, "pid file");
		const char *args[] = { "create", "--bundle", r->bundle, "--pid-file",
				       pidfile,	 r->id,	     NULL };
		ret = rune_run(s, r->bundle, args, &io, err);
	}
	ct = calloc(1, sizeof(*ct));
	if (ret == 0 && ct == NULL)
		ret = err_sys(err, ENOMEM, "container");
	if (ret == 0)
		ret = read_pid(r->bundle, &ct->pid, err);
	if (ret < 0) {
		if (mounted)
			umount_rootfs(r->bundle);
		free(ct);
		return ret;
	}
	ct->id = strdup(r->id);
	ct->bundle = strdup(r->bundle);
	ct->stdio[0] = strdup(r->stdin ? r->stdin : "");
	ct->stdio[1] = strdup(r->stdout ? r->stdout : "");
	ct->stdio[2] = strdup(r->stderr ? r->stderr : "");
	ct->mounted = mounted > 0;
	ct->status = SHIM__STATUS__CREATED;
	ct->next = s->containers;
	s->containers = ct;
	*out = ct;
	return 0;
}

static void m_create(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__CreateTaskRequest *r = shim__create_task_request__unpack(NULL, n, p);
	Shim__CreateTaskResponse resp = SHIM__CREATE_TASK_RESPONSE__INIT;
	Shim__TaskCreate ev = SHIM__TASK_CREATE__INIT;
	Shim__TaskIO io = SHIM__TASK_IO__INIT;
	struct container *ct = NULL;
	int ret;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "CreateTaskRequest: bad message", NULL, 0);
		return;
	}
	ret = do_create(s, r, &ct, &err);
	if (ret < 0) {
		err_wrap(&err, "create %s", r->id);
		shim_log("%s", err_msg(err));
		reply_err(c, stream, ret, err);
		shim__create_task_request__free_unpacked(r, NULL);
		return;
	}
	resp.pid = (uint32_t)ct->pid;
	reply_msg(c, stream, &resp.base);
	ev.container_id = r->id;
	ev.bundle = r->bundle;
	ev.rootfs = r->rootfs;
	ev.n_rootfs = r->n_rootfs;
	io.stdin = r->stdin;
	io.stdout = r->stdout;
	io.stderr = r->stderr;
	ev.io = &io;
	ev.pid = resp.pid;
	publish_msg(s, "/tasks/create", "TaskCreate", &ev.base);
	shim__create_task_request__free_unpacked(r, NULL);
}

static Shim__ProcRequest *proc_req(struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	Shim__ProcRequest *r = shim__proc_request__unpack(NULL, n, p);

	if (r == NULL)
		reply(c, stream, TTRPC_INTERNAL, "request: bad message", NULL, 0);
	return r;
}

static void m_start(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ProcRequest *r = proc_req(c, stream, p, n);
	Shim__StartResponse resp = SHIM__START_RESPONSE__INIT;
	Shim__TaskStart ev = SHIM__TASK_START__INIT;
	struct container *ct;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	ct = lookup(s, r->id, r->exec_id, &err);
	if (ct && ct->status != SHIM__STATUS__CREATED)
		ret = err_set(&err, EBUSY, "container %s: not in the created state", r->id);
	else if (ct) {
		const char *args[] = { "start", ct->id, NULL };

		ret = rune_run(s, ct->bundle, args, NULL, &err);
	}
	if (ret < 0) {
		reply_err(c, stream, ret, err);
	} else {
		if (!ct->exited)
			ct->status = SHIM__STATUS__RUNNING;
		resp.pid = (uint32_t)ct->pid;
		reply_msg(c, stream, &resp.base);
		ev.container_id = ct->id;
		ev.pid = resp.pid;
		publish_msg(s, "/tasks/start", "TaskStart", &ev.base);
	}
	shim__proc_request__free_unpacked(r, NULL);
}

static void set_ts(Shim__Timestamp *ts, const struct timespec *t)
{
	ts->seconds = t->tv_sec;
	ts->nanos = (int32_t)t->tv_nsec;
}

static void m_state(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ProcRequest *r = proc_req(c, stream, p, n);
	Shim__StateResponse resp = SHIM__STATE_RESPONSE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	struct container *ct;

	if (r == NULL)
		return;
	ct = lookup(s, r->id, r->exec_id, &err);
	if (ct == NULL) {
		reply_err(c, stream, -ENOENT, err);
	} else {
		resp.id = ct->id;
		resp.bundle = ct->bundle;
		resp.pid = (uint32_t)ct->pid;
		resp.status = ct->status;
		resp.stdin = ct->stdio[0];
		resp.stdout = ct->stdio[1];
		resp.stderr = ct->stdio[2];
		if (ct->exited) {
			resp.exit_status = ct->exit_status;
			set_ts(&ts, &ct->exited_at);
			resp.exited_at = &ts;
		}
		reply_msg(c, stream, &resp.base);
	}
	shim__proc_request__free_unpacked(r, NULL);
}

static void answer_wait(struct conn *c, uint32_t stream, const struct container *ct)
{
	Shim__WaitResponse resp = SHIM__WAIT_RESPONSE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;

	resp.exit_status = ct->exit_status;
	set_ts(&ts, &ct->exited_at);
	resp.exited_at = &ts;
	reply_msg(c, stream, &resp.base);
}

/* Answers every Wait parked on ct. */
static void answer_waits(struct shim *s, const struct container *ct)
{
	for (struct wait **w = &s->waits; *w;) {
		struct wait *x = *w;

		if (strcmp(x->id, ct->id) != 0) {
			w = &x->next;
			continue;
		}
		answer_wait(x->conn, x->stream, ct);
		*w = x->next;
		free(x->id);
		free(x);
	}
}

static void m_wait(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ProcRequest *r = proc_req(c, stream, p, n);
	struct container *ct;
	struct wait *w;

	if (r == NULL)
		return;
	ct = lookup(s, r->id, r->exec_id, &err);
	if (ct == NULL) {
		reply_err(c, stream, -ENOENT, err);
	} else if (ct->exited) {
		answer_wait(c, stream, ct);
	} else {
		w = calloc(1, sizeof(*w));
		if (w == NULL || (w->id = strdup(ct->id)) == NULL) {
			free(w);
			reply(c, stream, TTRPC_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		} else {
			w->conn = c;
			w->stream = stream;
			w->next = s->waits;
			s->waits = w;
		}
	}
	shim__proc_request__free_unpacked(r, NULL);
}

static void m_kill(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__KillRequest *r = shim__kill_request__unpack(NULL, n, p);
	struct container *ct;
	char sig[16];
	int ret = -ENOENT;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "KillRequest: bad message", NULL, 0);
		return;
	}
	snprintf(sig, sizeof(sig), "%u", r->signal ? r->signal : SIGTERM);
	ct = lookup(s, r->id, r->exec_id, &err);
	if (ct && ct->exited && !r->all) {
		ret = err_set(&err, ENOENT, "process already finished");
	} else if (ct) {
		const char *args[] = { "kill", r->all ? "--all" : ct->id, r->all ? ct->id : sig,
				       r->all ? sig : NULL, NULL };

		ret = rune_run(s, ct->bundle, args, NULL, &err);
		if (ret < 0 && (ct->exited || kill(ct->pid, 0) < 0)) {
			err_free(&err);
			ret = err_set(&err, ENOENT, "process already finished");
		}
	}
	if (ret < 0)
		reply_err(c, stream, ret, err);
	else
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
	shim__kill_request__free_unpacked(r, NULL);
}

static void m_delete(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ProcRequest *r = proc_req(c, stream, p, n);
	Shim__DeleteResponse resp = SHIM__DELETE_RESPONSE__INIT;
	Shim__TaskDelete ev = SHIM__TASK_DELETE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	struct container *ct;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	ct = lookup(s, r->id, r->exec_id, &err);
	if (ct && !ct->exited && ct->status != SHIM__STATUS__CREATED)
		ret = err_set(&err, EBUSY, "container %s: still running", ct->id);
	else if (ct) {
		const char *args[] = { "delete", "--force", ct->id, NULL };

		ret = rune_run(s, ct->bundle, args, NULL, &err);
	}
	if (ret < 0) {
		reply_err(c, stream, ret, err);
		shim__proc_request__free_unpacked(r, NULL);
		return;
	}
	if (ct->mounted)
		umount_rootfs(ct->bundle);
	if (!ct->exited) {
		/* created, never started: delete --force killed its init */
		ct->exit_status = 128 + SIGKILL;
		clock_gettime(CLOCK_REALTIME, &ct->exited_at);
		answer_waits(s, ct);
	}
	resp.pid = (uint32_t)ct->pid;
	resp.exit_status = ct->exit_status;
	set_ts(&ts, &ct->exited_at);
	resp.exited_at = &ts;
	reply_msg(c, stream, &resp.base);
	ev.container_id = ct->id;
	ev.id = ct->id;
	ev.pid = resp.pid;
	ev.exit_status = resp.exit_status;
	ev.exited_at = &ts;
	publish_msg(s, "/tasks/delete", "TaskDelete", &ev.base);
	unlink_container(s, ct);
	container_free(ct);
	shim__proc_request__free_unpacked(r, NULL);
}

static Shim__IdRequest *id_req(struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	Shim__IdRequest *r = shim__id_request__unpack(NULL, n, p);

	if (r == NULL)
		reply(c, stream, TTRPC_INTERNAL, "request: bad message", NULL, 0);
	return r;
}

/* `rune ps --format json ID` prints a JSON array of pids. */
static void m_pids(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *out = NULL;
	Shim__IdRequest *r = id_req(c, stream, p, n);
	Shim__PidsResponse resp = SHIM__PIDS_RESPONSE__INIT;
	_cleanup_free_ Shim__ProcessInfo *infos = NULL;
	_cleanup_free_ Shim__ProcessInfo **ptrs = NULL;
	struct container *ct;
	size_t count = 0, cap = 0;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	ct = lookup(s, r->id, NULL, &err);
	if (ct) {
		const char *args[] = { "ps", "--format", "json", ct->id, NULL };
		struct rune_io io = { .fds = { -1, -1, -1 }, .out = &out };

		ret = rune_run(s, ct->bundle, args, &io, &err);
	}
	for (char *q = out; ret == 0 && q && *q;) {
		char *end;
		unsigned long v;

		if (*q < '0' || *q > '9') {
			q++;
			continue;
		}
		v = strtoul(q, &end, 10);
		q = end;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			void *ni = realloc(infos, cap * sizeof(*infos));

			if (ni == NULL) {
				ret = err_sys(&err, ENOMEM, "pids");
				break;
			}
			infos = ni;
		}
		shim__process_info__init(&infos[count]);
		infos[count++].pid = (uint32_t)v;
	}
	if (ret == 0 && count) {
		ptrs = calloc(count, sizeof(*ptrs));
		if (ptrs == NULL)
			ret = err_sys(&err, ENOMEM, "pids");
		for (size_t i = 0; ptrs && i < count; i++)
			ptrs[i] = &infos[i];
		resp.processes = ptrs;
		resp.n_processes = count;
	}
	if (ret < 0)
		reply_err(c, stream, ret, err);
	else
		reply_msg(c, stream, &resp.base);
	shim__id_request__free_unpacked(r, NULL);
}

static void pause_resume(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p,
			 size_t n, bool pause)
{
	_cleanup_error_ err_t err = NULL;
	Shim__IdRequest *r = id_req(c, stream, p, n);
	struct container *ct;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	ct = lookup(s, r->id, NULL, &err);
	if (ct) {
		const char *args[] = { pause ? "pause" : "resume", ct->id, NULL };

		ret = rune_run(s, ct->bundle, args, NULL, &err);
	}
	if (ret < 0) {
		reply_err(c, stream, ret, err);
	} else {
		if (!ct->exited)
			ct->status = pause ? SHIM__STATUS__PAUSED : SHIM__STATUS__RUNNING;
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
	}
	shim__id_request__free_unpacked(r, NULL);
}

static void m_pause(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	pause_resume(s, c, stream, p, n, true);
}

static void m_resume(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	pause_resume(s, c, stream, p, n, false);
}

static void m_connect(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	Shim__IdRequest *r = id_req(c, stream, p, n);
	Shim__ConnectResponse resp = SHIM__CONNECT_RESPONSE__INIT;
	struct container *ct;

	if (r == NULL)
		return;
	ct = find(s, r->id);
	resp.shim_pid = (uint32_t)getpid();
	resp.task_pid = ct ? (uint32_t)ct->pid : 0;
	reply_msg(c, stream, &resp.base);
	shim__id_request__free_unpacked(r, NULL);
}

/* Exits once no container is left; otherwise other containers of the group remain. */
static void m_shutdown(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	reply(c, stream, TTRPC_OK, NULL, NULL, 0);
	if (s->containers == NULL)
		s->exit = true;
}

static const struct {
	const char *name;
	void (*fn)(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n);
} methods[] = {
	{ "Create", m_create },	  { "Start", m_start },	      { "State", m_state },
	{ "Wait", m_wait },	  { "Kill", m_kill },	      { "Delete", m_delete },
	{ "Pids", m_pids },	  { "Pause", m_pause },	      { "Resume", m_resume },
	{ "Connect", m_connect }, { "Shutdown", m_shutdown },
};

void task_dispatch(struct shim *s, struct conn *c, uint32_t stream, const char *method,
		   const uint8_t *payload, size_t len)
{
	char msg[128];

	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, method) == 0) {
			methods[i].fn(s, c, stream, payload, len);
			return;
		}
	/* Exec, ResizePty, CloseIO, Update, Stats, Checkpoint: later */
	snprintf(msg, sizeof(msg), "method %s: not implemented", method);
	reply(c, stream, TTRPC_UNIMPLEMENTED, msg, NULL, 0);
}

void task_reaped(struct shim *s, pid_t pid, int wstatus)
{
	Shim__TaskExit ev = SHIM__TASK_EXIT__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	struct container *ct;

	for (ct = s->containers; ct; ct = ct->next)
		if (ct->pid == pid && !ct->exited)
			break;
	if (ct == NULL)
		return;
	ct->exited = true;
	ct->status = SHIM__STATUS__STOPPED;
	ct->exit_status = WIFEXITED(wstatus)	 ? (uint32_t)WEXITSTATUS(wstatus)
			  : WIFSIGNALED(wstatus) ? 128u + (uint32_t)WTERMSIG(wstatus)
						 : 255u;
	clock_gettime(CLOCK_REALTIME, &ct->exited_at);
	ev.container_id = ct->id;
	ev.id = ct->id;
	ev.pid = (uint32_t)pid;
	ev.exit_status = ct->exit_status;
	set_ts(&ts, &ct->exited_at);
	ev.exited_at = &ts;
	publish_msg(s, "/tasks/exit", "TaskExit", &ev.base);
	answer_waits(s, ct);
}

void task_conn_closed(struct shim *s, struct conn *c)
{
	for (struct wait **w = &s->waits; *w;) {
		struct wait *x = *w;

		if (x->conn != c) {
			w = &x->next;
			continue;
		}
		*w = x->next;
		free(x->id);
		free(x);
	}
}
