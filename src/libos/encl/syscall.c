// SPDX-License-Identifier: Apache-2.0
/*
 * System calls, dispatched by number (x86-64). Arguments RDI, RSI, RDX,
 * R10, R8, R9 from the workload's SSA frame; the result goes back in RAX
 * (negative errno). Signal state is virtual: kept here, never forwarded
 * to the host (the host's SIGILL/SIGSEGV/SIGSYS handlers are what run the
 * enclave). Everything the host answers (time) is checked.
 */
#include "libos.h"

struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Process-wide: the actions and process-directed pending signals; per thread: mask, altstack. */
static FORKED struct ksigaction sigactions[NSIG];
static int64_t last_mono_sec, last_mono_nsec;

static long sig_action(uint64_t sig, uint64_t act, uint64_t oact, uint64_t size)
{
	if (size != 8 || sig < 1 || sig > NSIG)
		return -EINVAL;
	if (act && (sig == 9 || sig == 19))
		return -EINVAL;
	if ((act && !user_ok(act, sizeof(struct ksigaction))) ||
	    (oact && !user_ok(oact, sizeof(struct ksigaction))))
		return -EFAULT;
	if (oact)
		memcpy((void *)oact, &sigactions[sig - 1], sizeof(struct ksigaction));
	if (act)
		memcpy(&sigactions[sig - 1], (const void *)act, sizeof(struct ksigaction));
	return 0;
}

void *sig_save(void)
{
	void *s = mm_alloc(PAGE_UP(sizeof(sigactions)), 0);

	if (s)
		memcpy(s, sigactions, sizeof(sigactions));
	return s;
}

void sig_restore(void *saved)
{
	memcpy(sigactions, saved, sizeof(sigactions));
	mm_free(saved, PAGE_UP(sizeof(sigactions)));
}

static long sig_procmask(uint64_t how, uint64_t set, uint64_t oset, uint64_t size)
{
	uint64_t *sigmask = &libos_self()->sigmask, s;

	if (size != 8)
		return -EINVAL;
	if ((set && !user_ok(set, 8)) || (oset && !user_ok(oset, 8)))
		return -EFAULT;
	if (oset)
		memcpy((void *)oset, sigmask, 8);
	if (!set)
		return 0;
	memcpy(&s, (const void *)set, 8);
	s &= ~((1ULL << 8) | (1ULL << 18)); /* SIGKILL, SIGSTOP */
	if (how == 0)
		*sigmask |= s;
	else if (how == 1)
		*sigmask &= ~s;
	else if (how == 2)
		*sigmask = s;
	else
		return -EINVAL;
	return 0;
}

static long sig_altstack(uint64_t ss, uint64_t old)
{
	uint8_t *altstack = libos_self()->altstack;

	if ((ss && !user_ok(ss, 24)) || (old && !user_ok(old, 24)))
		return -EFAULT;
	if (old)
		memcpy((void *)old, altstack, 24);
	if (ss)
		memcpy(altstack, (const void *)ss, 24);
	return 0;
}

/* The host's clock, checked: nsec in range, MONOTONIC never going back. */
long libos_time(uint64_t clk, int64_t *sec, int64_t *nsec)
{
	long r;
	int mono;

	if (clk != 0 && clk != 1 && clk != 4 && clk != 5 && clk != 6 && clk != 7)
		return -EINVAL;
	mono = clk != 0 && clk != 5;
	r = ocall(LIBOS_OCALL_CLOCK, mono ? 1 : 0, 0, 0);
	*sec = libos_mb->out[0];
	*nsec = libos_mb->out[1];
	if (r < 0 || *sec < 0 || *nsec < 0 || *nsec >= 1000000000)
		return -EIO;
	if (mono) {
		if (*sec < last_mono_sec || (*sec == last_mono_sec && *nsec < last_mono_nsec)) {
			*sec = last_mono_sec;
			*nsec = last_mono_nsec;
		}
		last_mono_sec = *sec;
		last_mono_nsec = *nsec;
	}
	return 0;
}

static long do_uname(uint64_t buf)
{
	static const char fields[6][16] = {
		"Linux", "rune", "6.1.0", "#1 SMP", "x86_64", "(none)"
	};

	if (!user_ok(buf, 6 * 65))
		return -EFAULT;
	memset((void *)buf, 0, 6 * 65);
	for (int i = 0; i < 6; i++)
		memcpy((char *)buf + 65 * i, fields[i], str_len(fields[i]));
	return 0;
}

