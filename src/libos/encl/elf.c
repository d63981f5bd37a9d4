// SPDX-License-Identifier: Apache-2.0
/*
 * The workload's loader: an ELF (PIE or ET_EXEC),
 * verified as a trusted file, is mapped into heap pages at a base of our
 * choosing; the brk area follows it; the System V initial stack (argc,
 * argv, envp, auxv) is built at the top of a fresh stack. No vDSO is
 * offered (no AT_SYSINFO_EHDR): time goes through clock_gettime.
 * An ET_EXEC (linked at a fixed address, usually 0x400000) goes at its own
 * addresses, in heap pages the manifest reserved for it: rune-image based
 * the enclave at 0 for it (docs/libos.md). A dynamically linked program
 * (PT_INTERP) gets its interpreter (ld.so, ET_DYN, a trusted file) mapped
 * beside it, which runs first (AT_BASE, AT_ENTRY) and maps the libraries
 * (trusted files) through open and mmap.
 */
#include "libos.h"
#include "common/script.h"

#define PT_LOAD	  1
#define PT_INTERP 3
#define PT_PHDR	  6
#define ET_EXEC	  2
#define ET_DYN	  3

struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

enum {
	AT_NULL = 0,
	AT_PHDR = 3,
	AT_PHENT = 4,
	AT_PHNUM = 5,
	AT_PAGESZ = 6,
	AT_BASE = 7,
	AT_FLAGS = 8,
	AT_ENTRY = 9,
	AT_UID = 11,
	AT_EUID = 12,
	AT_GID = 13,
	AT_EGID = 14,
	AT_PLATFORM = 15,
	AT_HWCAP = 16,
	AT_CLKTCK = 17,
	AT_SECURE = 23,
	AT_RANDOM = 25,
	AT_EXECFN = 31,
};

static int bad(const char *path, const char *why)
{
	log_err("%s: %s", path, why);
	return -EINVAL;
}

static uint64_t *push_str(char **top, const char *s)
{
	size_t n = str_len(s) + 1;

	*top -= n;
	memcpy(*top, s, n);
	return (uint64_t *)*top;
}

/* An ELF image mapped into the enclave: where, and what the stack's auxv says of it. */
struct loaded {
	uint8_t *base; /* the load bias (0 for ET_EXEC) */
	uint64_t entry, phdr, phnum;
	char interp[256]; /* PT_INTERP's path, or "" */
};

/*
 * Maps path (a trusted file, verified) into heap pages: the program (main:
 * its brk area after it; an ET_EXEC at its own addresses), or its
 * interpreter (ET_DYN only, anywhere).
 */
