// SPDX-License-Identifier: Apache-2.0
/*
 * TEE image building: the manifest (trusted files hashed inside the rootfs,
 * resolved with RESOLVE_IN_ROOT so symlinks cannot leave it), the manifest
 * embedded as the LibOS ELF's last segment, the layout fixed point
 * (the manifest records the enclave size and heap offset it leads to),
 * measurement and signing through libsgx.
 */
#include "teeimage/teeimage.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "common/script.h"
#include "libos/libos_abi.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"

#define PAGE		  4096ULL
#define PAGE_UP(x)	  (((x) + PAGE - 1) & ~(PAGE - 1))
#define DEFAULT_HEAP	  (64ULL << 20)
#define DEFAULT_THREADS	  16 /* TCS: enough for a Go program's runtime threads */
#define DEFAULT_STACK	  (2ULL << 20)
#define MAX_TRUSTED	  65536
#define MAX_TRUSTED_DEPTH 32

int tee_read_file(const char *path, size_t max, void **buf, size_t *len, err_t *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *b = NULL;
	struct stat st;
	size_t n = 0;

	if (fd < 0)
		return err_sys(err, errno, "open %s", path);
	if (fstat(fd, &st) < 0)
		return err_sys(err, errno, "stat %s", path);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return err_set(err, EFBIG, "%s: not a regular file of at most %zu bytes", path,
			       max);
	b = malloc(st.st_size + 1);
	if (!b)
		return err_sys(err, ENOMEM, "read %s", path);
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_sys(err, r < 0 ? errno : EIO, "read %s", path);
		n += r;
	}
	b[n] = 0;
	*buf = steal_ptr(b);
	*len = n;
	return 0;
}

static int write_file(int dirfd, const char *name, const void *buf, size_t len, err_t *err)
{
	char tmp[64];
	_cleanup_close_ int fd = -1;
	size_t n = 0;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return err_sys(err, errno, "create %s/%s", TEE_DIR, tmp);
	while (n < len) {
		ssize_t r = write(fd, (const char *)buf + n, len - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_sys(err, r < 0 ? errno : EIO, "write %s/%s", TEE_DIR, name);
		n += r;
	}
	if (fchmod(fd, 0644) < 0 || renameat(dirfd, tmp, dirfd, name) < 0)
		return err_sys(err, errno, "install %s/%s", TEE_DIR, name);
	return 0;
}

int tee_open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	char buf[PATH_MAX], *save = NULL, *c, *next;
	int fd, dfd;

	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	/* No openat2 (Linux < 5.6, valgrind): walk down, refusing every symlink. */
	if (strlen(path) >= sizeof(buf))
		return errno = ENAMETOOLONG, -1;
	strcpy(buf, path);
	dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
	if (dfd < 0)
		return -1;
	c = strtok_r(buf, "/", &save);
	if (!c) /* the root itself */
		return dfd;
	for (; c; c = next) {
		next = strtok_r(NULL, "/", &save);
		if (!strcmp(c, "..")) {
			close(dfd);
			return errno = EPERM, -1;
		}
		fd = openat(dfd, c,
			    next ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
				 : flags | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		if (fd < 0)
			return errno == ENOTDIR && next ? (errno = ELOOP, -1) : -1;
		dfd = fd;
	}
	return dfd;
}

static int open_in_root(int rootfd, const char *path, int flags)
{
	return tee_open_in_root(rootfd, path, flags);
}

/* argv[0] as an absolute path of a regular file in the rootfs (PATH searched for a bare name). */
int tee_resolve_entrypoint(int rootfd, const char *prog, char **out, err_t *err)
{
	const char *p = TEE_DEFAULT_PATH;
	struct stat st;
	char cand[PATH_MAX];

	if (prog[0] == '/' || strchr(prog, '/')) {
		int fd;

		if (prog[0] != '/')
			return err_set(err, EINVAL, "entrypoint: %s: not an absolute path", prog);
		fd = tee_open_in_root(rootfd, prog, O_PATH | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			int e = fd < 0 ? errno : EACCES;

			if (fd >= 0)
				close(fd);
			return err_sys(err, e, "entrypoint: %s in the image", prog);
		}
		close(fd);
		*out = strdup(prog);
		return *out ? 0 : err_sys(err, ENOMEM, "entrypoint");
	}
	while (*p) {
		const char *end = strchrnul(p, ':');
		int fd;

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)(end - p), p, prog);
		fd = tee_open_in_root(rootfd, cand, O_PATH | O_CLOEXEC);
		if (fd >= 0) {
			int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

			close(fd);
			if (ok) {
				*out = strdup(cand);
				return *out ? 0 : err_sys(err, ENOMEM, "entrypoint");
			}
		}
		p = *end ? end + 1 : end;
	}
	return err_set(err, ENOENT, "entrypoint: %s: not found in the image (PATH %s)", prog,
		       TEE_DEFAULT_PATH);
}

