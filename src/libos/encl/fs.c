// SPDX-License-Identifier: Apache-2.0
/*
 * Files. stdin/stdout/stderr go to the host's stdio through OCALLs. Every
 * other file is a trusted file of the manifest, read in chunks of
 * LIBOS_CHUNK_SIZE: each chunk is copied from the host into an enclave
 * window and its SHA-256 compared with the manifest's before the workload
 * sees a byte of it (a mismatch is EACCES and one stderr line naming the
 * file), so a file of any size is read with a window of four chunks.
 * Trusted files are read-only. Allowed paths ("allowed" lines: files or
 * directories and everything below) pass through to the host's files,
 * unprotected: every answer is checked for sanity only. Files neither
 * trusted nor allowed do not exist (ENOENT). Pseudo-files (pseudo.c: /dev,
 * /dev/attestation) are served inside. Descriptors name open file
 * descriptions, which dup() shares.
 */
#include "libos.h"

#define MAX_FDS	      64
#define PATH_MAX      4096
#define AT_FDCWD      (-100)
#define AT_EMPTY_PATH 0x1000
#define O_ACCMODE     3
#define O_CREAT	      0100
#define O_TRUNC	      01000
#define O_DIRECTORY   0200000
#define O_CLOEXEC     02000000
#define O_LARGEFILE   0100000
#define O_NONBLOCK    04000
#define O_SETFL	      (O_APPEND | O_NONBLOCK) /* what F_SETFL changes here */
#define S_IFREG	      0100000
#define S_IFIFO	      0010000
#define S_IFDIR	      0040000
#define S_IFMT	      0170000

enum { F_FREE, F_STDIO, F_TRUSTED, F_DIR, F_TMP, F_OBJ, F_ALLOWED, F_PSEUDO };

/*
 * An open file description: what open() makes and dup() shares (offset,
 * status flags, the file), refs descriptors to it. A directory is a path
 * that prefixes trusted files: its data is its path.
 */
struct ofile {
	int kind, refs;
	uint8_t *data;
	uint64_t size, off; /* F_DIR: off is where getdents64 goes on in the manifest */
	int tmp, flags;	    /* F_TMP: its tmpfs file, the open flags */
	struct fobj *obj;   /* F_OBJ: a pipe, eventfd or epoll (ipc.c) */
	/* F_TRUSTED, F_ALLOWED: the host's handle; F_STDIO: the host's fd (0, 1, 2) */
	long host;
	/* F_TRUSTED: the chunk hashes (hex, in the manifest) */
	uint64_t nchunks;
	const char *hex0, **hexv; /* one chunk: the trusted line's hash; else one per chunk */
	/* the verified window [win_off, win_off + win_len) */
	uint8_t *win;
	uint64_t win_off, win_len, win_cap, win_alloc;
	char *path; /* F_TRUSTED: after the window; F_ALLOWED: its own page */
	int refused;
	uint32_t amode;	 /* F_ALLOWED: the host's st_mode (a file or a directory) */
	int host_append; /* F_ALLOWED: the host's file is O_APPEND (opened so) */
	int pseudo;	 /* F_PSEUDO: its pseudo.c id; data/size what it made at open */
};

/*
 * /tmp: files in enclave memory (a flat directory), never seen by the host,
 * gone when the enclave is. A name unlinked while open lives on until its
 * last close.
 */
#define MAX_TMP	   64
#define O_EXCL	   0200
#define O_APPEND   02000
#define TMP_PREFIX "/tmp/"

struct tmpfile {
	int used, refs;
	char name[256]; /* "" once unlinked */
	uint8_t *data;
	uint64_t size, cap;
};

static FORKED struct tmpfile tmps[MAX_TMP];

/*
 * The descriptor table: each entry names a description and has its own
 * close-on-exec flag. There are never more descriptions than descriptors,
 * so a free descriptor means a free description too.
 */
struct fdent {
	struct ofile *of;
	int cloexec;
};

static FORKED struct fdent fds[MAX_FDS];
static FORKED struct ofile ofs[MAX_FDS];
static FORKED int fds_ready;

