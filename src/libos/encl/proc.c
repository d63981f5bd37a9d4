// SPDX-License-Identifier: Apache-2.0
/*
 * Processes. A child process is a new enclave of the same signed image in
 * a host process the PAL forks (SPAWN); everything the child needs comes
 * from the parent over their channel (chan.c), never from the host: the
 * program's path, argv, env, working directory and descriptors. The child
 * reports the outcome of its execve and, at its end, its wait status over
 * the same channel.
 *
 * vfork, and clone with CLONE_VM|CLONE_VFORK (posix_spawn in musl and
 * glibc, Go's os/exec), run the child's side on the calling thread, in
 * the parent's memory as Linux does, with its own descriptor table, signal
 * actions and mask; its execve starts the child enclave, and the parent
 * resumes from the vfork with the child's pid. A vfork child that exits
 * without exec leaves a zombie with its status. fork has no such shortcut
 * (the child would need the parent's whole memory): ENOSYS for now.
 * execve outside a vfork starts the new program the same way and waits for
 * it, ending with its status (a new pid, the one difference from Linux).
 */
#include "libos.h"

#define CLONE_VM      0x100
#define CLONE_VFORK   0x4000
#define CLONE_THREAD  0x10000
#define WNOHANG	      1
#define WEXITED	      4
#define WNOWAIT	      0x1000000
#define P_ALL	      0
#define P_PID	      1
#define FAKE_PID_BASE 4194304 /* past PID_MAX_LIMIT: never a host pid */
#define MAX_CHILDREN  64

enum {
	MSG_HELLO = 1,
	MSG_EXEC,
	MSG_EXEC_RESULT,
	MSG_EXIT,
	MSG_FORK,	/* struct fork_msg */
	MSG_FORK_STATE, /* u64 offset into the forked statics, then their bytes */
	MSG_FORK_PAGES, /* u64 address, u64 pages, then their bytes */
	MSG_FORK_ZERO,	/* u64 address, u64 pages: zeroed pages in use */
	MSG_FORK_END,
};
#define CLONE_PARENT_SETTID  0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_CHILD_SETTID   0x1000000
#define FORK_PAGES	     ((CHAN_MSG_MAX - 16) / PAGE_SIZE)

/* What a fork child resumes with: the forking thread's registers and signal state. */
struct fork_msg {
	int32_t pid, ppid;
	uint64_t base, flags, ctid, sigmask;
	uint64_t forked_size;
	uint8_t altstack[24];
	struct ssa_gpr regs;
	uint8_t xstate[SSA_FRAME - sizeof(struct ssa_gpr)];
};

/* The child's side receives here, outside the heap a fork overwrites. */
static uint8_t child_msg[CHAN_MSG_MAX];

struct child {
	int32_t pid;
	int32_t pgid; /* its process group, as far as this process knows it */
	int running, zombie;
	int wstatus;
	int reading; /* a thread reads its channel (the lock dropped): others wait */
	struct chan ch;
};

static struct child children[MAX_CHILDREN];

/* A group or session id as kept (-1: the process's own pid, 0: the first process's, 1). */
static int32_t id_of(int32_t v, int32_t self)
{
	return v == -1 ? self : v ? v : 1;
}
static int32_t next_fake_pid = FAKE_PID_BASE;
static int32_t parent_pid;
static struct chan parent_chan = { .fd = -1 };
static int term_signal;	     /* the workload dies of this signal (0: it exits) */
static FORKED char exe[256]; /* this process's program: what /proc/self/exe runs */
/*
 * Process group and session (0: the container's, 1: its init's; -1: this
 * process's own pid, set in a vfork child before its pid is known); a
 * child inherits them.
 */
static FORKED int32_t pgid, sid;

void proc_set_exe(const char *path)
{
	str_lcpy(exe, path, sizeof(exe));
}

const char *proc_exe(void)
{
	return exe[0] ? exe : libos_manifest.entrypoint;
}

/* The vfork in progress (one per process: the parent waits for it). */
static struct {
	int active;
	struct libos_thread *thread;
	struct ssa_gpr regs; /* the parent's, as the vfork returns to it */
	uint8_t *xstate;
	uint64_t sigmask;
	void *sigactions, *fds;
	int32_t pgid, sid;
} vf;

int32_t proc_ppid(void)
{
	return parent_pid;
}

void proc_term_signal(int sig)
{
	if (!term_signal)
		term_signal = sig;
}

