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
#include <sys/ioctl.h>
#include <sys/mman.h>
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

static struct proc *find_exec(struct container *ct, const char *exec_id)
{
	for (struct proc *p = ct->execs; p; p = p->next)
		if (strcmp(p->exec_id, exec_id) == 0)
			return p;
	return NULL;
}

/* The init of container id (exec_id empty) or one of its execs. */
static struct proc *lookup(struct shim *s, const char *id, const char *exec_id, err_t *err)
{
	struct container *ct = find(s, id);
	struct proc *p;

	if (ct == NULL) {
		err_set(err, ENOENT, "container %s: not found", id);
		return NULL;
	}
	if (exec_id == NULL || *exec_id == '\0')
		return &ct->init;
	p = find_exec(ct, exec_id);
	if (p == NULL)
		err_set(err, ENOENT, "exec %s in %s: not found", exec_id, id);
	return p;
}

/* What containerd calls the process: the exec id, or the container id. */
static const char *proc_id(const struct proc *p)
{
	return p->exec_id ? p->exec_id : p->ct->id;
}

static void proc_init(struct proc *p, struct container *ct, const char *const stdio[3],
		      bool terminal)
{
	p->ct = ct;
	p->console = -1;
	p->terminal = terminal;
	p->status = SHIM__STATUS__CREATED;
	for (int i = 0; i < 3; i++)
		p->stdio[i] = strdup(stdio[i] ? stdio[i] : "");
}

static bool proc_ok(const struct proc *p)
{
	return p->stdio[0] && p->stdio[1] && p->stdio[2];
}

static void proc_clear(struct shim *s, struct proc *p)
{
	stdio_release(s, p);
	for (int i = 0; i < 3; i++)
		free(p->stdio[i]);
	free(p->exec_id);
	free(p->spec);
}

static void container_free(struct shim *s, struct container *ct)
{
	while (ct->execs) {
		struct proc *p = ct->execs;

		ct->execs = p->next;
		proc_clear(s, p);
		free(p);
	}
	proc_clear(s, &ct->init);
	oom_unwatch(ct);
	settings_free(&ct->rt);
	free(ct->id);
	free(ct->bundle);
	free(ct);
}

static void wait_free(struct wait *w)
{
	free(w->id);
	free(w->exec_id);
	free(w);
}