static long do_getrandom(uint64_t buf, uint64_t len)
{
	uint64_t done = 0;

	if (len > 33554431)
		len = 33554431;
	if (!user_ok(buf, len))
		return -EFAULT;
	while (done < len) {
		uint64_t v;
		uint64_t n = len - done < 8 ? len - done : 8;

		if (rdrand64(&v) < 0)
			return done ? (long)done : -EAGAIN;
		memcpy((char *)buf + done, &v, n);
		done += n;
	}
	return (long)done;
}

/* The host sleeps for us; it may cut the sleep short (the workload is being killed). */
static long do_nanosleep(uint64_t req, uint64_t rem)
{
	int64_t ts[2];
	long r;

	if (!user_ok(req, 16) || (rem && !user_ok(rem, 16)))
		return -EFAULT;
	memcpy(ts, (const void *)req, 16);
	if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
		return -EINVAL;
	r = ocall_blocking(LIBOS_OCALL_SLEEP, ts[0], ts[1], 0);
	if (r == -EINTR) {
		if (rem)
			memset((void *)rem, 0, 16);
		return -EINTR;
	}
	return r == 0 ? 0 : -EIO;
}

static long do_rlimit(uint64_t res, uint64_t old)
{
	uint64_t v[2] = { ~0ULL, ~0ULL };

	if (res > 15)
		return -EINVAL;
	if (res == 3) /* RLIMIT_STACK */
		v[0] = v[1] = libos_manifest.stack_size;
	if (res == 7) /* RLIMIT_NOFILE */
		v[0] = v[1] = 64;
	if (old) {
		if (!user_ok(old, 16))
			return -EFAULT;
		memcpy((void *)old, v, 16);
	}
	return 0;
}

#define SA_SIGINFO   4
#define SA_ONSTACK   0x08000000
#define SA_RESTORER  0x04000000
#define SA_NODEFER   0x40000000
#define SA_RESETHAND 0x80000000
#define SIGBIT(s)    (1ULL << ((s)-1))
#define UNBLOCKABLE  (SIGBIT(9) | SIGBIT(19))

static uint64_t pending;

/* Ignored by default: SIGCHLD, SIGCONT, SIGURG, SIGWINCH. */
static int default_ignored(uint64_t sig)
{
	return sig == 17 || sig == 18 || sig == 23 || sig == 28;
}

/*
 * The kernel's rt_sigframe: the return address (sa_restorer), a ucontext
 * (uc_flags, uc_link, uc_stack, the sigcontext as glibc's gregs, the mask)
 * and a siginfo; room is left for libc's bigger ucontext_t. Above it, the
 * interrupted code's XSAVE state (from its SSA frame, where the AEX put
 * it), which rt_sigreturn puts back for ERESUME: a handler may use vector
 * registers, even when it interrupted code anywhere.
 */
#define XSTATE_SIZE (SSA_FRAME - sizeof(struct ssa_gpr) - 16) /* below MISC and the GPRs */
struct sigframe {
	uint64_t pretcode;
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp, ss_flags, ss_size;
	uint64_t gregs
	    [23]; /* R8..R15 RDI RSI RBP RBX RDX RAX RCX RSP RIP EFL CSGSFS ERR TRAPNO OLDMASK CR2 */
	uint64_t fpstate, reserved1[8];
	uint64_t uc_sigmask;
	uint8_t libc_room[1024];
	uint8_t info[128];
};

