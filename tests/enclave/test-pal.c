/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test-only enclave runtime (PAL) that records every call rune makes, for
 * tests/enclave/test-pal-contract.sh. Built once per variant (mk/50-enclave-tests.mk):
 *
 *   -DPAL_VERSION=N      the PAL API version pal_get_version reports (1 to 4;
 *                        4 implements the v3 calls and must be refused)
 *   -DPAL_OCCLUM         behaves as Occlum's PAL does: failures return -1 and
 *                        set errno, exit values are wait statuses (code << 8,
 *                        or the signal number when a signal ended the process)
 *   -DPAL_NO_<SYMBOL>    leaves a symbol out: GET_VERSION, INIT, EXEC,
 *                        CREATE_PROCESS, KILL, DESTROY, REPORT
 *
 * The log: one JSON object a line, appended to the file named by "log=PATH"
 * in the PAL args (ENCLAVE_RUNTIME_ARGS). Calls made before pal_init (the
 * constructor, "load", and pal_get_version) are kept in memory and written
 * when pal_init learns the path. Each record has "seq", "call", the calling
 * context (pid, tid, comm, cwd, the dev:ino of "/" and of the cwd, fields of
 * /proc/self/status: Uid, Gid, Groups, Cap*, NoNewPrivs, Seccomp, SigIgn; the
 * RLIMIT_NOFILE limits) and the call's arguments.
 *
 * Steering, by the PAL args (space separated; rune turns commas into spaces):
 *   log=PATH         the log file (inside the container: pal_init runs there)
 *   fail_init=N      pal_init returns N (Occlum variant: -1 with errno -N)
 *   fail_create=N    pal_create_process returns N (same convention)
 *   fail_exec=N      pal_exec returns N (same convention)
 *   errno=N          errno left set when a call fails (a stale errno beside a
 *                    negative-errno return, as real PALs leave it)
 *   exit=N           exit value of a workload whose argv names no command
 *   mrenclave=HEX    the MRENCLAVE pal_get_local_report puts in its report
 *   report=MODE      pal_get_local_report misbehaves: "nodata" (zeroes the
 *                    REPORTDATA it was given), "short" (a 100-byte report)
 *
 * pal_create_process keeps the stdio fd numbers as given (as Occlum and the
 * skeleton do) and pal_exec records what they refer to when it starts
 * ("exec_stdio"). v1: pal_destroy makes a running pal_exec return (as SIGKILL),
 * as the skeleton's does.
 *
 * The workload, by argv after argv[0]: "hello" prints a line on stdout and
 * one on stderr; "exit N"; "sleep N" (ends early with 128+sig when pal_kill
 * delivers a terminating signal); "cat" copies stdin to stdout; "echo
 * ARGS..." prints them joined by "|"; anything else (or nothing): exit=N.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rune/pal.h"

#ifndef PAL_VERSION
#define PAL_VERSION 3
#endif

#define EXPORT	     __attribute__((visibility("default")))
#define MAYBE_UNUSED __attribute__((unused)) /* not every variant uses everything */
#define MAX_PROCS    16
#define REC_MAX	     65536
#define PRELOG_MAX   (4 * REC_MAX)
#define REPORT_SIZE  432

