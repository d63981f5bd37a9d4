// SPDX-License-Identifier: Apache-2.0
/* The emulator's EPC paging model: include/common/epc_paging.h, docs/epc.md. */
#include "common/epc_paging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

_Static_assert(sizeof(struct epc_paging_rec) == 64, "record size");
_Static_assert(offsetof(struct epc_paging_rec, evictions) == 16 &&
		   offsetof(struct epc_paging_rec, reloads) == 24 &&
		   offsetof(struct epc_paging_rec, ns) == 32,
	       "record layout (epc.c's epc_entry_paging reads it)");

#define HOST_FILE  ".paging" /* epc_usage skips dot files */
#define HOST_MAGIC 0x3147474150435045ULL

static uint64_t resident(const struct epc_model_rec *r)
{
	return r->pages - (r->evicted < r->pages ? r->evicted : r->pages);
}

static int64_t free_pages(const struct epc_model_rec *v, size_t n, uint64_t capacity)
{
	int64_t f = (int64_t)capacity;

	for (size_t i = 0; i < n; i++)
		f -= (int64_t)resident(&v[i]);
	return f;
}

/* The least recently entered evictable process with resident pages, not self; n if none. */
static size_t victim(const struct epc_model_rec *v, size_t n, size_t self)
{
	size_t best = n;

	for (size_t i = 0; i < n; i++) {
		if (i == self || !v[i].evictable || resident(&v[i]) == 0)
			continue;
		if (best == n || v[i].stamp < v[best].stamp)
			best = i;
	}
	return best;
}

uint64_t epc_model_make_room(struct epc_model_rec *v, size_t n, size_t self, uint64_t capacity,
			     uint64_t demand, int self_too, uint64_t *short_by)
{
	int64_t left = free_pages(v, n, capacity) - (int64_t)demand;
	uint64_t want, done = 0;

	if (short_by)
		*short_by = 0;
	if (left >= EPC_NR_LOW_PAGES)
		return 0;
	/* ksgxd's goal, in whole batches (a batch may span processes). */
	want = (uint64_t)(EPC_NR_HIGH_PAGES - left);
	want = (want + EPC_NR_TO_SCAN - 1) / EPC_NR_TO_SCAN * EPC_NR_TO_SCAN;
	while (done < want) {
		size_t i = victim(v, n, self);
		uint64_t x;

		if (i == n) {
			if (!self_too || self >= n || !v[self].evictable || resident(&v[self]) == 0)
				break;
			i = self;
		}
		x = resident(&v[i]);
		if (x > want - done)
			x = want - done;
		v[i].evicted += x;
		done += x;
	}
	left += (int64_t)done;
	if (short_by && left < 0)
		*short_by = (uint64_t)-left;
	return done;
}

uint64_t epc_model_reloadable(const struct epc_model_rec *v, size_t n, size_t self,
			      uint64_t capacity)
{
	int64_t room = free_pages(v, n, capacity) - EPC_NR_HIGH_PAGES;
	uint64_t out;

	if (self >= n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (i != self && v[i].evictable)
			room += (int64_t)resident(&v[i]);
	out = v[self].evicted < v[self].pages ? v[self].evicted : v[self].pages;
	if (room <= 0)
		return 0;
	return out < (uint64_t)room ? out : (uint64_t)room;
}

static off_t rec_off(int slot)
{
	return EPC_PAGING_RECS + (off_t)(slot + 1) * (off_t)sizeof(struct epc_paging_rec);
}

int epc_pager_open(struct epc_pager *p, int dir_fd, int entry_fd, int slot, uint64_t capacity)
{
	struct epc_paging_rec fresh = { 0 };
	struct stat st;
	off_t off = rec_off(slot), page = off & ~(off_t)4095;
	const char *d = getenv("SGX_EMU_EPC_PAGING_DELAY");
	void *m;

	memset(p, 0, sizeof(*p));
	p->entry_fd = entry_fd;
	p->slot = slot;
	p->host_fd = -1;
	p->capacity = capacity / 4096;
	p->delay = d && strcmp(d, "1") == 0;
	p->dir_fd = dir_fd;
	p->host_fd = openat(dir_fd, HOST_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (p->host_fd < 0 || fstat(p->host_fd, &st) < 0)
		goto fail;
	if (st.st_size < 4096 && ftruncate(p->host_fd, 4096) < 0)
		goto fail;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, p->host_fd, 0);
	if (m == MAP_FAILED)
		goto fail;
	p->host = m;
	if (p->host->magic != HOST_MAGIC)
		p->host->magic = HOST_MAGIC;
	/* A slot's record may be a dead member's: this process's starts afresh. */
	fresh.evictable = 1;
	fresh.stamp = atomic_load(&p->host->tick);
	if (pwrite(entry_fd, &fresh, sizeof(fresh), off) != sizeof(fresh))
		goto fail;
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, entry_fd, page);
	if (m == MAP_FAILED)
		goto fail;
	p->rec_map = m;
	p->rec_map_len = 4096;
	p->rec = (struct epc_paging_rec *)((char *)m + (off - page));
	p->tried = UINT64_MAX;
	return 0;
fail : {
	int e = errno ? errno : EIO;

	epc_pager_close(p);
	return -e;
}
}