struct tfile {
	char *path;
	uint64_t size;
	uint8_t hash[32];
	uint8_t (*chunks)[32]; /* per LIBOS_CHUNK_SIZE, for a file of more than one */
	uint64_t nchunks;
	dev_t dev;
	ino_t ino;
	int allowed; /* an "allowed" path: nothing else is known of it */
};

struct tlist {
	struct tfile *v;
	size_t n, cap;
};

static void tlist_free(struct tlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].chunks);
	}
	free(l->v);
}

/* A path for the manifest: absolute, normalised, no newline. */
static int norm_path(const char *in, char *out, size_t n, err_t *err)
{
	size_t k = 0;
	const char *s = in;

	if (in[0] != '/')
		return err_set(err, EINVAL, "%s: paths are absolute, inside the rootfs", in);
	if (strchr(in, '\n'))
		return err_set(err, EINVAL, "a path holds a newline");
	out[k++] = '/';
	while (*s) {
		const char *b;
		size_t len;

		while (*s == '/')
			s++;
		b = s;
		while (*s && *s != '/')
			s++;
		len = s - b;
		if (!len || (len == 1 && b[0] == '.'))
			continue;
		if (len == 2 && b[0] == '.' && b[1] == '.')
			return err_set(err, EINVAL, "%s: '..' is not allowed", in);
		if (k + len + 2 > n)
			return err_set(err, ENAMETOOLONG, "%s: too long", in);
		if (k > 1)
			out[k++] = '/';
		memcpy(out + k, b, len);
		k += len;
	}
	out[k] = 0;
	return 0;
}

static int sha256_buf(const void *buf, size_t len, uint8_t out[32])
{
	return EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL) ? 0 : -1;
}

/*
 * The file's SHA-256 and, when it has more than one chunk, each chunk's
 * (what the LibOS checks as it reads): the file is read once.
 */
static int hash_fd(int fd, struct tfile *t, const char *path, err_t *err)
{
	_cleanup_free_ char *buf = malloc(LIBOS_CHUNK_SIZE);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t total = 0;
	size_t cap = 0;
	int ret = 0;

	if (!buf || !c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c);
		return err_set(err, ENOMEM, "SHA-256");
	}
	for (;;) {
		size_t n = 0;
		ssize_t r = 0;

		while (n < LIBOS_CHUNK_SIZE) {
			r = read(fd, buf + n, LIBOS_CHUNK_SIZE - n);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			n += r;
		}
		if (r < 0) {
			ret = err_sys(err, errno, "read %s", path);
			break;
		}
		if (n == 0)
			break;
		if (t->nchunks == cap) {
			void *g = realloc(t->chunks, (cap = cap ? cap * 2 : 4) * 32);

			if (!g) {
				ret = err_sys(err, ENOMEM, "hash %s", path);
				break;
			}
			t->chunks = g;
		}
		if (sha256_buf(buf, n, t->chunks[t->nchunks++]) < 0 ||
		    !EVP_DigestUpdate(c, buf, n)) {
			ret = err_set(err, ENOMEM, "SHA-256");
			break;
		}
		total += n;
		if (n < LIBOS_CHUNK_SIZE)
			break;
	}
	if (ret == 0)
		EVP_DigestFinal_ex(c, t->hash, NULL);
	EVP_MD_CTX_free(c);
	t->size = total;
	/* One chunk: its hash is the file's, on the trusted line. */
	if (ret < 0 || t->nchunks <= 1) {
		free(t->chunks);
		t->chunks = NULL;
		t->nchunks = 0;
	}
	return ret;
}

static int add_path(struct tlist *l, int rootfd, const char *path, int depth, err_t *err);

/* A trusted file before v[i] with the same SHA-256 and size (so the same chunks). */
static int same_content_before(const struct tlist *l, size_t i)
{
	if (!l->v[i].nchunks)
		return 0;
	for (size_t k = 0; k < i; k++)
		if (l->v[k].nchunks && !l->v[k].allowed && l->v[k].size == l->v[i].size &&
		    !memcmp(l->v[k].hash, l->v[i].hash, 32))
			return 1;
	return 0;
}

static int add_dir(struct tlist *l, int rootfd, int fd, const char *path, int depth, err_t *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!d) {
		close(fd);
		return err_sys(err, errno, "read directory %s", path);
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **g = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!g) {
				ret = err_sys(err, ENOMEM, "list %s", path);
				goto out;
			}
			names = g;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			ret = err_sys(err, ENOMEM, "list %s", path);
			goto out;
		}
		n++;
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		char child[PATH_MAX];

		if ((size_t)snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
				     names[i]) >= sizeof(child))
			ret = err_set(err, ENAMETOOLONG, "%s/%s: too long", path, names[i]);
		else
			ret = add_path(l, rootfd, child, depth + 1, err);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