static void fds_init(void)
{
	if (fds_ready)
		return;
	for (int i = 0; i < 3; i++) {
		ofs[i] = (struct ofile){ .kind = F_STDIO, .refs = 1, .host = i };
		fds[i].of = &ofs[i];
	}
	fds_ready = 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int unhex(const char *h, uint8_t out[32])
{
	for (int i = 0; i < 32; i++) {
		int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/*
 * "trusted HEX64 SIZE /path": the entry for path, or -ENOENT. *line is
 * where the line starts in the (measured) manifest.
 */
static int find_trusted_line(const char *path, uint8_t hash[32], uint64_t *size, const char **line)
{
	const char *l = libos_manifest.text;
	size_t plen = str_len(path);

	while (*l) {
		const char *e = l;

		while (*e && *e != '\n')
			e++;
		if (!str_ncmp(l, "trusted ", 8) && e - l > 8 + 64 + 2) {
			const char *h = l + 8, *s = h + 65, *p = s;
			uint64_t v = 0;

			while (p < e && *p >= '0' && *p <= '9' && v < (1ULL << 56))
				v = v * 10 + (uint64_t)(*p++ - '0');
			if (p < e && *p == ' ' && (size_t)(e - p - 1) == plen &&
			    !memcmp(p + 1, path, plen)) {
				if (unhex(h, hash) < 0)
					return -EINVAL;
				*size = v;
				if (line)
					*line = l;
				return 0;
			}
		}
		l = *e ? e + 1 : e;
	}
	return -ENOENT;
}

static int find_trusted(const char *path, uint8_t hash[32], uint64_t *size)
{
	return find_trusted_line(path, hash, size, NULL);
}

static const char *skip_line(const char *l)
{
	while (*l && *l != '\n')
		l++;
	return *l ? l + 1 : l;
}

/*
 * The trusted line whose chunk lines a file of the same content (the same
 * "HEX64 SIZE ") uses: the first one followed by a chunk line, or line.
 */
static const char *chunks_owner(const char *line)
{
	const char *id = line + 8, *end = id + 65, *l = libos_manifest.text;

	while (*end >= '0' && *end <= '9')
		end++;
	if (!str_ncmp(skip_line(line), "chunk ", 6))
		return line;
	for (; *l && l != line; l = skip_line(l))
		if (!str_ncmp(l, "trusted ", 8) && !memcmp(l + 8, id, (size_t)(end - id) + 1) &&
		    !str_ncmp(skip_line(l), "chunk ", 6))
			return l;
	return line;
}

/*
 * The chunk hashes of a file of n chunks whose trusted line is at line: a
 * file of one chunk has its hash on that line; a bigger one is followed by
 * "chunk I HEX64" for I = 0..n-1, in order (checked here once), or, when
 * an earlier trusted file has the same content, uses that one's.
 */
static int chunk_hashes(struct ofile *f, const char *line)
{
	const char *l;

	f->hex0 = line + 8;
	if (f->nchunks <= 1)
		return 0;
	l = skip_line(chunks_owner(line));
	f->hexv = mm_alloc(PAGE_UP(f->nchunks * sizeof(char *)), 0);
	if (!f->hexv)
		return -ENOMEM;
	for (uint64_t i = 0; i < f->nchunks; i++) {
		const char *p = l + 6;
		uint64_t v = 0;

		if (str_ncmp(l, "chunk ", 6))
			return -EINVAL;
		while (*p >= '0' && *p <= '9' && v < (1ULL << 56))
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (v != i || p == l + 6 || *p != ' ' || p[65] != '\n')
			return -EINVAL;
		for (int k = 1; k <= 64; k++)
			if (hexval(p[k]) < 0)
				return -EINVAL;
		f->hexv[i] = p + 1;
		l = p + 66;
	}
	return 0;
}

/* One stderr line per open file and kind of refusal; the error. */
static int refuse(struct ofile *f, int err, const char *why, uint64_t chunk)
{
	if (!f->refused) {
		if (f->nchunks > 1 && err == -EACCES)
			log_err("%s: %s (chunk %lu): refused", f->path, why, chunk);
		else
			log_err("%s: %s: refused", f->path, why);
	}
	f->refused = 1;
	f->win_len = 0;
	return err;
}

/*
 * Fills the window with the verified chunks from the one holding off: up
 * to LIBOS_BUF_MAX bytes read from the host, copied into the enclave and
 * each chunk hashed from that copy, against the manifest, before use.
 */
static int window_fill(struct ofile *f, uint64_t off)
{
	uint64_t start = off / LIBOS_CHUNK_SIZE * LIBOS_CHUNK_SIZE, len, done = 0;

	len = f->size - start < f->win_cap ? f->size - start : f->win_cap;
	f->win_len = 0;
	while (done < len) {
		uint64_t want = len - done < LIBOS_BUF_MAX ? len - done : LIBOS_BUF_MAX;
		long r = ocall(LIBOS_OCALL_PREAD, f->host, (int64_t)(start + done), want);

		if (r <= 0 || (uint64_t)r > want)
			return refuse(f, -EIO, "short read from the host", 0);
		memcpy(f->win + done, (const void *)libos_mb->buf, (size_t)r);
		done += (uint64_t)r;
	}
	for (uint64_t c = 0; c < len; c += LIBOS_CHUNK_SIZE) {
		uint64_t idx = (start + c) / LIBOS_CHUNK_SIZE;
		uint64_t n = len - c < LIBOS_CHUNK_SIZE ? len - c : LIBOS_CHUNK_SIZE;
		uint8_t want[32], got[32];
		struct sha256 h;

		unhex(f->nchunks > 1 ? f->hexv[idx] : f->hex0, want);
		sha256_init(&h);
		sha256_update(&h, f->win + c, (size_t)n);
		sha256_final(&h, got);
		if (memcmp(got, want, 32) && c == 0)
			return refuse(f, -EACCES, "SHA-256 differs from the manifest", idx);
		if (memcmp(got, want, 32)) {
			len = c; /* the chunks before it are good; it fails when read */
			break;
		}
	}
	f->win_off = start;
	f->win_len = len;
	return 0;
}

/* Up to len verified bytes at off into dst (enclave memory): bytes, or -errno. */
static long trusted_pread(struct ofile *f, uint8_t *dst, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = f->size - off;
	while (done < len) {
		uint64_t at = off + done, n;

		if (at < f->win_off || at >= f->win_off + f->win_len) {
			int ret = window_fill(f, at);

			if (ret < 0)
				return done ? (long)done : ret;
		}
		n = f->win_off + f->win_len - at;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, f->win + (at - f->win_off), n);
		done += n;
	}
	return (long)done;
}

static void trusted_close(struct ofile *f)
{
	if (f->host >= 0)
		ocall(LIBOS_OCALL_CLOSE, f->host, 0, 0);
	if (f->hexv)
		mm_free(f->hexv, PAGE_UP(f->nchunks * sizeof(char *)));
	if (f->win)
		mm_free(f->win, f->win_alloc);
	f->hexv = NULL;
	f->win = NULL;
	f->host = -1;
}

/*
 * Opens a trusted file: its host handle, its chunk hashes, a window of up
 * to four chunks (with its path after it, for messages), and the first
 * window read and verified now, so a small tampered file fails at open.
 */
static int trusted_open(const char *path, struct ofile *f)
{
	uint8_t whole[32];
	const char *line;
	size_t plen = str_len(path);
	long h;
	int ret;

	ret = find_trusted_line(path, whole, &f->size, &line);
	if (ret < 0)
		return ret;
	if (plen >= LIBOS_BUF_MAX || plen >= PATH_MAX)
		return -ENAMETOOLONG;
	f->host = -1;
	f->nchunks = (f->size + LIBOS_CHUNK_SIZE - 1) / LIBOS_CHUNK_SIZE;
	f->win_cap = f->size < LIBOS_BUF_MAX ? PAGE_UP(f->size) : LIBOS_BUF_MAX;
	f->win_alloc = f->win_cap + PAGE_UP(plen + 1);
	f->win = mm_alloc(f->win_alloc, 0);
	if (!f->win)
		return -ENOMEM;
	f->path = (char *)f->win + f->win_cap;
	memcpy(f->path, path, plen + 1);
	ret = chunk_hashes(f, line);
	if (ret < 0) {
		log_err("%s: malformed chunk lines in the manifest: refused", path);
		trusted_close(f);
		return -EACCES;
	}
	memcpy((void *)libos_mb->buf, path, plen + 1);
	h = ocall(LIBOS_OCALL_OPEN, 0, 0, plen + 1);
	if (h < 0 || h > 0x7fffffff) {
		log_err("%s: trusted file unavailable from the host (%ld)", path, h);
		trusted_close(f);
		return -EACCES;
	}
	f->host = h;
	if ((uint64_t)libos_mb->out[0] != f->size) {
		log_err("%s: size differs from the manifest: refused", path);
		trusted_close(f);
		return -EACCES;
	}
	if (f->size) {
		ret = window_fill(f, 0);
		if (ret < 0) {
			trusted_close(f);
			return ret == -EIO ? -EACCES : ret;
		}
	}
	return 0;
}

/*
 * A trusted file read in pieces, each verified and copied straight where
 * it belongs (the ELF loader: no copy of the whole file in between).
 */
int fs_trusted_load_open(const char *path, struct ofile **out, uint64_t *size)
{
	struct ofile *f = mm_alloc(PAGE_UP(sizeof(*f)), 1);
	int ret;

	if (!f)
		return -ENOMEM;
	f->kind = F_TRUSTED;
	ret = trusted_open(path, f);
	if (ret < 0) {
		mm_free(f, PAGE_UP(sizeof(*f)));
		return ret;
	}
	*out = f;
	*size = f->size;
	return 0;
}

/* Exactly len verified bytes at off into dst, or -errno (-EACCES: short or tampered). */
int fs_trusted_load_read(struct ofile *f, void *dst, uint64_t len, uint64_t off)
{
	long r = len ? trusted_pread(f, dst, len, off) : 0;

	if (r == (long)len)
		return 0;
	return r < 0 && r != -EIO ? (int)r : -EACCES;
}

void fs_trusted_load_close(struct ofile *f)
{
	trusted_close(f);
	mm_free(f, PAGE_UP(sizeof(*f)));
}

/*
 * SHA-NI for the chunk hashes when the host's CPUID shows it. CPUID is the
 * host's word, untrusted: a host claiming SHA-NI on a CPU without it only
 * makes the enclave fault (#UD, the LibOS stops), a host hiding it only
 * makes hashing slower; neither changes what a hash compares equal to.
 */
void fs_init(void)
{
	uint32_t ecx1;
	int ni;

	if (ocall(LIBOS_OCALL_CPUID, 1, 0, 0) < 0)
		return;
	ecx1 = (uint32_t)libos_mb->out[2];
	if (ocall(LIBOS_OCALL_CPUID, 7, 0, 0) < 0)
		return;
	ni = sha256_cpuid_has_shani(ecx1, (uint32_t)libos_mb->out[1]);
	sha256_set_shani(ni);
	if (libos_manifest.debug)
		log_err("SHA-256 of trusted files: %s", ni ? "SHA-NI" : "portable code");
}

/* Absolute, without ".", ".." or repeated slashes (the cwd is "/"). */
int fs_normalize(const char *in, char *out, size_t n)
{
	size_t k = 0;

	out[k++] = '/';
	while (*in) {
		const char *s = in;
		size_t len;

		while (*s == '/')
			s++;
		in = s;
		while (*in && *in != '/')
			in++;
		len = (size_t)(in - s);
		if (!len || (len == 1 && s[0] == '.'))
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (k > 1 && out[k - 1] != '/')
				k--;
			if (k > 1)
				k--;
			continue;
		}
		if (k + len + 2 > n)
			return -ENAMETOOLONG;
		if (k > 1)
			out[k++] = '/';
		memcpy(out + k, s, len);
		k += len;
	}
	out[k] = 0;
	return 0;
}

/* The working directory (chdir/fchdir), normalised; "/" at start. */
static FORKED char cwd[PATH_MAX] = "/";

static int user_path(uint64_t p, char *out, size_t n)
{
	char tmp[PATH_MAX];
	size_t i, cl = str_len(cwd);

	for (i = 0; i < sizeof(tmp); i++) {
		if (!user_ok(p + i, 1))
			return -EFAULT;
		tmp[i] = ((const char *)p)[i];
		if (!tmp[i])
			break;
	}
	if (i == sizeof(tmp))
		return -ENAMETOOLONG;
	if (!tmp[0])
		return -ENOENT;
	if (tmp[0] != '/') { /* relative to the working directory */
		if (cl + 1 + i + 1 > sizeof(tmp))
			return -ENAMETOOLONG;
		memmove(tmp + cl + 1, tmp, i + 1);
		memcpy(tmp, cwd, cl);
		tmp[cl] = '/';
	}
	return fs_normalize(tmp, out, n);
}

static struct ofile *get_fd(int64_t fd)
{
	fds_init();
	if (fd < 0 || fd >= MAX_FDS)
		return NULL;
	return fds[fd].of;
}

/* The path of a trusted line ("trusted HASH SIZE PATH"), its length in *n. */
static const char *line_path(const char *l, const char *e, size_t *n)
{
	const char *p = l + 8 + 65;

	if (!str_ncmp(l, "allowed ", 8) && e - l > 8) { /* "allowed PATH" */
		*n = (size_t)(e - l - 8);
		return l + 8;
	}
	if (str_ncmp(l, "trusted ", 8) || e - l <= 8 + 65)
		return NULL;
	while (p < e && *p != ' ')
		p++;
	if (p >= e)
		return NULL;
	*n = (size_t)(e - p - 1);
	return p + 1;
}

static const char *line_end(const char *l)
{
	while (*l && *l != '\n')
		l++;
	return l;
}

/* Directories exist where trusted files are below them ("/" always). */
static int is_dir(const char *path)
{
	size_t plen = str_len(path), n;
	const char *l = libos_manifest.text;

	int id = pseudo_find(path);

	if (str_eq(path, "/") || str_eq(path, "/tmp"))
		return 1;
	if (id >= 0)
		return pseudo_is_dir(id);
	while (*l) {
		const char *e = line_end(l), *p = line_path(l, e, &n);

		if (p && n > plen && !memcmp(p, path, plen) && p[plen] == '/')
			return 1;
		l = *e ? e + 1 : e;
	}
	return 0;
}

/* A path from the workload, relative to dirfd (AT_FDCWD: "/"), normalised. */
static int resolve(int64_t dirfd, uint64_t upath, char *out, size_t n)
{
	char rel[PATH_MAX];
	const char *dir;
	struct ofile *d;
	size_t dl, rl;
	int ret = user_path(upath, rel, sizeof(rel));

	if (ret < 0)
		return ret;
	if (((const char *)upath)[0] == '/' || dirfd == AT_FDCWD) {
		str_lcpy(out, rel, n);
		return 0;
	}
	d = get_fd(dirfd);
	if (!d)
		return -EBADF;
	if (d->kind != F_DIR && !(d->kind == F_ALLOWED && (d->amode & S_IFMT) == S_IFDIR))
		return -ENOTDIR;
	dir = d->kind == F_DIR ? (const char *)d->data : d->path;
	dl = str_len(dir);
	rl = str_len(rel);
	if (dl + rl + 2 > sizeof(rel) || dl + rl + 2 > n)
		return -ENAMETOOLONG;
	/* rel came out of fs_normalize as "/x/y": append it to the directory */
	memcpy(out, dir, dl);
	memcpy(out + dl, rel, rl + 1);
	return fs_normalize(out, rel, sizeof(rel)) < 0 ? -ENAMETOOLONG : (str_lcpy(out, rel, n), 0);
}

/* The lowest free descriptor from min (Linux's rule), or -EMFILE. */
static int free_fd_from(int64_t min)
{
	int64_t fd;

	fds_init();
	for (fd = min < 0 ? 0 : min; fd < MAX_FDS && fds[fd].of; fd++)
		;
	return fd >= MAX_FDS ? -EMFILE : (int)fd;
}

static int free_fd(void)
{
	return free_fd_from(0);
}

/* A free description (there is one while a descriptor is free), zeroed. */
static struct ofile *ofile_new(void)
{
	for (int i = 0; i < MAX_FDS; i++)
		if (ofs[i].kind == F_FREE && !ofs[i].refs) {
			ofs[i] = (struct ofile){ .host = -1 };
			return &ofs[i];
		}
	return NULL; /* not reached: descriptions <= descriptors */
}

/* fd (free) names f, a new description (refs 0) or a shared one. */
static int fd_attach(int fd, struct ofile *f, int cloexec)
{
	f->refs++;
	fds[fd] = (struct fdent){ .of = f, .cloexec = cloexec };
	return fd;
}

int fs_install(struct fobj *o, int cloexec)
{
	int fd = free_fd();
	struct ofile *f;

	if (fd < 0)
		return fd;
	f = ofile_new();
	if (!f)
		return -EMFILE;
	*f = (struct ofile){ .kind = F_OBJ, .obj = o, .host = -1 };
	return fd_attach(fd, f, cloexec);
}

/* Forgets fd just installed (its object stays the caller's). */
void fs_release(int fd)
{
	if (fd >= 0 && fd < MAX_FDS && fds[fd].of) {
		struct ofile *f = fds[fd].of;

		fds[fd].of = NULL;
		if (--f->refs == 0) {
			f->kind = F_FREE;
			f->obj = NULL;
		}
	}
}

struct fobj *fs_obj(int64_t fd)
{
	struct ofile *f = get_fd(fd);

	return f && f->kind == F_OBJ ? f->obj : NULL;
}

int fs_valid(int64_t fd)
{
	return get_fd(fd) != NULL;
}

/* read/write of an object: it stays alive while the call blocks (lock dropped). */
static long obj_rw(struct fobj *o, uint64_t buf, uint64_t len, int write)
{
	long r;

	ipc_get(o);
	r = write ? ipc_write(o, (const void *)buf, len) : ipc_read(o, (void *)buf, len);
	ipc_put(o);
	return r;
}

/* path is "/tmp/NAME" (no deeper): the name; else NULL. */
static const char *tmp_name(const char *path)
{
	const char *n = path + sizeof(TMP_PREFIX) - 1;

	if (str_ncmp(path, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) || !*n)
		return NULL;
	for (const char *c = n; *c; c++)
		if (*c == '/')
			return NULL;
	return n;
}

static int tmp_find(const char *name)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (tmps[i].used && tmps[i].name[0] && str_eq(tmps[i].name, name))
			return i;
	return -1;
}