int proc_in_vfork(void)
{
	return vf.active && vf.thread == libos_self();
}

long proc_vfork(struct ssa_gpr *g, uint64_t flags, uint64_t sp)
{
	uint64_t xlen = SSA_FRAME - sizeof(struct ssa_gpr);
	struct libos_thread *self = libos_self();

	if ((flags & (CLONE_VM | CLONE_VFORK)) != (CLONE_VM | CLONE_VFORK) ||
	    (flags & CLONE_THREAD))
		return -EINVAL;
	if (vf.active)
		return -EAGAIN; /* a vfork child's own vfork */
	vf.xstate = mm_alloc(PAGE_UP(xlen), 0);
	vf.sigactions = sig_save();
	vf.fds = fs_save();
	if (!vf.xstate || !vf.sigactions || !vf.fds) {
		if (vf.xstate)
			mm_free(vf.xstate, PAGE_UP(xlen));
		if (vf.sigactions)
			sig_restore(vf.sigactions);
		if (vf.fds)
			fs_restore(vf.fds);
		return -ENOMEM;
	}
	memcpy(vf.xstate, self->ssa, xlen);
	vf.regs = *g;
	vf.regs.rip += 2; /* past the SYSCALL, as its return would be */
	vf.regs.rcx = vf.regs.rip;
	vf.regs.r11 = vf.regs.rflags;
	vf.sigmask = self->sigmask;
	vf.pgid = pgid;
	vf.sid = sid;
	vf.thread = self;
	vf.active = 1;
	if (sp)
		g->rsp = sp;
	return 0; /* the child's side */
}

/* The vfork child is gone (exec'd or exited): the parent goes on, its vfork returning pid. */
static void vfork_done(struct ssa_gpr *g, int32_t pid)
{
	struct libos_thread *self = libos_self();
	uint64_t xlen = SSA_FRAME - sizeof(struct ssa_gpr);

	fs_restore(vf.fds);
	sig_restore(vf.sigactions);
	memcpy(self->ssa, vf.xstate, xlen);
	mm_free(vf.xstate, PAGE_UP(xlen));
	*g = vf.regs;
	g->rax = (uint64_t)(int64_t)pid;
	self->sigmask = vf.sigmask;
	pgid = vf.pgid; /* a setsid or setpgid of the vfork child was its own */
	sid = vf.sid;
	memset(&vf, 0, sizeof(vf));
}

static struct child *child_slot(void)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!children[i].running && !children[i].zombie)
			return &children[i];
	return NULL;
}

long proc_vfork_exit(struct ssa_gpr *g, uint64_t code)
{
	struct child *c = child_slot();
	int32_t pid = next_fake_pid++;

	if (c) {
		memset(c, 0, sizeof(*c));
		c->ch.fd = -1;
		c->pid = pid;
		c->zombie = 1;
		c->wstatus = (int)((code & 0xff) << 8);
	}
	vfork_done(g, pid);
	return 0;
}

/* The exec request: this header, then path, argv and env strings, then the descriptors. */
struct exec_msg {
	int32_t pid, ppid, pgid, sid;
	uint32_t argc, envc, nfds, strings_len;
	char cwd[256];
};

static long copy_strings(uint64_t uv, char *out, uint64_t room, uint32_t *count, uint64_t *used)
{
	const uint64_t *v = (const uint64_t *)uv;

	for (*count = 0; uv; (*count)++, v++) {
		uint64_t s, n;

		if (!user_ok((uint64_t)v, 8))
			return -EFAULT;
		s = *v;
		if (!s)
			break;
		if (!user_ok(s, 1))
			return -EFAULT;
		n = str_len((const char *)s) + 1;
		if (*used + n > room || !user_ok(s, n))
			return -E2BIG_LIBOS;
		memcpy(out + *used, (const char *)s, n);
		*used += n;
	}
	return 0;
}

/*
 * Starts path in a child enclave with the current descriptors: its pid, or
 * -errno (the child's execve failed, or it never started).
 */
