/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ELF enclaves, laid out as the Linux kernel's SGX selftest loads its test
 * enclave: PT_LOAD segments at p_vaddr from the enclave base, the first
 * segment being the TCS page(s). See include/sgx/image.h for what follows.
 */
#include "sgx/image.h"
#include "sgx/measure.h"
#include "libsgx/fileio.h"
#include "libsgx/image_internal.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define PAGE_MASK (~(SGX_PAGE_SIZE - 1))
#define MAX_SEGS  64
#define RW_FLAGS  (SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W)

struct seg {
	uint64_t start, end; /* page-aligned enclave offsets */
	uint64_t data_end;   /* end of the pages holding file bytes */
	uint64_t vaddr, filesz, offset;
	uint64_t flags;
};

static uint64_t round_up(uint64_t v)
{
	return (v + SGX_PAGE_SIZE - 1) & PAGE_MASK;
}

static uint64_t perm_flags(uint32_t p_flags)
{
	return ((p_flags & PF_R) ? SGX_SECINFO_R : 0) | ((p_flags & PF_W) ? SGX_SECINFO_W : 0) |
	       ((p_flags & PF_X) ? SGX_SECINFO_X : 0);
}

static int parse_header(const uint8_t *buf, size_t len, Elf64_Ehdr *eh, err_t *err)
{
	if (len < sizeof(*eh))
		return err_set(err, EINVAL, "ELF: truncated header (%zu bytes)", len);
	memcpy(eh, buf, sizeof(*eh));
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return err_set(err, EINVAL, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set(err, EINVAL, "ELF: not a 64-bit little-endian object");
	if (eh->e_machine != EM_X86_64)
		return err_set(err, EINVAL, "ELF: machine %u is not x86-64", eh->e_machine);
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return err_set(err, EINVAL, "ELF: type %u is neither executable nor shared object",
			       eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return err_set(err, EINVAL, "ELF: program header size %u", eh->e_phentsize);
	if (eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
		return err_set(err, EINVAL, "ELF: %u program headers", eh->e_phnum);
	if (eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return err_set(err, EINVAL, "ELF: program headers beyond the end of the file");
	return 0;
}

/* Reads the PT_LOAD segments, validated against the file and each other. */
static int parse_segments(const uint8_t *buf, size_t len, const Elf64_Ehdr *eh, struct seg *segs,
			  size_t *nsegs, uint64_t *base_out, err_t *err)
{
	size_t n = 0;

	for (unsigned i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		struct seg *s;

		memcpy(&ph, buf + eh->e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP)
			return err_set(err, EINVAL, "ELF: has an interpreter, not an enclave");
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (n == MAX_SEGS)
			return err_set(err, EINVAL, "ELF: more than %d loadable segments",
				       MAX_SEGS);
		if (ph.p_filesz > ph.p_memsz)
			return err_set(err, EINVAL, "ELF: segment %u: file size above memory size",
				       i);
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return err_set(err, EINVAL, "ELF: segment %u: beyond the end of the file",
				       i);
		if (ph.p_vaddr >= SGX_IMAGE_MAX_SIZE ||
		    ph.p_memsz > SGX_IMAGE_MAX_SIZE - ph.p_vaddr)
			return err_set(
			    err, EINVAL, "ELF: segment %u: address 0x%llx+0x%llx too large", i,
			    (unsigned long long)ph.p_vaddr, (unsigned long long)ph.p_memsz);
		s = &segs[n];
		s->start = ph.p_vaddr & PAGE_MASK;
		s->end = round_up(ph.p_vaddr + ph.p_memsz);
		s->vaddr = ph.p_vaddr;
		s->filesz = ph.p_filesz;
		s->offset = ph.p_offset;
		if (n == 0) {
			s->flags = SGX_SECINFO_TCS;
		} else {
			s->flags = SGX_SECINFO_REG | perm_flags(ph.p_flags);
			if (sgx_secinfo_check(s->flags, err) < 0)
				return err_wrap(err, "ELF: segment %u", i);
		}
		if (n > 0 && s->start < segs[n - 1].end)
			return err_set(err, EINVAL,
				       "ELF: segment %u overlaps or precedes the previous page", i);
		n++;
	}
	if (n < 2)
		return err_set(err, EINVAL,
			       "ELF: needs a TCS segment and at least one code segment (%zu)", n);
	/* Offsets count from the first segment's page: the link address does not matter. */
	uint64_t base = segs[0].start;
	for (size_t i = 0; i < n; i++) {
		segs[i].start -= base;
		segs[i].end -= base;
		segs[i].vaddr -= base;
	}
	*base_out = base;
	*nsegs = n;
	return 0;
}

struct layout {
	uint64_t segs_end, end;
	size_t npages;
	uint64_t extra_tcs;
	uint32_t nssa;	    /* SSA frames per extra TCS */
	uint64_t ssa_pages; /* per extra TCS */
	uint64_t tcs_end, ssa_end, heap_end;
};

static uint64_t max_size(const struct sgx_layout_opts *o)
{
	uint64_t cap = sgx_max_enclave_size(o->max_enclave_size);

	return cap < SGX_IMAGE_MAX_SIZE ? cap : SGX_IMAGE_MAX_SIZE;
}

static int too_big(uint64_t size, uint64_t cap, err_t *err)
{
	if (size == UINT64_MAX)
		return err_set(err, EFBIG,
			       "layout: the enclave would exceed the maximum enclave size of %llu "
			       "bytes (max_enclave_size)",
			       (unsigned long long)cap);
	return err_set(err, EFBIG,
		       "layout: an enclave of at least %llu bytes exceeds the maximum enclave size "
		       "of %llu bytes (max_enclave_size)",
		       (unsigned long long)size, (unsigned long long)cap);
}

/* *acc += n * unit, refused past cap (and never wrapping). */
static int grow(uint64_t *acc, uint64_t n, uint64_t unit, uint64_t cap, err_t *err)
{
	uint64_t bytes;

	if (__builtin_mul_overflow(n, unit, &bytes) || __builtin_add_overflow(*acc, bytes, acc))
		return too_big(UINT64_MAX, cap, err);
	if (*acc > cap)
		return too_big(*acc, cap, err);
	return 0;
}

static int plan(const struct seg *segs, size_t nsegs, const struct sgx_layout_opts *o,
		uint32_t ssaframesize, const uint8_t *tcs0, struct layout *l, err_t *err)
{
	uint64_t elf_tcs = (segs[0].end - segs[0].start) / SGX_PAGE_SIZE;
	uint64_t cap = max_size(o), pages = 0;
	uint32_t tcs_nssa;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < nsegs; i++)
		pages += (segs[i].end - segs[i].start) / SGX_PAGE_SIZE;
	l->segs_end = segs[nsegs - 1].end;
	if (l->segs_end > cap)
		return err_set(err, EFBIG,
			       "ELF: segments span %llu bytes, more than the maximum enclave size "
			       "of %llu bytes (max_enclave_size)",
			       (unsigned long long)l->segs_end, (unsigned long long)cap);
	if (o->tcs && o->tcs < elf_tcs)
		return err_set(err, EINVAL,
			       "layout: the ELF has %llu TCS pages, more than --tcs %u",
			       (unsigned long long)elf_tcs, o->tcs);
	if (o->tcs > elf_tcs)
		l->extra_tcs = o->tcs - elf_tcs;
	memcpy(&tcs_nssa, tcs0 + offsetof(struct sgx_tcs, nssa), sizeof(tcs_nssa));
	l->nssa = tcs_nssa ? tcs_nssa : 1;
	l->ssa_pages = l->nssa * (uint64_t)ssaframesize;
	/* Every step checked: huge TCS/SSA counts must not wrap into a small layout. */
	l->tcs_end = l->segs_end;
	if (grow(&l->tcs_end, l->extra_tcs, SGX_PAGE_SIZE, cap, err) < 0)
		return -EFBIG;
	l->ssa_end = l->tcs_end;
	if (l->extra_tcs && l->ssa_pages > cap / SGX_PAGE_SIZE)
		return too_big(UINT64_MAX, cap, err);
	if (grow(&l->ssa_end, l->extra_tcs, l->ssa_pages * SGX_PAGE_SIZE, cap, err) < 0)
		return -EFBIG;
	if (o->heap > cap || o->stack > cap)
		return too_big(o->heap > o->stack ? o->heap : o->stack, cap, err);
	l->heap_end = l->ssa_end;
	if (grow(&l->heap_end, 1, round_up(o->heap), cap, err) < 0)
		return -EFBIG;
	l->end = l->heap_end;
	if (grow(&l->end, 1, round_up(o->stack), cap, err) < 0)
		return -EFBIG;
	/* Segment pages and TCS one entry each; SSA, heap and stack one run each. */
	l->npages = (size_t)(pages + l->extra_tcs + 3);
	return 0;
}

/*
 * Each TCS's SSA frames, [OSSA, OSSA + NSSA * SSAFRAMESIZE pages), must be
 * page aligned, inside the enclave and clear of every TCS page: EENTER
 * refuses anything else, so an image that signs such a TCS is broken. The
 * TCS pages are [tcs_elf_start, tcs_elf_end) (the ELF's) and [tcs_from, tcs_end).
 */
static int check_tcs_ssa(const struct sgx_image_page *pages, size_t npages, uint64_t size,
			 uint32_t ssaframesize, uint64_t tcs_elf_start, uint64_t tcs_elf_end,
			 uint64_t tcs_from, uint64_t tcs_end, err_t *err)
{
	for (size_t i = 0; i < npages; i++) {
		struct sgx_tcs tcs;
		uint64_t len, end;

		if (pages[i].flags != SGX_SECINFO_TCS || pages[i].data == NULL)
			continue;
		memcpy(&tcs, pages[i].data, sizeof(tcs));
		if (tcs.nssa == 0)
			continue;
		len = (uint64_t)tcs.nssa * ssaframesize * SGX_PAGE_SIZE;
		if (tcs.ossa % SGX_PAGE_SIZE || __builtin_add_overflow(tcs.ossa, len, &end) ||
		    end > size)
			return err_set(
			    err, EINVAL,
			    "TCS at 0x%llx: SSA frames at 0x%llx (%u of %u pages) outside "
			    "the enclave of 0x%llx bytes",
			    (unsigned long long)pages[i].offset, (unsigned long long)tcs.ossa,
			    tcs.nssa, ssaframesize, (unsigned long long)size);
		if ((tcs.ossa < tcs_elf_end && tcs_elf_start < end) ||
		    (tcs.ossa < tcs_end && tcs_from < end))
			return err_set(err, EINVAL,
				       "TCS at 0x%llx: its SSA frames [0x%llx, 0x%llx) cover a TCS",
				       (unsigned long long)pages[i].offset,
				       (unsigned long long)tcs.ossa, (unsigned long long)end);
	}
	return 0;
}

/* A TCS of an ELF placed at enclave offset off: its offsets move by off. */
static void relocate_tcs(uint8_t *page, uint64_t off)
{
	struct sgx_tcs tcs;

	memcpy(&tcs, page, sizeof(tcs));
	tcs.ossa += off;
	tcs.oentry += off;
	tcs.ofsbase += off;
	tcs.ogsbase += off;
	memcpy(page, &tcs, sizeof(tcs));
}

/* [from, to) as one run of unmeasured zero pages (none if empty). */
static void add_zero_run(struct sgx_image_page *pages, size_t *k, uint64_t from, uint64_t to,
			 uint64_t flags)
{
	if (to > from)
		pages[(*k)++] = (struct sgx_image_page){ .offset = from,
							 .flags = flags,
							 .measured = 0,
							 .data = NULL,
							 .count = (to - from) / SGX_PAGE_SIZE };
}

int sgx_image_from_elf_mem(struct sgx_image *img, const void *file, size_t len,
			   const struct sgx_layout_opts *opts, err_t *err)
{
	static const struct sgx_layout_opts none = { 0 };
	_cleanup_free_ struct sgx_image_page *pages = NULL;
	_cleanup_free_ uint8_t *data = NULL;
	const uint8_t *buf = file;
	struct seg segs[MAX_SEGS];
	uint32_t ssaframesize;
	struct layout l;
	size_t nsegs = 0, k = 0;
	uint8_t *d;
	uint64_t size, base = 0, off, heap_flags;
	Elf64_Ehdr eh;
	int ret;

	memset(img, 0, sizeof(*img));
	if (opts == NULL)
		opts = &none;
	ssaframesize = opts->ssaframesize ? opts->ssaframesize : 1;
	if (ssaframesize > 1024)
		return err_set(err, EINVAL, "SSA frame size %u pages is too large", ssaframesize);
	heap_flags = opts->heap_flags ? opts->heap_flags : RW_FLAGS;
	if ((heap_flags & SGX_SECINFO_PT_MASK) != SGX_SECINFO_REG)
		return err_set(err, EINVAL, "layout: heap SECINFO flags %#llx: not a REG page",
			       (unsigned long long)heap_flags);
	if (sgx_secinfo_check(heap_flags, err) < 0)
		return err_wrap(err, "layout: heap");
	ret = parse_header(buf, len, &eh, err);
	if (ret < 0)
		return ret;
	ret = parse_segments(buf, len, &eh, segs, &nsegs, &base, err);
	if (ret < 0)
		return ret;
	off = opts->offset;
	if (off % SGX_PAGE_SIZE || off > max_size(opts))
		return err_set(err, EINVAL,
			       "layout: ELF offset %#llx not page aligned or too large",
			       (unsigned long long)off);
	for (size_t i = 0; i < nsegs; i++) {
		segs[i].start += off;
		segs[i].end += off;
		segs[i].vaddr += off;
	}

	/*
	 * Only pages holding file bytes get a buffer: bss beyond is zero
	 * pages, so a tiny ELF cannot make us allocate its whole p_memsz. One
	 * spare page: the TCS template when the TCS segment is all bss.
	 */
	size_t file_pages = 0;
	for (size_t i = 0; i < nsegs; i++) {
		segs[i].data_end =
		    segs[i].filesz ? round_up(segs[i].vaddr + segs[i].filesz) : segs[i].start;
		file_pages += (segs[i].data_end - segs[i].start) / SGX_PAGE_SIZE;
	}
	data = calloc(file_pages + 1, SGX_PAGE_SIZE);
	if (data == NULL)
		return err_sys(err, ENOMEM, "ELF: %zu pages", file_pages);
	d = data;
	for (size_t i = 0; i < nsegs; i++) {
		memcpy(d + (segs[i].vaddr - segs[i].start), buf + segs[i].offset, segs[i].filesz);
		d += segs[i].data_end - segs[i].start;
	}
	/* The TCS offsets were linked for offset 0: they move with the ELF. */
	for (uint64_t p = 0; off && p < segs[0].data_end - segs[0].start; p += SGX_PAGE_SIZE)
		relocate_tcs(data + p, off);
#define TCS0 (segs[0].filesz ? data : data + file_pages * SGX_PAGE_SIZE)

	ret = plan(segs, nsegs, opts, ssaframesize, TCS0, &l, err);
	if (ret < 0)
		return ret;
	size = opts->size;
	ret = sgx_image_check_size(&size, l.end, err);
	if (ret < 0)
		return ret;
	if (size > max_size(opts))
		return err_set(err, EFBIG,
			       "enclave size %llu bytes exceeds the maximum enclave size of %llu "
			       "bytes (max_enclave_size)",
			       (unsigned long long)size, (unsigned long long)max_size(opts));
	if (eh.e_entry < base || eh.e_entry - base + off >= segs[nsegs - 1].end)
		return err_set(err, EINVAL, "ELF: entry point 0x%llx outside the image",
			       (unsigned long long)eh.e_entry);
	if (l.extra_tcs) {
		uint8_t *grown = realloc(data, (file_pages + 1 + l.extra_tcs) * SGX_PAGE_SIZE);

		if (grown == NULL)
			return err_sys(err, ENOMEM, "ELF: TCS pages");
		data = grown;
	}
	pages = calloc(l.npages, sizeof(*pages));
	if (pages == NULL)
		return err_sys(err, ENOMEM, "ELF: %zu pages", l.npages);

	/*
	 * A TCS segment page by page; any other segment as a run of its file
	 * pages and a run of its zero pages (measured the same, page by page:
	 * a backend maps a run at once).
	 */
	d = data;
	for (size_t i = 0; i < nsegs; i++) {
		int tcs = (segs[i].flags & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS;

		for (uint64_t off = segs[i].start; off < segs[i].end;) {
			uint64_t stop = off < segs[i].data_end ? segs[i].data_end : segs[i].end;
			uint64_t n = tcs ? 1 : (stop - off) / SGX_PAGE_SIZE;

			pages[k++] = (struct sgx_image_page){
				.offset = off,
				.flags = segs[i].flags,
				.measured = 1,
				.data = off < segs[i].data_end ? d + (off - segs[i].start) : NULL,
				.count = n
			};
			off += n * SGX_PAGE_SIZE;
		}
		d += segs[i].data_end - segs[i].start;
	}
	/* Each extra TCS: the first TCS with its own SSA frames. */
	d = data + (file_pages + 1) * SGX_PAGE_SIZE;
	for (uint64_t t = 0; t < l.extra_tcs; t++) {
		struct sgx_tcs tcs;

		memcpy(&tcs, TCS0, sizeof(tcs));
		tcs.ossa = l.tcs_end + (uint64_t)t * l.ssa_pages * SGX_PAGE_SIZE;
		tcs.cssa = 0;
		tcs.nssa = l.nssa;
		memcpy(d, &tcs, sizeof(tcs));
		pages[k++] =
		    (struct sgx_image_page){ .offset = l.segs_end + (uint64_t)t * SGX_PAGE_SIZE,
					     .flags = SGX_SECINFO_TCS,
					     .measured = 1,
					     .data = d };
		d += SGX_PAGE_SIZE;
	}
#undef TCS0
	add_zero_run(pages, &k, l.tcs_end, l.ssa_end, RW_FLAGS);
	add_zero_run(pages, &k, l.ssa_end, l.heap_end, heap_flags);
	add_zero_run(pages, &k, l.heap_end, l.end, RW_FLAGS);
	ret = check_tcs_ssa(pages, k, size, ssaframesize, segs[0].start, segs[0].end, l.segs_end,
			    l.tcs_end, err);
	if (ret < 0)
		return ret;

	img->size = size;
	img->ssaframesize = ssaframesize;
	img->npages = k;
	img->entry = eh.e_entry - base + off;
	img->heap_offset = l.heap_end > l.ssa_end ? l.ssa_end : 0;
	img->pages = steal_ptr(pages);
	img->priv = steal_ptr(data);
	return 0;
}

int sgx_image_from_elf(struct sgx_image *img, const char *path, const struct sgx_layout_opts *opts,
		       err_t *err)
{
	_cleanup_free_ void *buf = NULL;
	size_t len;
	int ret;

	memset(img, 0, sizeof(*img));
	ret = sgx_read_image_file(path, max_size(opts ? opts : &(struct sgx_layout_opts){ 0 }),
				  &buf, &len, err);
	if (ret < 0)
		return ret;
	ret = sgx_image_from_elf_mem(img, buf, len, opts, err);
	if (ret < 0)
		return err_wrap(err, "%s", path);
	return 0;
}