void task_free_all(struct shim *s)
{
	while (s->containers) {
		struct container *ct = s->containers;

		s->containers = ct->next;
		container_free(s, ct);
	}
	while (s->waits) {
		struct wait *w = s->waits;

		s->waits = w->next;
		wait_free(w);
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

/* ------------------------------------------------------------ processes */

static int read_pid(const char *path, pid_t *pid, err_t *err)
{
	char buf[32];
	_cleanup_close_ int fd = -1;
	ssize_t n;

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

/*
 * Runs `rune OP... --pid-file F [--console-socket S] ID` with p's stdio and
 * reads the pid. *ran: rune succeeded (a failure after it leaves a process
 * to undo).
 */
static int run_proc(struct shim *s, struct proc *p, const char *const *op, const char *pidfile,
		    bool *ran, err_t *err)
{
	_cleanup_error_ err_t ignored = NULL;
	const char *args[16];
	struct stdio_run io;
	size_t n = 0;
	int ret;

	*ran = false;
	ret = stdio_prepare(s, p, &io, err);
	if (ret < 0)
		return ret;
	while (*op && n < ARRAY_SIZE(args) - 6)
		args[n++] = *op++;
	args[n++] = "--pid-file";
	args[n++] = pidfile;
	if (io.console_path) {
		args[n++] = "--console-socket";
		args[n++] = io.console_path;
	}
	args[n++] = p->ct->id;
	args[n] = NULL;
	{
		struct rune_io rio = { .fds = { io.fds[0], io.fds[1], io.fds[2] } };

		ret = rune_run(&p->ct->rt, p->ct->bundle, args, &rio, err);
	}
	*ran = ret == 0;
	if (ret == 0)
		ret = stdio_finish(s, p, &io, true, err);
	else
		stdio_finish(s, p, &io, false, &ignored);
	if (ret == 0)
		ret = read_pid(pidfile, &p->pid, err);
	return ret;
}

/* ------------------------------------------------------------ methods */

static int do_create(struct shim *s, const Shim__CreateTaskRequest *r, struct container **out,
		     err_t *err)
{
	const char *const stdio[3] = { r->stdin, r->stdout, r->stderr };
	_cleanup_free_ char *pidfile = NULL;
	struct container *ct;
	bool ran;
	int mounted, ret;

	if (find(s, r->id))
		return err_set(err, EEXIST, "container %s: already exists", r->id);
	if (r->checkpoint && *r->checkpoint)
		return err_set(err, ENOTSUP, "checkpoint: not supported");
	ct = calloc(1, sizeof(*ct));
	if (ct == NULL)
		return err_sys(err, ENOMEM, "container");
	ct->oom_fd = -1;
	ct->id = strdup(r->id);
	ct->bundle = strdup(r->bundle);
	proc_init(&ct->init, ct, stdio, r->terminal);
	if (ct->id == NULL || ct->bundle == NULL || !proc_ok(&ct->init) ||
	    asprintf(&pidfile, "%s/init.pid", r->bundle) < 0) {
		container_free(s, ct);
		return err_sys(err, ENOMEM, "container");
	}
	/* the runtime: shim.json, the request's options, the defaults */
	ret = options_resolve(s->ns, r->bundle, r->options, &ct->rt, err);
	if (ret == 0)
		ret = options_save(r->bundle, &ct->rt, err);
	if (ret < 0) {
		container_free(s, ct);
		return ret;
	}
	if (s->debug)
		shim_log("container %s: %s --root %s%s", ct->id, ct->rt.rune, ct->rt.root,
			 ct->rt.systemd_cgroup > 0 ? " --systemd-cgroup" : "");
	mounted = mount_rootfs(r, err);
	if (mounted < 0) {
		container_free(s, ct);
		return mounted;
	}
	/* an enclave container's TEE files (a failure leaves the bundle as it was) */
	ret = carrier_prepare(ct, r, err);
	if (ret < 0) {
		if (mounted)
			umount_rootfs(r->bundle);
		container_free(s, ct);
		return ret;
	}
	{
		const char *op[] = { "create", "--bundle", r->bundle, NULL };

		ret = run_proc(s, &ct->init, op, pidfile, &ran, err);
	}
	if (ret < 0) {
		if (ran) {
			_cleanup_error_ err_t ignored = NULL;
			const char *args[] = { "delete", "--force", r->id, NULL };

			rune_run(&ct->rt, r->bundle, args, NULL, &ignored);
		}
		if (mounted)
			umount_rootfs(r->bundle);
		container_free(s, ct);
		return ret;
	}
	ct->mounted = mounted > 0;
	{
		_cleanup_error_ err_t oerr = NULL;

		if (oom_watch(ct, &oerr) < 0)
			shim_log("container %s: no OOM events: %s", ct->id, err_msg(oerr));
	}
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
	resp.pid = (uint32_t)ct->init.pid;
	reply_msg(c, stream, &resp.base);
	ev.container_id = r->id;
	ev.bundle = r->bundle;
	ev.rootfs = r->rootfs;
	ev.n_rootfs = r->n_rootfs;
	io.stdin = r->stdin;
	io.stdout = r->stdout;
	io.stderr = r->stderr;
	io.terminal = r->terminal;
	ev.io = &io;
	ev.pid = resp.pid;
	publish_msg(s, "/tasks/create", "TaskCreate", &ev.base);
	shim__create_task_request__free_unpacked(r, NULL);
}

/* An exec id names files in the bundle: no '/', not "." or "..". */
static int check_exec_id(const char *id, err_t *err)
{
	if (*id == '\0' || strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    strlen(id) > 128)
		return err_set(err, EINVAL,
			       "exec id \"%.128s\": must be 1 to 128 characters, no '/'", id);
	return 0;
}

static int do_exec(struct shim *s, const Shim__ExecProcessRequest *r, err_t *err)
{
	const char *const stdio[3] = { r->stdin, r->stdout, r->stderr };
	struct container *ct = find(s, r->id);
	struct proc *p;

	if (ct == NULL)
		return err_set(err, ENOENT, "container %s: not found", r->id);
	if (check_exec_id(r->exec_id, err) < 0)
		return -EINVAL;
	if (find_exec(ct, r->exec_id))
		return err_set(err, EEXIST, "exec %s in %s: already exists", r->exec_id, r->id);
	if (ct->init.exited || ct->init_reaped)
		return err_set(err, EBUSY, "container %s: not running", r->id);
	if (r->spec == NULL || r->spec->value.len == 0)
		return err_set(err, EINVAL, "exec %s: no process spec", r->exec_id);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return err_sys(err, ENOMEM, "exec");
	proc_init(p, ct, stdio, r->terminal);
	p->exec_id = strdup(r->exec_id);
	p->spec = malloc(r->spec->value.len);
	if (!proc_ok(p) || p->exec_id == NULL || p->spec == NULL) {
		proc_clear(s, p);
		free(p);
		return err_sys(err, ENOMEM, "exec");
	}
	memcpy(p->spec, r->spec->value.data, r->spec->value.len);
	p->spec_len = r->spec->value.len;
	p->next = ct->execs;
	ct->execs = p;
	return 0;
}

static void m_exec(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ExecProcessRequest *r = shim__exec_process_request__unpack(NULL, n, p);
	Shim__TaskExecAdded ev = SHIM__TASK_EXEC_ADDED__INIT;
	int ret;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "ExecProcessRequest: bad message", NULL, 0);
		return;
	}
	ret = do_exec(s, r, &err);
	if (ret < 0) {
		reply_err(c, stream, ret, err);
	} else {
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
		ev.container_id = r->id;
		ev.exec_id = r->exec_id;
		publish_msg(s, "/tasks/exec-added", "TaskExecAdded", &ev.base);
	}
	shim__exec_process_request__free_unpacked(r, NULL);
}

static int write_file(const char *path, const void *data, size_t len, err_t *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	if (write(fd, data, len) != (ssize_t)len)
		return err_sys(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

/* An exec's files in the bundle: its process spec and its pid. */
static char *exec_file(const struct proc *p, const char *ext)
{
	char *path;

	return asprintf(&path, "%s/exec-%s.%s", p->ct->bundle, p->exec_id, ext) < 0 ? NULL : path;
}

static void exec_files_remove(const struct proc *p)
{
	const char *ext[] = { "json", "pid" };

	for (size_t i = 0; i < ARRAY_SIZE(ext); i++) {
		_cleanup_free_ char *f = exec_file(p, ext[i]);

		if (f)
			unlink(f);
	}
}

static int start_exec(struct shim *s, struct proc *p, err_t *err)
{
	_cleanup_free_ char *spec = exec_file(p, "json"), *pidfile = exec_file(p, "pid");
	bool ran;
	int ret;

	if (p->ct->init.exited || p->ct->init_reaped)
		return err_set(err, EBUSY, "container %s: not running", p->ct->id);
	if (spec == NULL || pidfile == NULL)
		return err_sys(err, ENOMEM, "exec");
	ret = write_file(spec, p->spec, p->spec_len, err);
	if (ret == 0) {
		const char *op[] = { "exec", "--process", spec, "--detach", NULL };

		ret = run_proc(s, p, op, pidfile, &ran, err);
		if (ret < 0 && ran) {
			/* started, but its terminal or pid did not come: do not leave it */
			_cleanup_error_ err_t ignored = NULL;

			if (p->pid > 0 || read_pid(pidfile, &p->pid, &ignored) == 0)
				kill(p->pid, SIGKILL);
		}
	}
	if (ret < 0)
		p->pid = 0;
	return ret;
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
	struct proc *pr;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr && pr->status != SHIM__STATUS__CREATED) {
		ret = err_set(&err, EBUSY, "%s %s: not in the created state",
			      pr->exec_id ? "exec" : "container", proc_id(pr));
	} else if (pr && pr->exec_id) {
		ret = start_exec(s, pr, &err);
	} else if (pr) {
		const char *args[] = { "start", pr->ct->id, NULL };

		ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, NULL, &err);
	}
	if (ret < 0) {
		reply_err(c, stream, ret, err);
	} else {
		if (!pr->exited)
			pr->status = SHIM__STATUS__RUNNING;
		resp.pid = (uint32_t)pr->pid;
		reply_msg(c, stream, &resp.base);
		if (pr->exec_id) {
			Shim__TaskExecStarted ev = SHIM__TASK_EXEC_STARTED__INIT;

			ev.container_id = pr->ct->id;
			ev.exec_id = pr->exec_id;
			ev.pid = resp.pid;
			publish_msg(s, "/tasks/exec-started", "TaskExecStarted", &ev.base);
		} else {
			Shim__TaskStart ev = SHIM__TASK_START__INIT;

			ev.container_id = pr->ct->id;
			ev.pid = resp.pid;
			publish_msg(s, "/tasks/start", "TaskStart", &ev.base);
		}
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
	struct proc *pr;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr == NULL) {
		reply_err(c, stream, -ENOENT, err);
	} else {
		resp.id = (char *)proc_id(pr);
		resp.exec_id = pr->exec_id ? pr->exec_id : (char *)"";
		resp.bundle = pr->ct->bundle;
		resp.pid = (uint32_t)pr->pid;
		resp.status = pr->status;
		resp.stdin = pr->stdio[0];
		resp.stdout = pr->stdio[1];
		resp.stderr = pr->stdio[2];
		resp.terminal = pr->terminal;
		if (pr->exited) {
			resp.exit_status = pr->exit_status;
			set_ts(&ts, &pr->exited_at);
			resp.exited_at = &ts;
		}
		reply_msg(c, stream, &resp.base);
	}
	shim__proc_request__free_unpacked(r, NULL);
}

static void answer_wait(struct conn *c, uint32_t stream, const struct proc *p)
{
	Shim__WaitResponse resp = SHIM__WAIT_RESPONSE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;

	resp.exit_status = p->exit_status;
	set_ts(&ts, &p->exited_at);
	resp.exited_at = &ts;
	reply_msg(c, stream, &resp.base);
}

/* Answers every Wait parked on p. */
static void answer_waits(struct shim *s, const struct proc *p)
{
	const char *exec_id = p->exec_id ? p->exec_id : "";

	for (struct wait **w = &s->waits; *w;) {
		struct wait *x = *w;

		if (strcmp(x->id, p->ct->id) != 0 || strcmp(x->exec_id, exec_id) != 0) {
			w = &x->next;
			continue;
		}
		answer_wait(x->conn, x->stream, p);
		*w = x->next;
		wait_free(x);
	}
}

static void m_wait(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ProcRequest *r = proc_req(c, stream, p, n);
	struct proc *pr;
	struct wait *w;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr == NULL) {
		reply_err(c, stream, -ENOENT, err);
	} else if (pr->exited) {
		answer_wait(c, stream, pr);
	} else {
		w = calloc(1, sizeof(*w));
		if (w) {
			w->id = strdup(pr->ct->id);
			w->exec_id = strdup(pr->exec_id ? pr->exec_id : "");
		}
		if (w == NULL || w->id == NULL || w->exec_id == NULL) {
			if (w)
				wait_free(w);
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

static int kill_exec(const struct proc *p, int sig, err_t *err)
{
	if (p->pid == 0)
		return err_set(err, EBUSY, "exec %s: not started", p->exec_id);
	if (p->exited || kill(p->pid, sig) < 0)
		return err_set(err, ENOENT, "process already finished");
	return 0;
}

/*
 * The process is gone: no such pid, or it exited and the loop has not
 * reaped it yet (a zombie still takes signal 0).
 */
static bool proc_gone(const struct proc *p)
{
	siginfo_t si = { 0 };

	if (p->exited || kill(p->pid, 0) < 0)
		return true;
	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == p->pid;
}

static void m_kill(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__KillRequest *r = shim__kill_request__unpack(NULL, n, p);
	struct proc *pr;
	char sig[16];
	int ret = -ENOENT;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "KillRequest: bad message", NULL, 0);
		return;
	}
	snprintf(sig, sizeof(sig), "%u", r->signal ? r->signal : SIGTERM);
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr && pr->exec_id) {
		ret = kill_exec(pr, r->signal ? (int)r->signal : SIGTERM, &err);
	} else if (pr && (pr->exited || pr->ct->init_reaped) && !r->all) {
		ret = err_set(&err, ENOENT, "process already finished");
	} else if (pr) {
		const char *id = pr->ct->id;
		const char *args[] = { "kill", r->all ? "--all" : id, r->all ? id : sig,
				       r->all ? sig : NULL, NULL };

		ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, NULL, &err);
		if (ret < 0 && proc_gone(pr)) {
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

/* A process that never ran: its parked Waits get 128 + SIGKILL, as for a killed one. */
static void never_ran(struct shim *s, struct proc *p)
{
	p->exited = true;
	p->exit_status = 128 + SIGKILL;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	answer_waits(s, p);
}

static void reply_delete(struct conn *c, uint32_t stream, const struct proc *p)
{
	Shim__DeleteResponse resp = SHIM__DELETE_RESPONSE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;

	resp.pid = (uint32_t)p->pid;
	resp.exit_status = p->exit_status;
	set_ts(&ts, &p->exited_at);
	resp.exited_at = &ts;
	reply_msg(c, stream, &resp.base);
}

static int delete_exec(struct shim *s, struct conn *c, uint32_t stream, struct proc *p, err_t *err)
{
	struct container *ct = p->ct;

	if (p->pid && !p->exited)
		return err_set(err, EBUSY, "exec %s: still running", p->exec_id);
	if (!p->exited)
		never_ran(s, p);
	reply_delete(c, stream, p);
	exec_files_remove(p);
	for (struct proc **q = &ct->execs; *q; q = &(*q)->next)
		if (*q == p) {
			*q = p->next;
			break;
		}
	proc_clear(s, p);
	free(p);
	return 0;
}

static void m_delete(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ProcRequest *r = proc_req(c, stream, p, n);
	Shim__TaskDelete ev = SHIM__TASK_DELETE__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;
	struct container *ct;
	struct proc *pr;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr && pr->exec_id) {
		ret = delete_exec(s, c, stream, pr, &err);
		if (ret < 0)
			reply_err(c, stream, ret, err);
		shim__proc_request__free_unpacked(r, NULL);
		return;
	}
	if (pr && !pr->exited && pr->status != SHIM__STATUS__CREATED)
		ret = err_set(&err, EBUSY, "container %s: still running", pr->ct->id);
	else if (pr) {
		const char *args[] = { "delete", "--force", pr->ct->id, NULL };

		ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, NULL, &err);
	}
	if (ret < 0) {
		reply_err(c, stream, ret, err);
		shim__proc_request__free_unpacked(r, NULL);
		return;
	}
	ct = pr->ct;
	if (ct->mounted)
		umount_rootfs(ct->bundle);
	/* created, never started: delete --force killed its init */
	if (!pr->exited)
		never_ran(s, pr);
	for (struct proc *e = ct->execs; e; e = e->next)
		if (!e->exited)
			never_ran(s, e);
	reply_delete(c, stream, pr);
	ev.container_id = ct->id;
	ev.id = ct->id;
	ev.pid = (uint32_t)pr->pid;
	ev.exit_status = pr->exit_status;
	set_ts(&ts, &pr->exited_at);
	ev.exited_at = &ts;
	publish_msg(s, "/tasks/delete", "TaskDelete", &ev.base);
	for (struct proc *e = ct->execs; e; e = e->next)
		exec_files_remove(e);
	unlink_container(s, ct);
	container_free(s, ct);
	shim__proc_request__free_unpacked(r, NULL);
}