struct proc {
	bool used, started;
	int pid;
	int stdio[3];
	char **argv;
	int pending_sig; /* atomic: set by pal_kill */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1;
static char prelog[PRELOG_MAX];
static size_t prelog_len;
static int seq;
static MAYBE_UNUSED bool initialised;
static int default_exit;
static int fail_create, fail_exec;
static unsigned char mrenclave[32];
static char report_mode[16];
static MAYBE_UNUSED struct proc procs[MAX_PROCS];
static MAYBE_UNUSED int next_pid = 1000;
static MAYBE_UNUSED int last_pid;
static MAYBE_UNUSED int v1_pending; /* v1: pal_destroy stops a running pal_exec, as SIGKILL */
static MAYBE_UNUSED int v1_running;
static int stale_errno;

/* ---- a JSON line builder ---- */

struct rec {
	char buf[REC_MAX];
	size_t n;
	bool first;
};

static void rec_raw(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (r->n >= sizeof(r->buf) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(r->buf + r->n, sizeof(r->buf) - r->n, fmt, ap);
	va_end(ap);
	if (k > 0)
		r->n += (size_t)k < sizeof(r->buf) - r->n ? (size_t)k : sizeof(r->buf) - r->n - 1;
}

static void rec_str(struct rec *r, const char *s)
{
	if (s == NULL) {
		rec_raw(r, "null");
		return;
	}
	rec_raw(r, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			rec_raw(r, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			rec_raw(r, "\\u%04x", *p);
		else
			rec_raw(r, "%c", *p);
	}
	rec_raw(r, "\"");
}

static void rec_key(struct rec *r, const char *key)
{
	rec_raw(r, r->first ? "" : ",");
	r->first = false;
	rec_str(r, key);
	rec_raw(r, ":");
}

static void rec_kstr(struct rec *r, const char *key, const char *val)
{
	rec_key(r, key);
	rec_str(r, val);
}

static void rec_kint(struct rec *r, const char *key, long long val)
{
	rec_key(r, key);
	rec_raw(r, "%lld", val);
}

static MAYBE_UNUSED void rec_kstrv(struct rec *r, const char *key, const char *const *v)
{
	rec_key(r, key);
	if (v == NULL) {
		rec_raw(r, "null");
		return;
	}
	rec_raw(r, "[");
	for (size_t i = 0; v[i]; i++) {
		rec_raw(r, i ? "," : "");
		rec_str(r, v[i]);
	}
	rec_raw(r, "]");
}

static MAYBE_UNUSED void rec_khex(struct rec *r, const char *key, const unsigned char *p, size_t n)
{
	rec_key(r, key);
	rec_raw(r, "\"");
	for (size_t i = 0; i < n; i++)
		rec_raw(r, "%02x", p[i]);
	rec_raw(r, "\"");
}

static void dev_ino(const char *path, char *out, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0)
		snprintf(out, len, "error:%d", errno);
	else
		snprintf(out, len, "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
}

/* The calling context: identity and privileges, where it runs. */
static void rec_context(struct rec *r)
{
	static const char *const fields[] = { "Uid",	    "Gid",     "Groups", "CapInh",
					      "CapPrm",	    "CapEff",  "CapBnd", "CapAmb",
					      "NoNewPrivs", "Seccomp", "Umask",	 "SigIgn" };
	char buf[PATH_MAX], line[512], comm[17] = { 0 };
	struct rlimit rl;
	FILE *f;

	rec_kint(r, "pid", getpid());
	rec_kint(r, "tid", syscall(SYS_gettid));
	prctl(PR_GET_NAME, comm, 0, 0, 0);
	rec_kstr(r, "comm", comm);
	rec_kstr(r, "cwd", getcwd(buf, sizeof(buf)) ? buf : "?");
	dev_ino("/", buf, sizeof(buf));
	rec_kstr(r, "root_id", buf);
	dev_ino(".", buf, sizeof(buf));
	rec_kstr(r, "cwd_id", buf);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rec_kint(r, "nofile_soft", (long long)rl.rlim_cur);
		rec_kint(r, "nofile_hard", (long long)rl.rlim_max);
	}
	rec_key(r, "status");
	rec_raw(r, "{");
	f = fopen("/proc/self/status", "re");
	bool first = true;
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *v;
		if (colon == NULL)
			continue;
		*colon = '\0';
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			if (strcmp(line, fields[i]) != 0)
				continue;
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			v[strcspn(v, "\n")] = '\0';
			rec_raw(r, first ? "" : ",");
			first = false;
			rec_str(r, line);
			rec_raw(r, ":");
			rec_str(r, v);
		}
	}
	if (f)
		fclose(f);
	rec_raw(r, "}");
}

