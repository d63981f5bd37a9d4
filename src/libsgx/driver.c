// SPDX-License-Identifier: Apache-2.0
/*
 * Loader backend for the Linux SGX driver (/dev/sgx_enclave, Linux 5.11+):
 * ECREATE, EADD(+EEXTEND) and EINIT are ioctls, the enclave is then
 * mmapped from the device at its ELRANGE, and entered through the vDSO's
 * __vdso_sgx_enter_enclave. Every system call goes through sgx_driver_ops
 * so the sequence can be unit-tested without SGX.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sgx/image.h"
#include "sgx/sigstruct.h"
#include "loader_backend.h"

struct drv {
	struct sgx_driver_ops ops;
	int fd;
	void *area; /* the ELRANGE reservation */
	size_t area_len;
	uint8_t *bounce; /* the kernel wants page-aligned sources */
};

static int real_open(const char *path, int flags)
{
	return open(path, flags);
}

static int real_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static void fill_ops(struct sgx_driver_ops *d, const struct sgx_driver_ops *o)
{
	d->open = o && o->open ? o->open : real_open;
	d->close = o && o->close ? o->close : close;
	d->ioctl = o && o->ioctl ? o->ioctl : real_ioctl;
	d->mmap = o && o->mmap ? o->mmap : mmap;
	d->munmap = o && o->munmap ? o->munmap : munmap;
	d->enter = o ? o->enter : NULL;
}

/*
 * Finds a dynamic symbol of the vDSO the kernel mapped into us, through
 * its section headers (the vDSO image is mapped whole).
 */
void *sgx_vdso_sym(const char *name)
{
	const uint8_t *base = (const uint8_t *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Shdr *sh;
	const Elf64_Phdr *ph;
	uint64_t load_vaddr = 0;

	if (!base || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return NULL;
	ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			load_vaddr = ph[i].p_vaddr - ph[i].p_offset;
			break;
		}
	sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;
		size_t n;

		if (sh[i].sh_type != SHT_DYNSYM || !sh[i].sh_entsize ||
		    sh[i].sh_link >= eh->e_shnum)
			continue;
		sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		n = sh[i].sh_size / sh[i].sh_entsize;
		for (size_t j = 0; j < n; j++) {
			if (ELF64_ST_TYPE(sym[j].st_info) != STT_FUNC || !sym[j].st_shndx)
				continue;
			if (!strcmp(str + sym[j].st_name, name))
				return (void *)(base + sym[j].st_value - load_vaddr);
		}
	}
	return NULL;
}

static void drv_destroy(struct sgx_encl *e)
{
	struct drv *d = e->priv;

	if (!d)
		return;
	if (d->area)
		d->ops.munmap(d->area, d->area_len);
	if (d->fd >= 0)
		d->ops.close(d->fd);
	free(d->bounce);
	free(d);
	e->priv = NULL;
}

/*
 * SGX_IOC_ENCLAVE_PROVISION with an fd of sgx_provision (beside the enclave
 * device): the driver then lets EINIT give the PROVISIONKEY attribute.
 */
static int open_provision_gate(struct drv *d, const char *dev, err_t *err)
{
	struct sgx_enclave_provision prov;
	const char *slash = strrchr(dev, '/');
	char path[4096];
	int fd, ret;

	snprintf(path, sizeof(path), "%.*ssgx_provision", slash ? (int)(slash - dev + 1) : 0, dev);
	fd = d->ops.open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open %s (the PROVISIONKEY attribute needs it)", path);
	prov.fd = fd;
	ret = d->ops.ioctl(d->fd, SGX_IOC_ENCLAVE_PROVISION, &prov);
	if (ret < 0)
		ret = err_sys(err, errno, "SGX_IOC_ENCLAVE_PROVISION");
	d->ops.close(fd);
	return ret < 0 ? ret : 0;
}

