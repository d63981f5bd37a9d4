// SPDX-License-Identifier: Apache-2.0
/*
 * The emulator refuses what SGX hardware (or the Linux driver) refuses,
 * with the class hardware uses: one case per fault condition of ECREATE,
 * EADD, EINIT, EENTER, EGETKEY and EREPORT (Intel SDM vol. 3D, the SGX
 * instruction references) that the loader's API can reach. EEXTEND is
 * issued by the loader itself, on whole pages it has just added: none of
 * its conditions (alignment, a page not added, after EINIT) is reachable.
 *
 * The enclave: page 0 TCS (OSSA 0x6000, NSSA 1, OENTRY 0x1000), page 1
 * code, page 2 RW KEYREQUESTs, page 3 R (KEYREQUESTs, a TARGETINFO and
 * REPORTDATA), page 4 RW output, page 5 not added, page 6 the SSA, page 7
 * not added. Its code runs ENCLU with RAX = RDI, RBX = RSI, RCX = RDX,
 * RDX = R8 and EEXITs with RDI = RAX: a fault is an AEX (-EFAULT naming
 * the vector), a status comes back in RDI.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

#include "../tap.h"
#include "sgx/image.h"
#include "sgx/loader.h"
#include "sgx/measure.h"
#include "sgx/sigstruct.h"

static const uint8_t enclu_code[] = {
	0x49, 0x89, 0xcb,	      /* mov %rcx,%r11 (the AEP) */
	0x48, 0x89, 0xf8,	      /* mov %rdi,%rax */
	0x48, 0x89, 0xf3,	      /* mov %rsi,%rbx */
	0x48, 0x89, 0xd1,	      /* mov %rdx,%rcx */
	0x4c, 0x89, 0xc2,	      /* mov %r8,%rdx */
	0x0f, 0x01, 0xd7,	      /* enclu */
	0x48, 0x89, 0xc7,	      /* mov %rax,%rdi */
	0x4c, 0x89, 0xdb,	      /* mov %r11,%rbx */
	0xb8, 0x04, 0x00, 0x00, 0x00, /* mov $EEXIT,%eax */
	0x0f, 0x01, 0xd7,	      /* enclu */
};

/* KEYREQUEST slots: page 2 (RW) then page 3 (R). */
enum {
	KR_SEAL,
	KR_RESERVED1,
	KR_RESERVED2,
	KR_POLICY_RESERVED,
	KR_NOISVPRODID,
	KR_CONFIGID,
	KR_ISVFAMILYID,
	KR_ISVEXTPRODID,
	KR_CONFIGSVN,
	KR_BADNAME,
	KR_PROVISION,
	KR_EINITTOKEN,
	KR_ISVSVN,
	KR_CPUSVN,
	KR_REPORT,
};
#define TI_OFF	  0x3e00 /* a zero TARGETINFO; also the REPORTDATA */
#define OUT_OFF	  0x4000
#define HOLE_OFF  0x5000
#define ENCL_SIZE 0x8000

static uint8_t pg[7][4096] __attribute__((aligned(4096)));
static struct sgx_image_page table[7];
static struct sgx_image img;
static const char *key;
static struct sgx_load_opts emu = { .backend = SGX_BACKEND_EMULATOR };
static uint32_t patch_vendor; /* set in the signed SIGSTRUCT (signing refuses it) */

static struct sgx_keyrequest *kr(int slot)
{
	return (struct sgx_keyrequest *)(pg[2] + 512 * slot);
}

