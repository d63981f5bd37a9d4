// SPDX-License-Identifier: Apache-2.0
/*
 * The LibOS enclave through the driver backend, without SGX: a TEE image
 * built by tee_build() is loaded with fake driver ops (as
 * tests/loader/test_driver.c does for a flat image), and the ioctl
 * sequence is checked page by page: ECREATE with the manifest's enclave
 * size, the TCS and the LibOS and manifest pages measured with their
 * permissions, the heap unmeasured and RWX and added in one ioctl (a run),
 * EINIT with the image's SIGSTRUCT, and the ELRANGE mapped with matching
 * permissions.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tap.h"
#include "sgx/loader.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"
#include "teeimage/teeimage.h"

#define FAKE_FD	  42
#define MAX_ADDS  4096
#define RWX_FLAGS (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X)

static struct {
	char seq[MAX_ADDS + 64];
	size_t nseq;
	uint64_t base, size, ssaframesize;
	uint64_t off[MAX_ADDS], flags[MAX_ADDS], measure[MAX_ADDS];
	int nadd;
	uint8_t enclavehash[32];
	int map_rwx_heap;
	uint64_t heap_off;
	struct sgx_measure *m; /* what a CPU EADDing the pages given would measure */
	uint8_t mr[32];
	int heap_ioctls;	 /* ADD_PAGES calls that add heap pages */
	uint64_t heap_first_len; /* bytes asked by the one at the heap's start */
} fk;

static int fake_open(const char *path, int flags)
{
	(void)flags;
	return strcmp(path, "/fake/sgx_enclave") ? (errno = ENOENT, -1) : FAKE_FD;
}

static int fake_close(int fd)
{
	return fd == FAKE_FD ? 0 : -1;
}

static int fake_ioctl(int fd, unsigned long req, void *arg)
{
	if (fd != FAKE_FD)
		return errno = EBADF, -1;
	if (req == SGX_IOC_ENCLAVE_CREATE) {
		const struct sgx_secs *secs =
		    (const void *)(uintptr_t)((struct sgx_enclave_create *)arg)->src;

		fk.seq[fk.nseq++] = 'C';
		fk.base = secs->base;
		fk.size = secs->size;
		fk.ssaframesize = secs->ssaframesize;
		sgx_measure_new(&fk.m, secs->ssaframesize, secs->size, NULL);
		return 0;
	}
	if (req == SGX_IOC_ENCLAVE_ADD_PAGES) {
		struct sgx_enclave_add_pages *a = arg;
		const struct sgx_secinfo *si = (const void *)(uintptr_t)a->secinfo;

		if (fk.nadd == MAX_ADDS)
			return errno = ENOSPC, -1;
		if (fk.nseq < sizeof(fk.seq) - 1 && (fk.nseq == 0 || fk.seq[fk.nseq - 1] != 'A'))
			fk.seq[fk.nseq++] = 'A';
		if (a->offset >= fk.heap_off && a->flags == 0 && si->flags == RWX_FLAGS)
			fk.heap_ioctls++;
		if (a->offset == fk.heap_off)
			fk.heap_first_len = a->length;
		for (uint64_t k = 0; k < a->length; k += 4096) {
			/* The kernel EADDs (and EEXTENDs) a run page by page. */
			if (fk.m && sgx_measure_add_page(fk.m, a->offset + k, si->flags,
							 (const void *)(uintptr_t)(a->src + k),
							 a->flags & SGX_PAGE_MEASURE, NULL) < 0) {
				sgx_measure_free(fk.m);
				fk.m = NULL;
			}
			fk.off[fk.nadd] = a->offset + k;
			fk.flags[fk.nadd] = si->flags;
			fk.measure[fk.nadd] = a->flags;
			fk.nadd++;
		}
		a->count = a->length;
		return 0;
	}
	if (req == SGX_IOC_ENCLAVE_INIT) {
		const struct sgx_sigstruct *ss =
		    (const void *)(uintptr_t)((struct sgx_enclave_init *)arg)->sigstruct;

		fk.seq[fk.nseq++] = 'I';
		memcpy(fk.enclavehash, ss->body.enclavehash, 32);
		if (fk.m)
			sgx_measure_finish(fk.m, fk.mr);
		fk.m = NULL;
		return 0;
	}
	return errno = ENOTTY, -1;
}