static int add_path(struct tlist *l, int rootfd, const char *in, int depth, err_t *err)
{
	char path[PATH_MAX];
	struct stat st;
	struct tfile *t;
	int fd, ret;

	ret = norm_path(in, path, sizeof(path), err);
	if (ret < 0)
		return ret;
	if (depth > MAX_TRUSTED_DEPTH)
		return err_set(err, ELOOP, "%s: directories nested too deep", path);
	fd = open_in_root(rootfd, path, O_RDONLY);
	if (fd < 0 && depth > 0 && (errno == ENOENT || errno == ELOOP || errno == EACCES))
		return 0; /* a dangling or looping link met in a walk: nothing to trust */
	if (fd < 0)
		return err_sys(err, errno, "trusted file %s", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return err_sys(err, errno, "stat %s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		struct stat lst;
		int lfd;

		/* In a walk, a symlink to a directory is not followed (loops, duplicates). */
		if (depth > 0) {
			lfd = open_in_root(rootfd, path, O_PATH | O_NOFOLLOW);
			if (lfd >= 0 && fstat(lfd, &lst) == 0 && S_ISLNK(lst.st_mode)) {
				close(lfd);
				close(fd);
				return 0;
			}
			if (lfd >= 0)
				close(lfd);
		}
		return add_dir(l, rootfd, fd, path, depth, err);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0; /* devices, fifos, sockets: not files to trust */
	}
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].path, path)) {
			close(fd);
			return 0;
		}
	if (l->n == MAX_TRUSTED) {
		close(fd);
		return err_set(err, E2BIG, "more than %d trusted files", MAX_TRUSTED);
	}
	if (l->n == l->cap) {
		struct tfile *g = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 64) * sizeof(*g));

		if (!g) {
			close(fd);
			return err_sys(err, ENOMEM, "trusted files");
		}
		l->v = g;
	}
	t = &l->v[l->n];
	memset(t, 0, sizeof(*t));
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	/* The same inode twice (hard links, symlinks): hashed once. */
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].dev == st.st_dev && l->v[i].ino == st.st_ino) {
			memcpy(t->hash, l->v[i].hash, 32);
			t->size = l->v[i].size;
			if (l->v[i].nchunks) {
				t->chunks = malloc(l->v[i].nchunks * 32);
				if (!t->chunks) {
					close(fd);
					return err_sys(err, ENOMEM, "trusted files");
				}
				memcpy(t->chunks, l->v[i].chunks, l->v[i].nchunks * 32);
				t->nchunks = l->v[i].nchunks;
			}
			goto found;
		}
	ret = hash_fd(fd, t, path, err);
	if (ret < 0) {
		close(fd);
		return ret;
	}
found:
	close(fd);
	t->path = strdup(path);
	l->n++; /* tlist_free frees what it holds */
	if (!t->path)
		return err_sys(err, ENOMEM, "trusted files");
	return 0;
}

/*
 * An allowed path (after every trusted one is known): nothing of the
 * rootfs is read, it may not exist yet (an output directory). A path is
 * trusted or allowed, never both: an allowed path may not be or hold a
 * trusted file.
 */
static int add_allowed(struct tlist *l, const char *in, err_t *err)
{
	char path[PATH_MAX];
	size_t n;
	int ret = norm_path(in, path, sizeof(path), err);

	if (ret < 0)
		return err_wrap(err, "--allowed");
	if (!strcmp(path, "/"))
		return err_set(err, EINVAL, "--allowed /: would pass every file through");
	n = strlen(path);
	for (size_t i = 0; i < l->n; i++) {
		const char *p = l->v[i].path;

		if (l->v[i].allowed && !strcmp(p, path))
			return 0;
		if (!l->v[i].allowed && !strncmp(p, path, n) && (!p[n] || p[n] == '/'))
			return err_set(err, EINVAL,
				       "--allowed %s: %s is a trusted file (a path is trusted "
				       "or allowed, not both)",
				       path, p);
	}
	if (l->n == l->cap) {
		struct tfile *g = realloc(l->v, (l->cap = l->cap ? l->cap * 2 : 64) * sizeof(*g));

		if (!g)
			return err_sys(err, ENOMEM, "allowed paths");
		l->v = g;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].allowed = 1;
	l->v[l->n].path = strdup(path);
	l->n++;
	return l->v[l->n - 1].path ? 0 : err_sys(err, ENOMEM, "allowed paths");
}

static int cmp_tfile(const void *a, const void *b)
{
	return strcmp(((const struct tfile *)a)->path, ((const struct tfile *)b)->path);
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t n, cap;
	int oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *g = realloc(b->s, cap);

		if (!g) {
			b->oom = 1;
			return;
		}
		b->s = g;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, n + 1, fmt, ap);
	va_end(ap);
	b->n += n;
}

