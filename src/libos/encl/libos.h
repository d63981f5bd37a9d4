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

/*
 * State a fork() child takes from its parent byte for byte (proc.c): the
 * LibOS's process state (memory map, descriptors, signal actions) lives
 * here, between __forked_start and __forked_end; the rest (threads, locks,
 * the enclave's own identity) is the child's own.
 */
#define FORKED __attribute__((section(".data.forked")))
extern char __forked_start[], __forked_end[];

#include "common/sha256.h"

#define PAGE_SIZE  4096UL
#define PAGE_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

/* errno values the LibOS returns (Linux x86-64). */
#define EPERM	     1
#define E2BIG_LIBOS  7
#define ENOENT	     2
#define ESRCH	     3
#define ECHILD	     10
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
#define ETIMEDOUT    110

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

#define SSA_FRAME 4096
#define NSIG	  64

/*
 * An enclave thread: one per TCS in use. The first fields are entry.S's
 * (TCTX_* offsets); the block it heads is LIBOS_THREAD_BLOCK bytes, the
 * thread's stack above this struct.
 */
struct libos_thread {
	uint64_t host_regs[7]; /* RSP RBP return R12-R15, at each EENTER */
	uint64_t encl_regs[7]; /* RSP RBP RBX R12-R15, across an OCALL */
	uint64_t ocall_pending;
	volatile uint64_t state; /* THREAD_FREE, THREAD_READY, THREAD_RUNNING */
	uint64_t stack_top;
	uint64_t mb_raw;    /* the THREAD ecall's mailbox, unchecked */
	uint64_t host_sigs; /* RDX of its entries: signals sent from outside, unchecked */
	/* C only */
	volatile struct libos_mailbox *mb;
	uint8_t *ssa;  /* SSA frame 0 of its TCS */
	uint32_t slot; /* TCS index: 0 is the first TCS */
	int32_t tid;
	int starting; /* THREAD entered: its UD2 trap loads start_regs */
	struct ssa_gpr start_regs;
	uint64_t sigmask, sig_pending;
	uint8_t altstack[24];
	uint64_t clear_child_tid;
	/* Waiting in futex(): on libos's wait list, until woken by a FUTEX_WAKE. */
	struct libos_thread *futex_next;
	uint64_t futex_addr;
	uint32_t futex_bitset;
	int futex_waiting, futex_woken;
	/* The parent's extended state at clone (SSA frame bytes before the GPRs). */
	uint8_t xstate[SSA_FRAME - sizeof(struct ssa_gpr)];
};

enum { THREAD_FREE, THREAD_READY, THREAD_RUNNING };

/* thread.c */
struct libos_thread *libos_self(void);
/* EREPORT for a TARGETINFO and report data (any alignment; thread-safe). */
void libos_ereport(const uint8_t ti[512], const uint8_t rd[64], uint8_t out[432]);

void libos_lock(void);
void libos_unlock(void);
extern struct libos_thread libos_thread0;
extern uint64_t libos_dead, libos_tcs1, libos_nextra, libos_service_tcs;
extern struct libos_thread *libos_service;
extern volatile int libos_exiting, libos_exit_status;
int threads_init(void);
long thread_clone(struct ssa_gpr *g, uint64_t flags, uint64_t sp, uint64_t ptid, uint64_t ctid,
		  uint64_t tls);
int thread_start(struct libos_thread *t, struct ssa_gpr *g);
int thread_exit(uint64_t status, int group);
long sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2,
	       uint64_t val3);
long futex_wake(uint64_t uaddr, uint64_t n, uint32_t bitset);
/* Blocks (dropping the LibOS lock) while *word == seen: 0, -ETIMEDOUT (timeout_ns >= 0), -EINTR. */
long libos_wait(volatile uint32_t *word, uint32_t seen, int64_t timeout_ns);
void libos_wake_all(volatile uint32_t *word);
struct libos_thread *thread_by_tid(int32_t tid);
void thread_kick(struct libos_thread *t);
int threads_live(void);

