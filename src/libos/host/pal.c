// SPDX-License-Identifier: Apache-2.0
/*
 * liberpal-libos.so (PAL API v3): runs a TEE image's entrypoint inside the
 * LibOS enclave. pal_init loads ROOT/.rune/libos.elf (the LibOS with the
 * image's manifest) and libos.sig through libsgx: the Linux driver where
 * /dev/sgx_enclave exists, the emulator elsewhere. pal_exec drives the
 * enclave: OCALLs are served here (stdio, clock, trusted-file content,
 * CPUID/RDTSC), AEXs go back in for the LibOS's exception handler, and the
 * workload's exit_group status is the exit value. Each enclave thread the
 * LibOS starts (THREAD_CREATE) gets a host thread on the TCS it names, with
 * its own mailbox and a futex word the LibOS's FUTEX_WAIT/WAKE block and
 * unblock. Messages go to stderr.
 *
 * args (ENCLAVE_RUNTIME_ARGS): "[root=DIR] [dir=DIR] [backend=sgx|emulator|auto]",
 * root: where the manifest's paths are (default "/", the container's root
 * after pivot_root); dir: the TEE files (default ROOT/.rune).
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "common/cleanup.h"
#include "libos/host/files.h"
#include "libos/libos_abi.h"
#include "net.h"
#include "rune/pal.h"
#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/quote.h"
#include "sgx/sigstruct.h"
#include "teeimage/teeimage.h"

#define MAX_HANDLES 64
#define SLICE_NS    (50 * 1000000) /* host waits look at pal_kill this often */

/* One per TCS: the enclave thread on it. */
struct pal_thread {
	struct libos_mailbox *mb;
	_Atomic uint32_t wake; /* FUTEX_WAKE sets it, FUTEX_WAIT consumes it */
	_Atomic int busy;      /* a host thread runs it */
	pthread_t host;	       /* joined before the PAL may be unloaded */
	int joinable;
	_Atomic pid_t tid;   /* its host thread while it runs: interrupts go there */
	int cssa_after_exit; /* 1: its last thread left from its handler (CSSA 1) */
};

enum { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR, LOG_FATAL, LOG_OFF };

static struct {
	pthread_mutex_t lock;
	struct sgx_encl *encl;
	int log_level;
	int rootfd;
	int created, running, done;
	_Atomic int killed;	    /* stop the workload (SIGKILL, or a signal it can't take) */
	_Atomic uint64_t host_sigs; /* signals for the workload, passed at the next EENTER */
	int pid;
	struct pal_stdio_fds stdio;
	pthread_mutex_t handles_lock;
	int handles[MAX_HANDLES];
	struct pal_thread *threads;
	unsigned nthreads;
	_Atomic uint32_t proc_done; /* the workload ended: exit_status is its status */
	_Atomic int exit_status;
	_Atomic uint32_t live; /* host threads running enclave threads other than the first */
	int stuck;	       /* some never left the enclave: it stays mapped */
	/* What a child process loads again: its own enclave of the same image. */
	char dir[PATH_MAX];
	struct sgx_load_opts opts;
	pthread_mutex_t children_lock;
	pid_t children[LIBOS_SPAWN_FDS];    /* host pids SPAWN started, not reaped yet */
	int execs[LIBOS_SPAWN_FDS];	    /* that one is rune exec's (pal_exec waits for it) */
	pthread_t reapers[LIBOS_SPAWN_FDS]; /* a SPAWN child's: SIGCHLD when it ends */
	int reaping[LIBOS_SPAWN_FDS];
	int is_child; /* this process is one of them (its parent said what it is) */
} pal = { .lock = PTHREAD_MUTEX_INITIALIZER,
	  .handles_lock = PTHREAD_MUTEX_INITIALIZER,
	  .children_lock = PTHREAD_MUTEX_INITIALIZER,
	  .log_level = LOG_WARNING,
	  .rootfd = -1 };

static err_t ctor_err;

static void logmsg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logmsg(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (level < pal.log_level)
		return;
	n = snprintf(buf, sizeof(buf), "libos PAL: ");
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	if (write(STDERR_FILENO, buf, strlen(buf)) < 0) {
		/* nowhere else to report */
	}
}

static int will_emulate(enum sgx_backend b)
{
	const char *e = getenv("SGX_LOADER_BACKEND");

	if (b != SGX_BACKEND_AUTO)
		return b == SGX_BACKEND_EMULATOR;
	if (e && !strcmp(e, "sgx"))
		return 0;
	return (e && !strcmp(e, "emulator")) || access(SGX_DEVICE_PATH, F_OK) != 0;
}

/*
 * dlopen time (before pivot_root): the emulator's secret is still the
 * host's, and so are the host's libraries.
 */
