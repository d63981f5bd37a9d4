// SPDX-License-Identifier: Apache-2.0
/*
 * /dev/attestation as Gramine's, for tests/libos/test-libos-fds.sh (run
 * in the enclave only): writes user_report_data, reads my_target_info,
 * writes it to target_info, reads report; prints the attestation type,
 * the report's MRENCLAVE and whether its fields are what was asked, and
 * (hex) a report for itself and one for another target, with the
 * TARGETINFOs, for tests-bin/libos-verify-report to check their MACs.
 * Exit 0 when every step worked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int fail;

static ssize_t rw(const char *path, int write_it, void *buf, size_t len)
{
	int fd = open(path, write_it ? O_WRONLY : O_RDONLY);
	ssize_t r, done = 0;

	if (fd < 0) {
		printf("open %s: %s\n", path, strerror(errno));
		fail = 1;
		return -1;
	}
	while ((size_t)done < len) {
		r = write_it ? write(fd, (char *)buf + done, len - done)
			     : read(fd, (char *)buf + done, len - done);
		if (r <= 0)
			break;
		done += r;
	}
	close(fd);
	if ((size_t)done != len) {
		printf("%s %s: %zd of %zu bytes\n", write_it ? "write" : "read", path, done, len);
		fail = 1;
	}
	return done;
}

static void hex(const char *what, const uint8_t *p, size_t n)
{
	printf("%s ", what);
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	printf("\n");
}

int main(void)
{
	uint8_t urd[64], back[64], ti[512], rep[432], more[8];
	char type[64] = "";
	struct dirent *e;
	DIR *d;
	int fd;

	for (int i = 0; i < 64; i++)
		urd[i] = (uint8_t)(i * 7 + 3);
	fd = open("/dev/attestation/attestation_type", O_RDONLY);
	if (fd < 0 || read(fd, type, sizeof(type) - 1) < 0)
		fail = 1;
	close(fd);
	printf("attestation_type %s\n", type);
	rw("/dev/attestation/user_report_data", 1, urd, sizeof(urd));
	rw("/dev/attestation/user_report_data", 0, back, sizeof(back));
	printf("user_report_data reads back: %d\n", !memcmp(urd, back, 64));
	rw("/dev/attestation/my_target_info", 0, ti, sizeof(ti));
	rw("/dev/attestation/target_info", 1, ti, sizeof(ti));
	rw("/dev/attestation/report", 0, rep, sizeof(rep));
	hex("MRENCLAVE", rep + 64, 32);
	hex("MRSIGNER", rep + 128, 32);
	printf("report data is user_report_data: %d\n", !memcmp(rep + 320, urd, 64));
	printf("my_target_info has the report's MRENCLAVE: %d, ATTRIBUTES/XFRM: %d\n",
	       !memcmp(ti, rep + 64, 32), !memcmp(ti + 32, rep + 48, 16));
	printf("the report's MAC is set: %d\n", memcmp(rep + 416, (uint8_t[16]){ 0 }, 16) != 0);
	/* for the host to check the MACs: a report for itself, one for another target */
	hex("report-self", rep, sizeof(rep));
	hex("target-self", ti, sizeof(ti));
	ti[0] ^= 0xff;
	rw("/dev/attestation/target_info", 1, ti, sizeof(ti));
	rw("/dev/attestation/report", 0, rep, sizeof(rep));
	hex("report-other", rep, sizeof(rep));
	hex("target-other", ti, sizeof(ti));

	fd = open("/dev/attestation/report", O_WRONLY);
	printf("report opened for writing: %s\n", fd < 0 ? strerror(errno) : "opened");
	fd = open("/dev/attestation/user_report_data", O_WRONLY);
	lseek(fd, 60, SEEK_SET);
	printf("a write past 64 bytes: %zd", write(fd, more, sizeof(more)));
	printf(", then: %s\n", write(fd, more, 1) < 0 ? strerror(errno) : "written");
	close(fd);
	d = opendir("/dev/attestation");
	printf("/dev/attestation:");
	while (d && (e = readdir(d)))
		printf(" %s", e->d_name);
	printf("\n");
	if (d)
		closedir(d);
	return fail;
}