/* What an fd refers to: the readlink of /proc/self/fd/N and its dev:ino. */
static void rec_fd(struct rec *r, const char *key, int fd)
{
	char path[64], target[PATH_MAX];
	struct stat st;
	ssize_t n;

	rec_key(r, key);
	rec_raw(r, "{");
	r->first = true;
	rec_kint(r, "fd", fd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = '\0';
	rec_kstr(r, "target", n < 0 ? NULL : target);
	if (fstat(fd, &st) == 0)
		snprintf(target, sizeof(target), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
	rec_kstr(r, "id", fstat(fd, &st) == 0 ? target : NULL); /* null: not an open fd */
	rec_raw(r, "}");
	r->first = false;
}

static MAYBE_UNUSED void rec_stdio(struct rec *r, const struct pal_stdio_fds *s)
{
	rec_key(r, "stdio");
	if (s == NULL) {
		rec_raw(r, "null");
		return;
	}
	rec_raw(r, "{");
	r->first = true;
	rec_fd(r, "stdin", s->stdin);
	rec_fd(r, "stdout", s->stdout);
	rec_fd(r, "stderr", s->stderr);
	rec_raw(r, "}");
	r->first = false;
}

static MAYBE_UNUSED const char *const sgx_paths[] = { "/dev/sgx_enclave", "/dev/sgx_provision",
						      "/dev/sgx/enclave", "/dev/sgx/provision",
						      "/dev/isgx",	  "/var/run/aesmd" };

static struct rec *rec_begin(const char *call)
{
	struct rec *r = malloc(sizeof(*r));

	if (r == NULL)
		return NULL;
	r->n = 0;
	r->first = true;
	rec_raw(r, "{");
	rec_kint(r, "seq", __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST));
	rec_kstr(r, "call", call);
	rec_kint(r, "version", PAL_VERSION);
	rec_context(r);
	return r;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		p += k;
		n -= k;
	}
}

static void rec_end(struct rec *r)
{
	if (r == NULL)
		return;
	rec_raw(r, "}\n");
	pthread_mutex_lock(&lock);
	if (log_fd >= 0) {
		write_all(log_fd, r->buf, r->n);
	} else if (prelog_len + r->n <= sizeof(prelog)) {
		memcpy(prelog + prelog_len, r->buf, r->n);
		prelog_len += r->n;
	}
	pthread_mutex_unlock(&lock);
	free(r);
}

/* ---- conventions ---- */

static int fail(int code)
{
#ifdef PAL_OCCLUM
	errno = code < 0 ? -code : code;
	return -1;
#else
	if (stale_errno)
		errno = stale_errno; /* left over from some failed call inside */
	return code;
#endif
}

static int exit_value(int code, int sig)
{
#ifdef PAL_OCCLUM
	return sig ? sig : (code & 0xff) << 8; /* a wait status */
#else
	return sig ? 128 + sig : code;
#endif
}

#if PAL_VERSION >= 2
static MAYBE_UNUSED bool terminating(int sig)
{
	switch (sig) {
	case 0:
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return false;
	default:
		return true;
	}
}

#endif

/* Runs the workload named by argv; returns its exit value in the PAL's convention. */
static MAYBE_UNUSED int run_workload(char *const argv[], const int stdio[3], int *pending)
{
	const char *cmd = argv && argv[0] ? argv[1] : NULL;
	char line[256];
	int n;

	if (cmd && strcmp(cmd, "hello") == 0) {
		n = snprintf(line, sizeof(line), "testpal v%d: hello\n", PAL_VERSION);
		write_all(stdio[1], line, n);
		n = snprintf(line, sizeof(line), "testpal v%d: hello on stderr\n", PAL_VERSION);
		write_all(stdio[2], line, n);
		return exit_value(0, 0);
	}
	if (cmd && strcmp(cmd, "exit") == 0 && argv[2])
		return exit_value(atoi(argv[2]), 0);
	if (cmd && strcmp(cmd, "echo") == 0) {
		for (int i = 2; argv[i]; i++) {
			write_all(stdio[1], i > 2 ? "|" : "", i > 2);
			write_all(stdio[1], argv[i], strlen(argv[i]));
		}
		write_all(stdio[1], "\n", 1);
		return exit_value(0, 0);
	}
	if (cmd && strcmp(cmd, "cat") == 0) {
		char buf[4096];
		ssize_t k;
		while ((k = read(stdio[0], buf, sizeof(buf))) > 0)
			write_all(stdio[1], buf, k);
		return exit_value(0, 0);
	}
	if (cmd && strcmp(cmd, "sleep") == 0 && argv[2]) {
		struct timespec tick = { 0, 10 * 1000 * 1000 };
		long ticks = atol(argv[2]) * 100;
		for (long i = 0; i < ticks; i++) {
			int sig = pending ? __atomic_load_n(pending, __ATOMIC_SEQ_CST) : 0;
			if (sig)
				return exit_value(0, sig);
			nanosleep(&tick, NULL);
		}
		return exit_value(0, 0);
	}
	return exit_value(default_exit, 0);
}