static void tmp_put(int i)
{
	if (--tmps[i].refs == 0 && !tmps[i].name[0]) {
		if (tmps[i].data)
			mm_free(tmps[i].data, tmps[i].cap);
		memset(&tmps[i], 0, sizeof(tmps[i]));
	}
}

static int tmp_reserve(struct tmpfile *t, uint64_t size)
{
	uint64_t cap = t->cap ? t->cap : PAGE_SIZE;
	uint8_t *d;

	if (size <= t->cap)
		return 0;
	while (cap < size) {
		if (cap > (1ULL << 40))
			return -EFBIG;
		cap *= 2;
	}
	d = mm_alloc(cap, 1);
	if (!d)
		return -ENOSPC_LIBOS;
	if (t->data) {
		memcpy(d, t->data, t->size);
		mm_free(t->data, t->cap);
	}
	t->data = d;
	t->cap = cap;
	return 0;
}

static long tmp_open(const char *name, uint64_t flags)
{
	int i = tmp_find(name), fd = free_fd();
	struct ofile *f;

	if (fd < 0)
		return fd;
	if (str_len(name) >= sizeof(tmps[0].name))
		return -ENAMETOOLONG;
	if (i >= 0 && (flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (i < 0) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		for (i = 0; i < MAX_TMP && tmps[i].used; i++)
			;
		if (i == MAX_TMP)
			return -ENOSPC_LIBOS;
		memset(&tmps[i], 0, sizeof(tmps[i]));
		tmps[i].used = 1;
		str_lcpy(tmps[i].name, name, sizeof(tmps[i].name));
	}
	if ((flags & O_TRUNC) && (flags & O_ACCMODE))
		tmps[i].size = 0;
	f = ofile_new();
	if (!f)
		return -EMFILE;
	tmps[i].refs++;
	*f = (struct ofile){ .kind = F_TMP, .tmp = i, .flags = (int)flags, .host = -1 };
	return fd_attach(fd, f, !!(flags & O_CLOEXEC));
}

struct dirent64 {
	uint64_t ino;
	int64_t off;
	uint16_t reclen;
	uint8_t type;
	char name[];
};

/*
 * Allowed paths: an "allowed P" line lets P and everything below it through
 * to the host. The host's answers are untrusted: results and sizes are
 * range-checked, data and names copied into the enclave before they are
 * looked at, and anything odd is EIO.
 */
static int is_allowed(const char *path)
{
	size_t plen = str_len(path);

	for (const char *l = libos_manifest.text; *l;) {
		const char *e = line_end(l);

		if (!str_ncmp(l, "allowed /", 9)) {
			size_t n = (size_t)(e - l - 8);

			if (n <= plen && !memcmp(path, l + 8, n) && (!path[n] || path[n] == '/'))
				return 1;
		}
		l = *e ? e + 1 : e;
	}
	return 0;
}

static long host_err(long r)
{
	return r < 0 && r >= -4095 ? r : -EIO;
}

static long a_path_call(long nr, const char *path, int64_t a0, int64_t a1)
{
	size_t n = str_len(path) + 1;

	if (n > LIBOS_BUF_MAX)
		return -ENAMETOOLONG;
	memcpy((void *)libos_mb->buf, path, n);
	return ocall(nr, a0, a1, n);
}

/* After ASTAT/AFSTAT/AOPEN: the host's size and mode, a file or a directory. */
static int a_stat_out(uint64_t *size, uint32_t *mode)
{
	int64_t sz = libos_mb->out[0], m = libos_mb->out[1];

	if (sz < 0 || sz > (1LL << 50) || m < 0 || m > 0177777 ||
	    ((m & S_IFMT) != S_IFREG && (m & S_IFMT) != S_IFDIR))
		return -EIO;
	*size = (uint64_t)sz;
	*mode = (uint32_t)m;
	return 0;
}

static long allowed_open(const char *path, uint64_t flags, uint64_t mode)
{
	uint64_t pass = flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_DIRECTORY);
	size_t plen = str_len(path);
	struct ofile *f;
	uint64_t size = 0;
	uint32_t m = 0;
	long h;
	int fd = free_fd(), ret;

	if (fd < 0)
		return fd;
	if ((flags & O_ACCMODE) == 3)
		return -EINVAL;
	h = a_path_call(LIBOS_OCALL_AOPEN, path, (int64_t)pass, (int64_t)(mode & 07777));
	if (h < 0)
		return host_err(h);
	if (h > 0x7fffffff)
		return -EIO;
	ret = a_stat_out(&size, &m);
	f = ofile_new();
	if (!f) {
		ocall(LIBOS_OCALL_ACLOSE, h, 0, 0);
		return -EMFILE;
	}
	*f = (struct ofile){ .kind = F_ALLOWED,
			     .host = h,
			     .flags = (int)flags,
			     .host_append = !!(flags & O_APPEND),
			     .amode = m,
			     .path = mm_alloc(PAGE_UP(plen + 1), 0) };
	if (ret < 0 || !f->path) {
		ocall(LIBOS_OCALL_ACLOSE, h, 0, 0);
		if (f->path)
			mm_free(f->path, PAGE_UP(plen + 1));
		f->kind = F_FREE;
		return ret < 0 ? ret : -ENOMEM;
	}
	memcpy(f->path, path, plen + 1);
	return fd_attach(fd, f, !!(flags & O_CLOEXEC));
}

static void allowed_close(struct ofile *f)
{
	ocall(LIBOS_OCALL_ACLOSE, f->host, 0, 0);
	mm_free(f->path, PAGE_UP(str_len(f->path) + 1));
	if (f->win)
		mm_free(f->win, LIBOS_BUF_MAX);
	f->win = NULL;
}