static void build(void)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)pg[0];
	static const uint64_t offs[7] = { 0, 0x1000, 0x2000, 0x3000, 0x4000, 0x6000 };
	static const uint64_t flags[7] = { SGX_SECINFO_TCS,
					   SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X,
					   SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W,
					   SGX_SECINFO_REG | SGX_SECINFO_R,
					   SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W,
					   SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_W };

	memset(pg, 0, sizeof(pg));
	tcs->ossa = 0x6000;
	tcs->nssa = 1;
	tcs->oentry = 0x1000;
	memcpy(pg[1], enclu_code, sizeof(enclu_code));
	for (int i = KR_SEAL; i <= KR_REPORT; i++) {
		kr(i)->keyname = SGX_KEY_SEAL;
		kr(i)->keypolicy = SGX_KEYPOLICY_MRENCLAVE;
	}
	kr(KR_RESERVED1)->reserved1 = 1;
	kr(KR_RESERVED2)->reserved2[433] = 1;
	kr(KR_POLICY_RESERVED)->keypolicy |= 0x40;
	kr(KR_NOISVPRODID)->keypolicy |= SGX_KEYPOLICY_NOISVPRODID;
	kr(KR_CONFIGID)->keypolicy |= SGX_KEYPOLICY_CONFIGID;
	kr(KR_ISVFAMILYID)->keypolicy |= SGX_KEYPOLICY_ISVFAMILYID;
	kr(KR_ISVEXTPRODID)->keypolicy |= SGX_KEYPOLICY_ISVEXTPRODID;
	kr(KR_CONFIGSVN)->config_svn = 1;
	kr(KR_BADNAME)->keyname = 7;
	kr(KR_PROVISION)->keyname = SGX_KEY_PROVISION;
	kr(KR_EINITTOKEN)->keyname = SGX_KEY_EINITTOKEN;
	kr(KR_ISVSVN)->isvsvn = 1;
	memset(kr(KR_CPUSVN)->cpusvn, 0xff, 16);
	kr(KR_REPORT)->keyname = SGX_KEY_REPORT;
	for (int i = 0; i < 6; i++)
		table[i] = (struct sgx_image_page){
			.offset = offs[i], .flags = flags[i], .measured = 1, .data = pg[i]
		};
	img =
	    (struct sgx_image){ .size = ENCL_SIZE, .ssaframesize = 1, .npages = 6, .pages = table };
}

/* Measures img, signs it with so (NULL: defaults) and loads it with lo (NULL: emu). */
static int load(struct sgx_encl **e, const struct sgx_sign_opts *so, const struct sgx_load_opts *lo,
		int *cls, err_t *err)
{
	struct sgx_sign_opts o;
	struct sgx_sigstruct ss;
	uint8_t mr[32];
	int ret;

	*e = NULL;
	if (so) {
		o = *so;
	} else {
		sgx_sign_opts_default(&o);
		o.date = 0;
	}
	/* An image the measurement refuses still goes to EADD (which must refuse it too). */
	if (sgx_image_measure(&img, mr, NULL) < 0)
		memset(mr, 0, sizeof(mr));
	sgx_sigstruct_init(&ss, &o, mr);
	ret = sgx_sigstruct_sign_file(&ss, key, err);
	if (ret < 0)
		return ret;
	if (patch_vendor)
		ss.header.vendor = patch_vendor;
	return sgx_encl_load(e, &img, &ss, lo ? lo : &emu, cls, err);
}

static struct sgx_sign_opts sign_opts(void)
{
	struct sgx_sign_opts o;

	sgx_sign_opts_default(&o);
	o.date = 0;
	return o;
}

/* Loading fails, and the message holds want (and #GP, for ECREATE/EADD refusals). */
static void refused(const char *what, const struct sgx_sign_opts *so,
		    const struct sgx_load_opts *lo, int want_ret, const char *want)
{
	struct sgx_encl *e = NULL;
	err_t err = NULL;
	int cls, ret = load(&e, so, lo, &cls, &err);

	TAP_OK(ret == want_ret && strstr(err_msg(err), want), "%s: %s", what,
	       ret ? err_msg(err) : "accepted");
	sgx_encl_destroy(e);
	err_free(&err);
}

static void ecreate_refuses(const char *what, uint64_t attributes, uint64_t xfrm, uint32_t misc)
{
	struct sgx_load_opts lo = emu;

	lo.set_secs = 1;
	lo.attributes = attributes;
	lo.xfrm = xfrm;
	lo.miscselect = misc;
	refused(what, NULL, &lo, -EINVAL, "#GP");
}

