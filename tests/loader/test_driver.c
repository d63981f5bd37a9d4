// SPDX-License-Identifier: Apache-2.0
/*
 * The driver backend without SGX: its ioctls, mmaps and vDSO entry go to
 * fakes that check struct layouts, ioctl numbers and the call sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/valgrind.h>
#include <sys/mman.h>
#include <time.h>

#include "libsgx/loader_backend.h"
#include "../tap.h"
#include "sgx/image.h"
#include "sgx/loader.h"

#define FAKE_FD	     42
#define FAKE_PROV_FD 43
#define NPAGES	     4

static struct {
	char seq[256]; /* C=create A=add I=init M=mmap */
	size_t nseq;
	uint64_t base;
	int eintr_once;
	int init_ret;
	uint64_t add_offsets[16];
	uint64_t add_flags[16];
	uint64_t add_measure[16];
	uint64_t add_len[16];
	int add_zero[16];  /* every source byte was zero */
	uint64_t add_most; /* pages the fake adds per call at most; 0 = all */
	int add_bad;	   /* an ADD_PAGES misaligned or not whole pages */
	int nadd;
	uint64_t map_off[16], map_len[16];
	int map_prot[16], nmap;
	int layout_ok;
	uint8_t sig0;
	int provisioned;	      /* SGX_IOC_ENCLAVE_PROVISION with the sgx_provision fd */
	uint64_t resv_addr, resv_len; /* the ELRANGE reservation (anonymous mmap) */
	int resv_flags;
} fk;

static int fake_open(const char *path, int flags)
{
	(void)flags;
	if (!strcmp(path, "/fake/sgx_provision"))
		return FAKE_PROV_FD;
	return strcmp(path, "/fake/sgx_enclave") ? (errno = ENOENT, -1) : FAKE_FD;
}

static int fake_close(int fd)
{
	return fd == FAKE_FD || fd == FAKE_PROV_FD ? 0 : -1;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (fd != FAKE_FD)
		return errno = EBADF, -1;
	if (req == SGX_IOC_ENCLAVE_PROVISION) {
		fk.seq[fk.nseq++] = 'P';
		fk.provisioned = ((struct sgx_enclave_provision *)arg)->fd == FAKE_PROV_FD;
		return 0;
	}
	if (req == SGX_IOC_ENCLAVE_CREATE) {
		const struct sgx_secs *secs =
		    (const void *)(uintptr_t)((struct sgx_enclave_create *)arg)->src;

		fk.seq[fk.nseq++] = 'C';
		fk.base = secs->base;
		fk.layout_ok = (uintptr_t)secs % 4096 == 0 && secs->size == NPAGES * 4096 &&
			       secs->ssaframesize == 1 && secs->base % secs->size == 0 &&
			       secs->attributes == SGX_ATTR_MODE64BIT && secs->xfrm == 3;
		return 0;
	}
	if (req == SGX_IOC_ENCLAVE_ADD_PAGES) {
		struct sgx_enclave_add_pages *a = arg;
		const struct sgx_secinfo *si = (const void *)(uintptr_t)a->secinfo;

		fk.seq[fk.nseq++] = 'A';
		if (fk.eintr_once) {
			/* Interrupted before any page: the loader must retry. */
			fk.eintr_once = 0;
			a->count = 0;
			return errno = EINTR, -1;
		}
		if ((uintptr_t)si % 64 || !a->length || a->length % 4096 || a->src % 4096 ||
		    a->offset % 4096 || fk.nadd == 16)
			fk.layout_ok = 0, fk.add_bad = 1;
		if (fk.nadd == 16)
			return errno = ENOSPC, -1;
		/* As the kernel: a run may be cut short (count), the caller goes on. */
		a->count =
		    fk.add_most && a->length > fk.add_most * 4096 ? fk.add_most * 4096 : a->length;
		fk.add_offsets[fk.nadd] = a->offset;
		fk.add_flags[fk.nadd] = si->flags;
		fk.add_measure[fk.nadd] = a->flags;
		fk.add_len[fk.nadd] = a->count;
		fk.add_zero[fk.nadd] = 1;
		for (uint64_t i = 0; i < a->count; i++)
			fk.add_zero[fk.nadd] &= ((const uint8_t *)(uintptr_t)a->src)[i] == 0;
		fk.nadd++;
		return 0;
	}
	if (req == SGX_IOC_ENCLAVE_INIT) {
		const uint8_t *ss =
		    (const void *)(uintptr_t)((struct sgx_enclave_init *)arg)->sigstruct;

		fk.seq[fk.nseq++] = 'I';
		fk.sig0 = ss[0];
		if ((uintptr_t)ss % 4096)
			fk.layout_ok = 0;
		if (fk.init_ret < 0)
			return errno = -fk.init_ret, -1;
		return fk.init_ret;
	}
	return errno = ENOTTY, -1;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fd == -1) {
		fk.seq[fk.nseq++] = 'R';
		fk.resv_addr = (uintptr_t)addr;
		fk.resv_len = len;
		fk.resv_flags = flags;
		return mmap(addr, len, prot, flags, fd, off);
	}
	fk.seq[fk.nseq++] = 'M';
	if (fd != FAKE_FD || off != 0 || !(flags & MAP_FIXED) || !(flags & MAP_SHARED))
		return MAP_FAILED;
	fk.map_off[fk.nmap] = (uintptr_t)addr - fk.base;
	fk.map_len[fk.nmap] = len;
	fk.map_prot[fk.nmap++] = prot;
	return addr;
}

