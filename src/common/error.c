/* SPDX-License-Identifier: Apache-2.0 */
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int code_to_ret(int code)
{
	return code > 0 ? -code : -EINVAL;
}

static int set_va(err_t *err, int code, int with_errno, const char *fmt, va_list ap)
{
	char *msg = NULL, *full = NULL;

	if (err == NULL || *err != NULL)
		return code_to_ret(code);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (msg && with_errno && code > 0) {
		if (asprintf(&full, "%s: %s", msg, strerror(code)) < 0)
			full = NULL;
		free(msg);
		msg = full;
	}
	*err = calloc(1, sizeof(**err));
	if (*err == NULL) {
		free(msg);
		return code_to_ret(code);
	}
	(*err)->code = code;
	(*err)->msg = msg;
	return code_to_ret(code);
}

int err_set(err_t *err, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = set_va(err, code, 0, fmt, ap);
	va_end(ap);
	return ret;
}

int err_sys(err_t *err, int code, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = set_va(err, code, 1, fmt, ap);
	va_end(ap);
	return ret;
}

int err_wrap(err_t *err, const char *fmt, ...)
{
	char *prefix = NULL, *full = NULL;
	va_list ap;

	if (err == NULL || *err == NULL)
		return -EINVAL;
	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		prefix = NULL;
	va_end(ap);
	if (prefix && asprintf(&full, "%s: %s", prefix, err_msg(*err)) >= 0) {
		free((*err)->msg);
		(*err)->msg = full;
	}
	free(prefix);
	return code_to_ret((*err)->code);
}

void err_free(err_t *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->msg);
	free(*err);
	*err = NULL;
}

const char *err_msg(const err_t err)
{
	return err && err->msg ? err->msg : "unknown error";
}
