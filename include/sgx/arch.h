/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Intel SGX architectural structures (Intel SDM vol. 3D, chapter 34), with
 * compile-time checks of every size and offset the toolkit relies on.
 *
 * The structures are packed so that they can overlay any byte buffer (a
 * SIGSTRUCT read from a file, a page of an image); the hardware alignment
 * each needs when handed to ENCLS/ENCLU is given by the SGX_*_ALIGN
 * constants and is the caller's business.
 */
#ifndef SGX_ARCH_H
#define SGX_ARCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SGX_PAGE_SIZE	 4096ULL
#define SGX_PAGE_SHIFT	 12
#define SGX_HASH_SIZE	 32  /* SHA-256: MRENCLAVE, MRSIGNER */
#define SGX_MODULUS_SIZE 384 /* RSA-3072 */
#define SGX_SSA_GPR_SIZE 184

#define SGX_SECS_ALIGN	     4096
#define SGX_TCS_ALIGN	     4096
#define SGX_SIGSTRUCT_ALIGN  4096
#define SGX_SECINFO_ALIGN    64
#define SGX_TARGETINFO_ALIGN 512
#define SGX_REPORT_ALIGN     512
#define SGX_KEYREQUEST_ALIGN 512
#define SGX_REPORTDATA_ALIGN 128

/* SECINFO.FLAGS: permissions in bits 0-2, page type in bits 8-15. */
#define SGX_SECINFO_R	      0x001ULL
#define SGX_SECINFO_W	      0x002ULL
#define SGX_SECINFO_X	      0x004ULL
#define SGX_SECINFO_PENDING   0x008ULL
#define SGX_SECINFO_MODIFIED  0x010ULL
#define SGX_SECINFO_PR	      0x020ULL
#define SGX_SECINFO_PERM_MASK 0x007ULL
#define SGX_SECINFO_PT_SHIFT  8
#define SGX_SECINFO_PT_MASK   0xff00ULL
#define SGX_SECINFO_SECS      0x000ULL
#define SGX_SECINFO_TCS	      0x100ULL
#define SGX_SECINFO_REG	      0x200ULL
#define SGX_SECINFO_VA	      0x300ULL
#define SGX_SECINFO_TRIM      0x400ULL
/* Bits EADD accepts at all: permissions plus the page type. */
#define SGX_SECINFO_EADD_MASK (SGX_SECINFO_PERM_MASK | SGX_SECINFO_PT_MASK)

enum sgx_page_type {
	SGX_PT_SECS = 0,
	SGX_PT_TCS = 1,
	SGX_PT_REG = 2,
	SGX_PT_VA = 3,
	SGX_PT_TRIM = 4,
};

/* ENCLU leaves (EAX). */
enum sgx_enclu_leaf {
	SGX_EREPORT = 0,
	SGX_EGETKEY = 1,
	SGX_EENTER = 2,
	SGX_ERESUME = 3,
	SGX_EEXIT = 4,
	SGX_EACCEPT = 5,
	SGX_EMODPE = 6,
	SGX_EACCEPTCOPY = 7,
};

/* ENCLS leaves (EAX), for the emulator and for documentation. */
enum sgx_encls_leaf {
	SGX_ECREATE = 0,
	SGX_EADD = 1,
	SGX_EINIT = 2,
	SGX_EREMOVE = 3,
	SGX_EDBGRD = 4,
	SGX_EDBGWR = 5,
	SGX_EEXTEND = 6,
	SGX_ELDB = 7,
	SGX_ELDU = 8,
	SGX_EBLOCK = 9,
	SGX_EPA = 10,
	SGX_EWB = 11,
	SGX_ETRACK = 12,
};

