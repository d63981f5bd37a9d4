/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "librune/util.h"

/* The process's own logger: one per rune invocation, inherited by the init. */
static struct {
	int fd;
	bool json, debug;
} logger = { .fd = -1 };

int rune_log_open(const char *path, bool json, bool debug)
{
	logger.json = json;
	logger.debug = debug;
	if (path == NULL)
		return 0;
	logger.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
	return logger.fd < 0 ? -errno : 0;
}

bool rune_log_debug_enabled(void)
{
	return logger.debug && logger.fd >= 0;
}

static char *format_line(const char *level, const char *msg)
{
	struct timespec now;
	char ts[64], *line = NULL;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%09ldZ", now.tv_nsec);
	if (logger.json) {
		json_t *j = json_pack("{s:s,s:s,s:s}", "level", level, "msg", msg, "time", ts);
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

		json_decref(j);
		if (text && asprintf(&line, "%s\n", text) < 0)
			line = NULL;
		free(text);
		return line;
	}
	/* logrus's text format: time="..." level=... msg="..." */
	size_t n = strlen(msg), o = 0;
	char *esc = malloc(2 * n + 1);

	if (esc == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '"' || msg[i] == '\\')
			esc[o++] = '\\';
		esc[o++] = msg[i] == '\n' ? ' ' : msg[i];
	}
	esc[o] = '\0';
	if (asprintf(&line, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, esc) < 0)
		line = NULL;
	free(esc);
	return line;
}

void rune_log(const char *level, const char *fmt, ...)
{
	char *msg = NULL, *line;
	va_list ap;
	int saved = errno;

	if (logger.fd < 0)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	line = msg ? format_line(level, msg) : NULL;
	/* One write a line: concurrent writers (rune and its init) never interleave. */
	if (line)
		write_all(logger.fd, line, strlen(line));
	free(line);
	free(msg);
	errno = saved;
}
