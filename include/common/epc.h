/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EPC bookkeeping shared by rune (limits from the config) and libsgx (the
 * pages its enclaves hold): Kubernetes quantities, and the host-wide
 * registry of EPC use.
 *
 * The registry is a directory (EPC_DIR_DEFAULT, or $SGX_EPC_DIR) with one
 * small file per process that holds enclaves: its page count and pid, as
 * text. The owner keeps an open-file-description lock on it (not a POSIX
 * one: those go when the process closes any fd of the file, a reader's
 * too), which dies with the last fd, so a crashed holder's entry is told
 * apart from a live one and reaped by the next reader. Independent of
 * rune's --root: every container on the host shares it.
 */
#ifndef COMMON_EPC_H
#define COMMON_EPC_H

#include <stdint.h>

#include "common/error.h"

#define EPC_DIR_DEFAULT "/run/rune-epc" /* not under /run/rune: an id could be "epc" */
/* The usable EPC of a 128 MiB PRM (the rest holds the EPCM and friends). */
#define EPC_SIZE_DEFAULT (187ULL << 19) /* 93.5 MiB */

/*
 * A Kubernetes quantity in bytes: "8192", "64Mi", "1Gi", "1.5G", "1e6";
 * suffixes Ki Mi Gi Ti Pi Ei, k M G T P E and m (milli); fractions round up
 * as Kubernetes does. 0 or -EINVAL (not a quantity, negative, or more than
 * 2^63 - 1 bytes).
 */
int epc_parse_quantity(const char *s, uint64_t *bytes);

/* $SGX_EPC_DIR, else EPC_DIR_DEFAULT. */
const char *epc_dir(void);
/* The EPC's size: $SGX_EMU_EPC_SIZE (a quantity) when valid, else EPC_SIZE_DEFAULT. */
uint64_t epc_size(void);

/*
 * A fresh entry for this process in dir (created 0755 when missing), locked
 * and holding 0 pages: its fd (O_CLOEXEC), or a negative errno with err set;
 * its path in *path (malloc'd) when path is not NULL. The lock lasts while
 * that fd (or a copy, a forked child's too) is open.
 */
int epc_entry_open(const char *dir, char **path, err_t *err);
int epc_entry_set(int fd, uint64_t pages);
/* 1 if fd is a locked entry this very process wrote (not its parent's), else 0. */
int epc_entry_held(int fd);

/*
 * The holder's EPC limit, kept in its entry (a second fixed-width line:
 * bytes, where the limit came from) so that the host can change it while
 * the holder lives (`rune update --epc-limit`: the holder is pivot_rooted
 * away from everything else of rune's). bytes 0: no limit. source is cut
 * at EPC_SOURCE_MAX - 1 characters.
 */
#define EPC_SOURCE_MAX 48
int epc_entry_set_limit(int fd, uint64_t bytes, const char *source);
/*
 * 1 with *bytes and source (EPC_SOURCE_MAX bytes, may be NULL) when the
 * entry holds a limit line, 0 when it holds none, -EIO when unreadable.
 */
int epc_entry_limit(int fd, uint64_t *bytes, char *source);
/* The pages an entry's holder holds (its first field), or -1. */
int64_t epc_entry_pages(int fd);
/*
 * The container's other processes (forked off the holder, sharing its
 * entry's descriptor): each claims a slot of its own in the entry (held
 * while the process lives) and writes its pages there; epc_entry_total is
 * the holder's pages and every live slot's (own_slot: the caller's, or -1).
 * epc_entry_lock serialises a check of the total against the limit with
 * the write that follows it, across the processes (bounded: -ETIMEDOUT).
 * The locks are POSIX record locks: a process must not close another
 * descriptor of the entry while it holds a slot.
 */
int epc_entry_slot_claim(int fd);
int epc_entry_slot_set(int fd, int slot, uint64_t pages);
int64_t epc_entry_total(int fd, int own_slot);
/* fn(ctx, slot, pages) for the holder (slot -1) and every live slot; 0, or -1 if unreadable. */
int epc_entry_each(int fd, int own_slot, void (*fn)(void *ctx, int slot, uint64_t pages),
		   void *ctx);
/* 1 if an entry's holder lives (its lock is held), else 0. */
int epc_entry_live(int fd);
int epc_entry_lock(int fd);
void epc_entry_unlock(int fd);

/*
 * The paging model (docs/epc.md, "Beyond the EPC"): what the kernel's SGX
 * reclaimer (arch/x86/kernel/cpu/sgx/main.c) would do with the emulator's
 * enclaves when the host's use passes the EPC. Each process holding
 * enclaves has a record in its registry entry (the holder's, or a slot's):
 * its pages now out of the EPC and what paging has cost it so far.
 */
struct epc_paging {
	uint64_t evicted;   /* pages out of the EPC now */
	uint64_t evictions; /* pages written out (EBLOCK, ETRACK, EWB) so far */
	uint64_t reloads;   /* pages loaded back (ELDU) so far */
	uint64_t ns;	    /* the modelled time the process spent on both */
};

/* The sums over the entry's holder and its live slots (0s where it has no record). */
int epc_entry_paging(int fd, struct epc_paging *p);

struct epc_usage {
	uint64_t pages;	 /* held by live entries */
	unsigned live;	 /* live entries */
	unsigned reaped; /* dead entries removed by this call */
	uint64_t size;	 /* the EPC, bytes */
	/* bytes out of the EPC: the model's evicted pages, at least those beyond it */
	uint64_t paged;
	struct epc_paging paging; /* the live entries' sums */
};

/* Sums the live entries of dir, removing dead ones; epc_size 0 means the default. */
int epc_usage(const char *dir, uint64_t epc_size, struct epc_usage *u, err_t *err);

#endif
