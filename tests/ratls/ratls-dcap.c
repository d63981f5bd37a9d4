// SPDX-License-Identifier: Apache-2.0
/*
 * The DCAP quote provider (src/libsgx/quote_dcap.c) against a fake
 * libsgx_dcap_ql.so.1 (tests/ratls/fake-dcap-ql.c, built beside the tests'
 * helpers): the call sequence (target info, the enclave's EREPORT for it,
 * quote size, quote), the quote passed on byte for byte and verifying;
 * each library error named with its call and code; every length the
 * library returns checked (short, huge, smaller than the quote, writes
 * past the buffer, a quote of another REPORT, padding); the library
 * missing, or lacking a call.
 */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "ratls/ratls.h"
#include "sgx/loader.h"
#include "sgx/quote.h"
#include "../sgx/sgx-test.h"
#include "emu-report.h"

static char dir[] = "/tmp/ratls-dcap-test.XXXXXX";

static struct {
	void (*set)(const char *mode, const uint8_t ti[512], const void *q, uint32_t len);
	void (*note)(const char *call);
	const char *(*log)(void);
	const uint8_t *(*last_report)(void);
} fake;

static struct sgx_report made; /* the last REPORT the "enclave" made */

/*
 * The enclave's EREPORT for the QE's TARGETINFO (the emulator's report key,
 * as the emulated QE checks it). The fake library then serves the quote the
 * emulated QE makes of that REPORT: a real quote, so what the provider
 * returns can be verified.
 */
static int ereport(void *ctx, const struct sgx_targetinfo *qe, const uint8_t rd[64],
		   struct sgx_report *r, err_t *err)
{
	const char *mode = ctx;
	uint8_t *q = NULL;
	size_t len = 0;
	int ret;

	fake.note("ereport");
	memset(r, 0, sizeof(*r));
	memset(r->body.mrenclave, 0xab, 32);
	memset(r->body.mrsigner, 0xcd, 32);
	r->body.attributes = 0x5;
	r->body.xfrm = 0x3;
	memcpy(r->body.reportdata, rd, 64);
	memset(r->keyid, 0x22, 32);
	if ((ret = emu_report_mac(r, qe, err)) < 0)
		return ret;
	made = *r;
	if ((ret = sgx_qe_emu_quote(r, &q, &len, err)) < 0)
		return ret;
	fake.set(mode, NULL, q, (uint32_t)len);
	free(q);
	return 0;
}

/* A quote through the provider with the fake in mode; *log the calls made. */
static int quote_in_mode(const char *mode, uint8_t **q, size_t *len, char *log, err_t *err)
{
	struct ratls_host_source src = {
		.provider = &sgx_quote_provider_dcap,
		.report = ereport,
		.report_ctx = (void *)mode,
	};
	struct sgx_targetinfo ti;
	uint8_t rd[64];
	int ret;

	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(0x40 + i);
	sgx_qe_emu_targetinfo(&ti);
	fake.set(mode, (const uint8_t *)&ti, NULL, 0);
	*q = NULL;
	ret = ratls_quote_from_provider(&src, rd, q, len, err);
	snprintf(log, 128, "%s", fake.log());
	return ret;
}

static void refused(const char *mode, const char *want_log, const char *want_msg)
{
	uint8_t *q = NULL;
	size_t len = 0;
	err_t err = NULL;
	char log[128];
	int ret = quote_in_mode(mode, &q, &len, log, &err);

	TAP_OK(ret < 0 && !q && strcmp(log, want_log) == 0 && strstr(err_msg(err), want_msg),
	       "%s: refused after \"%s\": %s", mode, log, ret < 0 ? err_msg(err) : "accepted");
	free(q);
	err_free(&err);
}

static int fake_path(char *out, size_t n)
{
	char exe[PATH_MAX];
	ssize_t r = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (r <= 0)
		return -1;
	exe[r] = 0;
	snprintf(out, n, "%s/../tests-bin/libfake-dcap-ql.so", dirname(exe));
	return access(out, R_OK);
}

