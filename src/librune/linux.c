/* SPDX-License-Identifier: Apache-2.0 */
#include "librune/linux.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "librune/cgroup.h"
#include "librune/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = { .flags = flags | O_CLOEXEC, .resolve = resolve };

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

static char *fd_path(int fd)
{
	char *p;

	if (asprintf(&p, "/proc/self/fd/%d", fd) < 0)
		return NULL;
	return p;
}

/*
 * Creates the first missing component of path (below rootfd), or, if that
 * component is a dangling symlink, rewrites *path to go through its target
 * (still inside the root). Returns 1 when *path was rewritten, 0 when a
 * component was created.
 */
static int create_step(int rootfd, char **path, bool dir, err_t *err)
{
	const unsigned long long resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	_cleanup_free_ char *copy = strdup(*path);
	char *end = copy;

	if (copy == NULL)
		return err_sys(err, ENOMEM, "open %s", *path);
	for (;;) {
		char *slash = strchr(end, '/');
		bool last = slash == NULL;
		_cleanup_close_ int fd = -1, parent = -1;
		char *base, target[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (slash)
			*slash = '\0';
		fd = sys_openat2(rootfd, copy, O_PATH, resolve);
		if (fd >= 0) {
			if (last)
				return 0;
			*slash = '/';
			end = slash + 1;
			continue;
		}
		if (errno != ENOENT)
			return err_sys(err, errno, "open %s in rootfs", copy);
		base = strrchr(copy, '/');
		if (base) {
			*base = '\0';
			parent = sys_openat2(rootfd, copy, O_PATH | O_DIRECTORY, resolve);
			*base++ = '/';
		} else {
			parent = dup(rootfd);
			base = copy;
		}
		if (parent < 0)
			return err_sys(err, errno, "open parent of %s in rootfs", copy);
		if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			/* A dangling symlink: follow it by hand, still under the root. */
			char *rest = last ? "" : slash + 1, *np;
			struct statfs sfs;

			/*
			 * Unless it is a magic link (/proc/self/fd/N that openat2 didn't find
			 * a moment ago): its text is a host path, never to be made here.
			 */
			if (fstatfs(parent, &sfs) < 0 || sfs.f_type == PROC_SUPER_MAGIC)
				return err_set(err, ELOOP,
					       "open %s in rootfs: not following a magic link",
					       copy);
			n = readlinkat(parent, base, target, sizeof(target) - 1);
			if (n < 0)
				return err_sys(err, errno, "readlink %s in rootfs", copy);
			target[n] = '\0';
			base[-1 * (base != copy)] = '\0';
			if (asprintf(&np, "%s%s%s%s%s",
				     target[0] == '/' || base == copy ? "" : copy,
				     target[0] == '/' || base == copy ? "" : "/", target,
				     *rest ? "/" : "", rest) < 0)
				return err_sys(err, ENOMEM, "open %s", *path);
			free(*path);
			*path = np;
			return 1;
		}
		if (!last || dir) {
			if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
				return err_sys(err, errno, "mkdir %s in rootfs", copy);
		} else {
			int f =
			    openat(parent, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
			if (f < 0 && errno != EEXIST)
				return err_sys(err, errno, "create %s in rootfs", copy);
			if (f >= 0)
				close(f);
		}
		return 0;
	}
}

int rune_open_in_root(int rootfd, const char *path, int flags, bool create, bool dir, int *out,
		      err_t *err)
{
	const unsigned long long resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	_cleanup_free_ char *cur = NULL;
	int fd, ret;

	while (*path == '/')
		path++;
	cur = strdup(*path ? path : ".");
	if (cur == NULL)
		return err_sys(err, ENOMEM, "open %s", path);
	/* Each round creates one component or follows one dangling symlink. */
	for (int round = 0; round < 256; round++) {
		char *p = cur;
		while (*p == '/')
			p++;
		fd = sys_openat2(rootfd, *p ? p : ".", flags, resolve);
		if (fd >= 0) {
			*out = fd;
			return 0;
		}
		if (errno != ENOENT || !create)
			return err_sys(err, errno, "open %s in rootfs", path);
		if (p != cur)
			memmove(cur, p, strlen(p) + 1);
		if ((ret = create_step(rootfd, &cur, dir, err)) < 0)
			return ret;
	}
	return err_set(err, ELOOP, "open %s in rootfs: too many levels of symbolic links", path);
}

int rune_open_devnull(int *fd, err_t *err)
{
	struct stat st;
	int f = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);

	if (f < 0)
		return err_sys(err, errno, "open /dev/null");
	if (fstat(f, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(f);
		return err_set(err, EPERM, "/dev/null is not the null device");
	}
	*fd = f;
	return 0;
}

static int check_procfs(int fd, const char *path, err_t *err)
{
	struct statfs sfs;

	if (fstatfs(fd, &sfs) < 0)
		return err_sys(err, errno, "statfs %s", path);
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return err_set(err, EPERM, "%s is not on procfs", path);
	return 0;
}

int rune_write_proc_file(const char *path, const char *value, err_t *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	if ((ret = check_procfs(fd, path, err)) < 0)
		return ret;
	ret = write_all(fd, value, strlen(value));
	if (ret < 0)
		return err_sys(err, -ret, "write %s to %s", value, path);
	return 0;
}

int rune_write_sysctl(const char *key, const char *value, err_t *err)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/proc/sys/%s", key) < 0)
		return err_sys(err, ENOMEM, "sysctl %s", key);
	for (char *p = path + strlen("/proc/sys/"); *p; p++)
		if (*p == '.')
			*p = '/';
	if (rune_write_proc_file(path, value, err) < 0)
		return err_wrap(err, "sysctl %s", key);
	return 0;
}

