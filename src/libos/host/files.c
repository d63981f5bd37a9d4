// SPDX-License-Identifier: Apache-2.0
/*
 * Allowed files, the host's side: the LibOS passes the workload's
 * operations on paths its manifest allows through to files of the PAL's
 * root (the container's), opened with openat2 RESOLVE_IN_ROOT so that no
 * path or symlink leads out of it. Regular files and directories only (a
 * FIFO or device could block or act on open). The enclave checks every
 * answer; nothing here is protected (docs/libos.md).
 */
#include "libos/host/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_AFILES 64

/* fd + 1 per handle (0: free); the host threads of enclave threads share them. */
static int afiles[MAX_AFILES];
static pthread_mutex_t afiles_lock = PTHREAD_MUTEX_INITIALIZER;

static int path_ok(const struct libos_mailbox *mb)
{
	return mb->len > 1 && mb->len <= sizeof(mb->buf) && mb->buf[mb->len - 1] == 0 &&
	       mb->buf[0] == '/' && strlen((const char *)mb->buf) == mb->len - 1;
}

static int open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	/* openat2 refuses O_PATH with flags other than O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW */
	struct open_how how = { .flags =
				    (uint64_t)flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY),
				.mode = (flags & O_CREAT) ? (mode & 07777) : 0,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* The parent directory of path (in the root) and its last component. */
static int open_parent(int rootfd, char *path, const char **name)
{
	char *slash = strrchr(path, '/');
	int fd;

	*name = slash + 1;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, ".."))
		return -EINVAL;
	*slash = 0;
	fd = open_in_root(rootfd, slash == path ? "/" : path, O_PATH | O_DIRECTORY, 0);
	*slash = '/';
	return fd < 0 ? -errno : fd;
}

static long stat_out(struct libos_mailbox *mb, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EACCES;
	mb->out[0] = S_ISREG(st.st_mode) ? st.st_size : 0;
	mb->out[1] = st.st_mode;
	return 0;
}

static long a_open(struct libos_mailbox *mb, int rootfd)
{
	int allowed = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY;
	int flags = (int)mb->arg[0], fd, slot;
	long ret;

	if (!path_ok(mb) || (flags & ~allowed))
		return -EINVAL;
	for (slot = 0; slot < MAX_AFILES && afiles[slot]; slot++)
		;
	if (slot == MAX_AFILES)
		return -EMFILE;
	/* O_NONBLOCK: a FIFO must not block the enclave's host (refused below). */
	fd = open_in_root(rootfd, (const char *)mb->buf, flags | O_NONBLOCK, (mode_t)mb->arg[1]);
	if (fd < 0)
		return -errno;
	ret = stat_out(mb, fd);
	if (ret == 0 && fcntl(fd, F_SETFL, flags & O_APPEND) < 0)
		ret = -errno;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	afiles[slot] = fd + 1;
	return slot;
}

static int handle(const struct libos_mailbox *mb)
{
	int64_t h = mb->arg[0];

	return h >= 0 && h < MAX_AFILES && afiles[h] ? afiles[h] - 1 : -1;
}

/* Directory entries as {type, name, NUL} records, at most len bytes. */
static long a_getdents(struct libos_mailbox *mb, int fd)
{
	static char raw[LIBOS_BUF_MAX];
	size_t len = mb->len < sizeof(raw) ? mb->len : sizeof(raw), out = 0;
	long n = syscall(SYS_getdents64, fd, raw, len);

	if (n < 0)
		return -errno;
	/* each record is smaller than the dirent64 it comes from: all fit */
	for (long off = 0; off < n;) {
		struct dirent64 *d = (struct dirent64 *)(raw + off);
		size_t nl = strlen(d->d_name);

		mb->buf[out] = d->d_type;
		memcpy(mb->buf + out + 1, d->d_name, nl + 1);
		out += nl + 2;
		off += d->d_reclen;
	}
	return (long)out;
}

static long files_call(struct libos_mailbox *mb, uint64_t nr, int rootfd)
{
	const char *name;
	ssize_t r;
	int fd;
	long ret;

	if (nr == LIBOS_OCALL_AOPEN)
		return a_open(mb, rootfd);
	if (nr == LIBOS_OCALL_ASTAT || nr == LIBOS_OCALL_AUNLINK || nr == LIBOS_OCALL_AMKDIR) {
		if (!path_ok(mb))
			return -EINVAL;
		if (nr == LIBOS_OCALL_ASTAT) {
			fd = open_in_root(rootfd, (const char *)mb->buf, O_PATH, 0);
			if (fd < 0)
				return -errno;
			ret = stat_out(mb, fd);
			close(fd);
			return ret;
		}
		fd = open_parent(rootfd, (char *)mb->buf, &name);
		if (fd < 0)
			return fd;
		if (nr == LIBOS_OCALL_AMKDIR)
			ret = mkdirat(fd, name, (mode_t)mb->arg[0] & 07777);
		else
			ret = unlinkat(fd, name, mb->arg[0] == 1 ? AT_REMOVEDIR : 0);
		ret = ret < 0 ? -errno : 0;
		close(fd);
		return ret;
	}
	fd = handle(mb);
	if (fd < 0)
		return -EBADF;
	switch (nr) {
	case LIBOS_OCALL_APREAD:
		if (mb->len > sizeof(mb->buf) || mb->arg[1] < 0)
			return -EINVAL;
		do
			r = pread(fd, mb->buf, mb->len, mb->arg[1]);
		while (r < 0 && errno == EINTR);
		return r < 0 ? -errno : r;
	case LIBOS_OCALL_APWRITE:
		if (mb->len > sizeof(mb->buf) || mb->arg[1] < -1)
			return -EINVAL;
		do
			r = mb->arg[1] < 0 ? write(fd, mb->buf, mb->len)
					   : pwrite(fd, mb->buf, mb->len, mb->arg[1]);
		while (r < 0 && errno == EINTR);
		if (r >= 0 && mb->arg[1] < 0)
			mb->out[0] = lseek(fd, 0, SEEK_CUR);
		return r < 0 ? -errno : r;
	case LIBOS_OCALL_ACLOSE:
		close(fd);
		afiles[mb->arg[0]] = 0;
		return 0;
	case LIBOS_OCALL_AFSTAT:
		return stat_out(mb, fd);
	case LIBOS_OCALL_AGETDENTS:
		return a_getdents(mb, fd);
	case LIBOS_OCALL_ATRUNC:
		return mb->arg[1] < 0 ? -EINVAL : ftruncate(fd, mb->arg[1]) < 0 ? -errno : 0;
	}
	return -ENOSYS;
}

/* One at a time: none blocks (no FIFOs or devices), a handle is never closed in use. */
long files_ocall(struct libos_mailbox *mb, uint64_t nr, int rootfd)
{
	long r;

	pthread_mutex_lock(&afiles_lock);
	r = files_call(mb, nr, rootfd);
	pthread_mutex_unlock(&afiles_lock);
	return r;
}

void files_close_all(void)
{
	pthread_mutex_lock(&afiles_lock);
	for (int i = 0; i < MAX_AFILES; i++)
		if (afiles[i]) {
			close(afiles[i] - 1);
			afiles[i] = 0;
		}
	pthread_mutex_unlock(&afiles_lock);
}

void files_after_fork(void)
{
	pthread_mutex_init(&afiles_lock, NULL);
	memset(afiles, 0, sizeof(afiles));
}
