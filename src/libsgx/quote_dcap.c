// SPDX-License-Identifier: Apache-2.0
/*
 * The quote provider for SGX hardware: Intel's DCAP quote library
 * (libsgx_dcap_ql.so.1), loaded at run time so the project builds and runs
 * without it. Its three calls (sgx_dcap_ql_wrapper.h) return a
 * quote3_error_t (0 success, 0xE0xx errors, sgx_ql_lib_common.h):
 *   sgx_qe_get_target_info(sgx_target_info_t *)
 *   sgx_qe_get_quote_size(uint32_t *)
 *   sgx_qe_get_quote(const sgx_report_t *, uint32_t size, uint8_t *quote)
 * Nothing it returns is taken on trust: the size is bounded, the buffer
 * has a guard behind it, the quote must parse to exactly its declared
 * length and quote the REPORT it was given. The unit tests load a fake
 * library through sgx_dcap_ql_load() (tests/ratls/ratls-dcap.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sgx/loader.h"
#include "sgx/quote.h"
#include "quote_internal.h"

typedef uint32_t quote3_error_t;

/* The library's entry points: the seam the tests fill with a fake's. */
struct dcap_ql_ops {
	quote3_error_t (*get_target_info)(struct sgx_targetinfo *ti);
	quote3_error_t (*get_quote_size)(uint32_t *size);
	quote3_error_t (*get_quote)(const struct sgx_report *report, uint32_t size, uint8_t *quote);
};

static struct {
	pthread_mutex_t lock;
	void *handle;
	char *path;
	struct dcap_ql_ops ops;
} ql = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Bytes behind the quote buffer that the library must leave alone. */
#define QUOTE_GUARD	 64
#define QUOTE_GUARD_BYTE 0xa5

static const struct {
	quote3_error_t code;
	const char *name;
} ql_errors[] = {
	{ 0xe001, "SGX_QL_ERROR_UNEXPECTED" },
	{ 0xe002, "SGX_QL_ERROR_INVALID_PARAMETER" },
	{ 0xe003, "SGX_QL_ERROR_OUT_OF_MEMORY" },
	{ 0xe004, "SGX_QL_ERROR_ECDSA_ID_MISMATCH" },
	{ 0xe005, "SGX_QL_PATHNAME_BUFFER_OVERFLOW_ERROR" },
	{ 0xe006, "SGX_QL_FILE_ACCESS_ERROR" },
	{ 0xe007, "SGX_QL_ERROR_STORED_KEY" },
	{ 0xe008, "SGX_QL_ERROR_PUB_KEY_ID_MISMATCH" },
	{ 0xe009, "SGX_QL_ERROR_INVALID_PCE_SIG_SCHEME" },
	{ 0xe00a, "SGX_QL_ATT_KEY_BLOB_ERROR" },
	{ 0xe00b, "SGX_QL_UNSUPPORTED_ATT_KEY_ID" },
	{ 0xe00c, "SGX_QL_UNSUPPORTED_LOADING_POLICY" },
	{ 0xe00d, "SGX_QL_INTERFACE_UNAVAILABLE" },
	{ 0xe00e, "SGX_QL_PLATFORM_LIB_UNAVAILABLE" },
	{ 0xe00f, "SGX_QL_ATT_KEY_NOT_INITIALIZED" },
	{ 0xe010, "SGX_QL_ATT_KEY_CERT_DATA_INVALID" },
	{ 0xe011, "SGX_QL_NO_PLATFORM_CERT_DATA" },
	{ 0xe012, "SGX_QL_OUT_OF_EPC" },
	{ 0xe013, "SGX_QL_ERROR_REPORT" },
	{ 0xe014, "SGX_QL_ENCLAVE_LOST" },
	{ 0xe015, "SGX_QL_INVALID_REPORT" },
	{ 0xe016, "SGX_QL_ENCLAVE_LOAD_ERROR" },
	{ 0xe017, "SGX_QL_UNABLE_TO_GENERATE_QE_REPORT" },
	{ 0xe018, "SGX_QL_KEY_CERTIFCATION_ERROR" },
	{ 0xe019, "SGX_QL_NETWORK_ERROR" },
	{ 0xe01a, "SGX_QL_MESSAGE_ERROR" },
	{ 0xe01c, "SGX_QL_QUOTE_CERTIFICATION_DATA_UNSUPPORTED" },
	{ 0xe01d, "SGX_QL_QUOTE_FORMAT_UNSUPPORTED" },
	{ 0xe01e, "SGX_QL_UNABLE_TO_GENERATE_REPORT" },
	{ 0xe035, "SGX_QL_ERROR_INVALID_PRIVILEGE" },
	{ 0xe03f, "SGX_QL_NO_DEVICE" },
	{ 0xe040, "SGX_QL_SERVICE_UNAVAILABLE" },
	{ 0xe041, "SGX_QL_NETWORK_FAILURE" },
	{ 0xe042, "SGX_QL_SERVICE_TIMEOUT" },
	{ 0xe043, "SGX_QL_ERROR_BUSY" },
	{ 0xe049, "SGX_QL_CERTS_UNAVAILABLE" },
	{ 0xe052, "SGX_QL_PSW_NOT_AVAILABLE" },
};

