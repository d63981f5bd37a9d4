/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init-runelet: the container's init hosting an enclave runtime. It loads
 * the PAL (the fd rune checked) before pivot_root, calls pal_init at create
 * with the workload's identity already applied, and at start runs the
 * workload: pal_exec (v1) or pal_create_process + pal_exec (v2, v3). While
 * it runs, a control thread forwards signals (pal_kill) and serves the
 * runelet protocol (runelet_proto.h) for `rune exec` and `rune attest`.
 */
#include "librune/enclave.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/epc.h"
#include "librune/cgroup.h"
#include "librune/internal.h"
#include "librune/linux.h"
#include "librune/log.h"
#include "librune/sync.h"
#include "librune/util.h"
#include "rune/pal.h"

#include "librune/enclave_internal.h"
#include "librune/runelet_proto.h"

/* The errno of a failed call: Occlum's PALs return -1 and set errno, Inclavare's -errno. */
int rune_pal_error(const struct rune_enclave *e, int ret, int saved_errno)
{
	if (e->occlum && ret == -1 && saved_errno > 0)
		return saved_errno;
	return ret < 0 ? -ret : EIO;
}

/* why: the last line the PAL wrote to stderr during the call (its reason), or "". */
static int pal_fail(const struct rune_enclave *e, const char *call, int ret, int saved_errno,
		    const char *why, err_t *err)
{
	int code = rune_pal_error(e, ret, saved_errno);

	return err_set(err, code, "enclave runtime %s: %s failed with %d (%s)%s%s", e->runtime_path,
		       call, ret, strerror(code), *why ? ": " : "", why);
}

#define RESOLVE(e, field, name, required)                                                          \
	do {                                                                                       \
		*(void **)&(e)->ops.field = dlsym((e)->handle, name);                              \
		if ((required) && (e)->ops.field == NULL)                                          \
			return err_set(err, ENOSYS, "enclave runtime %s: missing symbol %s",       \
				       (e)->runtime_path, name);                                   \
	} while (0)

int rune_enclave_bind(struct rune_enclave *e, err_t *err)
{
	int fd;

	if (e->socket_path == NULL)
		return 0;
	fd = unix_listen_at(e->socket_path, SOCK_SEQPACKET, err);
	if (fd < 0)
		return fd;
	e->listen_fd = fd;
	return 0;
}

static void setenv_u64(const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	setenv(key, buf, 1);
}

/*
 * libsgx in the PAL charges every enclave page to this process: the
 * container's limit, the emulated EPC's size, and our entry in the host's
 * EPC registry, opened here while the host's /run is still in reach (the
 * lock on it is init-runelet's: it dies with the container).
 */
static void set_epc_env(struct rune_enclave *e)
{
	_cleanup_error_ err_t err = NULL;
	int fd, dir_fd;

	/* Only the container's limit, never one rune's caller happened to export. */
	unsetenv("SGX_EPC_LIMIT_BYTES");
	unsetenv("SGX_EPC_LIMIT_SOURCE");
	if (e->container_id)
		setenv("SGX_EPC_CONTAINER", e->container_id, 1);
	else
		unsetenv("SGX_EPC_CONTAINER");
	if (e->epc_limit) {
		setenv_u64("SGX_EPC_LIMIT_BYTES", e->epc_limit);
		setenv("SGX_EPC_LIMIT_SOURCE", e->epc_limit_source, 1);
	}
	if (e->epc_size)
		setenv_u64("SGX_EMU_EPC_SIZE", e->epc_size);
	if (e->epc_paging_delay)
		setenv("SGX_EMU_EPC_PAGING_DELAY", "1", 1);
	/* Reaping the entries of dead holders here keeps the registry from growing. */
	epc_usage(epc_dir(), 0, &(struct epc_usage){ 0 }, NULL);
	fd = epc_entry_open(epc_dir(), NULL, &err);
	if (fd < 0) {
		/* Use is still limited; only the host-wide sum misses this container. */
		rune_debug("init-runelet: no EPC registry entry: %s", err_msg(err));
		unsetenv("SGX_EPC_FD");
		return;
	}
	/* The registry for the paging model, which scans it from inside the rootfs. */
	dir_fd = open(epc_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd >= 0)
		setenv_u64("SGX_EPC_DIR_FD", (uint64_t)dir_fd);
	else
		unsetenv("SGX_EPC_DIR_FD");
	/* Where libsgx reads the limit, and `rune update --epc-limit` changes it. */
	if (epc_entry_set_limit(fd, e->epc_limit, e->epc_limit ? e->epc_limit_source : "") < 0)
		rune_debug("init-runelet: EPC registry entry: the limit not written");
	setenv_u64("SGX_EPC_FD", (uint64_t)fd);
}

