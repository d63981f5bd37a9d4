/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Known answers from ../shared/vectors/sgx: MRENCLAVE of encl.bin, MRSIGNER
 * and verification of encl.ss, byte-exact re-signing, and refusal of every
 * single-byte tampering of the signed fields, modulus, signature, q1, q2
 * and the image.
 */
#include "sgx/image.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"
#include "sgx-test.h"

#define MRENCLAVE "b999536238fcf4e9d360ef6cd3e0c20ef8a684c7b93f74a9c4a4c6d517d61fc0"
#define MRSIGNER  "2f9f8fd4fe12d77232f1d87571ca8252ca27714efe7705e46222cffd5a22e8c4"

static const char *dir;
static uint8_t *bin, *ss_buf;
static char *pem;
static size_t bin_len, ss_len, pem_len;
static uint8_t mrenclave[32];

static void vector_fields(struct sgx_sign_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->attributes = 0x4;
	o->xfrm = 0x3;
}

static void test_measure(void)
{
	struct sgx_image img;
	err_t err = NULL;
	int ret;

	ret = sgx_image_from_flat_mem(&img, bin, bin_len, "tcs,rwx*5", 32768, 1, &err);
	CHECK(ret == 0, "%s", err_msg(err));
	if (ret)
		return;
	CHECK(img.npages == 6 && img.size == 32768, "%zu pages", img.npages);
	ret = sgx_image_measure(&img, mrenclave, &err);
	CHECK(ret == 0, "%s", err_msg(err));
	CHECK(hex_is(mrenclave, MRENCLAVE), "MRENCLAVE");
	sgx_image_free(&img);

	/* Size 0 means the next power of two: 6 pages give 32768. */
	uint8_t again[32];
	ret = sgx_image_from_flat_mem(&img, bin, bin_len, "tcs,rwx,rwx*3,rwx", 0, 0, &err);
	CHECK(ret == 0 && img.size == 32768, "%s", err_msg(err));
	if (ret == 0) {
		sgx_image_measure(&img, again, &err);
		CHECK(memcmp(again, mrenclave, 32) == 0, "default size and spec forms");
	}
	sgx_image_free(&img);
	err_free(&err);
}

static void test_streaming_api(void)
{
	struct sgx_measure *m = NULL;
	uint8_t out[32];
	err_t err = NULL;

	CHECK(sgx_measure_new(&m, 1, 32768, &err) == 0, "%s", err_msg(err));
	for (int i = 0; i < 6 && m; i++)
		CHECK(sgx_measure_add_page(m, (uint64_t)i * 4096,
					   i == 0 ? SGX_SECINFO_TCS : SGX_SECINFO_REG | 7,
					   bin + i * 4096, 1, &err) == 0,
		      "%s", err_msg(err));
	if (m)
		sgx_measure_finish(m, out);
	CHECK(hex_is(out, MRENCLAVE), "streamed MRENCLAVE");
	err_free(&err);
}

static void test_sigstruct(void)
{
	struct sgx_sigstruct ss;
	uint8_t signer[32];
	err_t err = NULL;

	CHECK(sgx_sigstruct_parse(&ss, ss_buf, ss_len, &err) == 0, "%s", err_msg(err));
	CHECK(sgx_sigstruct_check(&ss, &err) == 0, "%s", err_msg(err));
	err_free(&err);
	CHECK(memcmp(ss.body.enclavehash, mrenclave, 32) == 0, "enclave hash");
	sgx_mrsigner(&ss, signer);
	CHECK(hex_is(signer, MRSIGNER), "MRSIGNER");
	CHECK(sgx_einit_check(&ss, mrenclave, 0x4, 0x3, 0, &err) == 0, "%s", err_msg(err));
	err_free(&err);
	/* Masks are 0: any attributes pass, a different enclave does not. */
	CHECK(sgx_einit_check(&ss, mrenclave, 0x6, 0x7, 1, &err) == 0, "%s", err_msg(err));
	err_free(&err);
	uint8_t other[32];
	memcpy(other, mrenclave, 32);
	other[31] ^= 1;
	CHECK(sgx_einit_check(&ss, other, 0x4, 0x3, 0, &err) == SGX_INVALID_MEASUREMENT, "%s",
	      err_msg(err));
	err_free(&err);
	CHECK(sgx_sigstruct_parse(&ss, ss_buf, ss_len - 1, &err) == -EINVAL, "short SIGSTRUCT");
	err_free(&err);
}

