// SPDX-License-Identifier: Apache-2.0
/*
 * Hostile image content (issue 10, items 9 and 15): files that are not
 * regular files, ELF layouts that claim huge or overflowing sizes. Each case
 * runs in a child with a time bound, so a hang is a failure, not a stuck
 * test run.
 */
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/sigstruct.h"
#include "sgx-test.h"

#define BOUND_SECONDS 10

static char dir[] = "/tmp/sgx-hostile.XXXXXX";

struct elf_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	uint8_t pad[4096 - sizeof(Elf64_Ehdr) - 3 * sizeof(Elf64_Phdr)];
	uint8_t tcs[4096];
	uint8_t text[4096];
};

/* 12 KB: a TCS page (OSSA 0x2000, NSSA 1), a code page, a 1-page RW bss segment. */
static void make_elf(struct elf_img *e)
{
	struct sgx_tcs tcs = { 0 };

	memset(e, 0, sizeof(*e));
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_DYN;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_entry = 0x1000;
	e->eh.e_phoff = sizeof(Elf64_Ehdr);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 3;
	e->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_flags = PF_R | PF_W,
				 .p_offset = offsetof(struct elf_img, tcs),
				 .p_filesz = 4096,
				 .p_memsz = 4096 };
	e->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD,
				 .p_flags = PF_R | PF_X,
				 .p_offset = offsetof(struct elf_img, text),
				 .p_vaddr = 0x1000,
				 .p_filesz = 4096,
				 .p_memsz = 4096 };
	e->ph[2] = (Elf64_Phdr){
		.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_vaddr = 0x2000, .p_memsz = 4096
	};
	tcs.ossa = 0x2000;
	tcs.nssa = 1;
	tcs.oentry = 0x1000;
	memcpy(e->tcs, &tcs, sizeof(tcs));
	e->text[0] = 0xc3;
}

static void set_tcs(struct elf_img *e, uint64_t ossa, uint32_t nssa)
{
	struct sgx_tcs tcs;

	memcpy(&tcs, e->tcs, sizeof(tcs));
	tcs.ossa = ossa;
	tcs.nssa = nssa;
	memcpy(e->tcs, &tcs, sizeof(tcs));
}

static void write_elf(const char *path, const struct elf_img *e)
{
	err_t err = NULL;

	unlink(path);
	if (sgx_write_file(path, e, sizeof(*e), 0644, 1, &err) < 0) {
		printf("not ok - write %s: %s\n", path, err_msg(err));
		exit(1);
	}
}

/*
 * Runs fn in a child bounded by BOUND_SECONDS and 1 GiB of address space:
 * a hang or a huge allocation fails the case instead of the machine.
 */
static bool bounded(bool (*fn)(void))
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		struct rlimit rl = { 1UL << 30, 1UL << 30 };

		setrlimit(RLIMIT_AS, &rl);
		alarm(BOUND_SECONDS);
		tap_failures = 0;
		bool ok = fn();

		fflush(stdout);
		_exit(ok ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) < 0)
		return false;
	if (WIFSIGNALED(status)) {
		printf("# %s: child killed by signal %d%s\n", tap_case ? tap_case : "",
		       WTERMSIG(status),
		       WTERMSIG(status) == SIGALRM ? " (took longer than the bound)" : "");
		return false;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static char fifo[4200], zero_link[4200], big_elf[4200];

static bool fifo_elf(void)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret = sgx_image_from_elf(&img, fifo, NULL, &err);

	CHECK(ret == -EINVAL && strstr(err_msg(err), "not a regular file"), "%d %s", ret,
	      err_msg(err));
	return tap_failures == 0;
}

static bool fifo_sigstruct(void)
{
	struct sgx_sigstruct ss;
	err_t err = NULL;
	int ret = sgx_sigstruct_load(&ss, fifo, &err);

	CHECK(ret == -EINVAL && strstr(err_msg(err), "not a regular file"), "%d %s", ret,
	      err_msg(err));
	return tap_failures == 0;
}

static bool fifo_flat(void)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret = sgx_image_from_flat(&img, fifo, "tcs", 0, 1, &err);

	CHECK(ret == -EINVAL, "%d %s", ret, err_msg(err));
	return tap_failures == 0;
}

static bool dev_zero_link(void)
{
	struct sgx_image img;
	struct sgx_sigstruct ss;
	err_t err = NULL;
	int ret = sgx_image_from_elf(&img, zero_link, NULL, &err);

	CHECK(ret == -EINVAL && strstr(err_msg(err), "not a regular file"), "ELF: %d %s", ret,
	      err_msg(err));
	err_free(&err);
	ret = sgx_sigstruct_load(&ss, zero_link, &err);
	CHECK(ret == -EINVAL, "SIGSTRUCT: %d %s", ret, err_msg(err));
	err_free(&err);
	return tap_failures == 0;
}