static long allowed_read(struct ofile *f, uint8_t *buf, uint64_t len, int64_t pos)
{
	uint64_t off = pos >= 0 ? (uint64_t)pos : f->off, done = 0;

	if ((f->amode & S_IFMT) == S_IFDIR)
		return -EISDIR;
	if ((f->flags & O_ACCMODE) == 1)
		return -EBADF;
	while (done < len && off + done < (1ULL << 62)) {
		uint64_t want = len - done < LIBOS_BUF_MAX ? len - done : LIBOS_BUF_MAX;
		long r = ocall(LIBOS_OCALL_APREAD, f->host, (int64_t)(off + done), want);

		if (r < 0 || (uint64_t)r > want) {
			if (done)
				break;
			return r < 0 ? host_err(r) : -EIO;
		}
		memcpy(buf + done, (const void *)libos_mb->buf, (size_t)r);
		done += (uint64_t)r;
		if ((uint64_t)r < want)
			break;
	}
	if (pos < 0)
		f->off = off + done;
	return (long)done;
}

static long allowed_fstat(struct ofile *f);

static long allowed_write(struct ofile *f, const uint8_t *buf, uint64_t len, int64_t pos)
{
	int append = pos < 0 && (f->flags & O_APPEND) && f->host_append;
	uint64_t off = pos >= 0 ? (uint64_t)pos : f->off, done = 0;

	if ((f->flags & O_ACCMODE) == 0)
		return -EBADF;
	if (pos < 0 && (f->flags & O_APPEND) && !f->host_append) {
		/* O_APPEND set by F_SETFL: at the host's end of file, as it says now */
		long r = allowed_fstat(f);

		if (r < 0)
			return r;
		off = f->size;
	}
	if (off + len < off || off + len > (1ULL << 62))
		return -EFBIG;
	while (done < len) {
		uint64_t n = len - done < LIBOS_BUF_MAX ? len - done : LIBOS_BUF_MAX;
		long r;

		memcpy((void *)libos_mb->buf, buf + done, n);
		r = ocall(LIBOS_OCALL_APWRITE, f->host, append ? -1 : (int64_t)(off + done), n);
		if (r < 0 || (uint64_t)r > n) {
			if (done)
				break;
			return r < 0 ? host_err(r) : -EIO;
		}
		done += (uint64_t)r;
		if (append) {
			int64_t end = libos_mb->out[0];

			if (end < 0 || end > (1LL << 62))
				return -EIO;
			f->off = (uint64_t)end;
		}
		if ((uint64_t)r < n)
			break;
	}
	if (pos < 0 && !append)
		f->off = off + done;
	return (long)done;
}

/*
 * The host's next entries as dirent64s: it sends {type, name, NUL}
 * records, at most count / 11 bytes of them so that the dirents (at most
 * 11 times a record's size) fit; a malformed record is EIO.
 */
static long allowed_getdents(struct ofile *f, uint64_t buf, uint64_t count)
{
	uint64_t want = count / 11 < LIBOS_BUF_MAX ? count / 11 : LIBOS_BUF_MAX, done = 0, p;
	long r;

	if ((f->amode & S_IFMT) != S_IFDIR)
		return -ENOTDIR;
	if (want < 3)
		return -EINVAL;
	if (!f->win && !(f->win = mm_alloc(LIBOS_BUF_MAX, 0)))
		return -ENOMEM;
	r = ocall(LIBOS_OCALL_AGETDENTS, f->host, 0, want);
	if (r < 0 || (uint64_t)r > want)
		return r < 0 ? host_err(r) : -EIO;
	memcpy(f->win, (const void *)libos_mb->buf, (size_t)r);
	for (p = 0; p < (uint64_t)r;) {
		const char *name = (const char *)f->win + p + 1;
		uint64_t nl = 0, reclen;
		uint8_t type = f->win[p];
		struct dirent64 *d = (struct dirent64 *)(buf + done);

		while (p + 1 + nl < (uint64_t)r && name[nl] && name[nl] != '/')
			nl++;
		if (p + 1 + nl >= (uint64_t)r || name[nl] || !nl || nl > 255)
			return -EIO;
		reclen = (sizeof(struct dirent64) + nl + 1 + 7) & ~7UL;
		if (done + reclen > count)
			return -EIO;
		d->ino = 5000 + f->off;
		d->off = (int64_t)++f->off;
		d->reclen = (uint16_t)reclen;
		d->type = type == 4 || type == 8 || type == 10 ? type : 0; /* DIR REG LNK */
		memcpy(d->name, name, nl);
		memset(d->name + nl, 0, reclen - sizeof(*d) - nl);
		done += reclen;
		p += nl + 2;
	}
	return (long)done;
}

static long allowed_stat(const char *path, struct ofile *f)
{
	long r = a_path_call(LIBOS_OCALL_ASTAT, path, 0, 0);

	if (r < 0)
		return host_err(r);
	f->kind = F_ALLOWED;
	return a_stat_out(&f->size, &f->amode);
}

static long allowed_fstat(struct ofile *f)
{
	long r = ocall(LIBOS_OCALL_AFSTAT, f->host, 0, 0);

	return r < 0 ? host_err(r) : a_stat_out(&f->size, &f->amode);
}

static long pseudo_open_fd(int id, uint64_t flags);

static long open_path(const char *path, uint64_t flags, uint64_t mode);

static long do_open(int64_t dirfd, uint64_t upath, uint64_t flags, uint64_t mode)
{
	char path[PATH_MAX];
	int ret;

	fds_init();
	ret = resolve(dirfd, upath, path, sizeof(path));
	if (ret < 0)
		return ret;
	return open_path(path, flags, mode);
}

/* open of a resolved, normalised path. */
static long open_path(const char *path, uint64_t flags, uint64_t mode)
{
	struct ofile *f;
	uint8_t *data;
	uint64_t size;
	int ret, fd;

	ret = pseudo_find(path);
	if (ret >= 0 && !pseudo_is_dir(ret))
		return pseudo_open_fd(ret, flags);
	if (tmp_name(path))
		return tmp_open(tmp_name(path), flags);
	ret = find_trusted(path, (uint8_t[32]){ 0 }, &size);
	if (ret < 0 && is_allowed(path))
		return allowed_open(path, flags, mode);
	if (ret < 0 && is_dir(path)) {
		if ((flags & O_ACCMODE) != 0 || (flags & (O_CREAT | O_TRUNC)))
			return -EISDIR;
		fd = free_fd();
		if (fd < 0)
			return fd;
		data = mm_alloc(str_len(path) + 1, 1);
		if (!data)
			return -ENOMEM;
		f = ofile_new();
		if (!f) {
			mm_free(data, str_len(path) + 1);
			return -EMFILE;
		}
		memcpy(data, path, str_len(path) + 1);
		*f = (struct ofile){
			.kind = F_DIR, .data = data, .size = str_len(path) + 1, .host = -1
		};
		return fd_attach(fd, f, !!(flags & O_CLOEXEC));
	}
	if (ret < 0)
		return ret;
	if ((flags & O_ACCMODE) != 0 || (flags & (O_CREAT | O_TRUNC)))
		return -EACCES; /* trusted files are read-only */
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	fd = free_fd();
	if (fd < 0)
		return fd;
	f = ofile_new();
	if (!f)
		return -EMFILE;
	*f = (struct ofile){ .kind = F_TRUSTED, .flags = (int)flags };
	ret = trusted_open(path, f);
	if (ret < 0) {
		*f = (struct ofile){ .kind = F_FREE };
		return ret;
	}
	return fd_attach(fd, f, !!(flags & O_CLOEXEC));
}

/* A pseudo-file (pseudo.c) as an open file description. */
static long pseudo_open_fd(int id, uint64_t flags)
{
	int fd = free_fd();
	struct ofile *f;
	uint8_t *data;
	uint64_t size;
	long r;

	if (fd < 0)
		return fd;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	if ((flags & O_ACCMODE) == 3)
		return -EINVAL;
	r = pseudo_open(id, flags, &data, &size);
	if (r < 0)
		return r;
	f = ofile_new();
	if (!f) {
		if (data)
			mm_free(data, PAGE_UP(size ? size : 1));
		return -EMFILE;
	}
	*f = (struct ofile){ .kind = F_PSEUDO,
			     .pseudo = id,
			     .data = data,
			     .size = size,
			     .flags = (int)flags,
			     .host = -1 };
	return fd_attach(fd, f, !!(flags & O_CLOEXEC));
}

/* A pseudo directory's entries (pseudo.c), from f->off, an index of its table. */
static long pseudo_getdents(struct ofile *f, uint64_t buf, uint64_t count)
{
	uint64_t done = 0;

	for (;;) {
		uint64_t pos = f->off;
		int isdir = 0;
		const char *name = pseudo_next((const char *)f->data, &pos, &isdir);
		size_t n, reclen;
		struct dirent64 *d = (struct dirent64 *)(buf + done);

		if (!name)
			break;
		n = str_len(name);
		reclen = (sizeof(struct dirent64) + n + 1 + 7) & ~7UL;
		if (done + reclen > count)
			return done ? (long)done : -EINVAL;
		d->ino = 6000 + pos;
		d->off = (int64_t)pos;
		d->reclen = (uint16_t)reclen;
		d->type = isdir ? 4 : 2; /* DT_DIR, DT_CHR (the attestation files: DT_REG) */
		if (!isdir && !str_ncmp((const char *)f->data, "/dev/attestation", 16))
			d->type = 8;
		memcpy(d->name, name, n);
		memset(d->name + n, 0, reclen - sizeof(*d) - n);
		done += reclen;
		f->off = pos;
	}
	return (long)done;
}

