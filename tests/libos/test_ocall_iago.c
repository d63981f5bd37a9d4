// SPDX-License-Identifier: Apache-2.0
/*
 * Iago test: the LibOS's OCALL return paths against a hostile host. The
 * enclave's file, clock and stdio code (src/libos/encl, built for the host
 * here) runs over a fake heap while a mock libos_ocall_raw() answers from a
 * seeded PRNG: wild results, lengths above what was asked, negative or
 * huge handles, sizes and times, flipped content bytes, or the honest
 * answer. Whatever the host says: an open of a trusted file either fails or
 * yields exactly the manifest's content; a file of several chunks, read
 * with random sizes and offsets and mmap'ed, gives the manifest's bytes or
 * an error, never another byte; an allowed (pass-through) file's reads,
 * stats and directory listings stay within their buffers and hold sane
 * values whatever the host answers; clock_gettime never yields
 * nsec >= 1e9 nor a MONOTONIC time going back, read() from stdin never
 * claims more than asked nor writes outside the buffer, and nothing
 * crashes. Sockets (net.c): whatever the host answers, the addresses of
 * getsockname, accept and recvfrom stay within the caller's room and their
 * lengths within sockaddr_storage, descriptors are the enclave's own,
 * recvfrom and recvmmsg never claim more than asked, and a unix socket's
 * path reaches the host only below an allowed path, normalised. Also
 * (built here for want of an enclave that could set it):
 * /dev/attestation/attestation_type reads the manifest's line. TAP output.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../src/libos/encl/libos.h"

struct manifest libos_manifest;
uint64_t libos_base, libos_heap_start, libos_heap_end;

/* What entry.S, the linker script and main.c give the enclave: one thread here. */
struct libos_thread libos_thread0;
char __encl_base[1], __manifest[1], libos_ssa[LIBOS_NSSA * SSA_FRAME];
char __forked_start[1], __forked_end[1]; /* fork is not exercised here */
void libos_thread_trap(void);
void libos_thread_trap(void)
{
}

struct libos_thread *libos_self(void)
{
	return &libos_thread0;
}

int mailbox_ok(uint64_t mb)
{
	return mb != 0;
}

static struct libos_mailbox mailbox;
static const char content[] = "the trusted content of /data/f, some bytes long\n";
/* /data/big: three chunks, the last one short */
#define BIG_SIZE (2 * LIBOS_CHUNK_SIZE + 7232)
static uint8_t big[BIG_SIZE];
static uint64_t rng;
static int evil; /* 0: honest host; else the chance (in 16) of a lie per answer */
static int64_t now_sec = 1000, now_nsec;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int lie(void)
{
	return evil && (int)(rnd() % 16) < evil;
}

static int64_t wild(void)
{
	static const int64_t v[] = { -1,    -4095,     -4096,	     0,		 1, 7, 4096, 65536,
				     65537, 1LL << 31, -(1LL << 62), (1LL << 62) };

	return rnd() % 2 ? v[rnd() % (sizeof(v) / sizeof(v[0]))] : (int64_t)rnd();
}

int64_t libos_mb_pid(void)
{
	return 1;
}

long ocall(long nr, int64_t a0, int64_t a1, uint64_t len)
{
	libos_mb->arg[0] = a0;
	libos_mb->arg[1] = a1;
	libos_mb->len = len;
	return libos_ocall_raw(nr);
}

long ocall_blocking(long nr, int64_t a0, int64_t a1, uint64_t len)
{
	return ocall(nr, a0, a1, len);
}

/* What the host saw of the last bind or connect (the address), and how many there were. */
static uint8_t net_addr[128];
static uint64_t net_addr_len;
static int net_binds;