static long spawn(uint64_t upath, uint64_t uargv, uint64_t uenvp, int32_t *out_pid)
{
	uint8_t *msg = mm_alloc(PAGE_UP(CHAN_MSG_MAX), 0);
	struct exec_msg *em = (struct exec_msg *)msg;
	struct spawn_fd *sfd;
	int32_t keep[LIBOS_SPAWN_FDS], sv[2], result = 0;
	uint64_t used = 0, room, pathlen;
	uint32_t type, nkeep = 0, dummy;
	struct child *c;
	long r, pid;
	int n;

	if (!msg)
		return -ENOMEM;
	memset(em, 0, sizeof(*em));
	char *strings = (char *)msg + sizeof(*em);
	room = CHAN_MSG_MAX - sizeof(*em) - LIBOS_SPAWN_FDS * sizeof(struct spawn_fd);
	r = fs_resolve_path(upath, strings, room < 4096 ? room : 4096);
	if (r < 0)
		goto out;
	if (str_eq(strings, "/proc/self/exe") && exe[0]) /* busybox runs its applets so */
		str_lcpy(strings, exe, sizeof(exe));
	if (!fs_is_trusted(strings)) {
		/* Quiet, as Linux is: a PATH search tries many (a DEBUG enclave says which). */
		if (libos_manifest.debug)
			log_err("execve %s: not a trusted file of the manifest: ENOENT", strings);
		r = -ENOENT;
		goto out;
	}
	pathlen = str_len(strings) + 1;
	used = pathlen;
	if ((r = copy_strings(uargv, strings, room, &em->argc, &used)) < 0 ||
	    (r = copy_strings(uenvp, strings, room, &em->envc, &used)) < 0)
		goto out;
	fs_getcwd(em->cwd, sizeof(em->cwd));
	/* The table is made at the end of the buffer, then moved up to follow the strings. */
	sfd = (struct spawn_fd *)(msg + CHAN_MSG_MAX - LIBOS_SPAWN_FDS * sizeof(struct spawn_fd));
	n = fs_export(sfd, LIBOS_SPAWN_FDS - 1, strings, room, &used);
	if (n < 0) {
		r = n;
		goto out;
	}
	em->strings_len = (uint32_t)used;
	memmove(strings + ((used + 7) & ~7ULL), sfd, (uint64_t)n * sizeof(*sfd));
	sfd = (struct spawn_fd *)(strings + ((used + 7) & ~7ULL));
	c = child_slot();
	if (!c) {
		r = -EAGAIN;
		goto out;
	}
	r = host_socketpair(sv);
	if (r < 0)
		goto out;
	keep[nkeep++] = sv[1];
	for (int i = 0; i < n; i++)
		if (sfd[i].kind == SPAWN_PIPE_R || sfd[i].kind == SPAWN_PIPE_W)
			keep[nkeep++] = sfd[i].host;
	em->nfds = (uint32_t)n;
	memcpy((void *)libos_mb->buf, keep, nkeep * sizeof(int32_t));
	pid = ocall(LIBOS_OCALL_SPAWN, 0, 0, nkeep * sizeof(int32_t));
	host_fd_close(sv[1]);
	if (pid <= 0 || pid >= FAKE_PID_BASE) {
		host_fd_close(sv[0]);
		r = pid < 0 && pid >= -4095 ? pid : -EIO;
		goto out;
	}
	memset(c, 0, sizeof(*c));
	c->pid = (int32_t)pid;
	c->pgid = pgid == -1 ? c->pid : pgid ? pgid : 1;
	c->running = 1;
	em->pid = c->pid;
	em->ppid = (int32_t)libos_mb_pid();
	em->pgid = pgid;
	em->sid = sid;
	/* The child proves it derived the key, then hears what to run, then says how it went. */
	r = chan_open(&c->ch, sv[0], 1);
	if (r == 0 && (r = chan_recv(&c->ch, &type, &dummy, sizeof(dummy), 2)) >= 0 &&
	    type != MSG_HELLO)
		r = -EIO;
	if (r >= 0)
		r = chan_send(&c->ch, MSG_EXEC, msg, (uint32_t)((uint8_t *)(sfd + n) - msg));
	if (r >= 0 && (r = chan_recv(&c->ch, &type, &result, sizeof(result), 2)) >= 0 &&
	    (type != MSG_EXEC_RESULT || r != sizeof(result)))
		r = -EIO;
	if (r >= 0 && result > 0 && result < 4096)
		r = -result;
	if (r < 0) {
		if (r == -EIO || r == -EPIPE)
			log_err("%s: the child process did not start (%s)", strings,
				r == -EIO ? "its channel failed authentication" : "it ended");
		chan_close(&c->ch);
		c->running = 0;
		ocall_blocking(LIBOS_OCALL_REAP, pid, 0, 0);
		goto out;
	}
	*out_pid = c->pid;
	r = 0;
out:
	mm_free(msg, PAGE_UP(CHAN_MSG_MAX));
	return r;
}

