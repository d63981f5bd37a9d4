// SPDX-License-Identifier: Apache-2.0
/*
 * Memory: the heap is one range of RWX pages EADDed unmeasured (their
 * initial content is the host's: everything handed out is zeroed first).
 * A page bitmap at its start tracks use; the workload's image, stack,
 * brk area and mmaps, and the LibOS's file buffers, all come from it.
 * SGX1 fixes page permissions at EADD, so mprotect only checks its range.
 */
#include "libos.h"

#define MAP_FIXED     0x10
#define MAP_ANONYMOUS 0x20
#define BRK_MAX	      (64UL << 20)

static FORKED uint8_t *bitmap;
/*
 * Pages of PROT_NONE reservations, not zeroed yet: a runtime that reserves
 * hundreds of MiB of address space (Go) only pays for what it commits
 * (MAP_FIXED over them, or mprotect), zeroed then.
 */
static FORKED uint8_t *unzeroed;
static FORKED uint64_t npages, reserved, hint;
static FORKED uint64_t brk_base, brk_cur, brk_end;

static int used(uint64_t i)
{
	return bitmap[i / 8] & (1 << (i % 8));
}

static void set_bits(uint8_t *map, uint64_t first, uint64_t n, int on)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (on)
			map[i / 8] |= (uint8_t)(1 << (i % 8));
		else
			map[i / 8] &= (uint8_t) ~(1 << (i % 8));
	}
}

static void mark(uint64_t first, uint64_t n, int on)
{
	set_bits(bitmap, first, n, on);
	if (unzeroed)
		set_bits(unzeroed, first, n, 0);
}

static void *page_addr(uint64_t i);

/* Zeroes the pages of [first, first + n) a reservation left unzeroed. */
static void commit(uint64_t first, uint64_t n)
{
	for (uint64_t i = first; unzeroed && i < first + n; i++)
		if (unzeroed[i / 8] & (1 << (i % 8))) {
			memset(page_addr(i), 0, PAGE_SIZE);
			unzeroed[i / 8] &= (uint8_t) ~(1 << (i % 8));
		}
}

int mm_init(void)
{
	npages = libos_manifest.heap_size / PAGE_SIZE;
	bitmap = (uint8_t *)libos_heap_start;
	reserved = PAGE_UP(npages / 8 + 1) / PAGE_SIZE;
	if (reserved + 64 > npages)
		return -ENOMEM;
	memset(bitmap, 0, reserved * PAGE_SIZE);
	mark(0, reserved, 1);
	hint = reserved;
	/*
	 * A program linked at fixed addresses: its pages and its brk area are
	 * taken now, before anything (its own file buffer first) could be
	 * allocated there.
	 */
	if (libos_manifest.exec_end) {
		uint64_t lo = libos_manifest.exec_start, hi = libos_manifest.exec_end;

		if (lo < libos_heap_start + reserved * PAGE_SIZE)
			return -ENOMEM;
		mark((lo - libos_heap_start) / PAGE_SIZE, (hi + mm_exec_room() - lo) / PAGE_SIZE,
		     1);
	}
	unzeroed = mm_alloc(npages / 8 + 1, 1);
	return unzeroed ? 0 : -ENOMEM;
}

/* brk room after a fixed-address program: at most half the heap above it. */
uint64_t mm_exec_room(void)
{
	uint64_t above = (libos_heap_end - libos_manifest.exec_end) / 2, room = mm_brk_room();

	if (room > above)
		room = above;
	return room & ~(PAGE_SIZE - 1);
}

static void *page_addr(uint64_t i)
{
	return (void *)(libos_heap_start + i * PAGE_SIZE);
}

void *mm_alloc(uint64_t len, int zero)
{
	uint64_t n = PAGE_UP(len) / PAGE_SIZE, run = 0;

	if (!n || n > npages)
		return NULL;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t start = pass ? reserved : hint;

		run = 0;
		for (uint64_t i = start; i < npages; i++) {
			run = used(i) ? 0 : run + 1;
			if (run == n) {
				uint64_t first = i + 1 - n;

				mark(first, n, 1);
				hint = i + 1;
				if (zero)
					memset(page_addr(first), 0, n * PAGE_SIZE);
				return page_addr(first);
			}
		}
	}
	return NULL;
}

/* First fit at an address aligned to align (a power of two), zeroed. */
void *mm_alloc_aligned(uint64_t len, uint64_t align)
{
	uint64_t n = PAGE_UP(len) / PAGE_SIZE, lo = libos_heap_start + reserved * PAGE_SIZE;

	if (!n || align < PAGE_SIZE || (align & (align - 1)))
		return NULL;
	for (uint64_t a = (lo + align - 1) & ~(align - 1);
	     a >= lo && a < libos_heap_end && n * PAGE_SIZE <= libos_heap_end - a; a += align) {
		uint64_t first = (a - libos_heap_start) / PAGE_SIZE, i;

		for (i = 0; i < n && !used(first + i); i++)
			;
		if (i < n)
			continue;
		mark(first, n, 1);
		memset((void *)a, 0, n * PAGE_SIZE);
		return (void *)a;
	}
	return NULL;
}

