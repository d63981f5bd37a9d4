// SPDX-License-Identifier: Apache-2.0
/*
 * The loader's common half: picks a backend, runs ECREATE/EADD/EINIT
 * through it, hands out TCSs and enters through a vDSO-compatible entry
 * function (the vDSO's own, or the emulator's clone of it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/epc.h"
#include "common/epc_paging.h"
#include "sgx/loader.h"
#include "sgx/sigstruct.h"
#include "loader_backend.h"

const char *sgx_return_code_name(int code)
{
	static __thread char buf[32];

	switch (code) {
	case SGX_SUCCESS:
		return "SGX_SUCCESS";
	case SGX_INVALID_SIG_STRUCT:
		return "SGX_INVALID_SIG_STRUCT";
	case SGX_INVALID_ATTRIBUTE:
		return "SGX_INVALID_ATTRIBUTE";
	case SGX_INVALID_MEASUREMENT:
		return "SGX_INVALID_MEASUREMENT";
	case SGX_INVALID_SIGNATURE:
		return "SGX_INVALID_SIGNATURE";
	case SGX_INVALID_EINITTOKEN:
		return "SGX_INVALID_EINITTOKEN";
	case SGX_INVALID_CPUSVN:
		return "SGX_INVALID_CPUSVN";
	case SGX_INVALID_ISVSVN:
		return "SGX_INVALID_ISVSVN";
	case SGX_UNMASKED_EVENT:
		return "SGX_UNMASKED_EVENT";
	case SGX_INVALID_KEYNAME:
		return "SGX_INVALID_KEYNAME";
	default:
		snprintf(buf, sizeof(buf), "SGX_ERROR_%d", code);
		return buf;
	}
}

uint32_t sgx_min_ssaframesize(uint64_t xfrm, uint32_t miscselect)
{
	/* XSAVE components 2..18: offset and size in the standard (non-compacted) format. */
	static const struct {
		uint16_t off, size;
	} comp[19] = {
		[2] = { 576, 256 },   /* AVX */
		[3] = { 960, 64 },    /* BNDREGS */
		[4] = { 1024, 64 },   /* BNDCSR */
		[5] = { 1088, 64 },   /* AVX-512 opmask */
		[6] = { 1152, 512 },  /* ZMM_Hi256 */
		[7] = { 1664, 1024 }, /* Hi16_ZMM */
		[9] = { 2688, 8 },    /* PKRU */
		[17] = { 2752, 64 },  /* XTILECFG */
		[18] = { 2816, 8192 } /* XTILEDATA */
	};
	uint64_t xsave = 512 + 64; /* legacy area and XSAVE header */
	uint64_t misc = 0;

	for (unsigned i = 2; i < 64; i++) {
		uint64_t end;

		if (!(xfrm & (1ULL << i)))
			continue;
		/* An unknown component: as large as the biggest known one could end. */
		end = i < 19 && comp[i].size ? (uint64_t)comp[i].off + comp[i].size : 2816 + 8192;
		if (end > xsave)
			xsave = end;
	}
	if (miscselect & 1) /* EXINFO */
		misc += 16;
	if (miscselect & 2) /* CPINFO */
		misc += 16;
	return (uint32_t)((xsave + misc + SGX_SSA_GPR_SIZE + SGX_PAGE_SIZE - 1) / SGX_PAGE_SIZE);
}

static int pick_backend(const struct sgx_load_opts *o, const struct sgx_backend_ops **be,
			err_t *err)
{
	enum sgx_backend b = o ? o->backend : SGX_BACKEND_AUTO;
	const char *env = getenv("SGX_LOADER_BACKEND");

	if (b == SGX_BACKEND_AUTO && env && *env) {
		if (!strcmp(env, "sgx") || !strcmp(env, "driver"))
			b = SGX_BACKEND_DRIVER;
		else if (!strcmp(env, "emulator") || !strcmp(env, "emu"))
			b = SGX_BACKEND_EMULATOR;
		else if (strcmp(env, "auto"))
			return err_set(err, EINVAL,
				       "SGX_LOADER_BACKEND=%s: expected sgx, emulator or auto",
				       env);
	}
	if (b == SGX_BACKEND_AUTO) {
		const char *dev = o && o->device ? o->device : SGX_DEVICE_PATH;

		b = access(dev, F_OK) == 0 ? SGX_BACKEND_DRIVER : SGX_BACKEND_EMULATOR;
	}
	*be = b == SGX_BACKEND_DRIVER ? &sgx_driver_backend : &sgx_emu_backend;
	return 0;
}