static void exit_with(struct child *c, int *exited, int *status);

struct send_ctx {
	struct chan *ch;
};

static int page_is_zero(uint64_t addr)
{
	const uint64_t *p = (const uint64_t *)addr;
	uint64_t acc = 0;

	for (int i = 0; i < (int)(PAGE_SIZE / 8); i++)
		acc |= p[i];
	return !acc;
}

/* A run of pages in use: zeroed ones named, the others' bytes sent. */
static int send_run(uint64_t addr, uint64_t n, void *arg)
{
	struct send_ctx *s = arg;

	while (n) {
		int zero = page_is_zero(addr), r;
		uint64_t k = 1, h[2];

		while (k < n && (zero || k < FORK_PAGES) &&
		       page_is_zero(addr + k * PAGE_SIZE) == zero)
			k++;
		h[0] = addr;
		h[1] = k;
		r = zero ? chan_send_locked(s->ch, MSG_FORK_ZERO, h, sizeof(h), NULL, 0)
			 : chan_send_locked(s->ch, MSG_FORK_PAGES, h, sizeof(h), (const void *)addr,
					    (uint32_t)(k * PAGE_SIZE));
		if (r < 0)
			return r;
		addr += k * PAGE_SIZE;
		n -= k;
	}
	return 0;
}

/*
 * The snapshot, with the LibOS's lock held from the first byte to the last
 * (no other thread changes memory meanwhile): the forking thread's state,
 * the forked statics, every heap page in use.
 */
static int send_snapshot(struct chan *ch, struct ssa_gpr *g, uint64_t flags, uint64_t ctid,
			 int32_t pid)
{
	static struct fork_msg m;
	struct libos_thread *self = libos_self();
	uint64_t size = (uint64_t)(__forked_end - __forked_start);
	struct send_ctx s = { ch };
	int r;

	memset(&m, 0, sizeof(m));
	m.pid = pid;
	m.ppid = (int32_t)libos_mb_pid();
	m.base = libos_base;
	m.flags = flags;
	m.ctid = ctid;
	m.sigmask = self->sigmask;
	m.forked_size = size;
	memcpy(m.altstack, self->altstack, sizeof(m.altstack));
	m.regs = *g;
	m.regs.rip += 2; /* past the SYSCALL, returning 0 */
	m.regs.rax = 0;
	m.regs.rcx = m.regs.rip;
	m.regs.r11 = m.regs.rflags;
	memcpy(m.xstate, self->ssa, sizeof(m.xstate));
	r = chan_send_locked(ch, MSG_FORK, &m, sizeof(m), NULL, 0);
	for (uint64_t off = 0; r == 0 && off < size; off += CHAN_MSG_MAX - 8) {
		uint64_t n = size - off < CHAN_MSG_MAX - 8 ? size - off : CHAN_MSG_MAX - 8;

		r = chan_send_locked(ch, MSG_FORK_STATE, &off, sizeof(off), __forked_start + off,
				     (uint32_t)n);
	}
	if (r == 0)
		r = mm_each_used(send_run, &s);
	if (r == 0)
		r = chan_send_locked(ch, MSG_FORK_END, NULL, 0, NULL, 0);
	return r;
}

/*
 * fork, and clone without CLONE_VM: a child enclave of the same image at
 * the same address gets a copy of this process (Gramine's way): memory,
 * descriptors (pipes cross the host from now on), signal actions, and the
 * calling thread, which returns 0 there.
 */
