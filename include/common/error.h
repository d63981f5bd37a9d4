/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error values shared by every component (crun's model): a function that can
 * fail returns a negative errno and fills *err with a message; callers add
 * context with err_wrap() so the user sees one line, outermost context first:
 * "create container: mount proc to /proc: Operation not permitted".
 */
#ifndef COMMON_ERROR_H
#define COMMON_ERROR_H

#include <stdarg.h>

/* Named err_t: glibc already defines error_t (an int) under _GNU_SOURCE. */
struct error {
	int code; /* positive errno, or 0 when the failure has no errno */
	char *msg;
};
typedef struct error *err_t;

/* Sets *err (if err is not NULL and not already set) to "fmt...". Returns -code, or -EINVAL if code is 0. */
int err_set(err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* As err_set, appending ": strerror(code)". */
int err_sys(err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prefixes the message: "fmt...: old". Returns the negative code. */
int err_wrap(err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_free(err_t *err);
/* The message, or "unknown error". */
const char *err_msg(const err_t err);

static inline void err_cleanup(err_t *err)
{
	err_free(err);
}
#define _cleanup_error_ __attribute__((cleanup(err_cleanup)))

#endif
