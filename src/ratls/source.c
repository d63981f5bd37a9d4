// SPDX-License-Identifier: Apache-2.0
/*
 * Quote sources for RA-TLS certificates: Gramine's /dev/attestation files
 * (inside the LibOS) and a quote provider on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ratls_internal.h"

/* The quote file read to its end (a pseudo-file: its size says nothing), bounded. */
static int read_quote(const char *path, uint8_t **quote, size_t *len, err_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = errno;
	uint8_t *buf;
	size_t n = 0;
	ssize_t r = 1;

	if (fd < 0)
		return err_sys(err, e, "quote source: open %s", path);
	buf = malloc(SGX_QUOTE_MAX_SIZE + 1);
	if (!buf) {
		close(fd);
		return err_sys(err, ENOMEM, "quote source: %s", path);
	}
	while (n <= SGX_QUOTE_MAX_SIZE && r != 0) {
		r = read(fd, buf + n, SGX_QUOTE_MAX_SIZE + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = errno;
			free(buf);
			close(fd);
			return err_sys(err, (int)r, "quote source: read %s", path);
		}
		n += (size_t)r;
	}
	close(fd);
	if (n == 0 || n > SGX_QUOTE_MAX_SIZE) {
		free(buf);
		return err_set(err, EBADMSG, "quote source: %s: %s", path,
			       n ? "more than a quote may have" : "empty");
	}
	*quote = buf;
	*len = n;
	return 0;
}

int ratls_quote_from_attestation_dir(void *ctx, const uint8_t report_data[64], uint8_t **quote,
				     size_t *len, err_t *err)
{
	const char *dir = ctx ? ctx : "/dev/attestation";
	char path[4096];
	ssize_t n;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/user_report_data", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "quote source: open %s", path);
	n = write(fd, report_data, 64);
	ret = n == 64 ? 0 : -(n < 0 ? errno : EIO);
	close(fd);
	if (ret < 0)
		return err_sys(err, -ret, "quote source: write %s", path);
	snprintf(path, sizeof(path), "%s/quote", dir);
	return read_quote(path, quote, len, err);
}

int ratls_quote_from_provider(void *ctx, const uint8_t report_data[64], uint8_t **quote,
			      size_t *len, err_t *err)
{
	const struct ratls_host_source *h = ctx;
	const struct sgx_quote_provider *p =
	    h->provider ? h->provider : sgx_quote_provider_default();
	struct sgx_targetinfo qe;
	struct sgx_report r;
	int ret;

	ret = p->target_info(&qe, err);
	if (!ret)
		ret = h->report(h->report_ctx, &qe, report_data, &r, err);
	if (!ret)
		ret = p->quote(&r, quote, len, err);
	return ret < 0 ? err_wrap(err, "quote source %s", p->name) : 0;
}