int rune_write_oom_score_adj(int value, err_t *err)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", value);
	return rune_write_proc_file("/proc/self/oom_score_adj", buf, err);
}

/* ---- mounts ---- */

static bool is_type(const struct rune_mount *m, const char *t)
{
	return m->type && strcmp(m->type, t) == 0;
}

static int do_mount_at(const char *src, int target_fd, const char *dest, const char *type,
		       unsigned long flags, const char *data, err_t *err)
{
	_cleanup_free_ char *tp = fd_path(target_fd);

	if (mount(src, tp, type, flags, data) < 0)
		return err_sys(err, errno, "mount %s to %s", src ? src : type, dest);
	return 0;
}

/* Remount to apply flags a bind mount ignores at first (ro, nosuid...). */
static int remount_bind(int target_fd, const char *dest, unsigned long flags, err_t *err)
{
	_cleanup_free_ char *tp = fd_path(target_fd);
	struct statfs sfs;

	/* Locked flags of the source mount (in a user namespace) must be kept. */
	if (statfs(tp, &sfs) == 0)
		flags |= sfs.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
	if (mount(NULL, tp, NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		return err_sys(err, errno, "remount %s", dest);
	return 0;
}

static uint64_t ms_to_attr(unsigned long ms)
{
	uint64_t a = 0;

	if (ms & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else if (ms & MS_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	else if (ms & MS_RELATIME)
		a |= MOUNT_ATTR_RELATIME;
	return a;
}

/*
 * Bind mount with the new mount API: clone the source tree, set its flags
 * while still detached (no remount, no window with the wrong flags), then
 * attach it on the target fd. Like runc, flags apply to the top mount only.
 */
static int bind_named(int src_dirfd, const char *src, const char *name, int target_fd,
		      const char *dest, bool recursive, unsigned long ms_flags, err_t *err)
{
	unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
	_cleanup_close_ int tree = -1;
	struct mount_attr attr = { 0 };

	if (*src == '\0')
		flags |= AT_EMPTY_PATH;
	tree = open_tree(src_dirfd, src, flags);
	if (tree < 0)
		return err_sys(err, errno, "bind %s to %s", name, dest);
	attr.attr_set = ms_to_attr(ms_flags);
	if (attr.attr_set & MOUNT_ATTR__ATIME)
		attr.attr_clr = MOUNT_ATTR__ATIME;
	if (attr.attr_set && mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		return err_sys(err, errno, "set mount flags of %s", dest);
	if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return err_sys(err, errno, "bind %s to %s", name, dest);
	return 0;
}

static int bind_at(int src_dirfd, const char *src, int target_fd, const char *dest, bool recursive,
		   unsigned long ms_flags, err_t *err)
{
	return bind_named(src_dirfd, src, *src ? src : "fd", target_fd, dest, recursive, ms_flags,
			  err);
}

static int mount_cgroup_tree(const struct rune_rootfs_opts *o, const struct rune_mount *m,
			     int rootfd, int target_fd, err_t *err)
{
	const struct rune_cgroup_hierarchy *h;
	unsigned long flags = m->flags & ~MS_RDONLY;
	size_t n;
	int ret;

	if (o->cgroup_host == NULL || o->cgroup_path == NULL)
		return err_set(err, ENOENT, "mount cgroup to %s: no cgroup for the container",
			       m->destination);
	rune_cgroup_hierarchies(o->cgroup_host, &h, &n);
	if (n == 1 && h[0].v2) {
		_cleanup_free_ char *src = rune_cgroup_dir(&h[0], o->cgroup_path);
		return bind_at(AT_FDCWD, src, target_fd, m->destination, true, m->flags, err);
	}
	ret = do_mount_at("tmpfs", target_fd, m->destination, "tmpfs", flags, "mode=755", err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *src = rune_cgroup_dir(&h[i], o->cgroup_path);
		_cleanup_free_ char *dest = NULL;
		_cleanup_close_ int fd = -1;
		const char *name = h[i].v2 ? "unified" : h[i].controllers;

		if (strncmp(name, "name=", 5) == 0)
			name += 5;
		if (asprintf(&dest, "%s/%s", m->destination, name) < 0)
			return err_sys(err, ENOMEM, "mount cgroup");
		if ((ret = rune_open_in_root(rootfd, dest, O_PATH, true, true, &fd, err)) < 0)
			return ret;
		if ((ret = bind_at(AT_FDCWD, src, fd, dest, true, m->flags, err)) < 0)
			return ret;
		/* Co-mounted controllers ("cpu,cpuacct") get a link per name, as on hosts. */
		if (strchr(name, ',')) {
			_cleanup_free_ char *names = strdup(name);
			_cleanup_close_ int dfd = -1;
			char *save = NULL;

			ret = rune_open_in_root(rootfd, m->destination, O_PATH | O_DIRECTORY, false,
						true, &dfd, err);
			if (ret < 0)
				return ret;
			for (char *t = strtok_r(names, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (symlinkat(name, dfd, t) < 0 && errno != EEXIST)
					return err_sys(err, errno, "symlink %s/%s", m->destination,
						       t);
		}
	}
	if (m->flags & MS_RDONLY) {
		/* The tmpfs holding the hierarchies is read-only too, once they are in. */
		_cleanup_close_ int top = -1;
		if ((ret = rune_open_in_root(rootfd, m->destination, O_PATH, false, true, &top,
					     err)) < 0)
			return ret;
		return remount_bind(top, m->destination, m->flags | MS_RDONLY, err);
	}
	return 0;
}

/* A bind mount of a host path (a cgroup mount binds the container's cgroup instead). */
static bool binds_host_path(const struct rune_mount *m)
{
	return m->bind && !is_type(m, "cgroup") && !is_type(m, "cgroup2");
}

bool rune_mount_source_from_host(const struct rune_config *cfg, size_t i)
{
	const struct rune_mount *m = &cfg->mounts[i];

	/* Without a user namespace the init has the host's credentials itself. */
	return cfg->ns[RUNE_NS_USER].present && cfg->ns[RUNE_NS_MNT].present &&
	       binds_host_path(m) && m->source;
}

int rune_open_mount_source(const struct rune_mount *m, int *fd, err_t *err)
{
	*fd = open(m->source, O_PATH | O_CLOEXEC);
	if (*fd < 0)
		return err_sys(err, errno, "mount %s to %s", m->source, m->destination);
	return 0;
}

static bool source_is_dir(const struct rune_mount *m, int src_fd)
{
	struct stat st;

	if (!m->bind)
		return true;
	if (src_fd >= 0)
		return fstat(src_fd, &st) == 0 && S_ISDIR(st.st_mode);
	return m->source && stat(m->source, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_dest(const struct rune_mount *m, const char *path)
{
	const char *d = m->destination;
	size_t n = strlen(path);

	while (d[0] == '/' && d[1] == '/')
		d++;
	if (strncmp(d, path, n) != 0)
		return false;
	for (d += n; *d == '/'; d++)
		;
	return *d == '\0';
}

/*
 * procfs and sysfs (and whatever is mounted on /proc or /sys) only on a real
 * directory, never through a symlink the image planted there: as runc does
 * since CVE-2019-19921.
 */
static int check_ordinary_dir(const struct rune_mount *m, int rootfd, err_t *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int ret;

	if (!is_type(m, "proc") && !is_type(m, "sysfs") && !is_dest(m, "/proc") &&
	    !is_dest(m, "/sys"))
		return 0;
	ret =
	    rune_open_in_root(rootfd, m->destination, O_PATH | O_NOFOLLOW, false, false, &fd, NULL);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return err_sys(err, -ret, "mount %s", m->destination);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "mount %s", m->destination);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR,
			       "mount %s: must be mounted on ordinary directory, not %s",
			       m->destination, S_ISLNK(st.st_mode) ? "a symlink" : "a file");
	return 0;
}

/* ---- tmpfs: the directory's mode, tmpcopyup ---- */

static bool data_has_key(const char *data, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = data; p && *p;) {
		if (strncmp(p, key, n) == 0 && p[n] == '=')
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static int copy_tree(int src, int dst);

static int copy_file(int sdir, int ddir, const char *name)
{
	_cleanup_close_ int s = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int d = -1;
	char buf[65536];
	ssize_t n;

	if (s < 0)
		return -errno;
	d = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (d < 0)
		return -errno;
	while ((n = read(s, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write_all(d, buf, n) < 0)
			return -errno;
	}
	return 0;
}

/* One entry of a directory, with its owner, mode and times. */
static int copy_entry(int sdir, int ddir, const char *name, const struct stat *st)
{
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	int r = 0;

	if (S_ISDIR(st->st_mode)) {
		_cleanup_close_ int s = -1, d = -1;
		if (mkdirat(ddir, name, 0700) < 0)
			return -errno;
		s = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		d = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return -errno;
		r = copy_tree(s, d);
	} else if (S_ISREG(st->st_mode)) {
		r = copy_file(sdir, ddir, name);
	} else if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return -errno;
	} else if (mknodat(ddir, name, st->st_mode, st->st_rdev) < 0) {
		return -errno;
	}
	if (r < 0)
		return r;
	if (fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISLNK(st->st_mode) && fchmodat(ddir, name, st->st_mode & 07777, 0) < 0)
		return -errno;
	if (utimensat(ddir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

/* The content of directory src into directory dst (runc's tmpcopyup). */
static int copy_tree(int src, int dst)
{
	int fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	DIR *d;
	int r = 0;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(src, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		else
			r = copy_entry(src, dst, de->d_name, &st);
	}
	if (r == 0 && errno != 0)
		r = -errno;
	closedir(d);
	return r;
}

/* A mount's recursive attributes ("rro"...), on the whole tree at dest. */
static int set_rec_attrs(const struct rune_mount *m, int rootfd, err_t *err)
{
	struct mount_attr attr = { .attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr };
	_cleanup_close_ int top = -1;
	int ret;

	if ((ret = rune_open_in_root(rootfd, m->destination, O_PATH, false, false, &top, err)) < 0)
		return ret;
	if (mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		return err_sys(err, errno, "set recursive mount flags of %s", m->destination);
	return 0;
}

/* A tmpfs: over an existing directory it takes its mode (runc), and its content with tmpcopyup. */
static int mount_tmpfs(const struct rune_mount *m, int rootfd, int fd, bool existed,
		       unsigned long flags, err_t *err)
{
	_cleanup_close_ int under = -1, top = -1;
	_cleanup_free_ char *data = NULL;
	struct stat st;
	int ret;

	/* /dev is populated first and made read-only last (rune_rootfs_finish). */
	if (is_dest(m, "/dev"))
		flags &= ~MS_RDONLY;
	under = existed ? openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (under >= 0 && fstat(under, &st) == 0 && !data_has_key(m->data, "mode") &&
	    asprintf(&data, "mode=%04o%s%s", st.st_mode & 07777, m->data ? "," : "",
		     m->data ? m->data : "") < 0)
		return err_sys(err, ENOMEM, "mount %s", m->destination);
	ret = do_mount_at(m->source ? m->source : m->type, fd, m->destination, m->type, flags,
			  data ? data : m->data, err);
	if (ret < 0 || !m->tmpcopyup || under < 0)
		return ret;
	if ((ret = rune_open_in_root(rootfd, m->destination, O_RDONLY | O_DIRECTORY, false, true,
				     &top, err)) < 0)
		return ret;
	if ((ret = copy_tree(under, top)) < 0)
		return err_sys(err, -ret, "tmpcopyup %s", m->destination);
	return 0;
}

static int mount_one(const struct rune_rootfs_opts *o, size_t i, int rootfd, err_t *err)
{
	const struct rune_mount *m = &o->cfg->mounts[i];
	int src_fd = o->source_fds ? o->source_fds[i] : -1;
	_cleanup_close_ int fd = -1;
	unsigned long flags = m->flags & ~MS_REMOUNT;
	bool existed = false;
	int ret;

	if (binds_host_path(m) && m->source == NULL)
		return err_set(err, EINVAL, "mount %s: a bind mount needs a source",
			       m->destination);
	if (binds_host_path(m) && src_fd < 0 && access(m->source, F_OK) < 0)
		return err_sys(err, errno, "mount %s to %s", m->source, m->destination);
	if ((ret = check_ordinary_dir(m, rootfd, err)) < 0)
		return ret;
	if (rune_open_in_root(rootfd, m->destination, O_PATH, false, false, &fd, NULL) == 0) {
		existed = true;
		close(steal_fd(fd));
	}
	ret = rune_open_in_root(rootfd, m->destination, O_PATH, true, source_is_dir(m, src_fd), &fd,
				err);
	if (ret < 0)
		return err_wrap(err, "mount %s", m->destination);

	if (is_type(m, "cgroup") || is_type(m, "cgroup2")) {
		if (is_type(m, "cgroup2") && o->cfg->ns[RUNE_NS_CGROUP].present &&
		    rune_cgroup_layout(o->cgroup_host) == RUNE_CGROUP_V2)
			ret =
			    do_mount_at("cgroup2", fd, m->destination, "cgroup2", flags, NULL, err);
		else
			ret = mount_cgroup_tree(o, m, rootfd, fd, err);
	} else if (m->bind) {
		ret = bind_named(src_fd >= 0 ? src_fd : AT_FDCWD, src_fd >= 0 ? "" : m->source,
				 m->source, fd, m->destination, m->recursive, flags, err);
	} else if (is_type(m, "tmpfs")) {
		ret = mount_tmpfs(m, rootfd, fd, existed, flags, err);
	} else {
		ret = do_mount_at(m->source ? m->source : m->type, fd, m->destination, m->type,
				  flags, m->data, err);
		/* sysfs can't be mounted in a userns without its own netns: bind the host's. */
		if (ret == -EPERM && is_type(m, "sysfs") && o->userns) {
			err_free(err);
			ret = do_mount_at("/sys", fd, m->destination, NULL, MS_BIND | MS_REC, NULL,
					  err);
		}
	}
	if (ret == 0 && (m->rec_attr_set || m->rec_attr_clr))
		ret = set_rec_attrs(m, rootfd, err);
	if (ret == 0 && m->propagation) {
		/* Resolve again: the fd still points at what lies under the new mount. */
		_cleanup_close_ int top = -1;
		_cleanup_free_ char *tp = NULL;
		if ((ret = rune_open_in_root(rootfd, m->destination, O_PATH, false, false, &top,
					     err)) < 0)
			return ret;
		tp = fd_path(top);
		if (mount(NULL, tp, NULL, m->propagation, NULL) < 0)
			ret = err_sys(err, errno, "set propagation of %s", m->destination);
	}
	return ret;
}

/* ---- devices ---- */

static const struct rune_device default_devices[] = {
	{ .path = "/dev/null",
	  .type = 'c',
	  .major = 1,
	  .minor = 3,
	  .has_mode = true,
	  .mode = 0666 },
	{ .path = "/dev/zero",
	  .type = 'c',
	  .major = 1,
	  .minor = 5,
	  .has_mode = true,
	  .mode = 0666 },
	{ .path = "/dev/full",
	  .type = 'c',
	  .major = 1,
	  .minor = 7,
	  .has_mode = true,
	  .mode = 0666 },
	{ .path = "/dev/tty", .type = 'c', .major = 5, .minor = 0, .has_mode = true, .mode = 0666 },
	{ .path = "/dev/random",
	  .type = 'c',
	  .major = 1,
	  .minor = 8,
	  .has_mode = true,
	  .mode = 0666 },
	{ .path = "/dev/urandom",
	  .type = 'c',
	  .major = 1,
	  .minor = 9,
	  .has_mode = true,
	  .mode = 0666 },
};

static int create_device(const struct rune_rootfs_opts *o, int rootfd, const struct rune_device *d,
			 err_t *err)
{
	_cleanup_free_ char *dir = strdup(d->path);
	_cleanup_close_ int parent = -1;
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t mode = d->has_mode ? d->mode : 0666;
	const char *base;
	char *slash;
	int ret;

	if (dir == NULL)
		return err_sys(err, ENOMEM, "device %s", d->path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	base = d->path + (slash - dir) + 1;
	ret = rune_open_in_root(rootfd, *dir ? dir : "/", O_PATH | O_DIRECTORY, true, true, &parent,
				err);
	if (ret < 0)
		return err_wrap(err, "device %s", d->path);

	if (o->userns) {
		/* mknod is not allowed in a user namespace: bind the host's node instead. */
		_cleanup_close_ int target = -1;
		int f = openat(parent, base, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (f < 0 && errno != EEXIST)
			return err_sys(err, errno, "create %s", d->path);
		if (f >= 0)
			close(f);
		target = openat(parent, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (target < 0)
			return err_sys(err, errno, "open %s", d->path);
		return bind_at(AT_FDCWD, d->path, target, d->path, false, 0, err);
	}
	if (unlinkat(parent, base, 0) < 0 && errno != ENOENT && errno != EISDIR)
		return err_sys(err, errno, "replace %s", d->path);
	if (mknodat(parent, base, type | (mode & 07777), makedev(d->major, d->minor)) < 0)
		return err_sys(err, errno, "mknod %s", d->path);
	/* mknod honours the umask; the config's mode must win. */
	if (fchmodat(parent, base, mode & 07777, 0) < 0)
		return err_sys(err, errno, "chmod %s", d->path);
	if ((d->has_uid || d->has_gid) &&
	    fchownat(parent, base, d->has_uid ? d->uid : (uid_t)-1, d->has_gid ? d->gid : (gid_t)-1,
		     AT_SYMLINK_NOFOLLOW) < 0)
		return err_sys(err, errno, "chown %s", d->path);
	return 0;
}

static bool dev_is_bind_mounted(const struct rune_config *cfg)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (strcmp(cfg->mounts[i].destination, "/dev") == 0 && cfg->mounts[i].bind)
			return true;
	return false;
}

static bool config_has_device(const struct rune_config *cfg, const char *path)
{
	for (size_t i = 0; i < cfg->n_devices; i++)
		if (strcmp(cfg->devices[i].path, path) == 0)
			return true;
	return false;
}

static int setup_dev(const struct rune_rootfs_opts *o, int rootfd, err_t *err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },
		{ "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" },
		{ "/proc/self/fd/2", "stderr" },
	};
	_cleanup_close_ int devfd = -1;
	int ret;

	if (dev_is_bind_mounted(o->cfg))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		if (!config_has_device(o->cfg, default_devices[i].path) &&
		    (ret = create_device(o, rootfd, &default_devices[i], err)) < 0)
			return ret;
	for (size_t i = 0; i < o->cfg->n_devices; i++)
		if ((ret = create_device(o, rootfd, &o->cfg->devices[i], err)) < 0)
			return ret;
	ret = rune_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, true, true, &devfd, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], devfd, links[i][1]) < 0 && errno != EEXIST)
			return err_sys(err, errno, "symlink /dev/%s", links[i][1]);
	/* /dev/ptmx must be the container's devpts instance, not the host's. */
	if (unlinkat(devfd, "ptmx", 0) < 0 && errno != ENOENT)
		return err_sys(err, errno, "remove /dev/ptmx");
	if (symlinkat("pts/ptmx", devfd, "ptmx") < 0)
		return err_sys(err, errno, "symlink /dev/ptmx");
	return 0;
}

static int setup_console(const struct rune_rootfs_opts *o, int rootfd, err_t *err)
{
	_cleanup_close_ int target = -1, devfd = -1;
	struct stat st;
	int f, ret;

	if (o->console_fd < 0)
		return 0;
	ret = rune_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, true, true, &devfd, err);
	if (ret < 0)
		return ret;
	/* The container may have planted a symlink or device at /dev/console: replace it. */
	if (fstatat(devfd, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode) &&
	    unlinkat(devfd, "console", S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
		return err_sys(err, errno, "remove /dev/console");
	f = openat(devfd, "console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return err_sys(err, errno, "create /dev/console");
	close(f);
	target = openat(devfd, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0 || fstat(target, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, EPERM, "/dev/console was swapped during setup");
	return bind_at(o->console_fd, "", target, "/dev/console", false, 0, err);
}

/*
 * A maskedPaths or readonlyPaths entry, resolved in the root like any path
 * (through symlinks, as runc applies them to the target, never through magic
 * links). 0 when it doesn't exist: absent paths need nothing; any other
 * failure is an error, never a silently skipped mask.
 */
static int open_listed_path(int rootfd, const char *path, int *fd, const char *field, err_t *err)
{
	int ret = rune_open_in_root(rootfd, path, O_PATH, false, false, fd, NULL);

	if (ret == -ENOENT || ret == -ENOTDIR)
		return 0;
	if (ret < 0)
		return err_sys(err, -ret, "%s: open %s in rootfs", field, path);
	return 1;
}

static int mask_paths(const struct rune_rootfs_opts *o, int rootfd, err_t *err)
{
	int ret;

	for (char **p = o->cfg->masked_paths; p && *p; p++) {
		_cleanup_close_ int fd = -1;
		struct stat st;

		ret = open_listed_path(rootfd, *p, &fd, "maskedPaths", err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		if (fstat(fd, &st) < 0)
			return err_sys(err, errno, "mask %s", *p);
		if (S_ISDIR(st.st_mode))
			ret = do_mount_at("tmpfs", fd, *p, "tmpfs", MS_RDONLY, "size=0k", err);
		else
			ret = bind_at(o->devnull_fd, "", fd, *p, false, 0, err);
		if (ret < 0)
			return err_wrap(err, "maskedPaths");
	}
	for (char **p = o->cfg->readonly_paths; p && *p; p++) {
		_cleanup_close_ int fd = -1;

		ret = open_listed_path(rootfd, *p, &fd, "readonlyPaths", err);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;
		ret = bind_at(fd, "", fd, *p, true, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			      err);
		if (ret < 0)
			return err_wrap(err, "readonlyPaths");
	}
	return 0;
}

int rune_rootfs_prepare(const struct rune_rootfs_opts *o, int *rootfd_out, err_t *err)
{
	const struct rune_config *cfg = o->cfg;
	bool rprivate = cfg->rootfs_propagation == (MS_PRIVATE | MS_REC);
	_cleanup_close_ int rootfd = -1;
	struct stat st;
	int ret;

	if (stat(cfg->root_path, &st) < 0)
		return err_sys(err, errno, "rootfs %s", cfg->root_path);
	if (!S_ISDIR(st.st_mode))
		return err_set(err, ENOTDIR, "rootfs %s: not a directory", cfg->root_path);
	if (o->chroot_only) {
		/* The caller's own mounts: nothing is mounted, nothing is made. */
		rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return err_sys(err, errno, "open rootfs %s", cfg->root_path);
		*rootfd_out = steal_fd(rootfd);
		return 0;
	}
	/*
	 * Never let the container's mounts propagate back to the caller: the
	 * whole tree, before any mount. rootfsPropagation applies to the new
	 * root after pivot_root (a non-recursive one here would leave the
	 * mounts below / shared, an unbindable / can't be bound).
	 */
	if (mount(NULL, "/", NULL, (rprivate ? MS_PRIVATE : MS_SLAVE) | MS_REC, NULL) < 0)
		return err_sys(err, errno, "make / %s", rprivate ? "rprivate" : "rslave");
	if (mount(cfg->root_path, cfg->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return err_sys(err, errno, "bind rootfs %s", cfg->root_path);
	rootfd = open(cfg->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, "open rootfs %s", cfg->root_path);

	for (size_t i = 0; i < cfg->n_mounts; i++)
		if ((ret = mount_one(o, i, rootfd, err)) < 0)
			return ret;
	if ((ret = setup_dev(o, rootfd, err)) < 0)
		return ret;
	*rootfd_out = steal_fd(rootfd);
	return 0;
}

/* A read-only /dev tmpfs, once populated (as runc does it). */
static int dev_readonly(const struct rune_rootfs_opts *o, int rootfd, err_t *err)
{
	const struct rune_config *cfg = o->cfg;

	for (size_t i = cfg->n_mounts; i-- > 0;) {
		const struct rune_mount *m = &cfg->mounts[i];
		_cleanup_close_ int fd = -1;
		int ret;

		if (!is_dest(m, "/dev"))
			continue;
		if (!is_type(m, "tmpfs") || !(m->flags & MS_RDONLY))
			return 0;
		if ((ret = rune_open_in_root(rootfd, "/dev", O_PATH, false, true, &fd, err)) < 0)
			return ret;
		return remount_bind(fd, "/dev", m->flags, err);
	}
	return 0;
}

int rune_rootfs_finish(const struct rune_rootfs_opts *o, int rootfd, err_t *err)
{
	int ret;

	if (o->chroot_only)
		return 0;
	if ((ret = setup_console(o, rootfd, err)) < 0 || (ret = mask_paths(o, rootfd, err)) < 0)
		return ret;
	return dev_readonly(o, rootfd, err);
}

int rune_open_pty_in_root(int rootfd, int *master, int *slave, err_t *err)
{
	_cleanup_close_ int m = -1;
	int ret, unlock = 0;

	ret = rune_open_in_root(rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, false, false, &m, NULL);
	if (ret < 0) {
		m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (m < 0)
			return err_sys(err, errno, "open /dev/ptmx");
	}
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return err_sys(err, errno, "unlock pty");
	*slave = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0)
		return err_sys(err, errno, "open pty peer");
	*master = steal_fd(m);
	return 0;
}

int rune_check_joined_mount_ns(const struct rune_config *cfg, const struct stat *before, err_t *err)
{
	const char *path = cfg->ns[RUNE_NS_MNT].path;
	struct stat now;

	if (!cfg->ns[RUNE_NS_MNT].present || path == NULL)
		return 0;
	if (stat("/proc/self/ns/mnt", &now) < 0)
		return err_sys(err, errno, "stat /proc/self/ns/mnt");
	if (now.st_dev == before->st_dev && now.st_ino == before->st_ino)
		return err_set(err, EINVAL,
			       "join mount namespace %s: it is the caller's own, where the "
			       "rootfs can't be set up",
			       path);
	return 0;
}

/* ---- --no-pivot: the caller's procfs and sysfs ---- */

struct mi_entry {
	int id, parent;
	char *path; /* set for a whole procfs or sysfs: a candidate to hide */
};

static void mi_free(struct mi_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

/* The mounts of our namespace: ids, parents and the whole procfs/sysfs ones. */
static int mi_read(struct mi_entry **out, size_t *n_out, err_t *err)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	struct mi_entry *v = NULL;
	size_t cap = 0, n = 0, len = 0;

	if (f == NULL)
		return err_sys(err, errno, "open /proc/self/mountinfo");
	while (getline(&line, &len, f) > 0) {
		char root[PATH_MAX], path[PATH_MAX], fstype[64];
		int id, parent;

		/* id parent major:minor root mountpoint options... - fstype source super */
		if (sscanf(line, "%d %d %*s %4095s %4095s", &id, &parent, root, path) != 4)
			continue;
		const char *sep = strstr(line, " - ");
		if (sep == NULL || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		if (n == cap) {
			struct mi_entry *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*v));
			if (nv == NULL) {
				mi_free(v, n);
				return err_sys(err, ENOMEM, "read /proc/self/mountinfo");
			}
			v = nv;
		}
		v[n] = (struct mi_entry){ .id = id, .parent = parent };
		if (strcmp(root, "/") == 0 &&
		    (strcmp(fstype, "proc") == 0 || strcmp(fstype, "sysfs") == 0)) {
			rune_mountinfo_unescape(path);
			v[n].path = strdup(path);
			if (v[n].path == NULL) {
				mi_free(v, n);
				return err_sys(err, ENOMEM, "read /proc/self/mountinfo");
			}
		}
		n++;
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* Whether mount e lies in the tree of mount top (by parent ids, not by path). */
static bool mi_below(const struct mi_entry *v, size_t n, const struct mi_entry *e, int top)
{
	for (size_t steps = 0; steps <= n; steps++) {
		size_t k;

		if (e->id == top)
			return true;
		for (k = 0; k < n && v[k].id != e->parent; k++)
			;
		if (k == n || v[k].id == e->id)
			return false;
		e = &v[k];
	}
	return false;
}

static int mi_deeper_first(const void *a, const void *b)
{
	const struct mi_entry *x = a, *y = b;
	size_t lx = x->path ? strlen(x->path) : 0, ly = y->path ? strlen(y->path) : 0;

	return lx < ly ? 1 : lx > ly ? -1 : 0;
}

/*
 * With --no-pivot the caller's mounts stay in the container's mount
 * namespace, below the new root. The kernel lets a user namespace mount a
 * fresh procfs or sysfs while one is fully visible in the namespace
 * (mount_too_revealing): the caller's would do, and the fresh one would be
 * unmasked. As runc does, every whole procfs and sysfs outside the rootfs
 * (cwd) goes: detached, or, where it is locked (in a user namespace),
 * covered with an empty read-only tmpfs. Deeper ones first, so that a
 * cover never hides one still to handle.
 */
static int hide_host_pseudo_fs(err_t *err)
{
	struct mi_entry *v = NULL;
	struct statx stx;
	size_t n = 0;
	int ret = 0;

	if (statx(AT_FDCWD, ".", 0, STATX_MNT_ID, &stx) < 0)
		return err_sys(err, errno, "--no-pivot: mount id of the rootfs");
	if (!(stx.stx_mask & STATX_MNT_ID))
		return err_set(err, ENOTSUP, "--no-pivot: this kernel has no mount ids (statx)");
	if ((ret = mi_read(&v, &n, err)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (v[i].path && mi_below(v, n, &v[i], (int)stx.stx_mnt_id)) {
			free(v[i].path);
			v[i].path = NULL;
		}
	qsort(v, n, sizeof(*v), mi_deeper_first);
	for (size_t i = 0; i < n && v[i].path; i++) {
		const char *p = v[i].path;

		if (umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) == 0 || errno == ENOENT)
			continue;
		if (errno != EINVAL && errno != EPERM) {
			ret = err_sys(err, errno, "--no-pivot: unmount %s", p);
			break;
		}
		if (mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0") < 0) {
			ret = err_sys(err, errno, "--no-pivot: cover %s", p);
			break;
		}
	}
	mi_free(v, n);
	return ret;
}

int rune_rootfs_pivot(const struct rune_rootfs_opts *o, err_t *err)
{
	const struct rune_config *cfg = o->cfg;
	_cleanup_close_ int oldroot = -1, newroot = -1;

	if (chdir(cfg->root_path) < 0)
		return err_sys(err, errno, "chdir %s", cfg->root_path);
	if (o->chroot_only) {
		/* The config has no mount namespace: it asks for nothing more (config.c). */
		if (chroot(".") < 0)
			return err_sys(err, errno, "chroot %s", cfg->root_path);
		if (chdir("/") < 0)
			return err_sys(err, errno, "chdir /");
		return 0;
	}
	if (o->no_pivot) {
		int ret = hide_host_pseudo_fs(err);

		if (ret < 0)
			return ret;
		if (mount(cfg->root_path, "/", NULL, MS_MOVE, NULL) < 0)
			return err_sys(err, errno, "move rootfs to /");
		if (chroot(".") < 0)
			return err_sys(err, errno, "chroot %s", cfg->root_path);
	} else {
		oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		newroot = open(cfg->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
		if (oldroot < 0 || newroot < 0)
			return err_sys(err, errno, "open / for pivot_root");
		/* pivot_root(".", ".") stacks the old root under the new one: no put_old dir. */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return err_sys(err, errno, "pivot_root %s", cfg->root_path);
		if (fchdir(oldroot) < 0)
			return err_sys(err, errno, "fchdir old root");
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			return err_sys(err, errno, "make old root rslave");
		if (umount2(".", MNT_DETACH) < 0)
			return err_sys(err, errno, "unmount old root");
		if (fchdir(newroot) < 0)
			return err_sys(err, errno, "fchdir new root");
	}
	if (chdir("/") < 0)
		return err_sys(err, errno, "chdir /");
	if (cfg->root_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		struct statfs sfs;
		unsigned long keep = 0;
		if (statfs("/", &sfs) == 0)
			keep = sfs.f_flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
			return err_sys(err, errno, "remount / read-only");
	}
	if (cfg->rootfs_propagation && mount(NULL, "/", NULL, cfg->rootfs_propagation, NULL) < 0)
		return err_sys(err, errno, "set rootfs propagation");
	return 0;
}

/* ---- process attributes ---- */

int rune_process_apply_rlimits(const struct rune_process *p, err_t *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = p->rlimits[i].soft,
				     .rlim_max = p->rlimits[i].hard };
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return err_sys(err, errno, "setrlimit %s soft %llu hard %llu",
				       p->rlimits[i].name, (unsigned long long)rl.rlim_cur,
				       (unsigned long long)rl.rlim_max);
	}
	return 0;
}

static int apply_caps(const struct rune_caps *c, err_t *err)
{
	cap_value_t last = cap_max_bits();
	cap_t caps;
	int ret = 0;

	caps = cap_init();
	if (caps == NULL)
		return err_sys(err, errno, "capabilities");
	for (cap_value_t v = 0; v < last && v < 64; v++) {
		uint64_t bit = 1ULL << v;
		if (c->effective & bit)
			cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_SET);
		if (c->permitted & bit)
			cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_SET);
		if (c->inheritable & bit)
			cap_set_flag(caps, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	if (cap_set_proc(caps) < 0)
		ret = err_sys(err, errno, "set capabilities");
	cap_free(caps);
	if (ret < 0)
		return ret;
	/* The kernel only lets a cap be ambient if it is permitted and inheritable; runc
	 * silently leaves the others out, and configs from `runc spec` rely on it. */
	for (cap_value_t v = 0; v < last && v < 64; v++)
		if ((c->ambient & c->inheritable & c->permitted & (1ULL << v)) &&
		    cap_set_ambient(v, CAP_SET) < 0)
			return err_sys(err, errno, "raise ambient capability %s", rune_cap_name(v));
	return 0;
}

static int drop_bounding(const struct rune_caps *c, err_t *err)
{
	cap_value_t last = cap_max_bits();

	for (cap_value_t v = 0; v < last && v < 64; v++)
		if (!(c->bounding & (1ULL << v)) && prctl(PR_CAPBSET_DROP, v, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return err_sys(err, errno, "drop bounding capability %s", rune_cap_name(v));
	return 0;
}

/*
 * chdir to cwd inside the current root, never through a symlink out of the
 * root or a magic link (/proc/self/fd/N: CVE-2024-21626).
 */
static int chdir_in_root(const char *cwd)
{
	const unsigned long long resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	_cleanup_close_ int root = -1, fd = -1;

	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root >= 0)
		fd = sys_openat2(root, cwd, O_PATH | O_DIRECTORY, resolve);
	if (fd < 0 || fchdir(fd) < 0)
		return -errno;
	return 0;
}

static int cwd_error(const char *cwd, int code, err_t *err)
{
	return err_sys(err, -code, "chdir to cwd (\"%s\") set in config.json", cwd);
}

int rune_process_apply_identity(const struct rune_process *p, err_t *err)
{
	const struct rune_user *u = &p->user;
	const char *cwd = p->cwd ? p->cwd : "/";
	int r;

	/*
	 * As runc: enter the cwd with full privileges first (a 0700 root-owned
	 * one works for any user), again as the user if that was refused (a
	 * volume the user, not root, may enter: root-squashed NFS, userns).
	 */
	r = chdir_in_root(cwd);
	if (r < 0 && r != -EACCES && r != -EPERM)
		return cwd_error(cwd, r, err);
	if (p->caps.set && drop_bounding(&p->caps, err) < 0)
		return -EPERM;
	/* Keep the permitted set across setuid so the config's caps can be set after. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return err_sys(err, errno, "prctl PR_SET_KEEPCAPS");
	if (setgroups(u->n_additional_gids, u->additional_gids) < 0 && errno != EPERM)
		return err_sys(err, errno, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return err_sys(err, errno, "setgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return err_sys(err, errno, "setuid %u", u->uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return err_sys(err, errno, "prctl PR_SET_KEEPCAPS");
	if (p->caps.set && apply_caps(&p->caps, err) < 0)
		return -EPERM;
	if (u->has_umask)
		umask(u->umask);
	else
		umask(0022);
	if (r < 0 && (r = chdir_in_root(cwd)) < 0)
		return cwd_error(cwd, r, err);
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t n = strlen(key);

	for (; env && *env; env++)
		if (strncmp(*env, key, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

char *rune_process_lookup(const struct rune_process *p, const char *arg0)
{
	const char *path_env = env_get(p->env, "PATH");
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;

	if (strchr(arg0, '/'))
		return access(arg0, F_OK) == 0 ? strdup(arg0) : NULL;
	copy = strdup(path_env ? path_env
			       : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *full = path_join(*dir ? dir : ".", arg0);
		struct stat st;
		if (full && stat(full, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return full;
		free(full);
	}
	return NULL;
}

int rune_process_check_exe(const char *exe, err_t *err)
{
	struct stat st;

	/* runc's wording: clients (docker) match "permission denied" to pick exit code 126. */
	if (stat(exe, &st) < 0)
		return err_set(err, errno, "exec: \"%s\": %s", exe,
			       errno == ENOENT ? "no such file or directory" : "stat failed");
	/* AT_EACCESS: the effective ids and capabilities (CAP_DAC_OVERRIDE), as execve checks. */
	if (!S_ISREG(st.st_mode) || faccessat(AT_FDCWD, exe, X_OK, AT_EACCESS) < 0)
		return err_set(err, EACCES, "exec: \"%s\": permission denied", exe);
	return 0;
}

/* runc's words (Go's lower-case errno text): clients match them to pick 126 or 127. */
int rune_exec_error(const char *exe, int code, err_t *err)
{
	char text[128];

	snprintf(text, sizeof(text), "%s", strerror(code));
	text[0] = tolower((unsigned char)text[0]);
	return err_set(err, code, "exec %s: %s", exe, text);
}

/* runc sets HOME from the container's /etc/passwd when the config doesn't. */
int rune_process_default_home(struct rune_process *p, err_t *err)
{
	const char *home = "/";
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *kv = NULL, *text = NULL;
	struct passwd *pw;
	size_t len;
	err_t e2 = NULL;

	if (env_get(p->env, "HOME"))
		return 0;
	/* The image's file: a FIFO or /dev/zero behind it must not hang create. */
	if (read_file("/etc/passwd", &text, &len, &e2) < 0) {
		if (e2->code != ENOENT && e2->code != ENOTDIR) {
			int ret = err_set(err, e2->code, "%s", err_msg(e2));
			err_free(&e2);
			return ret;
		}
		err_free(&e2);
	}
	if (text)
		f = fmemopen(text, len, "r");
	while (f && (pw = fgetpwent(f)))
		if (pw->pw_uid == p->user.uid) {
			home = pw->pw_dir;
			break;
		}
	if (asprintf(&kv, "HOME=%s", home) < 0 || strv_append(&p->env, kv) < 0)
		return err_sys(err, ENOMEM, "HOME");
	return 0;
}
