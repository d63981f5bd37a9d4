/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TEE images for the LibOS (docs/libos.md): the manifest of a root
 * filesystem, the LibOS enclave with that manifest embedded (so MRENCLAVE
 * covers both), its SIGSTRUCT, and the files written into the rootfs:
 *   ROOTFS/.rune/libos.elf   the LibOS with the manifest as its last segment
 *   ROOTFS/.rune/libos.sig   the SIGSTRUCT (1808 bytes)
 *   ROOTFS/.rune/manifest    the manifest's text, for people (not used)
 * Shared by rune-image and (later) the shim's Carrier; the PAL uses
 * tee_libos_image() to lay out the same enclave it measured.
 */
#ifndef TEEIMAGE_H
#define TEEIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/image.h"
#include "sgx/sigstruct.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TEE_DIR	     ".rune"
#define TEE_ELF_NAME "libos.elf"
#define TEE_SIG_NAME "libos.sig"
#define TEE_MF_NAME  "manifest"
/* The longest RA-TLS file path the LibOS takes (libos.h's RATLS_PATH_MAX). */
#define TEE_RATLS_PATH_MAX 200

/* The bounds tee_build() checks. */
#define TEE_HEAP_MIN	(1ULL << 20)
#define TEE_HEAP_MAX	(3ULL << 30)
#define TEE_THREADS_MAX 4096U

struct tee_build_opts {
	const char *rootfs;	    /* the root filesystem (a directory) */
	const char *const *argv;    /* entrypoint argv; argv[0] is its path in the rootfs */
	const char *const *trusted; /* more trusted paths (files or directories), NULL-ended */
	const char *const *allowed; /* pass-through paths (files or directories), NULL-ended */
	const char *const *env;	    /* fixed environment (K=V), NULL-ended; NULL: the host's */
	int host_argv;		    /* the container's argv replaces the manifest's */
	uint64_t heap, stack;	    /* bytes; 0 = defaults */
	unsigned threads;	    /* enclave threads (TCS); 0 = 16 */
	int debug;		    /* the DEBUG attribute */
	const char *attestation;    /* "dcap": /dev/attestation/quote; NULL or "none": none */
	/*
	 * With attestation "dcap" and fixed argv: in-enclave paths where the
	 * LibOS serves an RA-TLS certificate and its private key (PEM, made in
	 * the enclave at start; docs/libos.md). NULL: none.
	 */
	const char *ratls_cert, *ratls_key;
	int no_default_trusted; /* only the entrypoint and trusted[] */
	const char *key_path;	/* RSA-3072 e=3 PEM; or, when NULL, sign: */
	/* Signs the SIGSTRUCT (its body set), e.g. through a signature service. */
	int (*sign)(struct sgx_sigstruct *ss, void *arg, err_t *err);
	void *sign_arg;
	const void *libos_elf; /* the unsigned LibOS enclave */
	size_t libos_len;
	const char *out_dir; /* where the TEE files go (made if missing); NULL: ROOTFS/.rune */
};

struct tee_build_result {
	uint8_t mrenclave[32], mrsigner[32];
};

/*
 * Builds and signs the image and writes ROOTFS/.rune/ (or out_dir).
 * Deterministic in its inputs.
 */
int tee_build(const struct tee_build_opts *o, struct tee_build_result *res, err_t *err);

/*
 * Where the LibOS goes in an enclave based at 0 (for an entrypoint linked
 * at fixed addresses): 64 KiB, at or above vm.mmap_min_addr on common
 * hosts (4096 or 65536), whatever the building host's is, so the layout
 * and MRENCLAVE do not depend on it.
 */
#define TEE_LIBOS_FIXED_OFFSET 65536ULL

/* A "key N" (decimal) line of a manifest: 0, -ENOENT or -EINVAL. */
int tee_manifest_u64(const char *mf, const char *key, uint64_t *v);

/*
 * The enclave image of a LibOS ELF with an embedded manifest: libsgx's
 * ELF layout with the manifest's heap (RWX, unmeasured) and threads.
 * With libos_offset, the LibOS sits at that enclave offset; with
 * enclave_base, the PAL must load it there (sgx_load_opts.fixed_base).
 * *manifest points into the ELF buffer's copy (NUL-terminated).
 */
