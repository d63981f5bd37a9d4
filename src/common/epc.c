// SPDX-License-Identifier: Apache-2.0
#include "common/epc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/epc_paging.h"

typedef unsigned __int128 u128;

static u128 pow10_u128(unsigned n)
{
	u128 v = 1;

	while (n--)
		v *= 10;
	return v;
}

int epc_parse_quantity(const char *s, uint64_t *bytes)
{
	static const char dec[] = "kMGTPE";
	u128 num = 0, mult = 1, div = 1, v;
	unsigned frac = 0, digits = 0;
	int round_up = 0;
	const char *p = s;

	if (s == NULL)
		return -EINVAL;
	if (*p == '+')
		p++;
	for (; isdigit((unsigned char)*p); p++, digits++) {
		num = num * 10 + (unsigned)(*p - '0');
		if (num > INT64_MAX)
			return -EINVAL;
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, digits++) {
			/* Past 18 digits only whether anything is left matters: it rounds up. */
			if (frac < 18) {
				num = num * 10 + (unsigned)(*p - '0');
				frac++;
			} else if (*p != '0') {
				round_up = 1;
			}
		}
	}
	if (digits == 0)
		return -EINVAL;
	div = pow10_u128(frac);
	if (*p == '\0') {
		/* bytes */
	} else if (p[1] == 'i' && p[2] == '\0' && strchr("KMGTPE", *p)) {
		mult = (u128)1 << (10 * (strchr("KMGTPE", *p) - "KMGTPE" + 1));
	} else if (p[1] == '\0' && *p == 'm') {
		div *= 1000;
	} else if (p[1] == '\0' && strchr(dec, *p)) {
		mult = pow10_u128(3 * (unsigned)(strchr(dec, *p) - dec + 1));
	} else if (*p == 'e' || *p == 'E') {
		char *end;
		long e;

		if (!isdigit((unsigned char)p[1]) && !(p[1] == '-' || p[1] == '+'))
			return -EINVAL;
		errno = 0;
		e = strtol(p + 1, &end, 10);
		if (errno || *end || e < -18 || e > 18)
			return -EINVAL;
		if (e >= 0)
			mult = pow10_u128((unsigned)e);
		else
			div *= pow10_u128((unsigned)-e);
	} else {
		return -EINVAL;
	}
	v = num * mult;
	v = v / div + (v % div || round_up);
	if (v > INT64_MAX)
		return -EINVAL;
	*bytes = (uint64_t)v;
	return 0;
}

const char *epc_dir(void)
{
	const char *d = getenv("SGX_EPC_DIR");

	return d && *d == '/' ? d : EPC_DIR_DEFAULT;
}

uint64_t epc_size(void)
{
	uint64_t v;

	if (epc_parse_quantity(getenv("SGX_EMU_EPC_SIZE"), &v) == 0 && v > 0)
		return v;
	return EPC_SIZE_DEFAULT;
}

static int mkdir_p(const char *dir)
{
	char buf[4096];

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * An entry's layout: the holder's line (pages, pid: 32 bytes), its limit
 * line, then, from ENTRY_SLOTS, a line per other process of the container
 * that makes enclaves (the LibOS's child processes, forked off the holder:
 * they share its descriptor, not its line). The holder's OFD lock covers
 * [0, ENTRY_MUTEX): the entry lives while any of them has it open. A slot
 * is held by a POSIX lock of its process (gone when the process is), and
 * ENTRY_MUTEX, a byte, is taken with a POSIX lock while a process checks
 * the container's total against its limit and adds to it.
 */
#define ENTRY_MUTEX  4095
#define ENTRY_SLOTS  4096
#define ENTRY_SLOT   32
#define ENTRY_NSLOTS 1024

static int lock_range(int fd, int cmd, short type, off_t start, off_t len, struct flock *fl)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = start;
	fl->l_len = len;
	return fcntl(fd, cmd, fl);
}

static int write_lock(int fd, int cmd, struct flock *fl)
{
	return lock_range(fd, cmd, F_WRLCK, 0, cmd == F_OFD_SETLK ? ENTRY_MUTEX : 0, fl);
}