/* Error codes ENCLS[EINIT] / ENCLU[EGETKEY] return in EAX (SDM table 40-4). */
enum sgx_return_code {
	SGX_SUCCESS = 0,
	SGX_INVALID_SIG_STRUCT = 1,
	SGX_INVALID_ATTRIBUTE = 2,
	SGX_BLKSTATE = 3,
	SGX_INVALID_MEASUREMENT = 4,
	SGX_NOTBLOCKABLE = 5,
	SGX_PG_INVLD = 6,
	SGX_EPC_PAGE_CONFLICT = 7,
	SGX_INVALID_SIGNATURE = 8,
	SGX_MAC_COMPARE_FAIL = 9,
	SGX_PAGE_NOT_BLOCKED = 10,
	SGX_NOT_TRACKED = 11,
	SGX_VA_SLOT_OCCUPIED = 12,
	SGX_CHILD_PRESENT = 13,
	SGX_ENCLAVE_ACT = 14,
	SGX_ENTRYEPOCH_LOCKED = 15,
	SGX_INVALID_EINITTOKEN = 16,
	SGX_PREV_TRK_INCMPL = 17,
	SGX_IS_SECS = 18,
	SGX_PAGE_ATTRIBUTES_MISMATCH = 19,
	SGX_PAGE_NOT_MODIFIABLE = 20,
	SGX_PAGE_NOT_DEBUGGABLE = 21,
	SGX_INVALID_CPUSVN = 32,
	SGX_INVALID_ISVSVN = 64,
	SGX_UNMASKED_EVENT = 128,
	SGX_INVALID_KEYNAME = 256,
};

/* SECS.ATTRIBUTES flags. */
#define SGX_ATTR_INIT	       0x01ULL
#define SGX_ATTR_DEBUG	       0x02ULL
#define SGX_ATTR_MODE64BIT     0x04ULL
#define SGX_ATTR_PROVISIONKEY  0x10ULL
#define SGX_ATTR_EINITTOKENKEY 0x20ULL
#define SGX_ATTR_CET	       0x40ULL
#define SGX_ATTR_KSS	       0x80ULL
#define SGX_ATTR_AEXNOTIFY     0x400ULL
/* XFRM: x87 and SSE state are always required. */
#define SGX_XFRM_LEGACY 0x03ULL

/* SECS: the enclave control structure ECREATE consumes. */
struct sgx_secs {
	uint64_t size;
	uint64_t base;
	uint32_t ssaframesize; /* in pages */
	uint32_t miscselect;
	uint8_t reserved1[24];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[32];
	uint8_t config_id[64];
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint16_t config_svn;
	uint8_t reserved4[3834];
} __attribute__((packed));

/* TCS: one per enclave thread; offsets are relative to the enclave base. */
struct sgx_tcs {
	uint64_t state;
	uint64_t flags; /* bit 0: DBGOPTIN */
	uint64_t ossa;
	uint32_t cssa;
	uint32_t nssa;
	uint64_t oentry;
	uint64_t aep; /* written by EENTER */
	uint64_t ofsbase;
	uint64_t ogsbase;
	uint32_t fslimit;
	uint32_t gslimit;
	uint8_t reserved[4024];
} __attribute__((packed));

struct sgx_secinfo {
	uint64_t flags;
	uint8_t reserved[56];
} __attribute__((packed));

/* GPR area at the end of each SSA frame (last 184 bytes of the frame). */
struct sgx_gpr {
	uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rflags;
	uint64_t rip;
	uint64_t ursp;
	uint64_t urbp;
	uint32_t exitinfo; /* bits 0-7 vector, 8-10 type, bit 31 valid */
	uint32_t reserved;
	uint64_t fsbase;
	uint64_t gsbase;
} __attribute__((packed));

/* SIGSTRUCT: the two signed ranges are header (bytes 0-127) and body (900-1027). */
struct sgx_sigstruct_header {
	uint8_t header[16];
	uint32_t vendor; /* 0 or 0x8086 */
	uint32_t date;	 /* BCD 0xYYYYMMDD */
	uint8_t header2[16];
	uint32_t swdefined;
	uint8_t reserved1[84];
} __attribute__((packed));

struct sgx_sigstruct_body {
	uint32_t miscselect;
	uint32_t miscmask;
	uint8_t reserved2[4];
	uint8_t isvextprodid[16];
	uint64_t attributes;
	uint64_t xfrm;
	uint64_t attributes_mask;
	uint64_t xfrm_mask;
	uint8_t enclavehash[32];
	uint8_t reserved3[16];
	uint8_t isvfamilyid[16];
	uint16_t isvprodid;
	uint16_t isvsvn;
} __attribute__((packed));

