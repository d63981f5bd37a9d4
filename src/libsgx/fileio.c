/* SPDX-License-Identifier: Apache-2.0 */
#include "libsgx/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

int sgx_read_file(const char *path, size_t max, void **bufp, size_t *lenp, err_t *err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "stat %s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", path);
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