long proc_fork(struct ssa_gpr *g, uint64_t flags, uint64_t ptid, uint64_t ctid)
{
	int32_t keep[LIBOS_SPAWN_FDS], sv[2], result = -1;
	uint32_t type, dummy;
	struct child *c;
	long r, pid;
	int n;

	if (proc_in_vfork())
		return -ENOSYS;
	if ((flags & CLONE_PARENT_SETTID) && !user_ok(ptid, 4))
		return -EFAULT;
	c = child_slot();
	if (!c)
		return -EAGAIN;
	r = host_socketpair(sv);
	if (r < 0)
		return r;
	keep[0] = sv[1];
	n = fs_fork_keep(keep + 1, LIBOS_SPAWN_FDS - 1);
	if (n < 0) {
		host_fd_close(sv[0]);
		host_fd_close(sv[1]);
		return n;
	}
	memcpy((void *)libos_mb->buf, keep, (uint64_t)(n + 1) * sizeof(int32_t));
	pid = ocall(LIBOS_OCALL_SPAWN, 0, 0, (uint64_t)(n + 1) * sizeof(int32_t));
	host_fd_close(sv[1]);
	if (pid <= 0 || pid >= FAKE_PID_BASE) {
		host_fd_close(sv[0]);
		return pid < 0 && pid >= -4095 ? pid : -EIO;
	}
	memset(c, 0, sizeof(*c));
	c->pid = (int32_t)pid;
	c->pgid = id_of(pgid, (int32_t)libos_mb_pid()); /* a fork child's is its parent's */
	c->running = 1;
	r = chan_open(&c->ch, sv[0], 1);
	if (r == 0 && (r = chan_recv(&c->ch, &type, &dummy, sizeof(dummy), 2)) >= 0 &&
	    type != MSG_HELLO)
		r = -EIO;
	if (r >= 0)
		r = send_snapshot(&c->ch, g, flags, ctid, c->pid);
	if (r >= 0 && (r = chan_recv(&c->ch, &type, &result, sizeof(result), 2)) >= 0 &&
	    (type != MSG_EXEC_RESULT || r != sizeof(result) || result != 0))
		r = -EIO;
	if (r < 0) {
		log_err("%s: fork: the child process did not start (%s)", libos_manifest.entrypoint,
			r == -EIO ? "its channel failed" : "it ended");
		chan_close(&c->ch);
		c->running = 0;
		ocall_blocking(LIBOS_OCALL_REAP, pid, 0, 0);
		return -EAGAIN;
	}
	if (flags & CLONE_PARENT_SETTID)
		*(int32_t *)ptid = c->pid;
	return c->pid;
}

long proc_execve(struct ssa_gpr *g, uint64_t path, uint64_t argv, uint64_t envp, int *exited,
		 int *status, int *regs_replaced)
{
	int32_t pid = 0;
	long r = spawn(path, argv, envp, &pid);

	if (r < 0)
		return r;
	if (proc_in_vfork()) {
		vfork_done(g, pid);
		*regs_replaced = 1;
		return 0;
	}
	/* Not a vfork: this process hands over to the new program and ends as it does. */
	fs_close_all(); /* the new program's pipes see their ends as Linux's would */
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid == pid)
			exit_with(&children[i], exited, status);
	return 0;
}

/* A child's end: a zombie with its status (a channel that ends early: killed by the host). */
static void child_ended(struct child *c, long r, int wstatus)
{
	if (r == -EIO)
		log_err("child process %d: its channel failed authentication", c->pid);
	c->wstatus = r >= 0 ? wstatus : 9; /* SIGKILL */
	chan_close(&c->ch);
	ocall_blocking(LIBOS_OCALL_REAP, c->pid, 0, 0);
	c->running = 0;
	c->zombie = 1;
}

/* Looks at c's channel: 1 once it is a zombie, 0 while it runs, -EINTR. */
static int child_poll(struct child *c, int wait)
{
	int32_t ws = 0;
	uint32_t type = 0;
	long r;

	if (c->zombie)
		return 1;
	if (c->reading)
		return 0; /* one reader per channel: a record is never split */
	c->reading = 1;
	r = chan_recv(&c->ch, &type, &ws, sizeof(ws), wait);
	c->reading = 0;
	if (r == -EAGAIN || r == -EINTR)
		return r == -EINTR ? -EINTR : 0;
	if (r >= 0 && (type != MSG_EXIT || r != sizeof(ws)))
		r = -EIO;
	child_ended(c, r, ws);
	return 1;
}

/*
 * execve outside a vfork: this process waits for the program that replaced
 * it, passing on the signals it is sent (rune kill of a container whose
 * `sh -c 'exec prog'` is pid 1 reaches prog), and ends as it does.
 */
static void exit_with(struct child *c, int *exited, int *status)
{
	while (child_poll(c, 1) == -EINTR) {
		uint64_t p = libos_take_pending();

		if (libos_exiting)
			break;
		for (int sig = 1; sig <= 64; sig++)
			if (p & (1ULL << (sig - 1)))
				proc_kill(c->pid, (uint64_t)sig);
	}
	if ((c->wstatus & 0x7f) == 0) {
		*status = (c->wstatus >> 8) & 0xff;
	} else {
		proc_term_signal(c->wstatus & 0x7f);
		*status = 128 + (c->wstatus & 0x7f);
	}
	*exited = 1;
}