int tee_libos_image(struct sgx_image *img, const void *elf, size_t len, const char **manifest,
		    err_t *err);

/* The default trusted set: every regular file under these (when present). */
#define TEE_DEFAULT_TRUSTED "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/usr", "/etc"
/*
 * Files every container runtime writes or bind-mounts at start (Docker,
 * Podman and the CRI give each container its own): their content is
 * unknown when the image is built, so with the default trusted set they
 * are allowed (passed through, unprotected), not trusted, unless named
 * with --trusted.
 */
#define TEE_RUNTIME_FILES "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"

struct tee_inspect_result {
	char *manifest;		  /* malloc'ed text */
	uint8_t mrenclave[32];	  /* measured from ROOTFS/.rune/libos.elf */
	struct sgx_sigstruct sig; /* ROOTFS/.rune/libos.sig */
	int sig_valid;		  /* sgx_sigstruct_check passed */
	int sig_matches;	  /* its ENCLAVEHASH is mrenclave */
};

/* Reads a TEE image back: what `rune-image inspect` prints. */
int tee_inspect(const char *rootfs, struct tee_inspect_result *res, err_t *err);

/*
 * Opens path (absolute) inside the directory rootfd with every symlink
 * resolved inside it (openat2 RESOLVE_IN_ROOT); where openat2 is missing,
 * symlinks are refused instead (ELOOP).
 */
int tee_open_in_root(int rootfd, const char *path, int flags);

/* Where a bare entrypoint name is looked up in an image. */
#define TEE_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * argv[0] of an image as the absolute path of a regular file in the
 * rootfs (rootfd), a bare name looked up in TEE_DEFAULT_PATH; *out
 * malloc'ed. Errors begin "entrypoint: ".
 */
int tee_resolve_entrypoint(int rootfd, const char *prog, char **out, err_t *err);

/*
 * The unsigned LibOS enclave of this installation: libos.elf found
 * relative to the running program (../share/libos/ in the build tree,
 * ../share/rune/libos/ installed); malloc'ed, or NULL.
 */
char *tee_libos_default(void);

/*
 * A bundle's rootfs (config.json's root.path, made absolute) and, when
 * *argv is NULL, its process.args (NULL if empty); malloc'ed.
 */
int tee_bundle_read(const char *bundle, char **rootfs, char ***argv, err_t *err);

/*
 * Makes the bundle's config.json run the TEE image: ENCLAVE_TYPE,
 * ENCLAVE_RUNTIME_PATH=pal, ENCLAVE_RUNTIME_ARGS=root=/ in process.env
 * (earlier ENCLAVE_* dropped), process.args = argv and, with tee_src,
 * a read-only bind mount of that directory at /.rune. The file is
 * replaced whole or left as it was.
 */
int tee_bundle_enclave(const char *bundle, const char *pal, const char *const *argv,
		       const char *tee_src, err_t *err);

/* A size: decimal bytes, or with K, M or G (powers of 1024). 0, or -1 if malformed. */
int tee_parse_size(const char *s, uint64_t *v);

/*
 * A container's own manifest options, from its OCI annotations (the pod's
 * or the container's; docs/shim.md): enclave.libos.heap (a size),
 * enclave.libos.threads, enclave.libos.trusted and enclave.libos.allowed
 * (absolute paths, comma-separated). Unset: 0 / NULL.
 */
#define TEE_ANN_HEAP	"enclave.libos.heap"
#define TEE_ANN_THREADS "enclave.libos.threads"
#define TEE_ANN_TRUSTED "enclave.libos.trusted"
#define TEE_ANN_ALLOWED "enclave.libos.allowed"
struct tee_libos_opts {
	uint64_t heap;
	unsigned threads;
	char **trusted, **allowed; /* NULL-ended */
};
/* Errors name the annotation and the reason ("annotation enclave.libos.heap \"1Q\": ..."). */
int tee_bundle_libos_opts(const char *bundle, struct tee_libos_opts *o, err_t *err);
void tee_libos_opts_free(struct tee_libos_opts *o);

/* Reads a file whole (at most max bytes). */
int tee_read_file(const char *path, size_t max, void **buf, size_t *len, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
