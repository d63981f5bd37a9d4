/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Images and measurement without the vectors: every page type against an
 * independent reference computation, page specs, the ELF layout (TCS
 * segment, permissions, bss, heap/stack/extra TCS as runs of pages), runs
 * measured as page by page, and refusal of truncated or malformed input.
 */
#include <elf.h>

#include <openssl/evp.h>

#include "sgx/image.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"
#include "sgx-test.h"

/* Reference: the whole measured byte stream in memory, hashed at once. */
struct ref {
	uint8_t *buf;
	size_t len;
};

static void ref_add(struct ref *r, const void *p, size_t n)
{
	r->buf = realloc(r->buf, r->len + n);
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void ref_record(struct ref *r, const char *tag, uint64_t a, int a_size, uint64_t b)
{
	uint8_t rec[64] = { 0 };

	strncpy((char *)rec, tag, 8);
	memcpy(rec + 8, &a, (size_t)a_size); /* little-endian host */
	memcpy(rec + 8 + a_size, &b, 8);
	ref_add(r, rec, 64);
}

static void ref_mrenclave(const struct sgx_image *img, uint8_t out[32])
{
	struct ref r = { 0 };
	uint8_t zero[4096] = { 0 };

	ref_record(&r, "ECREATE", img->ssaframesize, 4, img->size);
	/* A run is its pages one by one, as EADD sees them. */
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *p = &img->pages[i];

		for (uint64_t k = 0; k < (p->count ? p->count : 1); k++) {
			uint64_t page = p->offset + k * 4096;
			const uint8_t *src = p->data ? p->data + k * 4096 : zero;

			ref_record(&r, "EADD", page, 8, p->flags);
			for (int c = 0; p->measured && c < 16; c++) {
				uint8_t rec[64] = { 0 };
				uint64_t off = page + (uint64_t)c * 256;

				memcpy(rec, "EEXTEND", 7);
				memcpy(rec + 8, &off, 8);
				ref_add(&r, rec, 64);
				ref_add(&r, src + c * 256, 256);
			}
		}
	}
	EVP_Digest(r.buf, r.len, out, NULL, EVP_sha256(), NULL);
	free(r.buf);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void test_page_types(void)
{
	static const struct {
		const char *spec;
		uint64_t flags;
	} types[] = {
		{ "tcs", SGX_SECINFO_TCS },
		{ "r", SGX_SECINFO_REG | SGX_SECINFO_R },
		{ "rw", SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W },
		{ "rx", SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X },
		{ "rwx", SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X },
	};
	uint8_t buf[3 * 4096], got[32], want[32], seen[5][32];
	struct sgx_image img;
	err_t err = NULL;
	char spec[64];

	fill(buf, sizeof(buf), 1);
	for (size_t t = 0; t < 5; t++) {
		snprintf(spec, sizeof(spec), "%s*3", types[t].spec);
		CHECK(sgx_image_from_flat_mem(&img, buf, sizeof(buf), spec, 0, 1, &err) == 0,
		      "%s: %s", spec, err_msg(err));
		CHECK(img.size == 16384 && img.npages == 3, "%s: size %llu", spec,
		      (unsigned long long)img.size);
		for (size_t i = 0; i < img.npages; i++)
			CHECK(img.pages[i].flags == types[t].flags && img.pages[i].measured &&
				  img.pages[i].offset == i * 4096,
			      "%s page %zu", spec, i);
		CHECK(strcmp(sgx_secinfo_name(types[t].flags), types[t].spec) == 0, "name %s",
		      types[t].spec);
		CHECK(sgx_image_measure(&img, got, &err) == 0, "%s", err_msg(err));
		ref_mrenclave(&img, want);
		CHECK(memcmp(got, want, 32) == 0, "%s: MRENCLAVE differs from the reference", spec);
		memcpy(seen[t], got, 32);
		for (size_t u = 0; u < t; u++)
			CHECK(memcmp(seen[u], got, 32) != 0, "%s measures like %s", spec,
			      types[u].spec);
		sgx_image_free(&img);
	}
	err_free(&err);
}

static void test_unmeasured_and_zero(void)
{
	uint8_t page[4096], a[32], b[32], c[32];
	struct sgx_measure *m;
	err_t err = NULL;

	fill(page, sizeof(page), 2);
	/* Unmeasured: content does not matter, the EADD record does. */
	sgx_measure_new(&m, 1, 8192, &err);
	sgx_measure_add_page(m, 4096, SGX_SECINFO_REG | 3, page, 0, &err);
	sgx_measure_finish(m, a);
	sgx_measure_new(&m, 1, 8192, &err);
	sgx_measure_add_page(m, 4096, SGX_SECINFO_REG | 3, NULL, 0, &err);
	sgx_measure_finish(m, b);
	CHECK(memcmp(a, b, 32) == 0, "unmeasured content must not count");
	sgx_measure_new(&m, 1, 8192, &err);
	sgx_measure_add_page(m, 4096, SGX_SECINFO_REG | 3, NULL, 1, &err);
	sgx_measure_finish(m, c);
	CHECK(memcmp(b, c, 32) != 0, "measured zero page differs from unmeasured");

	struct sgx_image_page pg[2] = { { 0, SGX_SECINFO_TCS, 1, page },
					{ 4096, SGX_SECINFO_REG | 1, 0, NULL } };
	struct sgx_image img = { .size = 8192, .ssaframesize = 2, .npages = 2, .pages = pg };
	CHECK(sgx_image_measure(&img, a, &err) == 0, "%s", err_msg(err));
	ref_mrenclave(&img, b);
	CHECK(memcmp(a, b, 32) == 0, "mixed image vs reference");
	pg[1].offset = 0;
	CHECK(sgx_image_measure(&img, a, &err) == -EINVAL, "duplicate offset accepted");
	err_free(&err);
}

static void test_measure_errors(void)
{
	struct sgx_measure *m = NULL;
	err_t err = NULL;

	CHECK(sgx_measure_new(&m, 1, 12288, &err) == -EINVAL && m == NULL, "size not pow2");
	err_free(&err);
	CHECK(sgx_measure_new(&m, 1, 0, &err) == -EINVAL, "size 0");
	err_free(&err);
	CHECK(sgx_measure_new(&m, 0, 8192, &err) == -EINVAL, "ssa 0");
	err_free(&err);
	CHECK(sgx_measure_new(&m, 1, 8192, &err) == 0, "%s", err_msg(err));
	CHECK(sgx_measure_add_page(m, 100, SGX_SECINFO_REG | 1, NULL, 1, &err) == -EINVAL,
	      "unaligned");
	err_free(&err);
	CHECK(sgx_measure_add_page(m, 8192, SGX_SECINFO_REG | 1, NULL, 1, &err) == -EINVAL,
	      "outside");
	err_free(&err);
	CHECK(sgx_measure_add_page(m, 0, SGX_SECINFO_TCS | 1, NULL, 1, &err) == -EINVAL, "TCS+R");
	err_free(&err);
	CHECK(sgx_measure_add_page(m, 0, SGX_SECINFO_REG | 2, NULL, 1, &err) == -EINVAL, "W only");
	err_free(&err);
	CHECK(sgx_measure_add_page(m, 0, SGX_SECINFO_VA, NULL, 1, &err) == -EINVAL, "VA page");
	err_free(&err);
	CHECK(sgx_measure_add_page(m, 0, SGX_SECINFO_REG | 1 | SGX_SECINFO_PENDING, NULL, 1,
				   &err) == -EINVAL,
	      "PENDING");
	err_free(&err);
	CHECK(sgx_measure_add_page(m, 0, SGX_SECINFO_REG, NULL, 1, &err) == 0, "no perms is fine");
	sgx_measure_free(m);
	sgx_measure_free(NULL);
}

static void test_page_spec(void)
{
	static const char *bad[] = { "",
				     ",",
				     "tcs,",
				     "rwx*",
				     "rwx*0",
				     "rwx*x",
				     "w",
				     "RWX",
				     "tcs;r",
				     " tcs",
				     "rwx*5x",
				     "rwx**2",
				     "rx*-1",
				     "rwx*99999999999999999999",
				     "rwx*16777217" };
	uint64_t *flags;
	size_t n;
	err_t err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(sgx_parse_page_spec(bad[i], &flags, &n, &err) == -EINVAL, "'%s' accepted",
		      bad[i]);
		err_free(&err);
	}
	CHECK(sgx_parse_page_spec("tcs*2,r,rw*3,rx,rwx*1", &flags, &n, &err) == 0, "%s",
	      err_msg(err));
	CHECK(n == 8 && flags[0] == SGX_SECINFO_TCS && flags[1] == SGX_SECINFO_TCS &&
		  flags[2] == (SGX_SECINFO_REG | 1) && flags[5] == (SGX_SECINFO_REG | 3) &&
		  flags[6] == (SGX_SECINFO_REG | 5) && flags[7] == (SGX_SECINFO_REG | 7),
	      "parsed flags");
	free(flags);
}

