// SPDX-License-Identifier: Apache-2.0
/*
 * Threads. clone(CLONE_THREAD) gives the new thread a TCS of its own: the
 * manifest's "threads" is the number of TCS, so past it clone fails with
 * EAGAIN. The host only starts a host thread on the TCS the LibOS names
 * (THREAD_CREATE) and blocks or unblocks a thread through that thread's own
 * wait word (FUTEX_WAIT/FUTEX_WAKE): futex queues, addresses and values
 * stay in the enclave, so a host that lies can wake a thread early (it
 * looks again and waits on) but never make it see a wrong value.
 *
 * One lock serialises the LibOS: every system call runs under it, and one
 * that may block (futex wait, sleep, stdin, yield) drops it around its
 * OCALL (ocall_blocking).
 */
#include "libos.h"

#define CLONE_VM	     0x100ULL
#define CLONE_FS	     0x200ULL
#define CLONE_FILES	     0x400ULL
#define CLONE_SIGHAND	     0x800ULL
#define CLONE_THREAD	     0x10000ULL
#define CLONE_SYSVSEM	     0x40000ULL
#define CLONE_SETTLS	     0x80000ULL
#define CLONE_PARENT_SETTID  0x100000ULL
#define CLONE_CHILD_CLEARTID 0x200000ULL
#define CLONE_DETACHED	     0x400000ULL
#define CLONE_CHILD_SETTID   0x1000000ULL

#define MAX_EXTRA_THREADS 4095

/* entry.S's TCTX_* offsets. */
_Static_assert(offsetof(struct libos_thread, ocall_pending) == 112, "TCTX_PENDING");
_Static_assert(offsetof(struct libos_thread, state) == 120, "TCTX_STATE");
_Static_assert(offsetof(struct libos_thread, stack_top) == 128, "TCTX_STACK");
_Static_assert(offsetof(struct libos_thread, mb_raw) == 136, "TCTX_MB");
_Static_assert(offsetof(struct libos_thread, host_sigs) == 144, "TCTX_HOSTSIG");

extern char __encl_base[], __manifest[], libos_ssa[];
void libos_thread_trap(void);

/* entry.S reads these: the first extra TCS, how many there are, their threads. */
uint64_t libos_dead, libos_tcs1, libos_nextra;
struct libos_thread *libos_threads[MAX_EXTRA_THREADS];

volatile int libos_exiting, libos_exit_status;
static volatile int big_lock;
static struct libos_thread *futex_waiters; /* FIFO: wakes go in wait order */
static int32_t last_tid;
static int live_threads = 1;
static int told_no_tcs;

void libos_lock(void)
{
	while (__atomic_exchange_n(&big_lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&big_lock, __ATOMIC_RELAXED))
			__asm__ volatile("pause");
}

void libos_unlock(void)
{
	__atomic_store_n(&big_lock, 0, __ATOMIC_RELEASE);
}

/*
 * libsgx's layout (measured): after the LibOS's last segment, one TCS page
 * per extra thread, then each one's LIBOS_NSSA SSA frames, then the heap.
 */
int threads_init(void)
{
	uint64_t extra = libos_manifest.threads - 1, per = 1 + LIBOS_NSSA, tcs_off;
	uint64_t mf_end = (uint64_t)(__manifest - __encl_base) + libos_manifest.libos_offset +
			  PAGE_UP(str_len(libos_manifest.text) + 1);

	if (extra > MAX_EXTRA_THREADS || extra * per * PAGE_SIZE > libos_manifest.heap_offset)
		return -EINVAL;
	tcs_off = libos_manifest.heap_offset - extra * per * PAGE_SIZE;
	if (tcs_off < mf_end)
		return -EINVAL;
	libos_thread0.ssa = (uint8_t *)libos_ssa;
	libos_thread0.tid = last_tid = (int32_t)libos_mb_pid();
	libos_tcs1 = libos_base + tcs_off;
	__atomic_store_n(&libos_nextra, extra, __ATOMIC_RELEASE);
	return 0;
}

static uint8_t *slot_ssa(uint32_t slot)
{
	return (uint8_t *)(libos_tcs1 + libos_nextra * PAGE_SIZE +
			   (slot - 1) * (uint64_t)LIBOS_NSSA * PAGE_SIZE);
}

