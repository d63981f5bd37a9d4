// SPDX-License-Identifier: Apache-2.0
/*
 * rune-image convert (include/teeimage/convert.h). The source archive is
 * unpacked into WORK/in, every file of it read back through
 * tee_open_in_root() so that nothing it names leads out; each layer is
 * checked against its digests (blob and diff_id) before it is applied to
 * WORK/rootfs; the TEE files go to WORK/tee; the output is written to
 * DST.tmp-PID and renamed. The work directory is removed in every case.
 */
#include "teeimage/convert.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/cleanup.h"
#include "teeimage/enclave_json.h"
#include "teeimage/teeimage.h"

#define JSON_MAX       (16 << 20)
#define MEDIA_OCI_MF   "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_IDX  "application/vnd.oci.image.index.v1+json"
#define MEDIA_DOCK_MF  "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCK_IDX "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_OCI_GZ   "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_DOCK_GZ  "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DIGEST_LEN     71 /* "sha256:" + 64 hex */

struct layer {
	const char *path;    /* in the source archive */
	const char *blob;    /* its digest (OCI), checked; NULL for a docker-archive */
	const char *diff_id; /* the config's, checked against the uncompressed tar */
};

struct conv {
	const struct tee_convert_opts *o;
	char work[PATH_MAX];
	int infd, rootfd;
	int docker, oci;
	json_t *docker_mf;		      /* manifest.json's image */
	json_t *index, *index_entry, *oci_mf; /* index.json, its entry, the image manifest */
	json_t *config;
	size_t nlayers;
	struct layer *layers;
	time_t created;
	uint64_t unpacked, max_bytes; /* what the archive and its layers wrote, and the bound */
};

struct membuf {
	unsigned char *p;
	size_t len, cap;
};

/* An entry of the output archive: a file of the source, or bytes. */
struct out_entry {
	char *name;
	const char *src; /* in WORK/in */
	const struct membuf *buf;
	int dir;
};

static void json_cleanup(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(json_cleanup)))

static void archive_read_cleanup(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define _cleanup_archive_read_ __attribute__((cleanup(archive_read_cleanup)))

/* Removes name under parent, a tree or not; never follows a symlink. */
static void remove_at(int parent, const char *name)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int fd;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(parent, name, 0);
		return;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd)) != NULL) {
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				remove_at(dirfd(d), e->d_name);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	unlinkat(parent, name, AT_REMOVEDIR);
}

/* The directory's entries removed, the directory kept (an opaque whiteout). */
static void clear_dir(int dfd)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			remove_at(dirfd(d), e->d_name);
	closedir(d);
}

/*
 * An archive entry's name as a relative path without "." or empty
 * components ("" for the root); NULL for an absolute path or one with "..".
 */
static char *clean_path(const char *name, const char **why)
{
	char *out = malloc(strlen(name) + 1), *o = out;
	const char *p = name;

	if (!out)
		return *why = "out of memory", NULL;
	if (name[0] == '/') {
		free(out);
		return *why = "absolute path", NULL;
	}
	while (*p) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 2 && !strncmp(p, "..", 2)) {
			free(out);
			return *why = "'..' in the path", NULL;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p = *end ? end + 1 : end;
	}
	*o = 0;
	return out;
}

