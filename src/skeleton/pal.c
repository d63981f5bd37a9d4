// SPDX-License-Identifier: Apache-2.0
/*
 * liberpal-skeleton-v{1,2,3}.so: the reference enclave runtime. One source,
 * built once per PAL API version (-DPAL_VERSION=N). pal_init loads the
 * skeleton enclave (encl.elf + encl.ss, from the cwd or the directory in
 * the args) through the SGX loader: the Linux driver where SGX exists, the
 * emulator elsewhere. Each "process" is an ecall on its own TCS; its
 * output and sleeps are OCALLs serviced here. Failures are negative errno
 * values, explained on stderr.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "rune/pal.h"
#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/sigstruct.h"
#include "skeleton_abi.h"

#ifndef PAL_VERSION
#error "build with -DPAL_VERSION=1, 2 or 3"
#endif

#define MAX_PROCS 64

/* LOG_ALWAYS: printed whatever the container's log level (the emulator's warning). */
enum { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR, LOG_FATAL, LOG_OFF, LOG_ALWAYS };

/*
 * A slot's life: used 0 (free) -> 1 (being filled) -> 2 (live) -> 3 (being
 * freed) -> 0. pal_kill and pal_destroy touch a live process's eventfd and
 * kill flag from other threads (pal_kill from a signal handler, too: no
 * locks), so each announces itself in "users" before looking at used; the
 * freer waits for them to leave before it closes the eventfd and lets the
 * slot be reused. Either a signaller sees 3 and leaves the slot alone, or
 * the freer sees it in users and waits (sequentially consistent atomics).
 */
struct proc {
	_Atomic int used;  /* 0 free, 1 being filled, 2 live, 3 being freed */
	_Atomic int users; /* signallers looking at this slot right now */
	int pid;
	_Atomic int started;
	_Atomic int killed; /* the terminating signal pal_kill delivered, or 0 */
	int efd;	    /* wakes an OCALL sleep */
	struct pal_stdio_fds stdio;
	uint32_t argc, argv_len;
	char argv[SKEL_ARGV_MAX];
};

static struct {
	pthread_mutex_t lock;
	struct sgx_encl *encl;
	struct sgx_image img;
	int have_img;
	int log_level;
	_Atomic int next_pid;
	_Atomic int last_pid;
	struct proc procs[MAX_PROCS];
} pal = { .lock = PTHREAD_MUTEX_INITIALIZER, .log_level = LOG_WARNING };

static err_t ctor_err;

static void logmsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (level < pal.log_level)
		return;
	n = snprintf(buf, sizeof(buf), "skeleton PAL v%d: ", PAL_VERSION);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	if (write(STDERR_FILENO, buf, strlen(buf)) < 0) {
		/* nowhere else to report */
	}
}

static int fail(int ret, const char *what, err_t *err)
{
	logmsg(LOG_ERROR, "%s: %s", what, err && *err ? err_msg(*err) : strerror(-ret));
	return ret < 0 ? ret : -EINVAL;
}

/*
 * dlopen time: rune loads the PAL before pivot_root, so this is where the
 * emulator's per-machine secret can still be read from the host.
 */
__attribute__((constructor)) static void pal_ctor(void)
{
	const char *b = getenv("SGX_LOADER_BACKEND");

	if ((b && !strcmp(b, "sgx")) ||
	    (!(b && !strcmp(b, "emulator")) && access(SGX_DEVICE_PATH, F_OK) == 0))
		return;
	sgx_loader_init(&ctor_err);
}

static int parse_level(const char *s)
{
	int l = pal_log_level_from_name(s);

	/* panic logs as fatal does; an unknown level (rune refuses them) as the default. */
	return l < 0		    ? LOG_WARNING
	       : l == PAL_LOG_PANIC ? LOG_FATAL
	       : l == PAL_LOG_OFF   ? LOG_OFF
				    : l;
}

/*
 * args: "[DIR | dir=DIR] [backend=sgx|emulator|auto]", space or comma
 * separated. (No secret path: the container's config must not choose it.)
 */