static void m_close_io(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__CloseIORequest *r = shim__close_iorequest__unpack(NULL, n, p);
	struct proc *pr;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "CloseIORequest: bad message", NULL, 0);
		return;
	}
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr == NULL) {
		reply_err(c, stream, -ENOENT, err);
	} else {
		if (r->stdin)
			stdio_close_input(s, pr);
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
	}
	shim__close_iorequest__free_unpacked(r, NULL);
}

static void m_resize_pty(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p,
			 size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__ResizePtyRequest *r = shim__resize_pty_request__unpack(NULL, n, p);
	struct proc *pr;
	int ret = -ENOENT;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "ResizePtyRequest: bad message", NULL, 0);
		return;
	}
	pr = lookup(s, r->id, r->exec_id, &err);
	if (pr && pr->console < 0) {
		ret = err_set(&err, EBUSY, "process %s: no terminal", proc_id(pr));
	} else if (pr) {
		struct winsize ws = { .ws_row = (unsigned short)r->height,
				      .ws_col = (unsigned short)r->width };

		ret = ioctl(pr->console, TIOCSWINSZ, &ws) < 0
			  ? err_sys(&err, errno, "process %s: resize terminal", proc_id(pr))
			  : 0;
	}
	if (ret < 0)
		reply_err(c, stream, ret, err);
	else
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
	shim__resize_pty_request__free_unpacked(r, NULL);
}