static long tmp_getdents(struct ofile *f, uint64_t buf, uint64_t count)
{
	uint64_t done = 0;

	for (; f->off < MAX_TMP; f->off++) {
		struct tmpfile *t = &tmps[f->off];
		size_t n = str_len(t->name);
		size_t reclen = (sizeof(struct dirent64) + n + 1 + 7) & ~7UL;
		struct dirent64 *d = (struct dirent64 *)(buf + done);

		if (!t->used || !t->name[0])
			continue;
		if (done + reclen > count)
			break;
		d->ino = 3000 + f->off;
		d->off = (int64_t)f->off + 1;
		d->reclen = (uint16_t)reclen;
		d->type = 8;
		memcpy(d->name, t->name, n);
		memset(d->name + n, 0, reclen - sizeof(*d) - n);
		done += reclen;
	}
	if (!done && f->off < MAX_TMP)
		return -EINVAL;
	return (long)done;
}

/*
 * The next names below the directory, from the (sorted) manifest: entries
 * sharing a first component are adjacent, so a repeated name is skipped by
 * comparing with the previous line. No "." or "..".
 */
static long do_getdents(int64_t fd, uint64_t buf, uint64_t count)
{
	struct ofile *f = get_fd(fd);
	const char *dir, *l, *prev = NULL;
	size_t dl, prevn = 0, done = 0, n;

	if (!f)
		return -EBADF;
	if (!user_ok(buf, count))
		return -EFAULT;
	if (f->kind == F_ALLOWED)
		return allowed_getdents(f, buf, count);
	if (f->kind != F_DIR)
		return -ENOTDIR;
	dir = (const char *)f->data;
	if (str_eq(dir, "/tmp"))
		return tmp_getdents(f, buf, count);
	if (pseudo_find(dir) >= 0)
		return pseudo_getdents(f, buf, count);
	dl = str_eq(dir, "/") ? 0 : str_len(dir);
	for (l = libos_manifest.text + f->off; *l;) {
		const char *e = line_end(l), *p = line_path(l, e, &n), *name, *end;
		const char *next = *e ? e + 1 : e;

		if (!p || n <= dl + 1 || memcmp(p, dir, dl) || p[dl] != '/') {
			l = next;
			continue;
		}
		name = p + dl + 1;
		for (end = name; end < p + n && *end != '/'; end++)
			;
		if (prev && prevn == (size_t)(end - name) && !memcmp(prev, name, prevn)) {
			l = next;
			continue;
		}
		size_t reclen = (sizeof(struct dirent64) + (size_t)(end - name) + 1 + 7) & ~7UL;
		struct dirent64 *d = (struct dirent64 *)(buf + done);

		if (done + reclen > count)
			break;
		d->ino = 1000 + (uint64_t)(l - libos_manifest.text);
		d->off = (int64_t)(next - libos_manifest.text);
		d->reclen = (uint16_t)reclen;
		d->type = end < p + n ? 4 : 8; /* DT_DIR, DT_REG */
		memcpy(d->name, name, (size_t)(end - name));
		memset(d->name + (end - name), 0, reclen - sizeof(*d) - (size_t)(end - name));
		done += reclen;
		prev = name;
		prevn = (size_t)(end - name);
		l = next;
		/* Resume after every line of this name: skip its siblings now. */
		while (*l) {
			const char *e2 = line_end(l), *p2 = line_path(l, e2, &n);

			if (!p2 && !str_ncmp(l, "chunk ", 6)) { /* a file's chunk hashes */
				l = *e2 ? e2 + 1 : e2;
				continue;
			}
			if (!p2 || n <= dl + 1 + prevn || memcmp(p2, p, dl + 1 + prevn) ||
			    (p2[dl + 1 + prevn] != '/'))
				break;
			l = *e2 ? e2 + 1 : e2;
		}
		f->off = (uint64_t)(l - libos_manifest.text);
	}
	if (!*l)
		f->off = (uint64_t)(l - libos_manifest.text);
	if (!done && *l)
		return -EINVAL; /* the buffer cannot hold one entry */
	return (long)done;
}

/* The last descriptor of f is gone: the file is closed. */
static void ofile_put(struct ofile *f)
{
	if (--f->refs > 0)
		return;
	if (f->kind == F_DIR)
		mm_free(f->data, f->size ? f->size : 1);
	if (f->kind == F_TRUSTED)
		trusted_close(f);
	if (f->kind == F_ALLOWED)
		allowed_close(f);
	if (f->kind == F_TMP)
		tmp_put(f->tmp);
	if (f->kind == F_PSEUDO && f->data) /* what pseudo_open made: one page, or a quote's */
		mm_free(f->data, PAGE_UP(f->size ? f->size : 1));
	f->kind = F_FREE;
	if (f->obj) {
		ipc_put(f->obj);
		f->obj = NULL;
	}
}

static long do_close(int64_t fd)
{
	struct ofile *f = get_fd(fd);

	if (!f)
		return -EBADF;
	fds[fd].of = NULL;
	ofile_put(f);
	return 0;
}

/*
 * dup3 (flags O_CLOEXEC) and dup2 (flags -1): newfd names oldfd's
 * description, newfd's own file closed first; its close-on-exec flag is
 * clear unless O_CLOEXEC.
 */
static long do_dup3(int64_t oldfd, int64_t newfd, int64_t flags)
{
	struct ofile *f;

	if (flags >= 0 && (flags & ~(int64_t)O_CLOEXEC))
		return -EINVAL;
	if (oldfd == newfd) {
		if (flags >= 0)
			return -EINVAL;
		return get_fd(oldfd) ? newfd : -EBADF;
	}
	if (newfd < 0 || newfd >= MAX_FDS)
		return -EBADF;
	f = get_fd(oldfd);
	if (!f)
		return -EBADF;
	if (fds[newfd].of)
		do_close(newfd);
	return fd_attach((int)newfd, f, flags > 0);
}

/* execve: the descriptors marked close-on-exec are closed. */
void fs_close_on_exec(void)
{
	fds_init();
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (fds[fd].of && fds[fd].cloexec)
			do_close(fd);
}

/* dup and fcntl F_DUPFD(_CLOEXEC): the lowest free descriptor from min. */
static long do_dupfd(int64_t oldfd, int64_t min, int cloexec)
{
	struct ofile *f = get_fd(oldfd);
	int fd;

	if (!f)
		return -EBADF;
	if (min < 0 || min >= MAX_FDS)
		return -EINVAL;
	fd = free_fd_from(min);
	return fd < 0 ? fd : fd_attach(fd, f, cloexec);
}

static long host_write(int fd, const uint8_t *p, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		uint64_t n = len - done < LIBOS_BUF_MAX ? len - done : LIBOS_BUF_MAX;
		long r;

		memcpy((void *)libos_mb->buf, p + done, n);
		r = ocall(LIBOS_OCALL_WRITE, fd, 0, n);
		if (r == -EPIPE)
			libos_raise(13); /* SIGPIPE, as the kernel would */
		if (r < 0 || (uint64_t)r > n)
			return done ? (long)done : (r < 0 && r >= -4095 ? r : -EIO);
		done += (uint64_t)r;
		if ((uint64_t)r < n)
			break;
	}
	return (long)done;
}

static long do_read(int64_t fd, uint64_t buf, uint64_t len, int64_t pos)
{
	struct ofile *f = get_fd(fd);
	uint64_t off;

	if (!f)
		return -EBADF;
	if (!user_ok(buf, len))
		return -EFAULT;
	if (f->kind == F_OBJ)
		return pos >= 0 ? -ESPIPE : obj_rw(f->obj, buf, len, 0);
	if (f->kind == F_STDIO) {
		long r;

		if (f->host != 0)
			return -EBADF;
		if (pos >= 0)
			return -ESPIPE;
		/* stdin may block for ever: other threads go on meanwhile */
		r = ocall_blocking(LIBOS_OCALL_READ, 0, 0,
				   len < LIBOS_BUF_MAX ? len : LIBOS_BUF_MAX);
		if (r < 0)
			return r >= -4095 ? r : -EIO;
		if ((uint64_t)r > len || r > LIBOS_BUF_MAX)
			return -EIO;
		memcpy((void *)buf, (const void *)libos_mb->buf, (size_t)r);
		return r;
	}
	if (f->kind == F_DIR)
		return -EISDIR;
	if (f->kind == F_ALLOWED)
		return allowed_read(f, (uint8_t *)buf, len, pos);
	if (f->kind == F_PSEUDO) {
		long r;

		if ((f->flags & O_ACCMODE) == 1)
			return -EBADF;
		r = pseudo_read(f->pseudo, f->data, f->size, (uint8_t *)buf, len,
				pos >= 0 ? (uint64_t)pos : f->off);
		if (r > 0 && pos < 0)
			f->off += (uint64_t)r;
		return r;
	}
	if (f->kind == F_TRUSTED) {
		long r = trusted_pread(f, (uint8_t *)buf, len, pos >= 0 ? (uint64_t)pos : f->off);

		if (r > 0 && pos < 0)
			f->off += (uint64_t)r;
		return r;
	}
	if (f->kind == F_TMP) {
		if ((f->flags & O_ACCMODE) == 1)
			return -EBADF;
		f->data = tmps[f->tmp].data;
		f->size = tmps[f->tmp].size;
	}
	off = pos >= 0 ? (uint64_t)pos : f->off;
	if (off >= f->size)
		return 0;
	if (len > f->size - off)
		len = f->size - off;
	memcpy((void *)buf, f->data + off, len);
	if (pos < 0)
		f->off = off + len;
	return (long)len;
}

