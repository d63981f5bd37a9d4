// SPDX-License-Identifier: Apache-2.0
/*
 * The LibOS's start and exception paths.
 *
 * START (CSSA 0): read the measured manifest, check the host's mailbox,
 * set up the heap, take argv/env (from the manifest, or from the host when
 * the manifest allows it), load the entrypoint (a trusted file, verified
 * against its SHA-256) and jump to it.
 *
 * EXCEPTION (CSSA 1): the workload's state is in SSA frame 0, written by
 * the CPU at the AEX. A SYSCALL (#UD on 0f 05) is emulated right there:
 * arguments from the frame, the result into its RAX, RCX/R11 as SYSCALL
 * leaves them, RIP past the instruction; the host then ERESUMEs. CPUID and
 * RDTSC (#UD on SGX1) are answered through OCALLs. Any other exception
 * ends the workload as the signal Linux would have delivered (no handlers
 * run in this slice).
 */
#include "libos.h"

extern char __encl_base[], __encl_end[], __manifest[];

/* The static PIE's relative relocations (libos.lds keeps them in the measured text). */
struct rela {
	uint64_t offset, info;
	int64_t addend;
};
extern const struct rela __rela_start[], __rela_end[];
#define R_X86_64_RELATIVE 8

/*
 * Pointers in data (BearSSL's tables of functions: ratls.c) hold link-time
 * offsets: add the enclave's base, as a loader would. Only relative
 * relocations (the build refuses others), each to a word inside the
 * LibOS; setting, not adding, so entering twice does no harm.
 */
static void relocate(void)
{
	uint64_t base = (uint64_t)__encl_base, size = (uint64_t)(__encl_end - __encl_base);

	for (const struct rela *r = __rela_start; r < __rela_end; r++)
		if ((r->info & 0xffffffff) == R_X86_64_RELATIVE && r->offset <= size - 8)
			*(volatile uint64_t *)(base + r->offset) = base + (uint64_t)r->addend;
}
void libos_thread_trap(void);

struct manifest libos_manifest;
uint64_t libos_base, libos_heap_start, libos_heap_end;

#define MAX_ARGS 4096

/* The thread whose stack we are on (entry.S's cur_thread, in C). */
struct libos_thread *libos_self(void)
{
	uint64_t sp, t0 = (uint64_t)&libos_thread0;

	__asm__("mov %%rsp, %0" : "=r"(sp));
	if (sp - t0 < LIBOS_THREAD_BLOCK)
		return &libos_thread0;
	return (struct libos_thread *)(sp & ~(uint64_t)(LIBOS_THREAD_BLOCK - 1));
}

long ocall(long nr, int64_t a0, int64_t a1, uint64_t len)
{
	volatile struct libos_mailbox *mb = libos_mb;

	mb->arg[0] = a0;
	mb->arg[1] = a1;
	mb->len = len;
	return libos_ocall_raw(nr);
}

long ocall_blocking(long nr, int64_t a0, int64_t a1, uint64_t len)
{
	long r;

	libos_unlock();
	r = ocall(nr, a0, a1, len);
	libos_lock();
	libos_take_host_signals(libos_self());
	return r;
}

static int32_t libos_pid = 1;
/* A DEBUG enclave asked by its host to trace: one stderr line per system call. */
static int libos_trace;

int64_t libos_mb_pid(void)
{
	return libos_pid;
}

static struct exit_pair done(int64_t v)
{
	return (struct exit_pair){ LIBOS_EXIT_DONE, v };
}

static int parse_u64(const char *s, uint64_t *v)
{
	uint64_t r = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (r > (~0ULL - 9) / 10)
			return -ERANGE;
		r = r * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\n' && *s != 0)
		return -EINVAL;
	*v = r;
	return 0;
}

/* The value after "key " on a line, or NULL. */
static const char *line_val(const char *line, const char *key)
{
	size_t n = str_len(key);

	if (str_ncmp(line, key, n) || line[n] != ' ')
		return NULL;
	return line + n + 1;
}

static const char *next_line(const char *l)
{
	while (*l && *l != '\n')
		l++;
	return *l ? l + 1 : l;
}