static void test_flat_errors(void)
{
	uint8_t buf[4096 * 2 + 10];
	struct sgx_image img;
	err_t err = NULL;

	memset(buf, 0xaa, sizeof(buf));
	/* A partial last page is zero-padded. */
	CHECK(sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rw*2", 0, 1, &err) == 0, "%s",
	      err_msg(err));
	CHECK(img.npages == 3 && img.pages[2].data[9] == 0xaa && img.pages[2].data[10] == 0,
	      "padding");
	sgx_image_free(&img);
	CHECK(sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rw", 0, 1, &err) == -EINVAL,
	      "too few");
	err_free(&err);
	CHECK(sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rw*3", 0, 1, &err) == -EINVAL,
	      "too many");
	err_free(&err);
	CHECK(sgx_image_from_flat_mem(&img, buf, 0, "tcs", 0, 1, &err) == -EINVAL, "empty");
	err_free(&err);
	CHECK(sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rw*2", 8192, 1, &err) == -EINVAL,
	      "size below image");
	err_free(&err);
	CHECK(sgx_image_from_flat_mem(&img, buf, sizeof(buf), "tcs,rw*2", 20000, 1, &err) ==
		  -EINVAL,
	      "size not pow2");
	err_free(&err);
	CHECK(sgx_image_from_flat(&img, "/nonexistent/x", "tcs", 0, 1, &err) == -ENOENT, "missing");
	CHECK(strstr(err_msg(err), "/nonexistent/x") != NULL, "message names the file: %s",
	      err_msg(err));
	err_free(&err);
	CHECK(sgx_image_from_flat(&img, "/", "tcs", 0, 1, &err) < 0, "directory");
	err_free(&err);
}

