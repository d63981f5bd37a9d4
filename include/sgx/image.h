/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An enclave image ready to measure or load: the pages to EADD, in
 * ascending offset order, with their SECINFO flags and whether EEXTEND
 * measures them. Built from an ELF enclave or from a flat image plus a page
 * spec ("tcs,rwx*5"). An entry may stand for a run of consecutive pages
 * with the same SECINFO and measure flag (count): a heap of a million zero
 * pages is one entry, EADDed in one go by the loader's backends. The EADD
 * sequence, and so MRENCLAVE, is the same as page by page.
 *
 * ELF layout (as the Linux kernel's SGX selftest enclave): every PT_LOAD
 * segment, at its p_vaddr relative to the first segment's page (the
 * enclave base; enclaves are linked at 0), becomes measured pages
 * with its p_flags permissions; the first PT_LOAD segment holds the TCS
 * page(s). Then, each page aligned and in this order: extra TCS pages
 * (copies of the first TCS, measured, each with its own SSA frames), their
 * SSA pages, the heap, the stack: one run each. SSA, heap and stack pages
 * are REG zero pages (RW; the heap's flags may be set) EADDed without
 * EEXTEND (unmeasured, as the kernel selftest's heap): the enclave must not
 * trust their initial content. The layout is refused
 * (-EFBIG) when it would exceed max_enclave_size, and (-EINVAL) when a TCS's
 * SSA frames (OSSA, NSSA frames of SSAFRAMESIZE pages) are not page aligned,
 * leave the enclave or cover a TCS page.
 */
#ifndef SGX_IMAGE_H
#define SGX_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One page, or a run of count pages from offset alike in flags and measured. */
struct sgx_image_page {
	uint64_t offset; /* from the enclave base */
	uint64_t flags;	 /* SECINFO flags */
	int measured;
	const uint8_t *data; /* count * SGX_PAGE_SIZE bytes; NULL = zero pages */
	uint64_t count;	     /* pages; 0 means 1 */
};

static inline uint64_t sgx_image_page_count(const struct sgx_image_page *p)
{
	return p->count ? p->count : 1;
}

struct sgx_image {
	uint64_t size;		      /* ELRANGE size, power of two */
	uint32_t ssaframesize;	      /* in pages */
	size_t npages;		      /* entries in pages[], each one page or a run */
	struct sgx_image_page *pages; /* ascending offsets; TCS pages first for ELF */
	uint64_t entry;		      /* ELF e_entry as an offset from the base, or 0 */
	uint64_t heap_offset;	      /* ELF layouts with a heap: its first page, else 0 */
	void *priv;		      /* owner's buffers */
};

struct sgx_layout_opts {
	uint64_t heap;	       /* bytes, rounded up to pages; 0 = none */
	uint64_t heap_flags;   /* SECINFO flags of the heap pages; 0 = REG RW */
	uint64_t stack;	       /* bytes, rounded up to pages; 0 = none */
	unsigned tcs;	       /* total TCS wanted; 0 = those of the ELF */
	uint64_t size;	       /* ELRANGE; 0 = next power of two of the layout */
	uint32_t ssaframesize; /* 0 = 1 */
	/*
	 * Enclave offset of the ELF's first page (page aligned; 0 = the
	 * base): the pages below stay out of the image. The ELF's TCS offsets
	 * (OSSA, OENTRY, OFSBASE, OGSBASE) move with it.
	 */
	uint64_t offset;
	/*
	 * Cap on the enclave (its layout and ELRANGE) an image may ask for;
	 * 0 = sgx_max_enclave_size(0).
	 */
	uint64_t max_enclave_size;
};

/* Default cap on enclaves built from images: enough for a Go program in the LibOS. */
#define SGX_MAX_ENCLAVE_SIZE_DEFAULT (8ULL << 30)
/*
 * The cap in force: asked if non-zero, else $SGX_MAX_ENCLAVE_SIZE (bytes; rune
 * sets it in init-runelet from max_enclave_size in /etc/rune/config.json,
 * never from the container), else SGX_MAX_ENCLAVE_SIZE_DEFAULT.
 */
uint64_t sgx_max_enclave_size(uint64_t asked);

/* Maximum ELRANGE the parsers accept (64 GiB) and spec page count. */
#define SGX_IMAGE_MAX_SIZE  (1ULL << 36)
#define SGX_IMAGE_MAX_PAGES (SGX_IMAGE_MAX_SIZE / SGX_PAGE_SIZE)

int sgx_image_from_elf(struct sgx_image *img, const char *path, const struct sgx_layout_opts *opts,
		       err_t *err);
/* As sgx_image_from_elf, from a buffer (copied). */
int sgx_image_from_elf_mem(struct sgx_image *img, const void *buf, size_t len,
			   const struct sgx_layout_opts *opts, err_t *err);

/*
 * Flat image: consecutive pages from offset 0, typed by page_spec, every
 * page measured. The spec must describe exactly the file's pages (a last
 * partial page is zero-padded).
 */
int sgx_image_from_flat(struct sgx_image *img, const char *path, const char *page_spec,
			uint64_t size /* 0 = next power of two */, uint32_t ssaframesize,
			err_t *err);
int sgx_image_from_flat_mem(struct sgx_image *img, const void *buf, size_t len,
			    const char *page_spec, uint64_t size, uint32_t ssaframesize,
			    err_t *err);

/*
 * Parses a page spec: comma-separated TYPE or TYPE*COUNT, TYPE one of tcs,
 * r, rw, rx, rwx. *flags gets one SECINFO flags value per page (malloc'ed).
 */
int sgx_parse_page_spec(const char *spec, uint64_t **flags, size_t *npages, err_t *err);

/* Pages in the image: the sum of the entries' counts. */
uint64_t sgx_image_total_pages(const struct sgx_image *img);
/*
 * MRENCLAVE of the image; refuses entries out of ascending order, overlapping
 * or, as EADD, outside the enclave.
 */
int sgx_image_measure(const struct sgx_image *img, uint8_t mrenclave[32], err_t *err);
void sgx_image_free(struct sgx_image *img);

#ifdef __cplusplus
}
#endif

#endif