static int fake_enter_mode; /* 0: EEXIT, 1: #PF inside, 2: the vDSO's loop */

/*
 * The vDSO's entry loop, as the kernel's __vdso_sgx_enter_enclave runs it:
 * "ENCLU" records the leaf and RDI/RSI/RDX/R8/R9 it is entered with, the
 * enclave EEXITs with RDI + 1, the user handler is called, and a positive
 * return is the next leaf, entered with the registers the handler left.
 */
uint64_t fake_entries[8][6];
unsigned fake_nentries;
int fake_vdso_loop(unsigned long rdi, unsigned long rsi, unsigned long rdx, unsigned int function,
		   unsigned long r8, unsigned long r9, struct sgx_enclave_run *run);
asm(".text\n"
    "	.globl fake_vdso_loop\n"
    "	.type fake_vdso_loop, @function\n"
    "fake_vdso_loop:\n"
    "	push %rbp\n"
    "	mov %rsp, %rbp\n"
    "	push %rbx\n"
    "	push %r12\n"
    "	mov 16(%rbp), %r12\n" /* run */
    "	mov %ecx, %eax\n"
    "1:	mov fake_nentries(%rip), %ecx\n"
    "	cmp $8, %ecx\n"
    "	jae 3f\n"
    "	imul $48, %rcx, %rcx\n"
    "	lea fake_entries(%rip), %rbx\n"
    "	add %rcx, %rbx\n"
    "	mov %rax, (%rbx)\n"
    "	mov %rdi, 8(%rbx)\n"
    "	mov %rsi, 16(%rbx)\n"
    "	mov %rdx, 24(%rbx)\n"
    "	mov %r8, 32(%rbx)\n"
    "	mov %r9, 40(%rbx)\n"
    "	incl fake_nentries(%rip)\n"
    "	movl $4, 8(%r12)\n" /* run->function = EEXIT */
    "	add $1, %rdi\n"
    "	mov %rsp, %rcx\n"
    "	sub $8, %rsp\n"
    "	push %r12\n"
    "	call *24(%r12)\n" /* run->user_handler */
    "	add $16, %rsp\n"
    "	test %eax, %eax\n"
    "	jg 1b\n"
    "2:	pop %r12\n"
    "	pop %rbx\n"
    "	pop %rbp\n"
    "	ret\n"
    "3:	mov $-1, %eax\n"
    "	jmp 2b\n"
    "	.size fake_vdso_loop, .-fake_vdso_loop\n");