static uint64_t host_xcr0(void)
{
	unsigned int a, b, c, d, lo, hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 3;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void test_ecreate(void)
{
	const uint64_t a = SGX_ATTR_MODE64BIT;

	build();
	ecreate_refuses("ECREATE: ATTRIBUTES.INIT", a | SGX_ATTR_INIT, 3, 0);
	ecreate_refuses("ECREATE: reserved ATTRIBUTES bit 3", a | 0x8, 3, 0);
	ecreate_refuses("ECREATE: ATTRIBUTES.CET", a | SGX_ATTR_CET, 3, 0);
	ecreate_refuses("ECREATE: ATTRIBUTES.KSS", a | SGX_ATTR_KSS, 3, 0);
	ecreate_refuses("ECREATE: ATTRIBUTES.AEXNOTIFY", a | SGX_ATTR_AEXNOTIFY, 3, 0);
	ecreate_refuses("ECREATE: reserved ATTRIBUTES bit 8", a | 0x100, 3, 0);
	ecreate_refuses("ECREATE: reserved ATTRIBUTES bit 63", a | (1ULL << 63), 3, 0);
	ecreate_refuses("ECREATE: XFRM without SSE", a, 1, 0);
	ecreate_refuses("ECREATE: XFRM without x87", a, 2, 0);
	ecreate_refuses("ECREATE: XFRM feature the CPU lacks (bit 62)", a, 3 | (1ULL << 62), 0);
	ecreate_refuses("ECREATE: XFRM supervisor feature (PT, bit 8)", a, 3 | 0x100, 0);
	ecreate_refuses("ECREATE: XFRM BNDREGS without BNDCSR", a, 3 | 0x8, 0);
	ecreate_refuses("ECREATE: XFRM AVX-512 opmask alone", a, 7 | 0x20, 0);
	ecreate_refuses("ECREATE: XFRM AVX-512 without AVX", a, 3 | 0xe0, 0);
	ecreate_refuses("ECREATE: XFRM XTILEDATA without XTILECFG", a, 3 | (1ULL << 18), 0);
	ecreate_refuses("ECREATE: MISCSELECT.EXINFO (an SGX2 feature)", a, 3, 1);
	ecreate_refuses("ECREATE: reserved MISCSELECT bit 31", a, 3, 1u << 31);

	/* SSAFRAMESIZE against XSAVE(XFRM) + MISC + GPRSGX. */
	TAP_OK(sgx_min_ssaframesize(3, 0) == 1 && sgx_min_ssaframesize(7, 0) == 1 &&
		   sgx_min_ssaframesize(0x2e7, 3) == 1 && sgx_min_ssaframesize(0x60003, 0) == 3 &&
		   sgx_min_ssaframesize(0x602e7, 1) == 3,
	       "minimum SSAFRAMESIZE: 1 page up to AVX-512+PKRU with EXINFO, 3 with AMX");
	if ((host_xcr0() & 0x60000) == 0x60000) {
		ecreate_refuses("ECREATE: SSAFRAMESIZE 1 too small for AMX", a, 0x60003, 0);
	} else {
		printf("skip - ECREATE: SSAFRAMESIZE too small: every XFRM this CPU has fits in "
		       "one page (XCR0 %#llx)\n",
		       (unsigned long long)host_xcr0());
	}

	/* SECS.SIZE: at least 2 pages, at most the CPU's maximum. */
	build();
	img.size = 4096;
	img.npages = 1;
	refused("ECREATE: SECS.SIZE of 1 page", NULL, NULL, -EINVAL, "#GP");
	build();
	img.size = 1ULL << 37;
	refused("ECREATE: SECS.SIZE above 64 GiB", NULL, NULL, -EINVAL, "#GP");
	build();
}

static void test_eadd(void)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)pg[0];

	build();
	table[5].offset = ENCL_SIZE;
	refused("EADD: page outside the ELRANGE", NULL, NULL, -EINVAL, "outside the ELRANGE");
	build();
	table[5].offset = 0x4000;
	refused("EADD: page added twice", NULL, NULL, -EEXIST, "added twice");
	build();
	table[4].flags |= SGX_SECINFO_PENDING;
	refused("EADD: SECINFO reserved bit", NULL, NULL, -EINVAL, "reserved");
	build();
	table[4].flags = SGX_SECINFO_VA | SGX_SECINFO_R;
	refused("EADD: SECINFO page type VA", NULL, NULL, -EINVAL, "neither TCS nor REG");
	build();
	table[4].flags = SGX_SECINFO_REG | SGX_SECINFO_W;
	refused("EADD: writable, not readable", NULL, NULL, -EINVAL, "not readable");
	build();
	table[0].flags = SGX_SECINFO_TCS | SGX_SECINFO_R;
	refused("EADD: TCS with permissions", NULL, NULL, -EINVAL, "TCS page with permissions");
	build();
	tcs->reserved[100] = 1;
	refused("EADD: TCS reserved bytes", NULL, NULL, -EINVAL, "reserved bytes not zero (#GP)");
	build();
	tcs->flags = 2;
	refused("EADD: TCS.FLAGS reserved bit", NULL, NULL, -EINVAL, "malformed TCS");
	build();
	tcs->cssa = 1;
	refused("EADD: TCS.CSSA not 0", NULL, NULL, -EINVAL, "malformed TCS");
	build();
	tcs->ossa = 0x6010;
	refused("EADD: TCS.OSSA not page aligned", NULL, NULL, -EINVAL, "malformed TCS");
	build();
	tcs->ofsbase = 0x10;
	refused("EADD: TCS.OFSBASE not page aligned", NULL, NULL, -EINVAL, "malformed TCS");
	build();
	tcs->ogsbase = 0x10;
	refused("EADD: TCS.OGSBASE not page aligned", NULL, NULL, -EINVAL, "malformed TCS");
	build();
	/* 64-bit enclaves: the SDM checks FSLIMIT/GSLIMIT only when MODE64BIT is 0. */
	tcs->fslimit = 0x1234;
	tcs->gslimit = 0;
	{
		struct sgx_encl *e = NULL;
		err_t err = NULL;
		int ret = load(&e, NULL, NULL, NULL, &err);

		TAP_OK(ret == 0, "EADD: FSLIMIT/GSLIMIT are not checked for a 64-bit enclave%s%s",
		       ret ? ": " : "", ret ? err_msg(err) : "");
		sgx_encl_destroy(e);
		err_free(&err);
	}
	build();
}