int rune_enclave_load(struct rune_enclave *e, err_t *err)
{
	char fdpath[64];

	prctl(PR_SET_NAME, "init-runelet", 0, 0, 0);
	/*
	 * init-runelet never execs: the PAL starts as a program would, with no
	 * signal ignored because rune's caller ignored it (a daemon's SIGPIPE),
	 * from its constructors on; what it ignores itself then stays so.
	 */
	reset_signals_for_workload();
	/*
	 * The very file rune opened beneath its allowed directory and checked:
	 * dlopen reopens that fd, never the path (glibc has no fdlopen).
	 */
	if (e->pal_fd < 0)
		return err_set(err, EBADF, "enclave runtime %s: not opened", e->runtime_path);
	/* The host's cap for libsgx in the PAL: init-runelet's environment, never the workload's. */
	if (e->max_enclave_size)
		setenv_u64("SGX_MAX_ENCLAVE_SIZE", e->max_enclave_size);
	set_epc_env(e);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", e->pal_fd);
	e->handle = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	close(steal_fd(e->pal_fd));
	if (e->handle == NULL)
		return err_set(err, ENOEXEC, "enclave runtime %s: %s", e->runtime_path, dlerror());
	rune_debug("init-runelet: loaded the PAL %s", e->runtime_path);
	e->occlum = dlsym(e->handle, "occlum_pal_get_version") != NULL ||
		    dlsym(e->handle, "occlum_pal_init") != NULL;
	pthread_mutex_init(&e->destroy_lock, NULL);
	pal_get_version_fn get_version = (pal_get_version_fn)dlsym(e->handle, "pal_get_version");
	e->ops.version = get_version ? get_version() : 1;
	if (e->ops.version < PAL_VERSION_MIN || e->ops.version > PAL_VERSION_MAX)
		return err_set(err, ENOTSUP,
			       "enclave runtime %s: PAL API version %d is not supported (1 to 3)",
			       e->runtime_path, e->ops.version);
	RESOLVE(e, init, "pal_init", true);
	RESOLVE(e, destroy, "pal_destroy", true);
	if (e->ops.version == 1) {
		RESOLVE(e, exec_v1, "pal_exec", true);
	} else {
		RESOLVE(e, create_process, "pal_create_process", true);
		RESOLVE(e, exec, "pal_exec", true);
		RESOLVE(e, kill, "pal_kill", true);
	}
	if (e->ops.version >= 3)
		RESOLVE(e, get_local_report, "pal_get_local_report", true);
	return 0;
}

int rune_enclave_init(struct rune_enclave *e, err_t *err)
{
	struct pal_attr_t v1 = { .args = e->args, .log_level = e->log_level };
	pal_attr_v3_t v3 = { .attr_v1 = v1, .fd = -1, .addr = 0 };
	int ret;

	struct stderr_capture cap;
	char why[512];
	int saved_errno;

	rune_debug("init-runelet: pal_init (API v%d, args \"%s\", log level %s)", e->ops.version,
		   e->args ? e->args : "", e->log_level);
	/* The ABI returns an int: the reason is what the PAL wrote to stderr meanwhile. */
	stderr_capture_begin(&cap);
	errno = 0;
	ret = e->ops.init(e->ops.version >= 3 ? (const void *)&v3 : (const void *)&v1);
	saved_errno = errno;
	stderr_capture_end(&cap, why, sizeof(why));
	if (ret != 0)
		return pal_fail(e, "pal_init", ret, saved_errno, why, err);
	return 0;
}

