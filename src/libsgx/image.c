/* SPDX-License-Identifier: Apache-2.0 */
/* Enclave images: flat image + page spec, common helpers, measurement. */
#include "sgx/image.h"
#include "sgx/measure.h"
#include "libsgx/fileio.h"
#include "libsgx/image_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

uint64_t sgx_next_pow2(uint64_t v)
{
	uint64_t p = SGX_PAGE_SIZE;

	while (p < v && p < (1ULL << 63))
		p <<= 1;
	return p;
}

static int type_flags(const char *s, size_t n, uint64_t *flags)
{
	static const struct {
		const char *name;
		uint64_t flags;
	} types[] = {
		{ "tcs", SGX_SECINFO_TCS },
		{ "r", SGX_SECINFO_REG | SGX_SECINFO_R },
		{ "rw", SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W },
		{ "rx", SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X },
		{ "rwx", SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W | SGX_SECINFO_X },
	};

	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (strlen(types[i].name) == n && memcmp(types[i].name, s, n) == 0) {
			*flags = types[i].flags;
			return 0;
		}
	}
	return -1;
}

/* Walks the spec; fills out (if not NULL, with room for the count) and counts pages. */
static int walk_spec(const char *spec, uint64_t *out, size_t *npages, err_t *err)
{
	const char *p = spec;
	size_t total = 0;

	if (*p == '\0')
		return err_set(err, EINVAL, "page spec is empty");
	for (;;) {
		size_t n = strcspn(p, ",*");
		uint64_t flags, count = 1;

		if (type_flags(p, n, &flags) < 0)
			return err_set(err, EINVAL,
				       "page spec: unknown page type '%.*s' (tcs, r, rw, rx, rwx)",
				       (int)(n > 32 ? 32 : n), p);
		p += n;
		if (*p == '*') {
			const char *digits = ++p;

			count = 0;
			while (*p >= '0' && *p <= '9') {
				count = count * 10 + (uint64_t)(*p++ - '0');
				if (count > SGX_IMAGE_MAX_PAGES)
					return err_set(err, EINVAL, "page spec: count too large");
			}
			if (p == digits || count == 0)
				return err_set(err, EINVAL,
					       "page spec: '*' needs a positive page count");
		}
		if (count > SGX_IMAGE_MAX_PAGES - total)
			return err_set(err, EINVAL, "page spec: more than %llu pages",
				       (unsigned long long)SGX_IMAGE_MAX_PAGES);
		for (uint64_t i = 0; out && i < count; i++)
			out[total + i] = flags;
		total += count;
		if (*p == '\0')
			break;
		if (*p != ',')
			return err_set(err, EINVAL, "page spec: unexpected '%c'", *p);
		p++;
	}
	*npages = total;
	return 0;
}

int sgx_parse_page_spec(const char *spec, uint64_t **flags, size_t *npages, err_t *err)
{
	size_t n;
	int ret;

	*flags = NULL;
	*npages = 0;
	ret = walk_spec(spec, NULL, &n, err);
	if (ret < 0)
		return ret;
	*flags = calloc(n, sizeof(**flags));
	if (*flags == NULL)
		return err_sys(err, ENOMEM, "page spec");
	walk_spec(spec, *flags, npages, err);
	return 0;
}

int sgx_image_check_size(uint64_t *size, uint64_t end, err_t *err)
{
	if (end > SGX_IMAGE_MAX_SIZE)
		return err_set(err, EFBIG, "enclave layout of %llu bytes exceeds %llu",
			       (unsigned long long)end, (unsigned long long)SGX_IMAGE_MAX_SIZE);
	if (*size == 0)
		*size = sgx_next_pow2(end);
	if (*size < SGX_PAGE_SIZE || (*size & (*size - 1)) || *size > SGX_IMAGE_MAX_SIZE)
		return err_set(err, EINVAL, "enclave size %llu: not a power of two in [4096, %llu]",
			       (unsigned long long)*size, (unsigned long long)SGX_IMAGE_MAX_SIZE);
	if (*size < end)
		return err_set(err, EINVAL,
			       "enclave size %llu is smaller than its %llu bytes of pages",
			       (unsigned long long)*size, (unsigned long long)end);
	return 0;
}