/* A 12 KB ELF with a 64 GiB bss segment: refused at once, naming file, size and cap. */
static bool huge_segment(void)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret = sgx_image_from_elf(&img, big_elf, NULL, &err);

	CHECK(ret == -EFBIG, "%d %s", ret, err_msg(err));
	CHECK(strstr(err_msg(err), big_elf) && strstr(err_msg(err), "8589934592") &&
		  strstr(err_msg(err), "max_enclave_size"),
	      "message names the image and the cap: %s", err_msg(err));
	printf("# %s\n", err_msg(err));
	err_free(&err);
	return tap_failures == 0;
}

/* The emulator's machine secret: a FIFO there must not block the loader. */
static bool fifo_secret(void)
{
	err_t err = NULL;
	int ret = sgx_emu_set_secret_path(fifo, &err);

	if (ret == 0)
		ret = sgx_loader_init(&err);
	CHECK(ret == -EINVAL && strstr(err_msg(err), "not a regular file"), "%d %s", ret,
	      err_msg(err));
	return tap_failures == 0;
}

static void test_not_regular(void)
{
	snprintf(fifo, sizeof(fifo), "%s/encl.fifo", dir);
	snprintf(zero_link, sizeof(zero_link), "%s/zero", dir);
	CHECK(mkfifo(fifo, 0600) == 0 && symlink("/dev/zero", zero_link) == 0);
	CHECK(bounded(fifo_elf), "encl.elf that is a FIFO");
	CHECK(bounded(fifo_sigstruct), "encl.ss that is a FIFO");
	CHECK(bounded(fifo_flat), "flat image that is a FIFO");
	CHECK(bounded(dev_zero_link), "symlink to /dev/zero");
	CHECK(bounded(fifo_secret), "emulator secret that is a FIFO");
	unlink(fifo);
	unlink(zero_link);
}

static void test_huge_segment(void)
{
	struct elf_img e;

	make_elf(&e);
	e.ph[2].p_memsz = (1ULL << 36) - 0x2000; /* ends at 64 GiB */
	snprintf(big_elf, sizeof(big_elf), "%s/big.elf", dir);
	write_elf(big_elf, &e);
	CHECK(bounded(huge_segment), "64 GiB segment");
	unlink(big_elf);
}

static char sparse[4200];

/* Image files above the cap are refused before they are read (9 GiB, sparse). */
static bool sparse_images(void)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret = sgx_image_from_flat(&img, sparse, "tcs", 0, 1, &err);

	CHECK(ret == -EFBIG && strstr(err_msg(err), "9663676416 bytes") &&
		  strstr(err_msg(err), "max_enclave_size"),
	      "flat: %d %s", ret, err_msg(err));
	err_free(&err);
	ret = sgx_image_from_elf(&img, sparse, NULL, &err);
	CHECK(ret == -EFBIG && strstr(err_msg(err), "9663676416 bytes"), "ELF: %d %s", ret,
	      err_msg(err));
	err_free(&err);
	return tap_failures == 0;
}

static void test_huge_files(void)
{
	int fd;

	snprintf(sparse, sizeof(sparse), "%s/sparse.img", dir);
	fd = open(sparse, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 9ULL << 30) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(bounded(sparse_images), "9 GiB image files");
	unlink(sparse);
}

static void test_max_enclave_size(void)
{
	struct sgx_layout_opts o = { 0 };
	struct sgx_image img;
	struct elf_img e;
	err_t err = NULL;

	make_elf(&e);
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0, "%s", err_msg(err));
	sgx_image_free(&img);
	/* 16 KiB enclave: fits 16 KiB, not 8 KiB. */
	o.max_enclave_size = 16384;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0, "%s", err_msg(err));
	sgx_image_free(&img);
	o.max_enclave_size = 8192;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EFBIG &&
		  strstr(err_msg(err), "8192"),
	      "segments past the cap: %s", err_msg(err));
	err_free(&err);
	/* The heap, the stack, or an explicit ELRANGE past the cap. */
	o = (struct sgx_layout_opts){ .max_enclave_size = 1 << 20, .heap = 1 << 20 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EFBIG, "heap: %s",
	      err_msg(err));
	err_free(&err);
	o = (struct sgx_layout_opts){ .max_enclave_size = 1 << 20, .stack = 1 << 20 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EFBIG, "stack: %s",
	      err_msg(err));
	err_free(&err);
	o = (struct sgx_layout_opts){ .max_enclave_size = 1 << 20, .size = 1 << 21 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EFBIG, "size: %s",
	      err_msg(err));
	err_free(&err);
	/* rune's cap from /etc/rune/config.json reaches libsgx through the environment. */
	setenv("SGX_MAX_ENCLAVE_SIZE", "8192", 1);
	o = (struct sgx_layout_opts){ 0 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EFBIG &&
		  strstr(err_msg(err), "8192"),
	      "SGX_MAX_ENCLAVE_SIZE=8192: %s", err_msg(err));
	err_free(&err);
	setenv("SGX_MAX_ENCLAVE_SIZE", "garbage", 1);
	CHECK(sgx_max_enclave_size(0) == SGX_MAX_ENCLAVE_SIZE_DEFAULT, "a bad value: the default");
	CHECK(sgx_max_enclave_size(12288) == 12288, "an asked cap wins");
	unsetenv("SGX_MAX_ENCLAVE_SIZE");
	/* A big heap within the default cap is fine (a LibOS needs one): 4 GiB. */
	o = (struct sgx_layout_opts){ .heap = 4ULL << 30 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0 && img.size == 8ULL << 30,
	      "4 GiB heap: %s", err_msg(err));
	sgx_image_free(&img);
	err_free(&err);
}