static void test_missing(void)
{
	err_t err = NULL;
	void *h;

	TAP_OK(sgx_dcap_ql_load("/nonexistent/libsgx_dcap_ql.so.1", &err) == -ENOENT &&
		   strstr(err_msg(err), "need Intel's DCAP quote library") &&
		   strstr(err_msg(err), "/nonexistent/libsgx_dcap_ql.so.1") &&
		   !strchr(err_msg(err), '\n'),
	       "a missing library: one line naming it: %s", err_msg(err));
	err_free(&err);
	TAP_OK(sgx_dcap_ql_load("libc.so.6", &err) == -ENOSYS &&
		   strstr(err_msg(err), "has no sgx_qe_get_target_info"),
	       "a library without the calls: %s", err_msg(err));
	err_free(&err);

	/* On hardware without the library (this host, unless it has it installed). */
	h = dlopen(SGX_DCAP_QL_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (h) {
		dlclose(h);
		printf("skip - hardware without the library (%s is installed here)\n",
		       SGX_DCAP_QL_LIBRARY);
		return;
	}
	{
		const struct sgx_quote_provider *p;
		struct sgx_targetinfo ti;

		setenv("SGX_LOADER_BACKEND", "sgx", 1);
		p = sgx_quote_provider_default();
		TAP_OK(p == &sgx_quote_provider_dcap && p->target_info(&ti, &err) == -ENOENT &&
			   strstr(err_msg(err), SGX_DCAP_QL_LIBRARY) && !strchr(err_msg(err), '\n'),
		       "hardware without the library: %s", err_msg(err));
		err_free(&err);
		setenv("SGX_LOADER_BACKEND", "emulator", 1);
		TAP_OK(sgx_quote_provider_default() == &sgx_quote_provider_emulator,
		       "the emulator's QE on the emulator");
		unsetenv("SGX_LOADER_BACKEND");
	}
}

static void test_good(const char *root, const char *version)
{
	struct ratls_trust t = { .root_pem = root, .root_pem_len = strlen(root) };
	struct ratls_identity id;
	struct sgx_quote pq;
	uint8_t *q = NULL;
	size_t len = 0;
	err_t err = NULL;
	char log[128];
	int ret;

	setenv(SGX_EMU_QUOTE_VERSION_ENV, version, 1);
	ret = quote_in_mode("ok", &q, &len, log, &err);
	TAP_OK(ret == 0 && strcmp(log, "target_info ereport quote_size quote") == 0,
	       "v%s: target info, EREPORT, quote size, quote (%s): %s", version, log,
	       ret < 0 ? err_msg(err) : "");
	err_free(&err);
	if (ret < 0)
		goto out;
	TAP_OK(memcmp(fake.last_report(), &made, sizeof(made)) == 0,
	       "v%s: the library got the enclave's REPORT as made", version);
	TAP_OK(sgx_quote_parse(&pq, q, len, NULL) == 0 &&
		   pq.header.version == (uint16_t)atoi(version) &&
		   ratls_quote_verify(q, len, &t, NULL, &id, &err) == 0 &&
		   id.report_data[0] == 0x40 && id.report_data[63] == 0x40 + 63,
	       "v%s: the library's quote, as it made it, verifies (%zu bytes): %s", version, len,
	       err ? err_msg(err) : "");
	err_free(&err);
	free(q);
	q = NULL;
	ret = quote_in_mode("padded", &q, &len, log, &err);
	TAP_OK(ret == 0 && sgx_quote_parse(&pq, q, len, NULL) == 0,
	       "v%s: a size with zero padding after the quote: the quote alone (%zu bytes): %s",
	       version, len, ret < 0 ? err_msg(err) : "");
	err_free(&err);
out:
	free(q);
	unsetenv(SGX_EMU_QUOTE_VERSION_ENV);
}

int main(void)
{
	_cleanup_free_ char *secret = NULL, *root = NULL;
	char path[PATH_MAX + 64];
	const char *all = "target_info ereport quote_size quote";
	err_t err = NULL;
	void *h;

	if (fake_path(path, sizeof(path)) < 0) {
		printf("not ok - the fake DCAP library %s: not built\n", path);
		return 1;
	}
	if (!mkdtemp(dir) || asprintf(&secret, "%s/sgx-emu-secret", dir) < 0)
		return 1;
	setenv("SGX_EMU_SECRET", secret, 1);

	test_missing();

	TAP_OK(sgx_dcap_ql_load(path, &err) == 0, "the fake library loads: %s",
	       err ? err_msg(err) : "");
	err_free(&err);
	h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	*(void **)&fake.set = h ? dlsym(h, "fake_ql_set") : NULL;
	*(void **)&fake.note = h ? dlsym(h, "fake_ql_note") : NULL;
	*(void **)&fake.log = h ? dlsym(h, "fake_ql_log") : NULL;
	*(void **)&fake.last_report = h ? dlsym(h, "fake_ql_last_report") : NULL;
	if (!fake.set || !fake.note || !fake.log || !fake.last_report) {
		printf("not ok - the fake library's controls: %s\n", dlerror());
		goto out;
	}
	if (sgx_emu_root_ca_pem(&root, &err) < 0) {
		printf("not ok - the emulator root CA: %s\n", err_msg(err));
		goto out;
	}

	test_good(root, "3");
	test_good(root, "4");
	test_good(root, "5");

	refused("target-error", "target_info",
		"sgx_qe_get_target_info: SGX_QL_INTERFACE_UNAVAILABLE (0xe00d)");
	refused("size-error", "target_info ereport quote_size",
		"sgx_qe_get_quote_size: SGX_QL_NO_PLATFORM_CERT_DATA (0xe011)");
	refused("quote-error", all, "sgx_qe_get_quote: SGX_QL_INVALID_REPORT (0xe015)");
	refused("quote-unknown-error", all, "sgx_qe_get_quote: error 0xe0fe");
	refused("size-short", "target_info ereport quote_size",
		"sgx_qe_get_quote_size: 100 bytes, not between");
	refused("size-huge", "target_info ereport quote_size",
		"sgx_qe_get_quote_size: 67108864 bytes, not between");
	refused("size-small", all, "sgx_qe_get_quote: the quote says it has");
	refused("overrun", all, "sgx_qe_get_quote: wrote past the");
	refused("wrong-body", all,
		"sgx_qe_get_quote: the quote's report body is not the enclave's REPORT");
	refused("padded-junk", all, "bytes after the");
out:
	if (root || secret) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	err_free(&err);
	return tap_exit();
}