/* The NET OCALL: honest answers (a unix socket "/out/s"), or lies. */
static long net_answer(struct libos_mailbox *mb)
{
	static const uint8_t name[] = { 1, 0, '/', 'o', 'u', 't', '/', 's', 0 };
	struct libos_netcall h;
	uint8_t *data = mb->buf + sizeof(h);
	uint64_t n;

	memcpy(&h, mb->buf, sizeof(h));
	switch (mb->arg[0]) {
	case 41: /* socket */
		return lie() ? wild() : 7;
	case 53: { /* socketpair */
		int32_t sv[2] = { 8, 9 };

		if (lie())
			sv[rnd() % 2] = (int32_t)wild();
		memcpy(data, sv, sizeof(sv));
		mb->out[0] = lie() ? wild() : 8;
		return lie() ? wild() : 0;
	}
	case 42: /* connect */
	case 49: /* bind */
		net_binds++;
		net_addr_len = h.in_len < sizeof(net_addr) ? h.in_len : sizeof(net_addr);
		memcpy(net_addr, data, net_addr_len);
		return lie() ? wild() : 0;
	case 51:  /* getsockname */
	case 52:  /* getpeername */
	case 288: /* accept4 */
		n = sizeof(name) < h.out_max ? sizeof(name) : h.out_max;
		memcpy(data, name, n);
		if (lie())
			for (uint64_t i = 0; i < h.out_max && i < 256; i++)
				data[i] = (uint8_t)rnd();
		mb->out[0] = lie() ? wild() : (int64_t)n;
		return lie() ? wild() : mb->arg[0] == 288 ? 10 : (long)sizeof(name);
	case 45: /* recvfrom: "abc", then the sender */
		n = h.out_max < 3 ? h.out_max : 3;
		memcpy(data, "abc", n);
		if (h.a[4] && n + sizeof(name) <= h.out_max) {
			memcpy(data + n, name, sizeof(name));
			mb->out[0] = (int64_t)(n + sizeof(name));
		} else {
			mb->out[0] = (int64_t)n;
		}
		if (lie())
			mb->out[0] = wild();
		return lie() ? wild() : (long)n;
	}
	return lie() ? wild() : 0;
}

long libos_ocall_raw(long nr)
{
	struct libos_mailbox *mb = &mailbox;
	uint64_t len = mb->len;
	int64_t off = mb->arg[1];

	for (int i = 0; i < 4; i++)
		mb->out[i] = lie() ? wild() : 0;
	switch (nr) {
	case LIBOS_OCALL_WRITE:
		return lie() ? wild() : (long)len;
	case LIBOS_OCALL_READ:
		if (lie()) {
			for (size_t i = 0; i < sizeof(mb->buf); i++)
				mb->buf[i] = (uint8_t)rnd();
			return wild();
		}
		mb->buf[0] = 'x';
		return len ? 1 : 0;
	case LIBOS_OCALL_CLOCK:
		now_nsec += 1000;
		mb->out[0] = lie() ? wild() : now_sec;
		mb->out[1] = lie() ? wild() : now_nsec;
		return lie() ? wild() : 0;
	case LIBOS_OCALL_OPEN: {
		int is_big = str_eq((const char *)mb->buf, "/data/big");

		mb->out[0] = lie() ? wild() : is_big ? BIG_SIZE : (int64_t)(sizeof(content) - 1);
		return lie() ? wild() : is_big ? 6 : 5;
	}
	case LIBOS_OCALL_PREAD: {
		const uint8_t *data = mb->arg[0] == 6 ? big : (const uint8_t *)content;
		uint64_t n, size = mb->arg[0] == 6 ? BIG_SIZE : sizeof(content) - 1;

		if (off < 0 || (uint64_t)off >= size)
			return lie() ? wild() : 0;
		n = size - (uint64_t)off;
		if (n > len)
			n = len;
		if (rnd() % 2) /* honest hosts may return short reads */
			n = n > 1 ? n / 2 : n;
		memcpy(mb->buf, data + off, n);
		if (lie())
			mb->buf[rnd() % (n ? n : 1)] ^= (uint8_t)(1 + rnd() % 255);
		return lie() ? wild() : (long)n;
	}
	case LIBOS_OCALL_CLOSE:
		return lie() ? wild() : 0;
	case LIBOS_OCALL_AOPEN:
	case LIBOS_OCALL_ASTAT:
	case LIBOS_OCALL_AFSTAT:
		mb->out[0] = lie() ? wild() : 100;
		mb->out[1] = lie() ? wild() : (rnd() % 2 ? 0100644 : 040755);
		return lie() ? wild() : nr == LIBOS_OCALL_AOPEN ? 3 : 0;
	case LIBOS_OCALL_APREAD:
		for (size_t i = 0; i < len && i < sizeof(mb->buf); i++)
			mb->buf[i] = (uint8_t)rnd();
		return lie() ? wild() : (long)(len < 100 ? len : 100);
	case LIBOS_OCALL_AGETDENTS: {
		/* records {type, name, NUL}: honest ones, or random bytes */
		uint64_t n = 0;

		while (n + 8 <= len && n + 8 <= sizeof(mb->buf) && rnd() % 4) {
			mb->buf[n] = 8;
			memcpy(mb->buf + n + 1, "name5\0", 6);
			n += 7;
		}
		if (lie())
			for (uint64_t i = 0; i < n; i++)
				mb->buf[i] = (uint8_t)rnd();
		return lie() ? wild() : (long)n;
	}
	case LIBOS_OCALL_ACLOSE:
		return lie() ? wild() : 0;
	case LIBOS_OCALL_NET:
		return net_answer(mb);
	}
	return -ENOSYS;
}

