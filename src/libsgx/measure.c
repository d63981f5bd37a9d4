/* SPDX-License-Identifier: Apache-2.0 */
/* MRENCLAVE: SHA-256 over the ECREATE/EADD/EEXTEND records, streaming. */
#include "sgx/measure.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define EEXTEND_CHUNK 256
#define RECORD_SIZE   64

struct sgx_measure {
	EVP_MD_CTX *ctx;
	uint64_t size;
	/* A page's 16 EEXTEND records with their chunks: one SHA-256 update per page. */
	uint8_t buf[(SGX_PAGE_SIZE / EEXTEND_CHUNK) * (RECORD_SIZE + EEXTEND_CHUNK)];
};

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int sgx_secinfo_check(uint64_t flags, err_t *err)
{
	uint64_t pt = flags & SGX_SECINFO_PT_MASK;
	uint64_t perm = flags & SGX_SECINFO_PERM_MASK;

	if (flags & ~SGX_SECINFO_EADD_MASK)
		return err_set(err, EINVAL, "secinfo flags 0x%llx: reserved bits set",
			       (unsigned long long)flags);
	if (pt != SGX_SECINFO_TCS && pt != SGX_SECINFO_REG)
		return err_set(err, EINVAL,
			       "secinfo flags 0x%llx: page type is neither TCS nor REG",
			       (unsigned long long)flags);
	if (pt == SGX_SECINFO_TCS && perm)
		return err_set(err, EINVAL, "secinfo flags 0x%llx: TCS page with permissions",
			       (unsigned long long)flags);
	if ((perm & SGX_SECINFO_W) && !(perm & SGX_SECINFO_R))
		return err_set(err, EINVAL, "secinfo flags 0x%llx: writable but not readable",
			       (unsigned long long)flags);
	return 0;
}

const char *sgx_secinfo_name(uint64_t flags)
{
	static const char *const reg[8] = { "reg", "r", "w", "rw", "x", "rx", "wx", "rwx" };

	if (flags == SGX_SECINFO_TCS)
		return "tcs";
	if ((flags & ~SGX_SECINFO_PERM_MASK) == SGX_SECINFO_REG)
		return reg[flags & SGX_SECINFO_PERM_MASK];
	return "other";
}

static int digest(struct sgx_measure *m, const void *p, size_t n, err_t *err)
{
	if (EVP_DigestUpdate(m->ctx, p, n) != 1)
		return err_set(err, EIO, "SHA-256 update failed");
	return 0;
}

int sgx_measure_new(struct sgx_measure **mp, uint32_t ssaframesize, uint64_t size, err_t *err)
{
	uint8_t rec[RECORD_SIZE] = { 0 };
	struct sgx_measure *m;

	*mp = NULL;
	if (size < SGX_PAGE_SIZE || (size & (size - 1)))
		return err_set(err, EINVAL,
			       "enclave size 0x%llx is not a power of two of at least a page",
			       (unsigned long long)size);
	if (ssaframesize == 0)
		return err_set(err, EINVAL, "SSA frame size 0");
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return err_sys(err, ENOMEM, "allocate measurement");
	m->size = size;
	m->ctx = EVP_MD_CTX_new();
	if (m->ctx == NULL || EVP_DigestInit_ex(m->ctx, EVP_sha256(), NULL) != 1) {
		sgx_measure_free(m);
		return err_set(err, EIO, "SHA-256 init failed");
	}
	memcpy(rec, "ECREATE", 8);
	put_u32(rec + 8, ssaframesize);
	put_u64(rec + 12, size);
	if (digest(m, rec, sizeof(rec), err) < 0) {
		sgx_measure_free(m);
		return -EIO;
	}
	*mp = m;
	return 0;
}