/* Redirects the workload in g to the handler of sig; 0, or -1 if it cannot run one. */
static int deliver(struct ssa_gpr *g, uint64_t sig, int code, uint64_t addr)
{
	struct libos_thread *self = libos_self();
	uint8_t *altstack = self->altstack;
	uint64_t *sigmask = &self->sigmask;
	struct ksigaction *a = &sigactions[sig - 1];
	uint64_t sp = g->rsp - 128, ss_sp, ss_size, xs;
	struct sigframe *f;

	if (!(a->flags & SA_RESTORER))
		return -1;
	memcpy(&ss_sp, altstack, 8);
	memcpy(&ss_size, altstack + 16, 8);
	if ((a->flags & SA_ONSTACK) && ss_size && !(g->rsp > ss_sp && g->rsp <= ss_sp + ss_size))
		sp = ss_sp + ss_size;
	xs = (sp - XSTATE_SIZE) & ~63ULL;
	sp = ((xs - sizeof(*f)) & ~15ULL) - 8;
	if (!user_ok(sp, sizeof(*f)) || !user_ok(xs, XSTATE_SIZE))
		return -1;
	f = (struct sigframe *)sp;
	memset(f, 0, sizeof(*f));
	memcpy((void *)xs, self->ssa, XSTATE_SIZE);
	f->fpstate = xs;
	f->pretcode = a->restorer;
	memcpy(&f->ss_sp, altstack, 24);
	uint64_t regs[18] = { g->r8,  g->r9,  g->r10, g->r11, g->r12, g->r13,
			      g->r14, g->r15, g->rdi, g->rsi, g->rbp, g->rbx,
			      g->rdx, g->rax, g->rcx, g->rsp, g->rip, g->rflags };
	memcpy(f->gregs, regs, sizeof(regs));
	f->gregs[19] = 0;		  /* ERR */
	f->gregs[20] = code > 0 ? 14 : 0; /* TRAPNO */
	f->gregs[22] = addr;		  /* CR2 */
	f->uc_sigmask = *sigmask;
	((int32_t *)f->info)[0] = (int32_t)sig; /* si_signo */
	((int32_t *)f->info)[2] = code;		/* si_code: SI_TKILL (-6) or a fault's */
	if (code <= 0)
		((int32_t *)f->info)[4] = (int32_t)libos_mb_pid(); /* si_pid */
	else
		memcpy(f->info + 16, &addr, 8); /* si_addr */
	*sigmask |= a->mask | ((a->flags & SA_NODEFER) ? 0 : SIGBIT(sig));
	*sigmask &= ~UNBLOCKABLE;
	g->rip = a->handler;
	g->rsp = sp;
	g->rdi = sig;
	g->rsi = (uint64_t)f->info;
	g->rdx = (uint64_t)&f->uc_flags;
	g->rax = 0;
	g->rflags &= ~0x400ULL; /* DF clear, as the ABI wants at a call */
	if (a->flags & SA_RESETHAND)
		a->handler = 0;
	return 0;
}

/*
 * An XSAVE image from the workload that XRSTOR (ERESUME) accepts: MXCSR's
 * reserved bits clear, the standard (not compacted) format, no reserved
 * header bits, components the SSA frame already holds.
 */
static int xstate_ok(const uint8_t *x, const uint8_t *ssa)
{
	uint64_t hdr[8], bv;
	uint32_t mxcsr;

	memcpy(&mxcsr, x + 24, 4);
	memcpy(hdr, x + 512, 64);
	memcpy(&bv, ssa + 512, 8);
	if (mxcsr & 0xffff0000U)
		return 0;
	for (int i = 1; i < 8; i++)
		if (hdr[i])
			return 0;
	return !(hdr[0] & ~(bv | 3));
}

/* rt_sigreturn: the registers, mask and XSAVE state saved by deliver(), at RSP (the uc). */
static int sig_return(struct ssa_gpr *g)
{
	struct sigframe *f = (struct sigframe *)(g->rsp - 8);
	uint8_t *ssa = libos_self()->ssa;
	uint64_t r[18];

	if (!user_ok((uint64_t)f, sizeof(*f)))
		return -1;
	if (f->fpstate) {
		const uint8_t *x = (const uint8_t *)f->fpstate;

		if (f->fpstate % 64 || !user_ok(f->fpstate, XSTATE_SIZE) || !xstate_ok(x, ssa))
			return -1;
		/* Bytes 464-511 are software's: the SSA keeps its own. */
		memcpy(ssa, x, 464);
		memcpy(ssa + 512, x + 512, XSTATE_SIZE - 512);
	}
	memcpy(r, f->gregs, sizeof(r));
	g->r8 = r[0], g->r9 = r[1], g->r10 = r[2], g->r11 = r[3], g->r12 = r[4];
	g->r13 = r[5], g->r14 = r[6], g->r15 = r[7], g->rdi = r[8], g->rsi = r[9];
	g->rbp = r[10], g->rbx = r[11], g->rdx = r[12], g->rax = r[13], g->rcx = r[14];
	g->rsp = r[15], g->rip = r[16];
	/* Only the flags user code may set (arithmetic, DF, AC, ID...) come back. */
	g->rflags = (g->rflags & ~0x254dd5ULL) | (r[17] & 0x254dd5ULL);
	libos_self()->sigmask = f->uc_sigmask & ~UNBLOCKABLE;
	return 0;
}