static void test_resign(void)
{
	struct sgx_sign_opts o;
	struct sgx_sigstruct ss;
	err_t err = NULL;

	vector_fields(&o);
	sgx_sigstruct_init(&ss, &o, mrenclave);
	CHECK(sgx_sigstruct_sign(&ss, pem, pem_len, &err) == 0, "%s", err_msg(err));
	CHECK(memcmp(&ss, ss_buf, sizeof(ss)) == 0, "re-signed SIGSTRUCT differs from encl.ss");
	err_free(&err);
}

static void test_material_roundtrip(void)
{
	uint8_t material[256];
	struct sgx_sigstruct ss, ref;
	err_t err = NULL;

	memcpy(&ref, ss_buf, sizeof(ref));
	sgx_sigstruct_material(&ref, material);
	CHECK(memcmp(material, ss_buf, 128) == 0 && memcmp(material + 128, ss_buf + 900, 128) == 0,
	      "material ranges");
	sgx_sigstruct_from_material(&ss, material);
	CHECK(sgx_sigstruct_check(&ss, &err) < 0, "unsigned SIGSTRUCT must not verify");
	err_free(&err);
}

/* Flips one bit of byte i; returns what sgx_sigstruct_check says. */
static int tampered(size_t i, uint8_t x)
{
	struct sgx_sigstruct ss;
	err_t err = NULL;
	int ret;

	memcpy(&ss, ss_buf, sizeof(ss));
	((uint8_t *)&ss)[i] ^= x;
	ret = sgx_sigstruct_check(&ss, &err);
	if (ret == 0)
		printf("# byte %zu ^ 0x%02x accepted\n", i, x);
	err_free(&err);
	return ret;
}

static void test_tamper_sigstruct(void)
{
	static const struct {
		size_t from, to;
	} ranges[] = { { 0, 128 },    { 128, 512 },   { 512, 516 },  { 516, 900 },
		       { 900, 1028 }, { 1040, 1424 }, { 1424, 1808 } };
	int accepted = 0;

	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (size_t i = ranges[r].from; i < ranges[r].to; i++)
			accepted += tampered(i, 0x01) == 0;
	/* A few high-bit flips too: they push values past the modulus. */
	for (size_t i = 516 + 383; i < 516 + 384; i++)
		accepted += tampered(i, 0x80) == 0;
	accepted += tampered(128 + 383, 0x80) == 0;
	CHECK(accepted == 0, "%d tampered SIGSTRUCTs accepted", accepted);
}

static void test_einit_classes(void)
{
	struct sgx_sigstruct ss;
	struct sgx_sign_opts o;
	err_t err = NULL;

	memcpy(&ss, ss_buf, sizeof(ss));
	ss.header.header[0] ^= 1;
	CHECK(sgx_einit_check(&ss, mrenclave, 4, 3, 0, &err) == SGX_INVALID_SIG_STRUCT, "header");
	err_free(&err);
	memcpy(&ss, ss_buf, sizeof(ss));
	ss.exponent = 65537;
	CHECK(sgx_einit_check(&ss, mrenclave, 4, 3, 0, &err) == SGX_INVALID_SIG_STRUCT, "exponent");
	err_free(&err);
	memcpy(&ss, ss_buf, sizeof(ss));
	ss.signature[7] ^= 1;
	CHECK(sgx_einit_check(&ss, mrenclave, 4, 3, 0, &err) == SGX_INVALID_SIGNATURE, "signature");
	err_free(&err);
	memcpy(&ss, ss_buf, sizeof(ss));
	ss.q1[7] ^= 1;
	CHECK(sgx_einit_check(&ss, mrenclave, 4, 3, 0, &err) == SGX_INVALID_SIGNATURE, "q1");
	err_free(&err);
	memcpy(&ss, ss_buf, sizeof(ss));
	ss.q2[0] ^= 1;
	CHECK(sgx_einit_check(&ss, mrenclave, 4, 3, 0, &err) == SGX_INVALID_SIGNATURE, "q2");
	err_free(&err);
	memcpy(&ss, ss_buf, sizeof(ss));
	ss.body.isvsvn = 1; /* signed field: signature no longer matches */
	CHECK(sgx_einit_check(&ss, mrenclave, 4, 3, 0, &err) == SGX_INVALID_SIGNATURE, "isvsvn");
	err_free(&err);

	/* Masks: signed with defaults (everything significant) and DEBUG off. */
	sgx_sign_opts_default(&o);
	sgx_sigstruct_init(&ss, &o, mrenclave);
	CHECK(sgx_sigstruct_sign(&ss, pem, pem_len, &err) == 0, "%s", err_msg(err));
	err_free(&err);
	CHECK(sgx_einit_check(&ss, mrenclave, 0x4, 0x3, 0, &err) == 0, "%s", err_msg(err));
	err_free(&err);
	CHECK(sgx_einit_check(&ss, mrenclave, 0x4, 0x7, 0, &err) == 0, "AVX is outside the mask");
	err_free(&err);
	CHECK(sgx_einit_check(&ss, mrenclave, 0x6, 0x3, 0, &err) == SGX_INVALID_ATTRIBUTE,
	      "DEBUG refused");
	err_free(&err);
	CHECK(sgx_einit_check(&ss, mrenclave, 0x4, 0x1, 0, &err) == SGX_INVALID_ATTRIBUTE,
	      "missing SSE refused");
	err_free(&err);
	CHECK(sgx_einit_check(&ss, mrenclave, 0x4, 0x3, 1, &err) == SGX_INVALID_ATTRIBUTE,
	      "miscselect refused");
	err_free(&err);
	CHECK(sgx_einit_check(&ss, mrenclave, 0x24, 0x3, 0, &err) == SGX_INVALID_EINITTOKEN,
	      "EINITTOKENKEY refused");
	err_free(&err);
}