struct sgx_sigstruct {
	struct sgx_sigstruct_header header;
	uint8_t modulus[SGX_MODULUS_SIZE];   /* little-endian */
	uint32_t exponent;		     /* 3 */
	uint8_t signature[SGX_MODULUS_SIZE]; /* little-endian */
	struct sgx_sigstruct_body body;
	uint8_t reserved4[12];
	uint8_t q1[SGX_MODULUS_SIZE]; /* little-endian */
	uint8_t q2[SGX_MODULUS_SIZE]; /* little-endian */
} __attribute__((packed));

#define SGX_SIGSTRUCT_SIZE	   1808
#define SGX_SIGSTRUCT_HEADER	   "\x06\x00\x00\x00\xe1\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00"
#define SGX_SIGSTRUCT_HEADER2	   "\x01\x01\x00\x00\x60\x00\x00\x00\x60\x00\x00\x00\x01\x00\x00\x00"
#define SGX_SIGSTRUCT_VENDOR_INTEL 0x8086

struct sgx_targetinfo {
	uint8_t mrenclave[32];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t reserved1[2];
	uint16_t config_svn;
	uint32_t miscselect;
	uint8_t reserved2[8];
	uint8_t config_id[64];
	uint8_t reserved3[384];
} __attribute__((packed));

struct sgx_report_body {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t reserved1[12];
	uint8_t isvextprodid[16];
	uint64_t attributes;
	uint64_t xfrm;
	uint8_t mrenclave[32];
	uint8_t reserved2[32];
	uint8_t mrsigner[32];
	uint8_t reserved3[32];
	uint8_t config_id[64];
	uint16_t isvprodid;
	uint16_t isvsvn;
	uint16_t config_svn;
	uint8_t reserved4[42];
	uint8_t isvfamilyid[16];
	uint8_t reportdata[64];
} __attribute__((packed));

/* REPORT: the MAC (AES-128-CMAC under the target's report key) covers the body. */
struct sgx_report {
	struct sgx_report_body body;
	uint8_t keyid[32];
	uint8_t mac[16];
} __attribute__((packed));

enum sgx_keyname {
	SGX_KEY_EINITTOKEN = 0,
	SGX_KEY_PROVISION = 1,
	SGX_KEY_PROVISION_SEAL = 2,
	SGX_KEY_REPORT = 3,
	SGX_KEY_SEAL = 4,
};

#define SGX_KEYPOLICY_MRENCLAVE	   0x0001
#define SGX_KEYPOLICY_MRSIGNER	   0x0002
#define SGX_KEYPOLICY_NOISVPRODID  0x0004
#define SGX_KEYPOLICY_CONFIGID	   0x0008
#define SGX_KEYPOLICY_ISVFAMILYID  0x0010
#define SGX_KEYPOLICY_ISVEXTPRODID 0x0020

struct sgx_keyrequest {
	uint16_t keyname;
	uint16_t keypolicy;
	uint16_t isvsvn;
	uint16_t reserved1;
	uint8_t cpusvn[16];
	uint64_t attributes_mask;
	uint64_t xfrm_mask;
	uint8_t keyid[32];
	uint32_t miscmask;
	uint16_t config_svn;
	uint8_t reserved2[434];
} __attribute__((packed));

#define SGX_CHECK_LAYOUT(type, field, off) _Static_assert(offsetof(type, field) == (off), #field)

_Static_assert(sizeof(struct sgx_secs) == 4096, "SECS size");
SGX_CHECK_LAYOUT(struct sgx_secs, ssaframesize, 16);
SGX_CHECK_LAYOUT(struct sgx_secs, attributes, 48);
SGX_CHECK_LAYOUT(struct sgx_secs, mrenclave, 64);
SGX_CHECK_LAYOUT(struct sgx_secs, mrsigner, 128);
SGX_CHECK_LAYOUT(struct sgx_secs, config_id, 192);
SGX_CHECK_LAYOUT(struct sgx_secs, isvprodid, 256);
SGX_CHECK_LAYOUT(struct sgx_secs, reserved4, 262);