void epc_pager_close(struct epc_pager *p)
{
	if (p->rec_map)
		munmap(p->rec_map, p->rec_map_len);
	if (p->host)
		munmap(p->host, 4096);
	if (p->host_fd >= 0)
		close(p->host_fd);
	memset(p, 0, sizeof(*p));
	p->host_fd = -1;
	p->dir_fd = -1;
}

int epc_pager_lock(struct epc_pager *p)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	/* A step is a directory scan: 2 s means its holder is stopped or stuck. */
	for (int i = 0; i < 2000; i++) {
		if (fcntl(p->host_fd, F_OFD_SETLK, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -errno;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

void epc_pager_unlock(struct epc_pager *p)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	fcntl(p->host_fd, F_OFD_SETLK, &fl);
}

/* The host's processes, as the model sees them, with their shared records. */
struct scan {
	struct epc_model_rec *v;
	struct epc_paging_rec **rec; /* NULL: no record (a driver's enclaves: pinned) */
	size_t n, cap, self;
	void **maps;
	size_t *map_lens, nmaps;
	/* the entry being read */
	char *map;
	off_t map_from, size;
	int own_entry;
	int own_slot;
};

static void scan_add(void *ctx, int slot, uint64_t pages)
{
	struct scan *s = ctx;
	off_t off = rec_off(slot);
	struct epc_paging_rec *r = NULL;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		void *v = realloc(s->v, cap * sizeof(*s->v)), *rec;

		if (v == NULL)
			return;
		s->v = v;
		rec = realloc(s->rec, cap * sizeof(*s->rec));
		if (rec == NULL)
			return;
		s->rec = rec;
		s->cap = cap;
	}
	if (s->map && off + (off_t)sizeof(*r) <= s->size)
		r = (struct epc_paging_rec *)(s->map + (off - s->map_from));
	if (s->own_entry && slot == s->own_slot)
		s->self = s->n;
	s->rec[s->n] = r;
	s->v[s->n] = (struct epc_model_rec){
		.pages = pages,
		.evicted = r ? atomic_load(&r->evicted) : 0,
		.stamp = r ? atomic_load(&r->stamp) : 0,
		.evictable = r ? (int)atomic_load(&r->evictable) : 0,
	};
	s->n++;
}

static void scan_entry(struct scan *s, int dfd, const char *name, const struct stat *own)
{
	_cleanup_close_ int fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	void *m;

	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	/* A dead holder's entry: reaped, as epc_usage does. */
	if (!epc_entry_live(fd)) {
		unlinkat(dfd, name, 0);
		return;
	}
	s->map = NULL;
	s->size = st.st_size;
	s->map_from = EPC_PAGING_RECS;
	if (st.st_size > EPC_PAGING_RECS && s->nmaps < 4096) {
		size_t len = (size_t)(st.st_size - EPC_PAGING_RECS);

		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, EPC_PAGING_RECS);
		if (m != MAP_FAILED) {
			void **maps = realloc(s->maps, (s->nmaps + 1) * sizeof(*maps));
			size_t *lens = realloc(s->map_lens, (s->nmaps + 1) * sizeof(*lens));

			if (maps)
				s->maps = maps;
			if (lens)
				s->map_lens = lens;
			if (maps && lens) {
				s->maps[s->nmaps] = m;
				s->map_lens[s->nmaps++] = len;
				s->map = m;
			} else {
				munmap(m, len);
			}
		}
	}
	s->own_entry = st.st_dev == own->st_dev && st.st_ino == own->st_ino;
	/* Our own slot's lock is not reported to us: it is named as live. */
	epc_entry_each(fd, s->own_entry ? s->own_slot : -1, scan_add, s);
}

static void scan_free(struct scan *s)
{
	for (size_t i = 0; i < s->nmaps; i++)
		munmap(s->maps[i], s->map_lens[i]);
	free(s->maps);
	free(s->map_lens);
	free(s->v);
	free(s->rec);
}