static int failures;

static void report(int ok, const char *name)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", name);
	if (!ok)
		failures++;
}

static char manifest_text[4096];

static void hex32(const void *data, size_t len, char hex[65])
{
	static const char hexd[] = "0123456789abcdef";
	uint8_t hash[32];
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, hash);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = hexd[hash[i] >> 4];
		hex[2 * i + 1] = hexd[hash[i] & 15];
	}
	hex[64] = 0;
}

/*
 * Reads /data/big with random sizes, some at random offsets (pread), and
 * mmaps a random page range of it: every byte given is the file's (zeroes
 * past its end in a mapping). 1: all read, 0: refused, -1: a wrong byte.
 */
/*
 * An allowed file and directory against the host's answers: reads never
 * claim more than asked nor write past the buffer, fstat gives a file or
 * a directory, getdents64 stays in its buffer with well-formed entries.
 * 0 when all held.
 */
static int allowed_round(char *path, uint8_t *buf)
{
	uint8_t st[144];
	int handled, bad = 0;
	long fd, n;

	memcpy(path, "/out/f", 7);
	fd = fs_syscall(257, (uint64_t)-100, (uint64_t)path, 2, 0, &handled);
	if (fd >= 0) {
		memset(buf + 64, 0x5a, 64);
		n = fs_syscall(0, (uint64_t)fd, (uint64_t)buf, 64, 0, &handled);
		bad |= n > 64 || n < -4095 || buf[64] != 0x5a;
		if (fs_syscall(5, (uint64_t)fd, (uint64_t)st, 0, 0, &handled) == 0) {
			uint32_t mode;

			memcpy(&mode, st + 24, 4);
			bad |= (mode & 0170000) != 0100000 && (mode & 0170000) != 040000;
		}
		n = fs_syscall(217, (uint64_t)fd, (uint64_t)buf, 256, 0, &handled);
		bad |= n > 256 || n < -4095 || buf[256] != 0x5a;
		for (long off = 0; n > 0 && off < n;) {
			uint16_t reclen;

			memcpy(&reclen, buf + off + 16, 2);
			if (reclen < 24 || off + reclen > n) {
				bad = 1;
				break;
			}
			for (long k = off + 19; k < off + reclen && buf[k]; k++)
				bad |= buf[k] == '/';
			off += reclen;
		}
		fs_syscall(3, (uint64_t)fd, 0, 0, 0, &handled);
	}
	return bad;
}

/* A sockaddr_un for path at a (user memory): its length. */
static uint64_t sun(uint8_t *a, const char *path)
{
	size_t n = str_len(path);

	a[0] = 1;
	a[1] = 0;
	memcpy(a + 2, path, n + 1);
	return 2 + n + 1;
}

static int guard_ok(const uint8_t *p)
{
	for (int i = 0; i < 16; i++)
		if (p[i] != 0x5a)
			return 0;
	return 1;
}

/* A length the LibOS wrote back for the workload: within sockaddr_storage. */
static int len_ok(long r, const uint32_t *len)
{
	return r < 0 || *len <= 128;
}

/*
 * Sockets against the host's answers (u: two pages of user memory): 0 when
 * every check held.
 */
