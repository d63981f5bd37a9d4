/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LibOS enclave's ABI with its untrusted host (liberpal-libos.so),
 * shared by both sides. See docs/libos.md.
 *
 * EENTER: RDI = an ecall, RSI = the untrusted mailbox (host memory, outside
 * the ELRANGE). EEXIT: RDI = an exit reason, RSI = a value. After an AEX
 * the host EENTERs (CSSA 1) with LIBOS_ECALL_EXCEPTION; the enclave's
 * handler emulates the faulting instruction (SYSCALL, CPUID, RDTSC) into
 * its SSA frame, possibly through OCALLs, and exits with LIBOS_EXIT_RESUME:
 * the host then ERESUMEs. An OCALL exits with LIBOS_EXIT_OCALL (RSI = its
 * number, arguments in the mailbox) and is answered by an EENTER with
 * LIBOS_ECALL_OCALL_RET and RSI = the result. Every answer is checked.
 */
#ifndef LIBOS_ABI_H
#define LIBOS_ABI_H

#define LIBOS_NSSA 2
/*
 * Per enclave thread, one block aligned to its size: the thread's state at
 * its start, the LibOS's stack (START, then the exception handler at CSSA 1)
 * above it, so the current thread is found from the stack pointer.
 */
#define LIBOS_THREAD_BLOCK (128 * 1024)

/*
 * Every EENTER: RDX = signals the host was asked to deliver (rune kill,
 * and SIGCHLD when a child process's host process ended), a bit per signal
 * (1 << (sig - 1)); the LibOS takes only these, as signals from outside the
 * process would be on Linux.
 */
#define LIBOS_HOST_SIGNALS                                                                         \
	((1ULL << 0) | (1ULL << 1) | (1ULL << 2) | (1ULL << 9) | (1ULL << 11) | (1ULL << 13) |     \
	 (1ULL << 14) | (1ULL << 16) |                                                             \
	 (1ULL << 27)) /* HUP INT QUIT USR1 USR2 ALRM TERM CHLD WINCH */

/* EENTER: RDI */
#define LIBOS_ECALL_START     1 /* load the entrypoint and run it; argv/env in the mailbox */
#define LIBOS_ECALL_OCALL_RET 2 /* RSI: the pending OCALL's result */
#define LIBOS_ECALL_EXCEPTION 3 /* after an AEX (the enclave checks CSSA itself) */
#define LIBOS_ECALL_THREAD    4 /* a thread the LibOS started (THREAD_CREATE): RSI its mailbox */
#define LIBOS_ECALL_REPORT    5 /* the service TCS (the last): RSI a struct libos_report_req */

/* EEXIT: RDI */
#define LIBOS_EXIT_DONE	  1 /* RSI: exit status 0-255, or a negative errno (LibOS failure) */
#define LIBOS_EXIT_OCALL  2 /* RSI: an OCALL number */
#define LIBOS_EXIT_RESUME 3 /* ERESUME the TCS */
#define LIBOS_EXIT_THREAD 4 /* this thread ended; the process goes on (its TCS is free) */

/* OCALLs: arguments in mailbox arg[], data in buf; result in RSI (or -errno). */
#define LIBOS_OCALL_WRITE 1 /* arg0 fd (0-2), buf[0,len): bytes written */
#define LIBOS_OCALL_READ  2 /* arg0 fd (0), len: bytes read into buf */
#define LIBOS_OCALL_CLOCK 3 /* arg0 clock id: out0 sec, out1 nsec */
#define LIBOS_OCALL_OPEN  4 /* buf: NUL-terminated path: handle, out0 = size */
#define LIBOS_OCALL_PREAD 5 /* arg0 handle, arg1 offset, len: bytes read into buf */
#define LIBOS_OCALL_CLOSE 6 /* arg0 handle */
#define LIBOS_OCALL_CPUID 7 /* arg0 leaf, arg1 subleaf: out0-3 eax, ebx, ecx, edx */
#define LIBOS_OCALL_RDTSC 8 /* out0: the host's TSC */
#define LIBOS_OCALL_SLEEP 9 /* arg0 sec, arg1 nsec: 0, or -EINTR when the workload is killed */
/* Threads: each enclave thread has its own TCS (slot = TCS index) and mailbox. */
#define LIBOS_OCALL_THREAD_CREATE 10 /* arg0 slot: start a host thread entering that TCS */
#define LIBOS_OCALL_FUTEX_WAIT	  11 /* arg0 sec (-1: none), arg1 nsec: block until woken */
#define LIBOS_OCALL_FUTEX_WAKE	  12 /* arg0 slot: wake that thread's FUTEX_WAIT */
#define LIBOS_OCALL_YIELD	  13 /* sched_yield on the host */
/*
 * Sockets pass through to the host (unprotected: TLS inside the enclave is
 * the answer). arg0: a system call number, buf: struct libos_netcall then
 * its input bytes; the output bytes come back after the header, their
 * length in out0. Only sockets the LibOS created are the host's to touch.
 */
