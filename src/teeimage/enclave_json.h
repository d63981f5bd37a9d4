/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON a LibOS enclave container's settings take, shared by the OCI
 * bundle writer (bundle.c) and the image converter (convert.c).
 */
#ifndef TEEIMAGE_ENCLAVE_JSON_H
#define TEEIMAGE_ENCLAVE_JSON_H

#include <jansson.h>

/*
 * A new env array: env's K=V strings but earlier ENCLAVE_* ones, then
 * ENCLAVE_TYPE, ENCLAVE_RUNTIME_PATH=pal and ENCLAVE_RUNTIME_ARGS=root=/.
 */
json_t *tee_enclave_env(json_t *env, const char *pal);

/* argv (NULL-ended) as a new JSON array of strings. */
json_t *tee_json_argv(const char *const *argv);

#endif