static int net_round(uint8_t *u)
{
	uint8_t *addr = u, *lenp = u + 256, *buf = u + 512, *vec = u + 1024, *iov = u + 2048;
	uint32_t len;
	long fd, r, c;
	int bad = 0, handled, sv[2];

	fd = net_syscall(41, 1, 1, 0, 0, 0, 0);
	if (fd < 0)
		return 0;
	bad |= fd >= 64;
	/* a path outside allowed paths never reaches the host; one inside does, normalised */
	net_binds = 0;
	r = net_syscall(49, (uint64_t)fd, (uint64_t)addr, sun(addr, "/data/x.sock"), 0, 0, 0);
	bad |= r != -EACCES || net_binds;
	r = net_syscall(42, (uint64_t)fd, (uint64_t)addr, sun(addr, "/tmp/x.sock"), 0, 0, 0);
	bad |= r != -EACCES || net_binds;
	net_syscall(49, (uint64_t)fd, (uint64_t)addr, sun(addr, "out/../out//s"), 0, 0, 0);
	bad |= net_binds != 1 || net_addr_len != 9 || memcmp(net_addr + 2, "/out/s", 7);
	/* getsockname, room 4: the guard after it stays, the length is bounded */
	len = 4;
	memcpy(lenp, &len, 4);
	memset(addr + 4, 0x5a, 16);
	r = net_syscall(51, (uint64_t)fd, (uint64_t)addr, (uint64_t)lenp, 0, 0, 0);
	memcpy(&len, lenp, 4);
	bad |= !guard_ok(addr + 4) || !len_ok(r, &len);
	/* accept, room 5 */
	len = 5;
	memcpy(lenp, &len, 4);
	memset(addr + 5, 0x5a, 16);
	c = net_syscall(43, (uint64_t)fd, (uint64_t)addr, (uint64_t)lenp, 0, 0, 0);
	memcpy(&len, lenp, 4);
	bad |= !guard_ok(addr + 5) || !len_ok(c, &len) || c >= 64;
	if (c >= 0)
		fs_syscall(3, (uint64_t)c, 0, 0, 0, &handled);
	/* recvfrom: 2 bytes, room 3 for the sender */
	len = 3;
	memcpy(lenp, &len, 4);
	memset(buf + 2, 0x5a, 16);
	memset(addr + 3, 0x5a, 16);
	r = net_syscall(45, (uint64_t)fd, (uint64_t)buf, 2, 0, (uint64_t)addr, (uint64_t)lenp);
	memcpy(&len, lenp, 4);
	bad |= r > 2 || r < -4095 || !guard_ok(buf + 2) || !guard_ok(addr + 3) || !len_ok(r, &len);
	/* recvmmsg of three one-byte buffers: at most three, each at most a byte */
	memset(vec, 0, 3 * 64);
	for (int i = 0; i < 3; i++) {
		uint64_t base = (uint64_t)(buf + 32 + 32 * i), one = 1,
			 io = (uint64_t)(iov + 16 * i);

		memset(buf + 32 + 32 * i, 0x5a, 32);
		memcpy(iov + 16 * i, &base, 8);
		memcpy(iov + 16 * i + 8, &one, 8);
		memcpy(vec + 64 * i + 16, &io, 8);  /* msg_iov */
		memcpy(vec + 64 * i + 24, &one, 8); /* msg_iovlen */
	}
	r = net_syscall(299, (uint64_t)fd, (uint64_t)vec, 3, 0x40, 0, 0);
	bad |= r > 3 || r < -4095;
	for (int i = 0; i < 3; i++) {
		uint32_t ml;

		memcpy(&ml, vec + 64 * i + 56, 4);
		bad |= (i < r && ml > 1) || !guard_ok(buf + 32 + 32 * i + 1);
	}
	/* socketpair: two descriptors of ours, or an error */
	sv[0] = sv[1] = -1;
	r = net_syscall(53, 1, 1, 0, (uint64_t)lenp, 0, 0);
	if (r == 0) {
		memcpy(sv, lenp, sizeof(sv));
		bad |= sv[0] < 0 || sv[0] >= 64 || sv[1] < 0 || sv[1] >= 64 || sv[0] == sv[1];
		fs_syscall(3, (uint64_t)sv[0], 0, 0, 0, &handled);
		fs_syscall(3, (uint64_t)sv[1], 0, 0, 0, &handled);
	}
	fs_syscall(3, (uint64_t)fd, 0, 0, 0, &handled);
	return bad;
}