/* 1 if a relative symlink target, seen from directory dir (clean), climbs above the root. */
static int link_escapes(const char *dir, const char *target)
{
	long depth = 0;
	const char *p;

	if (target[0] == '/') /* resolved in the container's root */
		return 0;
	for (p = dir; *p; p++)
		if (*p == '/')
			depth++;
	if (*dir)
		depth++;
	for (p = target; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);

		if (n == 2 && !strncmp(p, "..", 2)) {
			if (--depth < 0)
				return 1;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* The directory rel (clean) under rootfd, made as needed, its symlinks resolved inside. */
static int open_dir_in_root(int rootfd, const char *rel)
{
	char path[PATH_MAX + 1], *s;
	int fd;

	if (snprintf(path, sizeof(path), "/%s", rel) >= (int)sizeof(path))
		return errno = ENAMETOOLONG, -1;
	fd = tee_open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	for (s = path + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		char *slash = strrchr((*s = 0, path), '/');
		int pfd;

		*slash = 0;
		pfd = tee_open_in_root(rootfd, slash == path ? "/" : path, O_PATH | O_DIRECTORY);
		*slash = '/';
		if (pfd < 0)
			return -1;
		if (mkdirat(pfd, slash + 1, 0755) < 0 && errno != EEXIST) {
			close(pfd);
			return -1;
		}
		close(pfd);
		*s = c;
		if (!c)
			break;
	}
	return tee_open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
}

/* A hard link at base under pfd to target (clean, resolved inside rootfd); never a directory. */
static int hard_link(int rootfd, const char *target, int pfd, const char *base)
{
	char path[PATH_MAX + 1], proc[64];
	_cleanup_close_ int fd = -1;
	struct stat st;

	snprintf(path, sizeof(path), "/%s", target);
	fd = tee_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return errno = EPERM, -1;
	if (linkat(fd, "", pfd, base, AT_EMPTY_PATH) == 0)
		return 0;
	/* without CAP_DAC_READ_SEARCH: through the fd's /proc link */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, pfd, base, AT_SYMLINK_FOLLOW);
}

static int write_data(struct archive *a, int fd, const char *what, const char *name, err_t *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		const char *b = buf;

		while (size > 0) {
			ssize_t n = pwrite(fd, b, size, off);

			if (n < 0)
				return err_sys(err, errno, "%s: %s: write", what, name);
			b += n, off += n, size -= (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, EINVAL, "%s: %s: %s", what, name, archive_error_string(a));
	return 0;
}

/* One entry applied under rootfd. With whiteouts, .wh. names delete (an image layer). */
static int apply_entry(struct archive *a, struct archive_entry *e, int rootfd, int whiteouts,
		       const char *what, err_t *err)
{
	const char *why = NULL, *name = archive_entry_pathname(e), *base;
	_cleanup_free_ char *rel = clean_path(name ? name : "", &why);
	_cleanup_close_ int pfd = -1, fd = -1;
	mode_t type = archive_entry_filetype(e);
	mode_t perm = archive_entry_perm(e) & 0777;
	char *slash;
	struct stat st;

	if (!rel)
		return err_set(err, EPERM, "%s: entry '%s': %s: refused", what, name ? name : "",
			       why);
	if (!*rel) /* the root itself */
		return 0;
	slash = strrchr(rel, '/');
	base = slash ? slash + 1 : rel;
	if (slash)
		*slash = 0;
	pfd = open_dir_in_root(rootfd, slash ? rel : "");
	if (slash)
		*slash = '/';
	if (pfd < 0)
		return err_sys(err, errno, "%s: entry '%s': its directory", what, name);
	if (whiteouts && !strncmp(base, ".wh.", 4)) {
		if (!strcmp(base, ".wh..wh..opq"))
			clear_dir(pfd);
		else if (base[4] && strcmp(base + 4, ".") && strcmp(base + 4, ".."))
			remove_at(pfd, base + 4);
		return 0;
	}
	if (type == AE_IFCHR || type == AE_IFBLK)
		return err_set(err, EPERM, "%s: entry '%s': device node: refused", what, name);
	if (type == AE_IFIFO || type == AE_IFSOCK)
		return 0;
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(type == AE_IFDIR && S_ISDIR(st.st_mode)))
		remove_at(pfd, base);
	if (archive_entry_hardlink(e)) {
		const char *t = archive_entry_hardlink(e);
		_cleanup_free_ char *trel = clean_path(t, &why);

		if (!trel || !*trel)
			return err_set(err, EPERM, "%s: entry '%s': hard link to '%s': %s: refused",
				       what, name, t, trel ? "the root" : why);
		if (hard_link(rootfd, trel, pfd, base) < 0)
			return err_sys(err, errno, "%s: entry '%s': hard link to '%s'", what, name,
				       t);
		return 0;
	}
	switch (type) {
	case AE_IFDIR:
		if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
			return err_sys(err, errno, "%s: entry '%s'", what, name);
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchmod(fd, perm | 0700) < 0)
			return err_sys(err, errno, "%s: entry '%s'", what, name);
		return 0;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(e);

		if (!t || !*t)
			return err_set(err, EINVAL, "%s: entry '%s': empty symlink", what, name);
		if (slash)
			*slash = 0;
		if (link_escapes(slash ? rel : "", t))
			return err_set(
			    err, EPERM,
			    "%s: entry '%s': symlink to '%s' leads out of the root: refused", what,
			    name, t);
		if (symlinkat(t, pfd, base) < 0)
			return err_sys(err, errno, "%s: entry '%s'", what, name);
		return 0;
	}
	case AE_IFREG:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(err, errno, "%s: entry '%s'", what, name);
		if (write_data(a, fd, what, name, err) < 0)
			return -EINVAL;
		if (ftruncate(fd, archive_entry_size(e)) < 0 || fchmod(fd, perm) < 0)
			return err_sys(err, errno, "%s: entry '%s'", what, name);
		return 0;
	}
	return err_set(err, EINVAL, "%s: entry '%s': unknown file type %#o", what, name,
		       (unsigned)type);
}

static struct archive *tar_reader(int raw)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_filter_all(a);
	if (raw)
		archive_read_support_format_raw(a);
	else
		archive_read_support_format_tar(a);
	return a;
}

/* The tar on fd unpacked under rootfd. */
static int unpack(struct conv *c, int fd, int rootfd, int whiteouts, const char *what, err_t *err)
{
	_cleanup_archive_read_ struct archive *a = tar_reader(0);
	struct archive_entry *e;
	int r, n = 0;

	if (!a)
		return err_set(err, ENOMEM, "%s", what);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK)
		return err_set(err, EINVAL, "%s: not a tar archive (%s)", what,
			       archive_error_string(a));
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		/* a bound on what the archive may write (each entry a header block too) */
		c->unpacked +=
		    512 + (uint64_t)(archive_entry_size(e) > 0 ? archive_entry_size(e) : 0);
		if (c->unpacked > c->max_bytes)
			return err_set(err, EFBIG, "%s: more than %llu bytes unpacked: refused",
				       what, (unsigned long long)c->max_bytes);
		if (apply_entry(a, e, rootfd, whiteouts, what, err) < 0)
			return -EINVAL;
		n++;
	}
	if (r != ARCHIVE_EOF)
		return err_set(err, EINVAL, "%s: %s (%s)", what,
			       n ? "truncated or corrupt tar" : "not a tar archive",
			       archive_error_string(a));
	return 0;
}

static void hex_digest(const uint8_t d[32], char out[DIGEST_LEN + 1])
{
	memcpy(out, "sha256:", 7);
	sgx_hex(d, 32, out + 7);
}

/* "sha256:" and 64 lowercase hex digits. */
static int valid_digest(const char *s)
{
	return s && strlen(s) == DIGEST_LEN && !strncmp(s, "sha256:", 7) &&
	       strspn(s + 7, "0123456789abcdef") == 64;
}