__attribute__((constructor)) static void pal_ctor(void)
{
	err_t qerr = NULL;

	if (will_emulate(SGX_BACKEND_AUTO)) {
		sgx_loader_init(&ctor_err);
		/* The emulated QE's keys too, if they exist (for /dev/attestation/quote). */
		sgx_qe_emu_preload(&qerr);
	} else {
		/* Intel's quote library, if installed; a quote without it says so. */
		sgx_dcap_ql_load(NULL, &qerr);
	}
	err_free(&qerr);
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

static int parse_args(const char *args, char *root, char *dir, size_t n, struct sgx_load_opts *o)
{
	_cleanup_free_ char *copy = strdup(args ? args : "");
	char *save = NULL, *tok;

	if (!copy)
		return -ENOMEM;
	snprintf(root, n, "/");
	dir[0] = 0;
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
		} else if (!strncmp(tok, "root=", 5)) {
			snprintf(root, n, "%s", tok + 5);
		} else if (!strncmp(tok, "dir=", 4)) {
			snprintf(dir, n, "%s", tok + 4);
		} else {
			logmsg(LOG_ERROR, "unknown argument '%s'", tok);
			return -EINVAL;
		}
	}
	if (!dir[0] && (size_t)snprintf(dir, n, "%.*s/%s", (int)(n - 16),
					strcmp(root, "/") ? root : "", TEE_DIR) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int pal_get_version(void)
{
	return 3;
}

static int load(const char *dir, struct sgx_load_opts *opts)
{
	_cleanup_free_ void *elf = NULL;
	_cleanup_error_ err_t err = NULL;
	struct sgx_sigstruct ss;
	struct sgx_image img;
	char path[PATH_MAX + 32];
	const char *mf = NULL;
	uint64_t base;
	size_t len;
	int ret, cls = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, TEE_SIG_NAME);
	ret = sgx_sigstruct_load(&ss, path, &err);
	if (ret == 0) {
		snprintf(path, sizeof(path), "%s/%s", dir, TEE_ELF_NAME);
		ret = tee_read_file(path, 64 << 20, &elf, &len, &err);
	}
	if (ret == 0)
		ret = tee_libos_image(&img, elf, len, &mf, &err);
	if (ret < 0) {
		logmsg(LOG_ERROR, "load the TEE image: %s", err_msg(err));
		return ret;
	}
	/*
	 * A program linked at fixed addresses: the enclave goes where the
	 * manifest says (untrusted here; the LibOS checks its own address).
	 */
	if (tee_manifest_u64(mf, "enclave_base", &base) == 0) {
		opts->fixed_base = 1;
		opts->base = base;
	}
	/* The emulator traps SYSCALL with seccomp, which needs no_new_privs here. */
	if (will_emulate(opts->backend) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		logmsg(LOG_WARNING, "no_new_privs: %s", strerror(errno));
	ret = sgx_encl_load(&pal.encl, &img, &ss, opts, &cls, &err);
	sgx_image_free(&img);
	if (ret < 0) {
		logmsg(LOG_ERROR, "create the enclave: %s", err_msg(err));
		return ret;
	}
	if (!sgx_encl_traps_syscalls(pal.encl)) {
		logmsg(LOG_ERROR, "the SGX emulator cannot trap SYSCALL inside the enclave "
				  "(seccomp refused): not running the LibOS");
		sgx_encl_destroy(pal.encl);
		pal.encl = NULL;
		return -EPERM;
	}
	if (sgx_encl_is_emulated(pal.encl))
		logmsg(pal.is_child ? LOG_DEBUG : LOG_WARNING,
		       "running on the SGX emulator: no hardware protection, "
		       "for development only");
	if (!(ss.body.attributes & SGX_ATTR_DEBUG))
		logmsg(LOG_DEBUG, "a production (non-DEBUG) enclave: it runs untraced");
	return 0;
}

int pal_init(const void *attr)
{
	const pal_attr_v3_t *a3 = attr;
	struct sgx_load_opts opts = { 0 };
	char root[PATH_MAX], dir[PATH_MAX];
	int ret;

	if (!a3)
		return -EINVAL;
	pal.log_level = parse_level(a3->attr_v1.log_level);
	if (a3->fd >= 0 || a3->addr) {
		logmsg(LOG_ERROR, "a pre-created enclave (fd %d, addr %#llx) is not supported",
		       a3->fd, (unsigned long long)a3->addr);
		return -ENOTSUP;
	}
	pthread_mutex_lock(&pal.lock);
	if (pal.encl) {
		ret = -EBUSY;
		logmsg(LOG_ERROR, "pal_init: already initialised");
		goto out;
	}
	ret = parse_args(a3->attr_v1.args, root, dir, sizeof(root), &opts);
	if (ret < 0)
		goto out;
	if (ctor_err && will_emulate(opts.backend)) {
		logmsg(LOG_ERROR,
		       "the SGX emulator's secret was not available when the PAL was "
		       "loaded: %s",
		       err_msg(ctor_err));
		ret = -(ctor_err->code ? ctor_err->code : EINVAL);
		goto out;
	}
	pal.rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (pal.rootfd < 0) {
		ret = -errno;
		logmsg(LOG_ERROR, "root %s: %s", root, strerror(errno));
		goto out;
	}
	net_set_root(pal.rootfd);
	ret = load(dir, &opts);
	snprintf(pal.dir, sizeof(pal.dir), "%s", dir);
	pal.opts = opts;
	if (ret < 0) {
		close(pal.rootfd);
		pal.rootfd = -1;
	}
	for (int i = 0; i < MAX_HANDLES; i++)
		pal.handles[i] = -1;
out:
	pthread_mutex_unlock(&pal.lock);
	return ret;
}

static struct libos_mailbox *new_mailbox(void)
{
	struct libos_mailbox *mb =
	    mmap(NULL, sizeof(*mb), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mb == MAP_FAILED)
		return NULL;
	mb->magic = LIBOS_MAILBOX_MAGIC;
	return mb;
}

/* The mailbox's strings: path (rune exec), then argv, then env; -E2BIG. */
static int fill_strings(struct libos_mailbox *mb, const char *path, const char **argv,
			const char **env)
{
	size_t k = 0, n;

	if (path) {
		n = strlen(path) + 1;
		if (n > sizeof(mb->strings))
			return -E2BIG;
		memcpy(mb->strings, path, n);
		k = n;
		mb->exec = 1;
	}
	for (const char **v = argv; *v; v++, mb->argc++) {
		n = strlen(*v) + 1;
		if (k + n > sizeof(mb->strings))
			return -E2BIG;
		memcpy(mb->strings + k, *v, n);
		k += n;
	}
	for (const char **v = env; v && *v; v++, mb->envc++) {
		n = strlen(*v) + 1;
		if (k + n > sizeof(mb->strings))
			return -E2BIG;
		memcpy(mb->strings + k, *v, n);
		k += n;
	}
	mb->strings_len = (uint32_t)k;
	return 0;
}

static int exec_process(struct pal_create_process_args *args);
static void children_end(void);
static void host_signal(int sig);
static void *reaper_main(void *arg);
static int exec_slot(int pid);
static int exec_wait(int slot, int pid, int *exit_value);

int pal_create_process(struct pal_create_process_args *args)
{
	struct libos_mailbox *mb;
	int ret = 0;

	if (!args || !args->argv || !args->argv[0] || !args->pid)
		return -EINVAL;
	pthread_mutex_lock(&pal.lock);
	if (!pal.encl) {
		ret = -ENXIO;
		logmsg(LOG_ERROR, "pal_create_process: not initialised");
		goto out;
	}
	if (pal.created) {
		/* rune exec: another process, in an enclave of its own (as a child's). */
		pthread_mutex_unlock(&pal.lock);
		return exec_process(args);
	}
	pal.nthreads = sgx_encl_tcs_count(pal.encl);
	pal.threads = calloc(pal.nthreads, sizeof(*pal.threads));
	if (!pal.threads) {
		ret = -ENOMEM;
		goto out;
	}
	mb = new_mailbox();
	if (!mb) {
		ret = -errno;
		free(pal.threads);
		pal.threads = NULL;
		goto out;
	}
	if (fill_strings(mb, NULL, args->argv, args->env) < 0)
		goto big;
	pal.pid = 1;
	mb->pid = pal.pid;
	/* Honoured by DEBUG enclaves only; a production one runs untraced (load() says so). */
	mb->trace = pal.log_level <= LOG_DEBUG;
	pal.threads[0].mb = mb;
	pal.stdio = args->stdio
			? *args->stdio
			: (struct pal_stdio_fds){ STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO };
	pal.created = 1;
	*args->pid = pal.pid;
	goto out;
big:
	munmap(mb, sizeof(*mb));
	free(pal.threads);
	pal.threads = NULL;
	ret = -E2BIG;
	logmsg(LOG_ERROR, "pal_create_process: argv and env exceed %zu bytes", sizeof(mb->strings));
out:
	pthread_mutex_unlock(&pal.lock);
	return ret;
}

static long write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = write(fd, buf + done, len - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return done ? (long)done : -errno;
		done += r;
	}
	return (long)done;
}