/* ---- args ---- */

static MAYBE_UNUSED int parse_args(const char *args)
{
	char *copy = strdup(args ? args : ""), *save = NULL, *tok;
	int fail_init = 0;

	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (strncmp(tok, "log=", 4) == 0 && log_fd < 0) {
			log_fd = open(tok + 4, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		} else if (strncmp(tok, "fail_init=", 10) == 0) {
			fail_init = atoi(tok + 10);
		} else if (strncmp(tok, "fail_create=", 12) == 0) {
			fail_create = atoi(tok + 12);
		} else if (strncmp(tok, "fail_exec=", 10) == 0) {
			fail_exec = atoi(tok + 10);
		} else if (strncmp(tok, "errno=", 6) == 0) {
			stale_errno = atoi(tok + 6);
		} else if (strncmp(tok, "exit=", 5) == 0) {
			default_exit = atoi(tok + 5);
		} else if (strncmp(tok, "report=", 7) == 0) {
			snprintf(report_mode, sizeof(report_mode), "%s", tok + 7);
		} else if (strncmp(tok, "mrenclave=", 10) == 0) {
			for (int i = 0; i < 32 && tok[10 + 2 * i] && tok[11 + 2 * i]; i++)
				sscanf(tok + 10 + 2 * i, "%2hhx", &mrenclave[i]);
		}
	}
	free(copy);
	return fail_init;
}

/* ---- the PAL API ---- */

__attribute__((constructor)) static void on_load(void)
{
	memset(mrenclave, 0x11, sizeof(mrenclave));
	rec_end(rec_begin("load"));
}

#ifdef PAL_OCCLUM
/* Occlum's PAL library exports its own occlum_pal_* API next to pal_*: a
 * host may tell Occlum's conventions (-1 + errno, wait statuses) by it. */
EXPORT int occlum_pal_get_version(void)
{
	return PAL_VERSION; /* not recorded: a marker, not part of rune's contract */
}
#endif

#ifndef PAL_NO_GET_VERSION
EXPORT int pal_get_version(void)
{
	rec_end(rec_begin("get_version"));
	return PAL_VERSION;
}
#endif

#ifndef PAL_NO_INIT
EXPORT int pal_init(const void *attr)
{
	const struct pal_attr_t *a = attr;
	struct rec *r;
	int fail_init;

	pthread_mutex_lock(&lock);
	fail_init = parse_args(a ? a->args : NULL);
	if (log_fd >= 0 && prelog_len) {
		write_all(log_fd, prelog, prelog_len);
		prelog_len = 0;
	}
	pthread_mutex_unlock(&lock);
	r = rec_begin("init");
	if (a == NULL) {
		rec_key(r, "attr");
		rec_raw(r, "null");
	} else {
		rec_kstr(r, "args", a->args);
		rec_kstr(r, "log_level", a->log_level);
	}
#if PAL_VERSION >= 3
	if (a) {
		const pal_attr_v3_t *a3 = attr;
		rec_kint(r, "fd", a3->fd);
		rec_kint(r, "addr", (long long)a3->addr);
	}
#endif
	/* what SGX host plumbing the container has */
	rec_key(r, "sgx_paths");
	rec_raw(r, "[");
	bool first = true;
	for (size_t i = 0; i < sizeof(sgx_paths) / sizeof(sgx_paths[0]); i++) {
		if (access(sgx_paths[i], F_OK) != 0)
			continue;
		rec_raw(r, first ? "" : ",");
		first = false;
		rec_str(r, sgx_paths[i]);
	}
	rec_raw(r, "]");
	rec_kint(r, "return", fail_init);
	rec_end(r);
	if (a == NULL)
		return fail(-EINVAL);
	if (fail_init)
		return fail(fail_init);
	initialised = true;
	return 0;
}
#endif