/* SHA-256 of fd's bytes (raw) or of the archive's decompressed stream (!raw). */
static int fd_digest(int fd, int decompress, char out[DIGEST_LEN + 1], uint64_t *size,
		     const char *what, err_t *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[65536], d[32];
	uint64_t total = 0;
	int ret = 0;

	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return err_set(err, ENOMEM, "%s: digest", what);
	}
	if (decompress) {
		_cleanup_archive_read_ struct archive *a = tar_reader(1);
		struct archive_entry *e;
		la_ssize_t n;

		if (!a || archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK ||
		    archive_read_next_header(a, &e) != ARCHIVE_OK)
			ret = err_set(err, EINVAL, "%s: unreadable (%s)", what,
				      a ? archive_error_string(a) : "out of memory");
		while (ret == 0 && (n = archive_read_data(a, buf, sizeof(buf))) > 0) {
			EVP_DigestUpdate(md, buf, (size_t)n);
			total += (uint64_t)n;
		}
		if (ret == 0 && n < 0)
			ret =
			    err_set(err, EINVAL, "%s: corrupt (%s)", what, archive_error_string(a));
	} else {
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			EVP_DigestUpdate(md, buf, (size_t)n);
			total += (uint64_t)n;
		}
		if (n < 0)
			ret = err_sys(err, errno, "%s: read", what);
	}
	if (ret == 0) {
		EVP_DigestFinal_ex(md, d, NULL);
		hex_digest(d, out);
		if (size)
			*size = total;
	}
	EVP_MD_CTX_free(md);
	return ret;
}

/* A regular file of the source archive, opened inside it. */
static int open_in(struct conv *c, const char *rel, err_t *err)
{
	char path[PATH_MAX + 1];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "/%s", rel) >= (int)sizeof(path))
		return err_set(err, ENAMETOOLONG, "%s: %s: name too long", c->o->src, rel);
	fd = tee_open_in_root(c->infd, path, O_RDONLY);
	if (fd < 0)
		return err_sys(err, errno, "%s: %s", c->o->src, rel);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, EINVAL, "%s: %s: not a regular file", c->o->src, rel);
	}
	return fd;
}

static int blob_path(const char *digest, char *out, size_t n)
{
	return snprintf(out, n, "blobs/sha256/%s", digest + 7);
}

/* A JSON file of the source; with digest, its SHA-256 (and size, if >= 0) checked first. */
static json_t *load_json(struct conv *c, const char *rel, const char *digest, json_int_t size,
			 err_t *err)
{
	_cleanup_close_ int fd = open_in(c, rel, err);
	_cleanup_free_ char *buf = NULL;
	char got[DIGEST_LEN + 1];
	uint64_t len = 0;
	json_error_t jerr;
	json_t *j;

	if (fd < 0)
		return NULL;
	if (digest) {
		if (fd_digest(fd, 0, got, &len, rel, err) < 0)
			return NULL;
		if (strcmp(got, digest) || (size >= 0 && (uint64_t)size != len)) {
			err_set(err, EINVAL, "%s: %s: digest %s does not match its content (%s)",
				c->o->src, rel, digest, got);
			return NULL;
		}
		lseek(fd, 0, SEEK_SET);
	}
	buf = malloc(JSON_MAX + 1);
	len = 0;
	for (ssize_t n; buf && len < JSON_MAX; len += (uint64_t)n) {
		n = read(fd, buf + len, JSON_MAX - len);
		if (n <= 0)
			break;
	}
	if (!buf || len >= JSON_MAX) {
		err_set(err, EFBIG, "%s: %s: larger than %d bytes", c->o->src, rel, JSON_MAX);
		return NULL;
	}
	j = json_loadb(buf, len, 0, &jerr);
	if (!j)
		err_set(err, EINVAL, "%s: %s: %s", c->o->src, rel, jerr.text);
	return j;
}