static long tmp_write(struct ofile *f, uint64_t buf, uint64_t len, int64_t pos)
{
	struct tmpfile *t = &tmps[f->tmp];
	uint64_t off;
	int ret;

	if ((f->flags & O_ACCMODE) == 0)
		return -EBADF;
	off = pos >= 0 ? (uint64_t)pos : (f->flags & O_APPEND) ? t->size : f->off;
	if (off + len < off)
		return -EFBIG;
	ret = tmp_reserve(t, off + len);
	if (ret < 0)
		return ret;
	if (off > t->size)
		memset(t->data + t->size, 0, off - t->size);
	memcpy(t->data + off, (const void *)buf, len);
	if (off + len > t->size)
		t->size = off + len;
	if (pos < 0)
		f->off = off + len;
	return (long)len;
}

static long pseudo_pwrite(struct ofile *f, uint64_t buf, uint64_t len, int64_t pos)
{
	long r;

	if ((f->flags & O_ACCMODE) == 0)
		return -EBADF;
	r = pseudo_write(f->pseudo, (const uint8_t *)buf, len, pos >= 0 ? (uint64_t)pos : f->off);
	if (r > 0 && pos < 0)
		f->off += (uint64_t)r;
	return r;
}

static long do_write(int64_t fd, uint64_t buf, uint64_t len)
{
	struct ofile *f = get_fd(fd);

	if (!f)
		return -EBADF;
	if (!user_ok(buf, len))
		return -EFAULT;
	if (f->kind == F_TMP)
		return tmp_write(f, buf, len, -1);
	if (f->kind == F_ALLOWED)
		return allowed_write(f, (const uint8_t *)buf, len, -1);
	if (f->kind == F_OBJ)
		return obj_rw(f->obj, buf, len, 1);
	if (f->kind == F_PSEUDO)
		return pseudo_pwrite(f, buf, len, -1);
	if (f->kind != F_STDIO || f->host == 0)
		return -EBADF;
	return host_write((int)f->host, (const uint8_t *)buf, len);
}

struct iovec {
	uint64_t base, len;
};

static long do_rwv(int64_t fd, uint64_t iov, uint64_t cnt, int write)
{
	long total = 0;

	if (cnt > 1024)
		return -EINVAL;
	if (!user_ok(iov, cnt * sizeof(struct iovec)))
		return -EFAULT;
	for (uint64_t i = 0; i < cnt; i++) {
		struct iovec v = ((const struct iovec *)iov)[i];
		long r;

		if (!v.len)
			continue;
		r = write ? do_write(fd, v.base, v.len) : do_read(fd, v.base, v.len, -1);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((uint64_t)r < v.len)
			break;
	}
	return total;
}

struct kstat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	uint64_t times[6];
	int64_t reserved[3];
};

/*
 * A file's inode number from its path (FNV-1a): the same for stat and
 * fstat, and distinct between files (ld.so tells libraries apart by it).
 */
static uint64_t path_ino(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *path; path++)
		h = (h ^ (uint8_t)*path) * 0x100000001b3ULL;
	return (h % (1ULL << 40)) + 10000;
}

static long fill_stat(struct ofile *f, uint64_t ino, uint64_t out)
{
	struct kstat st;

	if (!user_ok(out, sizeof(st)))
		return -EFAULT;
	memset(&st, 0, sizeof(st));
	st.nlink = 1;
	st.blksize = 4096;
	st.ino = ino;
	if (f->kind == F_STDIO) {
		st.mode = S_IFIFO | 0600; /* what the host gives without a terminal */
		st.dev = 0xc;
	} else if (f->kind == F_OBJ) {
		st.mode = ipc_mode(f->obj);
		st.dev = 0xd;
	} else if (f->kind == F_TMP) {
		st.mode = S_IFREG | 0644;
		st.size = (int64_t)tmps[f->tmp].size;
		st.blocks = (int64_t)(PAGE_UP(tmps[f->tmp].size) / 512);
		st.dev = 0x2b;
	} else if (f->kind == F_ALLOWED) {
		/* the host's word: a file or a directory, its size and permissions */
		st.mode = f->amode;
		st.nlink = (f->amode & S_IFMT) == S_IFDIR ? 2 : 1;
		st.size = (int64_t)f->size;
		st.blocks = (int64_t)(PAGE_UP(f->size) / 512);
		st.dev = 0x2c;
	} else if (f->kind == F_PSEUDO) {
		uint32_t mode;
		uint64_t size;

		pseudo_stat(f->pseudo, &mode, &size, &st.rdev);
		st.mode = mode;
		st.size = (int64_t)size;
		st.dev = 0x5;
	} else if (f->kind == F_DIR) {
		st.mode = S_IFDIR | 0555;
		st.nlink = 2;
		st.size = 4096;
		st.blocks = 8;
		st.dev = 0x2a;
	} else {
		st.mode = S_IFREG | 0555;
		st.size = (int64_t)f->size;
		/* In whole 4 KiB blocks, as the filesystems under a rootfs allocate. */
		st.blocks = (int64_t)(PAGE_UP(f->size) / 512);
		st.dev = 0x2a;
	}
	memcpy((void *)out, &st, sizeof(st));
	return 0;
}

static long do_stat_path(int64_t dirfd, uint64_t upath, uint64_t out)
{
	char path[PATH_MAX];
	uint8_t h[32];
	struct ofile f = { .kind = F_TRUSTED };
	int ret = resolve(dirfd, upath, path, sizeof(path));

	if (ret < 0)
		return ret;
	ret = pseudo_find(path);
	if (ret >= 0 && !pseudo_is_dir(ret)) {
		f.kind = F_PSEUDO;
		f.pseudo = ret;
		return fill_stat(&f, 6000 + (uint64_t)ret, out);
	}
	if (tmp_name(path)) {
		int i = tmp_find(tmp_name(path));

		if (i < 0)
			return -ENOENT;
		f.kind = F_TMP;
		f.tmp = i;
		return fill_stat(&f, 3000 + (uint64_t)i, out);
	}
	ret = find_trusted(path, h, &f.size);
	if (ret < 0 && is_allowed(path)) {
		long r = allowed_stat(path, &f);

		return r < 0 ? r : fill_stat(&f, path_ino(path), out);
	}
	if (ret < 0 && is_dir(path)) {
		f.kind = F_DIR;
		return fill_stat(&f, path_ino(path), out);
	}
	if (ret < 0)
		return ret;
	return fill_stat(&f, path_ino(path), out);
}

static long do_fstat(int64_t fd, uint64_t out)
{
	struct ofile *f = get_fd(fd);

	if (!f)
		return -EBADF;
	if (f->kind == F_ALLOWED) {
		long r = allowed_fstat(f);

		if (r < 0)
			return r;
	}
	if ((f->kind == F_TRUSTED || f->kind == F_ALLOWED) && f->path)
		return fill_stat(f, path_ino(f->path), out);
	if (f->kind == F_DIR)
		return fill_stat(f, path_ino((const char *)f->data), out);
	if (f->kind == F_TMP)
		return fill_stat(f, 3000 + (uint64_t)f->tmp, out);
	if (f->kind == F_PSEUDO)
		return fill_stat(f, 6000 + (uint64_t)f->pseudo, out);
	return fill_stat(f, (uint64_t)(f - ofs) + 1, out); /* stdio, pipes...: per description */
}

static long do_lseek(int64_t fd, int64_t off, int64_t whence)
{
	struct ofile *f = get_fd(fd);
	int64_t base;

	if (!f)
		return -EBADF;
	if (f->kind == F_DIR) {
		if (whence != 0 || off != 0)
			return -EINVAL;
		f->off = 0; /* rewinddir */
		return 0;
	}
	if (f->kind == F_TMP) {
		f->size = tmps[f->tmp].size;
	} else if (f->kind == F_PSEUDO) {
		uint32_t mode;
		uint64_t rdev;

		if (!f->data)
			pseudo_stat(f->pseudo, &mode, &f->size, &rdev);
	} else if (f->kind == F_ALLOWED && whence == 2) {
		long r = allowed_fstat(f);

		if (r < 0)
			return r;
	} else if (f->kind != F_TRUSTED && f->kind != F_ALLOWED) {
		return -ESPIPE;
	}
	if (whence == 0)
		base = 0;
	else if (whence == 1)
		base = (int64_t)f->off;
	else if (whence == 2)
		base = (int64_t)f->size;
	else
		return -EINVAL;
	if (base + off < 0)
		return -EINVAL;
	f->off = (uint64_t)(base + off);
	return (long)f->off;
}

static long do_readlink(uint64_t upath, uint64_t buf, uint64_t len)
{
	char path[PATH_MAX];
	int ret = user_path(upath, path, sizeof(path));
	size_t n;

	if (ret < 0)
		return ret;
	if (!str_eq(path, "/proc/self/exe"))
		return -ENOENT; /* no symbolic links among trusted files */
	n = str_len(proc_exe());
	if (n > len)
		n = len;
	if (!user_ok(buf, n))
		return -EFAULT;
	memcpy((void *)buf, proc_exe(), n);
	return (long)n;
}

