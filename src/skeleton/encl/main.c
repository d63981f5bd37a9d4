// SPDX-License-Identifier: Apache-2.0
/*
 * Skeleton enclave: interprets the workload's argv (after argv[0]):
 *   hello (or nothing)  greeting
 *   exit N              exit status N
 *   sleep N             waits N seconds through an OCALL (a kill ends it: 128+sig)
 *   report              prints its own MRENCLAVE/MRSIGNER, from EREPORT
 * Freestanding: no libc, no SYSCALL, no RDTSC; output and time are OCALLs.
 * No data may hold a pointer (that would need a relocation): the build
 * refuses such an image.
 */
#include <stddef.h>
#include <stdint.h>

#include "skeleton/skeleton_abi.h"

/* Everything is local to the image: RIP-relative, never through a GOT. */
#pragma GCC visibility push(hidden)

struct tctx;
extern char encl_tctx[], __encl_base[], __encl_end[];
long encl_ocall(struct tctx *t, long nr);
long encl_main(struct tctx *t, long op, struct skel_mailbox *mb);

/* The compiler may emit calls to these for struct copies. */
void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

static size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static long write_out(struct tctx *t, struct skel_mailbox *mb, int fd, const char *s, size_t n)
{
	while (n > 0) {
		size_t chunk = n > SKEL_BUF_MAX ? SKEL_BUF_MAX : n;
		long r;

		memcpy(mb->buf, s, chunk);
		mb->fd = fd;
		mb->len = chunk;
		r = encl_ocall(t, SKEL_OCALL_WRITE);
		if (r <= 0)
			return -1;
		s += r;
		n -= r;
	}
	return 0;
}

static void print(struct tctx *t, struct skel_mailbox *mb, int fd, const char *s)
{
	write_out(t, mb, fd, s, str_len(s));
}

/* Decimal, 0..2^31-1; -1 if not a number. */
static long parse_num(const char *s)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 0x7fffffffL / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0x7fffffffL ? -1 : v;
}

static void ereport(const void *targetinfo, const void *reportdata, void *report)
{
	asm volatile("enclu" ::"a"(0), "b"(targetinfo), "c"(reportdata), "d"(report) : "memory");
}

/* Per-TCS buffers with the alignment EREPORT demands. */
static uint8_t ti_bufs[SKEL_NTCS][512] __attribute__((aligned(512)));
static uint8_t rd_bufs[SKEL_NTCS][128] __attribute__((aligned(128)));
static uint8_t report_bufs[SKEL_NTCS][512] __attribute__((aligned(512)));
static char argv_bufs[SKEL_NTCS][SKEL_ARGV_MAX];

static unsigned tidx(struct tctx *t)
{
	return ((char *)t - encl_tctx) / 128;
}

/* The mailbox must be host memory: never let the host point us at ourselves. */
static int outside(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)__encl_base, e = (uintptr_t)__encl_end;

	return a + n >= a && (a + n <= b || a >= e);
}

static void hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
}

static long cmd_report(struct tctx *t, struct skel_mailbox *mb)
{
	uint8_t *ti_buf = ti_bufs[tidx(t)], *rd_buf = rd_bufs[tidx(t)];
	uint8_t *report_buf = report_bufs[tidx(t)];
	char line[12 + 64 + 1 + 11 + 64 + 2];
	char *p = line;

	/* Our own identity is in any report's body, whatever the target. */
	memset(ti_buf, 0, 512);
	memset(rd_buf, 0, 64);
	ereport(ti_buf, rd_buf, report_buf);
	memcpy(p, "mrenclave: ", 11);
	p += 11;
	hex(p, report_buf + 64, 32);
	p += 64;
	*p++ = '\n';
	memcpy(p, "mrsigner: ", 10);
	p += 10;
	hex(p, report_buf + 128, 32);
	p += 64;
	*p++ = '\n';
	write_out(t, mb, 1, line, p - line);
	return 0;
}

static long run_main(struct tctx *t, struct skel_mailbox *mb)
{
	const char *args[3] = { 0 };
	uint32_t argc = mb->argc, len = mb->argv_len;
	char *buf;
	long n;

	/* Copy in, then validate the copy (the host may change its own). */
	if (len > SKEL_ARGV_MAX || len == 0)
		len = 0;
	buf = argv_bufs[tidx(t)];
	memcpy(buf, mb->argv, len);
	if (len)
		buf[len - 1] = 0;
	for (uint32_t i = 0, off = 0; i < argc && i < 3 && off < len; i++) {
		args[i] = buf + off;
		off += str_len(buf + off) + 1;
	}
	if (argc == 0 || str_eq(args[0], "hello")) {
		print(t, mb, 1, "Hello from the skeleton enclave!\n");
		return 0;
	}
	if (str_eq(args[0], "exit") && argc == 2 && (n = parse_num(args[1])) >= 0)
		return n & 0xff;
	if (str_eq(args[0], "sleep") && argc == 2 && (n = parse_num(args[1])) >= 0) {
		long sig;

		mb->arg = n;
		sig = encl_ocall(t, SKEL_OCALL_SLEEP);
		return sig > 0 ? 128 + sig : 0;
	}
	if (str_eq(args[0], "report") && argc == 1)
		return cmd_report(t, mb);
	print(t, mb, 2, "skeleton enclave: usage: [hello | exit N | sleep N | report]\n");
	return 2;
}

static long run_report(struct tctx *t, struct skel_mailbox *mb)
{
	uint8_t *ti_buf = ti_bufs[tidx(t)], *rd_buf = rd_bufs[tidx(t)];
	uint8_t *report_buf = report_bufs[tidx(t)];

	memcpy(ti_buf, mb->targetinfo, 512);
	memcpy(rd_buf, mb->reportdata, 64);
	ereport(ti_buf, rd_buf, report_buf);
	memcpy(mb->report, report_buf, 432);
	return 0;
}

long encl_main(struct tctx *t, long op, struct skel_mailbox *mb)
{
	if (!outside(mb, sizeof(*mb)))
		return -22; /* -EINVAL */
	switch (op) {
	case SKEL_ECALL_MAIN:
		return run_main(t, mb);
	case SKEL_ECALL_REPORT:
		return run_report(t, mb);
	default:
		return -22; /* -EINVAL */
	}
}