static int has_file(struct conv *c, const char *rel)
{
	struct stat st;

	return fstatat(c->infd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* A descriptor's digest (checked) and size. */
static const char *desc_digest(json_t *d, json_int_t *size)
{
	const char *dg = json_string_value(json_object_get(d, "digest"));

	*size = json_is_integer(json_object_get(d, "size"))
		    ? json_integer_value(json_object_get(d, "size"))
		    : -1;
	return valid_digest(dg) ? dg : NULL;
}

/* The image of an index: its only manifest, or the linux/amd64 one of a multi-platform list. */
static json_t *pick_manifest(json_t *idx)
{
	json_t *ms = json_object_get(idx, "manifests"), *m;
	size_t i;

	if (json_array_size(ms) == 1)
		return json_array_get(ms, 0);
	json_array_foreach(ms, i, m)
	{
		json_t *p = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch = json_string_value(json_object_get(p, "architecture"));

		if (os && arch && !strcmp(os, "linux") && !strcmp(arch, "amd64"))
			return m;
	}
	return NULL;
}

static int read_oci(struct conv *c, err_t *err)
{
	json_t *entry, *m = NULL, *layers, *l;
	const char *dg, *mt;
	char path[128];
	json_int_t size;
	size_t i;

	c->index = load_json(c, "index.json", NULL, -1, err);
	if (!c->index)
		return -EINVAL;
	for (int depth = 0;; depth++) {
		json_t *idx = depth ? m : c->index;
		size_t n = json_array_size(json_object_get(idx, "manifests"));

		entry = pick_manifest(idx);
		if (!entry)
			return err_set(err, EINVAL,
				       "%s: index.json: %zu images and none for linux/amd64; one "
				       "expected",
				       c->o->src, n);
		if (depth == 0)
			c->index_entry = entry;
		dg = desc_digest(entry, &size);
		if (!dg)
			return err_set(err, EINVAL,
				       "%s: index.json: a manifest without a sha256 digest",
				       c->o->src);
		blob_path(dg, path, sizeof(path));
		m = load_json(c, path, dg, size, err);
		if (!m)
			return -EINVAL;
		if (depth)
			json_decref(idx);
		mt = json_string_value(json_object_get(m, "mediaType"));
		if (json_is_array(json_object_get(m, "manifests")) && depth < 2 &&
		    (!mt || !strcmp(mt, MEDIA_OCI_IDX) || !strcmp(mt, MEDIA_DOCK_IDX)))
			continue;
		break;
	}
	c->oci_mf = m;
	layers = json_object_get(m, "layers");
	if (!json_is_object(json_object_get(m, "config")) || !json_is_array(layers))
		return err_set(err, EINVAL, "%s: %s: not an image manifest", c->o->src, path);
	c->nlayers = json_array_size(layers);
	c->layers = calloc(c->nlayers + 1, sizeof(*c->layers));
	if (!c->layers)
		return err_set(err, ENOMEM, "layers");
	json_array_foreach(layers, i, l)
	{
		c->layers[i].blob = desc_digest(l, &size);
		if (!c->layers[i].blob)
			return err_set(err, EINVAL,
				       "%s: manifest: layer %zu without a sha256 digest", c->o->src,
				       i);
	}
	dg = desc_digest(json_object_get(m, "config"), &size);
	if (!dg)
		return err_set(err, EINVAL, "%s: manifest: config without a sha256 digest",
			       c->o->src);
	blob_path(dg, path, sizeof(path));
	c->config = load_json(c, path, dg, size, err);
	return c->config ? 0 : -EINVAL;
}

/* A docker-save name of the form HEX.json or blobs/sha256/HEX names its digest. */
static int check_named_digest(struct conv *c, const char *rel, err_t *err)
{
	const char *b = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	char want[DIGEST_LEN + 1], got[DIGEST_LEN + 1];
	_cleanup_close_ int fd = -1;

	if (strspn(b, "0123456789abcdef") != 64 || (b[64] && strcmp(b + 64, ".json")))
		return 0;
	snprintf(want, sizeof(want), "sha256:%.64s", b);
	fd = open_in(c, rel, err);
	if (fd < 0 || fd_digest(fd, 0, got, NULL, rel, err) < 0)
		return -EINVAL;
	if (strcmp(want, got))
		return err_set(err, EINVAL, "%s: %s: digest %s does not match its content (%s)",
			       c->o->src, rel, want, got);
	return 0;
}

static int read_docker(struct conv *c, err_t *err)
{
	_cleanup_json_ json_t *mf = load_json(c, "manifest.json", NULL, -1, err);
	json_t *layers, *l;
	const char *cfg;
	size_t i;

	if (!mf)
		return -EINVAL;
	if (!json_is_array(mf) || json_array_size(mf) != 1)
		return err_set(err, EINVAL, "%s: manifest.json: %zu images; one expected",
			       c->o->src, json_is_array(mf) ? json_array_size(mf) : 0);
	c->docker_mf = json_incref(json_array_get(mf, 0));
	cfg = json_string_value(json_object_get(c->docker_mf, "Config"));
	layers = json_object_get(c->docker_mf, "Layers");
	if (!cfg || !json_is_array(layers))
		return err_set(err, EINVAL, "%s: manifest.json: no Config or Layers", c->o->src);
	if (c->oci) /* both: the OCI manifest is the one checked, and must agree */
		return json_array_size(layers) == c->nlayers
			   ? 0
			   : err_set(err, EINVAL,
				     "%s: manifest.json and index.json list different layers",
				     c->o->src);
	if (check_named_digest(c, cfg, err) < 0)
		return -EINVAL;
	c->config = load_json(c, cfg, NULL, -1, err);
	if (!c->config)
		return -EINVAL;
	c->nlayers = json_array_size(layers);
	c->layers = calloc(c->nlayers + 1, sizeof(*c->layers));
	if (!c->layers)
		return err_set(err, ENOMEM, "layers");
	json_array_foreach(layers, i, l)
	{
		c->layers[i].path = json_string_value(l);
		if (!c->layers[i].path)
			return err_set(err, EINVAL, "%s: manifest.json: layer %zu: not a path",
				       c->o->src, i);
	}
	return 0;
}

static time_t parse_created(const char *s)
{
	struct tm tm = { 0 };
	const char *end;

	if (!s || !(end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	return timegm(&tm);
}

static int read_image(struct conv *c, err_t *err)
{
	json_t *diff_ids;
	size_t i;

	c->oci = has_file(c, "index.json") && has_file(c, "oci-layout");
	c->docker = has_file(c, "manifest.json");
	if (!c->oci && !c->docker)
		return err_set(err, EINVAL,
			       "%s: not an image archive (neither manifest.json nor an OCI layout)",
			       c->o->src);
	if (c->oci && read_oci(c, err) < 0)
		return -EINVAL;
	if (c->docker && read_docker(c, err) < 0)
		return -EINVAL;
	diff_ids = json_object_get(json_object_get(c->config, "rootfs"), "diff_ids");
	if (!json_is_object(c->config) || json_array_size(diff_ids) != c->nlayers)
		return err_set(err, EINVAL, "%s: config: %zu diff_ids for %zu layers", c->o->src,
			       json_array_size(diff_ids), c->nlayers);
	for (i = 0; i < c->nlayers; i++) {
		c->layers[i].diff_id = json_string_value(json_array_get(diff_ids, i));
		if (!valid_digest(c->layers[i].diff_id))
			return err_set(err, EINVAL, "%s: config: diff_id %zu: not a sha256 digest",
				       c->o->src, i);
		if (c->oci) {
			char *p = malloc(80);

			if (!p)
				return err_set(err, ENOMEM, "layers");
			blob_path(c->layers[i].blob, p, 80);
			c->layers[i].path = p; /* freed with the conversion */
		}
	}
	c->created = parse_created(json_string_value(json_object_get(c->config, "created")));
	return 0;
}

/* Each layer checked (blob digest, diff_id) and applied in order. */
static int flatten(struct conv *c, err_t *err)
{
	for (size_t i = 0; i < c->nlayers; i++) {
		const struct layer *l = &c->layers[i];
		_cleanup_close_ int fd = open_in(c, l->path, err);
		char what[PATH_MAX + 64], got[DIGEST_LEN + 1];

		if (fd < 0)
			return -EINVAL;
		snprintf(what, sizeof(what), "%s: layer %s", c->o->src, l->path);
		if (l->blob) {
			if (fd_digest(fd, 0, got, NULL, what, err) < 0)
				return -EINVAL;
			if (strcmp(got, l->blob))
				return err_set(err, EINVAL,
					       "%s: digest %s does not match its content (%s)",
					       what, l->blob, got);
			lseek(fd, 0, SEEK_SET);
		}
		if (fd_digest(fd, 1, got, NULL, what, err) < 0)
			return -EINVAL;
		if (strcmp(got, l->diff_id))
			return err_set(err, EINVAL,
				       "%s: diff_id %s does not match its content (%s)", what,
				       l->diff_id, got);
		lseek(fd, 0, SEEK_SET);
		if (unpack(c, fd, c->rootfd, 1, what, err) < 0)
			return -EINVAL;
	}
	return 0;
}

/* Entrypoint + Cmd, argv[0] resolved in the rootfs. */
static char **image_argv(struct conv *c, err_t *err)
{
	json_t *cc = json_object_get(c->config, "config"), *v;
	json_t *parts[2] = { json_object_get(cc, "Entrypoint"), json_object_get(cc, "Cmd") };
	size_t n = json_array_size(parts[0]) + json_array_size(parts[1]), k = 0, i;
	char **argv = calloc(n + 1, sizeof(char *)), *prog = NULL;

	if (!argv)
		return err_set(err, ENOMEM, "argv"), NULL;
	for (int p = 0; p < 2; p++)
		json_array_foreach(parts[p], i, v) argv[k++] = strdup(json_string_value(v) ?: "");
	if (!n || !argv[0][0]) {
		cleanup_strvp(&argv);
		err_set(err, EINVAL, "%s: the image has no entrypoint or command", c->o->src);
		return NULL;
	}
	if (tee_resolve_entrypoint(c->rootfd, argv[0], &prog, err) < 0) {
		cleanup_strvp(&argv);
		err_wrap(err, "%s", c->o->src);
		return NULL;
	}
	free(argv[0]);
	argv[0] = prog;
	return argv;
}

static la_ssize_t membuf_write(struct archive *a, void *arg, const void *p, size_t n)
{
	struct membuf *m = arg;

	(void)a;
	if (m->len + n > m->cap) {
		size_t cap = (m->cap ? m->cap * 2 : 65536);
		unsigned char *q;

		while (cap < m->len + n)
			cap *= 2;
		q = realloc(m->p, cap);
		if (!q)
			return -1;
		m->p = q, m->cap = cap;
	}
	memcpy(m->p + m->len, p, n);
	m->len += n;
	return (la_ssize_t)n;
}

static struct archive_entry *new_entry(const char *name, mode_t type, mode_t perm, int64_t size,
				       time_t mtime)
{
	struct archive_entry *e = archive_entry_new();

	if (!e)
		return NULL;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_size(e, size);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime, 0);
	return e;
}

/* A ustar/pax writer (times and owners only as given) onto m, or onto the file fd. */
static struct archive *tar_writer(struct membuf *m, int fd)
{
	struct archive *a = archive_write_new();

	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    (m ? archive_write_open(a, m, NULL, membuf_write, NULL)
	       : archive_write_open_fd(a, fd)) != ARCHIVE_OK) {
		if (a)
			archive_write_free(a);
		return NULL;
	}
	return a;
}

static int add_bytes(struct archive *a, const char *name, const void *p, size_t n, time_t t)
{
	struct archive_entry *e = new_entry(name, AE_IFREG, 0644, (int64_t)n, t);
	int ok = e && archive_write_header(a, e) == ARCHIVE_OK &&
		 (n == 0 || archive_write_data(a, p, n) == (la_ssize_t)n);

	archive_entry_free(e);
	return ok ? 0 : -1;
}

/* The TEE layer: /.rune and its files, as a tar (tar) and gzip'ed (gz). */
static int tee_layer(struct conv *c, struct membuf *tar, struct membuf *gz, err_t *err)
{
	static const char *const files[] = { TEE_ELF_NAME, TEE_MF_NAME, TEE_SIG_NAME };
	struct archive *a = tar_writer(tar, -1);
	struct archive_entry *e;
	int ok = a != NULL;

	e = new_entry(TEE_DIR "/", AE_IFDIR, 0755, 0, c->created);
	ok = ok && e && archive_write_header(a, e) == ARCHIVE_OK;
	archive_entry_free(e);
	for (size_t i = 0; ok && i < ARRAY_SIZE(files); i++) {
		char path[PATH_MAX + 64], name[64];
		_cleanup_free_ void *buf = NULL;
		size_t len;

		snprintf(path, sizeof(path), "%s/tee/%s", c->work, files[i]);
		snprintf(name, sizeof(name), "%s/%s", TEE_DIR, files[i]);
		if (tee_read_file(path, 256 << 20, &buf, &len, err) < 0) {
			archive_write_free(a);
			return -EIO;
		}
		ok = add_bytes(a, name, buf, len, c->created) == 0;
	}
	ok = ok && archive_write_close(a) == ARCHIVE_OK;
	if (a)
		archive_write_free(a);
	if (!ok)
		return err_set(err, EIO, "the TEE layer: tar");
	/* gzip of the raw tar: no file name, no time */
	a = archive_write_new();
	ok = a && archive_write_set_format_raw(a) == ARCHIVE_OK &&
	     archive_write_add_filter_gzip(a) == ARCHIVE_OK &&
	     archive_write_set_filter_option(a, "gzip", "timestamp", NULL) == ARCHIVE_OK &&
	     archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK &&
	     archive_write_open(a, gz, NULL, membuf_write, NULL) == ARCHIVE_OK;
	e = ok ? archive_entry_new() : NULL;
	if (e) {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_pathname(e, "layer.tar");
		archive_entry_set_size(e, (int64_t)tar->len);
	}
	ok = ok && e && archive_write_header(a, e) == ARCHIVE_OK &&
	     archive_write_data(a, tar->p, tar->len) == (la_ssize_t)tar->len &&
	     archive_write_close(a) == ARCHIVE_OK;
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	return ok ? 0 : err_set(err, EIO, "the TEE layer: gzip");
}

static void digest_of(const struct membuf *m, char out[DIGEST_LEN + 1])
{
	uint8_t d[32];

	EVP_Digest(m->p, m->len, d, NULL, EVP_sha256(), NULL);
	hex_digest(d, out);
}

static int dump_json(json_t *j, struct membuf *m)
{
	char *s = json_dumps(j, JSON_COMPACT);

	if (!s)
		return -1;
	m->p = (unsigned char *)s;
	m->len = m->cap = strlen(s);
	return 0;
}

/* The config run in the LibOS: ENCLAVE_* in Env, the resolved entrypoint, the new layer. */
static json_t *tee_config(struct conv *c, char **argv, const char *diff_id)
{
	json_t *cfg = json_deep_copy(c->config), *cc, *hist;

	if (!cfg)
		return NULL;
	cc = json_object_get(cfg, "config");
	if (!json_is_object(cc)) {
		cc = json_object();
		json_object_set_new(cfg, "config", cc);
	}
	json_object_set_new(cc, "Env",
			    tee_enclave_env(json_object_get(cc, "Env"),
					    c->o->pal ? c->o->pal : "liberpal-libos.so"));
	json_object_set_new(cc, "Entrypoint", tee_json_argv((const char *const *)argv));
	json_object_set_new(cc, "Cmd", json_null());
	json_array_append_new(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"),
			      json_string(diff_id));
	hist = json_object_get(cfg, "history");
	if (json_is_array(hist)) {
		json_t *h = json_pack("{s:s}", "created_by", "rune-image convert: /" TEE_DIR);
		json_t *created = json_object_get(c->config, "created");

		if (h && json_is_string(created))
			json_object_set(h, "created", created);
		json_array_append_new(hist, h);
	}
	return cfg;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct out_entry *)a)->name, ((const struct out_entry *)b)->name);
}