static int drv_create(struct sgx_encl *e, struct sgx_secs *secs, const struct sgx_load_opts *o,
		      err_t *err)
{
	const char *dev = o && o->device ? o->device : SGX_DEVICE_PATH;
	struct sgx_enclave_create create;
	struct drv *d;
	uint8_t *area, *base;

	d = calloc(1, sizeof(*d));
	if (!d)
		return err_sys(err, ENOMEM, "allocate driver state");
	d->fd = -1;
	e->priv = d;
	fill_ops(&d->ops, o ? o->ops : NULL);
	e->enter = d->ops.enter
		       ? d->ops.enter
		       : (vdso_sgx_enter_enclave_t)sgx_vdso_sym("__vdso_sgx_enter_enclave");
	if (!e->enter)
		return err_set(err, ENOSYS, "the kernel's vDSO has no __vdso_sgx_enter_enclave");
	d->fd = d->ops.open(dev, O_RDWR | O_CLOEXEC);
	if (d->fd < 0)
		return err_sys(err, errno, "open %s", dev);
	if (o && o->fixed_base) {
		/* Only from the lowest page up: below it may be below mmap_min_addr. */
		uint8_t *want = (uint8_t *)(uintptr_t)(o->base + e->map_from);
		size_t len = secs->size - e->map_from;

		area = d->ops.mmap(want, len, PROT_NONE,
				   MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (area == MAP_FAILED)
			return err_sys(err, errno, "reserve the ELRANGE at %p..%p (fixed base)",
				       want, want + len);
		if (area != want) { /* a kernel without MAP_FIXED_NOREPLACE */
			d->ops.munmap(area, len);
			return err_set(err, EEXIST,
				       "reserve the ELRANGE at %p..%p (fixed base): in use", want,
				       want + len);
		}
		base = (uint8_t *)(uintptr_t)o->base;
		d->area = area;
		d->area_len = len;
	} else {
		/* The ELRANGE must be aligned to its size: reserve twice, keep the aligned half. */
		area =
		    d->ops.mmap(NULL, secs->size * 2, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (area == MAP_FAILED)
			return err_sys(err, errno, "reserve %#llx bytes of address space",
				       (unsigned long long)secs->size * 2);
		base =
		    (uint8_t *)(((uintptr_t)area + secs->size - 1) & ~(uintptr_t)(secs->size - 1));
		if (base > area)
			d->ops.munmap(area, base - area);
		if (base + secs->size < area + secs->size * 2)
			d->ops.munmap(base + secs->size,
				      area + secs->size * 2 - (base + secs->size));
		d->area = base;
		d->area_len = secs->size;
	}
	e->base = (uintptr_t)base;
	secs->base = (uintptr_t)base;
	create.src = (uintptr_t)secs;
	if (d->ops.ioctl(d->fd, SGX_IOC_ENCLAVE_CREATE, &create) < 0)
		return err_sys(err, errno, "SGX_IOC_ENCLAVE_CREATE");
	if ((secs->attributes & SGX_ATTR_PROVISIONKEY) && o && o->allow_provision)
		return open_provision_gate(d, dev, err);
	return 0;
}

static const uint8_t zero_page[SGX_PAGE_SIZE] __attribute__((aligned(4096)));

/* One SGX_IOC_ENCLAVE_ADD_PAGES for [offset, offset + len) from src (page aligned). */
static int add_range(struct drv *d, const uint8_t *src, uint64_t offset, uint64_t len,
		     const struct sgx_secinfo *secinfo, int measured, err_t *err)
{
	struct sgx_enclave_add_pages add;
	uint64_t done = 0;

	/* The driver may add fewer bytes than asked (count): go on from there. */
	while (done < len) {
		memset(&add, 0, sizeof(add));
		add.src = (uintptr_t)src + done;
		add.offset = offset + done;
		add.length = len - done;
		add.secinfo = (uintptr_t)secinfo;
		add.flags = measured ? SGX_PAGE_MEASURE : 0;
		if (d->ops.ioctl(d->fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add) < 0 && errno != EINTR &&
		    errno != EAGAIN)
			return err_sys(err, errno, "SGX_IOC_ENCLAVE_ADD_PAGES");
		if (add.count > add.length || add.count % SGX_PAGE_SIZE)
			return err_set(
			    err, EIO,
			    "SGX_IOC_ENCLAVE_ADD_PAGES: count beyond length or not whole "
			    "pages");
		done += add.count;
	}
	return 0;
}

/*
 * A run of pages with one SECINFO and measure flag is one ioctl (the kernel
 * EADDs it page by page): a heap of zero pages comes from a read-only
 * anonymous mapping, which costs no memory (every page is the zero page)
 * and is VM_MAYEXEC, as the driver wants of any source (noexec check).
 */
static int drv_add(struct sgx_encl *e, const struct sgx_image_page *p, err_t *err)
{
	struct drv *d = e->priv;
	struct sgx_secinfo secinfo __attribute__((aligned(SGX_SECINFO_ALIGN)));
	uint64_t n = sgx_image_page_count(p), len;
	void *zeros;
	int ret;

	if (n > SIZE_MAX / SGX_PAGE_SIZE)
		return err_set(err, EINVAL, "%llu pages: too many", (unsigned long long)n);
	len = n * SGX_PAGE_SIZE;
	memset(&secinfo, 0, sizeof(secinfo));
	secinfo.flags = p->flags;
	if (p->data && (uintptr_t)p->data % SGX_PAGE_SIZE) {
		/* The kernel wants page-aligned sources: through a bounce page. */
		if (!d->bounce && !(d->bounce = aligned_alloc(SGX_PAGE_SIZE, SGX_PAGE_SIZE)))
			return err_sys(err, ENOMEM, "allocate a page");
		for (uint64_t i = 0; i < n; i++) {
			memcpy(d->bounce, p->data + i * SGX_PAGE_SIZE, SGX_PAGE_SIZE);
			ret = add_range(d, d->bounce, p->offset + i * SGX_PAGE_SIZE, SGX_PAGE_SIZE,
					&secinfo, p->measured, err);
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	if (p->data || n == 1)
		return add_range(d, p->data ? p->data : zero_page, p->offset, len, &secinfo,
				 p->measured, err);
	/* Memory, not a driver call: not through the ops. */
	zeros = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (zeros == MAP_FAILED)
		return err_sys(err, errno, "map %llu zero pages", (unsigned long long)n);
	ret = add_range(d, zeros, p->offset, len, &secinfo, p->measured, err);
	munmap(zeros, len);
	return ret;
}

static int page_prot(uint64_t flags)
{
	/* The driver lets a TCS be mapped read/write (the CPU still protects it). */
	if ((flags & SGX_SECINFO_PT_MASK) == SGX_SECINFO_TCS)
		return PROT_READ | PROT_WRITE;
	return (flags & SGX_SECINFO_R ? PROT_READ : 0) | (flags & SGX_SECINFO_W ? PROT_WRITE : 0) |
	       (flags & SGX_SECINFO_X ? PROT_EXEC : 0);
}

/*
 * Mainline Linux turns every EINIT error code into EPERM. Name the class
 * anyway: the same checks in software give the one the CPU must have hit.
 */
static int einit_refused(struct sgx_encl *e, const struct sgx_sigstruct *ss,
			 const struct sgx_image *img, err_t *err)
{
	err_t sw = NULL;
	uint8_t mr[32];
	int cls;

	if (sgx_image_measure(img, mr, &sw) < 0) {
		err_free(&sw);
		return err_set(err, EPERM, "SGX_IOC_ENCLAVE_INIT: the CPU refused the SIGSTRUCT");
	}
	cls = sgx_einit_check(ss, mr, e->attributes, e->xfrm, e->miscselect, &sw);
	if (cls > 0) {
		err_set(err, EPERM,
			"%s (the kernel says EPERM; class from the same checks in software)",
			err_msg(sw));
		err_free(&sw);
		return cls;
	}
	err_free(&sw);
	return err_set(err, EPERM,
		       "SGX_IOC_ENCLAVE_INIT refused a SIGSTRUCT that verifies: is its signer "
		       "allowed by the platform's launch control?");
}

static int drv_init(struct sgx_encl *e, const struct sgx_sigstruct *ss, const struct sgx_image *img,
		    err_t *err)
{
	struct drv *d = e->priv;
	struct sgx_sigstruct *aligned __attribute__((cleanup(cleanup_freep))) = NULL;
	struct sgx_enclave_init init;
	size_t i = 0;
	int ret;

	aligned = aligned_alloc(SGX_SIGSTRUCT_ALIGN, 2 * SGX_PAGE_SIZE);
	if (!aligned)
		return err_sys(err, ENOMEM, "allocate SIGSTRUCT");
	memcpy(aligned, ss, sizeof(*ss));
	init.sigstruct = (uintptr_t)aligned;
	ret = d->ops.ioctl(d->fd, SGX_IOC_ENCLAVE_INIT, &init);
	if (ret > 0) {
		err_set(err, EPERM, "the CPU refused the SIGSTRUCT");
		return ret;
	}
	if (ret < 0 && errno == EPERM)
		return einit_refused(e, ss, img, err);
	if (ret < 0)
		return err_sys(err, errno, "SGX_IOC_ENCLAVE_INIT");
	/* Map runs of pages with the same permissions. */
	while (i < img->npages) {
		size_t j = i + 1;
		int prot = page_prot(img->pages[i].flags);
		uint64_t from = img->pages[i].offset,
			 to = from + sgx_image_page_count(&img->pages[i]) * SGX_PAGE_SIZE;
		void *want = (void *)(uintptr_t)(e->base + from), *got;

		while (j < img->npages && page_prot(img->pages[j].flags) == prot &&
		       img->pages[j].offset == to) {
			to += sgx_image_page_count(&img->pages[j]) * SGX_PAGE_SIZE;
			j++;
		}
		got = d->ops.mmap(want, to - from, prot, MAP_SHARED | MAP_FIXED, d->fd, 0);
		if (got != want)
			return err_sys(err, got == MAP_FAILED ? errno : EFAULT,
				       "mmap enclave pages at %#llx", (unsigned long long)from);
		i = j;
	}
	return 0;
}

const struct sgx_backend_ops sgx_driver_backend = {
	.name = "sgx",
	.create = drv_create,
	.add = drv_add,
	.init = drv_init,
	.destroy = drv_destroy,
};