static void test_einit(void)
{
	struct sgx_sign_opts so = sign_opts();
	struct sgx_load_opts lo = emu;

	build();
	patch_vendor = 0x1234;
	refused("EINIT: SIGSTRUCT vendor 0x1234", &so, NULL, -EPERM, "SGX_INVALID_SIG_STRUCT");
	patch_vendor = 0;
	so.vendor = 0x1234;
	{
		struct sgx_sigstruct ss;
		uint8_t mr[32] = { 0 };
		err_t err = NULL;
		int ret;

		sgx_sigstruct_init(&ss, &so, mr);
		ret = sgx_sigstruct_sign_file(&ss, key, &err);
		TAP_OK(ret < 0 && strstr(err_msg(err), "vendor"),
		       "signing refuses SIGSTRUCT vendor 0x1234: %s", err_msg(err));
		err_free(&err);
	}
	so = sign_opts();
	so.vendor = SGX_SIGSTRUCT_VENDOR_INTEL;
	{
		struct sgx_encl *e = NULL;
		err_t err = NULL;
		int ret = load(&e, &so, NULL, NULL, &err);

		TAP_OK(ret == 0, "EINIT: SIGSTRUCT vendor 0x8086 is fine%s%s", ret ? ": " : "",
		       ret ? err_msg(err) : "");
		sgx_encl_destroy(e);
		err_free(&err);
	}
	so = sign_opts();
	so.attributes |= SGX_ATTR_DEBUG;
	so.attributes_mask = ~0ULL;
	lo.set_secs = 1;
	lo.attributes = SGX_ATTR_MODE64BIT;
	lo.xfrm = 3;
	refused("EINIT: ATTRIBUTES differ under ATTRIBUTEMASK", &so, &lo, -EPERM,
		"SGX_INVALID_ATTRIBUTE");
	so = sign_opts();
	so.xfrm_mask = ~0ULL;
	so.xfrm = 7;
	refused("EINIT: XFRM differs under XFRMMASK", &so, &lo, -EPERM, "SGX_INVALID_ATTRIBUTE");
	so = sign_opts();
	so.attributes |= SGX_ATTR_EINITTOKENKEY;
	refused("EINIT: EINITTOKENKEY without the launch enclave's signer", &so, NULL, -EPERM,
		"SGX_INVALID_EINITTOKEN");

	/* PROVISIONKEY: the driver's provision gate. */
	so = sign_opts();
	so.attributes |= SGX_ATTR_PROVISIONKEY;
	refused("EINIT: PROVISIONKEY without the provision gate", &so, NULL, -EACCES,
		"provision gate");
	lo = emu;
	lo.allow_provision = 1;
	{
		struct sgx_encl *e = NULL;
		struct sgx_encl_regs r;
		uint8_t out[16];
		err_t err = NULL;
		int ret = load(&e, &so, &lo, NULL, &err);

		TAP_OK(ret == 0, "EINIT: PROVISIONKEY through the provision gate%s%s",
		       ret ? ": " : "", ret ? err_msg(err) : "");
		if (e) {
			uint64_t b = sgx_encl_base(e);

			r = (struct sgx_encl_regs){ .rdi = SGX_EGETKEY,
						    .rsi = b + 0x2000 + 512 * KR_PROVISION,
						    .rdx = b + OUT_OFF };
			ret = sgx_encl_call(e, 0, &r, &err);
			TAP_OK(ret == 0 && r.rdi == 0, "EGETKEY(PROVISION) with PROVISIONKEY%s%s",
			       ret ? ": " : "", ret ? err_msg(err) : "");
			(void)out;
		}
		sgx_encl_destroy(e);
		err_free(&err);
	}
}