static int copy_in(struct conv *c, struct archive *a, const char *rel, err_t *err)
{
	_cleanup_close_ int fd = open_in(c, rel, err);
	char buf[65536];
	ssize_t n;

	if (fd < 0)
		return -EIO;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(a, buf, (size_t)n) != n)
			return err_set(err, EIO, "%s: %s", c->o->dst, archive_error_string(a));
	return n < 0 ? err_sys(err, errno, "%s: %s", c->o->src, rel) : 0;
}

/* Adds an entry for each parent directory of the entries (once each). */
static int add_parents(struct out_entry *v, size_t *n, size_t max)
{
	size_t files = *n;

	for (size_t i = 0; i < files; i++)
		for (const char *p = strchr(v[i].name, '/'); p; p = strchr(p + 1, '/')) {
			size_t len = (size_t)(p - v[i].name + 1), k;

			for (k = files; k < *n; k++)
				if (strlen(v[k].name) == len && !strncmp(v[k].name, v[i].name, len))
					break;
			if (k < *n)
				continue;
			if (*n == max || !(v[*n].name = strndup(v[i].name, len)))
				return -1;
			v[(*n)++].dir = 1;
		}
	return 0;
}

static int write_entry(struct conv *c, struct archive *a, const struct out_entry *o,
		       const char *tmp, err_t *err)
{
	_cleanup_close_ int sfd = -1;
	struct archive_entry *e;
	struct stat st;
	int ret = 0;

	if (o->buf)
		return add_bytes(a, o->name, o->buf->p, o->buf->len, c->created) < 0
			   ? err_set(err, EIO, "%s: %s", tmp, archive_error_string(a))
			   : 0;
	if (!o->dir) {
		sfd = open_in(c, o->src, err);
		if (sfd < 0 || fstat(sfd, &st) < 0)
			return -EIO;
	}
	e = o->dir ? new_entry(o->name, AE_IFDIR, 0755, 0, c->created)
		   : new_entry(o->name, AE_IFREG, 0644, st.st_size, c->created);
	if (!e || archive_write_header(a, e) != ARCHIVE_OK)
		ret = err_set(err, EIO, "%s: %s", tmp, archive_error_string(a));
	else if (!o->dir)
		ret = copy_in(c, a, o->src, err);
	archive_entry_free(e);
	return ret;
}