static int parse_args(const char *args, char *dir, size_t dirlen, struct sgx_load_opts *o)
{
	_cleanup_free_ char *copy = strdup(args ? args : "");
	char *save = NULL, *tok;

	if (!copy)
		return -ENOMEM;
	snprintf(dir, dirlen, ".");
	for (tok = strtok_r(copy, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		if (!strncmp(tok, "backend=", 8)) {
			if (!strcmp(tok + 8, "sgx"))
				o->backend = SGX_BACKEND_DRIVER;
			else if (!strcmp(tok + 8, "emulator"))
				o->backend = SGX_BACKEND_EMULATOR;
			else if (strcmp(tok + 8, "auto")) {
				logmsg(LOG_ERROR, "unknown backend '%s'", tok + 8);
				return -EINVAL;
			}
		} else if (!strncmp(tok, "dir=", 4)) {
			snprintf(dir, dirlen, "%s", tok + 4);
		} else if (strchr(tok, '=')) {
			logmsg(LOG_ERROR, "unknown argument '%s'", tok);
			return -EINVAL;
		} else {
			snprintf(dir, dirlen, "%s", tok);
		}
	}
	return 0;
}

static int will_emulate(const struct sgx_load_opts *o)
{
	const char *b = getenv("SGX_LOADER_BACKEND");

	if (o->backend != SGX_BACKEND_AUTO)
		return o->backend == SGX_BACKEND_EMULATOR;
	if (b && !strcmp(b, "sgx"))
		return 0;
	return (b && !strcmp(b, "emulator")) || access(SGX_DEVICE_PATH, F_OK) != 0;
}

int pal_get_version(void)
{
	return PAL_VERSION;
}

int pal_init(const void *attr)
{
	const struct pal_attr_t *a = attr;
	struct sgx_load_opts opts = { 0 };
	struct sgx_layout_opts layout = { 0 };
	struct sgx_sigstruct ss;
	_cleanup_error_ err_t err = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 16];
	int ret, cls = 0;

	if (!a)
		return -EINVAL;
	pal.log_level = parse_level(a->log_level);
#if PAL_VERSION >= 3
	{
		const pal_attr_v3_t *a3 = attr;

		if (a3->fd >= 0 || a3->addr) {
			logmsg(LOG_ERROR,
			       "a pre-created enclave (fd %d, addr %#llx) is not supported", a3->fd,
			       (unsigned long long)a3->addr);
			return -ENOTSUP;
		}
	}
#endif
	pthread_mutex_lock(&pal.lock);
	if (pal.encl) {
		pthread_mutex_unlock(&pal.lock);
		logmsg(LOG_ERROR, "pal_init: already initialised");
		return -EBUSY;
	}
	ret = parse_args(a->args, dir, sizeof(dir), &opts);
	if (ret < 0)
		goto out;
	if (ctor_err && will_emulate(&opts)) {
		/* Not retried here: inside the rootfs it would be the container's file. */
		logmsg(LOG_ERROR,
		       "the SGX emulator's secret was not available when the PAL was "
		       "loaded: %s",
		       err_msg(ctor_err));
		ret = -(ctor_err->code ? ctor_err->code : EINVAL);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/encl.ss", dir);
	logmsg(LOG_DEBUG, "enclave files in %s; backend %s", dir,
	       will_emulate(&opts) ? "emulator" : "sgx");
	ret = sgx_sigstruct_load(&ss, path, &err);
	if (ret < 0) {
		ret = fail(ret, "load the enclave's SIGSTRUCT", &err);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/encl.elf", dir);
	ret = sgx_image_from_elf(&pal.img, path, &layout, &err);
	if (ret < 0) {
		ret = fail(ret, "load the enclave", &err);
		goto out;
	}
	pal.have_img = 1;
	logmsg(LOG_DEBUG,
	       "%s: ELRANGE %#llx bytes, %llu pages, SSA frame %u page(s); ECREATE, EADD, "
	       "EEXTEND, EINIT",
	       path, (unsigned long long)pal.img.size,
	       (unsigned long long)sgx_image_total_pages(&pal.img), pal.img.ssaframesize);
	ret = sgx_encl_load(&pal.encl, &pal.img, &ss, &opts, &cls, &err);
	if (ret < 0) {
		ret = fail(ret, "create the enclave", &err);
		sgx_image_free(&pal.img);
		pal.have_img = 0;
		goto out;
	}
	if (sgx_encl_is_emulated(pal.encl))
		logmsg(LOG_ALWAYS, "running on the SGX emulator: no hardware protection, "
				   "for development only");
	else
		logmsg(LOG_INFO, "enclave initialised on SGX hardware");
	if (pal.encl) {
		uint8_t mr[32];
		char hex[65];

		sgx_encl_mrenclave(pal.encl, mr);
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", mr[i]);
		logmsg(LOG_DEBUG, "EINIT done on the %s backend: MRENCLAVE %s",
		       sgx_encl_backend(pal.encl), hex);
	}
out:
	pthread_mutex_unlock(&pal.lock);
	return ret;
}

/* Frees a live process's slot, once every signaller is done with its eventfd. */
static void free_proc(struct proc *p)
{
	int live = 2;

	if (!atomic_compare_exchange_strong(&p->used, &live, 3))
		return; /* another thread frees it */
	while (atomic_load(&p->users) > 0)
		sched_yield();
	if (p->efd >= 0)
		close(p->efd);
	p->efd = -1;
	atomic_store(&p->used, 0);
}

/*
 * Delivers SIG (0: none, only looks) to the process in P if it is live,
 * is PID (any, if -1) and, with started_only, has started; 1 if it was.
 * Async-signal-safe: atomics and a write to an eventfd that stays open
 * until we are done with it.
 */
static int signal_proc(struct proc *p, int pid, int sig, int started_only)
{
	int hit = 0, zero = 0;
	uint64_t one = 1;

	atomic_fetch_add(&p->users, 1);
	if (atomic_load(&p->used) == 2 && (pid == -1 || p->pid == pid) &&
	    (!started_only || atomic_load(&p->started))) {
		hit = 1;
		if (sig) {
			atomic_compare_exchange_strong(&p->killed, &zero, sig);
			if (sig == SIGKILL)
				atomic_store(&p->killed, SIGKILL);
			if (write(p->efd, &one, sizeof(one)) < 0) {
				/* the counter is already non-zero: the sleeper wakes anyway */
			}
		}
	}
	atomic_fetch_sub(&p->users, 1);
	return hit;
}

static int new_proc(const char *const *argv, const struct pal_stdio_fds *stdio, struct proc **out)
{
	const char *prog = argv && argv[0] ? strrchr(argv[0], '/') : NULL;
	struct proc *p = NULL;
	size_t off = 0;
	uint32_t argc = 0;

	/* One program lives in this enclave: any other is not found, as a shell would say. */
	prog = prog ? prog + 1 : argv ? argv[0] : NULL;
	if (prog == NULL || strcmp(prog, "skeleton") != 0) {
		logmsg(LOG_ERROR,
		       "%s: no such program in the skeleton enclave (it runs \"skeleton\")",
		       prog ? prog : "(no argv[0])");
		return -ENOENT;
	}
	for (int i = 0; i < MAX_PROCS && !p; i++) {
		int zero = 0;

		if (atomic_compare_exchange_strong(&pal.procs[i].used, &zero, 1))
			p = &pal.procs[i];
	}
	if (!p) {
		logmsg(LOG_ERROR, "too many enclave processes (%d)", MAX_PROCS);
		return -EAGAIN;
	}
	/* argv[0] names the program; the enclave gets the arguments after it. */
	for (size_t i = 1; argv && argv[0] && argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (off + n > SKEL_ARGV_MAX) {
			atomic_store(&p->used, 0);
			logmsg(LOG_ERROR, "arguments longer than %d bytes", SKEL_ARGV_MAX);
			return -E2BIG;
		}
		memcpy(p->argv + off, argv[i], n);
		off += n;
		argc++;
	}
	p->argc = argc;
	p->argv_len = off;
	p->stdio = stdio ? *stdio : (struct pal_stdio_fds){ 0, 1, 2 };
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		int e = errno;

		atomic_store(&p->used, 0);
		logmsg(LOG_ERROR, "eventfd: %s", strerror(e));
		return -e;
	}
	atomic_store(&p->started, 0);
	atomic_store(&p->killed, 0);
	p->pid = atomic_fetch_add(&pal.next_pid, 1) + 1;
	atomic_store(&p->used, 2);
	atomic_store(&pal.last_pid, p->pid);
	*out = p;
	return 0;
}

static long write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return done;
}

