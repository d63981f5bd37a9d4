/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Carrier (docs/shim.md): an ordinary container bundle made to run in
 * the LibOS enclave at create time. The TEE files are built with
 * tee_build() into a node-wide cache, never into the image, and
 * bind-mounted read-only at /.rune; config.json gets the ENCLAVE_*
 * settings. Cache entries are keyed on what determines them (the LibOS,
 * the rootfs's committed layers by identity, the entrypoint, the manifest
 * options, the signer) so a second container of the same image neither
 * hashes its rootfs nor signs again. Used by `rune-image carrier`, which
 * the shim runs at Create.
 */
#ifndef TEEIMAGE_CARRIER_H
#define TEEIMAGE_CARRIER_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/sigstruct.h"

#ifdef __cplusplus
extern "C" {
#endif

enum tee_sign_method {
	TEE_SIGN_CLIENT,    /* the image carries its own signed TEE image; nothing built */
	TEE_SIGN_LOCAL_KEY, /* signed with key_path, a key on the node */
	TEE_SIGN_SERVER,    /* signed through sign() (a signature service) */
};

#define TEE_CARRIER_CACHE     "/var/lib/rune/carrier"
#define TEE_CARRIER_ENTRIES   64
#define TEE_CARRIER_MAX_BYTES (512ULL << 20)

struct tee_carrier_opts {
	const char *bundle;
	enum tee_sign_method method;
	const char *key_path;					      /* TEE_SIGN_LOCAL_KEY */
	int (*sign)(struct sgx_sigstruct *ss, void *arg, err_t *err); /* TEE_SIGN_SERVER */
	void *sign_arg;
	const char *signer_id; /* TEE_SIGN_SERVER: who signs, for the cache key (its URL) */
	const char *cache_dir; /* NULL: TEE_CARRIER_CACHE */
	unsigned max_entries;  /* 0: TEE_CARRIER_ENTRIES */
	uint64_t max_bytes;    /* 0: TEE_CARRIER_MAX_BYTES */
	const char *const
	    *layers;	       /* the rootfs's committed layers (overlay lowerdirs); NULL-ended */
	const void *libos_elf; /* the unsigned LibOS enclave */
	size_t libos_len;
	const char *pal; /* ENCLAVE_RUNTIME_PATH */
	int debug;	 /* the enclave's DEBUG attribute */
};

struct tee_carrier_result {
	int own;	  /* the image's own TEE image is used */
	int cached;	  /* taken from the cache, nothing built */
	char key[65];	  /* the cache entry (hex), "" if none */
	char entry[4096]; /* its directory, bind-mounted at /.rune */
};

/*
 * Prepares the bundle (its rootfs mounted) to run in the LibOS. Errors
 * name the step: "entrypoint: ...", "the image's TEE image: ...", "cache
 * DIR: ...", "build: ...", "mount point /.rune: ...". On failure the
 * bundle and the rootfs are as they were.
 */
int tee_carrier(const struct tee_carrier_opts *o, struct tee_carrier_result *res, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