/* main.c: OCALLs (mailbox checked and copied) */
long libos_ocall_raw(long nr);
#define libos_mb (libos_self()->mb)
long ocall(long nr, int64_t a0, int64_t a1, uint64_t len);
/* An OCALL that may block: other threads run the LibOS meanwhile. */
long ocall_blocking(long nr, int64_t a0, int64_t a1, uint64_t len);
int64_t libos_mb_pid(void);
int mailbox_ok(uint64_t mb);

/* mm.c */
int mm_init(void);
void *mm_alloc(uint64_t len, int zero);		      /* page-granular, from the heap */
void *mm_alloc_aligned(uint64_t len, uint64_t align); /* zeroed; align a power of two */
void mm_free(void *p, uint64_t len);
int user_ok(uint64_t p, uint64_t len); /* within the workload's memory */
long sys_brk(uint64_t addr);
int mm_each_used(int (*fn)(uint64_t addr, uint64_t npages, void *arg), void *arg);
int mm_in_heap(uint64_t addr, uint64_t len);
long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, int64_t fd, uint64_t off);
long sys_munmap(uint64_t addr, uint64_t len);
long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot);
void mm_set_brk_base(uint64_t end);
uint64_t mm_brk_room(void);
void mm_set_brk_end(uint64_t end);
uint64_t mm_exec_room(void); /* the brk area reserved after a fixed-address program */

/* ipc.c: pipes, eventfds, epoll, inside the enclave */
struct fobj;
enum { OBJ_PIPE = 1, OBJ_EVENTFD, OBJ_EPOLL, OBJ_SOCKET };
void ipc_get(struct fobj *o);
void ipc_put(struct fobj *o);
long ipc_read(struct fobj *o, void *buf, uint64_t len);
long ipc_write(struct fobj *o, const void *buf, uint64_t len);
uint32_t ipc_mode(struct fobj *o);
long ipc_getfl(struct fobj *o);
long ipc_setfl(struct fobj *o, uint64_t flags);
struct fobj *ipc_socket(int64_t host_fd, int nonblock);
int64_t ipc_host_fd(struct fobj *o); /* -1 unless a socket */
int ipc_nonblock(struct fobj *o);
long ipc_pipe(uint64_t ufds, uint64_t flags);
long ipc_eventfd(uint64_t initval, uint64_t flags);
long ipc_epoll_create(uint64_t flags);
long ipc_epoll_ctl(int epfd, int op, int fd, uint64_t uev);
long ipc_epoll_wait(int epfd, uint64_t uev, int max, int timeout_ms);
/* poll(2)'s core: an item is a descriptor's object (NULL: a file) and POLL* events. */
struct ipc_poll {
	struct fobj *obj;
	int valid; /* an open descriptor (else POLLNVAL) */
	uint32_t events, revents;
};
long ipc_poll(struct ipc_poll *p, int n, int64_t timeout_ns);

/* net.c: sockets, passed through to the host */
#define LIBOS_NETCALL_KICK   100000 /* wake a host epoll_wait (src/libos/host/net.h) */
#define LIBOS_NETCALL_POLLIN 100001 /* wait until a host socket is readable */
long net_host(long nr, const int64_t a[6], const void *in, uint64_t in_len, void *out,
	      uint64_t out_max, uint64_t *out_len, int blocking);
long net_rw(struct fobj *o, void *buf, uint64_t len, int write);
long net_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5);

/* chan.c: the channel to a parent or child enclave, pipes between processes */
#define CHAN_MSG_MAX (LIBOS_NET_DATA_MAX - 64)
struct chan {
	int64_t fd; /* the host socket */
	uint8_t key[32];
	uint32_t dir; /* 0: the parent's records, 1: the child's */
	uint64_t send_seq, recv_seq;
};
int chan_open(struct chan *c, int64_t fd, int parent); /* nonces, then the shared key */
int chan_send(struct chan *c, uint32_t type, const void *msg, uint32_t len);
/*
 * A record: its length and type; -EPIPE at the channel's end, -EAGAIN (wait
 * 0), -EINTR (wait 1: a signal; 2 goes on waiting), -EIO forged.
 */
