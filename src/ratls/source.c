// SPDX-License-Identifier: Apache-2.0
/*
 * Quote sources for RA-TLS certificates: Gramine's /dev/attestation files
 * (inside the LibOS) and a quote provider on the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "sgx/fileio.h"
#include "ratls_internal.h"

int ratls_quote_from_attestation_dir(void *ctx, const uint8_t report_data[64], uint8_t **quote,
				     size_t *len, err_t *err)
{
	const char *dir = ctx ? ctx : "/dev/attestation";
	char path[4096];
	void *buf = NULL;
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
	ret = sgx_read_file(path, SGX_QUOTE_MAX_SIZE, &buf, len, err);
	if (ret < 0)
		return err_wrap(err, "quote source");
	*quote = buf;
	return 0;
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