/* Runs ENCLU[leaf] inside a fresh enclave; -EFAULT with the vector in err, or RAX. */
static int enclu(uint64_t leaf, uint64_t rbx, uint64_t rcx, uint64_t rdx, uint64_t *rax,
		 uint64_t *base_out, err_t *err)
{
	struct sgx_encl *e = NULL;
	struct sgx_encl_regs r;
	int ret = load(&e, NULL, NULL, NULL, err);
	uint64_t b;

	if (ret < 0)
		return ret;
	b = sgx_encl_base(e);
	if (base_out)
		*base_out = b;
	/* Offsets below ENCL_SIZE are enclave offsets; anything else is an address. */
	r = (struct sgx_encl_regs){ .rdi = leaf,
				    .rsi = rbx < ENCL_SIZE ? b + rbx : rbx,
				    .rdx = rcx < ENCL_SIZE ? b + rcx : rcx,
				    .r8 = rdx < ENCL_SIZE ? b + rdx : rdx };
	ret = sgx_encl_call(e, 0, &r, err);
	*rax = r.rdi;
	sgx_encl_destroy(e);
	return ret;
}

static uint8_t host_buf[4096] __attribute__((aligned(4096)));

static void fault(const char *what, uint64_t leaf, uint64_t rbx, uint64_t rcx, uint64_t rdx,
		  const char *vector)
{
	err_t err = NULL;
	uint64_t rax = 0;
	int ret = enclu(leaf, rbx, rcx, rdx, &rax, NULL, &err);

	TAP_OK(ret == -EFAULT && strstr(err_msg(err), vector), "%s: %s", what,
	       ret ? err_msg(err) : "no fault");
	err_free(&err);
}