/* A synthetic enclave ELF: TCS segment, text (RX), data (RW, with bss). */
struct elf_img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[4];
	uint8_t pad[4096 - sizeof(Elf64_Ehdr) - 4 * sizeof(Elf64_Phdr)];
	uint8_t tcs[4096];
	uint8_t text[4096];
	uint8_t data[100];
};

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
	e->eh.e_entry = 0x1010;
	e->eh.e_phoff = sizeof(Elf64_Ehdr);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = 4;
	e->ph[0] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_W, offsetof(struct elf_img, tcs), 0, 0, 4096,
				 4096,	  4096 };
	e->ph[1] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, offsetof(struct elf_img, text),
				 0x1000,  0x1000,      4096,
				 4096,	  4096 };
	e->ph[2] = (Elf64_Phdr){ PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16 };
	/* Data starts mid-page, runs 100 bytes from the file then bss up to 0x401c. */
	e->ph[3] =
	    (Elf64_Phdr){ PT_LOAD, PF_R | PF_W, offsetof(struct elf_img, data), 0x2010, 0x2010, 100,
			  8200,	   4096 };
	tcs.ossa = 0x3000;
	tcs.nssa = 2;
	tcs.oentry = 0x1010;
	memcpy(e->tcs, &tcs, sizeof(tcs));
	fill(e->text, sizeof(e->text), 3);
	memset(e->data, 0x5a, sizeof(e->data));
}

