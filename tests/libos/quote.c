// SPDX-License-Identifier: Apache-2.0
/*
 * /dev/attestation/quote as Gramine's workloads read it (test-libos-fds.sh,
 * in the enclave only): the report data written first, the quote read
 * whole and printed base64 (as `rune attest --quote` prints one), for
 * sgx-tools verify-quote. Exit 0 when every step worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static uint8_t q[1 << 16];
	uint8_t rd[64] = "rune libos quote test";
	ssize_t n, len = 0;
	int fd;

	fd = open("/dev/attestation/user_report_data", O_WRONLY);
	if (fd < 0 || write(fd, rd, sizeof(rd)) != (ssize_t)sizeof(rd)) {
		printf("user_report_data: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	fd = open("/dev/attestation/quote", O_RDONLY);
	if (fd < 0) {
		printf("open quote: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, q + len, sizeof(q) - len)) > 0)
		len += n;
	close(fd);
	if (n < 0 || len < 432) {
		printf("read quote: %zd bytes (%s)\n", len, n < 0 ? strerror(errno) : "short");
		return 1;
	}
	for (ssize_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)q[i] << 16 | (i + 1 < len ? q[i + 1] << 8 : 0) |
			     (i + 2 < len ? q[i + 2] : 0);

		putchar(b64[v >> 18 & 63]);
		putchar(b64[v >> 12 & 63]);
		putchar(i + 1 < len ? b64[v >> 6 & 63] : '=');
		putchar(i + 2 < len ? b64[v & 63] : '=');
	}
	putchar('\n');
	return 0;
}