/* The default action of sig: 0 (ignored) or exit with 128+sig. */
static void default_action(uint64_t sig, int *exited, int *status)
{
	if (default_ignored(sig))
		return;
	log_err("%s: killed by signal %lu", libos_manifest.entrypoint, sig);
	proc_term_signal((int)sig);
	*exited = 1;
	*status = 128 + (int)sig;
}

/* A signal the LibOS itself raises (SIGPIPE on a broken stdout). */
void libos_raise(uint64_t sig)
{
	if (sig >= 1 && sig <= NSIG)
		pending |= SIGBIT(sig);
}

/*
 * A signal from the workload to itself (t NULL: the process, any thread
 * not blocking it takes it) or to one of its threads: pending until it can
 * be acted on, at the next system call of a thread that can take it.
 */
static long self_signal(uint64_t sig, struct libos_thread *t)
{
	if (sig > NSIG)
		return -EINVAL;
	if (sig == 0)
		return 0;
	if (t) {
		t->sig_pending |= SIGBIT(sig);
		thread_kick(t);
	} else {
		pending |= SIGBIT(sig);
	}
	return 0;
}

/* Signals the host says were sent from outside (rune kill): only those Linux would deliver. */
void libos_take_host_signals(struct libos_thread *t)
{
	pending |= t->host_sigs & LIBOS_HOST_SIGNALS;
	t->host_sigs = 0;
}

/* The signals pending for this process and thread, taken (an execve's relay passes them on). */
uint64_t libos_take_pending(void)
{
	uint64_t p = pending | libos_self()->sig_pending;

	pending = 0;
	libos_self()->sig_pending = 0;
	return p;
}

int libos_signal_ready(struct libos_thread *t)
{
	return ((pending | t->sig_pending) & ~(t->sigmask & ~UNBLOCKABLE)) != 0;
}

/*
 * After a system call: the lowest pending unblocked signal is acted on:
 * ignored, the default action, or its handler (one per return, as Linux).
 */
void libos_signals(struct ssa_gpr *g, int *exited, int *status)
{
	struct libos_thread *self = libos_self();
	uint64_t ready = (pending | self->sig_pending) & ~(self->sigmask & ~UNBLOCKABLE);

	for (uint64_t sig = 1; ready && sig <= NSIG; sig++) {
		uint64_t h;

		if (!(ready & SIGBIT(sig)))
			continue;
		if (self->sig_pending & SIGBIT(sig))
			self->sig_pending &= ~SIGBIT(sig);
		else
			pending &= ~SIGBIT(sig);
		h = sigactions[sig - 1].handler;
		if (h == 1 || (h == 0 && default_ignored(sig)))
			continue;
		if (h == 0 || deliver(g, sig, -6, 0) < 0)
			default_action(sig, exited, status);
		return;
	}
}

/* A fault the workload may handle: 0 if its handler now runs. */
int libos_fault_signal(struct ssa_gpr *g, int sig)
{
	uint64_t h = sigactions[sig - 1].handler;

	if (h == 0 || h == 1 || (libos_self()->sigmask & SIGBIT(sig)))
		return -1;
	return deliver(g, (uint64_t)sig, 1, 0);
}

