/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The skeleton enclave's ABI with its untrusted host (the skeleton PALs),
 * shared by both sides. The host EENTERs with RDI = an ecall number and
 * RSI = an untrusted mailbox; the enclave EEXITs with RDI = an exit reason
 * and RSI = a value. OCALLs (output, time) exit with SKEL_EXIT_OCALL and are
 * resumed by an EENTER with SKEL_ECALL_OCALL_RET and RSI = the result, on
 * the same TCS. Data crosses the boundary only by copy through the mailbox.
 */
#ifndef SKELETON_ABI_H
#define SKELETON_ABI_H

#define SKEL_NTCS	4	   /* concurrent enclave threads */
#define SKEL_STACK_SIZE (4 * 4096) /* per TCS */
#define SKEL_NSSA	2	   /* SSA frames per TCS */

/* EENTER: RDI */
#define SKEL_ECALL_MAIN	     1 /* run argv from the mailbox; returns the exit status */
#define SKEL_ECALL_REPORT    2 /* EREPORT for mailbox targetinfo/reportdata */
#define SKEL_ECALL_OCALL_RET 3 /* resume the pending OCALL with RSI as its result */

/* EEXIT: RDI */
#define SKEL_EXIT_RETURN 1 /* RSI: the ecall's result */
#define SKEL_EXIT_OCALL	 2 /* RSI: an OCALL number below */

#define SKEL_OCALL_WRITE                                                                           \
	1 /* write mailbox buf[0,len) to stdio fd (1 or 2); result: bytes or -errno */
#define SKEL_OCALL_SLEEP 2 /* sleep arg seconds; result: 0, or the signal that interrupted it */

#define SKEL_ARGV_MAX 4096
#define SKEL_BUF_MAX  1024

#ifndef __ASSEMBLER__
#include <stdint.h>

struct skel_mailbox {
	/* SKEL_ECALL_MAIN: argc NUL-terminated strings, argv[0] excluded */
	uint32_t argc;
	uint32_t argv_len;
	char argv[SKEL_ARGV_MAX];
	/* OCALLs */
	uint32_t fd;
	uint32_t len;
	uint64_t arg;
	char buf[SKEL_BUF_MAX];
	/* SKEL_ECALL_REPORT */
	uint8_t targetinfo[512];
	uint8_t reportdata[64];
	uint8_t report[432];
};
#endif

#endif
