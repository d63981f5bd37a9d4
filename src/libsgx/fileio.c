/* SPDX-License-Identifier: Apache-2.0 */
#include "libsgx/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

/*
 * Opens a regular file for reading without ever opening anything else: the
 * path is resolved with O_PATH (no open of a FIFO, which would block, nor of
 * a device node, which can have side effects), the result is checked with
 * fstat, and only a regular file is reopened, through /proc/self/fd. flags
 * may hold O_NOFOLLOW (a symlink as the last component is refused). Without
 * /proc, the path is opened again non-blocking and must be the same file.
 */
int sgx_open_regular(const char *path, int flags, struct stat *st, err_t *err)
{
	_cleanup_close_ int pfd = -1;
	char proc[64];
	struct stat again;
	int fd;

	pfd = open(path, O_PATH | O_CLOEXEC | (flags & O_NOFOLLOW));
	if (pfd < 0)
		return err_sys(err, errno, "open %s", path);
	if (fstat(pfd, st) < 0)
		return err_sys(err, errno, "stat %s", path);
	if (!S_ISREG(st->st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		fd =
		    open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (flags & O_NOFOLLOW));
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	if (fstat(fd, &again) < 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino ||
	    !S_ISREG(again.st_mode)) {
		close(fd);
		return err_set(err, EINVAL, "%s: changed while it was opened", path);
	}
	*st = again;
	return fd;
}

static int read_file(const char *path, size_t max, int refuse_larger, void **bufp, size_t *lenp,
		     err_t *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;

	fd = sgx_open_regular(path, 0, &st, err);
	if (fd < 0)
		return fd;
	if (refuse_larger && (uint64_t)st.st_size > max)
		return err_set(err, EFBIG,
			       "%s: %llu bytes, more than the maximum enclave size of %zu bytes "
			       "(max_enclave_size)",
			       path, (unsigned long long)st.st_size, max);
	cap = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	/* Zero-padded to whole pages (and never empty): image pages can point into it. */
	buf = calloc(1, (cap + 4096) & ~(size_t)4095);
	if (buf == NULL)
		return err_sys(err, ENOMEM, "read %s", path);
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "read %s", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*bufp = steal_ptr(buf);
	*lenp = len;
	return 0;
}

int sgx_read_file(const char *path, size_t max, void **bufp, size_t *lenp, err_t *err)
{
	return read_file(path, max, 0, bufp, lenp, err);
}

int sgx_read_image_file(const char *path, size_t max, void **bufp, size_t *lenp, err_t *err)
{
	return read_file(path, max, 1, bufp, lenp, err);
}

int sgx_write_file(const char *path, const void *buf, size_t len, int mode, int excl, err_t *err)
{
	_cleanup_close_ int fd = -1;
	const char *p = buf;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (excl ? O_EXCL : O_TRUNC), mode);
	if (fd < 0)
		return err_sys(err, errno, "create %s", path);
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "write %s", path);
		p += n;
		len -= (size_t)n;
	}
	if (close(steal_fd(fd)) < 0)
		return err_sys(err, errno, "close %s", path);
	return 0;
}