long libos_syscall(struct ssa_gpr *g, int *exited, int *status, int *regs_replaced)
{
	uint64_t a0 = g->rdi, a1 = g->rsi, a2 = g->rdx, a3 = g->r10, a4 = g->r8, a5 = g->r9;
	long nr = (long)g->rax, r;
	struct libos_thread *t;
	int64_t sec, nsec;
	int handled;

	r = fs_syscall(nr, a0, a1, a2, a3, &handled);
	if (handled)
		return r;
	switch (nr) {
	case 9:
		return sys_mmap(a0, a1, a2, a3, (int64_t)a4, a5);
	case 10:
		return sys_mprotect(a0, a1, a2);
	case 11:
		return sys_munmap(a0, a1);
	case 12:
		return sys_brk(a0);
	case 13:
		return sig_action(a0, a1, a2, a3);
	case 14:
		return sig_procmask(a0, a1, a2, a3);
	case 24: /* sched_yield: let the host run another thread */
		if (threads_live() > 1)
			ocall_blocking(LIBOS_OCALL_YIELD, 0, 0, 0);
		return 0;
	case 28: /* madvise */
		return 0;
	case 39: /* getpid */
		return libos_mb_pid();
	case 186: /* gettid */
		return libos_self()->tid;
	case 110: /* getppid */
		return proc_ppid();
	case 109: /* setpgid */
	case 111: /* getpgrp */
	case 112: /* setsid */
	case 121: /* getpgid */
	case 124: /* getsid */
		return proc_pgrp(nr, (int64_t)(int32_t)a0, (int64_t)(int32_t)a1);
	case 102: /* getuid */
	case 104: /* getgid */
	case 107: /* geteuid */
	case 108: /* getegid */
		return 0;
	case 60:		       /* exit: this thread (the process with its last thread) */
	case 231:		       /* exit_group */
		if (proc_in_vfork()) { /* a vfork child that never exec'd */
			*regs_replaced = 1;
			return proc_vfork_exit(g, a0);
		}
		*exited = thread_exit(a0, nr == 231);
		*status = (int)(a0 & 0xff);
		return 0;
	case 62: /* kill */
		if ((int32_t)a0 > 0 && (int32_t)a0 != libos_mb_pid())
			return proc_kill((int32_t)a0, a1); /* a child process */
		if ((int32_t)a0 <= 0) {
			/* a group, or everyone: the children in it first, the caller last */
			int self = 0;
			long r = proc_kill_group((int32_t)a0, a1, &self);

			return r < 0 || !self ? r : self_signal((uint32_t)a1, NULL);
		}
		return self_signal((uint32_t)a1, NULL);
	case 200: /* tkill */
		return (t = thread_by_tid((int32_t)a0)) ? self_signal((uint32_t)a1, t) : -ESRCH;
	case 234: /* tgkill */
		if ((int32_t)a0 != libos_mb_pid())
			return -ESRCH;
		return (t = thread_by_tid((int32_t)a1)) ? self_signal((uint32_t)a2, t) : -ESRCH;
	case 15: /* rt_sigreturn */
		if (sig_return(g) < 0) {
			log_err("%s: bad signal frame", libos_manifest.entrypoint);
			proc_term_signal(11);
			*exited = 1;
			*status = 128 + 11;
			return 0;
		}
		*regs_replaced = 1;
		return 0;
	case 127: /* rt_sigpending */
		if (!user_ok(a0, 8))
			return -EFAULT;
		*(uint64_t *)a0 = (pending | libos_self()->sig_pending) & libos_self()->sigmask;
		return 0;
	case 63:
		return do_uname(a0);
	case 96: /* gettimeofday */
		if (a0) {
			if (!user_ok(a0, 16))
				return -EFAULT;
			r = libos_time(0, &sec, &nsec);
			if (r < 0)
				return r;
			((int64_t *)a0)[0] = sec;
			((int64_t *)a0)[1] = nsec / 1000;
		}
		return 0;
	case 201: /* time */
		r = libos_time(0, &sec, &nsec);
		if (r < 0)
			return r;
		if (a0) {
			if (!user_ok(a0, 8))
				return -EFAULT;
			*(int64_t *)a0 = sec;
		}
		return sec;
	case 228: /* clock_gettime */
		if (!user_ok(a1, 16))
			return -EFAULT;
		r = libos_time(a0, &sec, &nsec);
		if (r < 0)
			return r;
		((int64_t *)a1)[0] = sec;
		((int64_t *)a1)[1] = nsec;
		return 0;
	case 229: /* clock_getres */
		if (a1) {
			if (!user_ok(a1, 16))
				return -EFAULT;
			((int64_t *)a1)[0] = 0;
			((int64_t *)a1)[1] = 1;
		}
		return 0;
	case 35: /* nanosleep */
		return do_nanosleep(a0, a1);
	case 230: /* clock_nanosleep: relative only */
		if (a1 != 0)
			return -EINVAL;
		if (a0 != 0 && a0 != 1 && a0 != 7)
			return -EINVAL;
		return do_nanosleep(a2, a3);
	case 97: /* getrlimit */
		return do_rlimit(a0, a1);
	case 302: /* prlimit64 */
		if ((int32_t)a0 && (int32_t)a0 != libos_mb_pid())
			return -ESRCH;
		return do_rlimit((uint32_t)a1, a3);
	case 131:
		return sig_altstack(a0, a1);
	case 158: /* arch_prctl: the FS base lives in the SSA; ERESUME loads it */
		if (a0 == 0x1002) {
			if ((uint64_t)((int64_t)(a1 << 16) >> 16) != a1)
				return -EPERM;
			g->fsbase = a1;
			return 0;
		}
		if (a0 == 0x1003) {
			if (!user_ok(a1, 8))
				return -EFAULT;
			*(uint64_t *)a1 = g->fsbase;
			return 0;
		}
		return -EINVAL;
	case 202:
		return sys_futex(a0, a1, a2, a3, a4, a5);
	case 41:  /* socket */
	case 42:  /* connect */
	case 43:  /* accept */
	case 44:  /* sendto */
	case 45:  /* recvfrom */
	case 46:  /* sendmsg */
	case 47:  /* recvmsg */
	case 48:  /* shutdown */
	case 49:  /* bind */
	case 50:  /* listen */
	case 51:  /* getsockname */
	case 52:  /* getpeername */
	case 54:  /* setsockopt */
	case 55:  /* getsockopt */
	case 288: /* accept4 */
	case 53:  /* socketpair */
	case 299: /* recvmmsg */
	case 307: /* sendmmsg */
		return net_syscall(nr, a0, a1, a2, a3, a4, a5);
	case 7:	  /* poll */
	case 23:  /* select */
	case 270: /* pselect6 */
	case 271: /* ppoll */
		return poll_syscall(nr, a0, a1, a2, a3, a4, a5);
	case 22: /* pipe */
		return ipc_pipe(a0, 0);
	case 293: /* pipe2 */
		return ipc_pipe(a0, a1);
	case 284: /* eventfd */
		return ipc_eventfd(a0, 0);
	case 290: /* eventfd2 */
		return ipc_eventfd(a0, a1);
	case 213: /* epoll_create */
		return (int32_t)a0 <= 0 ? -EINVAL : ipc_epoll_create(0);
	case 291: /* epoll_create1 */
		return ipc_epoll_create(a0);
	case 233: /* epoll_ctl */
		return ipc_epoll_ctl((int32_t)a0, (int32_t)a1, (int32_t)a2, a3);
	case 232: /* epoll_wait */
	case 281: /* epoll_pwait: the mask is not applied (signals are only taken at system calls) */
		return ipc_epoll_wait((int32_t)a0, a1, (int32_t)a2, (int32_t)a3);
	case 204: /* sched_getaffinity: one CPU */
		if (a1 < 8)
			return -EINVAL;
		if (!user_ok(a2, 8))
			return -EFAULT;
		*(uint64_t *)a2 = 1;
		return 8;
	case 218: /* set_tid_address */
		libos_self()->clear_child_tid = a0;
		return libos_self()->tid;
	case 273: /* set_robust_list */
		return 0;
	case 318:
		return do_getrandom(a0, a1);
	case 56:				      /* clone */
		if ((a0 & 0x4000) && !(a0 & 0x10000)) /* CLONE_VFORK, not a thread */
			return proc_vfork(g, a0, a1);
		if (!(a0 & 0x100)) /* not CLONE_VM: a fork */
			return proc_fork(g, a0, a2, a3);
		return thread_clone(g, a0, a1, a2, a3, a4);
	case 58: /* vfork */
		return proc_vfork(g, 0x4100, 0);
	case 59: /* execve */
		return proc_execve(g, a0, a1, a2, exited, status, regs_replaced);
	case 61: /* wait4 */
		return proc_wait4((int64_t)(int32_t)a0, a1, a2, a3);
	case 247: /* waitid */
		return proc_waitid(a0, a1, a2, a3);
	case 435: /* clone3: ENOSYS makes glibc and Go fall back to clone */
		return -ENOSYS;
	case 57: /* fork */
		return proc_fork(g, 17 /* SIGCHLD */, 0, 0);
	}
	if (libos_manifest.debug)
		log_err("unsupported system call %ld: ENOSYS", nr);
	return -ENOSYS;
}
