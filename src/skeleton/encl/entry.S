/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Skeleton enclave: TCS pages and the EENTER/EEXIT/OCALL glue.
 *
 * EENTER hands us RAX = CSSA, RBX = the TCS, RCX = where to EEXIT to;
 * RSP/RBP are still the host's. Each TCS has a thread context (TCTX_*) in
 * enclave memory that keeps the host's callee-saved registers (so an EEXIT
 * leaves them as the host expects) and, while an OCALL is out, the
 * enclave's own. Code is position independent and the TCS fields are
 * PC-relative expressions, so the image has no relocations at all.
 */
#include "skeleton/skeleton_abi.h"

#define TCTX_HOST_RSP 0
#define TCTX_HOST_RBP 8
#define TCTX_HOST_RET 16
#define TCTX_HOST_R12 24
#define TCTX_HOST_R13 32
#define TCTX_HOST_R14 40
#define TCTX_HOST_R15 48
#define TCTX_ENCL_RSP 56
#define TCTX_ENCL_RBP 64
#define TCTX_ENCL_RBX 72
#define TCTX_ENCL_R12 80
#define TCTX_ENCL_R13 88
#define TCTX_ENCL_R14 96
#define TCTX_ENCL_R15 104
#define TCTX_PENDING  112
#define TCTX_SIZE     128

#define SSA_FRAME 4096

/* One 4096-byte TCS; OSSA and OENTRY are offsets from the enclave base (0). */
.macro tcs n
	.quad 0				/* STATE */
	.quad 0				/* FLAGS: no DBGOPTIN */
	.quad encl_ssa - . + (. - __encl_tcs) + \n * SKEL_NSSA * SSA_FRAME /* OSSA */
	.long 0				/* CSSA */
	.long SKEL_NSSA			/* NSSA */
	.quad encl_entry - . + (. - __encl_tcs) /* OENTRY */
	.quad 0				/* AEP */
	.quad 0				/* OFSBASE */
	.quad 0				/* OGSBASE */
	.long 0xffffffff		/* FSLIMIT */
	.long 0xffffffff		/* GSLIMIT */
	.fill 4024, 1, 0
.endm

	.section .tcs, "aw"
	.balign 4096
__encl_tcs:
	tcs 0
	tcs 1
	tcs 2
	tcs 3

	.section .data.encl, "aw"
	.balign 4096
encl_ssa:
	.fill SKEL_NTCS * SKEL_NSSA * SSA_FRAME, 1, 0
	.balign 4096
encl_stacks:
	.fill SKEL_NTCS * SKEL_STACK_SIZE, 1, 0
	.balign 64
	.global encl_tctx
	.hidden encl_tctx
encl_tctx:
	.fill SKEL_NTCS * TCTX_SIZE, 1, 0

	.text
	.global encl_entry
	.type encl_entry, @function
encl_entry:
	/* r10 = this TCS's index, r11 = its thread context */
	lea __encl_tcs(%rip), %r11
	mov %rbx, %r10
	sub %r11, %r10
	shr $12, %r10
	mov %r10, %r11
	shl $7, %r11			/* * TCTX_SIZE */
	lea encl_tctx(%rip), %r8
	add %r8, %r11

	mov %rsp, TCTX_HOST_RSP(%r11)
	mov %rbp, TCTX_HOST_RBP(%r11)
	mov %rcx, TCTX_HOST_RET(%r11)
	mov %r12, TCTX_HOST_R12(%r11)
	mov %r13, TCTX_HOST_R13(%r11)
	mov %r14, TCTX_HOST_R14(%r11)
	mov %r15, TCTX_HOST_R15(%r11)
	cld

	/* Entered for an exception (CSSA > 0): not handled, report it. */
	test %rax, %rax
	jnz .Lfault

	cmp $SKEL_ECALL_OCALL_RET, %rdi
	jne .Lfresh
	cmpq $0, TCTX_PENDING(%r11)
	je .Lfault
	movq $0, TCTX_PENDING(%r11)
	mov TCTX_ENCL_RSP(%r11), %rsp
	mov TCTX_ENCL_RBP(%r11), %rbp
	mov TCTX_ENCL_RBX(%r11), %rbx
	mov TCTX_ENCL_R12(%r11), %r12
	mov TCTX_ENCL_R13(%r11), %r13
	mov TCTX_ENCL_R14(%r11), %r14
	mov TCTX_ENCL_R15(%r11), %r15
	mov %rsi, %rax
	ret				/* from encl_ocall(), with the result */

.Lfresh:
	/* A new ecall; an OCALL the host abandoned is dropped. */
	movq $0, TCTX_PENDING(%r11)
	lea 1(%r10), %rax
	imul $SKEL_STACK_SIZE, %rax
	lea encl_stacks(%rip), %rsp
	add %rax, %rsp
	xor %rbp, %rbp
	mov %rdi, %rax
	mov %rsi, %rdx
	mov %rax, %rsi
	mov %r11, %rdi
	push %r11
	push %r11
	call encl_main			/* (tctx, op, mailbox) */
	pop %r11
	pop %r11
	mov $SKEL_EXIT_RETURN, %rdi
	mov %rax, %rsi
	jmp encl_exit

.Lfault:
	mov $SKEL_EXIT_RETURN, %rdi
	mov $-14, %rsi			/* -EFAULT */
	jmp encl_exit

/* long encl_ocall(struct tctx *t, long nr): EEXIT for an OCALL, returns its result. */
	.global encl_ocall
	.type encl_ocall, @function
encl_ocall:
	mov %rdi, %r11
	mov %rsp, TCTX_ENCL_RSP(%r11)
	mov %rbp, TCTX_ENCL_RBP(%r11)
	mov %rbx, TCTX_ENCL_RBX(%r11)
	mov %r12, TCTX_ENCL_R12(%r11)
	mov %r13, TCTX_ENCL_R13(%r11)
	mov %r14, TCTX_ENCL_R14(%r11)
	mov %r15, TCTX_ENCL_R15(%r11)
	movq $1, TCTX_PENDING(%r11)
	mov %rsi, %rsi
	mov $SKEL_EXIT_OCALL, %rdi
	/* fall through */

/* r11 = tctx, rdi = reason, rsi = value: back to the host. */
encl_exit:
	mov TCTX_HOST_RSP(%r11), %rsp
	mov TCTX_HOST_RBP(%r11), %rbp
	mov TCTX_HOST_RET(%r11), %rbx
	mov TCTX_HOST_R12(%r11), %r12
	mov TCTX_HOST_R13(%r11), %r13
	mov TCTX_HOST_R14(%r11), %r14
	mov TCTX_HOST_R15(%r11), %r15
	/* Leave nothing of the enclave's in the other registers. */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	add %rdx, %rdx			/* clears OF, SF, AF, CF */
	mov $4, %eax			/* EEXIT */
	enclu

	.section .note.GNU-stack, "", @progbits