/* sgx_encl_run's step for the loop: one more EENTER with new registers, then done. */
static int loop_step(void *ctx, const struct sgx_encl_exit *x, struct sgx_encl_regs *r, err_t *err)
{
	int *exits = ctx;

	(void)err;
	if (!x->eexit || ++*exits > 2)
		return -EPROTO;
	if (*exits == 2)
		return r->rdi == 11 ? 0 : -EPROTO;
	if (r->rdi != 2 || r->rsi != 7)
		return -EPROTO;
	*r = (struct sgx_encl_regs){ .rdi = 10, .rsi = 11, .rdx = 12, .r8 = 13, .r9 = 14 };
	return SGX_EENTER;
}

static int fake_enter(unsigned long rdi, unsigned long rsi, unsigned long rdx,
		      unsigned int function, unsigned long r8, unsigned long r9,
		      struct sgx_enclave_run *run)
{
	sgx_enclave_user_handler_t h = (sgx_enclave_user_handler_t)(uintptr_t)run->user_handler;

	if (function != SGX_EENTER || run->tcs != fk.base)
		return -EINVAL;
	if (fake_enter_mode == 2)
		return fake_vdso_loop(rdi, rsi, rdx, function, r8, r9, run);
	if (fake_enter_mode == 1) {
		run->function = SGX_ERESUME;
		run->exception_vector = 14;
		run->exception_addr = fk.base + 0x1234;
		return 0;
	}
	run->function = SGX_EEXIT;
	return h ? h(rdi + 1, rsi, rdx, 0, r8, r9, run) : 0;
}

static const struct sgx_driver_ops ops = {
	.open = fake_open,
	.close = fake_close,
	.ioctl = fake_ioctl,
	.mmap = fake_mmap,
	.enter = fake_enter,
};

static void make_image(struct sgx_image *img, uint8_t *buf)
{
	err_t err = NULL;

	memset(buf, 0, NPAGES * 4096);
	/* TCS: OSSA 0x3000, NSSA 1, OENTRY 0x1000 */
	((struct sgx_tcs *)buf)->ossa = 0x3000;
	((struct sgx_tcs *)buf)->nssa = 1;
	((struct sgx_tcs *)buf)->oentry = 0x1000;
	if (sgx_image_from_flat_mem(img, buf, NPAGES * 4096, "tcs,rx,rw,rw", 0, 1, &err) < 0) {
		printf("not ok - image: %s\n", err_msg(err));
		exit(1);
	}
}