static void test_elf_layout(void)
{
	struct elf_img e;
	struct sgx_image img;
	uint8_t got[32], want[32];
	err_t err = NULL;

	make_elf(&e);
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), NULL, &err) == 0, "%s", err_msg(err));
	/* TCS, text, data's file page, its two bss pages as one run */
	if (img.npages != 4) {
		CHECK(0, "%zu entries, expected 4", img.npages);
		sgx_image_free(&img);
		return;
	}
	CHECK(img.entry == 0x1010 && img.size == 32768 && img.ssaframesize == 1, "entry/size");
	CHECK(img.pages[0].flags == SGX_SECINFO_TCS && img.pages[0].offset == 0, "TCS page");
	CHECK(img.pages[1].flags == (SGX_SECINFO_REG | 5) && img.pages[1].offset == 0x1000, "text");
	CHECK(img.pages[2].flags == (SGX_SECINFO_REG | 3) && img.pages[2].offset == 0x2000, "data");
	CHECK(img.pages[3].offset == 0x3000 && img.pages[3].count == 2 && !img.pages[3].data &&
		  img.pages[3].flags == (SGX_SECINFO_REG | 3),
	      "bss pages: one run of zero pages");
	CHECK(img.pages[2].data[0x0f] == 0 && img.pages[2].data[0x10] == 0x5a &&
		  img.pages[2].data[0x10 + 99] == 0x5a && img.pages[2].data[0x10 + 100] == 0,
	      "data placement and bss zeroing");
	CHECK(memcmp(img.pages[1].data, e.text, 4096) == 0, "text content");
	for (size_t i = 0; i < img.npages; i++)
		CHECK(img.pages[i].measured, "page %zu measured", i);
	sgx_image_measure(&img, got, &err);
	ref_mrenclave(&img, want);
	CHECK(memcmp(got, want, 32) == 0, "ELF MRENCLAVE vs reference");
	sgx_image_free(&img);

	/*
	 * SSA frames of 2 pages: the ELF's TCS (OSSA 0x3000, NSSA 2) would then
	 * reach 0x7000, over the extra TCS at 0x5000; EENTER would refuse it.
	 */
	struct sgx_layout_opts o = {
		.heap = 3 * 4096 - 100, .stack = 8192, .tcs = 2, .ssaframesize = 2
	};
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EINVAL &&
		  strstr(err_msg(err), "cover a TCS"),
	      "SSA frames over a TCS: %s", err_msg(err));
	err_free(&err);
	/* Layout options: 2 TCS in total, 3-page heap, 2-page stack. */
	o.ssaframesize = 1;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0, "%s", err_msg(err));
	/*
	 * 5 ELF pages in 4 entries, 1 extra TCS at 0x5000, then one run each:
	 * its SSA (nssa 2 x 1 page) at 0x6000, the heap (3 pages), the stack (2).
	 */
	CHECK(img.npages == 4 + 1 + 3 && sgx_image_total_pages(&img) == 5 + 1 + 2 + 3 + 2,
	      "%zu entries, %llu pages", img.npages,
	      (unsigned long long)sgx_image_total_pages(&img));
	if (img.npages == 8) {
		static const uint64_t run_off[3] = { 0x6000, 0x8000, 0xb000 },
				      run_n[3] = { 2, 3, 2 };
		struct sgx_tcs t;

		CHECK(img.pages[4].offset == 0x5000 && img.pages[4].flags == SGX_SECINFO_TCS &&
			  img.pages[4].measured && sgx_image_page_count(&img.pages[4]) == 1,
		      "extra TCS");
		memcpy(&t, img.pages[4].data, sizeof(t));
		CHECK(t.ossa == 0x6000 && t.nssa == 2 && t.oentry == 0x1010, "extra TCS fields");
		for (size_t i = 5; i < 8; i++)
			CHECK(img.pages[i].offset == run_off[i - 5] &&
				  img.pages[i].count == run_n[i - 5] &&
				  img.pages[i].flags == (SGX_SECINFO_REG | 3) &&
				  !img.pages[i].measured && img.pages[i].data == NULL,
			      "zero run %zu", i);
		CHECK(img.heap_offset == 0x8000, "heap at %#llx",
		      (unsigned long long)img.heap_offset);
		CHECK(img.size == 65536 && img.ssaframesize == 1, "size %llu",
		      (unsigned long long)img.size);
		uint8_t runs[32], pages[32];

		CHECK(sgx_image_measure(&img, runs, &err) == 0, "%s", err_msg(err));
		ref_mrenclave(&img, pages);
		CHECK(memcmp(runs, pages, 32) == 0,
		      "runs: MRENCLAVE vs the page-by-page reference");
	}
	sgx_image_free(&img);
	/* The heap's own SECINFO flags (the LibOS's RWX heap); a TCS heap is refused. */
	o.heap_flags = SGX_SECINFO_REG | 7;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0 && img.npages == 8 &&
		  img.pages[6].flags == (SGX_SECINFO_REG | 7) &&
		  img.pages[5].flags == (SGX_SECINFO_REG | 3) &&
		  img.pages[7].flags == (SGX_SECINFO_REG | 3),
	      "heap_flags RWX: only the heap run is RWX");
	sgx_image_free(&img);
	o.heap_flags = SGX_SECINFO_TCS;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EINVAL,
	      "TCS heap accepted");
	err_free(&err);
	o.heap_flags = SGX_SECINFO_REG | SGX_SECINFO_W;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EINVAL,
	      "W-only heap accepted");
	err_free(&err);
	o.heap_flags = 0;

	/* A TCS template without SSA frames gets one per extra TCS. */
	struct elf_img e3 = e;
	struct sgx_tcs t0;
	memcpy(&t0, e3.tcs, sizeof(t0));
	t0.nssa = 0;
	memcpy(e3.tcs, &t0, sizeof(t0));
	o = (struct sgx_layout_opts){ .tcs = 3 };
	CHECK(sgx_image_from_elf_mem(&img, &e3, sizeof(e3), &o, &err) == 0, "%s", err_msg(err));
	if (img.npages == 4 + 2 + 1) {
		memcpy(&t0, img.pages[5].data, sizeof(t0));
		CHECK(t0.nssa == 1 && t0.ossa == 0x8000 && img.pages[5].offset == 0x6000,
		      "second extra TCS: nssa %u ossa 0x%llx", t0.nssa,
		      (unsigned long long)t0.ossa);
	} else {
		CHECK(0, "%zu pages with 3 TCS", img.npages);
	}
	sgx_image_free(&img);
	o = (struct sgx_layout_opts){ .tcs = 1 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0, "--tcs 1 = the ELF's");
	sgx_image_free(&img);

	/* Linked elsewhere: offsets count from the first segment, so the same MRENCLAVE. */
	uint8_t moved[32];
	struct elf_img e2 = e;
	for (int i = 0; i < 4; i++)
		e2.ph[i].p_vaddr += 0x400000;
	e2.eh.e_entry += 0x400000;
	CHECK(sgx_image_from_elf_mem(&img, &e2, sizeof(e2), NULL, &err) == 0, "%s", err_msg(err));
	CHECK(img.entry == 0x1010 && img.pages[0].offset == 0, "rebased entry/offsets");
	sgx_image_measure(&img, moved, &err);
	CHECK(memcmp(moved, got, 32) == 0, "link address changes MRENCLAVE");
	sgx_image_free(&img);
	o = (struct sgx_layout_opts){ .size = 1 << 20 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == 0 && img.size == 1 << 20,
	      "explicit size");
	sgx_image_free(&img);
	o = (struct sgx_layout_opts){ .size = 16384 };
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) == -EINVAL, "size too small");
	err_free(&err);
}