/* Sleeps up to secs; returns 0, or the signal pal_kill delivered meanwhile. */
static long ocall_sleep(struct proc *p, uint64_t secs)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs > INT_MAX ? INT_MAX : secs;
	for (;;) {
		struct pollfd pfd = { .fd = p->efd, .events = POLLIN };
		long long ms;
		uint64_t v;
		int sig = atomic_load(&p->killed);

		if (sig)
			return sig;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000LL + (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return 0;
		if (poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms) > 0 &&
		    read(p->efd, &v, sizeof(v)) < 0) {
			/* drained or spurious: loop re-checks */
		}
	}
}

static long service_ocall(struct proc *p, struct skel_mailbox *mb, uint64_t nr)
{
	switch (nr) {
	case SKEL_OCALL_WRITE: {
		int fd = mb->fd == 2 ? p->stdio.stderr : p->stdio.stdout;

		if (mb->len > SKEL_BUF_MAX)
			return -EINVAL;
		return write_all(fd, mb->buf, mb->len);
	}
	case SKEL_OCALL_SLEEP:
		return ocall_sleep(p, mb->arg);
	default:
		return -ENOSYS;
	}
}

/* Runs the enclave process to its end on a free TCS. */
static int run_proc(struct proc *p, int *exit_value)
{
	_cleanup_free_ struct skel_mailbox *mb = calloc(1, sizeof(*mb));
	_cleanup_error_ err_t err = NULL;
	struct sgx_encl_regs regs = { .rdi = SKEL_ECALL_MAIN };
	int tcs, ret = 0, sig;

	if (!mb)
		return -ENOMEM;
	if ((sig = atomic_load(&p->killed))) {
		*exit_value = 128 + sig;
		return 0;
	}
	tcs = sgx_encl_tcs_acquire(pal.encl, &err);
	if (tcs < 0)
		return fail(tcs, "start the enclave process", &err);
	logmsg(LOG_DEBUG, "process %d: EENTER on TCS %d, %u argument(s)", p->pid, tcs, p->argc);
	mb->argc = p->argc;
	mb->argv_len = p->argv_len;
	memcpy(mb->argv, p->argv, p->argv_len);
	regs.rsi = (uintptr_t)mb;
	for (;;) {
		ret = sgx_encl_call(pal.encl, tcs, &regs, &err);
		if (ret < 0) {
			ret = fail(ret, "enclave process", &err);
			break;
		}
		if (regs.rdi == SKEL_EXIT_RETURN) {
			if ((int64_t)regs.rsi < 0) {
				logmsg(LOG_ERROR, "enclave process failed: %s",
				       strerror((int)-(int64_t)regs.rsi));
				ret = (int)(int64_t)regs.rsi;
			} else {
				*exit_value = (int)regs.rsi;
			}
			break;
		}
		if (regs.rdi != SKEL_EXIT_OCALL) {
			logmsg(LOG_ERROR, "enclave exited with unknown reason %llu",
			       (unsigned long long)regs.rdi);
			ret = -EPROTO;
			break;
		}
		logmsg(LOG_TRACE, "process %d: OCALL %llu", p->pid, (unsigned long long)regs.rsi);
		regs.rsi = service_ocall(p, mb, regs.rsi);
		/* SIGKILL does not wait for the enclave's cooperation. */
		if (atomic_load(&p->killed) == SIGKILL) {
			*exit_value = 128 + SIGKILL;
			break;
		}
		regs.rdi = SKEL_ECALL_OCALL_RET;
		regs.rdx = 0;
	}
	/* After an AEX the TCS stays at CSSA 1 (nobody ERESUMEs it): retire it. */
	if (ret != -EFAULT)
		sgx_encl_tcs_release(pal.encl, tcs);
	return ret;
}