static int matches(struct child *c, int64_t pid)
{
	return (c->running || c->zombie) && (pid == -1 || pid == 0 || pid == c->pid);
}

/* The zombie to report for pid (-1: any), waiting unless nohang: it, NULL (nohang), or -errno. */
static long find_zombie(int64_t pid, int nohang, struct child **out)
{
	for (;;) {
		int any = 0, running = 0;
		struct child *only = NULL;

		for (int i = 0; i < MAX_CHILDREN; i++) {
			struct child *c = &children[i];

			if (!matches(c, pid))
				continue;
			any = 1;
			if (child_poll(c, 0) == 1) {
				*out = c;
				return 0;
			}
			running++;
			only = c;
		}
		if (!any)
			return -ECHILD;
		if (nohang) {
			*out = NULL;
			return 0;
		}
		if (libos_signal_ready(libos_self()))
			return -EINTR;
		if (running == 1 && !only->reading) {
			/* One to wait for: block on its channel. */
			int r = child_poll(only, 1);

			if (r < 0)
				return r;
			continue;
		}
		/* Several, or another thread reads: look again shortly (a signal cuts it short). */
		if (ocall_blocking(LIBOS_OCALL_SLEEP, 0, 2000000, 0) == -EINTR)
			return -EINTR;
	}
}

/*
 * kill of a child process: its host process takes the signal (its PAL
 * hands it to the child enclave as rune kill's are); a zombie's is a no-op.
 */
static int child_known(int32_t pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i].pid == pid && (children[i].running || children[i].zombie))
			return 1;
	return 0;
}

/*
 * kill of a group (pid 0: the caller's, below -1: -pid's) or of every
 * process (-1): the children this process knows in it (grandchildren are
 * their parents' to know), then, when it belongs, the caller itself
 * (*self set). 0, or -ESRCH when nobody is in it.
 */
long proc_kill_group(int32_t pid, uint64_t sig, int *self)
{
	int32_t me = (int32_t)libos_mb_pid(), group = pid == 0 ? id_of(pgid, me) : -pid;
	int found = 0;

	*self = 0;
	if (sig > 64)
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH; /* no group -pid */
	*self = pid == -1 || id_of(pgid, me) == group;
	for (int i = 0; i < MAX_CHILDREN; i++) {
		struct child *c = &children[i];

		if (!c->running || c->zombie || (pid != -1 && c->pgid != group))
			continue;
		found = 1;
		proc_kill(c->pid, sig);
	}
	return found || *self ? 0 : -ESRCH;
}

long proc_kill(int32_t pid, uint64_t sig)
{
	long r;

	if (sig > 64)
		return -EINVAL;
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i].pid != pid || (!children[i].running && !children[i].zombie))
			continue;
		if (children[i].zombie || pid >= FAKE_PID_BASE)
			return 0;
		r = ocall(LIBOS_OCALL_KILL, pid, (int64_t)sig, 0);
		return r == 0 || (r < 0 && r >= -4095) ? r : -EIO; /* the host's answer, checked */
	}
	return -ESRCH;
}

long proc_wait4(int64_t pid, uint64_t ustatus, uint64_t options, uint64_t rusage)
{
	struct child *c = NULL;
	long r;

	if (options & ~(uint64_t)(WNOHANG | 2 /* WUNTRACED */ | 8 /* WCONTINUED */ | 0x40000000))
		return -EINVAL;
	if ((ustatus && !user_ok(ustatus, 4)) || (rusage && !user_ok(rusage, 144)))
		return -EFAULT;
	if (pid < -1)
		pid = -pid; /* a process group: each child is its own here */
	r = find_zombie(pid, options & WNOHANG, &c);
	if (r < 0 || !c)
		return r;
	if (ustatus)
		memcpy((void *)ustatus, &c->wstatus, 4);
	if (rusage)
		memset((void *)rusage, 0, 144);
	c->zombie = 0;
	return c->pid;
}

