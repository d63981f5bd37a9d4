/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The emulator's EPC paging model (docs/epc.md, "Beyond the EPC"). Like
 * the kernel's SGX reclaimer, host-wide use past the EPC is never refused:
 * pages are evicted instead, and loaded back when their enclave runs.
 *
 * The kernel (arch/x86/kernel/cpu/sgx/): a page allocation that leaves
 * fewer than SGX_NR_LOW_PAGES (32) free wakes ksgxd, which reclaims until
 * SGX_NR_HIGH_PAGES (64) are free, SGX_NR_TO_SCAN (16) pages at a time from
 * the head of its LRU list (EBLOCK each, ETRACK, EWB each); an allocation
 * that finds none free reclaims directly. An evicted page comes back
 * (ELDU) when the enclave touches it.
 *
 * The model works on enclaves' page counts, not on pages (the emulator
 * does not see which pages an enclave touches): per process holding
 * enclaves, the pages it holds, the pages of them out now, and when it last
 * entered an enclave. Making pages resident (creating an enclave, or
 * reloading) evicts, in batches of 16, from the processes least recently
 * entered until 64 are free whenever fewer than 32 would be; entering an
 * enclave of a process with evicted pages loads them back, as far as the
 * EPC holds them with the others' evicted.
 */
#ifndef COMMON_EPC_PAGING_H
#define COMMON_EPC_PAGING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/epc.h"

#define EPC_NR_TO_SCAN	  16 /* the kernel's SGX_NR_TO_SCAN: pages per reclaim batch */
#define EPC_NR_LOW_PAGES  32 /* SGX_NR_LOW_PAGES: below this many free, reclaim */
#define EPC_NR_HIGH_PAGES 64 /* SGX_NR_HIGH_PAGES: reclaim until this many are free */
/*
 * A page swap costs about 40,000 cycles (EWB of one page, the fault and
 * ELDU of another: Taassori et al., VAULT, ASPLOS 2018): half each, at
 * 2 GHz.
 */
#define EPC_EWB_NS  10000
#define EPC_ELDU_NS 10000

/* One process's view of the model, for epc_model_*: plain numbers. */
struct epc_model_rec {
	uint64_t pages;	  /* held */
	uint64_t evicted; /* of them, out of the EPC */
	uint64_t stamp;	  /* the host's tick when it last entered an enclave */
	int evictable;	  /* the emulator's (a driver's pages are the kernel's to page) */
};

/*
 * Makes room in an EPC of capacity pages for demand more resident pages
 * of v[self]: when fewer than EPC_NR_LOW_PAGES would be left free, evicts
 * (adding to evicted) whole batches of EPC_NR_TO_SCAN pages until
 * EPC_NR_HIGH_PAGES would be, from the evictable processes with the
 * oldest stamps (ties: the lower index), v[self] itself last and only
 * when self_too. Returns the pages evicted; *short_by the demand that
 * still does not fit (nothing left to evict).
 */
uint64_t epc_model_make_room(struct epc_model_rec *v, size_t n, size_t self, uint64_t capacity,
			     uint64_t demand, int self_too, uint64_t *short_by);
/* The evicted pages of v[self] that entering it loads back: as many as fit with the others out. */
uint64_t epc_model_reloadable(const struct epc_model_rec *v, size_t n, size_t self,
			      uint64_t capacity);

/*
 * A process's record in its registry entry: shared, 64 bytes, at
 * EPC_PAGING_RECS (past the slots' lines) for the holder, then one per slot.
 * Only the model's steps write it, under the host's lock; the owner's
 * entries only stamp it.
 */
#define EPC_PAGING_RECS 40960
struct epc_paging_rec {
	_Atomic uint64_t evicted;
	_Atomic uint64_t stamp;
	_Atomic uint64_t evictions;
	_Atomic uint64_t reloads;
	_Atomic uint64_t ns;
	_Atomic uint64_t evictable;
	uint64_t reserved[2];
};

/* The host's side: $dir/.paging holds the tick and is the lock of every model step. */
struct epc_paging_host {
	uint64_t magic;
	_Atomic uint64_t tick; /* a model step's count: the processes' stamps */
};

/* A process's handle on the model. */
struct epc_pager {
	int entry_fd; /* the registry entry (not owned) */
	int slot;     /* -1: the holder's record, else a member's slot */
	struct epc_paging_rec *rec;
	void *rec_map;
	size_t rec_map_len;
	int host_fd;
	struct epc_paging_host *host;
	int dir_fd;	   /* the registry (not owned) */
	uint64_t capacity; /* pages */
	int delay;	   /* spend the modelled time ($SGX_EMU_EPC_PAGING_DELAY=1) */
	uint64_t tried;	   /* the tick of this process's last reload */
};

/*
 * Opens p for the process owning entry_fd's record (slot -1 the holder's)
 * in the registry dir_fd (a directory descriptor: init-runelet opens it
 * before pivot_root), for an EPC of capacity bytes. 0 or a negative errno.
 */
int epc_pager_open(struct epc_pager *p, int dir_fd, int entry_fd, int slot, uint64_t capacity);
/* Unmaps and closes (a forked child's copy too: it must not use its parent's lock). */
void epc_pager_close(struct epc_pager *p);
/*
 * Model steps, under the host's lock (epc_pager_lock: a bounded wait,
 * -ETIMEDOUT): charge n more pages of this process before it publishes
 * them (its count in the registry is the one before), then publish, then
 * unlock; reload (taking the lock itself) on entering an enclave with
 * pages out. Each returns the modelled ns this process spent in it.
 */
int epc_pager_lock(struct epc_pager *p);
void epc_pager_unlock(struct epc_pager *p);
int64_t epc_pager_charge_locked(struct epc_pager *p, uint64_t n);
int64_t epc_pager_reload(struct epc_pager *p);
/* After this process's pages fell to pages: no more of them out than that. */
void epc_pager_uncharge(struct epc_pager *p, uint64_t pages);
/* Busy for ns nanoseconds, as the CPU would be with EWB/ELDU. */
void epc_pager_spend(int64_t ns);

/*
 * On every enclave entry: stamps the process as active and says whether
 * to call epc_pager_reload (pages out, and the model moved since this
 * process last reloaded). A few loads, no system call.
 */
static inline int epc_pager_enter(struct epc_pager *p)
{
	uint64_t t = atomic_load_explicit(&p->host->tick, memory_order_relaxed);

	if (atomic_load_explicit(&p->rec->stamp, memory_order_relaxed) != t)
		atomic_store_explicit(&p->rec->stamp, t, memory_order_relaxed);
	return atomic_load_explicit(&p->rec->evicted, memory_order_relaxed) != 0 && p->tried != t;
}

#endif
