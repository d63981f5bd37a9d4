// SPDX-License-Identifier: Apache-2.0
/*
 * The Carrier: a container bundle turned into a LibOS enclave container
 * at create (include/teeimage/carrier.h). The cache is a directory of
 * entries named by their key (64 hex digits), each holding the TEE files,
 * built aside (.tmp-KEY-PID) and renamed into place, so an entry that
 * exists is complete; KEY.lock serialises the builds of one key across
 * processes (two shims building the same image build once). Entries are
 * evicted least recently used first (the entry's mtime, touched at each
 * use) beyond the configured count or size.
 */
#include "teeimage/carrier.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "teeimage/teeimage.h"

#define LOCK_WAIT_MS  240000 /* another process's build of the same image */
#define MAX_EVICTABLE 4096

static void cleanup_md(EVP_MD_CTX **c)
{
	EVP_MD_CTX_free(*c);
}

static void md_line(EVP_MD_CTX *md, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void md_line(EVP_MD_CTX *md, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	/* a NUL ends each field: no two inputs give the same stream */
	if (n >= 0)
		EVP_DigestUpdate(md, s, (size_t)n + 1);
	free(s);
}

static void sha256_hex(const void *buf, size_t len, char hex[65])
{
	uint8_t d[32];
	unsigned dl = 0;

	EVP_Digest(buf, len, d, &dl, EVP_sha256(), NULL);
	sgx_hex(d, 32, hex);
}

/*
 * The cache key. A layer is named by its path and identity (device,
 * inode, change time): containerd's committed snapshots never change, and
 * a path reused after its snapshot was removed is a new inode. Without
 * layers the rootfs cannot be told apart from a changed one: *rebuild.
 */
static int cache_key(const struct tee_carrier_opts *o, const struct tee_libos_opts *lo,
		     const char *rootfs, const char *const *argv, char key[65], int *rebuild,
		     err_t *err)
{
	__attribute__((cleanup(cleanup_md))) EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t d[32];
	char hex[65];
	unsigned dl = 0;
	struct stat st;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		return err_set(err, ENOMEM, "cache key");
	md_line(md, "rune-carrier 2");
	sha256_hex(o->libos_elf, o->libos_len, hex);
	md_line(md, "libos %s", hex);
	*rebuild = !o->layers || !o->layers[0];
	for (size_t i = 0; o->layers && o->layers[i]; i++) {
		if (stat(o->layers[i], &st) < 0)
			return err_sys(err, errno, "layer %s", o->layers[i]);
		md_line(md, "layer %s %llu %llu %lld.%09ld", o->layers[i],
			(unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			(long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	}
	if (*rebuild)
		md_line(md, "rootfs %s", rootfs);
	for (size_t i = 0; argv[i]; i++)
		md_line(md, "arg %s", argv[i]);
	md_line(md, "debug %d", !!o->debug);
	/* the container's manifest options (annotations): each changes MRENCLAVE */
	md_line(md, "heap %llu threads %u", (unsigned long long)lo->heap, lo->threads);
	for (size_t i = 0; lo->trusted && lo->trusted[i]; i++)
		md_line(md, "trusted %s", lo->trusted[i]);
	for (size_t i = 0; lo->allowed && lo->allowed[i]; i++)
		md_line(md, "allowed %s", lo->allowed[i]);
	if (o->method == TEE_SIGN_LOCAL_KEY) {
		_cleanup_free_ void *pem = NULL;
		size_t len;

		if (tee_read_file(o->key_path, 1 << 20, &pem, &len, err) < 0)
			return err_wrap(err, "signing key");
		sha256_hex(pem, len, hex);
		md_line(md, "signer key %s", hex);
	} else {
		md_line(md, "signer server %s", o->signer_id ? o->signer_id : "");
	}
	if (!EVP_DigestFinal_ex(md, d, &dl))
		return err_set(err, EIO, "cache key");
	sgx_hex(d, 32, key);
	return 0;
}

/* Removes a flat directory (an entry: files only). */
static void remove_flat(int parent, const char *name)
{
	_cleanup_close_ int fd =
	    openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd >= 0 && (d = fdopendir(fd)) != NULL) {
		fd = -1;
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	unlinkat(parent, name, AT_REMOVEDIR);
}

static int is_key(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 64 && s[64] == 0;
}

struct centry {
	char name[65];
	struct timespec used;
	uint64_t bytes;
};

static int by_use(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

static uint64_t entry_bytes(int parent, const char *name)
{
	_cleanup_close_ int fd =
	    openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t n = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL)
		return 0;
	fd = -1;
	while ((e = readdir(d)) != NULL)
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			n += (uint64_t)st.st_blocks * 512;
	closedir(d);
	return n;
}

/* An entry removed only under its lock (not while another process builds or uses it). */
static void evict_one(int cfd, const char *name)
{
	char lock[80];
	_cleanup_close_ int lfd = -1;

	snprintf(lock, sizeof(lock), "%s.lock", name);
	lfd = openat(cfd, lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
		return;
	remove_flat(cfd, name);
	unlinkat(cfd, lock, 0);
}

/* Least recently used first, beyond the bounds; never keep. Leftover builds of dead processes too. */
static void evict(int cfd, unsigned max_entries, uint64_t max_bytes, const char *keep)
{
	_cleanup_free_ struct centry *v = calloc(MAX_EVICTABLE, sizeof(*v));
	_cleanup_close_ int fd = dup(cfd);
	size_t n = 0, count = 0;
	uint64_t total = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (!v || fd < 0 || (d = fdopendir(fd)) == NULL)
		return;
	fd = -1;
	while ((e = readdir(d)) != NULL) {
		long pid;

		if (!strncmp(e->d_name, ".tmp-", 5)) {
			const char *dash = strrchr(e->d_name, '-');

			pid = dash ? strtol(dash + 1, NULL, 10) : 0;
			if (pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH)
				remove_flat(cfd, e->d_name);
			continue;
		}
		if (strlen(e->d_name) == 69 && !strcmp(e->d_name + 64, ".lock")) {
			char key[65];

			/* the lock of an entry that is gone (a build that failed or crashed) */
			memcpy(key, e->d_name, 64);
			key[64] = 0;
			if (is_key(key) && strcmp(key, keep) &&
			    fstatat(cfd, key, &st, AT_SYMLINK_NOFOLLOW) < 0)
				evict_one(cfd, key);
			continue;
		}
		if (!is_key(e->d_name) || fstatat(cfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		count++;
		if (n == MAX_EVICTABLE)
			continue;
		memcpy(v[n].name, e->d_name, 65);
		v[n].used = st.st_mtim;
		v[n].bytes = entry_bytes(cfd, e->d_name);
		total += v[n].bytes;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), by_use);
	for (size_t i = 0; i < n && (count > max_entries || total > max_bytes); i++) {
		if (!strcmp(v[i].name, keep))
			continue;
		evict_one(cfd, v[i].name);
		if (fstatat(cfd, v[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			count--;
			total -= v[i].bytes;
		}
	}
}

static int lock_key(int cfd, const char *cache, const char *key, err_t *err)
{
	char name[80];
	int fd, waited = 0;

	snprintf(name, sizeof(name), "%s.lock", key);
	fd = openat(cfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_sys(err, errno, "cache %s: lock %s", cache, name);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts = { 0, 20 * 1000000L };

		if (errno != EWOULDBLOCK || waited >= LOCK_WAIT_MS) {
			int e = errno == EWOULDBLOCK ? ETIMEDOUT : errno;

			close(fd);
			return err_sys(err, e, "cache %s: lock %s (another build of this image)",
				       cache, name);
		}
		nanosleep(&ts, NULL);
		waited += 20;
	}
	return fd;
}

/* The image's own TEE image (/.rune with a SIGSTRUCT), checked: 1 if there, 0 if not. */
static int own_image(int rootfd, const char *rootfs, err_t *err)
{
	static const char *const files[] = { TEE_DIR, TEE_DIR "/" TEE_SIG_NAME,
					     TEE_DIR "/" TEE_ELF_NAME };
	struct tee_inspect_result r;
	struct stat st;
	int ret;

	if (fstatat(rootfd, TEE_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return err_set(err, EINVAL, "the image's /%s: not a directory", TEE_DIR);
	if (fstatat(rootfd, files[1], &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	/* real files only: tee_inspect reads by path, as root */
	for (size_t i = 1; i < ARRAY_SIZE(files); i++)
		if (fstatat(rootfd, files[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			return err_set(err, EINVAL,
				       "the image's TEE image: /%s: not a regular file", files[i]);
	ret = tee_inspect(rootfs, &r, err);
	if (ret < 0)
		return err_wrap(err, "the image's TEE image");
	free(r.manifest);
	if (!r.sig_valid)
		return err_set(err, EACCES, "the image's TEE image: its SIGSTRUCT does not verify");
	if (!r.sig_matches)
		return err_set(err, EACCES,
			       "the image's TEE image: its SIGSTRUCT signs another enclave");
	return 1;
}

/* Builds the entry aside and renames it into place (a concurrent one already there wins). */
static int build_entry(const struct tee_carrier_opts *o, const struct tee_libos_opts *lo, int cfd,
		       const char *cache, const char *rootfs, const char *const *argv,
		       const char *key, int rebuild, err_t *err)
{
	struct tee_build_opts b = { 0 };
	struct tee_build_result res;
	char tmp[128], path[PATH_MAX];
	int ret;

	snprintf(tmp, sizeof(tmp), ".tmp-%s-%d", key, (int)getpid());
	remove_flat(cfd, tmp);
	snprintf(path, sizeof(path), "%s/%s", cache, tmp);
	b.rootfs = rootfs;
	b.argv = argv;
	b.debug = o->debug;
	b.heap = lo->heap;
	b.threads = lo->threads;
	b.trusted = (const char *const *)lo->trusted;
	b.allowed = (const char *const *)lo->allowed;
	b.key_path = o->method == TEE_SIGN_LOCAL_KEY ? o->key_path : NULL;
	b.sign = o->sign;
	b.sign_arg = o->sign_arg;
	b.libos_elf = o->libos_elf;
	b.libos_len = o->libos_len;
	b.out_dir = path;
	ret = tee_build(&b, &res, err);
	if (ret < 0) {
		remove_flat(cfd, tmp);
		return err_wrap(err, "build");
	}
	if (rebuild)
		remove_flat(cfd, key);
	if (renameat(cfd, tmp, cfd, key) < 0) {
		int e = errno;

		remove_flat(cfd, tmp);
		if (e != ENOTEMPTY && e != EEXIST)
			return err_sys(err, e, "cache %s: install %s", cache, key);
	}
	return 0;
}

int tee_carrier(const struct tee_carrier_opts *o, struct tee_carrier_result *res, err_t *err)
{
	const char *cache = o->cache_dir ? o->cache_dir : TEE_CARRIER_CACHE;
	_cleanup_free_ char *rootfs = NULL, *prog = NULL;
	_cleanup_strv_ char **argv = NULL;
	__attribute__((cleanup(tee_libos_opts_free))) struct tee_libos_opts lo = { 0 };
	_cleanup_close_ int rootfd = -1, cfd = -1, lfd = -1;
	struct stat st;
	int ret, rebuild = 1, made_mp = 0;

	memset(res, 0, sizeof(*res));
	ret = tee_bundle_read(o->bundle, &rootfs, &argv, err);
	if (ret < 0)
		return ret;
	/* a bad annotation fails whatever else happens */
	ret = tee_bundle_libos_opts(o->bundle, &lo, err);
	if (ret < 0)
		return ret;
	if (!argv || !argv[0] || !argv[0][0])
		return err_set(err, EINVAL,
			       "entrypoint: the container has no process.args (the image sets no "
			       "entrypoint or command)");
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_sys(err, errno, "rootfs %s", rootfs);
	ret = own_image(rootfd, rootfs, err);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		res->own = 1;
		return tee_bundle_enclave(o->bundle, o->pal, (const char *const *)argv, NULL, err);
	}
	if (o->method == TEE_SIGN_CLIENT)
		return err_set(err, EPERM,
			       "signature_method client: the image carries no signed TEE image "
			       "(/%s/%s)",
			       TEE_DIR, TEE_SIG_NAME);
	ret = tee_resolve_entrypoint(rootfd, argv[0], &prog, err);
	if (ret < 0)
		return ret;
	free(argv[0]);
	argv[0] = steal_ptr(prog);

	/* the mount point first: a read-only rootfs fails before any work */
	if (mkdirat(rootfd, TEE_DIR, 0755) == 0)
		made_mp = 1;
	else if (errno != EEXIST)
		return err_sys(err, errno, "mount point /%s in the rootfs", TEE_DIR);

	ret = cache_key(o, &lo, rootfs, (const char *const *)argv, res->key, &rebuild, err);
	if (ret == 0 && mkdir(cache, 0700) < 0 && errno != EEXIST)
		ret = err_sys(err, errno, "cache %s", cache);
	if (ret == 0 && (cfd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		ret = err_sys(err, errno, "cache %s", cache);
	if (ret == 0 && (lfd = lock_key(cfd, cache, res->key, err)) < 0)
		ret = lfd;
	if (ret == 0) {
		res->cached = !rebuild && fstatat(cfd, res->key, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			      S_ISDIR(st.st_mode);
		if (res->cached)
			utimensat(cfd, res->key, NULL, AT_SYMLINK_NOFOLLOW); /* LRU */
		else
			ret = build_entry(o, &lo, cfd, cache, rootfs, (const char *const *)argv,
					  res->key, rebuild, err);
	}
	snprintf(res->entry, sizeof(res->entry), "%s/%s", cache, res->key);
	if (ret == 0)
		ret = tee_bundle_enclave(o->bundle, o->pal, (const char *const *)argv, res->entry,
					 err);
	if (ret < 0) {
		char lock[80];

		if (made_mp)
			unlinkat(rootfd, TEE_DIR, AT_REMOVEDIR);
		/* a failed build leaves no lock behind (a waiter that got it builds again) */
		snprintf(lock, sizeof(lock), "%s.lock", res->key);
		if (lfd >= 0 && fstatat(cfd, res->key, &st, AT_SYMLINK_NOFOLLOW) < 0)
			unlinkat(cfd, lock, 0);
		return ret;
	}
	evict(cfd, o->max_entries ? o->max_entries : TEE_CARRIER_ENTRIES,
	      o->max_bytes ? o->max_bytes : TEE_CARRIER_MAX_BYTES, res->key);
	return 0;
}
