// SPDX-License-Identifier: Apache-2.0
/*
 * Pseudo-files: paths the LibOS serves itself, never the host's (a file
 * of the rootfs at such a path is hidden). fs.c opens, reads, writes,
 * stats and lists them as files (F_PSEUDO) and directories; this file has
 * the table and what each file does:
 *   /dev/null, /dev/zero, /dev/random, /dev/urandom  (RDRAND inside)
 *   /dev/attestation/  as Gramine's:
 *     attestation_type  "none", or the manifest's "attestation_type" line
 *     user_report_data  64 bytes (written, read back): the next report's data
 *     target_info       512 bytes (written, read back): the next report's target
 *     my_target_info    512 bytes, read: this enclave's own TARGETINFO
 *     report            432 bytes, read: an EREPORT for target_info with
 *                       user_report_data, made at open
 *     quote             read: a quote of a REPORT for the host's quoting
 *                       enclave with user_report_data, made at open (only
 *                       where the manifest's attestation_type is dcap)
 *   the manifest's ratls_cert and ratls_key paths: read-only, an RA-TLS
 *   certificate and its key made in the enclave (ratls.c); opened by name
 *   only (not listed in their directory)
 */
#include "libos.h"

#include "../../../include/sgx/arch.h"

#define S_IFCHR	      0020000
#define S_IFREG	      0100000
#define S_IFDIR	      0040000
#define MKDEV(ma, mi) ((uint64_t)(ma) << 8 | (mi))

enum {
	PS_DIR = 1,
	PS_NULL,
	PS_ZERO,
	PS_RANDOM,
	PS_TYPE,      /* attestation_type */
	PS_USER_DATA, /* user_report_data */
	PS_TARGET,    /* target_info */
	PS_MY_TARGET, /* my_target_info */
	PS_REPORT,    /* report */
	PS_QUOTE,     /* quote */
	PS_RATLS_CERT,
	PS_RATLS_KEY,
};

/* No pointers: the enclave has no relocations. */
static const struct {
	char path[40];
	uint8_t kind;
	uint16_t perm;
	uint32_t rdev;
} table[] = {
	{ "/dev", PS_DIR, 0755, 0 },
	{ "/dev/attestation", PS_DIR, 0755, 0 },
	{ "/dev/attestation/attestation_type", PS_TYPE, 0444, 0 },
	{ "/dev/attestation/my_target_info", PS_MY_TARGET, 0444, 0 },
	{ "/dev/attestation/quote", PS_QUOTE, 0444, 0 },
	{ "/dev/attestation/report", PS_REPORT, 0444, 0 },
	{ "/dev/attestation/target_info", PS_TARGET, 0666, 0 },
	{ "/dev/attestation/user_report_data", PS_USER_DATA, 0666, 0 },
	{ "/dev/null", PS_NULL, 0666, MKDEV(1, 3) },
	{ "/dev/random", PS_RANDOM, 0666, MKDEV(1, 8) },
	{ "/dev/urandom", PS_RANDOM, 0666, MKDEV(1, 9) },
	{ "/dev/zero", PS_ZERO, 0666, MKDEV(1, 5) },
};

#define NPSEUDO ((int)(sizeof(table) / sizeof(table[0])))
/* After the table's ids: the manifest's RA-TLS files. */
#define ID_RATLS_CERT NPSEUDO
#define ID_RATLS_KEY  (NPSEUDO + 1)

static int kind_of(int id)
{
	return id == ID_RATLS_CERT  ? PS_RATLS_CERT
	       : id == ID_RATLS_KEY ? PS_RATLS_KEY
				    : table[id].kind;
}

static uint16_t perm_of(int id)
{
	return id == ID_RATLS_CERT ? 0444 : id == ID_RATLS_KEY ? 0400 : table[id].perm;
}

/* What the next report is for: written by the workload, read back. */
static FORKED uint8_t user_data[64];
static FORKED uint8_t target[512];

int pseudo_find(const char *path)
{
	char p[RATLS_PATH_MAX + 1];

	for (int i = 0; i < NPSEUDO; i++)
		if (str_eq(table[i].path, path))
			return i;
	if (manifest_value("ratls_cert", p, sizeof(p)) && str_eq(p, path))
		return ID_RATLS_CERT;
	if (manifest_value("ratls_key", p, sizeof(p)) && str_eq(p, path))
		return ID_RATLS_KEY;
	return -ENOENT;
}

int pseudo_is_dir(int id)
{
	return kind_of(id) == PS_DIR;
}