/* path is the entrypoint or one of --trusted (or under one). */
static int named_trusted(const struct tee_build_opts *o, const char *path)
{
	char p[PATH_MAX];

	for (size_t i = 0; o->trusted && o->trusted[i]; i++) {
		size_t n;

		if (norm_path(o->trusted[i], p, sizeof(p), NULL) < 0)
			continue;
		n = strlen(p);
		if (!strcmp(p, path) || (!strncmp(p, path, n) && path[n] == '/'))
			return 1;
	}
	return norm_path(o->argv[0], p, sizeof(p), NULL) == 0 && !strcmp(p, path);
}

/* TEE_RUNTIME_FILES: out of the default trusted set, allowed instead. */
static int allow_runtime_files(struct tlist *l, const struct tee_build_opts *o, err_t *err)
{
	static const char *const files[] = { TEE_RUNTIME_FILES };
	int ret = 0;

	for (size_t k = 0; ret == 0 && k < ARRAY_SIZE(files); k++) {
		if (named_trusted(o, files[k]))
			continue;
		for (size_t i = 0; i < l->n; i++) {
			if (l->v[i].allowed || strcmp(l->v[i].path, files[k]))
				continue;
			free(l->v[i].path);
			free(l->v[i].chunks);
			l->v[i] = l->v[--l->n];
			break;
		}
		ret = add_allowed(l, files[k], err);
	}
	return ret;
}

/* An RA-TLS path: absolute, normalised, one line, short enough for the LibOS's table. */
static int check_ratls_path(const char *what, const char *path, err_t *err)
{
	char norm[PATH_MAX];
	int ret;

	if (!path)
		return err_set(err, EINVAL, "%s: missing (the certificate and the key go together)",
			       what);
	if (path[0] != '/' || strchr(path, '\n') || strlen(path) > TEE_RATLS_PATH_MAX)
		return err_set(err, EINVAL, "%s %s: an absolute path of at most %d bytes", what,
			       path, TEE_RATLS_PATH_MAX);
	if ((ret = norm_path(path, norm, sizeof(norm), err)) < 0)
		return err_wrap(err, "%s", what);
	if (strcmp(norm, path))
		return err_set(err, EINVAL, "%s %s: not normalised (%s)", what, path, norm);
	if (strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0)
		return err_set(err, EINVAL, "%s %s: under /dev or /proc, which the LibOS serves",
			       what, path);
	return 0;
}

/*
 * The RA-TLS files: both or neither, distinct paths, quotes on (dcap) and
 * the argv fixed (host-chosen arguments could make the program print the
 * key: any code of the enclave can read it).
 */
static int check_ratls(const struct tee_build_opts *o, err_t *err)
{
	int ret;

	if (!o->ratls_cert && !o->ratls_key)
		return 0;
	if ((ret = check_ratls_path("RA-TLS certificate", o->ratls_cert, err)) < 0 ||
	    (ret = check_ratls_path("RA-TLS key", o->ratls_key, err)) < 0)
		return ret;
	if (!strcmp(o->ratls_cert, o->ratls_key))
		return err_set(err, EINVAL, "RA-TLS certificate and key: the same path %s",
			       o->ratls_key);
	if (!o->attestation || strcmp(o->attestation, "dcap"))
		return err_set(err, EINVAL,
			       "RA-TLS certificate and key: they need quotes (attestation dcap)");
	if (o->host_argv)
		return err_set(err, EINVAL,
			       "RA-TLS certificate and key: not with the host's argv (the host "
			       "could choose arguments that make the program print the key)");
	return 0;
}