static long do_unlink(int64_t dirfd, uint64_t upath, int rmdir)
{
	char path[PATH_MAX];
	uint64_t size;
	int ret = resolve(dirfd, upath, path, sizeof(path)), i;

	if (ret < 0)
		return ret;
	if (pseudo_find(path) >= 0)
		return -EROFS;
	if (tmp_name(path)) {
		i = tmp_find(tmp_name(path));
		if (i < 0)
			return -ENOENT;
		if (rmdir)
			return -ENOTDIR;
		tmps[i].name[0] = 0;
		tmps[i].refs++;
		tmp_put(i); /* freed now unless open */
		return 0;
	}
	ret = find_trusted(path, (uint8_t[32]){ 0 }, &size);
	if (ret < 0 && is_allowed(path)) {
		long r = a_path_call(LIBOS_OCALL_AUNLINK, path, rmdir, 0);

		return r < 0 ? host_err(r) : 0;
	}
	if (ret < 0 && !is_dir(path))
		return ret;
	return -EROFS;
}

/* mkdir: below an allowed path only (the rest is read-only, /tmp is flat). */
static long do_mkdir(int64_t dirfd, uint64_t upath, uint64_t mode)
{
	char path[PATH_MAX];
	uint64_t size;
	int ret = resolve(dirfd, upath, path, sizeof(path));
	long r;

	if (ret < 0)
		return ret;
	if (find_trusted(path, (uint8_t[32]){ 0 }, &size) == 0 || is_dir(path))
		return -EEXIST;
	if (!is_allowed(path))
		return -EROFS;
	r = a_path_call(LIBOS_OCALL_AMKDIR, path, (int64_t)(mode & 07777), 0);
	return r < 0 ? host_err(r) : 0;
}

static long do_access(int64_t dirfd, uint64_t upath, uint64_t mode)
{
	char path[PATH_MAX];
	uint64_t size;
	int ret = resolve(dirfd, upath, path, sizeof(path));

	if (ret < 0)
		return ret;
	if (pseudo_find(path) >= 0)
		return 0;
	if (tmp_name(path))
		return tmp_find(tmp_name(path)) < 0 ? -ENOENT : 0;
	ret = find_trusted(path, (uint8_t[32]){ 0 }, &size);
	if (ret < 0 && is_allowed(path)) {
		struct ofile f;
		long r = allowed_stat(path, &f);

		return r < 0 ? r : 0; /* the host decides what the workload may do */
	}
	if (ret < 0 && !is_dir(path))
		return ret;
	return (mode & 2) && !str_eq(path, "/tmp") ? -EROFS : 0;
}

int file_mmap_copy(int fd, uint64_t off, void *dst, uint64_t len)
{
	struct ofile *f = get_fd(fd);

	if (f && f->kind == F_TRUSTED) {
		uint64_t want = off < f->size ? (f->size - off < len ? f->size - off : len) : 0;
		long r = trusted_pread(f, dst, len, off);

		/* All of it verified, or the mmap fails: never a partial copy. */
		if (r != (long)want)
			return r < 0 ? (int)r : -EACCES;
		return 0;
	}
	if (f && f->kind == F_ALLOWED) {
		long r = allowed_read(f, dst, len, (int64_t)off);

		return r < 0 ? (int)r : 0; /* a private copy of what the host gave */
	}
	if (f && f->kind == F_PSEUDO) { /* /dev/zero: zeros; the others, what they read */
		long r = pseudo_read(f->pseudo, f->data, f->size, dst, len, off);

		return r < 0 ? (int)r : 0;
	}
	if (f && f->kind == F_TMP) {
		f->data = tmps[f->tmp].data;
		f->size = tmps[f->tmp].size;
	} else {
		return -EBADF;
	}
	if (off < f->size)
		memcpy(dst, f->data + off, f->size - off < len ? f->size - off : len);
	return 0;
}

/* File descriptors are ints: the upper half of the register is not theirs. */
long fs_syscall(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, int *handled)
{
	struct ofile *f;

	*handled = 1;
	switch (nr) {
	case 0: /* read */
		return do_read((int64_t)(int32_t)a0, a1, a2, -1);
	case 1: /* write */
		return do_write((int64_t)(int32_t)a0, a1, a2);
	case 2: /* open */
		return do_open(AT_FDCWD, a0, a1, a2);
	case 3: /* close */
		return do_close((int64_t)(int32_t)a0);
	case 32: /* dup */
		return do_dupfd((int64_t)(int32_t)a0, 0, 0);
	case 33: /* dup2 */
		return do_dup3((int64_t)(int32_t)a0, (int64_t)(int32_t)a1, -1);
	case 292: /* dup3 */
		return do_dup3((int64_t)(int32_t)a0, (int64_t)(int32_t)a1, (int64_t)(int32_t)a2);
	case 4: /* stat */
	case 6: /* lstat */
		return do_stat_path(AT_FDCWD, a0, a1);
	case 5: /* fstat */
		return do_fstat((int64_t)(int32_t)a0, a1);
	case 8: /* lseek */
		return do_lseek((int64_t)(int32_t)a0, (int64_t)a1, (int64_t)a2);
	case 16: /* ioctl: no terminals here */
		return get_fd((int64_t)(int32_t)a0) ? -ENOTTY : -EBADF;
	case 17: /* pread64 */
		if ((int64_t)a3 < 0)
			return -EINVAL;
		return do_read((int64_t)(int32_t)a0, a1, a2, (int64_t)a3);
	case 19: /* readv */
		return do_rwv((int64_t)(int32_t)a0, a1, a2, 0);
	case 20: /* writev */
		return do_rwv((int64_t)(int32_t)a0, a1, a2, 1);
	case 21: /* access */
		return do_access(AT_FDCWD, a0, a1);
	case 87: /* unlink */
		return do_unlink(AT_FDCWD, a0, 0);
	case 84: /* rmdir */
		return do_unlink(AT_FDCWD, a0, 1);
	case 263: /* unlinkat */
		return do_unlink((int64_t)(int32_t)a0, a1, (a2 & 0x200) != 0);
	case 83: /* mkdir */
		return do_mkdir(AT_FDCWD, a0, a1);
	case 258: /* mkdirat */
		return do_mkdir((int64_t)(int32_t)a0, a1, a2);
	case 77: /* ftruncate */
		f = get_fd((int64_t)(int32_t)a0);
		if (!f)
			return -EBADF;
		if (f->kind == F_ALLOWED && (f->flags & O_ACCMODE) && (int64_t)a1 >= 0) {
			long r = ocall(LIBOS_OCALL_ATRUNC, f->host, (int64_t)a1, 0);

			return r < 0 ? host_err(r) : 0;
		}
		if (f->kind != F_TMP || (f->flags & O_ACCMODE) == 0)
			return -EINVAL;
		if ((int64_t)a1 < 0)
			return -EINVAL;
		if (a1 > tmps[f->tmp].size) {
			int ret = tmp_reserve(&tmps[f->tmp], a1);

			if (ret < 0)
				return ret;
			memset(tmps[f->tmp].data + tmps[f->tmp].size, 0, a1 - tmps[f->tmp].size);
		}
		tmps[f->tmp].size = a1;
		return 0;
	case 74: /* fsync */
	case 75: /* fdatasync */
		return get_fd((int64_t)(int32_t)a0) ? 0 : -EBADF;
	case 18: /* pwrite64 */
		f = get_fd((int64_t)(int32_t)a0);
		if (!f)
			return -EBADF;
		if (f->kind != F_TMP && f->kind != F_ALLOWED && f->kind != F_PSEUDO)
			return f->kind == F_STDIO ? -ESPIPE : -EBADF;
		if ((int64_t)a3 < 0)
			return -EINVAL;
		if (!user_ok(a1, a2))
			return -EFAULT;
		if (f->kind == F_PSEUDO)
			return pseudo_pwrite(f, a1, a2, (int64_t)a3);
		if (f->kind == F_ALLOWED)
			return allowed_write(f, (const uint8_t *)a1, a2, (int64_t)a3);
		return tmp_write(f, a1, a2, (int64_t)a3);
	case 217: /* getdents64 */
		return do_getdents((int64_t)(int32_t)a0, a1, a2);
	case 72: /* fcntl */
		f = get_fd((int64_t)(int32_t)a0);
		if (!f)
			return -EBADF;
		if (a1 == 0 || a1 == 1030) /* F_DUPFD, F_DUPFD_CLOEXEC */
			return do_dupfd((int32_t)a0, (int64_t)(int32_t)a2, a1 == 1030);
		if (a1 == 1) /* F_GETFD */
			return fds[(int32_t)a0].cloexec;
		if (a1 == 2) { /* F_SETFD */
			fds[(int32_t)a0].cloexec = (int)(a2 & 1);
			return 0;
		}
		if (a1 == 3 && f->kind == F_OBJ)
			return ipc_getfl(f->obj);
		if (a1 == 4 && f->kind == F_OBJ)
			return ipc_setfl(f->obj, a2);
		if (a1 == 3) /* F_GETFL: files are O_LARGEFILE, as the kernel opens them */
			return f->kind == F_STDIO ? (f->host == 0 ? 0 : 1)
			       : f->kind == F_DIR ? O_DIRECTORY | O_LARGEFILE
			       : f->kind == F_ALLOWED && (f->amode & S_IFMT) == S_IFDIR
				   ? O_DIRECTORY | O_LARGEFILE
				   : (f->flags & (O_ACCMODE | O_SETFL)) | O_LARGEFILE;
		if (a1 == 4) { /* F_SETFL: of the description, so every duplicate's */
			if (f->kind == F_TMP || f->kind == F_ALLOWED || f->kind == F_TRUSTED ||
			    f->kind == F_PSEUDO)
				f->flags = (int)((f->flags & ~O_SETFL) | (a2 & O_SETFL));
			return 0;
		}
		return -EINVAL;
	case 79: { /* getcwd */
		size_t n = str_len(cwd) + 1;

		if (a1 < n)
			return -ERANGE;
		if (!user_ok(a0, n))
			return -EFAULT;
		memcpy((void *)a0, cwd, n);
		return (long)n;
	}
	case 80: { /* chdir */
		char path[PATH_MAX];
		uint64_t size;
		int ret = user_path(a0, path, sizeof(path));

		if (ret < 0)
			return ret;
		if (!is_dir(path))
			return find_trusted(path, (uint8_t[32]){ 0 }, &size) == 0 ? -ENOTDIR
										  : -ENOENT;
		str_lcpy(cwd, path, sizeof(cwd));
		return 0;
	}
	case 81: /* fchdir */
		f = get_fd((int64_t)(int32_t)a0);
		if (!f)
			return -EBADF;
		if (f->kind != F_DIR)
			return -ENOTDIR;
		str_lcpy(cwd, (const char *)f->data, sizeof(cwd));
		return 0;
	case 89: /* readlink */
		return do_readlink(a0, a1, a2);
	case 257: /* openat */
		return do_open((int64_t)(int32_t)a0, a1, a2, a3);
	case 262: /* newfstatat */
		if ((a3 & AT_EMPTY_PATH) && user_ok(a1, 1) && !*(const char *)a1)
			return do_fstat((int64_t)(int32_t)a0, a2);
		return do_stat_path((int64_t)(int32_t)a0, a1, a2);
	case 267: /* readlinkat */
		return do_readlink(a1, a2, a3);
	case 269: /* faccessat */
		return do_access((int64_t)(int32_t)a0, a1, a2);
	}
	*handled = 0;
	return -ENOSYS;
}

