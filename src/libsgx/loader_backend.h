/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the loader: what each backend (driver.c, emu.c) provides. */
#ifndef SGX_LOADER_BACKEND_H
#define SGX_LOADER_BACKEND_H

#include <stdatomic.h>

#include "sgx/loader.h"

struct sgx_backend_ops;

struct sgx_encl {
	const struct sgx_backend_ops *be;
	void *priv;
	uint64_t base, size;
	uint64_t map_from; /* fixed base: offset of the lowest page (the rest is never mapped) */
	unsigned ntcs;
	uint64_t *tcs_off;
	_Atomic uint64_t *tcs_busy; /* acquire/release bitmap, one bit per TCS */
	uint8_t mrenclave[32], mrsigner[32];
	uint64_t attributes, xfrm;
	uint32_t miscselect;
	vdso_sgx_enter_enclave_t enter;
	uint64_t epc_pages; /* charged to this process's EPC use (SECS and every page) */
	int paged;	    /* the paging model's (emulated, with a registry entry) */
	int forgetting;	    /* sgx_encl_forget: release everything, keep no reservation */
};

/* Room a backend may use across prepare/finish. */
#define SGX_BACKEND_COOKIE_SIZE 256

/* What the emulator's fixup reports for an interrupt's AEX (an external interrupt vector). */
#define SGX_EMU_VECTOR_INTERRUPT 32

struct sgx_backend_ops {
	const char *name;
	/*
	 * ECREATE: reserves the ELRANGE (secs->base is set here), fills e->base;
	 * with o->fixed_base, at o->base and only from e->map_from up.
	 */
	int (*create)(struct sgx_encl *e, struct sgx_secs *secs, const struct sgx_load_opts *o,
		      err_t *err);
	int (*add)(struct sgx_encl *e, const struct sgx_image_page *p, err_t *err);
	/* 0, a negative errno, or the positive EINIT error class (err set). */
	int (*init)(struct sgx_encl *e, const struct sgx_sigstruct *ss, const struct sgx_image *img,
		    err_t *err);
	/* Per calling thread, before and after each entry (state kept in *cookie). */
	int (*prepare)(struct sgx_encl *e, void *cookie, err_t *err);
	void (*finish)(struct sgx_encl *e, void *cookie);
	void (*destroy)(struct sgx_encl *e);
};

extern const struct sgx_backend_ops sgx_driver_backend;
extern const struct sgx_backend_ops sgx_emu_backend;

/* Symbol of the running process's vDSO, or NULL. */
void *sgx_vdso_sym(const char *name);

#endif