/* The manifest's body: everything but the layout lines. */
static int manifest_body(const struct tee_build_opts *o, struct sbuf *b, err_t *err)
{
	_cleanup_close_ int rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct tlist l = { 0 };
	char entry[PATH_MAX], hex[65];
	int ret;

	if (rootfd < 0)
		return err_sys(err, errno, "rootfs %s", o->rootfs);
	if (!o->argv || !o->argv[0])
		return err_set(err, EINVAL, "no entrypoint");
	ret = norm_path(o->argv[0], entry, sizeof(entry), err);
	if (ret < 0)
		return err_wrap(err, "entrypoint");
	ret = add_path(&l, rootfd, entry, 0, err);
	for (size_t i = 0; ret == 0 && o->trusted && o->trusted[i]; i++)
		ret = add_path(&l, rootfd, o->trusted[i], 0, err);
	if (!o->no_default_trusted) {
		static const char *const defaults[] = { TEE_DEFAULT_TRUSTED };

		for (size_t i = 0; ret == 0 && i < ARRAY_SIZE(defaults); i++) {
			struct stat st;

			/* Only where the rootfs has them as real directories. */
			if (fstatat(rootfd, defaults[i] + 1, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode))
				ret = add_path(&l, rootfd, defaults[i], 0, err);
		}
	}
	if (ret == 0 && !o->no_default_trusted)
		ret = allow_runtime_files(&l, o, err);
	for (size_t i = 0; ret == 0 && o->allowed && o->allowed[i]; i++)
		ret = add_allowed(&l, o->allowed[i], err);
	if (ret < 0) {
		tlist_free(&l);
		return ret;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_tfile);
	sb_printf(b, "threads %u\ndebug %d\nentrypoint %s\nargv %s\n",
		  o->threads ? o->threads : DEFAULT_THREADS, !!o->debug, entry,
		  o->host_argv ? "host" : "fixed");
	if (o->attestation && strcmp(o->attestation, "none"))
		sb_printf(b, "attestation_type %s\n", o->attestation);
	if (o->ratls_cert)
		sb_printf(b, "ratls_cert %s\nratls_key %s\n", o->ratls_cert, o->ratls_key);
	for (size_t i = 0; o->argv[i]; i++) {
		if (strchr(o->argv[i], '\n')) {
			tlist_free(&l);
			return err_set(err, EINVAL, "argument %zu holds a newline", i);
		}
		sb_printf(b, "arg %s\n", o->argv[i]);
	}
	sb_printf(b, "env %s\n", o->env ? "fixed" : "host");
	for (size_t i = 0; o->env && o->env[i]; i++) {
		if (strchr(o->env[i], '\n') || !strchr(o->env[i], '=')) {
			tlist_free(&l);
			return err_set(err, EINVAL, "--env %s: expected K=V on one line",
				       o->env[i]);
		}
		sb_printf(b, "envv %s\n", o->env[i]);
	}
	for (size_t i = 0; i < l.n; i++) {
		if (l.v[i].allowed) {
			sb_printf(b, "allowed %s\n", l.v[i].path);
			continue;
		}
		sgx_hex(l.v[i].hash, 32, hex);
		sb_printf(b, "trusted %s %llu %s\n", hex, (unsigned long long)l.v[i].size,
			  l.v[i].path);
		/* Chunk lines once per content: copies and links name the first. */
		if (same_content_before(&l, i))
			continue;
		for (uint64_t k = 0; k < l.v[i].nchunks; k++) {
			sgx_hex(l.v[i].chunks[k], 32, hex);
			sb_printf(b, "chunk %llu %s\n", (unsigned long long)k, hex);
		}
	}
	tlist_free(&l);
	if (b->oom)
		return err_set(err, ENOMEM, "manifest");
	return 0;
}

/* The LibOS ELF's last PT_LOAD: the manifest slot (or an embedded manifest). */
static int find_slot(const uint8_t *elf, size_t len, Elf64_Phdr **ph_out, int need_slot, err_t *err)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)elf;
	Elf64_Phdr *ph, *last = NULL;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return err_set(err, EINVAL, "not a LibOS enclave (ELF headers)");
	ph = (Elf64_Phdr *)(elf + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD)
			last = &ph[i];
	if (!last || last->p_flags != PF_R || last->p_offset > len ||
	    last->p_filesz > len - last->p_offset || last->p_filesz != last->p_memsz)
		return err_set(err, EINVAL, "not a LibOS enclave (no manifest segment)");
	if (need_slot &&
	    (last->p_filesz != PAGE || memcmp(elf + last->p_offset, LIBOS_MANIFEST_SLOT_MAGIC,
					      strlen(LIBOS_MANIFEST_SLOT_MAGIC))))
		return err_set(err, EINVAL, "not an unsigned LibOS enclave (no manifest slot)");
	*ph_out = last;
	return 0;
}

/* A copy of the LibOS with text as its manifest segment (NUL-padded to pages). */
static int embed(const void *libos, size_t len, const char *text, size_t tlen, uint8_t **out,
		 size_t *out_len, err_t *err)
{
	size_t base = PAGE_UP(len), mlen = PAGE_UP(tlen + 1);
	Elf64_Phdr *ph;
	Elf64_Ehdr *eh;
	uint8_t *b;
	int ret;

	b = calloc(1, base + mlen);
	if (!b)
		return err_sys(err, ENOMEM, "embed the manifest");
	memcpy(b, libos, len);
	ret = find_slot(b, len, &ph, 1, err);
	if (ret < 0) {
		free(b);
		return ret;
	}
	memcpy(b + base, text, tlen);
	ph->p_offset = base;
	ph->p_filesz = ph->p_memsz = mlen;
	eh = (Elf64_Ehdr *)b;
	eh->e_shoff = 0; /* the section headers described the slot: dropped */
	eh->e_shnum = 0;
	eh->e_shstrndx = 0;
	*out = b;
	*out_len = base + mlen;
	return 0;
}