/* load_elf's second half: the segments of file (size bytes) placed and read. */
static int load_segments(const char *path, int main_prog, struct loaded *l, struct ofile *file,
			 uint64_t size, const struct ehdr *eh, const struct phdr *ph)
{
	uint64_t lo = ~0ULL, hi = 0, align = PAGE_SIZE, span, room, phdr_addr = 0;
	uint8_t *mem, *base;
	int ret;

	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type == PT_INTERP) {
			if (!main_prog)
				return bad(path, "an interpreter with an interpreter");
			if (ph[i].offset > size || ph[i].filesz > size - ph[i].offset ||
			    ph[i].filesz < 2 || ph[i].filesz > sizeof(l->interp))
				return bad(path, "malformed PT_INTERP");
			ret = fs_trusted_load_read(file, l->interp, ph[i].filesz, ph[i].offset);
			if (ret < 0)
				return ret;
			if (l->interp[ph[i].filesz - 1] || l->interp[0] != '/')
				return bad(path, "malformed PT_INTERP");
		}
		if (ph[i].type != PT_LOAD || !ph[i].memsz)
			continue;
		if (ph[i].filesz > ph[i].memsz || ph[i].offset > size ||
		    ph[i].filesz > size - ph[i].offset || ph[i].vaddr > (1ULL << 40) ||
		    ph[i].memsz > (1ULL << 40))
			return bad(path, "malformed PT_LOAD segment");
		if ((ph[i].vaddr & ~(PAGE_SIZE - 1)) < lo)
			lo = ph[i].vaddr & ~(PAGE_SIZE - 1);
		if (PAGE_UP(ph[i].vaddr + ph[i].memsz) > hi)
			hi = PAGE_UP(ph[i].vaddr + ph[i].memsz);
		if (ph[i].align > align && ph[i].align <= (2UL << 20) &&
		    !(ph[i].align & (ph[i].align - 1)))
			align = ph[i].align;
		if (ph[i].offset <= eh->phoff &&
		    eh->phoff + eh->phnum * sizeof(struct phdr) <= ph[i].offset + ph[i].filesz)
			phdr_addr = ph[i].vaddr + (eh->phoff - ph[i].offset);
	}
	if (hi <= lo)
		return bad(path, "no loadable segment");
	span = hi - lo;
	if (eh->type == ET_EXEC) {
		/*
		 * At its own addresses: the pages the manifest reserved for it
		 * (mm_init), in an enclave based where the manifest says.
		 */
		if (!libos_manifest.exec_end)
			return bad(path, "linked at a fixed address (ET_EXEC), but the image was "
					 "not built for it (rebuild it with rune-image)");
		if (lo != libos_manifest.exec_start || hi != libos_manifest.exec_end)
			return bad(path, "its segments are not where the manifest reserved them");
		room = mm_exec_room();
		mem = (uint8_t *)lo;
		memset(mem, 0, span);
		base = 0;
	} else {
		room = main_prog ? mm_brk_room() : 0;
		/* The brk area is zeroed as it grows (sys_brk): only the image now. */
		mem = mm_alloc(span + align + room, 0);
		if (mem)
			memset(mem, 0, span + align);
		if (!mem) {
			log_err("%s: out of enclave heap for %lu bytes (raise --heap)", path,
				span + room);
			return -ENOMEM;
		}
		base = (uint8_t *)(((uint64_t)mem + align - 1) & ~(align - 1)) - lo;
		span += align;
	}
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type == PT_LOAD && ph[i].memsz) {
			ret = fs_trusted_load_read(file, base + ph[i].vaddr, ph[i].filesz,
						   ph[i].offset);
			if (ret < 0)
				return ret;
		}
		if (ph[i].type == PT_PHDR)
			phdr_addr = ph[i].vaddr;
	}
	if (eh->entry < lo || eh->entry >= hi || (main_prog && !phdr_addr))
		return bad(path, "entry point or program headers outside its segments");
	if (main_prog) {
		mm_set_brk_base((uint64_t)base + hi);
		mm_set_brk_end((uint64_t)mem + span + room);
	}
	l->base = base;
	l->entry = (uint64_t)base + eh->entry;
	l->phdr = (uint64_t)base + phdr_addr;
	l->phnum = eh->phnum;
	return 0;
}

/* The ELF in file (path, open, size bytes), mapped as load_segments says. */
static int load_elf_file(const char *path, struct ofile *file, uint64_t size, int main_prog,
			 struct loaded *l)
{
	uint64_t phlen = 0;
	struct ehdr ehdr = { 0 }, *eh = &ehdr;
	struct phdr *ph = NULL;
	int ret;

	memset(l, 0, sizeof(*l));
	/* 1: too short to be one */
	ret = size < sizeof(*eh) ? 1 : fs_trusted_load_read(file, eh, sizeof(*eh), 0);
	if (ret > 0 || (ret == 0 && (memcmp(eh->ident, "\177ELF", 4) || eh->ident[4] != 2 ||
				     eh->ident[5] != 1 || eh->machine != 62)))
		ret = bad(path, "not an x86-64 ELF executable");
	/* At most 64 KiB of program headers, as Linux reads. */
	phlen = (uint64_t)eh->phnum * sizeof(struct phdr);
	if (ret == 0 && (eh->phentsize != sizeof(struct phdr) || !eh->phnum || eh->phoff > size ||
			 phlen > size - eh->phoff || phlen > 65536))
		ret = bad(path, "malformed program headers");
	if (ret == 0 && eh->type != ET_DYN && (eh->type != ET_EXEC || !main_prog))
		ret = bad(path,
			  main_prog ? "not an executable" : "an interpreter that is not ET_DYN");
	if (ret == 0 && !(ph = mm_alloc(phlen, 0)))
		ret = -ENOMEM;
	if (ret == 0)
		ret = fs_trusted_load_read(file, ph, phlen, eh->phoff);
	if (ret == 0)
		ret = load_segments(path, main_prog, l, file, size, eh, ph);
	if (ph)
		mm_free(ph, phlen);
	return ret;
}