/* Every live process of the registry; s->self is this one's (s->n if not found). */
static int scan_host(struct epc_pager *p, struct scan *s)
{
	struct stat own;
	struct dirent *de;
	int fd;
	DIR *d;

	memset(s, 0, sizeof(*s));
	s->own_slot = p->slot;
	if (fstat(p->entry_fd, &own) < 0)
		return -errno;
	/* A description of its own: readdir from the start. */
	fd = openat(p->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -ENOMEM;
	}
	s->self = SIZE_MAX;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			scan_entry(s, dirfd(d), de->d_name, &own);
	closedir(d);
	if (s->self == SIZE_MAX)
		s->self = s->n;
	return 0;
}

/* The evictions the model made, into the victims' shared records; the EWB count. */
static uint64_t apply_evictions(struct scan *s, const uint64_t *before)
{
	uint64_t total = 0;

	for (size_t i = 0; i < s->n; i++) {
		uint64_t x = s->v[i].evicted - before[i];

		if (x == 0 || s->rec[i] == NULL)
			continue;
		atomic_fetch_add(&s->rec[i]->evicted, x);
		atomic_fetch_add(&s->rec[i]->evictions, x);
		total += x;
	}
	return total;
}

static uint64_t *snapshot(const struct scan *s)
{
	uint64_t *b = calloc(s->n ? s->n : 1, sizeof(*b));

	for (size_t i = 0; b && i < s->n; i++)
		b[i] = s->v[i].evicted;
	return b;
}

int64_t epc_pager_charge_locked(struct epc_pager *p, uint64_t n)
{
	struct scan s;
	uint64_t *before, ewb, tick;
	int64_t ns;

	if (scan_host(p, &s) < 0)
		return 0;
	tick = atomic_fetch_add(&p->host->tick, 1) + 1;
	atomic_store(&p->rec->stamp, tick);
	if (s.self < s.n)
		s.v[s.self].stamp = tick;
	if (s.self == s.n || (before = snapshot(&s)) == NULL) {
		scan_free(&s);
		return 0;
	}
	/* The new pages are ours like the older ones: any of them may go (the kernel's LRU). */
	s.v[s.self].pages += n;
	epc_model_make_room(s.v, s.n, s.self, p->capacity, 0, 1, NULL);
	ewb = apply_evictions(&s, before);
	ns = (int64_t)(ewb * EPC_EWB_NS);
	atomic_fetch_add(&p->rec->ns, (uint64_t)ns);
	free(before);
	scan_free(&s);
	return ns;
}

int64_t epc_pager_reload(struct epc_pager *p)
{
	struct scan s;
	uint64_t *before = NULL, k = 0, ewb = 0, tick;
	int64_t ns = 0;

	if (epc_pager_lock(p) < 0)
		return 0;
	tick = atomic_load(&p->host->tick);
	if (scan_host(p, &s) < 0) {
		p->tried = tick;
		goto out;
	}
	if (s.self < s.n && (before = snapshot(&s)) != NULL) {
		s.v[s.self].stamp = tick + 1;
		k = epc_model_reloadable(s.v, s.n, s.self, p->capacity);
		if (k) {
			epc_model_make_room(s.v, s.n, s.self, p->capacity, k, 0, NULL);
			ewb = apply_evictions(&s, before);
			atomic_fetch_sub(&p->rec->evicted, k);
			atomic_fetch_add(&p->rec->reloads, k);
		}
		ns = (int64_t)(ewb * EPC_EWB_NS + k * EPC_ELDU_NS);
		atomic_fetch_add(&p->rec->ns, (uint64_t)ns);
	}
	/* A step that moved nothing is no news: the others do not retry for it. */
	if (k || ewb)
		tick = atomic_fetch_add(&p->host->tick, 1) + 1;
	atomic_store(&p->rec->stamp, tick);
	p->tried = tick;
	free(before);
	scan_free(&s);
out:
	epc_pager_unlock(p);
	return ns;
}

void epc_pager_uncharge(struct epc_pager *p, uint64_t pages)
{
	uint64_t cur = atomic_load(&p->rec->evicted);

	/* The pages that went may have been out: none are out beyond what is held. */
	while (cur > pages && !atomic_compare_exchange_weak(&p->rec->evicted, &cur, pages))
		;
}

void epc_pager_spend(int64_t ns)
{
	struct timespec now, end;

	if (ns <= 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ns / 1000000000;
	end.tv_nsec += ns % 1000000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	do
		clock_gettime(CLOCK_MONOTONIC, &now);
	while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
}
