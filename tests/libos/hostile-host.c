// SPDX-License-Identifier: Apache-2.0
/*
 * A hostile host for the LibOS enclave (tests/libos/test-libos-hostile.sh):
 * loads ROOT/.rune/libos.{elf,sig} with libsgx and drives the enclave
 * outside the protocol, checking that the enclave refuses:
 *   replay     every exception is entered twice before the ERESUME: the
 *              second entry must do nothing (no OCALL, no second effect)
 *   mailbox    START with a mailbox inside the ELRANGE: refused
 *   order      EXCEPTION before START, OCALL_RET with no OCALL out, START
 *              while running: each refused, and the enclave stays dead
 *   elsewhere  an image for an ET_EXEC program (enclave_base 0) loaded at a
 *              base of the kernel's choosing: START refused
 * Usage: hostile-host ROOT SCENARIO ARGV...   (TAP lines; exit 0 if all ok)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "libos/libos_abi.h"
#include "sgx/loader.h"
#include "sgx/sigstruct.h"
#include "teeimage/teeimage.h"

static struct libos_mailbox mb;
static int rootfd;
static char out[1 << 16];
static size_t nout;
static int failures;

static void report(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (!ok)
		failures++;
}

static long serve(uint64_t nr)
{
	struct open_how how = { .flags = O_RDONLY, .resolve = RESOLVE_IN_ROOT };
	struct timespec ts;
	struct stat st;
	long r;
	int fd;

	switch (nr) {
	case LIBOS_OCALL_WRITE:
		if (mb.len > sizeof(mb.buf))
			return -EINVAL;
		if (mb.arg[0] == 1 && nout + mb.len <= sizeof(out)) {
			memcpy(out + nout, mb.buf, mb.len);
			nout += mb.len;
		} else if (mb.arg[0] == 2 && write(2, mb.buf, mb.len) < 0) {
			return -errno;
		}
		return (long)mb.len;
	case LIBOS_OCALL_CLOCK:
		clock_gettime(mb.arg[0] ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
		mb.out[0] = ts.tv_sec;
		mb.out[1] = ts.tv_nsec;
		return 0;
	case LIBOS_OCALL_OPEN:
		mb.buf[sizeof(mb.buf) - 1] = 0;
		fd = (int)syscall(SYS_openat2, rootfd, (char *)mb.buf, &how, sizeof(how));
		if (fd < 0)
			return -errno;
		fstat(fd, &st);
		mb.out[0] = st.st_size;
		return fd;
	case LIBOS_OCALL_PREAD:
		r = pread((int)mb.arg[0], mb.buf, mb.len, mb.arg[1]);
		return r < 0 ? -errno : r;
	case LIBOS_OCALL_CLOSE:
		close((int)mb.arg[0]);
		return 0;
	}
	return -ENOSYS;
}

static struct sgx_encl *load(const char *root)
{
	char path[4096];
	struct sgx_sigstruct ss;
	struct sgx_image img;
	struct sgx_encl *e = NULL;
	void *elf = NULL;
	size_t len;
	err_t err = NULL;
	int cls;

	snprintf(path, sizeof(path), "%s/.rune/libos.sig", root);
	if (sgx_sigstruct_load(&ss, path, &err) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/.rune/libos.elf", root);
	if (tee_read_file(path, 64 << 20, &elf, &len, &err) < 0 ||
	    tee_libos_image(&img, elf, len, NULL, &err) < 0)
		goto fail;
	if (sgx_encl_load(&e, &img, &ss, NULL, &cls, &err) < 0)
		goto fail;
	sgx_image_free(&img);
	free(elf);
	if (!sgx_encl_traps_syscalls(e)) {
		printf("not ok - the emulator cannot trap SYSCALL here\n");
		exit(1);
	}
	return e;
fail:
	printf("not ok - load the enclave: %s\n", err_msg(err));
	exit(1);
}

static void set_args(char **argv)
{
	size_t k = 0;

	memset(&mb, 0, sizeof(mb));
	mb.magic = LIBOS_MAILBOX_MAGIC;
	mb.pid = 1;
	for (; *argv; argv++, mb.argc++) {
		size_t n = strlen(*argv) + 1;

		memcpy(mb.strings + k, *argv, n);
		k += n;
	}
	mb.strings_len = (uint32_t)k;
}

/* One call on TCS tcs; the exit reason (or -1 if the enclave faulted, -2 on errors). */
static int call_tcs(struct sgx_encl *e, int tcs, uint64_t rdi, uint64_t rsi,
		    struct sgx_encl_regs *r)
{
	err_t err = NULL;
	int ret;

	*r = (struct sgx_encl_regs){ .rdi = rdi, .rsi = rsi };
	ret = rdi ? sgx_encl_call(e, tcs, r, &err) : sgx_encl_resume(e, tcs, r, &err);
	err_free(&err);
	if (ret == -EFAULT)
		return -1;
	return ret < 0 ? -2 : (int)r->rdi;
}