/* "CALL: NAME (0xCODE)": the library call and its error code. */
static int ql_fail(err_t *err, const char *call, quote3_error_t rc)
{
	for (size_t i = 0; i < sizeof(ql_errors) / sizeof(ql_errors[0]); i++)
		if (ql_errors[i].code == rc)
			return err_set(err, EIO, "%s: %s (0x%04x)", call, ql_errors[i].name, rc);
	return err_set(err, EIO, "%s: error 0x%04x", call, rc);
}

static int ql_load_locked(const char *path, err_t *err)
{
	struct dcap_ql_ops ops = { 0 };
	const char *missing = NULL;
	char *p;
	void *h;

	if (!path)
		path = SGX_DCAP_QL_LIBRARY;
	if (ql.handle && strcmp(ql.path, path) == 0)
		return 0;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return err_set(err, ENOENT,
			       "quotes on SGX hardware need Intel's DCAP quote library: %s "
			       "(install libsgx-dcap-ql, or SGX_LOADER_BACKEND=emulator)",
			       dlerror());
	*(void **)&ops.get_target_info = dlsym(h, "sgx_qe_get_target_info");
	*(void **)&ops.get_quote_size = dlsym(h, "sgx_qe_get_quote_size");
	*(void **)&ops.get_quote = dlsym(h, "sgx_qe_get_quote");
	if (!ops.get_target_info)
		missing = "sgx_qe_get_target_info";
	else if (!ops.get_quote_size)
		missing = "sgx_qe_get_quote_size";
	else if (!ops.get_quote)
		missing = "sgx_qe_get_quote";
	if (missing) {
		dlclose(h);
		return err_set(err, ENOSYS, "DCAP quote library %s: it has no %s", path, missing);
	}
	p = strdup(path);
	if (!p) {
		dlclose(h);
		return err_sys(err, ENOMEM, "DCAP quote library %s", path);
	}
	/* A replaced library stays mapped: another thread may be in one of its calls. */
	free(ql.path);
	ql.handle = h;
	ql.path = p;
	ql.ops = ops;
	return 0;
}

int sgx_dcap_ql_load(const char *path, err_t *err)
{
	int ret;

	pthread_mutex_lock(&ql.lock);
	ret = ql_load_locked(path, err);
	pthread_mutex_unlock(&ql.lock);
	return ret;
}

/* The loaded library's calls (the default one loaded first if none is). */
static int ql_ops(struct dcap_ql_ops *ops, err_t *err)
{
	int ret = 0;

	pthread_mutex_lock(&ql.lock);
	if (!ql.handle)
		ret = ql_load_locked(NULL, err);
	if (!ret)
		*ops = ql.ops;
	pthread_mutex_unlock(&ql.lock);
	return ret;
}