int tee_manifest_u64(const char *mf, const char *key, uint64_t *v)
{
	size_t n = strlen(key);

	for (const char *l = mf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (!strncmp(l, key, n) && l[n] == ' ') {
			char *end;

			errno = 0;
			*v = strtoull(l + n + 1, &end, 10);
			if (errno || *end != '\n')
				return -EINVAL;
			return 0;
		}
	}
	return -ENOENT;
}

int tee_libos_image(struct sgx_image *img, const void *elf, size_t len, const char **manifest,
		    err_t *err)
{
	struct sgx_layout_opts lo = { 0 };
	uint64_t heap, threads, size, heap_off;
	const char *mf;
	Elf64_Phdr *ph;
	int ret;

	memset(img, 0, sizeof(*img));
	ret = find_slot(elf, len, &ph, 0, err);
	if (ret < 0)
		return ret;
	mf = (const char *)elf + ph->p_offset;
	if (!memchr(mf, 0, ph->p_filesz) ||
	    strncmp(mf, LIBOS_MANIFEST_MAGIC, strlen(LIBOS_MANIFEST_MAGIC)))
		return err_set(
		    err, EINVAL,
		    "the LibOS enclave has no manifest (build the image with rune-image)");
	if (tee_manifest_u64(mf, "heap_size", &heap) < 0 ||
	    tee_manifest_u64(mf, "threads", &threads) < 0 ||
	    tee_manifest_u64(mf, "enclave_size", &size) < 0 ||
	    tee_manifest_u64(mf, "heap_offset", &heap_off) < 0 || heap % PAGE || !heap ||
	    !threads || threads > TEE_THREADS_MAX)
		return err_set(err, EINVAL, "manifest: bad or missing layout lines");
	lo.heap = heap;
	/* The heap: code is loaded there, and SGX1 fixes permissions at EADD. */
	lo.heap_flags = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X;
	lo.tcs = (unsigned)threads + 1; /* and the LibOS's service TCS (rune attest) */
	lo.size = size;
	ret = tee_manifest_u64(mf, "libos_offset", &lo.offset);
	if (ret == -EINVAL || lo.offset % PAGE)
		return err_set(err, EINVAL, "manifest: bad libos_offset line");
	ret = sgx_image_from_elf_mem(img, elf, len, &lo, err);
	if (ret < 0)
		return err_wrap(err, "LibOS enclave");
	if (img->heap_offset != heap_off) {
		sgx_image_free(img);
		return err_set(err, EINVAL, "manifest: heap_offset does not match the layout");
	}
	if (manifest)
		*manifest = mf;
	return 0;
}

/* The embedded LibOS whose manifest states the layout it leads to. */
/*
 * The entrypoint's fixed addresses, when it is linked at one (ET_EXEC):
 * [*lo, *hi) covers its PT_LOAD pages; 0 when it is position independent.
 */
static int exec_range(const char *rootfs, const char *path, uint64_t *lo, uint64_t *hi, err_t *err)
{
	_cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1;
	Elf64_Ehdr eh;
	char entry[PATH_MAX];
	int ret;

	*lo = ~0ULL;
	*hi = 0;
	if (rootfd < 0)
		return err_sys(err, errno, "rootfs %s", rootfs);
	ret = norm_path(path, entry, sizeof(entry), err);
	if (ret < 0)
		return err_wrap(err, "entrypoint");
	fd = open_in_root(rootfd, entry, O_RDONLY);
	if (fd < 0)
		return err_sys(err, errno, "%s", entry);
	/* A "#!" script: the LibOS runs its interpreter, whose addresses count. */
	for (int depth = 0; depth <= SCRIPT_DEPTH_MAX; depth++) {
		char line[SCRIPT_LINE_MAX], script[PATH_MAX];
		const char *interp, *arg, *why;
		ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
		struct stat st;

		if (n < 0 || fstat(fd, &st) < 0)
			return err_sys(err, errno, "%s", entry);
		ret = script_parse(line, (size_t)n, st.st_size > n, &interp, &arg, &why);
		if (ret < 0)
			return err_set(err, EINVAL, "%s: %s", entry, why);
		if (ret == 0)
			break;
		if (depth == SCRIPT_DEPTH_MAX)
			return err_set(err, ELOOP, "%s: too many levels of #! interpreters", path);
		snprintf(script, sizeof(script), "%s", entry);
		if (norm_path(interp, entry, sizeof(entry), err) < 0)
			return err_wrap(err, "%s: its #! interpreter", script);
		close(fd);
		fd = open_in_root(rootfd, entry, O_RDONLY);
		if (fd < 0)
			return err_sys(err, errno, "%s: its #! interpreter %s", script, entry);
	}
	/* Not an ELF, or a malformed one: the LibOS names it when it refuses it. */
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 256) {
		*lo = *hi = 0;
		return 0;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			return err_set(err, EINVAL, "%s: truncated program headers", entry);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_vaddr > (1ULL << 40) || ph.p_memsz > (1ULL << 40))
			return err_set(err, EINVAL, "%s: a segment beyond 1 TiB", entry);
		if ((ph.p_vaddr & ~(PAGE - 1)) < *lo)
			*lo = ph.p_vaddr & ~(PAGE - 1);
		if (PAGE_UP(ph.p_vaddr + ph.p_memsz) > *hi)
			*hi = PAGE_UP(ph.p_vaddr + ph.p_memsz);
	}
	if (*hi <= *lo)
		return err_set(err, EINVAL, "%s: no loadable segment", entry);
	return 0;
}