/* The resources (an OCI LinuxResources, JSON) go to `rune update --resources -`. */
static void m_update(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	Shim__UpdateTaskRequest *r = shim__update_task_request__unpack(NULL, n, p);
	_cleanup_close_ int fd = -1;
	struct proc *pr;
	int ret = -ENOENT;

	if (r == NULL) {
		reply(c, stream, TTRPC_INTERNAL, "UpdateTaskRequest: bad message", NULL, 0);
		return;
	}
	pr = lookup(s, r->id, NULL, &err);
	if (pr && (r->resources == NULL || r->resources->value.len == 0 ||
		   strstr(r->resources->type_url, "LinuxResources") == NULL)) {
		ret =
		    err_set(&err, EINVAL, "update %s: resources of type \"%s\": not LinuxResources",
			    r->id, r->resources ? r->resources->type_url : "");
	} else if (pr) {
		const char *args[] = { "update", "--resources", "-", pr->ct->id, NULL };
		struct rune_io io = { .fds = { -1, -1, -1 } };

		fd = memfd_create("resources", MFD_CLOEXEC);
		if (fd < 0 ||
		    write(fd, r->resources->value.data, r->resources->value.len) !=
			(ssize_t)r->resources->value.len ||
		    lseek(fd, 0, SEEK_SET) < 0) {
			ret = err_sys(&err, errno ? errno : EIO, "update %s: resources", r->id);
		} else {
			io.fds[0] = fd;
			ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, &io, &err);
		}
	}
	if (ret < 0)
		reply_err(c, stream, ret, err);
	else
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
	shim__update_task_request__free_unpacked(r, NULL);
}