#if PAL_VERSION >= 2
static MAYBE_UNUSED struct proc *find_proc(int pid)
{
	if (pid == 0)
		pid = last_pid;
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used && procs[i].pid == pid)
			return &procs[i];
	return NULL;
}

#endif

#if PAL_VERSION == 1

#ifndef PAL_NO_EXEC
EXPORT int pal_exec(char *path, char *argv[], struct pal_stdio_fds *stdio, int *exit_code)
{
	struct rec *r = rec_begin("exec");
	int fds[3], code;

	rec_kstr(r, "path", path);
	rec_kstrv(r, "argv", (const char *const *)argv);
	rec_stdio(r, stdio);
	rec_kint(r, "exit_code_ptr", exit_code != NULL);
	rec_kint(r, "return", fail_exec);
	rec_end(r);
	if (fail_exec)
		return fail(fail_exec);
	if (!initialised || !stdio || !exit_code || !argv)
		return fail(-EINVAL);
	fds[0] = stdio->stdin;
	fds[1] = stdio->stdout;
	fds[2] = stdio->stderr;
	__atomic_store_n(&v1_running, 1, __ATOMIC_SEQ_CST);
	code = run_workload(argv, fds, &v1_pending);
	r = rec_begin("exec_return");
	rec_kint(r, "exit_value", code);
	rec_end(r);
	*exit_code = code;
	__atomic_store_n(&v1_running, 0, __ATOMIC_SEQ_CST);
	return 0;
}
#endif

#else /* PAL_VERSION >= 2 */

#ifndef PAL_NO_CREATE_PROCESS
EXPORT int pal_create_process(struct pal_create_process_args *args)
{
	struct rec *r = rec_begin("create_process");
	struct proc *p = NULL;
	size_t n = 0;

	if (args) {
		rec_kstr(r, "path", args->path);
		rec_kstrv(r, "argv", args->argv);
		rec_kstrv(r, "env", args->env);
		rec_stdio(r, args->stdio);
		rec_kint(r, "pid_ptr", args->pid != NULL);
	}
	if (fail_create || !args || !initialised || !args->argv || !args->stdio || !args->pid) {
		rec_kint(r, "return", fail_create ? fail_create : -EINVAL);
		rec_end(r);
		return fail(fail_create ? fail_create : -EINVAL);
	}
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_PROCS; i++) {
		if (!procs[i].used) {
			p = &procs[i];
			break;
		}
	}
	if (p) {
		memset(p, 0, sizeof(*p));
		p->used = true;
		p->pid = next_pid++;
		last_pid = p->pid;
		/* The fd numbers as given, as Occlum and the skeleton keep them: rune
		 * must keep them open until pal_exec returns. */
		p->stdio[0] = args->stdio->stdin;
		p->stdio[1] = args->stdio->stdout;
		p->stdio[2] = args->stdio->stderr;
		while (args->argv[n])
			n++;
		p->argv = calloc(n + 1, sizeof(char *));
		for (size_t i = 0; i < n; i++)
			p->argv[i] = strdup(args->argv[i]);
		*args->pid = p->pid;
	}
	pthread_mutex_unlock(&lock);
	rec_kint(r, "return", p ? 0 : -EAGAIN);
	rec_kint(r, "new_pid", p ? p->pid : -1);
	rec_end(r);
	return p ? 0 : fail(-EAGAIN);
}
#endif