static int chunked_round(char *path, uint8_t *buf)
{
	int handled, refused = 0;
	long fd, n, total = 0;

	memcpy(path, "/data/big", 10);
	fd = fs_syscall(257, (uint64_t)-100, (uint64_t)path, 0, 0, &handled);
	if (fd < 0)
		return 0;
	while (total < BIG_SIZE) {
		uint64_t len = 1 + rnd() % 20000;

		if (rnd() % 4 == 0) {
			uint64_t off = rnd() % BIG_SIZE;

			n = fs_syscall(17, (uint64_t)fd, (uint64_t)buf, len, off, &handled);
			if (n > 0 && ((uint64_t)n > len || off + (uint64_t)n > BIG_SIZE ||
				      memcmp(buf, big + off, (size_t)n)))
				return -1;
			if (n < 0)
				refused = 1;
			continue;
		}
		n = fs_syscall(0, (uint64_t)fd, (uint64_t)buf, len, 0, &handled);
		if (n <= 0) {
			refused = 1;
			break;
		}
		if ((uint64_t)n > len || total + n > BIG_SIZE ||
		    memcmp(buf, big + total, (size_t)n))
			return -1;
		total += n;
	}
	{
		uint64_t first = rnd() % (BIG_SIZE / PAGE_SIZE + 1), pages = 1 + rnd() % 4;
		uint64_t off = first * PAGE_SIZE, len = pages * PAGE_SIZE;
		long p = sys_mmap(0, len, 1, 2, fd, off);

		if (p < 0 && p >= -4095) {
			refused = 1;
		} else {
			uint64_t have = off < BIG_SIZE ? BIG_SIZE - off : 0;

			have = have < len ? have : len;
			if (memcmp((void *)p, big + off, have))
				return -1;
			for (uint64_t i = have; i < len; i++)
				if (((uint8_t *)p)[i])
					return -1;
			sys_munmap((uint64_t)p, len);
		}
	}
	fs_syscall(3, (uint64_t)fd, 0, 0, 0, &handled);
	return refused ? 0 : 1;
}

