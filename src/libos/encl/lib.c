// SPDX-License-Identifier: Apache-2.0
/*
 * The LibOS's freestanding helpers: memory and string functions (the
 * compiler may call memcpy/memset for struct copies), a small formatter
 * for its stderr lines, RDRAND. (SHA-256 is src/common/sha256.c.)
 */
#include "libos.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n)::"memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t str_len(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int str_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

int str_ncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

void str_lcpy(char *dst, const char *src, size_t n)
{
	size_t i = 0;

	if (!n)
		return;
	for (; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static void put(char *buf, size_t size, size_t *k, char c)
{
	if (*k + 1 < size)
		buf[*k] = c;
	(*k)++;
}

static void put_num(char *buf, size_t size, size_t *k, uint64_t v, unsigned base, int neg)
{
	char tmp[24];
	int n = 0;

	if (neg)
		put(buf, size, k, '-');
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		put(buf, size, k, tmp[--n]);
}

/* %s %d %u %x with an optional l; %%. Always NUL-terminates. */
size_t fmt(char *buf, size_t size, const char *f, va_list ap)
{
	size_t k = 0;

	for (; *f; f++) {
		int l = 0;

		if (*f != '%') {
			put(buf, size, &k, *f);
			continue;
		}
		f++;
		while (*f == 'l') {
			l = 1;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			while (*s)
				put(buf, size, &k, *s++);
			break;
		}
		case 'd': {
			int64_t v = l ? va_arg(ap, int64_t) : va_arg(ap, int);

			put_num(buf, size, &k, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, v < 0);
			break;
		}
		case 'u':
			put_num(buf, size, &k, l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10,
				0);
			break;
		case 'x':
			put_num(buf, size, &k, l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16,
				0);
			break;
		case '%':
			put(buf, size, &k, '%');
			break;
		default:
			return k;
		}
	}
	if (size)
		buf[k < size ? k : size - 1] = 0;
	return k;
}

/* One line on the host's stderr, "libos: ..." (best effort). */
void log_err(const char *f, ...)
{
	char line[512];
	va_list ap;
	size_t n;

	memcpy(line, "libos: ", 7);
	va_start(ap, f);
	n = 7 + fmt(line + 7, sizeof(line) - 8, f, ap);
	va_end(ap);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	memcpy((void *)libos_mb->buf, line, n);
	ocall(LIBOS_OCALL_WRITE, 2, 0, n);
}

int rdrand64(uint64_t *v)
{
	for (int i = 0; i < 16; i++) {
		unsigned char ok;

		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok)::"cc");
		if (ok)
			return 0;
	}
	return -EIO;
}

/*
 * What Debian's BearSSL objects (built with the stack protector and
 * fortified memcpy and memset) call. The canary is read at %fs:0x28: the TCS's FS
 * base is libos_tls (entry.S), whose canary word stays zero.
 */
void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	__builtin_trap();
}

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len);
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_len)
{
	if (n > dst_len)
		__builtin_trap();
	return memcpy(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dst_len);
void *__memset_chk(void *dst, int c, size_t n, size_t dst_len)
{
	if (n > dst_len)
		__builtin_trap();
	return memset(dst, c, n);
}