/* Occlum reports wait statuses; Inclavare's PALs exit codes (above 255: a wait status anyway). */
static int exit_code_of(const struct rune_enclave *e, int v)
{
	if (!e->occlum && v >= 0 && v <= 255)
		return v;
	return rune_exit_code(v);
}

/* Runs pal_destroy unless it already ran; with exit_code >= 0, exits the process after. */
static void destroy_once(struct rune_enclave *e, int exit_code)
{
	pthread_mutex_lock(&e->destroy_lock);
	if (!e->destroyed) {
		e->destroyed = true;
		e->ops.destroy();
	}
	if (exit_code >= 0)
		_exit(exit_code);
	pthread_mutex_unlock(&e->destroy_lock);
}

/* ---- the control thread ---- */

/* One exec'd enclave process: its connection and the stdio it was given. */
struct exec_job {
	struct rune_enclave *e;
	int conn;
	int pid;
	int stdio[3];
	_Atomic int refs; /* the waiter and the reader threads */
};

static void job_put(struct exec_job *job)
{
	if (--job->refs > 0)
		return;
	close(job->conn);
	for (int i = 0; i < 3; i++)
		close(job->stdio[i]);
	free(job);
}

static void *exec_waiter(void *arg)
{
	struct exec_job *job = arg;
	int exit_value = 0, ret;
	struct pal_exec_args ea = { .pid = job->pid, .exit_value = &exit_value };
	json_t *j;

	errno = 0;
	ret = job->e->ops.exec(&ea);
	j = ret == 0
		? json_pack("{s:s,s:i}", "type", "exit", "code", exit_code_of(job->e, exit_value))
		: json_pack("{s:s,s:i,s:s}", "type", "error", "code",
			    rune_pal_error(job->e, ret, errno), "msg", "pal_exec failed");
	runelet_send(job->conn, j, NULL, 0);
	json_decref(j);
	/* Wakes the reader; the stdio fds close with the last reference, after pal_exec. */
	shutdown(job->conn, SHUT_RDWR);
	job_put(job);
	return NULL;
}

/* Relays kill requests on an exec connection until the process ends. */
static void *exec_conn_reader(void *arg)
{
	struct exec_job *job = arg;
	json_t *j;

	while ((j = runelet_recv(job->conn, NULL, NULL))) {
		if (strcmp(json_string_value(json_object_get(j, "type")) ?: "", "kill") == 0)
			job->e->ops.kill(job->pid,
					 json_integer_value(json_object_get(j, "signal")));
		json_decref(j);
	}
	job_put(job);
	return NULL;
}

static void handle_exec(struct rune_enclave *e, int conn, json_t *req, int *fds, size_t nfds)
{
	json_t *jargv = json_object_get(req, "argv"), *jenv = json_object_get(req, "env"), *v;
	_cleanup_free_ const char **argv = NULL, **env = NULL;
	struct pal_stdio_fds stdio = { 0, 1, 2 };
	struct pal_create_process_args ca = { 0 };
	struct exec_job *job;
	pthread_t t;
	size_t i;
	int pid = -1, ret;

	if (e->ops.version < 2) {
		runelet_reply_error(conn, ENOTSUP,
				    "exec needs an enclave runtime with PAL API v2 or later");
		goto out;
	}
	if (nfds != 3 || !json_is_array(jargv) || json_array_size(jargv) == 0) {
		runelet_reply_error(conn, EINVAL, "bad exec request");
		goto out;
	}
	argv = calloc(json_array_size(jargv) + 1, sizeof(char *));
	env = calloc(json_array_size(jenv) + 1, sizeof(char *));
	json_array_foreach(jargv, i, v) argv[i] = json_string_value(v);
	json_array_foreach(jenv, i, v) env[i] = json_string_value(v);
	stdio = (struct pal_stdio_fds){ fds[0], fds[1], fds[2] };
	ca.path = json_string_value(json_object_get(req, "path")) ?: argv[0];
	ca.argv = argv;
	ca.env = env;
	ca.stdio = &stdio;
	ca.pid = &pid;
	errno = 0;
	ret = e->ops.create_process(&ca);
	if (ret != 0) {
		char msg[256];
		int code = rune_pal_error(e, ret, errno);
		snprintf(msg, sizeof(msg), "pal_create_process failed with %d (%s)", ret,
			 strerror(code));
		runelet_reply_error(conn, code, msg);
		goto out;
	}
	json_t *ok = json_pack("{s:s,s:i}", "type", "started", "pid", pid);
	runelet_send(conn, ok, NULL, 0);
	json_decref(ok);
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		goto out;
	*job = (struct exec_job){ .e = e, .conn = conn, .pid = pid, .refs = 2 };
	memcpy(job->stdio, fds, sizeof(job->stdio));
	nfds = 0; /* the job owns them now */
	conn = -1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &attr, exec_conn_reader, job);
	pthread_create(&t, &attr, exec_waiter, job);
	pthread_attr_destroy(&attr);