/* The output archive: entries and their parent directories in name order. */
static int write_out(struct conv *c, struct out_entry *v, size_t *np, size_t max, const char *tmp,
		     err_t *err)
{
	_cleanup_close_ int fd = -1;
	struct archive *a;
	int ret = 0;

	size_t n;

	if (add_parents(v, np, max) < 0)
		return err_set(err, ENOMEM, "%s", tmp);
	n = *np;
	qsort(v, n, sizeof(*v), by_name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(err, errno, "%s", tmp);
	a = tar_writer(NULL, fd);
	if (!a)
		return err_set(err, EIO, "%s: tar writer", tmp);
	for (size_t i = 0; ret == 0 && i < n; i++)
		ret = write_entry(c, a, &v[i], tmp, err);
	if (ret == 0 && archive_write_close(a) != ARCHIVE_OK)
		ret = err_set(err, EIO, "%s: %s", tmp, archive_error_string(a));
	archive_write_free(a);
	if (ret == 0 && fsync(fd) < 0)
		ret = err_sys(err, errno, "%s", tmp);
	return ret;
}

static char *blob_name(const char *digest)
{
	char *s = NULL;

	return asprintf(&s, "blobs/sha256/%s", digest + 7) < 0 ? NULL : s;
}

/* An index entry's names: containerd's (the reference) and OCI's (its tag). */
static void set_oci_name(json_t *entry, const char *ref)
{
	const char *slash = strrchr(ref, '/'), *colon = strrchr(ref, ':');
	json_t *ann = json_object_get(entry, "annotations");

	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(entry, "annotations", ann);
	}
	json_object_set_new(ann, "io.containerd.image.name", json_string(ref));
	json_object_set_new(ann, "org.opencontainers.image.ref.name",
			    json_string(colon && (!slash || colon > slash) ? colon + 1 : "latest"));
}