/* The entry after *pos directly below directory dir: its name (NUL-ended), or NULL. */
const char *pseudo_next(const char *dir, uint64_t *pos, int *is_dir)
{
	size_t dl = str_len(dir);

	for (; *pos < (uint64_t)NPSEUDO; (*pos)++) {
		const char *p = table[*pos].path, *name = p + dl + 1;

		if (memcmp(p, dir, dl) || p[dl] != '/')
			continue;
		for (const char *c = name; *c; c++)
			if (*c == '/')
				goto next;
		*is_dir = table[*pos].kind == PS_DIR;
		(*pos)++;
		return name;
	next:;
	}
	return NULL;
}

/* attestation_type: the measured manifest's "attestation_type TYPE", else "none". */
static uint64_t attestation_type(char *out, uint64_t n)
{
	uint64_t k = manifest_value("attestation_type", out, n);

	if (k)
		return k;
	str_lcpy(out, "none", n);
	return 4;
}

/*
 * EREPORT (ENCLU leaf 0) on aligned copies: for the pseudo-files, the
 * channel's key request (its SVNs) and the service TCS's libos_report,
 * which may run at once (the static buffers: one at a time).
 */
void libos_ereport(const uint8_t ti_in[512], const uint8_t rd_in[64], uint8_t out[432])
{
	static uint8_t ti[512] __attribute__((aligned(512)));
	static uint8_t rd[64] __attribute__((aligned(128)));
	static uint8_t rep[432] __attribute__((aligned(512)));
	static int busy;

	while (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	memcpy(ti, ti_in, sizeof(ti));
	memcpy(rd, rd_in, sizeof(rd));
	__asm__ volatile("enclu" : : "a"(0), "b"(ti), "c"(rd), "d"(rep) : "memory");
	memcpy(out, rep, sizeof(rep));
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

/* This enclave's TARGETINFO, from a report of itself. */
static void my_target_info(uint8_t out[512])
{
	static const uint8_t zero[512];
	struct sgx_report r;
	struct sgx_targetinfo ti;

	libos_ereport(zero, zero, (uint8_t *)&r);
	memset(&ti, 0, sizeof(ti));
	memcpy(ti.mrenclave, r.body.mrenclave, sizeof(ti.mrenclave));
	ti.attributes = r.body.attributes;
	ti.xfrm = r.body.xfrm;
	ti.config_svn = r.body.config_svn;
	ti.miscselect = r.body.miscselect;
	memcpy(ti.config_id, r.body.config_id, sizeof(ti.config_id));
	memcpy(out, &ti, sizeof(ti));
	memset(&r, 0, sizeof(r));
}

/*
 * quote: a REPORT for the host's quoting enclave (its TARGETINFO from the
 * host) with report data rd, quoted by the host. What comes back is
 * checked: a quote of version 3, 4 or 5 whose report body (after v5's
 * body descriptor) is this REPORT's (a verifier checks its signatures; the
 * host cannot make this enclave's).
 */
long pseudo_quote(const uint8_t rd[64], uint8_t **data, uint64_t *size)
{
	static uint8_t qe[512], rep[432];
	char type[64];
	uint64_t body;
	uint8_t *d;
	long n;

	if (attestation_type(type, sizeof(type)) != 4 || memcmp(type, "dcap", 4)) {
		log_err("/dev/attestation/quote: the manifest's attestation_type is not dcap "
			"(rune-image build --attestation dcap)");
		return -EACCES;
	}
	n = ocall(LIBOS_OCALL_QE_TARGET, 0, 0, 0);
	if (n != (long)sizeof(qe))
		return n < 0 && n >= -4095 ? n : -EIO;
	memcpy(qe, (const void *)libos_mb->buf, sizeof(qe));
	libos_ereport(qe, rd, rep);
	memcpy((void *)libos_mb->buf, rep, sizeof(rep));
	n = ocall(LIBOS_OCALL_QUOTE, 0, 0, sizeof(rep));
	if (n < 0 && n >= -4095)
		return n;
	if (n < 48 + 384 || n > LIBOS_BUF_MAX)
		return -EIO;
	d = mm_alloc(PAGE_UP((uint64_t)n), 0);
	if (!d)
		return -ENOMEM;
	memcpy(d, (const void *)libos_mb->buf, (uint64_t)n);
	body = d[0] == 5 ? 54 : 48;
	if (d[0] < 3 || d[0] > 5 || d[1] != 0 || (uint64_t)n < body + 384 ||
	    memcmp(d + body, rep, 384)) {
		log_err("/dev/attestation/quote: the host's quote is not of this enclave's report: "
			"refused");
		mm_free(d, PAGE_UP((uint64_t)n));
		return -EIO;
	}
	*data = d;
	*size = (uint64_t)n;
	return 0;
}

void pseudo_stat(int id, uint32_t *mode, uint64_t *size, uint64_t *rdev)
{
	static const uint64_t sizes[] = {
		[PS_USER_DATA] = 64, [PS_TARGET] = 512, [PS_MY_TARGET] = 512, [PS_REPORT] = 432
	};
	int k = kind_of(id);
	const uint8_t *d;
	char t[64];

	*rdev = k == PS_RATLS_CERT || k == PS_RATLS_KEY ? 0 : table[id].rdev;
	*mode = perm_of(id) | (k == PS_DIR ? S_IFDIR : *rdev ? S_IFCHR : S_IFREG);
	*size = k == PS_TYPE				      ? attestation_type(t, sizeof(t))
		: k < (int)(sizeof(sizes) / sizeof(sizes[0])) ? sizes[k]
							      : 0;
	if ((k == PS_RATLS_CERT || k == PS_RATLS_KEY) &&
	    ratls_file(k == PS_RATLS_KEY, &d, size) < 0)
		*size = 0;
}

/*
 * At open: the access mode checked (the read-only files refuse writing:
 * EACCES) and the content of the files made then (my_target_info, report,
 * attestation_type) in *data (a page, the caller's to free), *size.
 */
long pseudo_open(int id, uint64_t flags, uint8_t **data, uint64_t *size)
{
	int k = kind_of(id);
	const uint8_t *src;
	uint8_t *d;
	long r;

	*data = NULL;
	*size = 0;
	if ((flags & 3) && !(perm_of(id) & 0222))
		return -EACCES;
	if (k == PS_QUOTE)
		return pseudo_quote(user_data, data, size);
	if (k == PS_RATLS_CERT || k == PS_RATLS_KEY) {
		/* A copy per open: what the workload reads, the original kept. */
		r = ratls_file(k == PS_RATLS_KEY, &src, size);
		if (r < 0)
			return r;
		d = mm_alloc(PAGE_UP(*size), 0);
		if (!d)
			return -ENOMEM;
		memcpy(d, src, *size);
		*data = d;
		return 0;
	}
	if (k != PS_TYPE && k != PS_MY_TARGET && k != PS_REPORT)
		return 0;
	d = mm_alloc(PAGE_SIZE, 1);
	if (!d)
		return -ENOMEM;
	if (k == PS_TYPE)
		*size = attestation_type((char *)d, PAGE_SIZE);
	if (k == PS_MY_TARGET) {
		my_target_info(d);
		*size = 512;
	}
	if (k == PS_REPORT) {
		libos_ereport(target, user_data, d);
		*size = 432;
	}
	*data = d;
	return 0;
}

static long random_bytes(uint8_t *buf, uint64_t len)
{
	for (uint64_t done = 0; done < len; done += 8) {
		uint64_t v;

		if (rdrand64(&v) < 0)
			return done ? (long)done : -EIO;
		memcpy(buf + done, &v, len - done < 8 ? len - done : 8);
	}
	return (long)len;
}

/* Up to len bytes at off; data/size: what pseudo_open made. */
long pseudo_read(int id, const uint8_t *data, uint64_t size, uint8_t *buf, uint64_t len,
		 uint64_t off)
{
	int k = kind_of(id);
	const uint8_t *src = data;

	if (k == PS_DIR)
		return -EISDIR;
	if (k == PS_NULL)
		return 0;
	if (k == PS_ZERO) {
		memset(buf, 0, len);
		return (long)len;
	}
	if (k == PS_RANDOM)
		return random_bytes(buf, len);
	if (k == PS_USER_DATA) {
		src = user_data;
		size = sizeof(user_data);
	} else if (k == PS_TARGET) {
		src = target;
		size = sizeof(target);
	}
	if (off >= size)
		return 0;
	if (len > size - off)
		len = size - off;
	memcpy(buf, src + off, len);
	return (long)len;
}

/* user_report_data and target_info keep what is written within their size (past it: ENOSPC). */
long pseudo_write(int id, const uint8_t *buf, uint64_t len, uint64_t off)
{
	int k = kind_of(id);
	uint8_t *dst = k == PS_USER_DATA ? user_data : k == PS_TARGET ? target : NULL;
	uint64_t size = k == PS_USER_DATA ? sizeof(user_data) : sizeof(target);

	if (k == PS_DIR)
		return -EISDIR;
	if (k == PS_NULL || k == PS_ZERO || k == PS_RANDOM)
		return (long)len; /* accepted and dropped, as Linux's */
	if (!dst)
		return -EBADF;
	if (!len)
		return 0;
	if (off >= size)
		return -ENOSPC_LIBOS;
	if (len > size - off)
		len = size - off;
	memcpy(dst + off, buf, len);
	return (long)len;
}