_Static_assert(sizeof(struct sgx_tcs) == 4096, "TCS size");
SGX_CHECK_LAYOUT(struct sgx_tcs, ossa, 16);
SGX_CHECK_LAYOUT(struct sgx_tcs, cssa, 24);
SGX_CHECK_LAYOUT(struct sgx_tcs, nssa, 28);
SGX_CHECK_LAYOUT(struct sgx_tcs, oentry, 32);
SGX_CHECK_LAYOUT(struct sgx_tcs, ofsbase, 48);
SGX_CHECK_LAYOUT(struct sgx_tcs, fslimit, 64);

_Static_assert(sizeof(struct sgx_secinfo) == 64, "SECINFO size");

_Static_assert(sizeof(struct sgx_gpr) == SGX_SSA_GPR_SIZE, "GPR size");
SGX_CHECK_LAYOUT(struct sgx_gpr, rflags, 128);
SGX_CHECK_LAYOUT(struct sgx_gpr, rip, 136);
SGX_CHECK_LAYOUT(struct sgx_gpr, exitinfo, 160);
SGX_CHECK_LAYOUT(struct sgx_gpr, fsbase, 168);

_Static_assert(sizeof(struct sgx_sigstruct_header) == 128, "SIGSTRUCT header");
_Static_assert(sizeof(struct sgx_sigstruct_body) == 128, "SIGSTRUCT body");
_Static_assert(sizeof(struct sgx_sigstruct) == SGX_SIGSTRUCT_SIZE, "SIGSTRUCT size");
SGX_CHECK_LAYOUT(struct sgx_sigstruct, header.vendor, 16);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, header.date, 20);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, header.header2, 24);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, header.swdefined, 40);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, modulus, 128);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, exponent, 512);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, signature, 516);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.miscselect, 900);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.miscmask, 904);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.isvextprodid, 912);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.attributes, 928);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.attributes_mask, 944);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.enclavehash, 960);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.isvfamilyid, 1008);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.isvprodid, 1024);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, body.isvsvn, 1026);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, q1, 1040);
SGX_CHECK_LAYOUT(struct sgx_sigstruct, q2, 1424);

_Static_assert(sizeof(struct sgx_targetinfo) == 512, "TARGETINFO size");
SGX_CHECK_LAYOUT(struct sgx_targetinfo, attributes, 32);
SGX_CHECK_LAYOUT(struct sgx_targetinfo, config_svn, 50);
SGX_CHECK_LAYOUT(struct sgx_targetinfo, miscselect, 52);
SGX_CHECK_LAYOUT(struct sgx_targetinfo, config_id, 64);

_Static_assert(sizeof(struct sgx_report_body) == 384, "REPORT body size");
_Static_assert(sizeof(struct sgx_report) == 432, "REPORT size");
SGX_CHECK_LAYOUT(struct sgx_report_body, miscselect, 16);
SGX_CHECK_LAYOUT(struct sgx_report_body, isvextprodid, 32);
SGX_CHECK_LAYOUT(struct sgx_report_body, attributes, 48);
SGX_CHECK_LAYOUT(struct sgx_report_body, mrenclave, 64);
SGX_CHECK_LAYOUT(struct sgx_report_body, mrsigner, 128);
SGX_CHECK_LAYOUT(struct sgx_report_body, config_id, 192);
SGX_CHECK_LAYOUT(struct sgx_report_body, isvprodid, 256);
SGX_CHECK_LAYOUT(struct sgx_report_body, isvfamilyid, 304);
SGX_CHECK_LAYOUT(struct sgx_report_body, reportdata, 320);
SGX_CHECK_LAYOUT(struct sgx_report, keyid, 384);
SGX_CHECK_LAYOUT(struct sgx_report, mac, 416);

_Static_assert(sizeof(struct sgx_keyrequest) == 512, "KEYREQUEST size");
SGX_CHECK_LAYOUT(struct sgx_keyrequest, cpusvn, 8);
SGX_CHECK_LAYOUT(struct sgx_keyrequest, attributes_mask, 24);
SGX_CHECK_LAYOUT(struct sgx_keyrequest, keyid, 40);
SGX_CHECK_LAYOUT(struct sgx_keyrequest, miscmask, 72);
SGX_CHECK_LAYOUT(struct sgx_keyrequest, config_svn, 76);

#ifdef __cplusplus
}
#endif

#endif