static void status(const char *what, int slot, uint64_t want)
{
	err_t err = NULL;
	uint64_t rax = ~0ULL;
	int ret = enclu(SGX_EGETKEY, 0x2000 + 512 * slot, OUT_OFF, 0, &rax, NULL, &err);

	TAP_OK(ret == 0 && rax == want, "%s: status %llu (want %llu)%s%s", what,
	       (unsigned long long)rax, (unsigned long long)want, ret ? ": " : "",
	       ret ? err_msg(err) : "");
	err_free(&err);
}

static void test_egetkey(void)
{
	const uint64_t host = (uintptr_t)host_buf;
	const uint64_t seal = 0x2000 + 512 * KR_SEAL;

	build();
	status("EGETKEY(SEAL)", KR_SEAL, SGX_SUCCESS);
	status("EGETKEY(REPORT)", KR_REPORT, SGX_SUCCESS);
	fault("EGETKEY: KEYREQUEST not 512-byte aligned", SGX_EGETKEY, seal + 64, OUT_OFF, 0,
	      "#GP");
	fault("EGETKEY: OUTPUTDATA not 16-byte aligned", SGX_EGETKEY, seal, OUT_OFF + 8, 0, "#GP");
	fault("EGETKEY: KEYREQUEST outside the enclave", SGX_EGETKEY, host, OUT_OFF, 0, "#GP");
	fault("EGETKEY: OUTPUTDATA outside the enclave", SGX_EGETKEY, seal, host, 0, "#GP");
	fault("EGETKEY: KEYREQUEST on a page not added", SGX_EGETKEY, HOLE_OFF, OUT_OFF, 0, "#PF");
	fault("EGETKEY: KEYREQUEST on the TCS", SGX_EGETKEY, 0x200, OUT_OFF, 0, "#PF");
	fault("EGETKEY: OUTPUTDATA on a read-only page", SGX_EGETKEY, seal, 0x3000, 0, "#PF");
	fault("EGETKEY: OUTPUTDATA on a page not added", SGX_EGETKEY, seal, HOLE_OFF, 0, "#PF");
	fault("EGETKEY: KEYREQUEST.RESERVED1", SGX_EGETKEY, 0x2000 + 512 * KR_RESERVED1, OUT_OFF, 0,
	      "#GP");
	fault("EGETKEY: KEYREQUEST.RESERVED2", SGX_EGETKEY, 0x2000 + 512 * KR_RESERVED2, OUT_OFF, 0,
	      "#GP");
	fault("EGETKEY: KEYPOLICY reserved bit", SGX_EGETKEY, 0x2000 + 512 * KR_POLICY_RESERVED,
	      OUT_OFF, 0, "#GP");
	fault("EGETKEY: KEYPOLICY.NOISVPRODID without KSS", SGX_EGETKEY,
	      0x2000 + 512 * KR_NOISVPRODID, OUT_OFF, 0, "#GP");
	fault("EGETKEY: KEYPOLICY.CONFIGID without KSS", SGX_EGETKEY, 0x2000 + 512 * KR_CONFIGID,
	      OUT_OFF, 0, "#GP");
	fault("EGETKEY: KEYPOLICY.ISVFAMILYID without KSS", SGX_EGETKEY,
	      0x2000 + 512 * KR_ISVFAMILYID, OUT_OFF, 0, "#GP");
	fault("EGETKEY: KEYPOLICY.ISVEXTPRODID without KSS", SGX_EGETKEY,
	      0x2000 + 512 * KR_ISVEXTPRODID, OUT_OFF, 0, "#GP");
	fault("EGETKEY: CONFIGSVN without KSS", SGX_EGETKEY, 0x2000 + 512 * KR_CONFIGSVN, OUT_OFF,
	      0, "#GP");
	status("EGETKEY: unknown KEYNAME", KR_BADNAME, SGX_INVALID_KEYNAME);
	status("EGETKEY(PROVISION) without PROVISIONKEY", KR_PROVISION, SGX_INVALID_ATTRIBUTE);
	status("EGETKEY(EINITTOKEN) without EINITTOKENKEY", KR_EINITTOKEN, SGX_INVALID_ATTRIBUTE);
	status("EGETKEY: ISVSVN above the enclave's", KR_ISVSVN, SGX_INVALID_ISVSVN);
	status("EGETKEY: CPUSVN above the CPU's", KR_CPUSVN, SGX_INVALID_CPUSVN);
}