/*
 * A run of pages measures exactly as its pages one by one (the EADD and
 * EEXTEND records in the same order), and is refused whole, leaving the
 * measurement as it was, when any page of it would be.
 */
static void test_runs(void)
{
	static uint8_t data[3 * 4096];
	uint8_t a[32], b[32];
	struct sgx_measure *m;
	err_t err = NULL;

	fill(data, sizeof(data), 5);
	for (int measured = 0; measured < 2; measured++) {
		for (int zero = 0; zero < 2; zero++) {
			const uint8_t *src = zero ? NULL : data;

			sgx_measure_new(&m, 1, 1 << 20, &err);
			for (int i = 0; i < 3; i++)
				sgx_measure_add_page(m, 0x5000 + i * 4096, SGX_SECINFO_REG | 7,
						     src ? src + i * 4096 : NULL, measured, &err);
			sgx_measure_finish(m, a);
			sgx_measure_new(&m, 1, 1 << 20, &err);
			CHECK(sgx_measure_add_pages(m, 0x5000, 3, SGX_SECINFO_REG | 7, src,
						    measured, &err) == 0,
			      "%s", err_msg(err));
			sgx_measure_finish(m, b);
			CHECK(memcmp(a, b, 32) == 0, "run of 3 (measured %d, zero %d) vs pages",
			      measured, zero);
		}
	}
	/* More pages than one batch of EADD records. */
	sgx_measure_new(&m, 1, 1 << 24, &err);
	for (uint64_t i = 0; i < 1000; i++)
		sgx_measure_add_page(m, 0x10000 + i * 4096, SGX_SECINFO_REG | 3, NULL, 0, &err);
	sgx_measure_finish(m, a);
	sgx_measure_new(&m, 1, 1 << 24, &err);
	sgx_measure_add_pages(m, 0x10000, 1000, SGX_SECINFO_REG | 3, NULL, 0, &err);
	sgx_measure_finish(m, b);
	CHECK(memcmp(a, b, 32) == 0, "run of 1000 zero pages vs pages");

	/* Refused whole: past the end, empty, unaligned, bad flags; nothing measured. */
	sgx_measure_new(&m, 1, 16384, &err);
	CHECK(sgx_measure_add_pages(m, 8192, 3, SGX_SECINFO_REG | 3, NULL, 0, &err) == -EINVAL,
	      "run past the enclave's end");
	err_free(&err);
	CHECK(sgx_measure_add_pages(m, 8192, UINT64_MAX / 4096 + 2, SGX_SECINFO_REG | 3, NULL, 0,
				    &err) == -EINVAL,
	      "huge run");
	err_free(&err);
	CHECK(sgx_measure_add_pages(m, 8192, 0, SGX_SECINFO_REG | 3, NULL, 0, &err) == -EINVAL,
	      "empty run");
	err_free(&err);
	CHECK(sgx_measure_add_pages(m, 100, 2, SGX_SECINFO_REG | 3, NULL, 0, &err) == -EINVAL,
	      "unaligned run");
	err_free(&err);
	CHECK(sgx_measure_add_pages(m, 0, 2, SGX_SECINFO_REG | 2, NULL, 0, &err) == -EINVAL,
	      "W without R");
	err_free(&err);
	sgx_measure_add_pages(m, 8192, 2, SGX_SECINFO_REG | 3, NULL, 0, &err);
	sgx_measure_finish(m, a);
	sgx_measure_new(&m, 1, 16384, &err);
	sgx_measure_add_pages(m, 8192, 2, SGX_SECINFO_REG | 3, NULL, 0, &err);
	sgx_measure_finish(m, b);
	CHECK(memcmp(a, b, 32) == 0, "a refused run left records behind");

	/* In an image: a run against its pages spelled out; a run may not overlap the next. */
	struct sgx_image_page run[3] = { { 0, SGX_SECINFO_TCS, 1, data, 0 },
					 { 4096, SGX_SECINFO_REG | 5, 1, data + 4096, 2 },
					 { 3 * 4096, SGX_SECINFO_REG | 7, 0, NULL, 5 } };
	struct sgx_image_page flat[8];
	struct sgx_image ri = { .size = 32768, .ssaframesize = 1, .npages = 3, .pages = run };
	struct sgx_image fi = { .size = 32768, .ssaframesize = 1, .npages = 8, .pages = flat };

	flat[0] = run[0];
	for (int i = 0; i < 2; i++)
		flat[1 + i] = (struct sgx_image_page){ 4096 * (1 + i), SGX_SECINFO_REG | 5, 1,
						       data + 4096 * (1 + i) };
	for (int i = 0; i < 5; i++)
		flat[3 + i] =
		    (struct sgx_image_page){ 4096 * (3 + i), SGX_SECINFO_REG | 7, 0, NULL };
	CHECK(sgx_image_measure(&ri, a, &err) == 0 && sgx_image_measure(&fi, b, &err) == 0 &&
		  memcmp(a, b, 32) == 0,
	      "image of runs vs the same pages one by one: %s", err_msg(err));
	CHECK(sgx_image_total_pages(&ri) == 8, "total pages");
	run[2].offset = 2 * 4096;
	CHECK(sgx_image_measure(&ri, a, &err) == -EINVAL, "run overlapping the previous one");
	err_free(&err);
	run[2].offset = 3 * 4096;
	run[2].count = 6;
	CHECK(sgx_image_measure(&ri, a, &err) == -EINVAL, "run past the enclave");
	err_free(&err);
}