int main(void)
{
	static uint8_t buf[NPAGES * 4096];
	struct sgx_load_opts o = { .backend = SGX_BACKEND_DRIVER,
				   .device = "/fake/sgx_enclave",
				   .ops = &ops };
	struct sgx_sigstruct ss;
	struct sgx_image img;
	struct sgx_encl *e = NULL;
	struct sgx_encl_regs regs = { .rdi = 7, .rsi = 8 };
	err_t err = NULL;
	int ret, cls;

	/* ABI facts of <asm/sgx.h> the backend relies on. */
	TAP_OK(SGX_IOC_ENCLAVE_CREATE == 0x4008a400UL, "SGX_IOC_ENCLAVE_CREATE is 0x4008a400");
	TAP_OK(SGX_IOC_ENCLAVE_ADD_PAGES == 0xc030a401UL,
	       "SGX_IOC_ENCLAVE_ADD_PAGES is 0xc030a401");
	TAP_OK(SGX_IOC_ENCLAVE_INIT == 0x4008a402UL, "SGX_IOC_ENCLAVE_INIT is 0x4008a402");
	TAP_OK(sizeof(struct sgx_enclave_add_pages) == 48 && sizeof(struct sgx_enclave_run) == 256,
	       "add_pages is 48 bytes, enclave_run 256");

	/* The vDSO parser finds a symbol every x86-64 vDSO has, and it works. */
	if (RUNNING_ON_VALGRIND) {
		printf("skip - vDSO symbol lookup (valgrind hides the vDSO)\n");
	} else {
		int (*gettime)(clockid_t, struct timespec *) = sgx_vdso_sym("__vdso_clock_gettime");
		struct timespec ts = { 0 };

		TAP_OK(gettime && gettime(CLOCK_MONOTONIC, &ts) == 0 && ts.tv_sec + ts.tv_nsec > 0,
		       "vDSO symbol lookup (__vdso_clock_gettime)");
		printf("# __vdso_sgx_enter_enclave: %s\n",
		       sgx_vdso_sym("__vdso_sgx_enter_enclave") ? "present" : "absent");
	}

	make_image(&img, buf);
	memset(&ss, 0, sizeof(ss));
	/* The headers only: the fake driver takes any signature. */
	memcpy(ss.header.header, SGX_SIGSTRUCT_HEADER, 16);
	memcpy(ss.header.header2, SGX_SIGSTRUCT_HEADER2, 16);
	ss.body.attributes = SGX_ATTR_MODE64BIT;
	ss.body.xfrm = 3;
	fk.eintr_once = 1;
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	TAP_OK(ret == 0, "load through the fake driver%s%s", ret ? ": " : "",
	       ret ? err_msg(err) : "");
	fk.seq[fk.nseq] = 0;
	TAP_OK(!strcmp(fk.seq, "RCAAAAAIMMM"),
	       "sequence create, add (retry after EINTR), init, mmap: %s", fk.seq);
	TAP_OK(fk.layout_ok, "SECS/SECINFO/SIGSTRUCT alignment and SECS fields");
	TAP_OK(fk.nadd == 4 && fk.add_offsets[0] == 0 && fk.add_flags[0] == SGX_SECINFO_TCS &&
		   fk.add_flags[1] == (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X) &&
		   fk.add_offsets[3] == 0x3000 && fk.add_measure[2] == SGX_PAGE_MEASURE,
	       "ADD_PAGES offsets, SECINFO flags and SGX_PAGE_MEASURE");
	TAP_OK(fk.nmap == 3 && fk.map_off[0] == 0 && fk.map_prot[0] == (PROT_READ | PROT_WRITE) &&
		   fk.map_off[1] == 0x1000 && fk.map_prot[1] == (PROT_READ | PROT_EXEC) &&
		   fk.map_off[2] == 0x2000 && fk.map_len[2] == 0x2000 &&
		   fk.map_prot[2] == (PROT_READ | PROT_WRITE),
	       "ELRANGE mapped in runs with SECINFO permissions");
	if (e) {
		TAP_OK(!strcmp(sgx_encl_backend(e), "sgx") && !sgx_encl_is_emulated(e),
		       "backend reported as sgx");
		ret = sgx_encl_call(e, 0, &regs, &err);
		TAP_OK(ret == 0 && regs.rdi == 8 && regs.rsi == 8,
		       "EENTER through the enter op; the exit handler returns the registers");
		fake_enter_mode = 1;
		err_free(&err);
		ret = sgx_encl_call(e, 0, &regs, &err);
		TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#PF"), "an AEX is reported: %s",
		       err_msg(err));
		err_free(&err);
		{
			struct sgx_encl_regs r = { .rdi = 1, .rsi = 7, .rdx = 9 };
			int exits = 0;

			fake_enter_mode = 2;
			ret = sgx_encl_run(e, 0, SGX_EENTER, &r, loop_step, &exits, &err);
			TAP_OK(ret == 0 && exits == 2 && fake_nentries == 2 &&
				   fake_entries[0][0] == SGX_EENTER && fake_entries[0][1] == 1 &&
				   fake_entries[0][3] == 9 && fake_entries[1][0] == SGX_EENTER &&
				   fake_entries[1][1] == 10 && fake_entries[1][2] == 11 &&
				   fake_entries[1][3] == 12 && fake_entries[1][4] == 13 &&
				   fake_entries[1][5] == 14,
			       "sgx_encl_run through the vDSO's loop: the step's registers reach "
			       "the next EENTER (%u entries, %d exits)",
			       fake_nentries, exits);
		}
		sgx_encl_destroy(e);
	}
	err_free(&err);

	/* EINIT's refusal comes back as the ioctl's positive return. */
	memset(&fk, 0, sizeof(fk));
	fk.init_ret = SGX_INVALID_MEASUREMENT;
	e = NULL;
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	TAP_OK(ret == -EPERM && cls == SGX_INVALID_MEASUREMENT && !e &&
		   strstr(err_msg(err), "EINIT: SGX_INVALID_MEASUREMENT"),
	       "EINIT refusal: %s", err_msg(err));
	err_free(&err);

	/* Mainline Linux says only EPERM: the class comes from the software checks. */
	memset(&fk, 0, sizeof(fk));
	fk.init_ret = -EPERM;
	e = NULL;
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	TAP_OK(ret == -EPERM && cls == SGX_INVALID_SIG_STRUCT && !e &&
		   strstr(err_msg(err), "EINIT: SGX_INVALID_SIG_STRUCT"),
	       "EINIT refusal as EPERM: %s", err_msg(err));
	err_free(&err);

	/* PROVISIONKEY: the provision gate is opened only when the caller allows it. */
	memset(&fk, 0, sizeof(fk));
	ss.body.attributes = SGX_ATTR_MODE64BIT | SGX_ATTR_PROVISIONKEY;
	e = NULL;
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	fk.seq[fk.nseq] = 0;
	TAP_OK(ret == 0 && !strchr(fk.seq, 'P'), "no SGX_IOC_ENCLAVE_PROVISION unless allowed: %s",
	       fk.seq);
	sgx_encl_destroy(e);
	err_free(&err);
	memset(&fk, 0, sizeof(fk));
	o.allow_provision = 1;
	e = NULL;
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	fk.seq[fk.nseq] = 0;
	TAP_OK(ret == 0 && !strncmp(fk.seq, "RCP", 3) && fk.provisioned,
	       "allow_provision: SGX_IOC_ENCLAVE_PROVISION with /fake/sgx_provision after create: "
	       "%s",
	       fk.seq);
	sgx_encl_destroy(e);
	err_free(&err);
	o.allow_provision = 0;
	ss.body.attributes = SGX_ATTR_MODE64BIT;

	/*
	 * A fixed base (code linked at fixed addresses): ECREATE with BASEADDR 0,
	 * only the pages from the lowest one up reserved and mapped. The image
	 * starts at 64 KiB, clear of any vm.mmap_min_addr up to that.
	 */
	{
		struct sgx_image low = img;
		struct sgx_image_page shifted[NPAGES];
		struct sgx_load_opts fo = o;

		for (int i = 0; i < NPAGES; i++) {
			shifted[i] = img.pages[i];
			shifted[i].offset += 0x10000;
		}
		low.pages = shifted;
		low.size = 0x20000;
		fo.fixed_base = 1;
		fo.base = 0;
		memset(&fk, 0, sizeof(fk));
		e = NULL;
		ret = sgx_encl_load(&e, &low, &ss, &fo, &cls, &err);
		fk.seq[fk.nseq] = 0;
		TAP_OK(ret == 0 && !strcmp(fk.seq, "RCAAAAIMMM"), "fixed base 0: loads (%s)%s%s",
		       fk.seq, ret ? ": " : "", ret ? err_msg(err) : "");
		TAP_OK(fk.base == 0 && fk.resv_addr == 0x10000 && fk.resv_len == 0x10000 &&
			   (fk.resv_flags & MAP_FIXED_NOREPLACE) && fk.add_offsets[0] == 0x10000 &&
			   fk.map_off[0] == 0x10000,
		       "fixed base 0: SECS.BASEADDR 0, [64 KiB, 128 KiB) reserved with "
		       "MAP_FIXED_NOREPLACE, pages added and mapped at their offsets");
		TAP_OK(e && sgx_encl_base(e) == 0, "fixed base 0: the enclave's base is 0");
		sgx_encl_destroy(e);
		err_free(&err);

		/*
		 * A run of unmeasured zero pages: one ADD_PAGES for the run, from a
		 * page-aligned source of zeros, continued where the driver stopped
		 * (count), and mapped with its neighbours of the same permissions.
		 */
		struct sgx_image_page run[3] = { img.pages[0],
						 img.pages[1],
						 { .offset = 0x2000,
						   .flags = SGX_SECINFO_REG | SGX_SECINFO_R |
							    SGX_SECINFO_W,
						   .count = 6 } };
		struct sgx_image ri = {
			.size = 0x8000, .ssaframesize = 1, .npages = 3, .pages = run
		};

		memset(&fk, 0, sizeof(fk));
		e = NULL;
		ret = sgx_encl_load(&e, &ri, &ss, &o, &cls, &err);
		fk.seq[fk.nseq] = 0;
		TAP_OK(ret == 0 && !strcmp(fk.seq, "RCAAAIMMM") && !fk.add_bad,
		       "a run of 6 pages: one ADD_PAGES (%s)%s%s", fk.seq, ret ? ": " : "",
		       ret ? err_msg(err) : "");
		TAP_OK(fk.nadd == 3 && fk.add_offsets[2] == 0x2000 && fk.add_len[2] == 6 * 4096 &&
			   fk.add_measure[2] == 0 && fk.add_zero[2] &&
			   fk.add_flags[2] == (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W),
		       "the run: offset, length, SECINFO, no SGX_PAGE_MEASURE, zero source");
		TAP_OK(fk.nmap == 3 && fk.map_off[2] == 0x2000 && fk.map_len[2] == 0x6000,
		       "the run mapped as one range");
		sgx_encl_destroy(e);
		err_free(&err);
		memset(&fk, 0, sizeof(fk));
		fk.add_most = 4;
		e = NULL;
		ret = sgx_encl_load(&e, &ri, &ss, &o, &cls, &err);
		TAP_OK(ret == 0 && fk.nadd == 4 && fk.add_offsets[2] == 0x2000 &&
			   fk.add_len[2] == 4 * 4096 && fk.add_offsets[3] == 0x6000 &&
			   fk.add_len[3] == 2 * 4096 && fk.add_zero[3],
		       "a run the driver adds in part goes on from count");
		sgx_encl_destroy(e);
		err_free(&err);

		/* Page 0 cannot be mapped by anyone: refused before ECREATE. */
		memset(&fk, 0, sizeof(fk));
		low = img;
		low.size = 0x20000;
		e = NULL;
		ret = sgx_encl_load(&e, &low, &ss, &fo, &cls, &err);
		TAP_OK(ret == -EINVAL && fk.nseq == 0 && strstr(err_msg(err), "mmap_min_addr"),
		       "fixed base 0 with a page at 0: %s", err_msg(err));
		err_free(&err);

		/* A base not aligned to the size: refused. */
		fo.base = 0x10000;
		ret = sgx_encl_load(&e, &low, &ss, &fo, &cls, &err);
		TAP_OK(ret == -EINVAL && strstr(err_msg(err), "not aligned"), "unaligned base: %s",
		       err_msg(err));
		err_free(&err);
	}

	/* No device: a clear error. */
	o.device = "/nonexistent/sgx_enclave";
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	TAP_OK(ret < 0 && strstr(err_msg(err), "/nonexistent/sgx_enclave"), "missing device: %s",
	       err_msg(err));
	err_free(&err);

	sgx_image_free(&img);
	return tap_exit();
}