static void test_ereport(void)
{
	const uint64_t host = (uintptr_t)host_buf;
	struct sgx_targetinfo ti;
	err_t err = NULL;
	uint64_t rax = ~0ULL, b = 0;
	int ret;

	build();
	ret = enclu(SGX_EREPORT, TI_OFF, TI_OFF, OUT_OFF, &rax, &b, &err);
	TAP_OK(ret == 0 && rax == 0, "EREPORT%s%s", ret ? ": " : "", ret ? err_msg(err) : "");
	err_free(&err);
	(void)ti;
	fault("EREPORT: TARGETINFO not 512-byte aligned", SGX_EREPORT, TI_OFF + 128, TI_OFF,
	      OUT_OFF, "#GP");
	fault("EREPORT: REPORTDATA not 128-byte aligned", SGX_EREPORT, TI_OFF, TI_OFF + 64, OUT_OFF,
	      "#GP");
	fault("EREPORT: OUTPUTDATA not 512-byte aligned", SGX_EREPORT, TI_OFF, TI_OFF,
	      OUT_OFF + 128, "#GP");
	fault("EREPORT: TARGETINFO outside the enclave", SGX_EREPORT, host, TI_OFF, OUT_OFF, "#GP");
	fault("EREPORT: REPORTDATA outside the enclave", SGX_EREPORT, TI_OFF, host, OUT_OFF, "#GP");
	fault("EREPORT: OUTPUTDATA outside the enclave", SGX_EREPORT, TI_OFF, TI_OFF, host, "#GP");
	fault("EREPORT: TARGETINFO on a page not added", SGX_EREPORT, HOLE_OFF, TI_OFF, OUT_OFF,
	      "#PF");
	fault("EREPORT: REPORTDATA on the TCS", SGX_EREPORT, TI_OFF, 0x80, OUT_OFF, "#PF");
	fault("EREPORT: OUTPUTDATA on a read-only page", SGX_EREPORT, TI_OFF, TI_OFF, 0x3000,
	      "#PF");
}

static void test_eenter(void)
{
	struct sgx_tcs *tcs = (struct sgx_tcs *)pg[0];
	err_t err = NULL;
	uint64_t rax;
	int ret;

	build();
	tcs->oentry = 0x100000;
	ret = enclu(SGX_EGETKEY, 0x2000, OUT_OFF, 0, &rax, NULL, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "EENTER") && strstr(err_msg(err), "#GP"),
	       "EENTER: OENTRY outside the enclave: %s", ret ? err_msg(err) : "entered");
	err_free(&err);
	build();
	tcs->ossa = 0x3000; /* a read-only page */
	ret = enclu(SGX_EGETKEY, 0x2000, OUT_OFF, 0, &rax, NULL, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#GP"), "EENTER: SSA on a read-only page: %s",
	       ret ? err_msg(err) : "entered");
	err_free(&err);
	build();
	tcs->nssa = 0;
	ret = enclu(SGX_EGETKEY, 0x2000, OUT_OFF, 0, &rax, NULL, &err);
	TAP_OK(ret == -EFAULT && strstr(err_msg(err), "#GP"), "EENTER: NSSA 0: %s",
	       ret ? err_msg(err) : "entered");
	err_free(&err);
	build();
}

