/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LibOS enclave's internal interfaces. Freestanding: no libc, no
 * SYSCALL; the host is reached only through checked OCALLs. No data may
 * hold a pointer at build time (that would need a relocation).
 */
#ifndef LIBOS_H
#define LIBOS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "libos/libos_abi.h"

#pragma GCC visibility push(hidden)

#include "common/sha256.h"

#define PAGE_SIZE  4096UL
#define PAGE_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

/* errno values the LibOS returns (Linux x86-64). */
#define EPERM	     1
#define E2BIG_LIBOS  7
#define ENOENT	     2
#define ESRCH	     3
#define EINTR	     4
#define EIO	     5
#define EBADF	     9
#define EAGAIN	     11
#define ENOMEM	     12
#define EACCES	     13
#define EFAULT	     14
#define EEXIST	     17
#define ENOTDIR	     20
#define EISDIR	     21
#define EINVAL	     22
#define EMFILE	     24
#define ENOTTY	     25
#define EFBIG	     27
#define ESPIPE	     29
#define EROFS	     30
#define ERANGE	     34
#define ENAMETOOLONG 36
#define ENOSYS	     38
#define ENOSPC_LIBOS 28
#define EPIPE	     32

struct exit_pair {
	uint64_t reason;
	int64_t value;
};

/* The SSA's GPR area (SDM Table 38-8), at the end of each frame. */
struct ssa_gpr {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags, rip, ursp, urbp;
	uint32_t exitinfo, reserved;
	uint64_t fsbase, gsbase;
};

/* What the manifest says (measured: part of MRENCLAVE). */
struct manifest {
	const char *text; /* NUL-terminated, in the manifest pages */
	uint64_t enclave_size, heap_offset, heap_size, stack_size;
	/*
	 * An entrypoint linked at fixed addresses: the enclave is based at
	 * enclave_base (0), the LibOS at libos_offset in it, and the program's
	 * pages [exec_start, exec_end) are heap pages at their own addresses.
	 */
	uint64_t libos_offset, enclave_base, exec_start, exec_end;
	int fixed_base;
	uint32_t threads;
	int debug, host_argv, host_env;
	char entrypoint[256];
};

extern struct manifest libos_manifest;
extern uint64_t libos_base, libos_heap_start, libos_heap_end;

/* lib.c */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t str_len(const char *s);
int str_eq(const char *a, const char *b);
int str_ncmp(const char *a, const char *b, size_t n);
void str_lcpy(char *dst, const char *src, size_t n);
size_t fmt(char *buf, size_t size, const char *f, va_list ap);
void log_err(const char *f, ...) __attribute__((format(printf, 1, 2)));
int rdrand64(uint64_t *v);

/* main.c: OCALLs (mailbox checked and copied) */
long libos_ocall_raw(long nr);
extern volatile struct libos_mailbox *libos_mb;
long ocall(long nr, int64_t a0, int64_t a1, uint64_t len);
int64_t libos_mb_pid(void);

/* mm.c */
int mm_init(void);
void *mm_alloc(uint64_t len, int zero); /* page-granular, from the heap */
void mm_free(void *p, uint64_t len);
int user_ok(uint64_t p, uint64_t len); /* within the workload's memory */
long sys_brk(uint64_t addr);
long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, int64_t fd, uint64_t off);
long sys_munmap(uint64_t addr, uint64_t len);
long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot);
void mm_set_brk_base(uint64_t end);
uint64_t mm_brk_room(void);
void mm_set_brk_end(uint64_t end);
uint64_t mm_exec_room(void); /* the brk area reserved after a fixed-address program */

/* fs.c */
int fs_load_trusted(const char *path, uint8_t **data, uint64_t *size);
int fs_normalize(const char *in, char *out, size_t n);
long fs_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, int *handled);
int file_mmap_copy(int fd, uint64_t off, void *dst, uint64_t len);
void fs_init(void); /* at start: SHA-NI if the host's CPUID says so */

/* syscall.c */
long libos_syscall(struct ssa_gpr *g, int *exited, int *status, int *regs_replaced);
void libos_signals(struct ssa_gpr *g, int *exited, int *status);
int libos_fault_signal(struct ssa_gpr *g, int sig);
void libos_raise(uint64_t sig);

/* elf.c */
int elf_load_and_stack(const char *path, const char *const *argv, int argc, const char *const *envp,
		       int envc, uint64_t *entry, uint64_t *sp);

void libos_jump_to_app(uint64_t entry, uint64_t sp) __attribute__((noreturn));

#endif