/* Every TCS page, and every TCS's SSA frames, lie inside the enclave. */
static bool layout_sane(const struct sgx_image *img, uint32_t ssaframesize)
{
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *p = &img->pages[i];
		struct sgx_tcs t;

		if (p->offset >= img->size)
			return false;
		if (p->flags != SGX_SECINFO_TCS || !p->data)
			continue;
		memcpy(&t, p->data, sizeof(t));
		if (t.ossa + (uint64_t)t.nssa * ssaframesize * 4096 > img->size)
			return false;
	}
	return true;
}

static bool overflow_case(const struct elf_img *e, const struct sgx_layout_opts *o,
			  const char *what)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret = sgx_image_from_elf_mem(&img, e, sizeof(*e), o, &err);

	if (ret == 0) {
		CHECK(0, "%s: accepted a layout of %zu pages, size %#llx%s", what, img.npages,
		      (unsigned long long)img.size,
		      layout_sane(&img, o->ssaframesize ? o->ssaframesize : 1)
			  ? ""
			  : ", with TCS/SSA outside the enclave");
		sgx_image_free(&img);
	} else {
		CHECK(ret == -EFBIG || ret == -EINVAL, "%s: %d %s", what, ret, err_msg(err));
	}
	err_free(&err);
	return tap_failures == 0;
}

static struct elf_img ovf_elf;

static bool overflow_tcs_ssa(void)
{
	/*
	 * 2048 extra TCS x 2^31 SSA frames x 1024 pages x 4096 bytes is 2^64:
	 * the SSA area wrapped to nothing and the extra TCSs' SSA frames lay
	 * far outside the enclave that sgx-tools measured and signed.
	 */
	struct sgx_layout_opts o = { .tcs = 2049, .ssaframesize = 1024 };

	make_elf(&ovf_elf);
	set_tcs(&ovf_elf, 0x2000, 1u << 31);
	overflow_case(&ovf_elf, &o, "2049 TCS, NSSA 2^31, SSAFRAMESIZE 1024");
	o = (struct sgx_layout_opts){ .tcs = 4096, .ssaframesize = 1024 };
	set_tcs(&ovf_elf, 0x2000, 0xffffffffu);
	overflow_case(&ovf_elf, &o, "4096 TCS, NSSA 0xffffffff, SSAFRAMESIZE 1024");
	/* 2^20 TCS x 2^24 SSA pages: wraps to exactly 0 extra bytes. */
	o = (struct sgx_layout_opts){ .tcs = 1 << 20, .ssaframesize = 1 };
	set_tcs(&ovf_elf, 0x2000, 1u << 24);
	overflow_case(&ovf_elf, &o, "2^20 TCS x 2^24 SSA frames");
	return tap_failures == 0;
}

static void test_layout_overflow(void)
{
	struct elf_img e;

	CHECK(bounded(overflow_tcs_ssa), "huge TCS/SSA counts");

	/* The ELF's own TCS: SSA frames outside the enclave, unaligned, or over the TCS. */
	struct sgx_layout_opts none = { 0 };
	make_elf(&e);
	set_tcs(&e, 1ULL << 40, 1);
	overflow_case(&e, &none, "OSSA far outside");
	make_elf(&e);
	set_tcs(&e, 0x2000, 0xffffffffu);
	overflow_case(&e, &none, "NSSA past the end");
	make_elf(&e);
	set_tcs(&e, 0xfffffffffffff000ULL, 2);
	overflow_case(&e, &none, "OSSA + NSSA wraps");
	make_elf(&e);
	set_tcs(&e, 0x2800, 1);
	overflow_case(&e, &none, "OSSA not page aligned");
	make_elf(&e);
	set_tcs(&e, 0, 1);
	overflow_case(&e, &none, "SSA frame on the TCS");
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	TAP_RUN(test_not_regular);
	TAP_RUN(test_huge_segment);
	TAP_RUN(test_huge_files);
	TAP_RUN(test_max_enclave_size);
	TAP_RUN(test_layout_overflow);
	rmdir(dir);
	return tap_exit();
}