#define LIBOS_OCALL_NET 14
/*
 * Processes: a child is a new enclave of the same image in a host process
 * forked off this one. SPAWN: buf holds the int32 host descriptors (the
 * LibOS's, from NET) the child keeps, the first its end of the channel to
 * the parent: the child's host pid. Everything else crosses that channel,
 * authenticated and encrypted by the two enclaves (docs/libos.md).
 * REAP: arg0 a pid SPAWN returned, arg1 1 to not wait: 0 once it is
 * reaped (out0: the host's wait status), -EAGAIN while it runs.
 */
#define LIBOS_OCALL_SPAWN 15
#define LIBOS_OCALL_REAP  16
/*
 * Quotes (/dev/attestation/quote): QE_TARGET puts the quoting enclave's
 * TARGETINFO (512 bytes) in buf; QUOTE takes a REPORT for it (432 bytes in
 * buf) and puts the quote there: its length. The LibOS checks that the
 * quote's report body is its REPORT's.
 */
#define LIBOS_OCALL_QE_TARGET 17
#define LIBOS_OCALL_QUOTE     18
/* arg0 a child's pid (SPAWN's), arg1 a signal: its host process gets it. */
#define LIBOS_OCALL_KILL 19
#define LIBOS_SPAWN_FDS	 64

/*
 * Allowed (pass-through) files, served by src/libos/host/files.c inside the
 * PAL's root: handles are that table's, paths absolute and normalised.
 */
#define LIBOS_OCALL_AOPEN     32 /* buf path, arg0 flags, arg1 mode: handle; out0 size, out1 mode */
#define LIBOS_OCALL_APREAD    33 /* arg0 handle, arg1 offset, len: bytes read into buf */
#define LIBOS_OCALL_APWRITE   34 /* arg0 handle, arg1 offset (-1: append, out0 the end), buf */
#define LIBOS_OCALL_ACLOSE    35 /* arg0 handle */
#define LIBOS_OCALL_ASTAT     36 /* buf: path: out0 size, out1 st_mode */
#define LIBOS_OCALL_AFSTAT    37 /* arg0 handle: out0 size, out1 st_mode */
#define LIBOS_OCALL_AUNLINK   38 /* buf: path, arg0 1 for a directory */
#define LIBOS_OCALL_AMKDIR    39 /* buf: path, arg0 mode */
#define LIBOS_OCALL_AGETDENTS 40 /* arg0 handle, len: buf holds {u8 type, name, NUL}... */
#define LIBOS_OCALL_ATRUNC    41 /* arg0 handle, arg1 size */

#define LIBOS_MAILBOX_MAGIC 0x4d424f4c454e5552ULL /* "RUNELOBM" */
#define LIBOS_STRINGS_MAX   (64 * 1024)
#define LIBOS_BUF_MAX	    (64 * 1024)
#define LIBOS_CHUNK_SIZE    (16 * 1024) /* trusted files are verified per chunk */

/* The manifest slot: the LibOS ELF's last PT_LOAD, replaced by rune-image. */
#define LIBOS_MANIFEST_SLOT_MAGIC "RUNE-LIBOS-MANIFEST-SLOT"
#define LIBOS_MANIFEST_MAGIC	  "rune-libos-manifest 1\n"
#define LIBOS_MANIFEST_MAX	  (16 * 1024 * 1024)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* LIBOS_ECALL_REPORT: EREPORT for targetinfo with reportdata, into report (host memory). */
struct libos_report_req {
	uint8_t targetinfo[512];
	uint8_t reportdata[64];
	uint8_t report[432];
};

struct libos_netcall {
	int64_t a[6];	  /* the system call's arguments; pointers are replaced by the data */
	uint64_t in_len;  /* input bytes after this header */
	uint64_t out_max; /* room for output bytes after this header */
};
#define LIBOS_NET_DATA_MAX (LIBOS_BUF_MAX - sizeof(struct libos_netcall))

struct libos_mailbox {
	uint64_t magic;
	/* LIBOS_ECALL_START: argc then envc NUL-terminated strings */
	int32_t pid;
	int32_t trace;	 /* the host's log level asks for a syscall trace (DEBUG enclaves only) */
	int32_t channel; /* a child process: 1 + the host fd of its channel to the parent; else 0 */
	int32_t exec;	 /* rune exec: the first string is the program's path, then argv and env */
	uint32_t argc, envc, strings_len;
	char strings[LIBOS_STRINGS_MAX];
	/* OCALLs */
	int64_t arg[4];
	int64_t out[4];
	uint64_t len;
	uint8_t buf[LIBOS_BUF_MAX];
};
#endif

#endif