/* One call on the first TCS. */
static int call(struct sgx_encl *e, uint64_t rdi, uint64_t rsi, struct sgx_encl_regs *r)
{
	err_t err = NULL;
	int ret;

	*r = (struct sgx_encl_regs){ .rdi = rdi, .rsi = rsi };
	ret = rdi ? sgx_encl_call(e, 0, r, &err) : sgx_encl_resume(e, 0, r, &err);
	err_free(&err);
	if (ret == -EFAULT)
		return -1;
	return ret < 0 ? -2 : (int)r->rdi;
}

/* Runs the workload, entering each exception twice; the exit status. */
static int run_replaying(struct sgx_encl *e, int *replays_ok)
{
	struct sgx_encl_regs r;
	int why = call(e, LIBOS_ECALL_START, (uintptr_t)&mb, &r);

	*replays_ok = 1;
	for (;;) {
		if (why == -1) {
			why = call(e, LIBOS_ECALL_EXCEPTION, (uintptr_t)&mb, &r);
			if (why == LIBOS_EXIT_RESUME) {
				/* The replay: the same exception again. */
				size_t before = nout;
				int again = call(e, LIBOS_ECALL_EXCEPTION, (uintptr_t)&mb, &r);

				if (again != LIBOS_EXIT_RESUME || nout != before)
					*replays_ok = 0;
				why = call(e, 0, 0, &r);
			}
			continue;
		}
		if (why == LIBOS_EXIT_OCALL) {
			long v = serve(r.rsi);

			why = call(e, LIBOS_ECALL_OCALL_RET, (uint64_t)v, &r);
			continue;
		}
		if (why == LIBOS_EXIT_RESUME) {
			why = call(e, 0, 0, &r);
			continue;
		}
		if (why == LIBOS_EXIT_DONE)
			return (int)(int64_t)r.rsi;
		return -1000 + why;
	}
}

int main(int argc, char **argv)
{
	struct sgx_encl_regs r;
	struct sgx_encl *e;
	int ok, st;

	if (argc < 4)
		return 2;
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	rootfd = open(argv[1], O_PATH | O_DIRECTORY);
	if (rootfd < 0)
		return 2;
	set_args(argv + 3);
	e = load(argv[1]);
	if (!strcmp(argv[2], "replay")) {
		st = run_replaying(e, &ok);
		fwrite(out, 1, nout, stdout);
		report(ok, "a replayed exception entry does nothing (no OCALL, no effect)");
		report(st == 0, "the workload still runs to its end (status 0)");
	} else if (!strcmp(argv[2], "mailbox")) {
		st = call(e, LIBOS_ECALL_START, sgx_encl_base(e) + 0x2000, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "START with a mailbox inside the ELRANGE is refused");
	} else if (!strcmp(argv[2], "elsewhere")) {
		/* load() ignores the manifest's enclave_base: the base is the kernel's. */
		st = call(e, LIBOS_ECALL_START, (uintptr_t)&mb, &r);
		report(sgx_encl_base(e) != 0 && st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "an enclave for a fixed-address program, based elsewhere, runs nothing");
	} else if (!strcmp(argv[2], "order")) {
		st = call(e, LIBOS_ECALL_EXCEPTION, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "EXCEPTION at CSSA 0 is refused");
		st = call(e, LIBOS_ECALL_START, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "after a refusal the enclave stays dead (START refused)");
		sgx_encl_destroy(e);
		e = load(argv[1]);
		st = call(e, LIBOS_ECALL_OCALL_RET, 0, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "OCALL_RET with no OCALL out is refused");
		sgx_encl_destroy(e);
		e = load(argv[1]);
		st = call(e, LIBOS_ECALL_START, (uintptr_t)&mb, &r); /* first AEX: CSSA 1 */
		if (st == LIBOS_EXIT_OCALL) /* a message first? answer it */
			st = call(e, LIBOS_ECALL_OCALL_RET, 0, &r);
		st = call(e, LIBOS_ECALL_START, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "a second START is refused");
	} else if (!strcmp(argv[2], "threads")) {
		if (sgx_encl_tcs_count(e) < 2) {
			printf(
			    "not ok - the image has one TCS: build it with --threads 2 or more\n");
			return 1;
		}
		st = call_tcs(e, 1, LIBOS_ECALL_THREAD, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "THREAD on a TCS the LibOS started no thread on is refused");
		st = call_tcs(e, 1, LIBOS_ECALL_START, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "START on another TCS than the first is refused");
		st = call(e, LIBOS_ECALL_THREAD, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "THREAD on the first TCS is refused");
		st = call(e, LIBOS_ECALL_START, (uintptr_t)&mb, &r);
		report(st == LIBOS_EXIT_DONE && (int64_t)r.rsi == -EINVAL,
		       "and the enclave stays dead (START refused)");
	}
	sgx_encl_destroy(e);
	return failures ? 1 : 0;
}