out:
	for (size_t k = 0; k < nfds; k++)
		close(fds[k]);
	if (conn >= 0)
		close(conn);
}

static void handle_attest(struct rune_enclave *e, int conn, json_t *req)
{
	unsigned char ti[512] = { 0 }, report[1024];
	const char *rd = json_string_value(json_object_get(req, "report_data"));
	const char *tih = json_string_value(json_object_get(req, "target_info"));
	int len = sizeof(report), ret;
	char hex[2 * sizeof(report) + 1];

	if (e->ops.version < 3) {
		runelet_reply_error(conn, ENOTSUP,
				    "attest needs an enclave runtime with PAL API v3");
		goto out;
	}
	/* Report data travels in the report buffer: the PAL reads it from there (Inclavare's convention). */
	memset(report, 0, sizeof(report));
	for (size_t i = 0; rd && rd[2 * i] && rd[2 * i + 1] && i < 64; i++)
		sscanf(rd + 2 * i, "%2hhx", &report[320 + i]);
	for (size_t i = 0; tih && tih[2 * i] && tih[2 * i + 1] && i < sizeof(ti); i++)
		sscanf(tih + 2 * i, "%2hhx", &ti[i]);
	errno = 0;
	ret = e->ops.get_local_report(ti, 512, report, &len);
	if (ret != 0 || len <= 0 || len > (int)sizeof(report)) {
		char msg[256];
		int code = rune_pal_error(e, ret, errno);
		snprintf(msg, sizeof(msg), "pal_get_local_report failed with %d (%s)", ret,
			 strerror(code));
		runelet_reply_error(conn, code, msg);
		goto out;
	}
	for (int i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", report[i]);
	json_t *j = json_pack("{s:s,s:s}", "type", "report", "report", hex);
	runelet_send(conn, j, NULL, 0);
	json_decref(j);
out:
	close(conn);
}

static void forward_signal(struct rune_enclave *e, int sig)
{
	if (sig == SIGCHLD || sig == SIGPIPE || sig == SIGWINCH || sig == SIGURG)
		return; /* runtime-internal: never forwarded */
	if (e->ops.version >= 2) {
		e->ops.kill(e->workload_pid, sig);
		return;
	}
	/* v1 has no pal_kill: a terminating signal ends the enclave, and the container 128+N. */
	if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT)
		destroy_once(e, 128 + sig);
}

/* Everything but the synchronous faults: an emulated enclave traps ENCLU as SIGILL. */
void rune_forwardable_signals(sigset_t *set)
{
	static const int sync_faults[] = { SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP, SIGSYS };

	sigfillset(set);
	for (size_t i = 0; i < ARRAY_SIZE(sync_faults); i++)
		sigdelset(set, sync_faults[i]);
}