static void test_tamper_image(void)
{
	uint8_t *copy = malloc(bin_len), out[32];
	struct sgx_image img;
	err_t err = NULL;
	int accepted = 0;

	/* Every byte; under valgrind (100x slower SHA) every 61st. */
	const char *preload = getenv("LD_PRELOAD");
	size_t step = preload && strstr(preload, "vgpreload") ? 61 : 1;

	memcpy(copy, bin, bin_len);
	for (size_t i = 0; i < bin_len; i += step) {
		copy[i] ^= 0x01;
		if (sgx_image_from_flat_mem(&img, copy, bin_len, "tcs,rwx*5", 32768, 1, &err) ==
			0 &&
		    sgx_image_measure(&img, out, &err) == 0)
			accepted += memcmp(out, mrenclave, 32) == 0;
		sgx_image_free(&img);
		copy[i] ^= 0x01;
	}
	CHECK(accepted == 0, "%d tampered images measure the same", accepted);
	/* Permissions, size and SSA frame size are measured too. */
	sgx_image_from_flat_mem(&img, bin, bin_len, "tcs,rwx*4,rw", 32768, 1, &err);
	sgx_image_measure(&img, out, &err);
	CHECK(memcmp(out, mrenclave, 32) != 0, "permissions");
	sgx_image_free(&img);
	sgx_image_from_flat_mem(&img, bin, bin_len, "tcs,rwx*5", 65536, 1, &err);
	sgx_image_measure(&img, out, &err);
	CHECK(memcmp(out, mrenclave, 32) != 0, "size");
	sgx_image_free(&img);
	sgx_image_from_flat_mem(&img, bin, bin_len, "tcs,rwx*5", 32768, 2, &err);
	sgx_image_measure(&img, out, &err);
	CHECK(memcmp(out, mrenclave, 32) != 0, "ssaframesize");
	sgx_image_free(&img);
	err_free(&err);
	free(copy);
}

int main(void)
{
	dir = vectors_dir();
	if (dir == NULL) {
		printf("skip - sgx vectors: not found (set SGX_VECTORS, or SRCDIR with "
		       "../shared/vectors/sgx beside it)\n");
		return 77;
	}
	bin = read_vector(dir, "encl.bin", &bin_len);
	ss_buf = read_vector(dir, "encl.ss", &ss_len);
	pem = read_vector(dir, "encl.pem", &pem_len);

	TAP_RUN(test_measure);
	TAP_RUN(test_streaming_api);
	TAP_RUN(test_sigstruct);
	TAP_RUN(test_resign);
	TAP_RUN(test_material_roundtrip);
	TAP_RUN(test_tamper_sigstruct);
	TAP_RUN(test_einit_classes);
	TAP_RUN(test_tamper_image);

	free(bin);
	free(ss_buf);
	free(pem);
	return tap_exit();
}