static void expect_bad_elf(const struct elf_img *e, size_t len, const char *what)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret = sgx_image_from_elf_mem(&img, e, len, NULL, &err);

	CHECK(ret < 0 && err != NULL && img.pages == NULL, "%s accepted", what);
	err_free(&err);
}

static void test_elf_malformed(void)
{
	struct elf_img e;

	make_elf(&e);
	/* Every truncation is refused cleanly. */
	for (size_t len = 0; len < offsetof(struct elf_img, data) + 100; len += len < 300 ? 1 : 97)
		expect_bad_elf(&e, len, "truncated ELF");

	make_elf(&e);
	e.eh.e_ident[EI_CLASS] = ELFCLASS32;
	expect_bad_elf(&e, sizeof(e), "32-bit");
	make_elf(&e);
	e.eh.e_machine = EM_386;
	expect_bad_elf(&e, sizeof(e), "i386");
	make_elf(&e);
	e.eh.e_type = ET_REL;
	expect_bad_elf(&e, sizeof(e), "relocatable");
	make_elf(&e);
	e.eh.e_phoff = ~0ULL - 10;
	expect_bad_elf(&e, sizeof(e), "phoff overflow");
	make_elf(&e);
	e.eh.e_phnum = 0xffff;
	expect_bad_elf(&e, sizeof(e), "PN_XNUM");
	make_elf(&e);
	e.eh.e_phentsize = 32;
	expect_bad_elf(&e, sizeof(e), "phentsize");
	make_elf(&e);
	e.ph[1].p_offset = ~0ULL - 100;
	expect_bad_elf(&e, sizeof(e), "segment offset overflow");
	make_elf(&e);
	e.ph[1].p_filesz = 8192;
	expect_bad_elf(&e, sizeof(e), "filesz > memsz");
	make_elf(&e);
	e.ph[1].p_vaddr = ~0ULL - 100;
	expect_bad_elf(&e, sizeof(e), "vaddr overflow");
	make_elf(&e);
	e.ph[3].p_vaddr = 0x1800;
	expect_bad_elf(&e, sizeof(e), "overlapping segments");
	make_elf(&e);
	e.ph[1].p_flags = PF_W;
	expect_bad_elf(&e, sizeof(e), "write-only segment");
	make_elf(&e);
	e.ph[2].p_type = PT_INTERP;
	expect_bad_elf(&e, sizeof(e), "interpreter");
	make_elf(&e);
	e.ph[1].p_type = PT_NULL;
	e.ph[3].p_type = PT_NULL;
	expect_bad_elf(&e, sizeof(e), "TCS only");
	make_elf(&e);
	e.eh.e_entry = 0x100000;
	expect_bad_elf(&e, sizeof(e), "entry outside");
	make_elf(&e);
	struct sgx_layout_opts o = { .heap = 1ULL << 40 };
	struct sgx_image img;
	err_t err = NULL;
	CHECK(sgx_image_from_elf_mem(&img, &e, sizeof(e), &o, &err) < 0, "huge heap accepted");
	err_free(&err);
}