/* Processes (proc.c) ------------------------------------------------------ */

struct fs_saved {
	struct fdent fds[MAX_FDS];
	char cwd[PATH_MAX];
};

/*
 * A vfork: the parent's table is kept aside, its descriptions held; the
 * child works on a copy (its closes and dup2s are its own).
 */
void *fs_save(void)
{
	struct fs_saved *s = mm_alloc(PAGE_UP(sizeof(*s)), 0);

	if (!s)
		return NULL;
	fds_init();
	memcpy(s->fds, fds, sizeof(fds));
	memcpy(s->cwd, cwd, sizeof(cwd));
	for (int i = 0; i < MAX_FDS; i++)
		if (fds[i].of)
			fds[i].of->refs++;
	return s;
}

void fs_restore(void *saved)
{
	struct fs_saved *s = saved;

	fs_close_all();
	memcpy(fds, s->fds, sizeof(fds));
	memcpy(cwd, s->cwd, sizeof(cwd));
	mm_free(s, PAGE_UP(sizeof(*s)));
}

void fs_close_all(void)
{
	fds_init();
	for (int i = 0; i < MAX_FDS; i++)
		if (fds[i].of)
			do_close(i);
}

/*
 * The descriptors an execve passes on (all but close-on-exec ones): how
 * many, or -errno. Files go by name (the new program opens them again at
 * the same offset, as a forked child does), their paths appended to
 * strs[*used..room).
 */
int fs_export(struct spawn_fd *out, int max, char *strs, uint64_t room, uint64_t *used)
{
	int n = 0;

	fds_init();
	for (int i = 0; i < MAX_FDS; i++) {
		struct ofile *f = fds[i].of;

		if (!f || fds[i].cloexec)
			continue;
		if (n == max)
			return -EMFILE;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].fd = i;
		if (f->kind == F_STDIO) {
			out[n].kind = SPAWN_STDIO;
			out[n].host = (int32_t)f->host;
		} else if ((f->kind == F_TRUSTED || f->kind == F_ALLOWED) && f->path) {
			uint64_t plen = str_len(f->path) + 1;

			if (plen > room - *used)
				return -E2BIG_LIBOS;
			memcpy(strs + *used, f->path, plen);
			out[n].kind = SPAWN_FILE;
			out[n].path_off = (uint32_t)*used;
			out[n].id = (uint64_t)(uintptr_t)f; /* one description, one open */
			out[n].off = f->off;
			out[n].flags = f->flags;
			out[n].host = -1;
			*used += plen;
		} else if (f->kind != F_OBJ || ipc_share(f->obj, &out[n]) < 0) {
			/* The rest stays behind: the new program finds the descriptor closed. */
			if (libos_manifest.debug)
				log_err("execve: descriptor %d is not passed on (an in-enclave "
					"file, directory or socket)",
					i);
			continue;
		}
		n++;
	}
	return n;
}

/*
 * A file the parent passed on: opened again here by its name, at its
 * offset; one that no longer opens is said and left closed, as it would be
 * if the parent had closed it.
 */
static void import_file(const struct spawn_fd *e, const char *path)
{
	/* Created, truncated and exclusive once already: opened as it is now. */
	uint64_t flags = (uint64_t)(uint32_t)e->flags & ~(uint64_t)(O_CREAT | O_EXCL | O_TRUNC);
	long fd = open_path(path, flags & ~(uint64_t)O_CLOEXEC, 0);

	if (fd < 0) {
		log_err("execve: %s (descriptor %d) is not open in the new program (%ld)", path,
			e->fd, fd);
		return;
	}
	fds[fd].of->off = e->off;
	if (fd != e->fd) {
		fds[e->fd] = fds[fd];
		fds[fd] = (struct fdent){ 0 };
	}
}

/*
 * A child's table: exactly what its parent passed on (one description per
 * end or file). Pipes and stdio first, at their numbers; then files, each
 * opened at the lowest free number and moved to its own.
 */
int fs_import(const struct spawn_fd *in, int n, const char *strs, uint64_t strs_len)
{
	fs_close_all();
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			struct ofile *f = NULL;
			int fd = in[i].fd;

			if ((in[i].kind == SPAWN_FILE) != pass)
				continue;
			if (fd < 0 || fd >= MAX_FDS || fds[fd].of)
				return -EIO;
			for (int j = 0; j < i; j++)
				if (in[j].kind == in[i].kind && in[j].host == in[i].host &&
				    in[j].id == in[i].id && fds[in[j].fd].of)
					f = fds[in[j].fd].of;
			if (f) {
				fd_attach(fd, f, 0);
				continue;
			}
			if (in[i].kind == SPAWN_FILE) {
				if (in[i].path_off >= strs_len)
					return -EIO;
				import_file(&in[i], strs + in[i].path_off);
				continue;
			}
			f = ofile_new();
			if (!f)
				return -EMFILE;
			if (in[i].kind == SPAWN_STDIO) {
				if (in[i].host < 0 || in[i].host > 2)
					return -EIO;
				*f = (struct ofile){ .kind = F_STDIO, .host = in[i].host };
			} else {
				*f = (struct ofile){ .kind = F_OBJ,
						     .obj = ipc_import(&in[i]),
						     .host = -1 };
				if (!f->obj) {
					f->kind = F_FREE;
					return -ENOMEM;
				}
			}
			fd_attach(fd, f, 0);
		}
	}
	return 0;
}

int fs_is_trusted(const char *path)
{
	uint8_t h[32];
	uint64_t size;

	return find_trusted(path, h, &size) == 0;
}

int fs_is_allowed(const char *path)
{
	return is_allowed(path);
}

int fs_resolve_path(uint64_t upath, char *out, size_t n)
{
	return resolve(AT_FDCWD, upath, out, n);
}

void fs_getcwd(char *out, size_t n)
{
	str_lcpy(out, cwd, n);
}

void fs_setcwd(const char *dir)
{
	if (dir[0] == '/')
		str_lcpy(cwd, dir, sizeof(cwd));
}

/* fork: the host descriptors the child must keep (pipes, sockets), at most max. */
int fs_fork_keep(int32_t *keep, int max)
{
	int n = 0;

	fds_init();
	for (int i = 0; i < MAX_FDS; i++) {
		int r;

		if (ofs[i].kind != F_OBJ || !ofs[i].refs)
			continue;
		r = ipc_fork_keep(ofs[i].obj, keep + n, max - n);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/*
 * fork, in the child: the parent's files are open here too, through host
 * handles of this process (the host's side of a file is per process).
 */
void fs_after_fork(void)
{
	for (int i = 0; i < MAX_FDS; i++) {
		struct ofile *f = &ofs[i];
		long h = -1;

		if (!f->refs)
			continue;
		if (f->kind == F_OBJ)
			ipc_obj_after_fork(f->obj);
		if (f->kind == F_TRUSTED) {
			size_t plen = str_len(f->path);

			memcpy((void *)libos_mb->buf, f->path, plen + 1);
			h = ocall(LIBOS_OCALL_OPEN, 0, 0, plen + 1);
			if (h >= 0 && (uint64_t)libos_mb->out[0] != f->size)
				h = -EACCES;
		} else if (f->kind == F_ALLOWED) {
			h = a_path_call(LIBOS_OCALL_AOPEN, f->path,
					(int64_t)(f->flags & (O_ACCMODE | O_APPEND | O_DIRECTORY)),
					0);
		} else {
			continue;
		}
		if (h < 0 || h > 0x7fffffff)
			log_err("%s: not open in the child process (%ld)", f->path, h);
		f->host = h < 0 || h > 0x7fffffff ? -1 : h;
	}
}