static int handle_slot(long h)
{
	for (int i = 0; i < MAX_HANDLES; i++)
		if (pal.handles[i] >= 0 && pal.handles[i] == h)
			return i;
	return -1;
}

static long ocall_open(struct libos_mailbox *mb)
{
	struct stat st;
	int fd, slot;

	if (mb->len == 0 || mb->len > sizeof(mb->buf) || mb->buf[mb->len - 1] != 0)
		return -EINVAL;
	for (slot = 0; slot < MAX_HANDLES && pal.handles[slot] >= 0; slot++)
		;
	if (slot == MAX_HANDLES)
		return -EMFILE;
	fd = tee_open_in_root(pal.rootfd, (const char *)mb->buf, O_RDONLY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EACCES;
	}
	pal.handles[slot] = fd;
	mb->out[0] = st.st_size;
	return fd;
}

static long futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static int stopping(void)
{
	return pal.killed || atomic_load(&pal.proc_done);
}

/* A host wait returns (-EINTR) for this too: the LibOS takes the signals at its next entry. */
static int interrupted(void)
{
	return stopping() || atomic_load(&pal.host_sigs);
}

/* Sleeps in slices of at most 50 ms so that pal_kill cuts it short (-EINTR). */
static long ocall_sleep(int64_t sec, int64_t nsec)
{
	struct timespec end, now;

	if (sec < 0 || nsec < 0 || nsec >= 1000000000)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += sec + (end.tv_nsec + nsec) / 1000000000;
	end.tv_nsec = (end.tv_nsec + nsec) % 1000000000;
	for (;;) {
		struct timespec slice = { 0, 50 * 1000000 };
		int64_t left;

		if (interrupted())
			return -EINTR;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return 0;
		if (left < slice.tv_nsec)
			slice.tv_nsec = left;
		nanosleep(&slice, NULL);
	}
}

/*
 * FUTEX_WAIT for the enclave thread t: until a FUTEX_WAKE for it (maybe an
 * earlier one: the LibOS looks again), the timeout (sec < 0: none), or the
 * workload's end (-EINTR).
 */