int epc_entry_open(const char *dir, char **out_path, err_t *err)
{
	char path[4096];
	struct stat a, b;
	struct flock fl;
	int ret;

	ret = mkdir_p(dir);
	if (ret < 0)
		return err_sys(err, -ret, "EPC registry %s", dir);
	for (int tries = 0; tries < 100; tries++) {
		_cleanup_close_ int fd = -1;
		uint64_t r = 0;

		/* Random: processes in pid namespaces share pids (every init-runelet is 1). */
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			return err_sys(err, errno, "EPC registry entry: getrandom");
		snprintf(path, sizeof(path), "%s/%016" PRIx64, dir, r);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return err_sys(err, errno, "EPC registry entry %s", path);
		if (write_lock(fd, F_OFD_SETLK, &fl) < 0)
			return err_sys(err, errno, "lock EPC registry entry %s", path);
		/* A reader may have reaped it before the lock: then it is not ours any more. */
		if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino ||
		    a.st_dev != b.st_dev)
			continue;
		if (epc_entry_set(fd, 0) < 0)
			return err_sys(err, EIO, "write EPC registry entry %s", path);
		if (out_path && (*out_path = strdup(path)) == NULL) {
			unlink(path);
			return err_sys(err, ENOMEM, "EPC registry entry %s", path);
		}
		return steal_fd(fd);
	}
	return err_set(err, EEXIST, "EPC registry %s: no free entry name", dir);
}

int epc_entry_set(int fd, uint64_t pages)
{
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%-20" PRIu64 " %-10d\n", pages, (int)getpid());

	/* Fixed width: a rewrite is one write of the same length, never a truncate. */
	return pwrite(fd, buf, (size_t)n, 0) == n ? 0 : -EIO;
}

/* The first line: pages and pid, 32 bytes; the limit line follows it. */
#define ENTRY_LINE1 32
#define ENTRY_LINE2 (20 + 1 + EPC_SOURCE_MAX + 1)

int epc_entry_set_limit(int fd, uint64_t bytes, const char *source)
{
	char buf[ENTRY_LINE2 + 1];
	int n = snprintf(buf, sizeof(buf), "%-20" PRIu64 " %-*.*s\n", bytes, EPC_SOURCE_MAX,
			 EPC_SOURCE_MAX - 1, source ? source : "");

	/* Fixed width as the first line: one write, never a truncate. */
	return pwrite(fd, buf, (size_t)n, ENTRY_LINE1) == n ? 0 : -EIO;
}

int epc_entry_limit(int fd, uint64_t *bytes, char *source)
{
	char buf[ENTRY_LINE2 + 1], *end;
	ssize_t n = pread(fd, buf, ENTRY_LINE2, ENTRY_LINE1);
	size_t len;

	if (n == 0)
		return 0;
	if (n != ENTRY_LINE2 || buf[ENTRY_LINE2 - 1] != '\n' || buf[20] != ' ' ||
	    !isdigit((unsigned char)buf[0]))
		return -EIO;
	buf[20] = '\0';
	errno = 0;
	*bytes = strtoull(buf, &end, 10);
	if (errno || (*end && *end != ' '))
		return -EIO;
	if (source) {
		len = EPC_SOURCE_MAX;
		while (len > 0 && buf[21 + len - 1] == ' ')
			len--;
		memcpy(source, buf + 21, len < EPC_SOURCE_MAX ? len : EPC_SOURCE_MAX - 1);
		source[len < EPC_SOURCE_MAX ? len : EPC_SOURCE_MAX - 1] = '\0';
	}
	return 1;
}

