/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TAP-like helpers shared by the C tests. tests/run.sh counts the lines
 * "ok - NAME" and "not ok - NAME"; diagnostics start with "# ".
 *
 *  - tap_report(ok, name, detail): one result line.
 *  - TAP_OK(cond, fmt, ...): one result line per check, named by fmt.
 *  - CHECK(cond[, fmt, ...]): only a diagnostic when cond is false; the
 *    case's result line comes from TAP_RUN(fn) or tap_begin()/tap_end().
 *  - main returns tap_exit().
 */
#ifndef RUNE_TESTS_TAP_H
#define RUNE_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_failures;
static const char *tap_case; /* the running case, named in diagnostics */

static inline void tap_report(bool ok, const char *name, const char *detail)
{
	printf("%s - %s%s%s\n", ok ? "ok" : "not ok", name, detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
	if (!ok)
		tap_failures++;
}

/* fmt may be "" (CHECK without a message): no format attribute for that. */
static inline void tap_check_failed(const char *file, int line, const char *expr, const char *fmt,
				    ...)
{
	va_list ap;

	printf("# %s:%d: %s%scheck failed: %s", file, line, tap_case ? tap_case : "",
	       tap_case ? ": " : "", expr);
	if (*fmt) {
		printf(": ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	printf("\n");
	tap_failures++;
}

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			tap_check_failed(__FILE__, __LINE__, #cond, "" __VA_ARGS__);               \
	} while (0)

#define TAP_OK(cond, ...)                                                                          \
	do {                                                                                       \
		bool ok_ = (cond);                                                                 \
		printf("%s - ", ok_ ? "ok" : "not ok");                                            \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
		if (!ok_)                                                                          \
			tap_failures++;                                                            \
	} while (0)

/* A case whose checks are CHECKs: returns the failure count to hand to tap_end. */
static inline int tap_begin(const char *name)
{
	tap_case = name;
	return tap_failures;
}

static inline void tap_end(int before)
{
	printf("%s - %s\n", tap_failures == before ? "ok" : "not ok", tap_case);
	fflush(stdout);
	tap_case = NULL;
}

#define TAP_RUN(fn)                                                                                \
	do {                                                                                       \
		int before_ = tap_begin(#fn);                                                      \
		fn();                                                                              \
		tap_end(before_);                                                                  \
	} while (0)

static inline int tap_exit(void)
{
	return tap_failures ? 1 : 0;
}

#endif