static void *control_thread(void *arg)
{
	struct rune_enclave *e = arg;
	sigset_t all;
	int sfd;

	rune_forwardable_signals(&all);
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN },
				       { .fd = e->listen_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				forward_signal(e, si.ssi_signo);
		}
		if (p[1].revents & POLLIN) {
			int fds[3];
			size_t nfds = 0;
			int conn = accept4(e->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0)
				continue;
			json_t *req = runelet_recv(conn, fds, &nfds);
			const char *type = json_string_value(json_object_get(req, "type"));
			if (type && strcmp(type, "exec") == 0)
				handle_exec(e, conn, req, fds, nfds);
			else if (type && strcmp(type, "attest") == 0)
				handle_attest(e, conn, req);
			else if (type && strcmp(type, "kill") == 0) {
				forward_signal(e,
					       json_integer_value(json_object_get(req, "signal")));
				close(conn);
			} else {
				for (size_t k = 0; k < nfds; k++)
					close(fds[k]);
				runelet_reply_error(conn, EINVAL, "unknown request");
				close(conn);
			}
			json_decref(req);
		}
	}
	return NULL;
}

int rune_enclave_run(struct rune_enclave *e, const struct rune_process *p, int sync_fd)
{
	_cleanup_free_ char *path = rune_process_lookup(p, p->args[0]);
	struct pal_stdio_fds stdio = { 0, 1, 2 };
	int exit_value = 0, ret;
	sigset_t all;
	pthread_t t;

	/* Signals reach the workload through the control thread, never rune's own handlers. */
	rune_forwardable_signals(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (path == NULL)
		path = strdup(p->args[0]);
	errno = 0;
	if (e->ops.version == 1) {
		/* pal_exec runs to the end: `start` can only be told it began. */
		close(sync_fd);
		if (e->listen_fd >= 0)
			pthread_create(&t, NULL, control_thread, e);
		ret = e->ops.exec_v1(path, p->args, &stdio, &exit_value);
	} else {
		struct pal_create_process_args ca = {
			.path = path,
			.argv = (const char **)p->args,
			.env = (const char **)(p->env ? p->env : (char *[]){ NULL }),
			.stdio = &stdio,
			.pid = &e->workload_pid
		};
		struct stderr_capture cap;
		char why[512];
		int saved_errno, workload_err = fcntl(2, F_DUPFD_CLOEXEC, 3);

		/*
		 * Nothing else runs yet: what reaches fd 2 meanwhile is the PAL's
		 * reason. The workload's stderr is the same file under another
		 * number, so a PAL that keeps (or dups) it never keeps the capture.
		 */
		if (workload_err >= 0)
			stdio.stderr = workload_err;
		stderr_capture_begin(&cap);
		errno = 0;
		ret = e->ops.create_process(&ca);
		saved_errno = errno;
		stderr_capture_end(&cap, why, sizeof(why));
		/*
		 * `start` learns from the start connection whether the workload began;
		 * the enclave is destroyed first, as rune kills the container then.
		 */
		if (ret != 0) {
			int code = rune_pal_error(e, ret, saved_errno);
			err_t err = NULL;

			err_set(
			    &err, code,
			    "enclave runtime %s: pal_create_process for %s failed with %d (%s)%s%s",
			    e->runtime_path, p->args[0], ret, strerror(code), *why ? ": " : "",
			    why);
			fprintf(stderr, "rune: %s\n", err_msg(err));
			destroy_once(e, -1);
			sync_send_error(sync_fd, err, 0);
			err_free(&err);
			close(sync_fd);
			return 127;
		}
		close(sync_fd);
		if (ret == 0) {
			struct pal_exec_args ea = { .pid = e->workload_pid,
						    .exit_value = &exit_value };
			pthread_create(&t, NULL, control_thread, e);
			ret = e->ops.exec(&ea);
		}
	}
	if (ret != 0) {
		fprintf(stderr, "rune: enclave runtime %s: running %s failed with %d (%s)\n",
			e->runtime_path, p->args[0], ret, strerror(rune_pal_error(e, ret, errno)));
		ret = 127;
	} else {
		ret = exit_code_of(e, exit_value);
	}
	/* A v1 signal's pal_destroy may be ending pal_exec: then its exit code stands. */
	destroy_once(e, -1);
	return ret;
}