static int check_ready(void)
{
	if (!pal.encl) {
		logmsg(LOG_ERROR, "pal_init has not succeeded");
		return -EINVAL;
	}
	return 0;
}

#if PAL_VERSION == 1
int pal_exec(char *path, char *argv[], struct pal_stdio_fds *stdio, int *exit_code)
{
	struct proc *p = NULL;
	int ret, status = 0;

	(void)path;
	if (!exit_code)
		return -EINVAL;
	ret = check_ready();
	if (ret < 0)
		return ret;
	ret = new_proc((const char *const *)argv, stdio, &p);
	if (ret < 0)
		return ret;
	atomic_store(&p->started, 1);
	ret = run_proc(p, &status);
	free_proc(p);
	if (ret == 0)
		*exit_code = status;
	return ret;
}
#else
static struct proc *find_proc(int pid)
{
	for (int i = 0; i < MAX_PROCS; i++)
		if (atomic_load(&pal.procs[i].used) == 2 && pal.procs[i].pid == pid)
			return &pal.procs[i];
	return NULL;
}

int pal_create_process(struct pal_create_process_args *args)
{
	struct proc *p = NULL;
	int ret;

	if (!args || !args->pid || !args->argv)
		return -EINVAL;
	ret = check_ready();
	if (ret < 0)
		return ret;
	ret = new_proc(args->argv, args->stdio, &p);
	if (ret < 0)
		return ret;
	*args->pid = p->pid;
	return 0;
}