long proc_waitid(uint64_t idtype, uint64_t id, uint64_t uinfo, uint64_t options)
{
	struct child *c = NULL;
	int64_t pid = idtype == P_ALL ? -1 : (int64_t)(int32_t)id;
	long r;

	if ((idtype != P_ALL && idtype != P_PID) || !(options & WEXITED))
		return -EINVAL;
	if (uinfo && !user_ok(uinfo, 128))
		return -EFAULT;
	r = find_zombie(pid, options & WNOHANG, &c);
	if (r < 0)
		return r;
	if (uinfo) {
		int32_t *si = (int32_t *)uinfo;

		memset(si, 0, 128);
		if (c) {
			int killed = (c->wstatus & 0x7f) != 0;

			si[0] = 17;		/* si_signo: SIGCHLD */
			si[2] = killed ? 2 : 1; /* si_code: CLD_KILLED, CLD_EXITED */
			si[4] = c->pid;		/* si_pid */
			si[5] = 0;		/* si_uid */
			si[6] =
			    killed ? c->wstatus & 0x7f : (c->wstatus >> 8) & 0xff; /* si_status */
		}
	}
	if (c && !(options & WNOWAIT))
		c->zombie = 0;
	return 0;
}

/*
 * Process groups and sessions, as far as one process can know them: its
 * own (a child inherits them) and its children's (as spawned, forked, or
 * set by its setpgid; shells make the same call in both).
 */

long proc_pgrp(long nr, int64_t a0, int64_t a1)
{
	int32_t self = (int32_t)libos_mb_pid();

	if (proc_in_vfork() && (nr == 112 || (nr == 109 && (!a0 || a0 == self)))) {
		/* The vfork child's own (its pid is not known yet): new group, maybe session. */
		if (nr == 112)
			sid = -1;
		pgid = nr == 109 && a1 && a1 != self ? (int32_t)a1 : -1;
		return nr == 112 ? self : 0;
	}
	switch (nr) {
	case 111: /* getpgrp */
		return id_of(pgid, self);
	case 121: /* getpgid */
		if (a0 && a0 != self && !child_known((int32_t)a0))
			return -ESRCH;
		return id_of(pgid, self);
	case 124: /* getsid */
		if (a0 && a0 != self && !child_known((int32_t)a0))
			return -ESRCH;
		return id_of(sid, self);
	case 109: /* setpgid */
		if (a1 < 0)
			return -EINVAL;
		if (a0 && a0 != self) {
			/* A shell puts its child in a group: what kill(-pgid) then reaches. */
			for (int i = 0; i < MAX_CHILDREN; i++)
				if (children[i].pid == a0 &&
				    (children[i].running || children[i].zombie)) {
					children[i].pgid = a1 ? (int32_t)a1 : (int32_t)a0;
					return 0;
				}
			return -ESRCH;
		}
		if (sid == self)
			return -EPERM; /* a session leader stays its group's */
		pgid = a1 ? (int32_t)a1 : self;
		return 0;
	case 112: /* setsid */
		if (pgid == self || (!pgid && self == 1))
			return -EPERM; /* already a group leader */
		sid = pgid = self;
		return self;
	}
	return -ENOSYS;
}

/* The child's side ------------------------------------------------------- */

/*
 * START in a child process: the key with the parent, then what to run.
 * path, argv and env point into one allocation that lives on.
 */
static int child_fork(const struct fork_msg *m, long len);

int proc_child_start(int64_t channel, const char **path, const char ***argv, int *argc,
		     const char ***envp, int *envc)
{
	uint8_t *msg = child_msg;
	struct exec_msg *em = (struct exec_msg *)msg;
	const char **v;
	uint32_t type, zero = 0, k;
	uint64_t fds_off;
	char *s;
	long r;

	r = chan_open(&parent_chan, channel, 0);
	if (r == 0)
		r = chan_send(&parent_chan, MSG_HELLO, &zero, sizeof(zero));
	if (r == 0)
		r = chan_recv(&parent_chan, &type, msg, CHAN_MSG_MAX, 2);
	if (r >= 0 && type == MSG_FORK)
		return child_fork((const struct fork_msg *)msg, r);
	if (r >= 0 && (type != MSG_EXEC || (uint64_t)r < sizeof(*em)))
		r = -EIO;
	if (r < 0)
		return (int)r;
	/* The parent is trusted (same image, authenticated), but its message is still checked. */
	s = (char *)msg + sizeof(*em);
	fds_off = (em->strings_len + 7) & ~7ULL;
	if (em->argc > 4096 || em->envc > 4096 || em->nfds > LIBOS_SPAWN_FDS ||
	    sizeof(*em) + fds_off + em->nfds * sizeof(struct spawn_fd) > (uint64_t)r ||
	    !em->strings_len || s[em->strings_len - 1] || em->cwd[sizeof(em->cwd) - 1])
		return -EIO;
	v = mm_alloc(PAGE_UP((em->argc + em->envc + 2) * sizeof(char *)), 1);
	if (!v)
		return -ENOMEM;
	*path = s;
	k = (uint32_t)str_len(s) + 1;
	for (uint32_t i = 0; i < em->argc + em->envc; i++) {
		if (k >= em->strings_len)
			return -EIO;
		v[i + (i >= em->argc)] = s + k;
		k += (uint32_t)str_len(s + k) + 1;
	}
	*argv = v;
	*argc = (int)em->argc;
	*envp = v + em->argc + 1;
	*envc = (int)em->envc;
	parent_pid = em->ppid;
	pgid = em->pgid == -1 ? em->pid : em->pgid;
	sid = em->sid == -1 ? em->pid : em->sid;
	fs_setcwd(em->cwd);
	return fs_import((const struct spawn_fd *)(s + fds_off), (int)em->nfds, s, em->strings_len);
}