/* Builds the image over data, a zero-padded buffer of whole pages it takes ownership of. */
static int flat_take(struct sgx_image *img, uint8_t *owned, size_t len, const char *page_spec,
		     uint64_t size, uint32_t ssaframesize, err_t *err)
{
	_cleanup_free_ uint8_t *data = owned;
	_cleanup_free_ uint64_t *flags = NULL;
	_cleanup_free_ struct sgx_image_page *pages = NULL;
	size_t n, file_pages;
	int ret;

	memset(img, 0, sizeof(*img));
	if (len == 0)
		return err_set(err, EINVAL, "image is empty");
	if (len > SGX_IMAGE_MAX_SIZE)
		return err_set(err, EFBIG, "image is larger than %llu bytes",
			       (unsigned long long)SGX_IMAGE_MAX_SIZE);
	file_pages = (len + SGX_PAGE_SIZE - 1) / SGX_PAGE_SIZE;
	/* Count first: a spec far off the image must not allocate. */
	ret = walk_spec(page_spec, NULL, &n, err);
	if (ret < 0)
		return ret;
	if (n != file_pages)
		return err_set(err, EINVAL, "page spec lists %zu pages, the image has %zu", n,
			       file_pages);
	ret = sgx_parse_page_spec(page_spec, &flags, &n, err);
	if (ret < 0)
		return ret;
	ret = sgx_image_check_size(&size, (uint64_t)n * SGX_PAGE_SIZE, err);
	if (ret < 0)
		return ret;
	pages = calloc(n, sizeof(*pages));
	if (pages == NULL)
		return err_sys(err, ENOMEM, "image of %zu pages", n);
	for (size_t i = 0; i < n; i++) {
		pages[i].offset = (uint64_t)i * SGX_PAGE_SIZE;
		pages[i].flags = flags[i];
		pages[i].measured = 1;
		pages[i].data = data + i * SGX_PAGE_SIZE;
	}
	img->size = size;
	img->ssaframesize = ssaframesize ? ssaframesize : 1;
	img->npages = n;
	img->pages = steal_ptr(pages);
	img->priv = steal_ptr(data);
	return 0;
}

int sgx_image_from_flat_mem(struct sgx_image *img, const void *buf, size_t len,
			    const char *page_spec, uint64_t size, uint32_t ssaframesize, err_t *err)
{
	uint8_t *data;

	memset(img, 0, sizeof(*img));
	if (len > SGX_IMAGE_MAX_SIZE)
		return err_set(err, EFBIG, "image is larger than %llu bytes",
			       (unsigned long long)SGX_IMAGE_MAX_SIZE);
	data = calloc(1, (len + SGX_PAGE_SIZE - 1) & ~(SGX_PAGE_SIZE - 1));
	if (data == NULL && len)
		return err_sys(err, ENOMEM, "image of %zu bytes", len);
	if (len)
		memcpy(data, buf, len);
	return flat_take(img, data, len, page_spec, size, ssaframesize, err);
}

int sgx_image_from_flat(struct sgx_image *img, const char *path, const char *page_spec,
			uint64_t size, uint32_t ssaframesize, err_t *err)
{
	void *buf = NULL;
	size_t len;
	int ret;

	memset(img, 0, sizeof(*img));
	/* Flat images have no layout options: the default cap bounds them. */
	ret = sgx_read_image_file(path, sgx_max_enclave_size(0), &buf, &len, err);
	if (ret < 0)
		return ret;
	/* The file buffer is already page-padded: the image takes it over, no copy. */
	ret = flat_take(img, buf, len, page_spec, size, ssaframesize, err);
	if (ret < 0)
		return err_wrap(err, "%s", path);
	return 0;
}

uint64_t sgx_image_total_pages(const struct sgx_image *img)
{
	uint64_t n = 0;

	for (size_t i = 0; i < img->npages; i++)
		n += sgx_image_page_count(&img->pages[i]);
	return n;
}

int sgx_image_measure(const struct sgx_image *img, uint8_t mrenclave[32], err_t *err)
{
	struct sgx_measure *m;
	uint64_t next = 0; /* end of the previous entry */
	int ret;

	ret = sgx_measure_new(&m, img->ssaframesize, img->size, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < img->npages; i++) {
		const struct sgx_image_page *pg = &img->pages[i];
		uint64_t n = sgx_image_page_count(pg);

		if (i > 0 && pg->offset < next) {
			sgx_measure_free(m);
			return err_set(err, EINVAL, "page at 0x%llx: offsets not ascending",
				       (unsigned long long)pg->offset);
		}
		ret =
		    sgx_measure_add_pages(m, pg->offset, n, pg->flags, pg->data, pg->measured, err);
		if (ret < 0) {
			sgx_measure_free(m);
			return ret;
		}
		next = pg->offset + n * SGX_PAGE_SIZE; /* in the enclave: checked above */
	}
	sgx_measure_finish(m, mrenclave);
	return 0;
}

void sgx_image_free(struct sgx_image *img)
{
	if (img == NULL)
		return;
	free(img->pages);
	free(img->priv);
	memset(img, 0, sizeof(*img));
}

uint64_t sgx_max_enclave_size(uint64_t asked)
{
	const char *env = getenv("SGX_MAX_ENCLAVE_SIZE");
	unsigned long long v;
	char *end;

	if (asked)
		return asked;
	if (env && *env >= '0' && *env <= '9') {
		errno = 0;
		v = strtoull(env, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 4096)
			return v;
	}
	return SGX_MAX_ENCLAVE_SIZE_DEFAULT;
}