/* The new image in the source's format(s), written to DST. */
static int emit(struct conv *c, char **argv, struct tee_convert_result *res, err_t *err)
{
	struct membuf tar = { 0 }, gz = { 0 }, cfgb = { 0 }, mfb = { 0 }, idxb = { 0 },
		      dmfb = { 0 };
	static const struct membuf layout = { (unsigned char *)"{\"imageLayoutVersion\":\"1.0.0\"}",
					      30, 30 };
	char gz_digest[DIGEST_LEN + 1], mf_digest[DIGEST_LEN + 1], tmp[PATH_MAX];
	size_t max = 2 * (c->nlayers + 8);
	struct out_entry *v = calloc(max, sizeof(*v));
	json_t *cfg = NULL, *mf = NULL, *idx = NULL, *dmf = NULL;
	size_t n = 0;
	int ret = -EIO;

	if (!v)
		return err_set(err, ENOMEM, "output");
	if (tee_layer(c, &tar, &gz, err) < 0)
		goto out;
	digest_of(&tar, res->layer_diff_id);
	digest_of(&gz, gz_digest);
	cfg = tee_config(c, argv, res->layer_diff_id);
	if (!cfg || dump_json(cfg, &cfgb) < 0) {
		ret = err_set(err, ENOMEM, "config");
		goto out;
	}
	digest_of(&cfgb, res->config_digest);
	for (size_t i = 0; i < c->nlayers; i++)
		v[n++] = (struct out_entry){ strdup(c->layers[i].path), c->layers[i].path, NULL };
	if (c->oci) {
		const char *mt = json_string_value(json_object_get(c->oci_mf, "mediaType"));
		json_t *entry;

		mf = json_deep_copy(c->oci_mf);
		json_object_set_new(json_object_get(mf, "config"), "digest",
				    json_string(res->config_digest));
		json_object_set_new(json_object_get(mf, "config"), "size",
				    json_integer((json_int_t)cfgb.len));
		json_array_append_new(
		    json_object_get(mf, "layers"),
		    json_pack("{s:s, s:s, s:I}", "mediaType",
			      mt && !strcmp(mt, MEDIA_DOCK_MF) ? MEDIA_DOCK_GZ : MEDIA_OCI_GZ,
			      "digest", gz_digest, "size", (json_int_t)gz.len));
		if (dump_json(mf, &mfb) < 0) {
			ret = err_set(err, ENOMEM, "manifest");
			goto out;
		}
		digest_of(&mfb, mf_digest);
		idx = json_deep_copy(c->index);
		entry = json_deep_copy(c->index_entry);
		json_object_set_new(entry, "mediaType", json_string(mt ? mt : MEDIA_OCI_MF));
		json_object_set_new(entry, "digest", json_string(mf_digest));
		json_object_set_new(entry, "size", json_integer((json_int_t)mfb.len));
		json_object_del(entry, "platform");
		if (c->o->tag)
			set_oci_name(entry, c->o->tag);
		json_object_set_new(idx, "manifests", json_pack("[o]", entry));
		if (dump_json(idx, &idxb) < 0) {
			ret = err_set(err, ENOMEM, "index");
			goto out;
		}
		v[n++] = (struct out_entry){ blob_name(gz_digest), NULL, &gz };
		v[n++] = (struct out_entry){ blob_name(res->config_digest), NULL, &cfgb };
		v[n++] = (struct out_entry){ blob_name(mf_digest), NULL, &mfb };
		v[n++] = (struct out_entry){ strdup("index.json"), NULL, &idxb };
		v[n++] = (struct out_entry){ strdup("oci-layout"), NULL, &layout };
	}
	if (c->docker) {
		json_t *layers = json_array();
		char *cfg_name = NULL, *layer_name = NULL;

		for (size_t i = 0; i < c->nlayers; i++)
			json_array_append_new(layers, json_string(c->layers[i].path));
		if (c->oci) { /* the blobs serve both */
			cfg_name = blob_name(res->config_digest);
			layer_name = blob_name(gz_digest);
		} else {
			if (asprintf(&cfg_name, "%s.json", res->config_digest + 7) < 0)
				cfg_name = NULL;
			if (asprintf(&layer_name, "%s/layer.tar", res->layer_diff_id + 7) < 0)
				layer_name = NULL;
			v[n++] =
			    (struct out_entry){ cfg_name ? strdup(cfg_name) : NULL, NULL, &cfgb };
			v[n++] = (struct out_entry){ layer_name ? strdup(layer_name) : NULL, NULL,
						     &tar };
		}
		json_array_append_new(layers, json_string(layer_name ? layer_name : ""));
		dmf = json_deep_copy(c->docker_mf);
		json_object_set_new(dmf, "Config", json_string(cfg_name ? cfg_name : ""));
		json_object_set_new(dmf, "Layers", layers);
		json_object_del(dmf, "LayerSources");
		if (c->o->tag)
			json_object_set_new(dmf, "RepoTags", json_pack("[s]", c->o->tag));
		free(cfg_name);
		free(layer_name);
		dmf = json_pack("[o]", dmf);
		if (!dmf || dump_json(dmf, &dmfb) < 0) {
			ret = err_set(err, ENOMEM, "manifest.json");
			goto out;
		}
		v[n++] = (struct out_entry){ strdup("manifest.json"), NULL, &dmfb };
	}
	for (size_t i = 0; i < n; i++)
		if (!v[i].name) {
			ret = err_set(err, ENOMEM, "output");
			goto out;
		}
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", c->o->dst, (int)getpid());
	ret = write_out(c, v, &n, max, tmp, err);
	if (ret == 0 && rename(tmp, c->o->dst) < 0)
		ret = err_sys(err, errno, "%s", c->o->dst);
	if (ret < 0)
		unlink(tmp);
out:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(tar.p), free(gz.p), free(cfgb.p), free(mfb.p), free(idxb.p), free(dmfb.p);
	json_decref(cfg), json_decref(mf), json_decref(idx), json_decref(dmf);
	return ret;
}

