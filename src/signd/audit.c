/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log: one JSON object per line, appended with a single write()
 * (O_APPEND) under a lock, so lines from concurrent requests never mix.
 */
#include "signd/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

struct signd_audit {
	pthread_mutex_t lock;
	char *path; /* NULL: standard error */
	int fd;
};

static int open_log(const char *path, err_t *err)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_sys(err, errno, "audit log %s", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, EINVAL, "audit log %s: not a regular file", path);
	}
	return fd;
}

int signd_audit_open(struct signd_audit **out, const char *path, err_t *err)
{
	struct signd_audit *a = calloc(1, sizeof(*a));
	int fd = STDERR_FILENO;

	if (a == NULL)
		return err_set(err, ENOMEM, "audit log: out of memory");
	if (strcmp(path, "-") != 0) {
		fd = open_log(path, err);
		a->path = strdup(path);
		if (fd < 0 || a->path == NULL) {
			if (fd >= 0)
				close(fd);
			free(a->path);
			free(a);
			return fd < 0 ? fd : err_set(err, ENOMEM, "audit log: out of memory");
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	a->fd = fd;
	*out = a;
	return 0;
}

int signd_audit_reopen(struct signd_audit *a, err_t *err)
{
	int fd, old;

	if (a->path == NULL)
		return 0;
	fd = open_log(a->path, err);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&a->lock);
	old = a->fd;
	a->fd = fd;
	pthread_mutex_unlock(&a->lock);
	close(old);
	return 0;
}

void signd_audit_close(struct signd_audit *a)
{
	if (a == NULL)
		return;
	if (a->path)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

int signd_audit_write(struct signd_audit *a, json_t *record)
{
	_cleanup_free_ char *line = NULL;
	char now[40];
	json_t *rec;
	size_t len;
	ssize_t n;
	int ret = 0;

	signd_now(now, sizeof(now));
	/* "time" first: a new object, the record's keys after it in their order. */
	rec = json_pack("{s:s}", "time", now);
	if (rec == NULL || json_object_update(rec, record) < 0) {
		json_decref(rec);
		return -ENOMEM;
	}
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(rec);
	if (line == NULL)
		return -ENOMEM;
	len = strlen(line);
	line[len] = '\n'; /* json_dumps's NUL: the line is written without it */
	pthread_mutex_lock(&a->lock);
	do
		n = write(a->fd, line, len + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len + 1)
		ret = -EIO;
	pthread_mutex_unlock(&a->lock);
	return ret;
}