int64_t epc_entry_pages(int fd)
{
	char buf[ENTRY_LINE1 + 1], *end;
	ssize_t n = pread(fd, buf, ENTRY_LINE1, 0);
	uint64_t v;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

int epc_entry_lock(int fd)
{
	struct flock fl;

	/* Held for a read and a write: 2 s means its holder is stopped or stuck. */
	for (int i = 0; i < 2000; i++) {
		if (lock_range(fd, F_SETLK, F_WRLCK, ENTRY_MUTEX, 1, &fl) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return -errno;
		usleep(1000);
	}
	return -ETIMEDOUT;
}

void epc_entry_unlock(int fd)
{
	struct flock fl;

	lock_range(fd, F_SETLK, F_UNLCK, ENTRY_MUTEX, 1, &fl);
}

int epc_entry_slot_claim(int fd)
{
	struct flock fl;

	for (int i = 0; i < ENTRY_NSLOTS; i++) {
		if (lock_range(fd, F_SETLK, F_WRLCK, ENTRY_SLOTS + (off_t)i * ENTRY_SLOT,
			       ENTRY_SLOT, &fl) == 0) {
			static const struct epc_paging_rec none;
			off_t rec = EPC_PAGING_RECS + (off_t)(i + 1) * (off_t)sizeof(none);
			struct stat st;

			/* A dead member's paging record is not ours. */
			if (fstat(fd, &st) == 0 && st.st_size > rec &&
			    pwrite(fd, &none, sizeof(none), rec) != sizeof(none))
				return -EIO;
			return epc_entry_slot_set(fd, i, 0) < 0 ? -EIO : i;
		}
		if (errno != EAGAIN && errno != EACCES)
			return -errno;
	}
	return -ENOSPC;
}

int epc_entry_slot_set(int fd, int slot, uint64_t pages)
{
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%-20" PRIu64 " %-10d\n", pages, (int)getpid());

	if (slot < 0 || slot >= ENTRY_NSLOTS)
		return -EINVAL;
	return pwrite(fd, buf, (size_t)n, ENTRY_SLOTS + (off_t)slot * ENTRY_SLOT) == n ? 0 : -EIO;
}

int epc_entry_each(int fd, int own_slot, void (*fn)(void *ctx, int slot, uint64_t pages), void *ctx)
{
	int64_t holder = epc_entry_pages(fd);
	char line[ENTRY_SLOT + 1];

	if (holder < 0)
		return -1;
	fn(ctx, -1, (uint64_t)holder);
	for (int i = 0; i < ENTRY_NSLOTS; i++) {
		off_t at = ENTRY_SLOTS + (off_t)i * ENTRY_SLOT;
		ssize_t n = pread(fd, line, ENTRY_SLOT, at);
		struct flock fl;

		/* Slots are claimed lowest first: past the last one ever used, none is. */
		if (n <= 0 || line[0] == '\0')
			break;
		line[n] = '\0';
		if (!isdigit((unsigned char)line[0]))
			continue;
		/* A live process's slot (our own lock is not reported to us). */
		if (i != own_slot && (lock_range(fd, F_GETLK, F_WRLCK, at, ENTRY_SLOT, &fl) < 0 ||
				      fl.l_type == F_UNLCK))
			continue;
		fn(ctx, i, strtoull(line, NULL, 10));
	}
	return 0;
}

static void add_pages(void *ctx, int slot, uint64_t pages)
{
	(void)slot;
	*(int64_t *)ctx += (int64_t)pages;
}

int64_t epc_entry_total(int fd, int own_slot)
{
	int64_t total = 0;

	return epc_entry_each(fd, own_slot, add_pages, &total) < 0 ? -1 : total;
}

struct paging_sum {
	int fd;
	struct epc_paging *p;
};

static void add_paging(void *ctx, int slot, uint64_t pages)
{
	struct paging_sum *s = ctx;
	uint64_t r[5];

	/* The record's first five fields: evicted, stamp, evictions, reloads, ns. */
	if (pread(s->fd, r, sizeof(r), EPC_PAGING_RECS + (off_t)(slot + 1) * 64) != sizeof(r))
		return;
	s->p->evicted += r[0] < pages ? r[0] : pages;
	s->p->evictions += r[2];
	s->p->reloads += r[3];
	s->p->ns += r[4];
}

int epc_entry_paging(int fd, struct epc_paging *p)
{
	struct paging_sum s = { fd, p };

	memset(p, 0, sizeof(*p));
	return epc_entry_each(fd, -1, add_paging, &s);
}

int epc_entry_live(int fd)
{
	struct flock fl;

	return write_lock(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

int epc_entry_held(int fd)
{
	char buf[48], self[32];
	struct flock fl;
	ssize_t n;
	int lfd;

	/* Locked by someone (the fd's own lock: not a conflict through a new description)... */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	lfd = open(self, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return 0;
	n = write_lock(lfd, F_OFD_GETLK, &fl);
	close(lfd);
	if (n < 0 || fl.l_type == F_UNLCK)
		return 0;
	/* ...and written by us: a child forked off the holder shares its fd, not its entry. */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strchr(buf, ' ') && atoi(strchr(buf, ' ')) == getpid();
}

int epc_usage(const char *dir, uint64_t size, struct epc_usage *u, err_t *err)
{
	DIR *d;
	struct dirent *de;

	memset(u, 0, sizeof(*u));
	u->size = size ? size : EPC_SIZE_DEFAULT;
	d = opendir(dir);
	if (d == NULL && errno == ENOENT)
		return 0;
	if (d == NULL)
		return err_sys(err, errno, "EPC registry %s", dir);
	while ((de = readdir(d)) != NULL) {
		_cleanup_close_ int fd = -1;
		struct epc_paging p;
		struct flock fl;
		int64_t pages;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			continue;
		if (write_lock(fd, F_OFD_GETLK, &fl) < 0)
			continue;
		if (fl.l_type == F_UNLCK) {
			/* Its holder is gone (or never locked it: it loses the race and retries). */
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				u->reaped++;
			continue;
		}
		pages = epc_entry_total(fd, -1);
		if (pages < 0)
			continue;
		u->pages += (uint64_t)pages;
		u->live++;
		if (epc_entry_paging(fd, &p) == 0) {
			u->paging.evicted += p.evicted;
			u->paging.evictions += p.evictions;
			u->paging.reloads += p.reloads;
			u->paging.ns += p.ns;
		}
	}
	closedir(d);
	if (u->pages * 4096 > u->size)
		u->paged = u->pages * 4096 - u->size;
	if (u->paging.evicted * 4096 > u->paged)
		u->paged = u->paging.evicted * 4096;
	return 0;
}