static Shim__IdRequest *id_req(struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	Shim__IdRequest *r = shim__id_request__unpack(NULL, n, p);

	if (r == NULL)
		reply(c, stream, TTRPC_INTERNAL, "request: bad message", NULL, 0);
	return r;
}

/* An Any of containerd.runc.v1.ProcessDetails{exec_id}; its value is malloc'ed. */
static int details_any(const char *exec_id, Shim__Any *any)
{
	Shim__ProcessDetails d = SHIM__PROCESS_DETAILS__INIT;

	d.exec_id = (char *)exec_id;
	shim__any__init(any);
	any->type_url = (char *)"containerd.runc.v1.ProcessDetails";
	any->value.len = shim__process_details__get_packed_size(&d);
	any->value.data = malloc(any->value.len ? any->value.len : 1);
	if (any->value.data == NULL)
		return -ENOMEM;
	shim__process_details__pack(&d, any->value.data);
	return 0;
}

/* `rune ps --format json ID` prints a JSON array of pids (the execs' named, at most 64). */
static void m_pids(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *out = NULL;
	Shim__IdRequest *r = id_req(c, stream, p, n);
	Shim__PidsResponse resp = SHIM__PIDS_RESPONSE__INIT;
	_cleanup_free_ Shim__ProcessInfo *infos = NULL;
	_cleanup_free_ Shim__ProcessInfo **ptrs = NULL;
	Shim__Any anys[64];
	struct proc *pr;
	size_t count = 0, cap = 0, nany = 0;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, NULL, &err);
	if (pr) {
		const char *args[] = { "ps", "--format", "json", pr->ct->id, NULL };
		struct rune_io io = { .fds = { -1, -1, -1 }, .out = &out };

		ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, &io, &err);
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
	/* the execs' pids say which exec they are */
	for (size_t i = 0; ret == 0 && i < count && nany < ARRAY_SIZE(anys); i++)
		for (struct proc *e = pr->ct->execs; e; e = e->next)
			if (e->pid > 0 && (uint32_t)e->pid == infos[i].pid && !e->exited) {
				if (details_any(e->exec_id, &anys[nany]) < 0) {
					ret = err_sys(&err, ENOMEM, "pids");
					break;
				}
				infos[i].info = &anys[nany++];
				break;
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
	for (size_t i = 0; i < nany; i++)
		free(anys[i].value.data);
	shim__id_request__free_unpacked(r, NULL);
}