/* A dynamic program's interpreter (ld.so), a trusted file too. */
static int load_interp(const char *path, struct loaded *l)
{
	struct ofile *file;
	uint64_t size;
	int ret = fs_trusted_load_open(path, &file, &size);

	if (ret < 0)
		return ret;
	ret = load_elf_file(path, file, size, 0, l);
	fs_trusted_load_close(file);
	return ret;
}

/*
 * The program at path (open as file, size bytes), its initial stack with
 * argv, envp and auxv (AT_EXECFN execfn_path).
 */
static int load_and_stack(const char *path, struct ofile *file, uint64_t size,
			  const char *const *argv, int argc, const char *const *envp, int envc,
			  const char *execfn_path, uint64_t *entry, uint64_t *sp)
{
	struct loaded prog, interp = { 0 };
	int ret;

	ret = load_elf_file(path, file, size, 1, &prog);
	if (ret < 0)
		return ret;
	/*
	 * A dynamically linked program: its interpreter (ld.so, a trusted file
	 * too) runs first and maps the libraries, trusted files as well.
	 */
	if (prog.interp[0] && (ret = load_interp(prog.interp, &interp)) < 0) {
		log_err("%s: its interpreter %s %s", path, prog.interp,
			ret == -ENOENT ? "is not a trusted file of the manifest: it cannot run"
				       : "cannot run");
		return ret;
	}

	/* The initial stack. */
	uint64_t ssize = PAGE_UP(libos_manifest.stack_size);
	/*
	 * 2 MiB aligned where it fits: a host backing the heap with huge pages
	 * (the emulator) then zeroes it with one page fault, not 512.
	 */
	char *stack = mm_alloc_aligned(ssize, 2UL << 20), *top;
	uint64_t *argp, *envpp, *words, nwords, rnd[2], *execfn, *platform, *rand_at;

	if (!stack)
		stack = mm_alloc(ssize, 1);
	if (!stack) {
		log_err("%s: out of enclave heap for its stack", path);
		return -ENOMEM;
	}
	top = stack + ssize;
	argp = mm_alloc(PAGE_UP((argc + envc + 2) * 8), 1);
	if (!argp)
		return -ENOMEM;
	envpp = argp + argc + 1;
	for (int i = envc - 1; i >= 0; i--)
		envpp[i] = (uint64_t)push_str(&top, envp[i]);
	for (int i = argc - 1; i >= 0; i--)
		argp[i] = (uint64_t)push_str(&top, argv[i]);
	execfn = push_str(&top, execfn_path);
	platform = push_str(&top, "x86_64");
	if (rdrand64(&rnd[0]) < 0 || rdrand64(&rnd[1]) < 0)
		return bad(path, "RDRAND failed");
	top = (char *)((uint64_t)(top - 16) & ~15ULL);
	memcpy(top, rnd, 16);
	rand_at = (uint64_t *)top;

	uint64_t aux[][2] = {
		{ AT_PHDR, prog.phdr },
		{ AT_PHENT, sizeof(struct phdr) },
		{ AT_PHNUM, prog.phnum },
		{ AT_PAGESZ, PAGE_SIZE },
		{ AT_BASE, (uint64_t)interp.base },
		{ AT_FLAGS, 0 },
		{ AT_ENTRY, prog.entry },
		{ AT_UID, 0 },
		{ AT_EUID, 0 },
		{ AT_GID, 0 },
		{ AT_EGID, 0 },
		{ AT_PLATFORM, (uint64_t)platform },
		{ AT_HWCAP, 0 },
		{ AT_CLKTCK, 100 },
		{ AT_SECURE, 0 },
		{ AT_RANDOM, (uint64_t)rand_at },
		{ AT_EXECFN, (uint64_t)execfn },
		{ AT_NULL, 0 },
	};
	nwords = 1 + (uint64_t)argc + 1 + (uint64_t)envc + 1 + 2 * (sizeof(aux) / 16);
	words = (uint64_t *)(((uint64_t)top - nwords * 8) & ~15ULL);
	if ((char *)words < stack + PAGE_SIZE)
		return bad(path, "arguments too large for the stack");
	words[0] = (uint64_t)argc;
	memcpy(words + 1, argp, (uint64_t)(argc + 1 + envc + 1) * 8);
	memcpy(words + 1 + argc + 1 + envc + 1, aux, sizeof(aux));
	mm_free(argp, PAGE_UP((argc + envc + 2) * 8));
	*entry = interp.entry ? interp.entry : prog.entry;
	*sp = (uint64_t)words;
	return 0;
}