static long futex_block(struct pal_thread *t, int64_t sec, int64_t nsec)
{
	struct timespec end, now;

	if (nsec < 0 || nsec >= 1000000000)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (sec >= 0) {
		end.tv_sec += sec + (end.tv_nsec + nsec) / 1000000000;
		end.tv_nsec = (end.tv_nsec + nsec) % 1000000000;
	}
	for (;;) {
		struct timespec slice = { 0, SLICE_NS };

		if (atomic_exchange(&t->wake, 0))
			return 0;
		if (interrupted())
			return -EINTR;
		if (sec >= 0) {
			int64_t left;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left =
			    (end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
			if (left <= 0)
				return -ETIMEDOUT;
			if (left < slice.tv_nsec)
				slice.tv_nsec = left;
		}
		futex(&t->wake, FUTEX_WAIT_PRIVATE, 0, &slice);
	}
}

static void *thread_main(void *arg);

/* THREAD_CREATE: a host thread entering the TCS the LibOS chose for its new thread. */
static long thread_create(int64_t slot)
{
	struct pal_thread *t;
	int ret;

	if (slot <= 0 || (uint64_t)slot >= pal.nthreads)
		return -EINVAL;
	t = &pal.threads[slot];
	/* The thread that had this slot may still be on its way out of the enclave. */
	for (int i = 0; i < 200 && atomic_load(&t->busy); i++)
		usleep(500);
	if (atomic_exchange(&t->busy, 1))
		return -EAGAIN;
	/* Its last host thread has left run(): only its return is left to wait for. */
	if (t->joinable) {
		pthread_join(t->host, NULL);
		t->joinable = 0;
	}
	if (!t->mb)
		t->mb = new_mailbox();
	if (!t->mb)
		goto fail;
	t->mb->pid = pal.pid;
	atomic_store(&t->wake, 0);
	atomic_fetch_add(&pal.live, 1);
	ret = -pthread_create(&t->host, NULL, thread_main, (void *)(intptr_t)slot);
	if (ret == 0) {
		t->joinable = 1;
		return 0;
	}
	atomic_fetch_sub(&pal.live, 1);
	logmsg(LOG_WARNING, "start an enclave thread: %s", strerror(-ret));
fail:
	atomic_store(&t->busy, 0);
	return -EAGAIN;
}

static long spawn(struct libos_mailbox *mb);

/*
 * The slot of child pid, a workload's child (exec 0) or a rune exec's
 * process (exec 1), or -1. Callers hold children_lock, except pal_kill
 * (async-signal-safe: a slot read as it changes names a dead child).
 */
static int child_slot(int64_t pid, int exec)
{
	for (int i = 0; pid > 0 && i < LIBOS_SPAWN_FDS; i++)
		if (pal.children[i] == pid && pal.execs[i] == exec)
			return i;
	return -1;
}

/* KILL: only a child this process started (SPAWN), not reaped yet. */
static long kill_child(int64_t pid, int64_t sig)
{
	long r = -ESRCH;

	if (sig < 0 || sig > 64)
		return -EINVAL;
	pthread_mutex_lock(&pal.children_lock);
	if (child_slot(pid, 0) >= 0)
		r = kill((pid_t)pid, (int)sig) < 0 ? -errno : 0;
	pthread_mutex_unlock(&pal.children_lock);
	return r;
}

int pal_kill(int pid, int sig);

/* A child process's host process: a signal for its workload (kill from its parent). */
static void child_signal(int sig)
{
	pal_kill(pal.pid, sig);
}

/* QE_TARGET and QUOTE: the host's quote provider (Intel's DCAP library, or the emulated QE). */
static long quote_ocall(struct libos_mailbox *mb, uint64_t nr)
{
	const struct sgx_quote_provider *qp = sgx_quote_provider_default();
	_cleanup_error_ err_t err = NULL;
	_cleanup_free_ uint8_t *q = NULL;
	struct sgx_targetinfo ti;
	struct sgx_report rep;
	size_t len = 0;

	if (nr == LIBOS_OCALL_QE_TARGET) {
		if (qp->target_info(&ti, &err) < 0) {
			logmsg(LOG_ERROR, "quote (%s): %s", qp->name, err_msg(err));
			return -EIO;
		}
		memcpy(mb->buf, &ti, sizeof(ti));
		return sizeof(ti);
	}
	if (mb->len != sizeof(rep))
		return -EINVAL;
	memcpy(&rep, mb->buf, sizeof(rep));
	if (qp->quote(&rep, &q, &len, &err) < 0) {
		logmsg(LOG_ERROR, "quote (%s): %s", qp->name, err_msg(err));
		return -EIO;
	}
	if (len > sizeof(mb->buf))
		return -E2BIG;
	memcpy(mb->buf, q, len);
	return (long)len;
}
static long reap(struct libos_mailbox *mb);

static long serve_ocall(int self, struct libos_mailbox *mb, uint64_t nr)
{
	struct timespec ts;
	unsigned a, b, c, d;
	ssize_t r;
	int slot, fd;

	switch (nr) {
	case LIBOS_OCALL_WRITE:
		if (mb->len > sizeof(mb->buf) || (mb->arg[0] != 1 && mb->arg[0] != 2))
			return -EINVAL;
		return write_all(mb->arg[0] == 1 ? pal.stdio.stdout : pal.stdio.stderr, mb->buf,
				 mb->len);
	case LIBOS_OCALL_READ:
		if (mb->len > sizeof(mb->buf) || mb->arg[0] != 0)
			return -EINVAL;
		do
			r = read(pal.stdio.stdin, mb->buf, mb->len);
		while (r < 0 && errno == EINTR);
		return r < 0 ? -errno : r;
	case LIBOS_OCALL_CLOCK:
		clock_gettime(mb->arg[0] ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
		mb->out[0] = ts.tv_sec;
		mb->out[1] = ts.tv_nsec;
		return 0;
	case LIBOS_OCALL_OPEN:
		pthread_mutex_lock(&pal.handles_lock);
		r = ocall_open(mb);
		pthread_mutex_unlock(&pal.handles_lock);
		return r;
	case LIBOS_OCALL_PREAD:
		pthread_mutex_lock(&pal.handles_lock);
		slot = handle_slot(mb->arg[0]);
		fd = slot < 0 ? -1 : dup(pal.handles[slot]);
		pthread_mutex_unlock(&pal.handles_lock);
		if (slot < 0 || mb->len > sizeof(mb->buf) || mb->arg[1] < 0) {
			if (fd >= 0)
				close(fd);
			return -EBADF;
		}
		if (fd < 0)
			return -errno;
		do
			r = pread(fd, mb->buf, mb->len, mb->arg[1]);
		while (r < 0 && errno == EINTR);
		r = r < 0 ? -errno : r;
		close(fd);
		return r;
	case LIBOS_OCALL_CLOSE:
		pthread_mutex_lock(&pal.handles_lock);
		slot = handle_slot(mb->arg[0]);
		if (slot >= 0) {
			close(pal.handles[slot]);
			pal.handles[slot] = -1;
		}
		pthread_mutex_unlock(&pal.handles_lock);
		return slot < 0 ? -EBADF : 0;
	case LIBOS_OCALL_CPUID:
		__cpuid_count((unsigned)mb->arg[0], (unsigned)mb->arg[1], a, b, c, d);
		mb->out[0] = a;
		mb->out[1] = b;
		mb->out[2] = c;
		mb->out[3] = d;
		return 0;
	case LIBOS_OCALL_RDTSC:
		mb->out[0] = (int64_t)__rdtsc();
		return 0;
	case LIBOS_OCALL_SLEEP:
		return ocall_sleep(mb->arg[0], mb->arg[1]);
	case LIBOS_OCALL_THREAD_CREATE:
		return thread_create(mb->arg[0]);
	case LIBOS_OCALL_FUTEX_WAIT:
		return futex_block(&pal.threads[self], mb->arg[0], mb->arg[1]);
	case LIBOS_OCALL_FUTEX_WAKE:
		if (mb->arg[0] < 0 || (uint64_t)mb->arg[0] >= pal.nthreads)
			return -EINVAL;
		atomic_store(&pal.threads[mb->arg[0]].wake, 1);
		futex(&pal.threads[mb->arg[0]].wake, FUTEX_WAKE_PRIVATE, 1, NULL);
		return 0;
	case LIBOS_OCALL_YIELD:
		sched_yield();
		return 0;
	case LIBOS_OCALL_NET:
		return net_call(mb, interrupted);
	case LIBOS_OCALL_SPAWN:
		return spawn(mb);
	case LIBOS_OCALL_REAP:
		return reap(mb);
	case LIBOS_OCALL_QE_TARGET:
	case LIBOS_OCALL_QUOTE:
		return quote_ocall(mb, nr);
	case LIBOS_OCALL_KILL:
		return kill_child(mb->arg[0], mb->arg[1]);
	case LIBOS_OCALL_AOPEN ... LIBOS_OCALL_ATRUNC:
		return files_ocall(mb, nr, pal.rootfd);
	}
	logmsg(LOG_ERROR, "unknown OCALL %llu", (unsigned long long)nr);
	return -ENOSYS;
}

/* One enclave thread's run: what run_step needs between transitions. */
struct run_state {
	int tcs;
	struct libos_mailbox *mb;
	int cssa;   /* the TCS's CSSA while the current call runs: 1 in the LibOS's handler */
	int result; /* when the run stops */
};

#define THREAD_ENDED 1000

/* The next entry: an ECALL (with the host signals pending since the last one) or ERESUME. */
static int next_entry(struct sgx_encl_regs *regs)
{
	if (regs->rdi == 0)
		return SGX_ERESUME;
	regs->rdx = atomic_exchange(&pal.host_sigs, 0);
	return SGX_EENTER;
}

static int run_stop(struct run_state *s, int result)
{
	s->result = result;
	return 0;
}

/* The LibOS's exception handler looks at the AEX (CSSA 1). */
static int enter_handler(struct run_state *s, struct sgx_encl_regs *regs)
{
	s->cssa = 1;
	*regs = (struct sgx_encl_regs){ .rdi = LIBOS_ECALL_EXCEPTION, .rsi = (uintptr_t)s->mb };
	return next_entry(regs);
}

/* sgx_encl_run's step: what each EEXIT or AEX of the thread leads to. */
static int run_step(void *ctx, const struct sgx_encl_exit *x, struct sgx_encl_regs *regs,
		    err_t *err)
{
	struct run_state *s = ctx;

	if (x->interrupted) {
		/*
		 * An interrupt (pal_kill): the workload's code takes the
		 * signals in its handler; the LibOS's own code goes on.
		 */
		if (pal.killed)
			return run_stop(s, 128 + pal.killed);
		if (s->cssa == 0 && atomic_load(&pal.host_sigs))
			return enter_handler(s, regs);
		*regs = (struct sgx_encl_regs){ 0 };
		return SGX_ERESUME;
	}
	if (!x->eexit) {
		int ret = sgx_encl_exit_error(pal.encl, x, err);

		if (s->cssa == 0) {
			logmsg(LOG_TRACE, "AEX on TCS %d: %s", s->tcs, err_msg(*err));
			err_free(err);
			return enter_handler(s, regs);
		}
		logmsg(LOG_ERROR, "the enclave failed: %s", err_msg(*err));
		return run_stop(s, ret);
	}
	switch (regs->rdi) {
	case LIBOS_EXIT_DONE:
		if ((int64_t)regs->rsi < 0) {
			logmsg(LOG_ERROR, "the LibOS failed: %s",
			       strerror((int)-(int64_t)regs->rsi));
			return run_stop(s, (int)(int64_t)regs->rsi);
		}
		return run_stop(s, (int)(regs->rsi & 0xff));
	case LIBOS_EXIT_THREAD:
		pal.threads[s->tcs].cssa_after_exit = s->cssa;
		return run_stop(s, THREAD_ENDED);
	case LIBOS_EXIT_OCALL: {
		long r = serve_ocall(s->tcs, s->mb, regs->rsi);

		*regs = (struct sgx_encl_regs){ .rdi = LIBOS_ECALL_OCALL_RET, .rsi = (uint64_t)r };
		break;
	}
	case LIBOS_EXIT_RESUME:
		s->cssa = 0;
		*regs = (struct sgx_encl_regs){ 0 };
		break;
	default:
		logmsg(LOG_ERROR, "the enclave exited with an unknown reason %llu",
		       (unsigned long long)regs->rdi);
		return run_stop(s, -EPROTO);
	}
	if (pal.killed) {
		if (s->tcs == 0)
			logmsg(LOG_INFO, "stopping the workload: signal %d", pal.killed);
		return run_stop(s, 128 + pal.killed);
	}
	return next_entry(regs);
}

/*
 * Drives enclave thread tcs (entered with ecall first) until it leaves:
 * the workload's status or -errno when the process ends, THREAD_ENDED
 * when only this thread did. One sgx_encl_run: the OCALLs and the AEXs of
 * the workload's system calls are served between its transitions.
 */
static int run(int tcs, uint64_t first)
{
	struct pal_thread *self = &pal.threads[tcs];
	struct run_state s = {
		.tcs = tcs,
		.mb = self->mb,
		.cssa = first == LIBOS_ECALL_THREAD ? self->cssa_after_exit : 0,
	};
	struct sgx_encl_regs regs = { .rdi = first, .rsi = (uintptr_t)self->mb };
	_cleanup_error_ err_t err = NULL;
	sigset_t irq;
	int ret;

	/* Blocked outside the enclave (the emulator lets it in inside): no kick is lost. */
	sigemptyset(&irq);
	sigaddset(&irq, SGX_INTERRUPT_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &irq, NULL);
	atomic_store(&self->tid, (pid_t)syscall(SYS_gettid));
	ret = sgx_encl_run(pal.encl, tcs, (unsigned)next_entry(&regs), &regs, run_step, &s, &err);
	if (ret < 0 && err) {
		logmsg(LOG_ERROR, "the enclave failed: %s", err_msg(err));
		return ret;
	}
	return s.result;
}

/* The workload ended with status (first one wins): every host wait returns. */
static void process_ended(int status)
{
	int none = INT_MIN;

	atomic_compare_exchange_strong(&pal.exit_status, &none, status);
	atomic_store(&pal.proc_done, 1);
	futex(&pal.proc_done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	for (unsigned i = 0; i < pal.nthreads; i++)
		futex(&pal.threads[i].wake, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static void *thread_main(void *arg)
{
	int slot = (int)(intptr_t)arg, ret;

	ret = run(slot, LIBOS_ECALL_THREAD);
	atomic_store(&pal.threads[slot].tid, 0);
	if (ret != THREAD_ENDED)
		process_ended(ret);
	sgx_encl_tcs_release(pal.encl, slot);
	atomic_store(&pal.threads[slot].busy, 0);
	atomic_fetch_sub(&pal.live, 1);
	futex(&pal.live, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
	return NULL;
}

/* Until the workload ends (its first thread may end before the others). */
static void wait_process(void)
{
	while (!atomic_load(&pal.proc_done)) {
		struct timespec slice = { 0, SLICE_NS };

		if (pal.killed) {
			process_ended(128 + pal.killed);
			break;
		}
		futex(&pal.proc_done, FUTEX_WAIT_PRIVATE, 0, &slice);
	}
}

/*
 * The other host threads leave at their next exit from the enclave; one
 * computing inside without a system call never does (no AEX on host
 * signals yet): after a bound, the enclave is left alone (pal_destroy
 * refuses to tear it down under them) and the process's exit ends them.
 */
static int wait_threads(void)
{
	for (int i = 0; i < 40; i++) {
		uint32_t n = atomic_load(&pal.live);
		struct timespec slice = { 0, SLICE_NS };

		if (!n)
			return 0;
		futex(&pal.live, FUTEX_WAIT_PRIVATE, n, &slice);
	}
	return -EBUSY;
}

/*
 * Runs the workload from START on the first TCS until it ends and every
 * thread has left: its status, or -errno when the LibOS failed.
 */
/* The threads' mailboxes and table (no host thread runs them any more). */
static void free_threads(void)
{
	for (unsigned i = 0; pal.threads && i < pal.nthreads; i++)
		if (pal.threads[i].mb)
			munmap(pal.threads[i].mb, sizeof(*pal.threads[i].mb));
	free(pal.threads);
	pal.threads = NULL;
}

static int run_workload(void)
{
	_cleanup_error_ err_t err = NULL;
	int tcs, ret;

	/* The first TCS is the LibOS's first thread: START enters there only. */
	tcs = sgx_encl_tcs_claim(pal.encl, 0, &err);
	if (tcs < 0) {
		logmsg(LOG_ERROR, "pal_exec: %s", err_msg(err));
		return tcs;
	}
	atomic_store(&pal.exit_status, INT_MIN);
	ret = run(tcs, LIBOS_ECALL_START);
	atomic_store(&pal.threads[0].tid, 0);
	sgx_encl_tcs_release(pal.encl, tcs);
	if (ret == THREAD_ENDED)
		wait_process();
	else
		process_ended(ret);
	ret = atomic_load(&pal.exit_status);
	if (wait_threads() < 0) {
		logmsg(LOG_WARNING, "%u enclave thread(s) still running after the workload ended",
		       atomic_load(&pal.live));
		pal.stuck = 1;
	} else {
		/* Out of the PAL's code too, before anyone may unload it. */
		for (unsigned i = 1; i < pal.nthreads; i++)
			if (pal.threads[i].joinable) {
				pthread_join(pal.threads[i].host, NULL);
				pal.threads[i].joinable = 0;
			}
	}
	children_end();
	pthread_mutex_lock(&pal.handles_lock);
	files_close_all();
	for (int i = 0; i < MAX_HANDLES; i++)
		if (pal.handles[i] >= 0) {
			close(pal.handles[i]);
			pal.handles[i] = -1;
		}
	pthread_mutex_unlock(&pal.handles_lock);
	if (!pal.stuck)
		net_close_all();
	return ret;
}

int pal_exec(struct pal_exec_args *args)
{
	int ret;

	if (!args || !args->exit_value)
		return -EINVAL;
	if (args->pid != pal.pid && (ret = exec_slot(args->pid)) >= 0)
		return exec_wait(ret, args->pid, args->exit_value);
	pthread_mutex_lock(&pal.lock);
	if (!pal.created || args->pid != pal.pid || pal.running || pal.done) {
		pthread_mutex_unlock(&pal.lock);
		logmsg(LOG_ERROR, "pal_exec: no process %d to run", args->pid);
		return -ESRCH;
	}
	pal.running = 1;
	pthread_mutex_unlock(&pal.lock);
	ret = run_workload();
	pthread_mutex_lock(&pal.lock);
	pal.running = 0;
	pal.done = 1;
	pthread_mutex_unlock(&pal.lock);
	if (ret < 0)
		return ret;
	*args->exit_value = ret;
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every descriptor but the n in keep (sorted here). */
static void close_all_but(int *keep, int n)
{
	unsigned lo = 0;

	qsort(keep, n, sizeof(*keep), int_cmp);
	for (int i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned)keep[i] < lo)
			continue;
		if ((unsigned)keep[i] > lo)
			close_range(lo, (unsigned)keep[i] - 1, 0);
		lo = (unsigned)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
}

/*
 * The host side of a child process, in the child of fork(): the parent's
 * enclave, threads and descriptors go; a new enclave of the same image
 * starts with the channel to the parent, over which the two enclaves agree
 * on a key and the parent says what to run. Never returns.
 */
/* What a new process gets: the channel to its parent enclave, or (rune exec) its program. */
struct launch {
	int channel;
	struct libos_mailbox *mb; /* rune exec: the strings, made before fork() */
	struct pal_stdio_fds stdio;
};

static void __attribute__((noreturn))
child_process(const int *fds, int n, pid_t parent, const struct launch *l)
{
	int keep[LIBOS_SPAWN_FDS + 9], m = 0, ret;
	struct libos_mailbox *mb;
	sigset_t none;

	/*
	 * It ends with the workload that started it (as a container's processes
	 * end with its init), also when that one is killed. The death signal
	 * follows the forking thread: enclave threads' host threads live as long
	 * as their enclave thread does.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(128 + SIGKILL);
	/*
	 * At the parent's address: a fork child's memory is a copy of the
	 * parent's, pointers and all (the LibOS checks it is so).
	 */
	pal.opts.fixed_base = 1;
	pal.opts.base = sgx_encl_base(pal.encl);
	sgx_encl_forget(pal.encl);
	pal.encl = NULL;
	pal.stdio = l->stdio;
	memcpy(keep, fds, n * sizeof(*fds));
	m = n;
	keep[m++] = STDIN_FILENO;
	keep[m++] = STDOUT_FILENO;
	keep[m++] = STDERR_FILENO;
	keep[m++] = pal.stdio.stdin;
	keep[m++] = pal.stdio.stdout;
	keep[m++] = pal.stdio.stderr;
	keep[m++] = pal.rootfd;
	keep[m++] = sgx_epc_fd();     /* the container's EPC count (-1: none) */
	keep[m++] = sgx_epc_dir_fd(); /* the registry, for the paging model (-1: none) */
	close_all_but(keep, m);
	/* rune exec's process: its own messages (an enclave refused) go to the exec's caller. */
	if (l->mb && pal.stdio.stderr >= 0 && pal.stdio.stderr != STDERR_FILENO)
		dup2(pal.stdio.stderr, STDERR_FILENO);
	net_after_fork(fds, n);
	files_after_fork();
	pthread_mutex_init(&pal.lock, NULL);
	pthread_mutex_init(&pal.handles_lock, NULL);
	pthread_mutex_init(&pal.children_lock, NULL);
	for (int i = 0; i < MAX_HANDLES; i++)
		pal.handles[i] = -1;
	memset(pal.children, 0, sizeof(pal.children));
	memset(pal.execs, 0, sizeof(pal.execs));
	memset(pal.reaping, 0, sizeof(pal.reaping));
	/* The parent's threads are not here: their mailboxes are only memory now. */
	free_threads();
	pal.killed = 0;
	atomic_store(&pal.host_sigs, 0);
	atomic_store(&pal.proc_done, 0);
	atomic_store(&pal.live, 0);
	pal.stuck = 0;
	pal.pid = getpid();
	pal.is_child = 1;
	/*
	 * The runtime's control thread took the parent's signals; this process
	 * takes its own: those a workload can be sent from outside go to it,
	 * the others end the process (the parent hears it as a kill).
	 */
	for (int sig = 1; sig < 32; sig++)
		if ((LIBOS_HOST_SIGNALS & (1ULL << (sig - 1))) && sig != SIGCHLD) {
			struct sigaction sa = { .sa_handler = child_signal };

			sigemptyset(&sa.sa_mask);
			sigaction(sig, &sa, NULL);
		}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	ret = load(pal.dir, &pal.opts);
	if (ret < 0)
		_exit(127);
	pal.nthreads = sgx_encl_tcs_count(pal.encl);
	pal.threads = calloc(pal.nthreads, sizeof(*pal.threads));
	mb = l->mb ? l->mb : new_mailbox();
	if (!pal.threads || !mb)
		_exit(127);
	mb->pid = pal.pid;
	mb->trace = pal.log_level <= LOG_DEBUG;
	mb->channel = l->channel + 1;
	pal.threads[0].mb = mb;
	pal.created = pal.running = 1;
	ret = run_workload();
	_exit(ret < 0 ? 127 : ret & 0xff);
}

/* SPAWN: a child process (its host pid), keeping the enclave's descriptors in the mailbox. */
static long spawn(struct libos_mailbox *mb)
{
	int fds[LIBOS_SPAWN_FDS], n, slot;
	pid_t pid, parent;

	if (mb->len == 0 || mb->len % sizeof(int) || mb->len > sizeof(fds))
		return -EINVAL;
	n = (int)(mb->len / sizeof(int));
	memcpy(fds, mb->buf, mb->len);
	for (int i = 0; i < n; i++)
		if (!net_owns(fds[i]))
			return -EBADF; /* only what the enclave opened goes to its child */
	pthread_mutex_lock(&pal.children_lock);
	for (slot = 0; slot < LIBOS_SPAWN_FDS && pal.children[slot]; slot++)
		;
	if (slot == LIBOS_SPAWN_FDS) {
		pthread_mutex_unlock(&pal.children_lock);
		return -EAGAIN;
	}
	parent = getpid();
	pid = fork();
	if (pid == 0)
		child_process(fds, n, parent,
			      &(struct launch){ .channel = fds[0], .stdio = pal.stdio });
	if (pid > 0) {
		pal.children[slot] = pid;
		pal.reaping[slot] = pthread_create(&pal.reapers[slot], NULL, reaper_main,
						   (void *)(intptr_t)pid) == 0;
	}
	pthread_mutex_unlock(&pal.children_lock);
	return pid < 0 ? -errno : pid;
}

/*
 * rune exec: the program (a trusted file; the manifest must let the host
 * choose argv) runs in a new enclave of the image in a host process of its
 * own, with the stdio it was given; pal_exec waits for it.
 */
static int exec_process(struct pal_create_process_args *args)
{
	struct pal_stdio_fds io = args->stdio ? *args->stdio : pal.stdio;
	struct libos_mailbox *mb = new_mailbox();
	int slot, ret;
	pid_t pid, parent = getpid();

	if (!mb)
		return -ENOMEM;
	ret = fill_strings(mb, args->path ? args->path : args->argv[0], args->argv, args->env);
	if (ret < 0) {
		munmap(mb, sizeof(*mb));
		logmsg(LOG_ERROR, "pal_create_process: argv and env exceed %zu bytes",
		       sizeof(mb->strings));
		return ret;
	}
	pthread_mutex_lock(&pal.children_lock);
	for (slot = 0; slot < LIBOS_SPAWN_FDS && pal.children[slot]; slot++)
		;
	if (slot == LIBOS_SPAWN_FDS) {
		pthread_mutex_unlock(&pal.children_lock);
		munmap(mb, sizeof(*mb));
		return -EAGAIN;
	}
	pid = fork();
	if (pid == 0) {
		int none[1] = { -1 };

		child_process(none, 0, parent,
			      &(struct launch){ .channel = -1, .mb = mb, .stdio = io });
	}
	if (pid > 0) {
		pal.children[slot] = pid;
		pal.execs[slot] = 1;
	}
	pthread_mutex_unlock(&pal.children_lock);
	munmap(mb, sizeof(*mb));
	if (pid < 0)
		return -errno;
	*args->pid = pid;
	return 0;
}

/* An exec'd process of pid: its slot, or -1. */
static int exec_slot(int pid)
{
	int slot;

	pthread_mutex_lock(&pal.children_lock);
	slot = child_slot(pid, 1);
	pthread_mutex_unlock(&pal.children_lock);
	return slot;
}

static int exec_wait(int slot, int pid, int *exit_value)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	pthread_mutex_lock(&pal.children_lock);
	pal.children[slot] = 0;
	pal.execs[slot] = 0;
	pthread_mutex_unlock(&pal.children_lock);
	*exit_value = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}

/* A child's end, as the kernel would say it to its parent: SIGCHLD for the workload. */
static void *reaper_main(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	siginfo_t si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	host_signal(SIGCHLD);
	return NULL;
}

/* Called with children_lock held: slot's reaper has returned (its child is reaped or killed). */
static void reaper_join(int slot)
{
	if (pal.reaping[slot]) {
		pthread_join(pal.reapers[slot], NULL);
		pal.reaping[slot] = 0;
	}
}

/*
 * The workload ended: its children end with it (as a container's
 * processes with its init), and their reapers are joined before the PAL
 * may be unloaded.
 */
static void children_end(void)
{
	pthread_mutex_lock(&pal.children_lock);
	for (int i = 0; i < LIBOS_SPAWN_FDS; i++) {
		if (!pal.children[i] || pal.execs[i])
			continue;
		kill(pal.children[i], SIGKILL);
		while (waitpid(pal.children[i], NULL, 0) < 0 && errno == EINTR)
			;
		reaper_join(i);
		pal.children[i] = 0;
	}
	pthread_mutex_unlock(&pal.children_lock);
}

/* REAP: the wait status of a child SPAWN started (which has left, or is about to). */
static long reap(struct libos_mailbox *mb)
{
	pid_t pid = (pid_t)mb->arg[0];
	int slot, status;

	pthread_mutex_lock(&pal.children_lock);
	for (slot = 0; slot < LIBOS_SPAWN_FDS && (pid <= 0 || pal.children[slot] != pid); slot++)
		;
	pthread_mutex_unlock(&pal.children_lock);
	if (slot == LIBOS_SPAWN_FDS)
		return -ECHILD;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r == pid)
			break;
		if (mb->arg[1] == 1)
			return -EAGAIN;
		if (stopping())
			return -EINTR;
		usleep(1000);
	}
	pthread_mutex_lock(&pal.children_lock);
	reaper_join(slot);
	pal.children[slot] = 0;
	pthread_mutex_unlock(&pal.children_lock);
	mb->out[0] = status;
	return 0;
}

/*
 * Async-signal-safe: sig (0: none, a kill) for the workload at its next
 * entry; threads inside the enclave interrupted, host waits woken.
 */
static void host_signal(int sig)
{
	if (sig)
		atomic_fetch_or(&pal.host_sigs, 1ULL << (sig - 1));
	for (unsigned i = 0; pal.encl && pal.threads && i < pal.nthreads; i++) {
		pid_t tid = atomic_load(&pal.threads[i].tid);

		if (tid)
			sgx_encl_interrupt(pal.encl, tid);
		futex(&pal.threads[i].wake, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
}

/*
 * Async-signal-safe. HUP, INT, QUIT, USR1, USR2, ALRM, TERM and WINCH go
 * to the workload (its handler, or the default action inside the LibOS);
 * SIGKILL and the signals a workload can't be sent from outside stop it.
 * Threads inside the enclave are interrupted (an AEX, on the emulator),
 * threads blocked in a host wait woken, so that even a workload that
 * makes no system call takes the signal (docs/libos.md).
 */
int pal_kill(int pid, int sig)
{
	if (pid > 0 && pid != pal.pid) {
		/* An exec'd process: its own host process takes it (pal_kill is async-signal-safe). */
		if (child_slot(pid, 1) >= 0)
			return kill(pid, sig) < 0 ? -errno : 0;
		return -ESRCH;
	}
	if (pid != -1 && pid != 0 && pid != pal.pid)
		return -ESRCH;
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0 || sig == SIGCHLD || sig == SIGCONT || sig == SIGURG || sig == SIGSTOP ||
	    sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
		return 0;
	if (LIBOS_HOST_SIGNALS & (1ULL << (sig - 1)))
		host_signal(sig);
	else {
		pal.killed = sig;
		host_signal(0);
	}
	return 0;
}

/*
 * An EREPORT of the LibOS enclave for targetinfo, with the report data
 * rune puts in report's REPORTDATA field (as the skeleton takes it). It
 * runs on the enclave's service TCS (the last), beside the workload.
 */
int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	_cleanup_free_ struct libos_report_req *req = NULL;
	_cleanup_error_ err_t err = NULL;
	struct sgx_encl_regs regs = { .rdi = LIBOS_ECALL_REPORT };
	int tcs = -1, ret;

	if (!targetinfo || targetinfo_len < (int)sizeof(req->targetinfo) || !report || !report_len)
		return -EINVAL;
	if (*report_len < (int)sizeof(req->report)) {
		*report_len = sizeof(req->report);
		return -ENOBUFS;
	}
	if (!pal.encl || !pal.running) {
		logmsg(LOG_ERROR, "pal_get_local_report: the enclave is not running");
		return -ENXIO;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	memcpy(req->targetinfo, targetinfo, sizeof(req->targetinfo));
	memcpy(req->reportdata, (uint8_t *)report + 320, sizeof(req->reportdata));
	/* One report at a time: the service TCS is busy while another is made. */
	for (int i = 0; i < 100 && tcs < 0; i++) {
		err_free(&err);
		tcs = sgx_encl_tcs_claim(pal.encl, (int)sgx_encl_tcs_count(pal.encl) - 1, &err);
		if (tcs < 0)
			usleep(10000);
	}
	if (tcs < 0) {
		logmsg(LOG_ERROR, "pal_get_local_report: %s", err_msg(err));
		return tcs;
	}
	regs.rsi = (uintptr_t)req;
	ret = sgx_encl_call(pal.encl, tcs, &regs, &err);
	sgx_encl_tcs_release(pal.encl, tcs);
	if (ret < 0) {
		logmsg(LOG_ERROR, "pal_get_local_report: %s", err_msg(err));
		return ret;
	}
	if (regs.rdi == LIBOS_EXIT_DONE && (int64_t)regs.rsi == -EPERM) {
		/* attestation_type dcap: only the enclave chooses what its REPORTs bind. */
		logmsg(LOG_ERROR,
		       "pal_get_local_report: the enclave makes no REPORT with the host's "
		       "report data (it attests itself: its quotes bind only what it "
		       "chooses; all-zero report data is allowed)");
		return -EPERM;
	}
	if (regs.rdi != LIBOS_EXIT_DONE || regs.rsi != 0) {
		logmsg(LOG_ERROR, "pal_get_local_report: the enclave refused (%lld)",
		       (long long)regs.rsi);
		return -EIO;
	}
	memcpy(report, req->report, sizeof(req->report));
	*report_len = sizeof(req->report);
	return 0;
}

int pal_destroy(void)
{
	pthread_mutex_lock(&pal.lock);
	if (pal.running || pal.stuck) {
		pthread_mutex_unlock(&pal.lock);
		logmsg(LOG_ERROR, "pal_destroy: the workload is still running");
		return -EBUSY;
	}
	sgx_encl_destroy(pal.encl);
	pal.encl = NULL;
	if (pal.rootfd >= 0)
		close(pal.rootfd);
	pal.rootfd = -1;
	free_threads();
	pal.nthreads = 0;
	pal.created = pal.done = 0;
	pthread_mutex_unlock(&pal.lock);
	return 0;
}