static void copy_line(char *dst, size_t n, const char *src)
{
	size_t i = 0;

	for (; i + 1 < n && src[i] && src[i] != '\n'; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static int parse_manifest(struct manifest *m)
{
	const char *t = __manifest, *l, *v;
	uint64_t n;

	memset(m, 0, sizeof(*m));
	m->text = t;
	if (str_ncmp(t, LIBOS_MANIFEST_MAGIC, sizeof(LIBOS_MANIFEST_MAGIC) - 1))
		return -EINVAL;
	for (l = t; *l; l = next_line(l)) {
		if ((v = line_val(l, "enclave_size")) && parse_u64(v, &m->enclave_size) < 0)
			return -EINVAL;
		if ((v = line_val(l, "heap_offset")) && parse_u64(v, &m->heap_offset) < 0)
			return -EINVAL;
		if ((v = line_val(l, "heap_size")) && parse_u64(v, &m->heap_size) < 0)
			return -EINVAL;
		if ((v = line_val(l, "stack_size")) && parse_u64(v, &m->stack_size) < 0)
			return -EINVAL;
		if ((v = line_val(l, "libos_offset")) && parse_u64(v, &m->libos_offset) < 0)
			return -EINVAL;
		if ((v = line_val(l, "exec_start")) && parse_u64(v, &m->exec_start) < 0)
			return -EINVAL;
		if ((v = line_val(l, "exec_end")) && parse_u64(v, &m->exec_end) < 0)
			return -EINVAL;
		if ((v = line_val(l, "enclave_base"))) {
			if (parse_u64(v, &m->enclave_base) < 0)
				return -EINVAL;
			m->fixed_base = 1;
		}
		if ((v = line_val(l, "threads"))) { /* the TCS count: one per thread */
			if (parse_u64(v, &n) < 0 || n == 0 || n > 4096)
				return -EINVAL;
			m->threads = (uint32_t)n;
		}
		if ((v = line_val(l, "debug"))) {
			if (parse_u64(v, &n) < 0 || n > 1)
				return -EINVAL;
			m->debug = (int)n;
		}
		if ((v = line_val(l, "entrypoint")))
			copy_line(m->entrypoint, sizeof(m->entrypoint), v);
		if ((v = line_val(l, "argv")))
			m->host_argv = !str_ncmp(v, "host\n", 5);
		if ((v = line_val(l, "env")))
			m->host_env = !str_ncmp(v, "host\n", 5);
	}
	if (!m->enclave_size || !m->heap_size || m->heap_offset % PAGE_SIZE ||
	    m->heap_size % PAGE_SIZE || m->libos_offset % PAGE_SIZE ||
	    m->libos_offset > m->enclave_size ||
	    m->heap_offset < m->libos_offset + (uint64_t)(__encl_end - __encl_base) ||
	    m->heap_offset > m->enclave_size || m->heap_size > m->enclave_size - m->heap_offset ||
	    m->entrypoint[0] != '/')
		return -EINVAL;
	/* A fixed-address program lies in the heap, where the manifest says. */
	if (m->exec_end &&
	    (!m->fixed_base || m->exec_start % PAGE_SIZE || m->exec_end % PAGE_SIZE ||
	     m->exec_end <= m->exec_start || m->exec_start < m->heap_offset ||
	     m->exec_end > m->heap_offset + m->heap_size))
		return -EINVAL;
	if (!m->stack_size)
		m->stack_size = 1 << 20;
	if (!m->threads)
		m->threads = 1;
	return 0;
}

/* A mailbox must be host memory: entirely outside the ELRANGE. */
int mailbox_ok(uint64_t mb)
{
	uint64_t end = mb + sizeof(struct libos_mailbox);

	if (mb % 8 || end < mb || end > (1ULL << 47))
		return 0;
	return end <= libos_base || mb >= libos_base + libos_manifest.enclave_size;
}

/*
 * Collects count NUL-terminated strings from the manifest lines "key VALUE"
 * or from the host's buffer (copied in first), into an enclave array.
 */
static int manifest_strings(const char *key, const char ***out, int *count)
{
	const char *l;
	int n = 0, i = 0;
	char **v;

	for (l = libos_manifest.text; *l; l = next_line(l))
		if (line_val(l, key))
			n++;
	v = mm_alloc(PAGE_UP((n + 1) * sizeof(char *)), 1);
	if (!v)
		return -ENOMEM;
	for (l = libos_manifest.text; *l; l = next_line(l)) {
		const char *val = line_val(l, key);
		size_t len = 0;

		if (!val)
			continue;
		while (val[len] && val[len] != '\n')
			len++;
		v[i] = mm_alloc(PAGE_UP(len + 1), 1);
		if (!v[i])
			return -ENOMEM;
		memcpy(v[i], val, len);
		i++;
	}
	*out = (const char **)v;
	*count = n;
	return 0;
}

/* The host's argv and env, and (rune exec) the program's path before them. */
static int host_strings(const char **path, const char ***argv, int *argc, const char ***envp,
			int *envc)
{
	uint32_t ac = libos_mb->argc, ec = libos_mb->envc, len = libos_mb->strings_len;
	char *buf, **v;
	uint32_t k = 0;

	if (len > LIBOS_STRINGS_MAX || ac > MAX_ARGS || ec > MAX_ARGS)
		return -E2BIG_LIBOS;
	buf = mm_alloc(PAGE_UP(len + 1), 1);
	v = mm_alloc(PAGE_UP((ac + ec + 2) * sizeof(char *)), 1);
	if (!buf || !v)
		return -ENOMEM;
	memcpy(buf, (const void *)libos_mb->strings, len);
	buf[len] = 0;
	*path = NULL;
	if (libos_mb->exec) {
		*path = buf;
		k = (uint32_t)str_len(buf) + 1;
		if (k > len || buf[0] != '/')
			return -EINVAL;
	}
	for (uint32_t i = 0; i < ac + ec; i++) {
		if (k >= len)
			return -EINVAL;
		v[i + (i >= ac)] = buf + k;
		k += (uint32_t)str_len(buf + k) + 1;
	}
	*argv = (const char **)v;
	*argc = (int)ac;
	*envp = (const char **)v + ac + 1;
	*envc = (int)ec;
	return 0;
}

struct exit_pair libos_start(uint64_t mb);
struct exit_pair libos_start(uint64_t mb)
{
	const char **argv = NULL, **envp = NULL, **hargv, **henvp, *prog;
	int argc = 0, envc = 0, hargc, henvc, ret;
	uint64_t entry, sp;

	relocate();
	if (parse_manifest(&libos_manifest) < 0)
		return done(-EINVAL); /* nowhere to say it: the host gets -EINVAL */
	/* The enclave's base: the LibOS sits libos_offset into it. */
	libos_base = (uint64_t)__encl_base - libos_manifest.libos_offset;
	/*
	 * A fixed-address program needs the enclave where the measured manifest
	 * says: a host that based it elsewhere gets nothing run.
	 */
	if ((libos_manifest.fixed_base && libos_base != libos_manifest.enclave_base) ||
	    !mailbox_ok(mb))
		return done(-EINVAL);
	libos_thread0.mb = (volatile struct libos_mailbox *)mb;
	if (libos_mb->magic != LIBOS_MAILBOX_MAGIC)
		return done(-EINVAL);
	libos_pid = libos_mb->pid;
	if (libos_pid <= 0)
		libos_pid = 1;
	libos_trace = libos_mb->trace && libos_manifest.debug;
	libos_heap_start = libos_base + libos_manifest.heap_offset;
	libos_heap_end = libos_heap_start + libos_manifest.heap_size;
	if (libos_manifest.debug)
		log_err("DEBUG enclave: its memory can be read by the host (sgx debug attribute)");
	ret = mm_init();
	if (ret < 0) {
		log_err("heap of %lu bytes is too small", libos_manifest.heap_size);
		return done(ret);
	}
	/* The thread layout, and the service TCS's block from the heap. */
	if (threads_init() < 0)
		return done(-EINVAL);
	fs_init();
	if (libos_mb->channel > 0) {
		/* A child process: what to run comes from the parent, over the channel. */
		const char *path;

		libos_lock(); /* its blocking OCALLs drop it and take it again */
		ret = proc_child_start(libos_mb->channel - 1, &path, &argv, &argc, &envp, &envc);
		if (ret == 1) {
			/* fork: thread 0 resumes the parent's thread (its UD2 trap loads it). */
			libos_thread0.mb_raw = (uint64_t)libos_thread0.mb;
			libos_thread0.starting = 1;
			libos_unlock();
			libos_thread_trap();
		}
		if (ret < 0) {
			log_err("child process: no program from the parent (%s)",
				ret == -EIO ? "the channel failed authentication"
					    : "the channel failed");
			libos_unlock();
			return done(127);
		}
		ret = elf_load_and_stack(path, argv, argc, envp, envc, &entry, &sp);
		proc_child_started(ret < 0 ? ret : 0);
		libos_unlock();
		if (ret < 0)
			return done(127);
		libos_jump_to_app(entry, sp);
	}
	/* The RA-TLS certificate and key the manifest asks for, before the workload runs. */
	if (ratls_enabled()) {
		libos_lock(); /* the quote's OCALLs drop it and take it again */
		ret = (int)ratls_make();
		libos_unlock();
		if (ret < 0)
			return done(ret); /* ratls.c said why */
	}
	ret = host_strings(&prog, &hargv, &hargc, &henvp, &henvc);
	if (ret < 0) {
		log_err("the host's argv/env are malformed");
		return done(ret);
	}
	if (prog && !libos_manifest.host_argv) {
		/* rune exec chooses the program and its argv: only where the manifest lets the host. */
		log_err("%s: exec refused: the manifest fixes the program and its arguments "
			"(rune-image build --host-argv lets the host choose them)",
			prog);
		return done(126);
	}
	if (!prog)
		prog = libos_manifest.entrypoint;
	if (libos_manifest.host_argv) {
		argv = hargv;
		argc = hargc;
	} else if (manifest_strings("arg", &argv, &argc) < 0) {
		return done(-ENOMEM);
	}
	if (libos_manifest.host_env) {
		envp = henvp;
		envc = henvc;
	} else if (manifest_strings("envv", &envp, &envc) < 0) {
		return done(-ENOMEM);
	}
	if (argc == 0) {
		/* argv[0] at least: the entrypoint */
		argv = mm_alloc(PAGE_SIZE, 1);
		if (!argv)
			return done(-ENOMEM);
		argv[0] = libos_manifest.entrypoint;
		argc = 1;
	}
	ret = elf_load_and_stack(prog, argv, argc, envp, envc, &entry, &sp);
	if (ret < 0)
		return done(127);
	libos_jump_to_app(entry, sp);
}

__asm__(".text\n"
	"	.global libos_jump_to_app\n"
	"	.hidden libos_jump_to_app\n"
	"libos_jump_to_app:\n"
	"	mov %rsi, %rsp\n"
	"	xor %eax, %eax\n"
	"	xor %ebx, %ebx\n"
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n" /* no atexit function */
	"	xor %esi, %esi\n"
	"	xor %ebp, %ebp\n"
	"	xor %r8d, %r8d\n"
	"	xor %r9d, %r9d\n"
	"	xor %r10d, %r10d\n"
	"	xor %r11d, %r11d\n"
	"	xor %r12d, %r12d\n"
	"	xor %r13d, %r13d\n"
	"	xor %r14d, %r14d\n"
	"	xor %r15d, %r15d\n"
	"	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15\n"
	"	pxor %xmm\\n, %xmm\\n\n" /* nothing of the LibOS's (the channel's keys) */
	"	.endr\n"
	"	jmp *%rdi\n");

/*
 * REPORT (the service TCS): an EREPORT of this enclave for the host's
 * TARGETINFO and report data, both copied in first; the REPORT copied out.
 * Only the host's own buffer is written: it must lie outside the ELRANGE.
 */
static int all_zero(const uint8_t *p, uint64_t n)
{
	uint8_t acc = 0;

	for (uint64_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int self_attesting(void)
{
	char t[8];

	return manifest_value("attestation_type", t, sizeof(t)) == 4 && !memcmp(t, "dcap", 4);
}

struct exit_pair libos_report(uint64_t req);
struct exit_pair libos_report(uint64_t req)
{
	volatile struct libos_report_req *r = (volatile struct libos_report_req *)req;
	uint64_t end = req + sizeof(*r);
	uint8_t ti[512], rd[64], rep[432];

	if (req % 8 || end < req || end > (1ULL << 47) ||
	    !(end <= libos_base || req >= libos_base + libos_manifest.enclave_size))
		return done(-EINVAL);

	memcpy(ti, (const void *)r->targetinfo, sizeof(ti));
	memcpy(rd, (const void *)r->reportdata, sizeof(rd));
	/*
	 * An enclave that attests itself (attestation_type dcap: its quotes,
	 * its RA-TLS certificates) binds only report data it chooses: a REPORT
	 * with the host's would let the host certify a key of its own as this
	 * enclave's. The host may still have one with none (all zero).
	 */
	if (self_attesting() && !all_zero(rd, sizeof(rd)))
		return done(-EPERM);
	libos_ereport(ti, rd, rep);
	memcpy((void *)r->report, rep, sizeof(rep));
	return done(0);
}

static int signal_of(unsigned vector)
{
	switch (vector) {
	case 0:
	case 16:
	case 19:
		return 8; /* SIGFPE */
	case 1:
	case 3:
		return 5; /* SIGTRAP */
	case 6:
		return 4; /* SIGILL */
	case 17:
		return 7; /* SIGBUS */
	default:
		return 11; /* SIGSEGV */
	}
}

static int app_code(uint64_t rip, uint64_t n)
{
	return rip >= libos_heap_start && rip < libos_heap_end && n <= libos_heap_end - rip;
}

/* CPUID and RDTSC(P) fault on SGX1: answered by the host (not trusted for anything). */
static int emulate_insn(struct ssa_gpr *g, const uint8_t *p)
{
	long r;

	if (p[0] == 0x0f && p[1] == 0xa2) {
		r = ocall(LIBOS_OCALL_CPUID, (uint32_t)g->rax, (uint32_t)g->rcx, 0);
		if (r < 0)
			return -1;
		g->rax = (uint32_t)libos_mb->out[0];
		g->rbx = (uint32_t)libos_mb->out[1];
		g->rcx = (uint32_t)libos_mb->out[2];
		g->rdx = (uint32_t)libos_mb->out[3];
		g->rip += 2;
		return 0;
	}
	if ((p[0] == 0x0f && p[1] == 0x31) || (p[0] == 0x0f && p[1] == 0x01 && p[2] == 0xf9)) {
		uint64_t tsc;

		r = ocall(LIBOS_OCALL_RDTSC, 0, 0, 0);
		if (r < 0)
			return -1;
		tsc = (uint64_t)libos_mb->out[0];
		g->rax = (uint32_t)tsc;
		g->rdx = tsc >> 32;
		if (p[1] == 0x01) {
			g->rcx = 0;
			g->rip += 3;
		} else {
			g->rip += 2;
		}
		return 0;
	}
	return -1;
}

static struct exit_pair resume(void)
{
	return (struct exit_pair){ LIBOS_EXIT_RESUME, 0 };
}

/* The workload's end: every thread leaves with the first status. */
static struct exit_pair process_exit(int status)
{
	if (!libos_exiting) {
		libos_exit_status = status;
		libos_exiting = 1;
	}
	proc_exit_notify(libos_exit_status); /* a child process: its parent hears how (once) */
	return done(libos_exit_status);
}

static struct exit_pair handle(struct libos_thread *self, struct ssa_gpr *g);
static int app_code(uint64_t rip, uint64_t n);

/*
 * An interrupt's AEX: the workload takes its pending signals right where it
 * was (a handler runs on a frame of its interrupted state); LibOS code
 * that was interrupted (at CSSA 0: START, a thread's start) just goes on,
 * the signals waiting for the next system call.
 */
static struct exit_pair interrupted(struct ssa_gpr *g)
{
	int exited = 0, status = 0;

	if (libos_exiting)
		return done(libos_exit_status);
	if (!app_code(g->rip, 1) || !libos_signal_ready(libos_self()))
		return resume();
	libos_signals(g, &exited, &status);
	return exited ? process_exit(status) : resume();
}

struct exit_pair libos_exception(uint64_t cssa, struct libos_thread *self);
struct exit_pair libos_exception(uint64_t cssa, struct libos_thread *self)
{
	struct exit_pair r;
	struct ssa_gpr *g;

	if (cssa != 1 || (!self->mb && !self->starting))
		return done(-EFAULT);
	g = (struct ssa_gpr *)(self->ssa + SSA_FRAME - sizeof(struct ssa_gpr));
	libos_lock();
	libos_take_host_signals(self);
	if (!(g->exitinfo & (1U << 31)))
		r = interrupted(g); /* an interrupt (or the host's whim): signals, then go on */
	else
		r = handle(self, g);
	if (libos_exiting && r.reason != LIBOS_EXIT_THREAD)
		r = done(libos_exit_status);
	libos_unlock();
	return r;
}

/* THREAD at CSSA 1: the TCS's previous thread ended; frame 0 takes the new one's registers. */
struct exit_pair libos_thread_again(struct libos_thread *self);
struct exit_pair libos_thread_again(struct libos_thread *self)
{
	struct ssa_gpr *g = (struct ssa_gpr *)(self->ssa + SSA_FRAME - sizeof(struct ssa_gpr));
	int ret;

	libos_lock();
	ret = self->starting ? thread_start(self, g) : -EINVAL;
	libos_unlock();
	if (ret == 0)
		return resume();
	libos_dead = 1;
	return done(-EINVAL);
}

static struct exit_pair handle(struct libos_thread *self, struct ssa_gpr *g)
{
	unsigned vector = g->exitinfo & 0xff;
	int sig;

	/*
	 * Consumed: a host that enters for this exception again (instead of
	 * ERESUMEing) finds nothing to handle, so it cannot replay a system call.
	 * The CPU writes EXITINFO afresh at the next AEX.
	 */
	g->exitinfo &= ~(1U << 31);
	if (self->starting && g->rip == (uint64_t)libos_thread_trap) {
		if (thread_start(self, g) == 0)
			return resume();
		libos_dead = 1;
		return done(-EINVAL);
	}
	if (libos_exiting)
		return done(libos_exit_status);
	if (g->rip >= (uint64_t)__encl_base && g->rip < (uint64_t)__encl_end) {
		log_err("internal fault: vector %u at LibOS offset 0x%lx", vector,
			g->rip - (uint64_t)__encl_base);
		return done(-EFAULT);
	}
	if (vector == 6 && app_code(g->rip, 3)) {
		const uint8_t *p = (const uint8_t *)g->rip;

		if (p[0] == 0x0f && p[1] == 0x05) {
			int exited = 0, status = 0, replaced = 0;
			uint64_t rip = g->rip + 2;
			uint64_t nr = g->rax,
				 a[6] = { g->rdi, g->rsi, g->rdx, g->r10, g->r8, g->r9 };
			long r = libos_syscall(g, &exited, &status, &replaced);

			if (libos_trace)
				log_err("[%d] syscall %lu (0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx, "
					"0x%lx) = %ld",
					self->tid, nr, a[0], a[1], a[2], a[3], a[4], a[5], r);

			if (exited == 2)
				return (struct exit_pair){ LIBOS_EXIT_THREAD, 0 };
			if (exited)
				return process_exit(status);
			if (!replaced) { /* rt_sigreturn loaded a whole context */
				g->rax = (uint64_t)r;
				g->rcx = rip;
				g->r11 = g->rflags;
				g->rip = rip;
			}
			libos_take_host_signals(self);
			libos_signals(g, &exited, &status);
			if (exited)
				return process_exit(status);
			return resume();
		}
		if (emulate_insn(g, p) == 0)
			return resume();
	}
	sig = signal_of(vector);
	if (app_code(g->rip, 1) && libos_fault_signal(g, sig) == 0)
		return resume();
	log_err("%s: killed by signal %d (exception vector %u at 0x%lx)", libos_manifest.entrypoint,
		sig, vector, g->rip);
	proc_term_signal(sig);
	return process_exit(128 + sig);
}