/* Page index range of [p, p+len) in the heap, past the bitmap; -1 if not. */
static int64_t range(uint64_t p, uint64_t len, uint64_t *n)
{
	uint64_t first;

	if (p % PAGE_SIZE || !len || p < libos_heap_start || p >= libos_heap_end ||
	    PAGE_UP(len) > libos_heap_end - p)
		return -1;
	first = (p - libos_heap_start) / PAGE_SIZE;
	if (first < reserved)
		return -1;
	*n = PAGE_UP(len) / PAGE_SIZE;
	return (int64_t)first;
}

void mm_free(void *p, uint64_t len)
{
	uint64_t n;
	int64_t first = range((uint64_t)p, len, &n);

	if (first >= 0) {
		mark((uint64_t)first, n, 0);
		if ((uint64_t)first < hint)
			hint = (uint64_t)first;
	}
}

int user_ok(uint64_t p, uint64_t len)
{
	uint64_t lo = libos_heap_start + reserved * PAGE_SIZE;

	if (!len)
		return 1;
	return p >= lo && p < libos_heap_end && len <= libos_heap_end - p;
}

/* The brk area: BRK_MAX (or less) reserved right after the image. */
void mm_set_brk_base(uint64_t end)
{
	brk_base = brk_cur = brk_end = end;
}

uint64_t mm_brk_room(void)
{
	return libos_manifest.heap_size / 8 < BRK_MAX ? libos_manifest.heap_size / 8 : BRK_MAX;
}

void mm_set_brk_end(uint64_t end)
{
	brk_end = end;
}

/*
 * fork: calls fn for each run of pages in use whose content matters (not
 * an unzeroed reservation), bitmap pages first; stops at fn's error.
 */
int mm_each_used(int (*fn)(uint64_t addr, uint64_t npages, void *arg), void *arg)
{
	for (uint64_t i = 0; i < npages;) {
		uint64_t n = 0;
		int r;

		while (i + n < npages && used(i + n) &&
		       !(unzeroed && (unzeroed[(i + n) / 8] & (1 << ((i + n) % 8)))))
			n++;
		if (!n) {
			i++;
			continue;
		}
		if ((r = fn((uint64_t)page_addr(i), n, arg)) < 0)
			return r;
		i += n;
	}
	return 0;
}

/* fork: addr is heap memory (a copy of the parent's goes there). */
int mm_in_heap(uint64_t addr, uint64_t len)
{
	return addr >= libos_heap_start && addr <= libos_heap_end && len <= libos_heap_end - addr;
}

long sys_brk(uint64_t addr)
{
	if (addr < brk_base || addr > brk_end)
		return (long)brk_cur;
	if (addr > brk_cur)
		memset((void *)brk_cur, 0, addr - brk_cur);
	brk_cur = addr;
	return (long)brk_cur;
}

long sys_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t flags, int64_t fd, uint64_t off)
{
	uint64_t n;
	void *p;

	if (!len || off % PAGE_SIZE || PAGE_UP(len) < len)
		return -EINVAL;
	if (flags & MAP_FIXED) {
		int64_t first = range(addr, len, &n);

		if (first < 0)
			return -ENOMEM;
		mark((uint64_t)first, n, 1);
		p = (void *)addr;
		memset(p, 0, n * PAGE_SIZE);
	} else if (prot == 0 && (flags & MAP_ANONYMOUS)) {
		/* A reservation: its pages are zeroed when committed. */
		p = mm_alloc(len, 0);
		if (!p)
			return -ENOMEM;
		set_bits(unzeroed, ((uint64_t)p - libos_heap_start) / PAGE_SIZE,
			 PAGE_UP(len) / PAGE_SIZE, 1);
	} else {
		p = mm_alloc(len, 1);
		if (!p)
			return -ENOMEM;
	}
	if (!(flags & MAP_ANONYMOUS)) {
		int ret = file_mmap_copy((int)fd, off, p, len);

		if (ret < 0) {
			mm_free(p, len);
			return ret;
		}
	}
	return (long)p;
}

long sys_munmap(uint64_t addr, uint64_t len)
{
	uint64_t n;
	int64_t first = range(addr, len, &n);

	if (first < 0)
		return -EINVAL;
	mark((uint64_t)first, n, 0);
	if ((uint64_t)first < hint)
		hint = (uint64_t)first;
	return 0;
}

long sys_mprotect(uint64_t addr, uint64_t len, uint64_t prot)
{
	uint64_t n;
	int64_t first;

	if (addr % PAGE_SIZE || !user_ok(addr, len))
		return -ENOMEM;
	/* SGX1 fixes the permissions; a reservation made accessible is committed. */
	first = range(addr, len, &n);
	if (prot && first >= 0)
		commit((uint64_t)first, n);
	return 0;
}
