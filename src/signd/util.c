/* SPDX-License-Identifier: Apache-2.0 */
/* libsignd: trusted files, JSON values, names, time. */
#include "signd/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

int signd_read_trusted(const char *what, const char *path, int secret, size_t max, char **buf,
		       size_t *len, err_t *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *data = NULL;
	struct stat st;
	size_t got = 0;

	/* O_NONBLOCK: a FIFO in its place must not hang the daemon; refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return err_sys(err, errno, "%s %s", what, path);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "%s %s", what, path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s %s: not a regular file", what, path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return err_set(err, EPERM, "%s %s: owned by uid %u, must be owned by root", what,
			       path, (unsigned)st.st_uid);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return err_set(err, EPERM,
			       "%s %s: writable by group or others (mode %04o): chmod go-w", what,
			       path, (unsigned)(st.st_mode & 07777));
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)))
		return err_set(err, EPERM,
			       "%s %s: readable by group or others (mode %04o): chmod 600", what,
			       path, (unsigned)(st.st_mode & 07777));
	if ((uint64_t)st.st_size > max)
		return err_set(err, EFBIG, "%s %s: larger than %zu bytes", what, path, max);
	data = malloc(max + 1);
	if (data == NULL)
		return err_set(err, ENOMEM, "%s %s: out of memory", what, path);
	for (;;) {
		ssize_t n = read(fd, data + got, max + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "%s %s: read", what, path);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max)
			return err_set(err, EFBIG, "%s %s: larger than %zu bytes", what, path, max);
	}
	data[got] = '\0';
	*buf = steal_ptr(data);
	*len = got;
	return 0;
}

int signd_load_json(const char *what, const char *path, size_t max, json_t **out, err_t *err)
{
	_cleanup_free_ char *buf = NULL;
	json_error_t jerr;
	size_t len;
	json_t *j;
	int ret;

	ret = signd_read_trusted(what, path, 0, max, &buf, &len, err);
	if (ret < 0)
		return ret;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL)
		return err_set(err, EINVAL, "%s %s: line %d: %s", what, path, jerr.line, jerr.text);
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(err, EINVAL, "%s %s: not a JSON object", what, path);
	}
	*out = j;
	return 0;
}

int signd_json_u64(const json_t *v, const char *what, uint64_t *out, err_t *err)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < 0)
			return err_set(err, EINVAL, "%s: negative", what);
		*out = (uint64_t)i;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		errno = 0;
		if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
			return err_set(err, EINVAL, "%s: '%s' is not a number", what, s);
		*out = strtoull(s, &end, 0);
		if (errno || *end != '\0')
			return err_set(err, EINVAL, "%s: '%s' is not a 64-bit number", what, s);
		return 0;
	}
	return err_set(err, EINVAL, "%s: expected a number or a \"0x...\" string", what);
}

int signd_valid_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= SIGND_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-") == n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int signd_unhex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void signd_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int signd_parse_time(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -EINVAL;
	*out = timegm(&tm);
	return *out == (time_t)-1 ? -EINVAL : 0;
}

void signd_format_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int signd_parse_expiry(const char *s, time_t now, time_t *out, err_t *err)
{
	static const struct {
		char unit;
		long seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char full[32];
	char *end;
	long n;

	if (*s >= '0' && *s <= '9' && strlen(s) < 12) {
		errno = 0;
		n = strtol(s, &end, 10);
		for (size_t i = 0; errno == 0 && n > 0 && i < sizeof(units) / sizeof(units[0]); i++)
			if (end[0] == units[i].unit && end[1] == '\0' &&
			    n <= 100L * 366 * 86400 / units[i].seconds) {
				*out = now + n * units[i].seconds;
				return 0;
			}
	}
	/* A date alone is its midnight, UTC. */
	if (strlen(s) == 10 && snprintf(full, sizeof(full), "%sT00:00:00Z", s) > 0)
		s = full;
	if (signd_parse_time(s, out) < 0)
		return err_set(err, EINVAL,
			       "expiry '%s': expected Nd, Nh, Nm, Ns, YYYY-MM-DD or "
			       "YYYY-MM-DDTHH:MM:SSZ",
			       s);
	if (*out <= now)
		return err_set(err, EINVAL, "expiry '%s' is in the past", s);
	return 0;
}