/*
 * The embedded LibOS whose manifest states the layout it leads to. For an
 * entrypoint linked at fixed addresses [exec_lo, exec_hi), the enclave is
 * based at 0: the LibOS at TEE_LIBOS_FIXED_OFFSET, its heap from right
 * after it to exec_hi plus the heap asked for, so the program's pages are
 * heap pages at their own addresses.
 */
static int fixed_point(const struct tee_build_opts *o, const char *body, uint64_t heap,
		       uint64_t stack, uint64_t exec_lo, uint64_t exec_hi, uint8_t **elf,
		       size_t *elf_len, char **text_out, err_t *err)
{
	uint64_t size = 0, heap_off = 0;

	for (int round = 0; round < 8; round++) {
		_cleanup_free_ char *text = NULL, *fixed = NULL;
		uint64_t heap_r = exec_hi ? exec_hi + heap - heap_off : heap;
		struct sgx_image img;
		uint8_t *e = NULL;
		size_t elen = 0;
		int ret;

		if (exec_hi && asprintf(&fixed,
					"enclave_base 0\nlibos_offset %llu\nexec_start %llu\n"
					"exec_end %llu\n",
					TEE_LIBOS_FIXED_OFFSET, (unsigned long long)exec_lo,
					(unsigned long long)exec_hi) < 0)
			return err_sys(err, ENOMEM, "manifest");
		if (asprintf(&text,
			     LIBOS_MANIFEST_MAGIC "enclave_size %llu\nheap_offset %llu\n"
						  "heap_size %llu\nstack_size %llu\n%s%s",
			     (unsigned long long)size, (unsigned long long)heap_off,
			     (unsigned long long)heap_r, (unsigned long long)stack,
			     fixed ? fixed : "", body) < 0)
			return err_sys(err, ENOMEM, "manifest");
		ret = embed(o->libos_elf, o->libos_len, text, strlen(text), &e, &elen, err);
		if (ret < 0)
			return ret;
		/* Layout without the checks: what libsgx makes of this ELF. */
		struct sgx_layout_opts lo = { .heap = heap_r,
					      .tcs =
						  (o->threads ? o->threads : DEFAULT_THREADS) + 1,
					      .offset = exec_hi ? TEE_LIBOS_FIXED_OFFSET : 0 };

		ret = sgx_image_from_elf_mem(&img, e, elen, &lo, err);
		if (ret < 0) {
			free(e);
			return err_wrap(err, "LibOS enclave");
		}
		uint64_t nsize = img.size, noff = img.heap_offset;

		sgx_image_free(&img);
		/* The heap's page bitmap (the LibOS's mm.c) must end below the program. */
		if (exec_hi && noff + PAGE_UP(heap_r / PAGE / 8 + 1) > exec_lo) {
			free(e);
			return err_set(err, EINVAL,
				       "%s: linked at %#llx, below the end of the LibOS in the "
				       "enclave (%#llx): not supported",
				       o->argv[0], (unsigned long long)exec_lo,
				       (unsigned long long)(noff + PAGE_UP(heap_r / PAGE / 8 + 1)));
		}
		if (nsize == size && noff == heap_off) {
			*elf = e;
			*elf_len = elen;
			*text_out = steal_ptr(text);
			return 0;
		}
		free(e);
		size = nsize;
		heap_off = noff;
	}
	return err_set(err, EINVAL, "the enclave layout does not settle");
}