static void *fake_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fd == -1)
		return mmap(addr, len, prot, flags, fd, off);
	if (fk.seq[fk.nseq - 1] != 'M')
		fk.seq[fk.nseq++] = 'M';
	if ((uintptr_t)addr - fk.base <= fk.heap_off &&
	    (uintptr_t)addr - fk.base + len > fk.heap_off)
		fk.map_rwx_heap = prot == (PROT_READ | PROT_WRITE | PROT_EXEC);
	return addr;
}

/* Never entered here: the load is what is checked. */
static int fake_enter(unsigned long rdi, unsigned long rsi, unsigned long rdx,
		      unsigned int function, unsigned long r8, unsigned long r9,
		      struct sgx_enclave_run *run)
{
	(void)rdi, (void)rsi, (void)rdx, (void)function, (void)r8, (void)r9, (void)run;
	return -EINVAL;
}

static const struct sgx_driver_ops ops = { .open = fake_open,
					   .close = fake_close,
					   .ioctl = fake_ioctl,
					   .mmap = fake_mmap,
					   .enter = fake_enter };

static uint64_t mf_u64(const char *mf, const char *key)
{
	const char *p = strstr(mf, key);

	return p ? strtoull(p + strlen(key) + 1, NULL, 10) : 0;
}

int main(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char dir[] = "/tmp/libos-driver.XXXXXX", path[4096], cmd[4200];
	struct sgx_load_opts o = { .backend = SGX_BACKEND_DRIVER,
				   .device = "/fake/sgx_enclave",
				   .ops = &ops };
	struct tee_build_opts bo = { 0 };
	struct tee_build_result res;
	struct sgx_sigstruct ss;
	struct sgx_image img;
	struct sgx_encl *e = NULL;
	void *elf = NULL, *libos = NULL;
	size_t len, llen;
	const char *mf = NULL;
	err_t err = NULL;
	int ret, cls, fd;

	snprintf(path, sizeof(path), "%s/share/libos/libos.elf", build);
	if (tee_read_file(path, 64 << 20, &libos, &llen, &err) < 0) {
		printf("not ok - the LibOS enclave: %s (run make)\n", err_msg(err));
		return 1;
	}
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/prog", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0755);
	if (fd < 0 || write(fd, "not really a program\n", 21) != 21)
		return 1;
	close(fd);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	if (sgx_key_generate(path, &err) < 0) {
		printf("not ok - key: %s\n", err_msg(err));
		return 1;
	}
	bo.rootfs = dir;
	bo.argv = (const char *const[]){ "/prog", NULL };
	bo.heap = 1 << 20;
	bo.stack = 256 << 10;
	bo.threads = 4;
	bo.key_path = path;
	bo.libos_elf = libos;
	bo.libos_len = llen;
	bo.no_default_trusted = 1;
	ret = tee_build(&bo, &res, &err);
	TAP_OK(ret == 0, "tee_build%s%s", ret ? ": " : "", ret ? err_msg(err) : "");
	snprintf(path, sizeof(path), "%s/.rune/libos.elf", dir);
	ret = tee_read_file(path, 64 << 20, &elf, &len, &err);
	snprintf(path, sizeof(path), "%s/.rune/libos.sig", dir);
	if (ret == 0)
		ret = sgx_sigstruct_load(&ss, path, &err);
	if (ret == 0)
		ret = tee_libos_image(&img, elf, len, &mf, &err);
	if (ret < 0) {
		printf("not ok - read the image back: %s\n", err_msg(err));
		return 1;
	}
	fk.heap_off = mf_u64(mf, "heap_offset");
	ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
	TAP_OK(ret == 0, "load through the fake driver%s%s", ret ? ": " : "",
	       ret ? err_msg(err) : "");
	fk.seq[fk.nseq] = 0;
	TAP_OK(!strcmp(fk.seq, "CAIM"), "create, add pages, init, map: %s", fk.seq);
	TAP_OK(fk.size == mf_u64(mf, "enclave_size") && fk.base % fk.size == 0 &&
		   fk.ssaframesize == 1,
	       "ECREATE: the manifest's enclave size, aligned base, 1-page SSA frames");
	TAP_OK(fk.nadd == (int)sgx_image_total_pages(&img), "every page added once (%d of %llu)",
	       fk.nadd, (unsigned long long)sgx_image_total_pages(&img));
	TAP_OK(fk.heap_ioctls == 1 && fk.heap_first_len == mf_u64(mf, "heap_size"),
	       "the heap is one run: one ADD_PAGES of %llu bytes (%d ioctls)",
	       (unsigned long long)fk.heap_first_len, fk.heap_ioctls);

	int tcs_ok = fk.nadd > 0 && fk.off[0] == 0 && fk.flags[0] == SGX_SECINFO_TCS &&
		     fk.measure[0] == SGX_PAGE_MEASURE;
	int heap_pages = 0, heap_ok = 1, image_ok = fk.nadd > 0, manifest_pages = 0,
	    ascending = fk.nadd > 0, extra_tcs = 0, extra_ssa = 0, threads_ok = 1;
	uint64_t heap_end = fk.heap_off + mf_u64(mf, "heap_size");
	/* Each extra thread: a TCS page, then (after all of them) its 2 SSA frames. */
	uint64_t tcs_from = fk.heap_off - 3 * 3 * 4096, ssa_from = fk.heap_off - 3 * 2 * 4096;

	for (int i = 0; i < fk.nadd; i++) {
		if (i && fk.off[i] <= fk.off[i - 1])
			ascending = 0;
		if (fk.off[i] >= fk.heap_off && fk.off[i] < heap_end) {
			heap_pages++;
			heap_ok &= fk.flags[i] == RWX_FLAGS && fk.measure[i] == 0;
		} else if (fk.off[i] >= ssa_from && fk.off[i] < fk.heap_off) {
			extra_ssa++;
			threads_ok &=
			    fk.flags[i] == (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W) &&
			    fk.measure[i] == 0;
		} else if (fk.off[i] >= tcs_from && fk.off[i] < ssa_from) {
			extra_tcs++;
			threads_ok &=
			    fk.flags[i] == SGX_SECINFO_TCS && fk.measure[i] == SGX_PAGE_MEASURE;
		} else if (fk.off[i] < fk.heap_off) {
			image_ok &=
			    fk.measure[i] == SGX_PAGE_MEASURE &&
			    !((fk.flags[i] & SGX_SECINFO_W) && (fk.flags[i] & SGX_SECINFO_X));
			if (fk.flags[i] == (SGX_SECINFO_REG | SGX_SECINFO_R))
				manifest_pages++;
		}
	}
	TAP_OK(tcs_ok, "page 0 is the TCS, measured");
	TAP_OK(ascending, "pages added in ascending order");
	TAP_OK(image_ok, "LibOS and manifest pages measured, none both writable and executable");
	TAP_OK(manifest_pages >= 1, "the manifest: %d read-only measured page(s)", manifest_pages);
	TAP_OK(mf_u64(mf, "threads") == 4 && extra_tcs == 3 && extra_ssa == 6 && threads_ok,
	       "threads 4: 3 more TCS (measured) before the heap, then their SSA frames (RW, "
	       "unmeasured): %d TCS, %d SSA pages",
	       extra_tcs, extra_ssa);
	TAP_OK(heap_pages == (1 << 20) / 4096 && heap_ok,
	       "the heap: %d pages, RWX and unmeasured (SGX1: code is loaded there)", heap_pages);
	TAP_OK(fk.map_rwx_heap, "the heap is mapped RWX");
	TAP_OK(!memcmp(fk.enclavehash, res.mrenclave, 32),
	       "EINIT gets the SIGSTRUCT of the MRENCLAVE rune-image printed");
	TAP_OK(!memcmp(fk.mr, res.mrenclave, 32),
	       "the pages given to the driver, runs EADDed page by page, measure as rune-image's "
	       "MRENCLAVE");
	sgx_encl_destroy(e);
	sgx_image_free(&img);
	free(elf);
	elf = NULL;

	/*
	 * An entrypoint linked at 0x400000 (ET_EXEC): the enclave is based at 0,
	 * loaded as the PAL does (the manifest's enclave_base), the LibOS from
	 * 64 KiB, the program's addresses inside the heap.
	 */
	{
		struct {
			Elf64_Ehdr eh;
			Elf64_Phdr ph;
		} x = { 0 };
		uint64_t base = 1, exec_start, heap_size;
		int low_ok = 1, prog_heap = 1;

		memcpy(x.eh.e_ident, ELFMAG, SELFMAG);
		x.eh.e_ident[EI_CLASS] = ELFCLASS64;
		x.eh.e_ident[EI_DATA] = ELFDATA2LSB;
		x.eh.e_type = ET_EXEC;
		x.eh.e_machine = EM_X86_64;
		x.eh.e_entry = 0x401000;
		x.eh.e_phoff = sizeof(x.eh);
		x.eh.e_phentsize = sizeof(x.ph);
		x.eh.e_phnum = 1;
		x.ph.p_type = PT_LOAD;
		x.ph.p_vaddr = 0x400000;
		x.ph.p_filesz = sizeof(x);
		x.ph.p_memsz = 0x3000;
		snprintf(path, sizeof(path), "%s/exec", dir);
		fd = open(path, O_WRONLY | O_CREAT, 0755);
		if (fd < 0 || write(fd, &x, sizeof(x)) != sizeof(x))
			return 1;
		close(fd);
		snprintf(path, sizeof(path), "%s/key.pem", dir);
		bo.argv = (const char *const[]){ "/exec", NULL };
		ret = tee_build(&bo, &res, &err);
		TAP_OK(ret == 0, "tee_build of an ET_EXEC entrypoint%s%s", ret ? ": " : "",
		       ret ? err_msg(err) : "");
		snprintf(path, sizeof(path), "%s/.rune/libos.elf", dir);
		ret = tee_read_file(path, 64 << 20, &elf, &len, &err);
		snprintf(path, sizeof(path), "%s/.rune/libos.sig", dir);
		if (ret == 0)
			ret = sgx_sigstruct_load(&ss, path, &err);
		if (ret == 0)
			ret = tee_libos_image(&img, elf, len, &mf, &err);
		if (ret < 0) {
			printf("not ok - read the ET_EXEC image back: %s\n", err_msg(err));
			return 1;
		}
		TAP_OK(tee_manifest_u64(mf, "enclave_base", &base) == 0 && base == 0 &&
			   tee_manifest_u64(mf, "exec_start", &exec_start) == 0 &&
			   exec_start == 0x400000,
		       "the manifest bases the enclave at 0 and reserves 0x400000");
		memset(&fk, 0, sizeof(fk));
		fk.heap_off = mf_u64(mf, "heap_offset");
		heap_size = mf_u64(mf, "heap_size");
		o.fixed_base = 1;
		o.base = base;
		ret = sgx_encl_load(&e, &img, &ss, &o, &cls, &err);
		fk.seq[fk.nseq] = 0;
		TAP_OK(ret == 0 && !strcmp(fk.seq, "CAIM") && fk.base == 0 &&
			   fk.size == mf_u64(mf, "enclave_size"),
		       "fixed base: create at BASEADDR 0, add, init, map: %s%s%s", fk.seq,
		       ret ? ": " : "", ret ? err_msg(err) : "");
		for (int i = 0; i < fk.nadd; i++) {
			if (fk.off[i] < 65536)
				low_ok = 0;
			if (fk.off[i] >= 0x400000 && fk.off[i] < 0x403000)
				prog_heap &= fk.flags[i] == RWX_FLAGS && fk.measure[i] == 0;
		}
		TAP_OK(fk.nadd == (int)sgx_image_total_pages(&img) && low_ok &&
			   fk.off[0] == 65536 && fk.flags[0] == SGX_SECINFO_TCS,
		       "no page below 64 KiB; the TCS first, at 64 KiB");
		TAP_OK(prog_heap && fk.heap_off < 0x400000 && fk.heap_off + heap_size > 0x403000,
		       "the program's pages [0x400000, 0x403000) are heap pages (RWX, unmeasured)");
		TAP_OK(!memcmp(fk.enclavehash, res.mrenclave, 32),
		       "EINIT gets the SIGSTRUCT of the MRENCLAVE rune-image printed");
		sgx_encl_destroy(e);
		sgx_image_free(&img);
		free(elf);
	}
	free(libos);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_exit();
}
