// SPDX-License-Identifier: Apache-2.0
/*
 * A workload for the LibOS tests, built static (musl and glibc) and run
 * both natively and in the enclave; the outputs must be identical.
 *   probe [args|env NAME|cat FILE|exit N|crash|malloc N|time|abort|sleep MS|spin|stderr|ls DIR|stat PATH|
 *          write PATH TEXT|append PATH TEXT|unlink PATH|signals|segv-handler|stdin|cd DIR|yes]...
 * Each command prints one or more lines; errors print "NAME: strerror".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void cat(const char *path)
{
	char buf[4096];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) == 0)
		printf("size %lld\n", (long long)st.st_size);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	if (lseek(fd, 2, SEEK_SET) == 2 && read(fd, buf, 3) == 3)
		printf("at 2: %.3s\n", buf);
	close(fd);
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	caught = sig;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	printf("SIGSEGV handler: signal %d\n", sig);
	fflush(stdout);
	_exit(42);
}

/* raise() with a handler, with the signal blocked then unblocked, ignored. */
static void signals(void)
{
	sigset_t set;

	signal(SIGUSR1, on_signal);
	raise(SIGUSR1);
	printf("caught %d\n", (int)caught);
	caught = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	signal(SIGUSR2, on_signal);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	printf("blocked: caught %d\n", (int)caught);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("unblocked: caught %d\n", (int)caught);
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	printf("ignored: still here\n");
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's entries, sorted, "." and ".." left out, with their type. */
static void ls(const char *path)
{
	char *names[256];
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(path);

	if (!d) {
		printf("opendir %s: %s\n", path, strerror(errno));
		return;
	}
	while ((de = readdir(d)) && n < 256) {
		char line[300];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(line, sizeof(line), "%s %s", de->d_name,
			 de->d_type == DT_DIR	? "dir"
			 : de->d_type == DT_REG ? "file"
						: "other");
		names[n++] = strdup(line);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (int i = 0; i < n; i++) {
		printf("%s\n", names[i]);
		free(names[i]);
	}
}

static void stat_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		printf("stat %s: %s\n", path, strerror(errno));
	else
		printf("stat %s: %s\n", path,
		       S_ISDIR(st.st_mode)   ? "dir"
		       : S_ISREG(st.st_mode) ? "file"
					     : "other");
}

/*
 * XMM0-XMM15 hold a pattern across n raw SYSCALLs (each an AEX and the
 * host's code, which uses vector registers, before ERESUME): 1 if intact.
 */
static int xmm_across_syscalls(long n)
{
	unsigned char in[256], out[256];

	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(i * 7 + 3);
#define XMM_LOAD(r, o)	"movdqu " #o "(%[in]), %%" #r "\n\t"
#define XMM_STORE(r, o) "movdqu %%" #r ", " #o "(%[out])\n\t"
	__asm__ volatile(
	    XMM_LOAD(xmm0, 0) XMM_LOAD(xmm1, 16) XMM_LOAD(xmm2, 32) XMM_LOAD(xmm3, 48) XMM_LOAD(
		xmm4, 64) XMM_LOAD(xmm5, 80) XMM_LOAD(xmm6, 96) XMM_LOAD(xmm7, 112)
		XMM_LOAD(xmm8, 128) XMM_LOAD(xmm9, 144) XMM_LOAD(xmm10, 160) XMM_LOAD(xmm11, 176)
		    XMM_LOAD(xmm12, 192) XMM_LOAD(xmm13, 208) XMM_LOAD(xmm14, 224) XMM_LOAD(
			xmm15, 240) "1:\n\tmov $110, %%eax\n\tsyscall\n\tdec %[n]\n\tjnz "
				    "1b\n\t" XMM_STORE(xmm0, 0) XMM_STORE(xmm1, 16)
					XMM_STORE(xmm2, 32) XMM_STORE(xmm3, 48) XMM_STORE(xmm4, 64)
					    XMM_STORE(xmm5, 80) XMM_STORE(xmm6, 96) XMM_STORE(
						xmm7, 112) XMM_STORE(xmm8, 128) XMM_STORE(xmm9, 144)
						XMM_STORE(xmm10, 160) XMM_STORE(xmm11, 176)
						    XMM_STORE(xmm12, 192) XMM_STORE(xmm13, 208)
							XMM_STORE(xmm14, 224) XMM_STORE(xmm15, 240)
	    : [n] "+r"(n)
	    : [in] "r"(in), [out] "r"(out)
	    : "rax", "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
	      "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
#undef XMM_LOAD
#undef XMM_STORE
	return !memcmp(in, out, sizeof(in));
}

static volatile sig_atomic_t async_caught;

/* A handler that clobbers XMM8, as any handler may: the interrupted code must not see it. */
static void on_async(int sig)
{
	__asm__ volatile("pxor %%xmm8, %%xmm8" ::: "xmm8");
	async_caught = sig;
}

/*
 * Computes without a single system call until a signal's handler ran (it
 * can only arrive as an interrupt), XMM8 holding a pattern throughout:
 * 1 if the pattern survived the handler.
 */
static int compute_until_signal(void)
{
	static const unsigned char pat[16] = "rune-xmm-pattern";
	unsigned char out[16];

	__asm__ volatile("movdqu (%[pat]), %%xmm8\n\t"
			 "1:\n\tpause\n\tcmpl $0, %[caught]\n\tje 1b\n\t"
			 "movdqu %%xmm8, (%[out])"
			 :
			 : [pat] "r"(pat), [out] "r"(out), [caught] "m"(async_caught)
			 : "memory", "xmm8");
	return !memcmp(pat, out, 16);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *c = argv[i];

		if (!strcmp(c, "args")) {
			printf("argc %d\n", argc);
			for (int k = 0; k < argc; k++)
				printf("argv[%d] %s\n", k, argv[k]);
		} else if (!strcmp(c, "env") && i + 1 < argc) {
			const char *v = getenv(argv[++i]);

			printf("%s=%s\n", argv[i], v ? v : "(unset)");
		} else if (!strcmp(c, "cat") && i + 1 < argc) {
			cat(argv[++i]);
		} else if (!strcmp(c, "ls") && i + 1 < argc) {
			ls(argv[++i]);
		} else if (!strcmp(c, "stat") && i + 1 < argc) {
			stat_path(argv[++i]);
		} else if ((!strcmp(c, "write") || !strcmp(c, "append")) && i + 2 < argc) {
			int flags = O_WRONLY | O_CREAT | (c[0] == 'w' ? O_TRUNC : O_APPEND);
			int fd = open(argv[i + 1], flags, 0644);

			if (fd < 0 || write(fd, argv[i + 2], strlen(argv[i + 2])) < 0)
				printf("%s %s: %s\n", c, argv[i + 1], strerror(errno));
			if (fd >= 0)
				close(fd);
			i += 2;
		} else if (!strcmp(c, "unlink") && i + 1 < argc) {
			if (unlink(argv[++i]) < 0)
				printf("unlink %s: %s\n", argv[i], strerror(errno));
		} else if (!strcmp(c, "exit") && i + 1 < argc) {
			fflush(stdout);
			exit(atoi(argv[++i]));
		} else if (!strcmp(c, "malloc") && i + 1 < argc) {
			size_t n = strtoul(argv[++i], NULL, 0);
			char *p = malloc(n);

			if (!p) {
				printf("malloc failed\n");
				continue;
			}
			memset(p, 7, n);
			printf("malloc %zu ok %d\n", n, p[n - 1]);
			free(p);
		} else if (!strcmp(c, "time")) {
			struct timespec a, b;

			clock_gettime(CLOCK_MONOTONIC, &a);
			clock_gettime(CLOCK_MONOTONIC, &b);
			printf("time %s\n", (b.tv_sec > a.tv_sec ||
					     (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)) &&
						    time(NULL) > 1600000000
						? "ok"
						: "bad");
		} else if (!strcmp(c, "crash")) {
			fflush(stdout);
			*(volatile int *)8 = 1;
		} else if (!strcmp(c, "cd") && i + 1 < argc) {
			char buf[256];

			if (chdir(argv[++i]) < 0)
				printf("chdir %s: %s\n", argv[i], strerror(errno));
			printf("cwd %s\n", getcwd(buf, sizeof(buf)) ? buf : strerror(errno));
		} else if (!strcmp(c, "yes")) {
			/* until stdout breaks (SIGPIPE) */
			for (;;)
				if (printf("y\n") < 0 || fflush(stdout) != 0)
					break;
			fprintf(stderr, "stdout broke without SIGPIPE\n");
		} else if (!strcmp(c, "stdin")) {
			char buf[100];
			size_t n, total = 0;

			while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
				fwrite(buf, 1, n, stdout);
				total += n;
			}
			printf("stdin: %zu bytes\n", total);
		} else if (!strcmp(c, "signals")) {
			signals();
		} else if (!strcmp(c, "segv-handler")) {
			struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

			sigaction(SIGSEGV, &sa, NULL);
			fflush(stdout);
			*(volatile int *)8 = 1;
		} else if (!strcmp(c, "abort")) {
			fflush(stdout);
			abort();
		} else if (!strcmp(c, "sleep") && i + 1 < argc) {
			long ms = atol(argv[++i]);
			struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

			printf("sleep %d\n", nanosleep(&ts, NULL));
		} else if (!strcmp(c, "spin")) {
			/* system calls forever (until killed) */
			printf("spinning\n");
			fflush(stdout);
			for (;;)
				getppid();
		} else if (!strcmp(c, "compute")) {
			/* no system call at all (until killed) */
			printf("computing\n");
			fflush(stdout);
			for (volatile unsigned long k = 0;; k++)
				;
		} else if (!strcmp(c, "compute-handler")) {
			signal(SIGUSR1, on_async);
			int kept;

			printf("computing\n");
			fflush(stdout);
			kept = compute_until_signal();
			printf("handler ran for %d, xmm8 %s\n", (int)async_caught,
			       kept ? "kept" : "clobbered");
		} else if (!strcmp(c, "xmm") && i + 1 < argc) {
			long n = atol(argv[++i]);

			printf("xmm0-15 across %ld system calls: %s\n", n,
			       xmm_across_syscalls(n) ? "kept" : "clobbered");
		} else if (!strcmp(c, "getppid") && i + 1 < argc) {
			/* N system call round trips (a cost measure: time it) */
			long n = atol(argv[++i]);

			for (long k = 0; k < n; k++)
				getppid();
			printf("getppid %ld\n", n);
		} else if (!strcmp(c, "stderr")) {
			fprintf(stderr, "to stderr\n");
		} else {
			printf("unknown command %s\n", c);
			return 2;
		}
	}
	return 0;
}