/* A LibOS needs many threads: 100 TCS, each acquired, entered and released. */
static void test_many_tcs(void)
{
	enum { NTCS = 100, CODE = NTCS, DATA = NTCS + 1, SSA = NTCS + 2, NPG = 2 * NTCS + 2 };
	static uint8_t buf[NPG][4096] __attribute__((aligned(4096)));
	static struct sgx_image_page pages[NPG];
	struct sgx_keyrequest *req = (struct sgx_keyrequest *)buf[DATA];
	struct sgx_encl *e = NULL;
	int got[NTCS + 1], ok = 1, ret;
	err_t err = NULL;

	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < NPG; i++) {
		pages[i] = (struct sgx_image_page){ .offset = (uint64_t)i * 4096,
						    .flags = SGX_SECINFO_REG | SGX_SECINFO_R |
							     SGX_SECINFO_W,
						    .measured = 1,
						    .data = buf[i] };
		if (i < NTCS) {
			struct sgx_tcs *t = (struct sgx_tcs *)buf[i];

			t->ossa = (uint64_t)(SSA + i) * 4096;
			t->nssa = 1;
			t->oentry = CODE * 4096;
			pages[i].flags = SGX_SECINFO_TCS;
		}
	}
	pages[CODE].flags = SGX_SECINFO_REG | SGX_SECINFO_R | SGX_SECINFO_X;
	memcpy(buf[CODE], enclu_code, sizeof(enclu_code));
	req->keyname = SGX_KEY_SEAL;
	req->keypolicy = SGX_KEYPOLICY_MRSIGNER;
	img =
	    (struct sgx_image){ .size = 1 << 20, .ssaframesize = 1, .npages = NPG, .pages = pages };
	ret = load(&e, NULL, NULL, NULL, &err);
	TAP_OK(ret == 0 && sgx_encl_tcs_count(e) == NTCS, "enclave with %d TCS loads%s%s", NTCS,
	       ret ? ": " : "", ret ? err_msg(err) : "");
	err_free(&err);
	if (ret) {
		build();
		return;
	}
	for (int i = 0; i < NTCS; i++) {
		got[i] = sgx_encl_tcs_acquire(e, &err);
		ok &= got[i] == i;
	}
	got[NTCS] = sgx_encl_tcs_acquire(e, &err);
	TAP_OK(ok && got[NTCS] == -EBUSY, "all %d TCS can be acquired, then EBUSY (got %d, %d)",
	       NTCS, got[NTCS - 1], got[NTCS]);
	err_free(&err);
	sgx_encl_tcs_release(e, 70);
	ret = sgx_encl_tcs_acquire(e, &err);
	TAP_OK(ret == 70, "a released TCS past the 64th is acquired again (%d)", ret);
	err_free(&err);
	ok = 1;
	for (int i = 0; i < NTCS; i++) {
		uint64_t b = sgx_encl_base(e);
		struct sgx_encl_regs r = { .rdi = SGX_EGETKEY,
					   .rsi = b + DATA * 4096,
					   .rdx = b + DATA * 4096 + 512 };

		ret = sgx_encl_call(e, i, &r, &err);
		ok &= ret == 0 && r.rdi == 0;
		sgx_encl_tcs_release(e, i);
	}
	TAP_OK(ok, "each of the %d TCS enters (EGETKEY) and exits%s%s", NTCS, err ? ": " : "",
	       err ? err_msg(err) : "");
	err_free(&err);
	sgx_encl_destroy(e);
	build();
}

int main(void)
{
	const char *build_dir = getenv("BUILD") ? getenv("BUILD") : "build";
	char secret[] = "/tmp/sgx-emu-faults.XXXXXX", spath[4200], kpath[4200];

	if (RUNNING_ON_VALGRIND) {
		printf("skip - enclave execution under valgrind (ENCLU traps need the real CPU)\n");
		return 0;
	}
	if (!mkdtemp(secret))
		return 1;
	snprintf(spath, sizeof(spath), "%s/secret", secret);
	setenv("SGX_EMU_SECRET", spath, 1);
	snprintf(kpath, sizeof(kpath), "%s/share/skeleton/signing_key.pem", build_dir);
	key = kpath;

	test_ecreate();
	test_eadd();
	test_einit();
	test_eenter();
	test_egetkey();
	test_ereport();
	test_many_tcs();

	unlink(spath);
	rmdir(secret);
	return tap_exit();
}