long chan_recv(struct chan *c, uint32_t *type, void *msg, uint32_t max, int wait);
int chan_send_locked(struct chan *c, uint32_t type, const void *hdr, uint32_t hlen,
		     const void *data, uint32_t dlen);
void chan_close(struct chan *c);
void host_fd_close(int64_t fd);
int host_socketpair(int32_t sv[2]);
int host_socketpair_of(int64_t type, int32_t sv[2]);

#define SPIPE_RECORD   4096 /* PIPE_BUF: one host send never interleaves with another's */
#define SPIPE_DATA_MAX (SPIPE_RECORD - 32)
#define SPIPE_WRITERS  16
struct spipe {
	uint8_t key[32];
	uint64_t id, writer;
	uint32_t counter;
	uint64_t seen_writer[SPIPE_WRITERS];
	uint32_t seen_next[SPIPE_WRITERS];
	uint8_t rx[SPIPE_DATA_MAX];
	uint64_t rx_off, rx_len;
};
int spipe_init(struct spipe *s, const uint8_t *key, uint64_t id); /* key NULL: a new one */
long spipe_write(struct spipe *s, int64_t fd, const uint8_t *buf, uint64_t len);
long spipe_read(struct spipe *s, int64_t fd, uint8_t *buf, uint64_t len, int nonblock);

/* What a child process gets of its parent's descriptors (proc.c, sent over the channel). */
enum { SPAWN_STDIO = 1, SPAWN_PIPE_R, SPAWN_PIPE_W, SPAWN_FILE };
struct spawn_fd {
	int32_t fd, kind;
	int32_t
	    host; /* SPAWN_STDIO: the host's 0-2; a pipe: its host socket (the child keeps it) */
	int32_t nonblock;
	uint64_t id;
	uint8_t key[32];
	/* SPAWN_FILE (a trusted or allowed file): its offset, open flags, path in the strings */
	uint64_t off;
	int32_t flags;
	uint32_t path_off;
};
int ipc_share(struct fobj *o, struct spawn_fd *e); /* a pipe end for a child; -EINVAL if not one */
struct fobj *ipc_import(const struct spawn_fd *e);
int ipc_fork_keep(struct fobj *o, int32_t *keep, int max);
void ipc_obj_after_fork(struct fobj *o);

/* proc.c */
int32_t proc_ppid(void);
void proc_set_exe(const char *path);
const char *proc_exe(void); /* /proc/self/exe */
void proc_term_signal(int sig);
int proc_in_vfork(void);
long proc_vfork(struct ssa_gpr *g, uint64_t flags, uint64_t sp);
long proc_vfork_exit(struct ssa_gpr *g, uint64_t code);
long proc_fork(struct ssa_gpr *g, uint64_t flags, uint64_t ptid, uint64_t ctid);
long proc_execve(struct ssa_gpr *g, uint64_t path, uint64_t argv, uint64_t envp, int *exited,
		 int *status, int *regs_replaced);
long proc_kill(int32_t pid, uint64_t sig);
long proc_kill_group(int32_t pid, uint64_t sig, int *self); /* kill(0), kill(-1), kill(-pgid) */
long proc_pgrp(long nr, int64_t a0, int64_t a1); /* getpgrp, getpgid, getsid, setpgid, setsid */
long proc_wait4(int64_t pid, uint64_t ustatus, uint64_t options, uint64_t rusage);
long proc_waitid(uint64_t idtype, uint64_t id, uint64_t uinfo, uint64_t options);
int proc_child_start(int64_t channel, const char **path, const char ***argv, int *argc,
		     const char ***envp, int *envc);
void proc_child_started(int err);
void proc_exit_notify(int status);
/* poll.c: poll, ppoll, select, pselect6 */
long poll_user_timeout(uint64_t p, int64_t *ns); /* a timespec: ns, -1 for none */
void poll_user_time_left(uint64_t p, int64_t ns, int64_t start);
int64_t poll_now_ns(void);
long poll_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		  uint64_t a5);