/* EADD's refusals of a run of count pages from offset. */
static int check_pages(const struct sgx_measure *m, uint64_t offset, uint64_t count, uint64_t flags,
		       err_t *err)
{
	int ret;

	if (offset & (SGX_PAGE_SIZE - 1))
		return err_set(err, EINVAL, "page offset 0x%llx is not page aligned",
			       (unsigned long long)offset);
	if (offset >= m->size)
		return err_set(err, EINVAL, "page offset 0x%llx outside the enclave (size 0x%llx)",
			       (unsigned long long)offset, (unsigned long long)m->size);
	if (count == 0 || count > (m->size - offset) / SGX_PAGE_SIZE)
		return err_set(err, EINVAL,
			       "%llu pages at 0x%llx: outside the enclave (size 0x%llx)",
			       (unsigned long long)count, (unsigned long long)offset,
			       (unsigned long long)m->size);
	ret = sgx_secinfo_check(flags, err);
	if (ret < 0)
		return err_wrap(err, "page at 0x%llx", (unsigned long long)offset);
	return 0;
}

/* EADD hashes the first 48 bytes of SECINFO: flags, then zeros. */
static void eadd_record(uint8_t *rec, uint64_t offset, uint64_t flags)
{
	memset(rec, 0, RECORD_SIZE);
	memcpy(rec, "EADD\0\0\0", 8);
	put_u64(rec + 8, offset);
	put_u64(rec + 16, flags);
}

static int add_checked(struct sgx_measure *m, uint64_t offset, uint64_t flags, const uint8_t *page,
		       int measured, err_t *err)
{
	static const uint8_t zero[SGX_PAGE_SIZE];
	uint8_t rec[RECORD_SIZE];
	const uint8_t *src = page ? page : zero;
	uint8_t *p = m->buf;
	int ret;

	eadd_record(rec, offset, flags);
	ret = digest(m, rec, sizeof(rec), err);
	if (ret < 0 || !measured)
		return ret;

	for (uint64_t off = 0; off < SGX_PAGE_SIZE; off += EEXTEND_CHUNK) {
		memset(p, 0, RECORD_SIZE);
		memcpy(p, "EEXTEND", 8);
		put_u64(p + 8, offset + off);
		memcpy(p + RECORD_SIZE, src + off, EEXTEND_CHUNK);
		p += RECORD_SIZE + EEXTEND_CHUNK;
	}
	return digest(m, m->buf, sizeof(m->buf), err);
}

int sgx_measure_add_page(struct sgx_measure *m, uint64_t offset, uint64_t flags, const void *page,
			 int measured, err_t *err)
{
	int ret = check_pages(m, offset, 1, flags, err);

	return ret < 0 ? ret : add_checked(m, offset, flags, page, measured, err);
}

int sgx_measure_add_pages(struct sgx_measure *m, uint64_t offset, uint64_t count, uint64_t flags,
			  const void *pages, int measured, err_t *err)
{
	const size_t batch = sizeof(m->buf) / RECORD_SIZE;
	const uint8_t *src = pages;
	int ret;

	ret = check_pages(m, offset, count, flags, err);
	if (ret < 0)
		return ret;
	if (measured) {
		for (uint64_t i = 0; i < count; i++) {
			ret = add_checked(m, offset + i * SGX_PAGE_SIZE, flags,
					  src ? src + i * SGX_PAGE_SIZE : NULL, 1, err);
			if (ret < 0)
				return ret;
		}
		return 0;
	}
	/* Unmeasured: EADD records only, many per SHA-256 update. */
	for (uint64_t i = 0; i < count;) {
		size_t n = count - i < batch ? (size_t)(count - i) : batch;

		for (size_t k = 0; k < n; k++)
			eadd_record(m->buf + k * RECORD_SIZE, offset + (i + k) * SGX_PAGE_SIZE,
				    flags);
		ret = digest(m, m->buf, n * RECORD_SIZE, err);
		if (ret < 0)
			return ret;
		i += n;
	}
	return 0;
}

void sgx_measure_finish(struct sgx_measure *m, uint8_t mrenclave[32])
{
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(m->ctx, mrenclave, &len) != 1 || len != 32)
		memset(mrenclave, 0, 32);
	sgx_measure_free(m);
}

void sgx_measure_free(struct sgx_measure *m)
{
	if (m == NULL)
		return;
	EVP_MD_CTX_free(m->ctx);
	free(m);
}