#ifndef PAL_NO_EXEC
EXPORT int pal_exec(struct pal_exec_args *args)
{
	struct rec *r = rec_begin("exec");
	struct proc *p;
	int code;

	rec_kint(r, "pid_arg", args ? args->pid : -1);
	rec_kint(r, "exit_value_ptr", args && args->exit_value);
	rec_kint(r, "return", fail_exec);
	rec_end(r);
	if (fail_exec)
		return fail(fail_exec);
	if (!args || !args->exit_value)
		return fail(-EINVAL);
	pthread_mutex_lock(&lock);
	p = find_proc(args->pid);
	if (p && p->started)
		p = NULL;
	if (p)
		p->started = true;
	pthread_mutex_unlock(&lock);
	if (p == NULL)
		return fail(-ESRCH);
	r = rec_begin("exec_stdio");
	rec_kint(r, "pid_arg", args->pid);
	rec_stdio(r, &(struct pal_stdio_fds){ p->stdio[0], p->stdio[1], p->stdio[2] });
	rec_end(r);
	code = run_workload(p->argv, p->stdio, &p->pending_sig);
	r = rec_begin("exec_return");
	rec_kint(r, "pid_arg", args->pid);
	rec_kint(r, "exit_value", code);
	rec_end(r);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; p->argv[i]; i++)
		free(p->argv[i]);
	free(p->argv);
	p->used = false;
	pthread_mutex_unlock(&lock);
	*args->exit_value = code;
	return 0;
}
#endif

#ifndef PAL_NO_KILL
EXPORT int pal_kill(int pid, int sig)
{
	struct rec *r = rec_begin("kill");
	int found = 0;

	rec_kint(r, "pid_arg", pid);
	rec_kint(r, "sig", sig);
	rec_end(r);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_PROCS; i++) {
		struct proc *p = &procs[i];
		if (!p->used || (pid > 0 && p->pid != pid) || (pid == 0 && p->pid != last_pid))
			continue;
		found++;
		if (terminating(sig))
			__atomic_store_n(&p->pending_sig, sig, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&lock);
	return found ? 0 : fail(-ESRCH);
}
#endif

#if PAL_VERSION >= 3 && !defined(PAL_NO_REPORT)
EXPORT int pal_get_local_report(void *targetinfo, int targetinfo_len, void *report, int *report_len)
{
	struct rec *r = rec_begin("get_local_report");
	unsigned char *rep = report;

	rec_kint(r, "targetinfo_len", targetinfo_len);
	rec_kint(r, "report_len_in", report_len ? *report_len : -1);
	if (targetinfo && targetinfo_len >= 64)
		rec_khex(r, "targetinfo_head", targetinfo, 64);
	if (report && report_len && *report_len >= REPORT_SIZE)
		rec_khex(r, "report_data_in", rep + 320, 64);
	rec_end(r);
	if (!targetinfo || targetinfo_len < 512 || !report || !report_len)
		return fail(-EINVAL);
	if (*report_len < REPORT_SIZE) {
		*report_len = REPORT_SIZE;
		return fail(-EINVAL);
	}
	/* A made-up REPORT: body fields at their SGX offsets, REPORTDATA kept. */
	memset(rep, 0, 320);
	memset(rep + 384, 0, REPORT_SIZE - 384);
	rep[48] = 0x05; /* ATTRIBUTES: INIT | MODE64BIT */
	rep[56] = 0x03; /* XFRM: x87 | SSE */
	memcpy(rep + 64, mrenclave, 32);
	memset(rep + 128, 0x22, 32); /* MRSIGNER */
	rep[256] = 0x34;	     /* ISVPRODID 0x1234 */
	rep[257] = 0x12;
	rep[258] = 0x07; /* ISVSVN 7 */
	*report_len = REPORT_SIZE;
	if (!strcmp(report_mode, "nodata"))
		memset(rep + 320, 0, 64);
	if (!strcmp(report_mode, "short"))
		*report_len = 100;
	return 0;
}
#endif

#endif /* PAL_VERSION >= 2 */

#ifndef PAL_NO_DESTROY
EXPORT int pal_destroy(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_PROCS; i++)
		if (procs[i].used)
			__atomic_store_n(&procs[i].pending_sig, SIGKILL, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&lock);
	rec_end(rec_begin("destroy"));
	/* v1: stop a running pal_exec and wait for it (up to 5 s), as the skeleton does */
	__atomic_store_n(&v1_pending, SIGKILL, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 500 && __atomic_load_n(&v1_running, __ATOMIC_SEQ_CST); i++)
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	initialised = false;
	return 0;
}
#endif