/* pseudo.c: paths the LibOS serves itself (/dev/null, /dev/attestation/...) */
int pseudo_find(const char *path); /* its id, or -ENOENT */
int pseudo_is_dir(int id);
const char *pseudo_next(const char *dir, uint64_t *pos, int *is_dir);
void pseudo_stat(int id, uint32_t *mode, uint64_t *size, uint64_t *rdev);
long pseudo_open(int id, uint64_t flags, uint8_t **data, uint64_t *size);
long pseudo_read(int id, const uint8_t *data, uint64_t size, uint8_t *buf, uint64_t len,
		 uint64_t off);
long pseudo_write(int id, const uint8_t *buf, uint64_t len, uint64_t off);
/* A quote of this enclave's REPORT with report data rd (heap pages, PAGE_UP(*size)). */
long pseudo_quote(const uint8_t rd[64], uint8_t **data, uint64_t *size);

/* ratls.c: the RA-TLS certificate and key the manifest asks for */
#define RATLS_PATH_MAX 200 /* teeimage.h's TEE_RATLS_PATH_MAX */
/* The manifest's "KEY VALUE" line: VALUE (NUL-ended, at most n - 1 bytes) and its length, or 0. */
uint64_t manifest_value(const char *key, char *out, uint64_t n);
int ratls_enabled(void);
/* Makes them once: 0, the error it failed with, or -EAGAIN while another thread makes them. */
long ratls_make(void);
/* The certificate's (key 0) or the key's (key 1) PEM, made first if need be. */
long ratls_file(int key, const uint8_t **data, uint64_t *size);

/* fs.c */
void *fs_save(void); /* vfork: the parent's table and cwd, set aside */
void fs_restore(void *saved);
void fs_close_all(void);
int fs_export(struct spawn_fd *out, int max, char *strs, uint64_t room, uint64_t *used);
int fs_import(const struct spawn_fd *in, int n, const char *strs, uint64_t strs_len);
int fs_resolve_path(uint64_t upath, char *out, size_t n);
int fs_is_trusted(const char *path); /* a trusted file of the manifest */
int fs_is_allowed(const char *path); /* below an allowed path: the host's file */
void fs_getcwd(char *out, size_t n);
void fs_setcwd(const char *dir);
int fs_fork_keep(int32_t *keep, int max);
void fs_after_fork(void);
int fs_install(struct fobj *o, int cloexec); /* a new descriptor for o, or -EMFILE */
void fs_release(int fd);		     /* forget fd (its object is the caller's) */
struct fobj *fs_obj(int64_t fd);	     /* fd's object, NULL if none */
int fs_valid(int64_t fd);
void fs_close_on_exec(void); /* execve: close the descriptors marked close-on-exec */
struct ofile;
int fs_trusted_load_open(const char *path, struct ofile **f, uint64_t *size);
int fs_trusted_load_read(struct ofile *f, void *dst, uint64_t len, uint64_t off);
void fs_trusted_load_close(struct ofile *f);
int fs_normalize(const char *in, char *out, size_t n);
long fs_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, int *handled);
int file_mmap_copy(int fd, uint64_t off, void *dst, uint64_t len);
void fs_init(void); /* at start: SHA-NI if the host's CPUID says so */

/* syscall.c */
void *sig_save(void); /* vfork: the signal actions, set aside */
void sig_restore(void *saved);
long libos_time(uint64_t clk, int64_t *sec, int64_t *nsec);
int libos_signal_ready(struct libos_thread *t);
uint64_t libos_take_pending(void);
void libos_take_host_signals(struct libos_thread *t);
long libos_syscall(struct ssa_gpr *g, int *exited, int *status, int *regs_replaced);
void libos_signals(struct ssa_gpr *g, int *exited, int *status);
int libos_fault_signal(struct ssa_gpr *g, int sig);
void libos_raise(uint64_t sig);

/* elf.c */
int elf_load_and_stack(const char *path, const char *const *argv, int argc, const char *const *envp,
		       int envc, uint64_t *entry, uint64_t *sp);

void libos_jump_to_app(uint64_t entry, uint64_t sp) __attribute__((noreturn));

#endif