static int is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static int collect_tcs(struct sgx_encl *e, const struct sgx_image *img, err_t *err)
{
	uint64_t n = 0;

	for (size_t i = 0; i < img->npages; i++)
		if ((img->pages[i].flags & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS)
			n += sgx_image_page_count(&img->pages[i]);
	if (n == 0)
		return err_set(err, EINVAL, "enclave image has no TCS page");
	if (n > img->size / SGX_PAGE_SIZE)
		return err_set(err, EINVAL, "enclave image has more TCS pages than the enclave");
	e->tcs_off = calloc(n, sizeof(*e->tcs_off));
	e->tcs_busy = calloc((n + 63) / 64, sizeof(*e->tcs_busy));
	if (!e->tcs_off || !e->tcs_busy)
		return err_sys(err, ENOMEM, "allocate TCS table");
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *p = &img->pages[i];

		if ((p->flags & SGX_SECINFO_PT_MASK) != SGX_SECINFO_TCS)
			continue;
		for (uint64_t k = 0; k < sgx_image_page_count(p); k++)
			e->tcs_off[e->ntcs++] = p->offset + k * SGX_PAGE_SIZE;
	}
	return 0;
}

/* vm.mmap_min_addr, or 64 KiB (a common default) when it cannot be read. */
static uint64_t mmap_min_addr(void)
{
	unsigned long long v = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return v;
}

/*
 * An ELRANGE at a fixed base: aligned to its size, in user space, and with
 * every page where the host may map it (at or above vm.mmap_min_addr).
 */
static int check_fixed_base(struct sgx_encl *e, const struct sgx_image *img,
			    const struct sgx_load_opts *o, err_t *err)
{
	uint64_t min = mmap_min_addr(), first;

	if (o->base % img->size || o->base >= (1ULL << 47) || img->size > (1ULL << 47) - o->base)
		return err_set(err, EINVAL,
			       "fixed enclave base %#llx: not aligned to the enclave size %#llx "
			       "or not in user space",
			       (unsigned long long)o->base, (unsigned long long)img->size);
	if (!img->npages)
		return err_set(err, EINVAL, "enclave image has no pages");
	first = o->base + img->pages[0].offset;
	if (first < min)
		return err_set(err, EINVAL,
			       "enclave at fixed base %#llx: its page at %#llx lies below "
			       "vm.mmap_min_addr (%llu), where the host cannot map it",
			       (unsigned long long)o->base, (unsigned long long)first,
			       (unsigned long long)min);
	e->map_from = img->pages[0].offset;
	return 0;
}

/*
 * EPC this process's enclaves hold, checked against the limit its host set
 * and published in the host-wide registry: the entry init-runelet opened
 * before pivot_root ($SGX_EPC_FD), else one of our own while the registry is
 * reachable. The limit: the entry's limit line when it has one (rune writes
 * it there, and `rune update --epc-limit` rewrites it), else
 * $SGX_EPC_LIMIT_BYTES, named by $SGX_EPC_LIMIT_SOURCE. $SGX_EPC_CONTAINER
 * names the container in the refusal.
 */
static struct {
	pthread_mutex_t lock;
	uint64_t pages;
	int fd;	    /* registry entry; -1: none yet */
	int tried;  /* opening one failed: not retried for every enclave */
	char *path; /* an entry of our own: removed when we hold no EPC */
	int member; /* a process forked off the entry's holder (sgx_encl_forget) */
	int slot;   /* a member's slot in the entry, -1 until its first enclave */
	int dir_fd; /* the registry ($SGX_EPC_DIR_FD, or opened with our own entry); -1 */
	int paging; /* the pager is open (the emulator's enclaves are paged by the model) */
	struct epc_pager pager;
} epc = { PTHREAD_MUTEX_INITIALIZER, 0, -1, 0, NULL, 0, -1, -1, 0, { 0 } };

int sgx_epc_fd(void)
{
	return epc.fd;
}

int sgx_epc_dir_fd(void)
{
	return epc.dir_fd;
}

/*
 * The paging model's handle, for the emulator's enclaves of a process with
 * a registry entry: opened at its first such enclave. Called with
 * epc.lock held, after epc_registry_fd (and a member's slot claimed).
 */
