/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "#!" scripts, as Linux's binfmt_script reads them: shared by the LibOS
 * (which runs them) and rune-image (which lays out the enclave for the
 * interpreter). Freestanding: no libc.
 */
#ifndef COMMON_SCRIPT_H
#define COMMON_SCRIPT_H

#include <stddef.h>

#define SCRIPT_LINE_MAX	 256 /* the bytes read: Linux's BINPRM_BUF_SIZE */
#define SCRIPT_DEPTH_MAX 4   /* interpreters that are scripts: BINPRM_MAX_RECURSION */

/*
 * line holds the first n bytes of a file (n < SCRIPT_LINE_MAX, line[n]
 * writable), more says the file goes on. For a script, cuts the line in
 * place into the interpreter and its one optional argument (the rest of
 * the line, blanks trimmed; NULL if none) and returns 1; 0 for a file that
 * is not a script; -1 for a malformed "#!" line, *why saying how.
 */
static inline int script_parse(char *line, size_t n, int more, const char **interp,
			       const char **arg, const char **why)
{
	char *p, *end;

	if (n < 2 || line[0] != '#' || line[1] != '!')
		return 0;
	line[n] = 0;
	for (end = line + 2; *end && *end != '\n'; end++)
		;
	if (end == line + n && more) {
		*why = "its #! line is longer than 255 bytes";
		return -1;
	}
	*end = 0;
	for (p = line + 2; *p == ' ' || *p == '\t'; p++)
		;
	if (!*p) {
		*why = "no interpreter after #!";
		return -1;
	}
	*interp = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = 0;
	while (*p == ' ' || *p == '\t')
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = 0;
	*arg = *p ? p : NULL;
	return 1;
}

#endif
