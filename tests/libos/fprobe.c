// SPDX-License-Identifier: Apache-2.0
/*
 * A file workload for tests/libos/test-libos-files.sh, built static and run
 * both natively (in a chroot) and in the enclave; outputs must match.
 *   fprobe [sum PATH BUFSIZE | pread PATH OFF LEN | mmap PATH OFF LEN |
 *           write PATH TEXT | append PATH TEXT | cat PATH | ls DIR |
 *           stat PATH | unlink PATH | mkdir PATH | rmdir PATH]...
 * Contents are summarised as a size and an FNV-1a hash; errors print
 * "NAME PATH: strerror" (with the bytes read before, for sum).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

#define FNV0 0xcbf29ce484222325ULL

static void sum(const char *path, size_t bs)
{
	unsigned char *buf = malloc(bs);
	uint64_t h = FNV0, total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || !buf) {
		printf("sum %s: %s\n", path, strerror(errno));
		free(buf);
		return;
	}
	while ((n = read(fd, buf, bs)) > 0) {
		h = fnv(h, buf, n);
		total += n;
	}
	if (n < 0)
		printf("sum %s: %s after %llu bytes\n", path, strerror(errno),
		       (unsigned long long)total);
	else
		printf("sum %s: %llu bytes, %016llx\n", path, (unsigned long long)total,
		       (unsigned long long)h);
	close(fd);
	free(buf);
}

static void do_pread(const char *path, long off, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0 || !buf) {
		printf("pread %s: %s\n", path, strerror(errno));
		free(buf);
		return;
	}
	n = pread(fd, buf, len, off);
	if (n < 0)
		printf("pread %s: %s\n", path, strerror(errno));
	else
		printf("pread %s %ld: %zd bytes, %016llx\n", path, off, n,
		       (unsigned long long)fnv(FNV0, buf, n));
	close(fd);
	free(buf);
}

static void do_mmap(const char *path, long off, size_t len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st) < 0) {
		printf("mmap %s: %s\n", path, strerror(errno));
		return;
	}
	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, off);
	if (p == MAP_FAILED) {
		printf("mmap %s: %s\n", path, strerror(errno));
	} else {
		/* only the file's bytes: past its end a native mapping faults */
		size_t n = off >= st.st_size ? 0 : (size_t)(st.st_size - off);

		n = n < len ? n : len;
		printf("mmap %s %ld: %zu bytes, %016llx\n", path, off, n,
		       (unsigned long long)fnv(FNV0, p, n));
		munmap(p, len);
	}
	close(fd);
}

static void put(const char *path, const char *text, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    write(fd, "\n", 1) != 1)
		printf("write %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void cat(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		printf("cat %s: %s\n", path, strerror(errno));
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	if (n < 0)
		printf("cat %s: %s\n", path, strerror(errno));
	close(fd);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ls(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char *names[256];
	int n = 0;

	if (!d) {
		printf("ls %s: %s\n", path, strerror(errno));
		return;
	}
	while ((de = readdir(d)) && n < 256)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	printf("ls %s:", path);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *c = argv[i], *a = i + 1 < argc ? argv[i + 1] : "";
		struct stat st;

		if (!strcmp(c, "sum") && i + 2 < argc) {
			sum(a, strtoul(argv[i + 2], NULL, 0));
			i += 2;
		} else if ((!strcmp(c, "pread") || !strcmp(c, "mmap")) && i + 3 < argc) {
			(c[0] == 'p' ? do_pread : do_mmap)(a, strtol(argv[i + 2], NULL, 0),
							   strtoul(argv[i + 3], NULL, 0));
			i += 3;
		} else if ((!strcmp(c, "write") || !strcmp(c, "append")) && i + 2 < argc) {
			put(a, argv[i + 2], c[0] == 'w' ? O_TRUNC : O_APPEND);
			i += 2;
		} else if (!strcmp(c, "cat") && i + 1 < argc) {
			cat(a);
			i++;
		} else if (!strcmp(c, "ls") && i + 1 < argc) {
			ls(a);
			i++;
		} else if (!strcmp(c, "stat") && i + 1 < argc) {
			if (stat(a, &st) < 0)
				printf("stat %s: %s\n", a, strerror(errno));
			else
				printf("stat %s: %s %lld\n", a,
				       S_ISDIR(st.st_mode) ? "dir" : "file",
				       S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
			i++;
		} else if (!strcmp(c, "unlink") && i + 1 < argc) {
			if (unlink(a) < 0)
				printf("unlink %s: %s\n", a, strerror(errno));
			i++;
		} else if (!strcmp(c, "mkdir") && i + 1 < argc) {
			if (mkdir(a, 0755) < 0)
				printf("mkdir %s: %s\n", a, strerror(errno));
			i++;
		} else if (!strcmp(c, "rmdir") && i + 1 < argc) {
			if (rmdir(a) < 0)
				printf("rmdir %s: %s\n", a, strerror(errno));
			i++;
		} else {
			fprintf(stderr, "fprobe: bad command %s\n", c);
			return 2;
		}
	}
	return 0;
}