int main(void)
{
	char hex[65], chex[3][65];
	uint8_t *heap;
	int bad_open = 0, opened = 0, bad_time = 0, bad_read = 0, refused = 0;
	int big_ok = 0, big_refused = 0, big_bad = 0, allowed_bad = 0, net_bad = 0;
	int64_t last_sec = 0, last_nsec = 0;

	heap = aligned_alloc(PAGE_SIZE, 16 << 20);
	if (!heap)
		return 1;
	rng = 12345;
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = (uint8_t)rnd();
	hex32(content, sizeof(content) - 1, hex);
	for (int i = 0; i < 3; i++)
		hex32(big + i * LIBOS_CHUNK_SIZE,
		      i < 2 ? LIBOS_CHUNK_SIZE : BIG_SIZE - 2 * LIBOS_CHUNK_SIZE, chex[i]);
	/* the trusted line's own hash of a chunked file is not what is checked */
	snprintf(manifest_text, sizeof(manifest_text),
		 LIBOS_MANIFEST_MAGIC "trusted %s %d /data/big\nchunk 0 %s\nchunk 1 %s\n"
				      "chunk 2 %s\ntrusted %s %zu /data/f\nallowed /out\n",
		 hex, BIG_SIZE, chex[0], chex[1], chex[2], hex, sizeof(content) - 1);
	libos_manifest.text = manifest_text;
	libos_manifest.heap_size = 16 << 20;
	libos_manifest.stack_size = 1 << 20;
	str_lcpy(libos_manifest.entrypoint, "/bin/test", sizeof(libos_manifest.entrypoint));
	libos_heap_start = (uint64_t)heap;
	libos_heap_end = libos_heap_start + libos_manifest.heap_size;
	libos_thread0.mb = &mailbox;
	if (mm_init() < 0)
		return 1;

	char *path = mm_alloc(PAGE_SIZE, 1), *buf = mm_alloc(2 * PAGE_SIZE, 1);
	uint8_t *bigbuf = mm_alloc(PAGE_UP(20000), 1);
	int64_t *ts = mm_alloc(PAGE_SIZE, 1);

	memcpy(path, "/data/f", 8);
	rng = 0x9e3779b97f4a7c15ULL;
	for (int iter = 0; iter < 20000; iter++) {
		struct ssa_gpr g = { 0 };
		int exited = 0, status = 0, handled, replaced = 0;
		long fd, n, total = 0;

		evil = iter < 100 ? 0 : 1 + (int)(rnd() % 8);
		fd = fs_syscall(257, (uint64_t)-100, (uint64_t)path, 0, 0, &handled);
		if (fd >= 0) {
			opened++;
			while ((n = fs_syscall(0, (uint64_t)fd, (uint64_t)buf + total, 7, 0,
					       &handled)) > 0)
				total += n;
			if (total != (long)sizeof(content) - 1 || memcmp(buf, content, total))
				bad_open++;
			fs_syscall(3, (uint64_t)fd, 0, 0, 0, &handled);
		} else {
			refused++;
			if (!evil)
				bad_open++; /* an honest host must work */
		}
		if (iter % 4 == 0) {
			int r = chunked_round(path, bigbuf);

			big_ok += r == 1;
			big_refused += r == 0;
			big_bad += r < 0 || (r == 0 && !evil);
			memcpy(path, "/data/f", 8);
		}
		if (iter % 4 == 1) {
			memset(bigbuf + 256, 0x5a, 64);
			allowed_bad += allowed_round(path, bigbuf);
			memcpy(path, "/data/f", 8);
		}
		if (iter % 4 == 2)
			net_bad += net_round((uint8_t *)bigbuf);
		/* clock_gettime(CLOCK_MONOTONIC) through the dispatcher */
		g.rax = 228;
		g.rdi = 1;
		g.rsi = (uint64_t)ts;
		if ((long)libos_syscall(&g, &exited, &status, &replaced) == 0) {
			if (ts[1] < 0 || ts[1] >= 1000000000 || ts[0] < 0 || ts[0] < last_sec ||
			    (ts[0] == last_sec && ts[1] < last_nsec))
				bad_time++;
			last_sec = ts[0];
			last_nsec = ts[1];
		}
		/* read(0, buf + 4096 - 16, 16): the guard bytes after it stay */
		memset(buf + PAGE_SIZE, 0x5a, 64);
		n = fs_syscall(0, 0, (uint64_t)buf + PAGE_SIZE - 16, 16, 0, &handled);
		if (n > 16 || n < -4095 || buf[PAGE_SIZE] != 0x5a)
			bad_read++;
	}
	printf("# %d opens succeeded, %d refused\n", opened, refused);
	report(opened > 100 && refused > 100, "both honest and hostile answers were exercised");
	report(bad_open == 0, "an open of a trusted file yields the manifest's content or fails");
	printf("# chunked file: %d rounds read whole, %d refused\n", big_ok, big_refused);
	report(big_ok > 20 && big_refused > 20 && big_bad == 0,
	       "chunked reads, preads and mmaps give the manifest's bytes or fail");
	report(allowed_bad == 0, "allowed files: reads, fstat, getdents64 bounded and well-formed");
	report(net_bad == 0, "sockets: addresses, lengths, descriptors and counts from the host "
			     "bounded; unix paths reach the host only below allowed paths");
	report(bad_time == 0, "clock_gettime: nsec < 1e9, MONOTONIC never goes back");
	report(bad_read == 0, "read(stdin): never more than asked, nothing past the buffer");
	report(1, "no crash on 20000 rounds of hostile answers");

	/* Pseudo-files: attestation_type reads the measured manifest's line (none without). */
	{
		static const char *const want[2] = { "none", "emulated" };
		int handled;

		evil = 0;
		memcpy(path, "/dev/attestation/attestation_type", 34);
		for (int k = 0; k < 2; k++) {
			long fd, n = -1;

			if (k)
				str_lcpy(manifest_text + str_len(manifest_text),
					 "attestation_type emulated\n",
					 sizeof(manifest_text) - str_len(manifest_text));
			fd = fs_syscall(257, (uint64_t)-100, (uint64_t)path, 0, 0, &handled);
			if (fd >= 0)
				n = fs_syscall(0, (uint64_t)fd, (uint64_t)buf, 64, 0, &handled);
			fs_syscall(3, (uint64_t)fd, 0, 0, 0, &handled);
			printf("# attestation_type: %ld bytes\n", n);
			report(
			    n == (long)str_len(want[k]) && !memcmp(buf, want[k], (size_t)n),
			    k ? "/dev/attestation/attestation_type: the manifest's "
				"attestation_type line"
			      : "/dev/attestation/attestation_type: none without a manifest line");
		}
	}
	free(heap);
	return failures ? 1 : 0;
}
