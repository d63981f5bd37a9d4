/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Offline conversion of an image archive into a TEE image archive
 * (docs/libos.md, "rune-image convert"): the image's layers applied in
 * order (whiteouts honoured, hostile entries refused) to a temporary
 * rootfs, the TEE files built from it with tee_build() and added as a
 * new top layer (/.rune), the config given the ENCLAVE_* settings and the
 * resolved entrypoint. The output has the input's format: a docker-archive
 * (`docker save`), an OCI layout in a tar (`podman save --format
 * oci-archive`, `ctr images export`), or both at once. Deterministic in
 * its inputs: fixed entry order, owners 0, times from the image's
 * `created`, gzip without name or time.
 */
#ifndef TEEIMAGE_CONVERT_H
#define TEEIMAGE_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sgx/sigstruct.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tee_convert_opts {
	const char *src, *dst; /* image archives; dst is written whole or not at all */
	const char *key_path;  /* RSA-3072 e=3 PEM; or, when NULL, sign: */
	int (*sign)(struct sgx_sigstruct *ss, void *arg, err_t *err); /* as tee_build_opts' */
	void *sign_arg;
	uint64_t heap;	       /* bytes; 0 = default */
	unsigned threads;      /* 0 = default */
	int debug;	       /* the enclave's DEBUG attribute */
	const char *pal;       /* ENCLAVE_RUNTIME_PATH; NULL: liberpal-libos.so */
	const char *tag;       /* the output's name (REPO:TAG); NULL: the input's */
	const void *libos_elf; /* the unsigned LibOS enclave */
	size_t libos_len;
	const char *tmp_dir; /* where the work directory goes; NULL: $TMPDIR or /tmp */
	uint64_t max_bytes;  /* bound on what the archive and its layers unpack; 0: the default */
};

/* The default bound on what an archive unpacks (a decompression bomb stops there). */
#define TEE_CONVERT_MAX_BYTES (16ULL << 30)

struct tee_convert_result {
	char format[32];	/* "docker-archive", "oci-archive" or "docker+oci-archive" */
	char config_digest[72]; /* sha256:HEX of the new config (docker's image ID) */
	char layer_diff_id[72]; /* sha256:HEX of the added layer (uncompressed) */
	uint8_t mrenclave[32], mrsigner[32];
};

/*
 * Converts o->src into o->dst. Errors name the archive or the part of it
 * and the reason ("SRC: layer L: digest sha256:... does not match ...");
 * on failure neither dst nor the work directory is left behind.
 */
int tee_convert(const struct tee_convert_opts *o, struct tee_convert_result *res, err_t *err);

#ifdef __cplusplus
}
#endif

#endif
