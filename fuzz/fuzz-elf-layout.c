/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: ELF enclave layouts, checked against the invariants an
 * image must keep before sgx-tools measures and signs it or the loader adds
 * it: the ELRANGE is a power of two within max_enclave_size; pages are
 * page aligned, strictly ascending (no overlap) and inside the ELRANGE;
 * there are as many TCS pages as asked; every TCS's SSA frames are aligned,
 * inside the enclave and clear of every TCS page; the entry point is inside.
 *
 * Input: a raw ELF (starting with \x7fELF, default layout options), or a
 * description the target turns into an ELF, so that the fuzzer explores
 * layouts rather than ELF header parsing (fuzz-image does that):
 *   u16 heap pages, u8 stack pages, u16 TCS wanted, u8 SSAFRAMESIZE,
 *   u8 cap selector (0: the default, else 2^(12 + n % 26) bytes),
 *   u64 TCS.OSSA, u32 TCS.NSSA, u64 e_entry, u8 segment count (1-6), then
 *   per segment: u64 p_vaddr, u64 p_memsz, u16 p_filesz, u8 p_flags.
 */
#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/image.h"

#define MAX_SEGS 6

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct reader *r, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes; i++) {
		v |= (uint64_t)(r->n ? *r->p : 0) << (8 * i);
		if (r->n) {
			r->p++;
			r->n--;
		}
	}
	return v;
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: %s\n", #cond);                          \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Is any of the n ascending offsets in [from, to)? */
static int any_in(const uint64_t *offs, size_t n, uint64_t from, uint64_t to)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (offs[mid] < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && offs[lo] < to;
}

static void check_image(const struct sgx_image *img, const struct sgx_layout_opts *o)
{
	uint64_t cap = o->max_enclave_size ? o->max_enclave_size : SGX_MAX_ENCLAVE_SIZE_DEFAULT;
	uint32_t fsz = img->ssaframesize;
	uint64_t *tcs_offs;
	size_t ntcs = 0;
	uint64_t next = 0;

	if (cap > SGX_IMAGE_MAX_SIZE)
		cap = SGX_IMAGE_MAX_SIZE;
	CHECK(img->size >= 4096 && (img->size & (img->size - 1)) == 0 && img->size <= cap);
	CHECK(img->npages > 0 && img->entry < img->size);
	CHECK(fsz >= 1);
	tcs_offs = calloc(img->npages, sizeof(*tcs_offs));
	CHECK(tcs_offs != NULL);
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *p = &img->pages[i];
		uint64_t n = sgx_image_page_count(p);

		/*
		 * A run: whole pages inside the enclave, after the previous entry;
		 * one with data is a segment's file pages, measured.
		 */
		CHECK(p->offset % 4096 == 0 && p->offset < img->size);
		CHECK(n <= (img->size - p->offset) / 4096);
		CHECK(n == 1 || p->data == NULL || p->measured);
		CHECK(i == 0 || p->offset >= next);
		next = p->offset + n * 4096;
		if (p->flags == SGX_SECINFO_TCS) {
			CHECK(n == 1);
			tcs_offs[ntcs++] = p->offset;
		}
	}
	CHECK(ntcs >= 1);
	CHECK(!o->tcs || ntcs == o->tcs);
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *p = &img->pages[i];
		struct sgx_tcs t;
		uint64_t end;

		if (p->flags != SGX_SECINFO_TCS || !p->data)
			continue;
		memcpy(&t, p->data, sizeof(t));
		if (!t.nssa)
			continue;
		CHECK(t.ossa % 4096 == 0);
		CHECK(!__builtin_add_overflow(t.ossa, (uint64_t)t.nssa * fsz * 4096, &end));
		CHECK(end <= img->size);
		CHECK(!any_in(tcs_offs, ntcs, t.ossa, end));
	}
	free(tcs_offs);
}

static void run(const void *elf, size_t len, const struct sgx_layout_opts *o)
{
	struct sgx_image img;
	err_t err = NULL;
	uint8_t h[32];

	if (sgx_image_from_elf_mem(&img, elf, len, o, &err) == 0) {
		check_image(&img, o);
		/* Huge zero-filled layouts are legal but slow: measure small ones only. */
		if (sgx_image_total_pages(&img) <= 1024)
			CHECK(sgx_image_measure(&img, h, &err) == 0);
		sgx_image_free(&img);
	}
	err_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	struct sgx_layout_opts o = { 0 };
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[MAX_SEGS];
		uint8_t file[MAX_SEGS][4096];
	} * e;
	unsigned nsegs, cap;
	struct sgx_tcs tcs = { 0 };

	if (size >= 4 && memcmp(data,
				"\x7f"
				"ELF",
				4) == 0) {
		run(data, size, &o);
		return 0;
	}
	o.heap = take(&r, 2) * 4096;
	o.stack = take(&r, 1) * 4096;
	o.tcs = (unsigned)take(&r, 2);
	o.ssaframesize = (uint32_t)take(&r, 1);
	cap = (unsigned)take(&r, 1);
	o.max_enclave_size = cap ? 1ULL << (12 + cap % 26) : 0;
	tcs.ossa = take(&r, 8);
	tcs.nssa = (uint32_t)take(&r, 4);
	e = calloc(1, sizeof(*e));
	if (!e)
		return 0;
	e->eh.e_entry = take(&r, 8);
	nsegs = 1 + (unsigned)take(&r, 1) % MAX_SEGS;
	memcpy(e->eh.e_ident, ELFMAG, SELFMAG);
	e->eh.e_ident[EI_CLASS] = ELFCLASS64;
	e->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	e->eh.e_ident[EI_VERSION] = EV_CURRENT;
	e->eh.e_type = ET_DYN;
	e->eh.e_machine = EM_X86_64;
	e->eh.e_version = EV_CURRENT;
	e->eh.e_phoff = offsetof(__typeof__(*e), ph);
	e->eh.e_ehsize = sizeof(Elf64_Ehdr);
	e->eh.e_phentsize = sizeof(Elf64_Phdr);
	e->eh.e_phnum = (uint16_t)nsegs;
	for (unsigned i = 0; i < nsegs; i++) {
		Elf64_Phdr *ph = &e->ph[i];

		ph->p_type = PT_LOAD;
		ph->p_vaddr = take(&r, 8);
		ph->p_memsz = take(&r, 8);
		ph->p_filesz = take(&r, 2) % 4097;
		ph->p_flags = (uint32_t)take(&r, 1) & 7;
		ph->p_offset = offsetof(__typeof__(*e), file) + (uint64_t)i * 4096;
		ph->p_align = 4096;
	}
	tcs.oentry = e->eh.e_entry;
	memcpy(e->file[0], &tcs, sizeof(tcs));
	run(e, sizeof(*e), &o);
	free(e);
	return 0;
}