static void m_stats(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n)
{
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	Shim__IdRequest *r = id_req(c, stream, p, n);
	Shim__StatsResponse resp = SHIM__STATS_RESPONSE__INIT;
	Shim__Any any = SHIM__ANY__INIT;
	const char *type_url = NULL;
	struct proc *pr;
	size_t len = 0;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, NULL, &err);
	if (pr) {
		const char *args[] = { "events", "--stats", pr->ct->id, NULL };
		struct rune_io io = { .fds = { -1, -1, -1 }, .out = &out };

		ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, &io, &err);
	}
	if (ret == 0)
		ret = stats_metrics(out, stats_unified(), &type_url, &buf, &len, &err);
	if (ret < 0) {
		reply_err(c, stream, ret, err);
	} else {
		any.type_url = (char *)type_url;
		any.value.data = buf;
		any.value.len = len;
		resp.stats = &any;
		reply_msg(c, stream, &resp.base);
	}
	shim__id_request__free_unpacked(r, NULL);
}

static void pause_resume(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p,
			 size_t n, bool pause)
{
	_cleanup_error_ err_t err = NULL;
	Shim__IdRequest *r = id_req(c, stream, p, n);
	struct proc *pr;
	int ret = -ENOENT;

	if (r == NULL)
		return;
	pr = lookup(s, r->id, NULL, &err);
	if (pr) {
		const char *args[] = { pause ? "pause" : "resume", pr->ct->id, NULL };

		ret = rune_run(&pr->ct->rt, pr->ct->bundle, args, NULL, &err);
	}
	if (ret < 0) {
		reply_err(c, stream, ret, err);
	} else {
		Shim__TaskPaused ev = SHIM__TASK_PAUSED__INIT;

		if (!pr->exited)
			pr->status = pause ? SHIM__STATUS__PAUSED : SHIM__STATUS__RUNNING;
		reply(c, stream, TTRPC_OK, NULL, NULL, 0);
		ev.container_id = pr->ct->id;
		publish_msg(s, pause ? "/tasks/paused" : "/tasks/resumed",
			    pause ? "TaskPaused" : "TaskResumed", &ev.base);
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
	resp.task_pid = ct ? (uint32_t)ct->init.pid : 0;
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
		s->exit = s->shutdown = true;
}

static const struct {
	const char *name;
	void (*fn)(struct shim *s, struct conn *c, uint32_t stream, const uint8_t *p, size_t n);
} methods[] = {
	{ "Create", m_create },	    { "Start", m_start },
	{ "State", m_state },	    { "Wait", m_wait },
	{ "Kill", m_kill },	    { "Delete", m_delete },
	{ "Pids", m_pids },	    { "Pause", m_pause },
	{ "Resume", m_resume },	    { "Connect", m_connect },
	{ "Shutdown", m_shutdown }, { "Exec", m_exec },
	{ "CloseIO", m_close_io },  { "ResizePty", m_resize_pty },
	{ "Update", m_update },	    { "Stats", m_stats },
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
	/* Checkpoint, and methods of later versions */
	snprintf(msg, sizeof(msg), "method %s: not implemented%s", method,
		 strcmp(method, "Checkpoint") == 0 ? " (rune has no checkpoint/restore)" : "");
	reply(c, stream, TTRPC_UNIMPLEMENTED, msg, NULL, 0);
}

/* The exit is out: TaskExit, then the parked Waits. */
static void proc_exited(struct shim *s, struct proc *p, int wstatus)
{
	Shim__TaskExit ev = SHIM__TASK_EXIT__INIT;
	Shim__Timestamp ts = SHIM__TIMESTAMP__INIT;

	p->exited = true;
	p->status = SHIM__STATUS__STOPPED;
	p->exit_status = WIFEXITED(wstatus)	? (uint32_t)WEXITSTATUS(wstatus)
			 : WIFSIGNALED(wstatus) ? 128u + (uint32_t)WTERMSIG(wstatus)
						: 255u;
	clock_gettime(CLOCK_REALTIME, &p->exited_at);
	ev.container_id = p->ct->id;
	ev.id = (char *)proc_id(p);
	ev.pid = (uint32_t)p->pid;
	ev.exit_status = p->exit_status;
	set_ts(&ts, &p->exited_at);
	ev.exited_at = &ts;
	publish_msg(s, "/tasks/exit", "TaskExit", &ev.base);
	answer_waits(s, p);
}

static bool execs_running(const struct container *ct)
{
	for (const struct proc *e = ct->execs; e; e = e->next)
		if (e->pid && !e->exited)
			return true;
	return false;
}

/*
 * The init's exit is published after its execs' (as the reference shim
 * does): when it dies first, its running execs are killed (without a pid
 * namespace of its own they would live on) and the init's exit waits for
 * theirs.
 */
void task_reaped(struct shim *s, pid_t pid, int wstatus)
{
	for (struct container *ct = s->containers; ct; ct = ct->next) {
		if (ct->init.pid == pid && !ct->init.exited && !ct->init_reaped) {
			ct->init_reaped = true;
			ct->init_wstatus = wstatus;
			for (struct proc *e = ct->execs; e; e = e->next)
				if (e->pid && !e->exited)
					kill(e->pid, SIGKILL);
		}
		for (struct proc *e = ct->execs; e; e = e->next)
			if (e->pid == pid && !e->exited)
				proc_exited(s, e, wstatus);
		if (ct->init.logger == pid)
			ct->init.logger = 0;
		for (struct proc *e = ct->execs; e; e = e->next)
			if (e->logger == pid)
				e->logger = 0;
		if (ct->init_reaped && !ct->init.exited && !execs_running(ct))
			proc_exited(s, &ct->init, ct->init_wstatus);
	}
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
		wait_free(x);
	}
}