/*
 * A fork child: the parent's statics and heap pages over ours, then the
 * forking thread's state for thread 0, which resumes it (main.c): 1, or
 * -errno (nothing of it runs).
 */
static int child_fork(const struct fork_msg *fm, long len)
{
	static struct fork_msg m;
	uint64_t size = (uint64_t)(__forked_end - __forked_start), h[2];
	struct libos_thread *t0 = &libos_thread0;
	uint32_t type;
	long r;

	if (len != sizeof(m))
		return -EIO;
	memcpy(&m, fm, sizeof(m));
	if (m.base != libos_base || m.forked_size != size) {
		log_err("fork: the child enclave is not at its parent's address: refused");
		return -EIO;
	}
	for (;;) {
		r = chan_recv(&parent_chan, &type, child_msg, CHAN_MSG_MAX, 2);
		if (r < 0)
			return (int)r;
		if (type == MSG_FORK_END)
			break;
		if (r < 16 && !(type == MSG_FORK_STATE && r >= 8))
			return -EIO;
		memcpy(h, child_msg, 16);
		if (type == MSG_FORK_STATE && h[0] <= size && (uint64_t)r - 8 <= size - h[0]) {
			memcpy(__forked_start + h[0], child_msg + 8, (uint64_t)r - 8);
			continue;
		}
		if (type == MSG_FORK_ZERO && r == 16 && !(h[0] % PAGE_SIZE) &&
		    h[1] <= (1ULL << 36) && mm_in_heap(h[0], h[1] * PAGE_SIZE)) {
			memset((void *)h[0], 0, h[1] * PAGE_SIZE);
			continue;
		}
		if (type == MSG_FORK_PAGES && h[1] <= FORK_PAGES &&
		    (uint64_t)r - 16 == h[1] * PAGE_SIZE && !(h[0] % PAGE_SIZE) &&
		    mm_in_heap(h[0], h[1] * PAGE_SIZE)) {
			memcpy((void *)h[0], child_msg + 16, (uint64_t)r - 16);
			continue;
		}
		return -EIO;
	}
	/* This process's own: host handles, writer ids, its parent, its thread. */
	fs_after_fork();
	parent_pid = m.ppid;
	memcpy(t0->xstate, m.xstate, sizeof(t0->xstate));
	t0->start_regs = m.regs;
	t0->sigmask = m.sigmask;
	memcpy(t0->altstack, m.altstack, sizeof(t0->altstack));
	t0->clear_child_tid = (m.flags & CLONE_CHILD_CLEARTID) ? m.ctid : 0;
	if ((m.flags & CLONE_CHILD_SETTID) && user_ok(m.ctid, 4))
		*(int32_t *)m.ctid = t0->tid;
	proc_child_started(0);
	return 1;
}

/* The child's execve went (0) or did not (-errno): the parent's vfork or execve hears it. */
void proc_child_started(int err)
{
	int32_t e = -err;

	if (parent_chan.fd >= 0 && chan_send(&parent_chan, MSG_EXEC_RESULT, &e, sizeof(e)) < 0)
		log_err("the parent process is gone");
	if (err < 0)
		chan_close(&parent_chan);
}

/* At the end of a child process: its wait status, to its parent. */
void proc_exit_notify(int status)
{
	int32_t ws = term_signal ? term_signal : (status & 0xff) << 8;

	if (parent_chan.fd < 0)
		return;
	chan_send(&parent_chan, MSG_EXIT, &ws, sizeof(ws));
	chan_close(&parent_chan);
}