static int mkdir_fd(const char *base, const char *name, int *fd, err_t *err)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", base, name);
	if (mkdir(path, 0700) < 0)
		return err_sys(err, errno, "%s", path);
	*fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return *fd < 0 ? err_sys(err, errno, "%s", path) : 0;
}

static int convert(struct conv *c, struct tee_convert_result *res, err_t *err)
{
	const struct tee_convert_opts *o = c->o;
	_cleanup_close_ int src = open(o->src, O_RDONLY | O_CLOEXEC);
	struct tee_build_opts b = { 0 };
	struct tee_build_result br;
	_cleanup_strv_ char **argv = NULL;
	char tee[PATH_MAX + 8], rootfs[PATH_MAX + 8], what[PATH_MAX + 32];
	struct stat st;

	if (src < 0)
		return err_sys(err, errno, "%s", o->src);
	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "%s: not a regular file", o->src);
	if (mkdir_fd(c->work, "in", &c->infd, err) < 0 ||
	    mkdir_fd(c->work, "rootfs", &c->rootfd, err) < 0)
		return -EIO;
	snprintf(what, sizeof(what), "%s", o->src);
	if (unpack(c, src, c->infd, 0, what, err) < 0 || read_image(c, err) < 0 ||
	    flatten(c, err) < 0)
		return -EINVAL;
	argv = image_argv(c, err);
	if (!argv)
		return -EINVAL;
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", c->work);
	snprintf(tee, sizeof(tee), "%s/tee", c->work);
	b.rootfs = rootfs;
	b.argv = (const char *const *)argv;
	b.heap = o->heap;
	b.threads = o->threads;
	b.debug = o->debug;
	b.key_path = o->key_path;
	b.sign = o->sign;
	b.sign_arg = o->sign_arg;
	b.libos_elf = o->libos_elf;
	b.libos_len = o->libos_len;
	b.out_dir = tee;
	if (tee_build(&b, &br, err) < 0)
		return err_wrap(err, "build");
	memcpy(res->mrenclave, br.mrenclave, 32);
	memcpy(res->mrsigner, br.mrsigner, 32);
	snprintf(res->format, sizeof(res->format), "%s",
		 c->oci && c->docker ? "docker+oci-archive"
		 : c->oci	     ? "oci-archive"
				     : "docker-archive");
	return emit(c, argv, res, err);
}

int tee_convert(const struct tee_convert_opts *o, struct tee_convert_result *res, err_t *err)
{
	const char *tmp = o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
	struct conv c = { .o = o,
			  .infd = -1,
			  .rootfd = -1,
			  .max_bytes = o->max_bytes ? o->max_bytes : TEE_CONVERT_MAX_BYTES };
	_cleanup_close_ int tmpfd = -1;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(c.work, sizeof(c.work), "%s/rune-convert-XXXXXX", tmp);
	if (!mkdtemp(c.work))
		return err_sys(err, errno, "work directory in %s", tmp);
	ret = convert(&c, res, err);
	if (c.infd >= 0)
		close(c.infd);
	if (c.rootfd >= 0)
		close(c.rootfd);
	tmpfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tmpfd >= 0)
		remove_at(tmpfd, strrchr(c.work, '/') + 1);
	if (c.oci)
		for (size_t i = 0; c.layers && i < c.nlayers; i++)
			free((char *)c.layers[i].path);
	free(c.layers);
	json_decref(c.docker_mf), json_decref(c.index), json_decref(c.oci_mf);
	json_decref(c.config);
	return ret;
}