int tee_build(const struct tee_build_opts *o, struct tee_build_result *res, err_t *err)
{
	struct sbuf body = { 0 };
	_cleanup_free_ uint8_t *elf = NULL;
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int dirfd = -1, rootfd = -1;
	uint64_t heap = PAGE_UP(o->heap ? o->heap : DEFAULT_HEAP);
	uint64_t stack = PAGE_UP(o->stack ? o->stack : DEFAULT_STACK);
	struct sgx_sign_opts so;
	struct sgx_sigstruct ss;
	struct sgx_image img;
	uint8_t mr[32];
	size_t elf_len = 0;
	uint64_t exec_lo = 0, exec_hi = 0;
	int ret;

	if (o->threads > TEE_THREADS_MAX)
		return err_set(err, EINVAL, "%u threads: at most %u", o->threads, TEE_THREADS_MAX);
	if (heap < TEE_HEAP_MIN || heap > TEE_HEAP_MAX)
		return err_set(err, EINVAL, "heap of %llu bytes: from 1 MiB to 3 GiB",
			       (unsigned long long)heap);
	if (stack > heap / 2)
		return err_set(err, EINVAL, "the stack must fit in half of the heap");
	if ((ret = check_ratls(o, err)) < 0)
		return ret;
	ret = manifest_body(o, &body, err);
	if (ret < 0) {
		free(body.s);
		return ret;
	}
	ret = exec_range(o->rootfs, o->argv[0], &exec_lo, &exec_hi, err);
	if (ret == 0)
		ret = fixed_point(o, body.s, heap, stack, exec_lo, exec_hi, &elf, &elf_len, &text,
				  err);
	free(body.s);
	if (ret < 0)
		return ret;
	ret = tee_libos_image(&img, elf, elf_len, NULL, err);
	if (ret < 0)
		return ret;
	ret = sgx_image_measure(&img, mr, err);
	sgx_image_free(&img);
	if (ret < 0)
		return ret;
	sgx_sign_opts_default(&so);
	if (o->debug)
		so.attributes |= SGX_ATTR_DEBUG;
	sgx_sigstruct_init(&ss, &so, mr);
	if (o->key_path) {
		ret = sgx_sigstruct_sign_file(&ss, o->key_path, err);
		if (ret < 0)
			return err_wrap(err, "sign with %s", o->key_path);
	} else if (!o->sign) {
		return err_set(err, EINVAL, "no signing key and no signature service");
	} else if ((ret = o->sign(&ss, o->sign_arg, err)) < 0) {
		return ret;
	}
	if (o->out_dir) {
		if (mkdir(o->out_dir, 0755) < 0 && errno != EEXIST)
			return err_sys(err, errno, "create %s", o->out_dir);
		dirfd = open(o->out_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dirfd < 0)
			return err_sys(err, errno, "open %s", o->out_dir);
	} else {
		rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return err_sys(err, errno, "rootfs %s", o->rootfs);
		if (mkdirat(rootfd, TEE_DIR, 0755) < 0 && errno != EEXIST)
			return err_sys(err, errno, "create %s/%s", o->rootfs, TEE_DIR);
		dirfd = openat(rootfd, TEE_DIR, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dirfd < 0)
			return err_sys(err, errno, "open %s/%s", o->rootfs, TEE_DIR);
	}
	ret = write_file(dirfd, TEE_ELF_NAME, elf, elf_len, err);
	if (ret == 0)
		ret = write_file(dirfd, TEE_SIG_NAME, &ss, sizeof(ss), err);
	if (ret == 0)
		ret = write_file(dirfd, TEE_MF_NAME, text, strlen(text), err);
	if (ret < 0)
		return ret;
	memcpy(res->mrenclave, mr, 32);
	sgx_mrsigner(&ss, res->mrsigner);
	return 0;
}

int tee_inspect(const char *rootfs, struct tee_inspect_result *res, err_t *err)
{
	_cleanup_free_ void *elf = NULL, *sig = NULL;
	_cleanup_free_ char *path = NULL;
	const char *mf = NULL;
	struct sgx_image img;
	size_t len, slen;
	int ret;

	memset(res, 0, sizeof(*res));
	if (asprintf(&path, "%s/%s/%s", rootfs, TEE_DIR, TEE_SIG_NAME) < 0)
		return err_sys(err, ENOMEM, "inspect");
	ret = tee_read_file(path, SGX_SIGSTRUCT_SIZE, &sig, &slen, err);
	if (ret == 0)
		ret = sgx_sigstruct_parse(&res->sig, sig, slen, err);
	if (ret < 0)
		return err_wrap(err, "%s", path);
	free(path);
	if (asprintf(&path, "%s/%s/%s", rootfs, TEE_DIR, TEE_ELF_NAME) < 0)
		return err_sys(err, ENOMEM, "inspect");
	ret = tee_read_file(path, 64 << 20, &elf, &len, err);
	if (ret == 0)
		ret = tee_libos_image(&img, elf, len, &mf, err);
	if (ret < 0)
		return err_wrap(err, "%s", path);
	ret = sgx_image_measure(&img, res->mrenclave, err);
	sgx_image_free(&img);
	if (ret < 0)
		return ret;
	res->manifest = strdup(mf);
	if (!res->manifest)
		return err_sys(err, ENOMEM, "inspect");
	res->sig_valid = sgx_sigstruct_check(&res->sig, NULL) == 0;
	res->sig_matches = !memcmp(res->sig.body.enclavehash, res->mrenclave, 32);
	return 0;
}