/*
 * The "#!" line of f (path, open, size bytes) into line (SCRIPT_LINE_MAX
 * bytes): 1, with its interpreter and optional argument; 0: not a script;
 * -errno.
 */
static int script_line(const char *path, struct ofile *f, uint64_t size, char *line,
		       const char **interp, const char **arg)
{
	uint64_t n = size < SCRIPT_LINE_MAX - 1 ? size : SCRIPT_LINE_MAX - 1;
	const char *why;
	int ret = n >= 2 ? fs_trusted_load_read(f, line, n, 0) : 0;

	if (ret < 0)
		return ret;
	ret = script_parse(line, n, size > n, interp, arg, &why);
	return ret < 0 ? bad(path, why) : ret;
}

/*
 * execve's loader: a "#!" script runs its interpreter (a trusted file too)
 * with argv interpreter, [argument], the script's path, argv[1...], as on
 * Linux; then the ELF program and its stack; the program becomes the
 * process's executable.
 */
int elf_load_and_stack(const char *path, const char *const *argv, int argc, const char *const *envp,
		       int envc, uint64_t *entry, uint64_t *sp)
{
	const char *const *v = argv, *prog = path;
	uint64_t lens[SCRIPT_DEPTH_MAX] = { 0 }, size;
	char *bufs[SCRIPT_DEPTH_MAX] = { 0 };
	struct ofile *file = NULL;
	int c = argc, depth, ret;

	/* Each file opened once: its first line, then (not a script) its ELF. */
	for (depth = 0;; depth++) {
		const char *interp, *arg, **nv;
		char line[SCRIPT_LINE_MAX];

		ret = fs_trusted_load_open(prog, &file, &size);
		if (ret == -ENOENT)
			log_err("%s: not a trusted file of the manifest: it cannot run", prog);
		if (ret < 0) {
			file = NULL;
			break;
		}
		ret = script_line(prog, file, size, line, &interp, &arg);
		if (ret <= 0)
			break;
		fs_trusted_load_close(file);
		file = NULL;
		if (depth == SCRIPT_DEPTH_MAX) {
			ret = bad(path, "too many levels of #! interpreters");
			break;
		}
		/* The line and the new argv, which must outlive this loop. */
		lens[depth] = PAGE_UP(SCRIPT_LINE_MAX + ((uint64_t)c + 3) * sizeof(char *));
		bufs[depth] = mm_alloc(lens[depth], 0);
		if (!bufs[depth]) {
			ret = -ENOMEM;
			break;
		}
		memcpy(bufs[depth], line, SCRIPT_LINE_MAX);
		nv = (const char **)(bufs[depth] + SCRIPT_LINE_MAX);
		interp = bufs[depth] + (interp - line);
		arg = arg ? bufs[depth] + (arg - line) : NULL;
		int k = 0;

		nv[k++] = interp;
		if (arg)
			nv[k++] = arg;
		nv[k++] = prog;
		for (int i = 1; i < c; i++)
			nv[k++] = v[i];
		nv[k] = NULL;
		v = nv;
		c = k;
		prog = interp;
	}
	if (ret == 0)
		ret = load_and_stack(prog, file, size, v, c, envp, envc, path, entry, sp);
	if (file)
		fs_trusted_load_close(file);
	/* /proc/self/exe: the interpreter, as on Linux (busybox re-execs it for applets). */
	if (ret == 0)
		proc_set_exe(prog);
	for (int i = 0; i < SCRIPT_DEPTH_MAX; i++)
		if (bufs[i])
			mm_free(bufs[i], lens[i]);
	return ret;
}