static void test_dates(void)
{
	uint32_t d;
	err_t err = NULL;

	CHECK(sgx_parse_date("20261129", &d, &err) == 0 && d == 0x20261129, "date");
	CHECK(sgx_parse_date("0", &d, &err) == 0 && d == 0, "date 0");
	CHECK(sgx_bcd_date(0) == 0x19700101, "epoch");
	CHECK(sgx_bcd_date(951782400) == 0x20000229, "leap day");
	static const char *bad[] = { "2026113",	 "202611290", "20261301", "20260132",
				     "2026-1-1", "",	      "00000000" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(sgx_parse_date(bad[i], &d, &err) == -EINVAL, "'%s' accepted", bad[i]);
		err_free(&err);
	}
}

static void test_sigstruct_parse(void)
{
	struct sgx_sigstruct ss;
	uint8_t buf[2000] = { 0 };
	err_t err = NULL;

	for (size_t len = 0; len < sizeof(buf); len += 13) {
		int ret = sgx_sigstruct_parse(&ss, buf, len, &err);

		CHECK((ret == 0) == (len == SGX_SIGSTRUCT_SIZE), "length %zu", len);
		err_free(&err);
	}
	CHECK(sgx_sigstruct_parse(&ss, buf, SGX_SIGSTRUCT_SIZE, &err) == 0, "exact size");
	CHECK(sgx_sigstruct_check(&ss, &err) == -EINVAL, "zero SIGSTRUCT");
	err_free(&err);
	/* Headers right but no key: refused as a bad signature, not a crash. */
	struct sgx_sign_opts o;
	uint8_t h[32] = { 0 };
	sgx_sign_opts_default(&o);
	sgx_sigstruct_init(&ss, &o, h);
	CHECK(sgx_sigstruct_check(&ss, &err) == -EBADMSG, "unsigned: %s", err_msg(err));
	err_free(&err);
	CHECK(sgx_einit_check(&ss, h, 4, 3, 0, &err) == SGX_INVALID_SIGNATURE, "unsigned EINIT");
	err_free(&err);
	CHECK(sgx_sigstruct_load(&ss, "/nonexistent", &err) == -ENOENT, "missing file");
	err_free(&err);
}

int main(void)
{
	TAP_RUN(test_page_types);
	TAP_RUN(test_unmeasured_and_zero);
	TAP_RUN(test_measure_errors);
	TAP_RUN(test_page_spec);
	TAP_RUN(test_flat_errors);
	TAP_RUN(test_elf_layout);
	TAP_RUN(test_runs);
	TAP_RUN(test_elf_malformed);
	TAP_RUN(test_dates);
	TAP_RUN(test_sigstruct_parse);
	return tap_exit();
}