int pal_exec(struct pal_exec_args *args)
{
	struct proc *p;
	int ret, status = 0, zero = 0;

	if (!args || !args->exit_value)
		return -EINVAL;
	ret = check_ready();
	if (ret < 0)
		return ret;
	p = find_proc(args->pid);
	if (!p) {
		logmsg(LOG_ERROR, "pal_exec: no enclave process %d", args->pid);
		return -ESRCH;
	}
	if (!atomic_compare_exchange_strong(&p->started, &zero, 1)) {
		logmsg(LOG_ERROR, "pal_exec: process %d already started", args->pid);
		return -EBUSY;
	}
	ret = run_proc(p, &status);
	free_proc(p);
	if (ret == 0)
		*args->exit_value = status;
	return ret;
}

/* Signals that end a process by default; the others are ignored here. */
static int terminates(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return 0;
	default:
		return 1;
	}
}

/* Async-signal-safe (signal_proc). */
int pal_kill(int pid, int sig)
{
	int found = 0;

	if (sig < 0 || sig >= NSIG)
		return -EINVAL;
	if (pid == 0)
		pid = atomic_load(&pal.last_pid);
	for (int i = 0; i < MAX_PROCS; i++)
		found |= signal_proc(&pal.procs[i], pid, sig && terminates(sig) ? sig : 0, 0);
	return found || pid == -1 ? 0 : -ESRCH;
}
#endif

#if PAL_VERSION >= 3
/*
 * EREPORT from inside the enclave for targetinfo. report_len is in/out
 * (at least 432). On input, bytes 320-383 of report (the REPORTDATA field)
 * are the report data to bind; zero them for none.
 */
int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	_cleanup_free_ struct skel_mailbox *mb = NULL;
	_cleanup_error_ err_t err = NULL;
	struct sgx_encl_regs regs = { .rdi = SKEL_ECALL_REPORT };
	int tcs, ret;

	if (!targetinfo || targetinfo_len < (int)sizeof(struct sgx_targetinfo) || !report ||
	    !report_len)
		return -EINVAL;
	if (*report_len < (int)sizeof(struct sgx_report)) {
		*report_len = sizeof(struct sgx_report);
		return -ENOBUFS;
	}
	ret = check_ready();
	if (ret < 0)
		return ret;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	memcpy(mb->targetinfo, targetinfo, sizeof(mb->targetinfo));
	memcpy(mb->reportdata, (uint8_t *)report + offsetof(struct sgx_report_body, reportdata),
	       64);
	tcs = sgx_encl_tcs_acquire(pal.encl, &err);
	if (tcs < 0)
		return fail(tcs, "get a local report", &err);
	regs.rsi = (uintptr_t)mb;
	ret = sgx_encl_call(pal.encl, tcs, &regs, &err);
	if (ret != -EFAULT)
		sgx_encl_tcs_release(pal.encl, tcs);
	if (ret < 0)
		return fail(ret, "get a local report", &err);
	if (regs.rdi != SKEL_EXIT_RETURN || regs.rsi != 0) {
		logmsg(LOG_ERROR, "the enclave's EREPORT failed");
		return -EIO;
	}
	memcpy(report, mb->report, sizeof(struct sgx_report));
	*report_len = sizeof(struct sgx_report);
	return 0;
}
#endif

/* Kills (as SIGKILL) the processes still running; 1 if any remain. */
static int kill_running(void)
{
	int running = 0;

	for (int i = 0; i < MAX_PROCS; i++)
		running |= signal_proc(&pal.procs[i], -1, SIGKILL, 1);
	return running;
}

int pal_destroy(void)
{
	/* A running process is abandoned at its next OCALL; wait up to 5s for that. */
	for (int i = 0; i < 500 && kill_running(); i++)
		usleep(10000);
	pthread_mutex_lock(&pal.lock);
	if (kill_running()) {
		pthread_mutex_unlock(&pal.lock);
		logmsg(LOG_ERROR, "pal_destroy: an enclave process does not stop");
		return -EBUSY;
	}
	for (int i = 0; i < MAX_PROCS; i++)
		if (atomic_load(&pal.procs[i].used) == 2)
			free_proc(&pal.procs[i]);
	sgx_encl_destroy(pal.encl);
	pal.encl = NULL;
	if (pal.have_img)
		sgx_image_free(&pal.img);
	pal.have_img = 0;
	pthread_mutex_unlock(&pal.lock);
	return 0;
}