static int canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* clone() of a thread, from the parent's frame g (its SYSCALL): the child's tid. */
long thread_clone(struct ssa_gpr *g, uint64_t flags, uint64_t sp, uint64_t ptid, uint64_t ctid,
		  uint64_t tls)
{
	const uint64_t need = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	const uint64_t known = need | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
			       CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID;
	struct libos_thread *self = libos_self(), *t = NULL;
	uint32_t slot;
	long r;

	if ((flags & need) != need) {
		log_err("%s: fork and new processes (clone flags %#lx) are not supported yet",
			libos_manifest.entrypoint, flags);
		return -ENOSYS;
	}
	if ((flags & ~known) || !sp || ((flags & CLONE_SETTLS) && !canonical(tls)))
		return -EINVAL;
	if (((flags & CLONE_PARENT_SETTID) && (ptid % 4 || !user_ok(ptid, 4))) ||
	    ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) &&
	     (ctid % 4 || !user_ok(ctid, 4))))
		return -EFAULT;
	for (slot = 1; slot <= libos_nextra; slot++) {
		t = libos_threads[slot - 1];
		if (!t || t->state == THREAD_FREE)
			break;
	}
	if (slot > libos_nextra) {
		if (!told_no_tcs++)
			log_err("%s: all %u enclave threads are in use (the manifest's threads): "
				"a new thread gets EAGAIN",
				libos_manifest.entrypoint, libos_manifest.threads);
		return -EAGAIN;
	}
	if (!t) {
		t = mm_alloc_aligned(LIBOS_THREAD_BLOCK, LIBOS_THREAD_BLOCK);
		if (!t)
			return -ENOMEM;
		libos_threads[slot - 1] = t;
	}
	memset(t, 0, sizeof(*t));
	t->slot = slot;
	t->tid = ++last_tid;
	t->ssa = slot_ssa(slot);
	t->stack_top = (uint64_t)t + LIBOS_THREAD_BLOCK - 64; /* RSP stays in the block */
	/* The child returns 0 from the same SYSCALL, on its own stack and TLS. */
	t->start_regs = *g;
	t->start_regs.rax = 0;
	t->start_regs.rsp = sp;
	t->start_regs.rip = g->rip + 2;
	t->start_regs.rcx = g->rip + 2;
	t->start_regs.r11 = g->rflags;
	t->start_regs.exitinfo = 0;
	if (flags & CLONE_SETTLS)
		t->start_regs.fsbase = tls;
	/* As Linux: the parent's FPU/vector state, its signal mask, no alternate stack. */
	memcpy(t->xstate, self->ssa, sizeof(t->xstate));
	t->sigmask = self->sigmask;
	t->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
	t->starting = 1;
	if (flags & CLONE_PARENT_SETTID)
		*(int32_t *)ptid = t->tid;
	if (flags & CLONE_CHILD_SETTID)
		*(int32_t *)ctid = t->tid;
	__atomic_store_n(&t->state, THREAD_READY, __ATOMIC_RELEASE);
	r = ocall(LIBOS_OCALL_THREAD_CREATE, slot, 0, 0);
	if (r < 0) {
		uint64_t ready = THREAD_READY;

		/* Unless the host entered it all the same: then it runs. */
		if (__atomic_compare_exchange_n(&t->state, &ready, THREAD_FREE, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return -EAGAIN;
	}
	live_threads++;
	return t->tid;
}

/* At the new thread's UD2 (its first AEX): its registers go into its SSA frame. */
int thread_start(struct libos_thread *t, struct ssa_gpr *g)
{
	uint64_t mb = t->mb_raw;

	t->starting = 0;
	if (!mailbox_ok(mb) || ((volatile struct libos_mailbox *)mb)->magic != LIBOS_MAILBOX_MAGIC)
		return -EINVAL;
	t->mb = (volatile struct libos_mailbox *)mb;
	memcpy(t->ssa, t->xstate, sizeof(t->xstate));
	*g = t->start_regs;
	return 0;
}

/*
 * exit (group 0) or exit_group (1): 1 when the process ends (the last
 * thread, or exit_group), 2 when only this thread does.
 */
int thread_exit(uint64_t status, int group)
{
	struct libos_thread *self = libos_self();

	if (group || live_threads == 1) {
		if (!libos_exiting) {
			libos_exit_status = (int)(status & 0xff);
			libos_exiting = 1;
		}
		return 1;
	}
	/* CLONE_CHILD_CLEARTID: what pthread_join waits on. */
	if (self->clear_child_tid && user_ok(self->clear_child_tid, 4)) {
		*(volatile int32_t *)self->clear_child_tid = 0;
		futex_wake(self->clear_child_tid, 1, ~0U);
	}
	live_threads--;
	return 2;
}

int threads_live(void)
{
	return live_threads;
}

struct libos_thread *thread_by_tid(int32_t tid)
{
	if (tid == libos_thread0.tid && libos_thread0.state == THREAD_RUNNING)
		return &libos_thread0;
	for (uint64_t i = 0; i < libos_nextra; i++) {
		struct libos_thread *t = libos_threads[i];

		if (t && t->state != THREAD_FREE && t->tid == tid)
			return t;
	}
	return NULL;
}

/* A signal for t: a futex wait of t's returns (EINTR) to take it. */
void thread_kick(struct libos_thread *t)
{
	if (t->futex_waiting)
		ocall(LIBOS_OCALL_FUTEX_WAKE, t->slot, 0, 0);
}

static void unqueue(struct libos_thread *t)
{
	for (struct libos_thread **pp = &futex_waiters; *pp; pp = &(*pp)->futex_next)
		if (*pp == t) {
			*pp = t->futex_next;
			break;
		}
	t->futex_waiting = 0;
}

long futex_wake(uint64_t uaddr, uint64_t n, uint32_t bitset)
{
	struct libos_thread **pp = &futex_waiters, *w;
	long woken = 0;

	while ((w = *pp) && (uint64_t)woken < n) {
		if (w->futex_addr != uaddr || !(w->futex_bitset & bitset)) {
			pp = &w->futex_next;
			continue;
		}
		*pp = w->futex_next;
		w->futex_waiting = 0;
		w->futex_woken = 1;
		ocall(LIBOS_OCALL_FUTEX_WAKE, w->slot, 0, 0);
		woken++;
	}
	return woken;
}

static int before(int64_t s1, int64_t n1, int64_t s2, int64_t n2)
{
	return s1 < s2 || (s1 == s2 && n1 < n2);
}

/*
 * Waits while *uaddr == val, until a wake of uaddr, the deadline in clock
 * clk (end_s < 0: none: -ETIMEDOUT), a signal for this thread or the
 * workload's end (-EINTR).
 */
static long futex_wait_until(uint64_t uaddr, uint32_t val, uint32_t bitset, uint64_t clk,
			     int64_t end_s, int64_t end_n)
{
	struct libos_thread *self = libos_self(), **pp;
	int64_t now_s, now_n;
	long r;

	if (__atomic_load_n((volatile uint32_t *)uaddr, __ATOMIC_SEQ_CST) != val)
		return -EAGAIN;
	self->futex_addr = uaddr;
	self->futex_bitset = bitset;
	self->futex_woken = 0;
	self->futex_waiting = 1;
	self->futex_next = NULL;
	for (pp = &futex_waiters; *pp; pp = &(*pp)->futex_next)
		;
	*pp = self;
	for (;;) {
		int64_t rs = -1, rn = 0;

		if (self->futex_woken)
			return 0;
		if (libos_exiting || libos_signal_ready(self)) {
			r = -EINTR;
			break;
		}
		if (end_s >= 0) {
			r = libos_time(clk, &now_s, &now_n);
			if (r < 0)
				break;
			if (!before(now_s, now_n, end_s, end_n)) {
				r = -ETIMEDOUT;
				break;
			}
			rs = end_s - now_s;
			rn = end_n - now_n;
			if (rn < 0) {
				rs--;
				rn += 1000000000;
			}
		}
		/* Any answer but EINTR (the workload is being stopped): look again. */
		if (ocall_blocking(LIBOS_OCALL_FUTEX_WAIT, rs, rn, 0) == -EINTR) {
			r = -EINTR;
			break;
		}
	}
	if (self->futex_woken)
		return 0;
	unqueue(self);
	return r;
}

/* The deadline now + ns in MONOTONIC time. */
static long deadline(int64_t ns, int64_t *end_s, int64_t *end_n)
{
	int64_t now_s, now_n;
	long r = libos_time(1, &now_s, &now_n);

	if (r < 0)
		return r;
	*end_s = now_s + ns / 1000000000 + (now_n + ns % 1000000000) / 1000000000;
	*end_n = (now_n + ns % 1000000000) % 1000000000;
	return 0;
}

long libos_wait(volatile uint32_t *word, uint32_t seen, int64_t timeout_ns)
{
	int64_t end_s = -1, end_n = 0;

	if (timeout_ns >= 0 && deadline(timeout_ns, &end_s, &end_n) < 0)
		return -EIO;
	return futex_wait_until((uint64_t)word, seen, ~0U, 1, end_s, end_n);
}

void libos_wake_all(volatile uint32_t *word)
{
	futex_wake((uint64_t)word, ~0ULL, ~0U);
}

/* FUTEX_WAIT's relative timeout or FUTEX_WAIT_BITSET's absolute one, from the workload. */
static long futex_wait(uint64_t uaddr, uint32_t val, uint64_t ts_addr, int absolute,
		       uint32_t bitset, uint64_t clk)
{
	int64_t end_s = -1, end_n = 0, ts[2];

	if (ts_addr) {
		if (!user_ok(ts_addr, 16))
			return -EFAULT;
		memcpy(ts, (const void *)ts_addr, 16);
		if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
			return -EINVAL;
		end_s = ts[0];
		end_n = ts[1];
		if (!absolute && ts[0] >= (1LL << 32))
			end_s = -1; /* over a century: no deadline */
		else if (!absolute && deadline(ts[0] * 1000000000 + ts[1], &end_s, &end_n) < 0)
			return -EIO;
	}
	return futex_wait_until(uaddr, val, bitset, clk, end_s, end_n);
}

static long futex_requeue(uint64_t uaddr, uint64_t nwake, uint64_t nmove, uint64_t uaddr2, int cmp,
			  uint32_t val3)
{
	long woken, moved = 0;

	if (uaddr2 % 4 || !user_ok(uaddr2, 4))
		return -EFAULT;
	if (cmp && __atomic_load_n((volatile uint32_t *)uaddr, __ATOMIC_SEQ_CST) != val3)
		return -EAGAIN;
	woken = futex_wake(uaddr, nwake, ~0U);
	for (struct libos_thread *w = futex_waiters; w && (uint64_t)moved < nmove;
	     w = w->futex_next)
		if (w->futex_addr == uaddr) {
			w->futex_addr = uaddr2;
			moved++;
		}
	return cmp ? woken + moved : woken;
}

#define FUTEX_CMD_MASK	     0x7f /* without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
#define FUTEX_CLOCK_REALTIME 256

long sys_futex(uint64_t uaddr, uint64_t op, uint64_t val, uint64_t timeout, uint64_t uaddr2,
	       uint64_t val3)
{
	uint64_t clk = (op & FUTEX_CLOCK_REALTIME) ? 0 : 1;
	int32_t n = (int32_t)val;

	if (uaddr % 4 || !user_ok(uaddr, 4))
		return -EFAULT;
	switch (op & FUTEX_CMD_MASK) {
	case 0: /* FUTEX_WAIT: a relative timeout */
		return futex_wait(uaddr, (uint32_t)val, timeout, 0, ~0U, 1);
	case 9: /* FUTEX_WAIT_BITSET: an absolute one */
		if (!(uint32_t)val3)
			return -EINVAL;
		return futex_wait(uaddr, (uint32_t)val, timeout, 1, (uint32_t)val3, clk);
	case 1: /* FUTEX_WAKE */
		return futex_wake(uaddr, n > 0 ? (uint64_t)n : 0, ~0U);
	case 10: /* FUTEX_WAKE_BITSET */
		if (!(uint32_t)val3)
			return -EINVAL;
		return futex_wake(uaddr, n > 0 ? (uint64_t)n : 0, (uint32_t)val3);
	case 3: /* FUTEX_REQUEUE: the count to move is in the timeout argument */
	case 4: /* FUTEX_CMP_REQUEUE */
		if (n < 0 || (int32_t)timeout < 0)
			return -EINVAL;
		return futex_requeue(uaddr, (uint64_t)n, (uint32_t)timeout, uaddr2,
				     (op & FUTEX_CMD_MASK) == 4, (uint32_t)val3);
	}
	return -ENOSYS;
}
