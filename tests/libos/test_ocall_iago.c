// SPDX-License-Identifier: Apache-2.0
/*
 * Iago test: the LibOS's OCALL return paths against a hostile host. The
 * enclave's file, clock and stdio code (src/libos/encl, built for the host
 * here) runs over a fake heap while a mock libos_ocall_raw() answers from a
 * seeded PRNG: wild results, lengths above what was asked, negative or
 * huge handles, sizes and times, flipped content bytes, or the honest
 * answer. Whatever the host says: an open of a trusted file either fails or
 * yields exactly the manifest's content, clock_gettime never yields
 * nsec >= 1e9 nor a MONOTONIC time going back, read() from stdin never
 * claims more than asked nor writes outside the buffer, and nothing
 * crashes. TAP output.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../src/libos/encl/libos.h"

struct manifest libos_manifest;
uint64_t libos_base, libos_heap_start, libos_heap_end;

/* What entry.S, the linker script and main.c give the enclave: one thread here. */
struct libos_thread libos_thread0;
char __encl_base[1], __manifest[1], libos_ssa[LIBOS_NSSA * SSA_FRAME];
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
	case LIBOS_OCALL_OPEN:
		mb->out[0] = lie() ? wild() : (int64_t)(sizeof(content) - 1);
		return lie() ? wild() : 5;
	case LIBOS_OCALL_PREAD: {
		uint64_t n;

		if (off < 0 || (uint64_t)off >= sizeof(content) - 1)
			return lie() ? wild() : 0;
		n = sizeof(content) - 1 - (uint64_t)off;
		if (n > len)
			n = len;
		if (rnd() % 2) /* honest hosts may return short reads */
			n = n > 1 ? n / 2 : n;
		memcpy(mb->buf, content + off, n);
		if (lie())
			mb->buf[rnd() % (n ? n : 1)] ^= (uint8_t)(1 + rnd() % 255);
		return lie() ? wild() : (long)n;
	}
	case LIBOS_OCALL_CLOSE:
		return lie() ? wild() : 0;
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

static char manifest_text[1024];

int main(void)
{
	static const char hexd[] = "0123456789abcdef";
	uint8_t hash[32];
	struct sha256 c;
	char hex[65];
	uint8_t *heap;
	int bad_open = 0, opened = 0, bad_time = 0, bad_read = 0, refused = 0;
	int64_t last_sec = 0, last_nsec = 0;

	heap = aligned_alloc(PAGE_SIZE, 16 << 20);
	if (!heap)
		return 1;
	sha256_init(&c);
	sha256_update(&c, content, sizeof(content) - 1);
	sha256_final(&c, hash);
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = hexd[hash[i] >> 4];
		hex[2 * i + 1] = hexd[hash[i] & 15];
	}
	hex[64] = 0;
	snprintf(manifest_text, sizeof(manifest_text),
		 LIBOS_MANIFEST_MAGIC "trusted %s %zu /data/f\n", hex, sizeof(content) - 1);
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
	report(bad_time == 0, "clock_gettime: nsec < 1e9, MONOTONIC never goes back");
	report(bad_read == 0, "read(stdin): never more than asked, nothing past the buffer");
	report(1, "no crash on 20000 rounds of hostile answers");
	free(heap);
	return failures ? 1 : 0;
}