static int dcap_target_info(struct sgx_targetinfo *qe, err_t *err)
{
	struct dcap_ql_ops ops = { 0 };
	quote3_error_t rc;
	int ret;

	if ((ret = ql_ops(&ops, err)) < 0)
		return ret;
	memset(qe, 0, sizeof(*qe));
	rc = ops.get_target_info(qe);
	return rc ? ql_fail(err, "sgx_qe_get_target_info", rc) : 0;
}

static int guard_intact(const uint8_t *g)
{
	for (size_t i = 0; i < QUOTE_GUARD; i++)
		if (g[i] != QUOTE_GUARD_BYTE)
			return 0;
	return 1;
}

/* The quote the library wrote into buf (size bytes) checked; its length in *len. */
static int check_quote(const struct sgx_report *report, uint8_t *buf, uint32_t size, size_t *len,
		       err_t *err)
{
	struct sgx_quote q;
	size_t n;
	int ret;

	if (!guard_intact(buf + size))
		return err_set(err, EIO,
			       "sgx_qe_get_quote: wrote past the %u bytes sgx_qe_get_quote_size "
			       "asked for",
			       size);
	if ((ret = sgx_quote_declared_size(buf, size, &n, err)) < 0)
		return err_wrap(err, "sgx_qe_get_quote");
	if (n > size)
		return err_set(err, EIO,
			       "sgx_qe_get_quote: the quote says it has %zu bytes, more than the "
			       "%u of sgx_qe_get_quote_size",
			       n, size);
	/* Room the library left unused must be empty, not a second message. */
	for (size_t i = n; i < size; i++)
		if (buf[i])
			return err_set(
			    err, EIO,
			    "sgx_qe_get_quote: %zu bytes after the %zu-byte quote are not "
			    "zero",
			    size - n, n);
	if ((ret = sgx_quote_parse(&q, buf, n, err)) < 0)
		return err_wrap(err, "sgx_qe_get_quote: the quote");
	if (memcmp(&q.report_body, &report->body, sizeof(report->body)) != 0)
		return err_set(err, EIO,
			       "sgx_qe_get_quote: the quote's report body is not the enclave's "
			       "REPORT");
	*len = n;
	return 0;
}

static int dcap_quote(const struct sgx_report *report, uint8_t **quote, size_t *len, err_t *err)
{
	struct dcap_ql_ops ops = { 0 };
	quote3_error_t rc;
	uint32_t size = 0;
	uint8_t *buf;
	int ret;

	if ((ret = ql_ops(&ops, err)) < 0)
		return ret;
	rc = ops.get_quote_size(&size);
	if (rc)
		return ql_fail(err, "sgx_qe_get_quote_size", rc);
	if (size < SGX_QUOTE_MIN_SIZE || size > SGX_QUOTE_MAX_SIZE)
		return err_set(err, EIO,
			       "sgx_qe_get_quote_size: %u bytes, not between the %d of the "
			       "smallest quote and %d",
			       size, SGX_QUOTE_MIN_SIZE, SGX_QUOTE_MAX_SIZE);
	buf = malloc((size_t)size + QUOTE_GUARD);
	if (!buf)
		return err_sys(err, ENOMEM, "sgx_qe_get_quote");
	memset(buf, 0, size);
	memset(buf + size, QUOTE_GUARD_BYTE, QUOTE_GUARD);
	rc = ops.get_quote(report, size, buf);
	ret = rc ? ql_fail(err, "sgx_qe_get_quote", rc) : check_quote(report, buf, size, len, err);
	if (ret < 0) {
		free(buf);
		return ret;
	}
	*quote = buf;
	return 0;
}

const struct sgx_quote_provider sgx_quote_provider_dcap = {
	.name = "dcap",
	.target_info = dcap_target_info,
	.quote = dcap_quote,
};

const struct sgx_quote_provider *sgx_quote_provider_default(void)
{
	const char *b = getenv("SGX_LOADER_BACKEND");

	if (b && strcmp(b, "emulator") == 0)
		return &sgx_quote_provider_emulator;
	if (b && strcmp(b, "sgx") == 0)
		return &sgx_quote_provider_dcap;
	return access(SGX_DEVICE_PATH, F_OK) == 0 ? &sgx_quote_provider_dcap
						  : &sgx_quote_provider_emulator;
}