static int epc_paging_open(void)
{
	const char *v = getenv("SGX_EPC_DIR_FD");

	if (epc.paging)
		return 1;
	if (epc.fd < 0 || (epc.member && epc.slot < 0))
		return 0;
	if (epc.dir_fd < 0 && v && *v && !epc.path)
		epc.dir_fd = fcntl(atoi(v), F_DUPFD_CLOEXEC, 3);
	if (epc.dir_fd < 0 && epc.path)
		epc.dir_fd = open(epc_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (epc.dir_fd < 0)
		return 0;
	epc.paging = epc_pager_open(&epc.pager, epc.dir_fd, epc.fd, epc.member ? epc.slot : -1,
				    epc_size()) == 0;
	return epc.paging;
}

static void epc_paging_close(void)
{
	if (epc.paging)
		epc_pager_close(&epc.pager);
	epc.paging = 0;
}

/* Entering an enclave of ours whose pages the model has out: load them back. */
static void epc_paging_reload(void)
{
	int64_t ns = 0;

	pthread_mutex_lock(&epc.lock);
	if (epc.paging)
		ns = epc_pager_reload(&epc.pager);
	pthread_mutex_unlock(&epc.lock);
	if (epc.pager.delay)
		epc_pager_spend(ns);
}

/* On every entry of an enclave the model pages: a few loads unless it has pages out. */
static inline void epc_paging_enter(const struct sgx_encl *e)
{
	if (e->paged && epc_pager_enter(&epc.pager))
		epc_paging_reload();
}

/* This process's pages into its line of the entry (the holder's, or a member's slot). */
static void epc_publish(void)
{
	if (epc.fd < 0)
		return;
	if (epc.member)
		epc_entry_slot_set(epc.fd, epc.slot, epc.pages);
	else
		epc_entry_set(epc.fd, epc.pages);
}

/* Called with epc.lock held, after epc_registry_fd. */
static int epc_limit(uint64_t *limit, char source[EPC_SOURCE_MAX], err_t *err)
{
	const char *v = getenv("SGX_EPC_LIMIT_BYTES"), *s = getenv("SGX_EPC_LIMIT_SOURCE");
	char *end;

	*limit = 0;
	if (epc.fd >= 0 && !epc.path && epc_entry_limit(epc.fd, limit, source) == 1)
		return 0;
	snprintf(source, EPC_SOURCE_MAX, "%s", s && *s ? s : "SGX_EPC_LIMIT_BYTES");
	if (!v || !*v)
		return 0;
	errno = 0;
	*limit = strtoull(v, &end, 10);
	if (errno || *end || *v == '-')
		return err_set(err, EINVAL, "SGX_EPC_LIMIT_BYTES=%s: not a number of bytes", v);
	return 0;
}

static void epc_registry_fd(void)
{
	const char *v = getenv("SGX_EPC_FD");

	if (epc.fd >= 0 || epc.tried)
		return;
	epc.tried = 1;
	if (v && *v) {
		int fd = atoi(v);

		/* Only the lock holder's: a child forked off it must not write its parent's entry. */
		if (fd >= 0 && epc_entry_held(fd))
			epc.fd = fd;
		return;
	}
	/* Only where rune made the registry: a bare libsgx user leaves no directory behind. */
	if (access(epc_dir(), W_OK) < 0)
		return;
	epc.fd = epc_entry_open(epc_dir(), &epc.path, NULL);
	if (epc.fd < 0)
		epc.fd = -1;
	else
		epc.tried = 0; /* dropped at 0 pages, opened again for the next enclave */
}

/* "16 MiB", "1.5 MiB", "40 KiB": sizes as a limit's owner would write them. */
static const char *size_str(uint64_t bytes, char buf[32])
{
	if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
		snprintf(buf, 32, "%llu MiB", (unsigned long long)(bytes >> 20));
	else if (bytes >= (1 << 20))
		snprintf(buf, 32, "%.1f MiB", (double)bytes / (1 << 20));
	else
		snprintf(buf, 32, "%llu KiB", (unsigned long long)((bytes + 1023) >> 10));
	return buf;
}

/* An entry of our own goes when we hold no EPC; 1 if it went. Called with epc.lock held. */
static int epc_drop_own(void)
{
	if (epc.fd < 0 || !epc.path || epc.pages)
		return 0;
	unlink(epc.path);
	close(epc.fd);
	free(epc.path);
	epc.path = NULL;
	epc.fd = -1;
	return 1;
}

static int epc_charge(struct sgx_encl *e, const struct sgx_image *img,
		      const struct sgx_backend_ops *be, err_t *err)
{
	uint64_t pages = 1, limit; /* the SECS */
	const char *ct = getenv("SGX_EPC_CONTAINER");
	char source[EPC_SOURCE_MAX];
	int ret;

	for (size_t i = 0; i < img->npages; i++)
		pages += sgx_image_page_count(&img->pages[i]);
	int shared, locked = 0;
	uint64_t used;

	pthread_mutex_lock(&epc.lock);
	epc_registry_fd();
	if ((ret = epc_limit(&limit, source, err)) < 0)
		goto fail;
	/*
	 * A container's entry (rune's) counts every process of the container:
	 * the total is checked and added to under the entry's lock, so that
	 * the LibOS's child processes are held to the limit together.
	 */
	shared = epc.fd >= 0 && !epc.path;
	used = epc.pages;
	if (shared) {
		if (epc.member && epc.slot < 0 && (epc.slot = epc_entry_slot_claim(epc.fd)) < 0) {
			ret =
			    err_sys(err, -epc.slot, "EPC registry entry: a slot for this process");
			epc.slot = -1;
			goto fail;
		}
		if ((ret = epc_entry_lock(epc.fd)) < 0) {
			ret = err_sys(err, -ret, "EPC registry entry: lock");
			goto fail;
		}
		locked = 1;
		int64_t total = epc_entry_total(epc.fd, epc.slot);

		if (total < 0) {
			ret = err_set(err, EIO, "EPC registry entry: unreadable");
			goto fail;
		}
		used = (uint64_t)total;
	}
	if (limit && (used + pages) * SGX_PAGE_SIZE > limit) {
		char l[32], u[32], r[32];

		ret = err_set(
		    err, EDQUOT, "EPC limit exceeded: %s%s%slimit %s (%s), request %s, in use %s",
		    ct && *ct ? "container " : "", ct && *ct ? ct : "", ct && *ct ? ", " : "",
		    size_str(limit, l), source, size_str(pages * SGX_PAGE_SIZE, r),
		    size_str(used * SGX_PAGE_SIZE, u));
		goto fail;
	}
	/*
	 * The emulator's enclaves past the EPC: the model evicts to make room
	 * (the kernel pages the driver's). The pages are published under the
	 * model's lock, so that its next step sees them.
	 */
	int paged = be == &sgx_emu_backend && epc_paging_open() && epc_pager_lock(&epc.pager) == 0;
	int64_t ns = paged ? epc_pager_charge_locked(&epc.pager, pages) : 0;

	epc.pages += pages;
	e->epc_pages = pages;
	e->paged = paged;
	epc_publish();
	if (paged)
		epc_pager_unlock(&epc.pager);
	if (locked)
		epc_entry_unlock(epc.fd);
	pthread_mutex_unlock(&epc.lock);
	if (paged && epc.pager.delay)
		epc_pager_spend(ns);
	return 0;
fail:
	if (locked)
		epc_entry_unlock(epc.fd);
	epc_drop_own();
	pthread_mutex_unlock(&epc.lock);
	return ret;
}

static void epc_uncharge(struct sgx_encl *e)
{
	if (!e->epc_pages)
		return;
	pthread_mutex_lock(&epc.lock);
	epc.pages -= e->epc_pages;
	e->epc_pages = 0;
	if (epc.paging)
		epc_pager_uncharge(&epc.pager, epc.pages);
	if (!epc.pages && epc.path) {
		/* Our entry goes, and its registry with it: the next may be another. */
		epc_paging_close();
		if (epc.dir_fd >= 0)
			close(epc.dir_fd);
		epc.dir_fd = -1;
	}
	if (!epc_drop_own())
		epc_publish();
	pthread_mutex_unlock(&epc.lock);
}

uint64_t sgx_epc_pages(void)
{
	uint64_t n;

	pthread_mutex_lock(&epc.lock);
	n = epc.pages;
	pthread_mutex_unlock(&epc.lock);
	return n;
}

void sgx_encl_destroy(struct sgx_encl *e)
{
	if (!e)
		return;
	if (e->be)
		e->be->destroy(e);
	epc_uncharge(e);
	free(e->tcs_off);
	free((void *)e->tcs_busy);
	free(e);
}

void sgx_encl_forget(struct sgx_encl *e)
{
	if (!e)
		return;
	e->forgetting = 1;
	if (e->be)
		e->be->destroy(e);
	/*
	 * A process forked off an enclave's: none of its parent's enclaves
	 * are its own. A container's entry (rune's) stays: this process
	 * becomes a member, with a slot of its own at its first enclave, so
	 * the container's limit holds its enclaves and its parent's together.
	 * An entry of the parent's own is the parent's: this process gets one
	 * of its own at its first enclave, as any user of libsgx does (so the
	 * host's use and the paging model count it). The lock may have been
	 * held by another thread at fork().
	 */
	pthread_mutex_init(&epc.lock, NULL);
	pthread_mutex_lock(&epc.lock);
	epc.pages = 0;
	/* The parent's record and its lock's description: ours come with our first enclave. */
	epc_paging_close();
	epc.tried = 1;
	if (epc.fd >= 0 && !epc.path) {
		epc.member = 1;
		epc.slot = -1; /* POSIX locks are not inherited: the parent's slot is its own */
	} else {
		epc.tried = epc.fd < 0; /* a parent that had no entry could not make one */
		if (epc.fd >= 0)
			close(epc.fd);
		free(epc.path);
		epc.path = NULL;
		epc.fd = -1;
		if (epc.dir_fd >= 0)
			close(epc.dir_fd);
		epc.dir_fd = -1;
	}
	pthread_mutex_unlock(&epc.lock);
	free(e->tcs_off);
	free((void *)e->tcs_busy);
	free(e);
}

int sgx_encl_load(struct sgx_encl **out, const struct sgx_image *img,
		  const struct sgx_sigstruct *ss, const struct sgx_load_opts *o, int *einit_class,
		  err_t *err)
{
	struct sgx_secs *secs __attribute__((cleanup(cleanup_freep))) = NULL;
	struct sgx_encl *e;
	const struct sgx_backend_ops *be = NULL;
	int ret;

	if (einit_class)
		*einit_class = 0;
	if (!is_pow2(img->size) || img->size < SGX_PAGE_SIZE)
		return err_set(err, EINVAL, "enclave size %#llx is not a power of two",
			       (unsigned long long)img->size);
	/*
	 * ECREATE takes the SECS's attributes from the SIGSTRUCT: something that
	 * isn't one (garbage, a truncated or wrong file) is named as such, not
	 * blamed on the XFRM it happens to hold. EINIT's class, as EINIT would.
	 */
	if (!(o && o->set_secs) && (memcmp(ss->header.header, SGX_SIGSTRUCT_HEADER, 16) != 0 ||
				    memcmp(ss->header.header2, SGX_SIGSTRUCT_HEADER2, 16) != 0)) {
		if (einit_class)
			*einit_class = SGX_INVALID_SIG_STRUCT;
		return err_set(err, EPERM,
			       "EINIT: SGX_INVALID_SIG_STRUCT: not a SIGSTRUCT (its header is not "
			       "06000000E10000000000010000000000)");
	}
	ret = pick_backend(o, &be, err);
	if (ret < 0)
		return ret;
	/* ECREATE wants the SECS page aligned. */
	secs = aligned_alloc(SGX_SECS_ALIGN, sizeof(*secs));
	e = calloc(1, sizeof(*e));
	if (!secs || !e) {
		free(e);
		return err_sys(err, ENOMEM, "allocate enclave");
	}
	memset(secs, 0, sizeof(*secs));
	secs->size = img->size;
	secs->ssaframesize = img->ssaframesize ? img->ssaframesize : 1;
	if (o && o->set_secs) {
		secs->attributes = o->attributes;
		secs->xfrm = o->xfrm;
		secs->miscselect = o->miscselect;
	} else {
		secs->attributes = ss->body.attributes;
		secs->xfrm = ss->body.xfrm;
		secs->miscselect = ss->body.miscselect;
	}
	e->size = img->size;
	e->attributes = secs->attributes;
	e->xfrm = secs->xfrm;
	e->miscselect = secs->miscselect;
	ret = collect_tcs(e, img, err);
	if (ret < 0)
		goto fail;
	if (o && o->fixed_base) {
		ret = check_fixed_base(e, img, o, err);
		if (ret < 0)
			goto fail;
	}
	ret = epc_charge(e, img, be, err);
	if (ret < 0)
		goto fail;
	e->be = be;
	ret = be->create(e, secs, o, err);
	if (ret < 0) {
		err_wrap(err, "ECREATE (%s)", be->name);
		goto fail;
	}
	for (size_t i = 0; i < img->npages; i++) {
		ret = be->add(e, &img->pages[i], err);
		if (ret < 0) {
			err_wrap(err, "EADD page at %#llx (%s)",
				 (unsigned long long)img->pages[i].offset, be->name);
			goto fail;
		}
	}
	ret = be->init(e, ss, img, err);
	if (ret > 0) {
		if (einit_class)
			*einit_class = ret;
		err_wrap(err, "EINIT: %s", sgx_return_code_name(ret));
		ret = -EPERM;
		if (err && *err)
			(*err)->code = EPERM;
		goto fail;
	}
	if (ret < 0) {
		err_wrap(err, "EINIT (%s)", be->name);
		goto fail;
	}
	memcpy(e->mrenclave, ss->body.enclavehash, 32);
	sgx_mrsigner(ss, e->mrsigner);
	*out = e;
	return 0;
fail:
	sgx_encl_destroy(e);
	return ret;
}

const char *sgx_encl_backend(const struct sgx_encl *e)
{
	return e->be->name;
}

int sgx_encl_is_emulated(const struct sgx_encl *e)
{
	return e->be == &sgx_emu_backend;
}

uint64_t sgx_encl_base(const struct sgx_encl *e)
{
	return e->base;
}

uint64_t sgx_encl_size(const struct sgx_encl *e)
{
	return e->size;
}

void sgx_encl_mrenclave(const struct sgx_encl *e, uint8_t mrenclave[32])
{
	memcpy(mrenclave, e->mrenclave, 32);
}

void sgx_encl_mrsigner(const struct sgx_encl *e, uint8_t mrsigner[32])
{
	memcpy(mrsigner, e->mrsigner, 32);
}

void sgx_encl_targetinfo(const struct sgx_encl *e, struct sgx_targetinfo *ti)
{
	memset(ti, 0, sizeof(*ti));
	memcpy(ti->mrenclave, e->mrenclave, 32);
	ti->attributes = e->attributes | SGX_ATTR_INIT;
	ti->xfrm = e->xfrm;
	ti->miscselect = e->miscselect;
}

unsigned sgx_encl_tcs_count(const struct sgx_encl *e)
{
	return e->ntcs;
}

int sgx_encl_tcs_acquire(struct sgx_encl *e, err_t *err)
{
	for (unsigned w = 0; w < (e->ntcs + 63) / 64; w++) {
		unsigned n = e->ntcs - w * 64 < 64 ? e->ntcs - w * 64 : 64;
		uint64_t cur = atomic_load(&e->tcs_busy[w]);

		for (;;) {
			unsigned i;

			for (i = 0; i < n && (cur & (1ULL << i)); i++)
				;
			if (i == n)
				break;
			if (atomic_compare_exchange_weak(&e->tcs_busy[w], &cur, cur | (1ULL << i)))
				return (int)(w * 64 + i);
		}
	}
	return err_set(err, EBUSY, "all %u enclave threads (TCS) are busy", e->ntcs);
}

int sgx_encl_tcs_claim(struct sgx_encl *e, int tcs, err_t *err)
{
	uint64_t bit;

	if (tcs < 0 || (unsigned)tcs >= e->ntcs)
		return err_set(err, EINVAL, "no TCS %d in this enclave", tcs);
	bit = 1ULL << (tcs % 64);
	if (atomic_fetch_or(&e->tcs_busy[tcs / 64], bit) & bit)
		return err_set(err, EBUSY, "TCS %d is busy", tcs);
	return tcs;
}

void sgx_encl_tcs_release(struct sgx_encl *e, int tcs)
{
	if (tcs >= 0 && (unsigned)tcs < e->ntcs)
		atomic_fetch_and(&e->tcs_busy[tcs / 64], ~(1ULL << (tcs % 64)));
}

struct exit_capture {
	struct sgx_encl_regs *regs;
	struct sgx_encl *encl;
	sgx_encl_step_fn step; /* NULL: return at the first exit */
	void *ctx;
	err_t *err;
	unsigned leaf; /* of the current entry */
	int emulated;  /* interrupts are reported (the vDSO resumes them itself) */
	int ret;       /* the step's verdict when it stops the run */
};

/*
 * The vDSO's user handler, in assembly: the entry function re-executes
 * ENCLU with whatever RDI/RSI/RDX/R8/R9 its handler returns in (it only
 * sets RAX, RBX and RCX), so this one calls loader_on_exit and then loads
 * them from the capture's regs for the next EENTER.
 */
__attribute__((visibility("hidden"))) long sgx_loader_user_handler(long rdi, long rsi, long rdx,
								   long ursp, long r8, long r9,
								   struct sgx_enclave_run *run);
__attribute__((visibility("hidden"))) long loader_on_exit(long rdi, long rsi, long rdx, long ursp,
							  long r8, long r9,
							  struct sgx_enclave_run *run);
_Static_assert(offsetof(struct sgx_enclave_run, user_data) == 32, "run.user_data");
_Static_assert(offsetof(struct exit_capture, regs) == 0, "capture.regs");
_Static_assert(offsetof(struct sgx_encl_regs, rdi) == 0 &&
		   offsetof(struct sgx_encl_regs, rsi) == 8 &&
		   offsetof(struct sgx_encl_regs, rdx) == 16 &&
		   offsetof(struct sgx_encl_regs, r8) == 24 &&
		   offsetof(struct sgx_encl_regs, r9) == 32,
	       "sgx_encl_regs layout");
asm(".text\n"
    "	.globl sgx_loader_user_handler\n"
    "	.hidden sgx_loader_user_handler\n"
    "	.type sgx_loader_user_handler, @function\n"
    "	.p2align 4\n"
    "sgx_loader_user_handler:\n"
    "	.cfi_startproc\n"
    "	push %rbx\n"
    "	.cfi_def_cfa_offset 16\n"
    "	.cfi_offset %rbx, -16\n"
    "	mov 16(%rsp), %rbx\n" /* run, the 7th argument */
    "	sub $8, %rsp\n"
    "	.cfi_def_cfa_offset 24\n"
    "	push %rbx\n"
    "	.cfi_def_cfa_offset 32\n"
    "	call loader_on_exit\n"
    "	add $16, %rsp\n"
    "	.cfi_def_cfa_offset 16\n"
    "	test %eax, %eax\n"
    "	jle 1f\n"
    "	mov 32(%rbx), %rbx\n" /* run->user_data: the capture */
    "	mov (%rbx), %rbx\n"   /* its regs */
    "	mov (%rbx), %rdi\n"
    "	mov 8(%rbx), %rsi\n"
    "	mov 16(%rbx), %rdx\n"
    "	mov 24(%rbx), %r8\n"
    "	mov 32(%rbx), %r9\n"
    "1:	pop %rbx\n"
    "	.cfi_def_cfa_offset 8\n"
    "	ret\n"
    "	.cfi_endproc\n"
    "	.size sgx_loader_user_handler, .-sgx_loader_user_handler\n");

/* How the enclave left, from what the entry function reports in run. */
static struct sgx_encl_exit exit_of(const struct sgx_enclave_run *run, unsigned leaf, int emulated)
{
	struct sgx_encl_exit x = { .eexit = run->function == SGX_EEXIT,
				   .leaf = leaf,
				   .function = run->function };

	if (!x.eexit) {
		x.vector = run->exception_vector;
		x.error_code = run->exception_error_code;
		x.addr = run->exception_addr;
		x.interrupted = emulated && x.vector == SGX_EMU_VECTOR_INTERRUPT;
	}
	return x;
}

/* On EEXIT, and on an exception the entry function reports (an AEX). */
long loader_on_exit(long rdi, long rsi, long rdx, long ursp, long r8, long r9,
		    struct sgx_enclave_run *run)
{
	struct exit_capture *c = (struct exit_capture *)(uintptr_t)run->user_data;
	struct sgx_encl_exit x = exit_of(run, c->leaf, c->emulated);
	int next;

	(void)ursp;
	if (x.eexit) {
		c->regs->rdi = rdi;
		c->regs->rsi = rsi;
		c->regs->rdx = rdx;
		c->regs->r8 = r8;
		c->regs->r9 = r9;
	}
	if (!c->step)
		return 0;
	next = c->step(c->ctx, &x, c->regs, c->err);
	if (next == SGX_EENTER || next == SGX_ERESUME) {
		c->leaf = (unsigned)next;
		epc_paging_enter(c->encl);
		return next;
	}
	c->ret = next < 0 ? next : 0;
	return 0;
}

static const char *vector_name(unsigned v)
{
	static const char *const names[] = { [0] = "#DE",  [1] = "#DB",	 [3] = "#BP", [6] = "#UD",
					     [13] = "#GP", [14] = "#PF", [17] = "#AC" };

	return v < ARRAY_SIZE(names) && names[v] ? names[v] : "exception";
}

int sgx_encl_exit_error(const struct sgx_encl *e, const struct sgx_encl_exit *x, err_t *err)
{
	const char *leaf = x->leaf == SGX_EENTER ? "EENTER" : "ERESUME";

	if (x->interrupted)
		return err_set(err, EINTR, "enclave interrupted (AEX) during %s (%s)", leaf,
			       e->be->name);
	return err_set(
	    err, EFAULT, "enclave %s (vector %u) at %#llx, error code %#x, during %s (%s)",
	    vector_name(x->vector), x->vector, (unsigned long long)x->addr, x->error_code,
	    x->function == SGX_EENTER				   ? "EENTER"
	    : x->function == SGX_ERESUME && x->leaf == SGX_ERESUME ? "ERESUME or execution"
								   : "execution",
	    e->be->name);
}

int sgx_encl_run(struct sgx_encl *e, int tcs, unsigned leaf, struct sgx_encl_regs *regs,
		 sgx_encl_step_fn step, void *ctx, err_t *err)
{
	struct sgx_enclave_run run;
	struct exit_capture cap = { .regs = regs,
				    .encl = e,
				    .step = step,
				    .ctx = ctx,
				    .err = err,
				    .leaf = leaf,
				    .emulated = sgx_encl_is_emulated(e) };
	uint64_t cookie[SGX_BACKEND_COOKIE_SIZE / 8];
	int ret;

	if (tcs < 0 || (unsigned)tcs >= e->ntcs)
		return err_set(err, EINVAL, "no TCS %d in this enclave", tcs);
	if (leaf != SGX_EENTER && leaf != SGX_ERESUME)
		return err_set(err, EINVAL, "ENCLU leaf %u is neither EENTER nor ERESUME", leaf);
	if (e->be->prepare) {
		ret = e->be->prepare(e, cookie, err);
		if (ret < 0)
			return ret;
	}
	memset(&run, 0, sizeof(run));
	run.tcs = e->base + e->tcs_off[tcs];
	run.user_handler = (uintptr_t)sgx_loader_user_handler;
	run.user_data = (uintptr_t)&cap;
	epc_paging_enter(e);
	ret = e->enter(regs->rdi, regs->rsi, regs->rdx, leaf, regs->r8, regs->r9, &run);
	if (e->be->finish)
		e->be->finish(e, cookie);
	if (ret < 0)
		return err_set(err, -ret, "%s (%s): %s",
			       cap.leaf == SGX_EENTER ? "EENTER" : "ERESUME", e->be->name,
			       strerror(-ret));
	if (step)
		return cap.ret;
	if (run.function != SGX_EEXIT) {
		struct sgx_encl_exit x = exit_of(&run, leaf, cap.emulated);

		return sgx_encl_exit_error(e, &x, err);
	}
	return 0;
}

int sgx_encl_interrupt(const struct sgx_encl *e, pid_t tid)
{
	if (!sgx_encl_is_emulated(e))
		return -ENOTSUP;
	return syscall(SYS_tgkill, getpid(), tid, SGX_INTERRUPT_SIGNAL) < 0 ? -errno : 0;
}

int sgx_encl_call(struct sgx_encl *e, int tcs, struct sgx_encl_regs *regs, err_t *err)
{
	return sgx_encl_run(e, tcs, SGX_EENTER, regs, NULL, NULL, err);
}

int sgx_encl_resume(struct sgx_encl *e, int tcs, struct sgx_encl_regs *regs, err_t *err)
{
	return sgx_encl_run(e, tcs, SGX_ERESUME, regs, NULL, NULL, err);
}
