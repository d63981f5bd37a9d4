/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LibOS enclave: the TCS, the EENTER dispatch, OCALLs and EEXIT.
 *
 * EENTER hands us RAX = CSSA, RBX = the TCS, RCX = where to EEXIT to, and
 * the host's RSP/RBP. Each entry records the host's callee-saved state in
 * the thread context (TCTX_*), so the next EEXIT, from whichever entry is
 * current, goes back to the frame that entered. Dispatch:
 *   OCALL_RET   resumes the pending OCALL (the only ecall accepted while one
 *               is out; anything else kills the enclave);
 *   START       CSSA 0, once: libos_start on the LibOS stack;
 *   EXCEPTION   CSSA >= 1: libos_exception on the exception stack, which
 *               edits SSA frame CSSA-1 and asks the host to ERESUME.
 * C returns a two-word struct: RAX = the exit reason, RDX = its value.
 * One TCS in this slice (threads come with per-TCS contexts).
 */
#include "libos/libos_abi.h"

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
#define TCTX_STARTED  120
#define TCTX_DEAD     128
#define TCTX_SIZE     192

#define SSA_FRAME 4096

	.section .tcs, "aw"
	.balign 4096
	.global __encl_tcs
	.hidden __encl_tcs
__encl_tcs:
	.quad 0				/* STATE */
	.quad 0				/* FLAGS */
	.quad libos_ssa - . + (. - __encl_tcs) /* OSSA */
	.long 0				/* CSSA */
	.long LIBOS_NSSA		/* NSSA */
	.quad encl_entry - . + (. - __encl_tcs) /* OENTRY */
	.quad 0				/* AEP */
	.quad 0				/* OFSBASE */
	.quad 0				/* OGSBASE */
	.long 0xffffffff		/* FSLIMIT */
	.long 0xffffffff		/* GSLIMIT */
	.fill 4024, 1, 0

	.section .manifest, "a"
	.balign 4096
	.ascii LIBOS_MANIFEST_SLOT_MAGIC
	.fill 4096 - 24, 1, 0

	.section .data.encl, "aw"
	.balign 4096
	.global libos_ssa
	.hidden libos_ssa
libos_ssa:
	.fill LIBOS_NSSA * SSA_FRAME, 1, 0
	.balign 4096
libos_stack:
	.fill LIBOS_STACK_SIZE, 1, 0
libos_exc_stack:
	.fill LIBOS_EXC_STACK_SIZE, 1, 0
	.balign 64
	.global libos_tctx
	.hidden libos_tctx
libos_tctx:
	.fill TCTX_SIZE, 1, 0

	.text
	.global encl_entry
	.type encl_entry, @function
encl_entry:
	/*
	 * One thread context in this slice: only the first TCS may enter (a
	 * manifest with more threads is refused here, before any state is
	 * touched; the host's RSP, RBP and R12-R15 are still in place).
	 */
	lea __encl_tcs(%rip), %r11
	cmp %r11, %rbx
	jne .Lother_tcs
	lea libos_tctx(%rip), %r11
	mov %rsp, TCTX_HOST_RSP(%r11)
	mov %rbp, TCTX_HOST_RBP(%r11)
	mov %rcx, TCTX_HOST_RET(%r11)
	mov %r12, TCTX_HOST_R12(%r11)
	mov %r13, TCTX_HOST_R13(%r11)
	mov %r14, TCTX_HOST_R14(%r11)
	mov %r15, TCTX_HOST_R15(%r11)
	cld
	cmpq $0, TCTX_DEAD(%r11)
	jne .Lrefuse
	cmpq $0, TCTX_PENDING(%r11)
	jne .Locall_ret
	cmp $LIBOS_ECALL_EXCEPTION, %rdi
	je .Lexception
	cmp $LIBOS_ECALL_START, %rdi
	jne .Lrefuse
	test %rax, %rax
	jnz .Lrefuse
	cmpq $0, TCTX_STARTED(%r11)
	jne .Lrefuse
	movq $1, TCTX_STARTED(%r11)
	lea libos_stack + LIBOS_STACK_SIZE(%rip), %rsp
	xor %ebp, %ebp
	mov %rsi, %rdi
	call libos_start
	jmp .Lreturn

.Lexception:
	test %rax, %rax
	jz .Lrefuse
	lea libos_exc_stack + LIBOS_EXC_STACK_SIZE(%rip), %rsp
	xor %ebp, %ebp
	mov %rax, %rdi
	mov %rsi, %rsi
	call libos_exception
.Lreturn:
	lea libos_tctx(%rip), %r11
	mov %rax, %rdi
	mov %rdx, %rsi
	jmp encl_exit

.Locall_ret:
	cmp $LIBOS_ECALL_OCALL_RET, %rdi
	jne .Lrefuse
	movq $0, TCTX_PENDING(%r11)
	mov TCTX_ENCL_RSP(%r11), %rsp
	mov TCTX_ENCL_RBP(%r11), %rbp
	mov TCTX_ENCL_RBX(%r11), %rbx
	mov TCTX_ENCL_R12(%r11), %r12
	mov TCTX_ENCL_R13(%r11), %r13
	mov TCTX_ENCL_R14(%r11), %r14
	mov TCTX_ENCL_R15(%r11), %r15
	mov %rsi, %rax
	ret				/* from libos_ocall_raw(), with the result */

	/* A protocol violation: the enclave stops for good. */
.Lrefuse:
	movq $1, TCTX_DEAD(%r11)
	mov $LIBOS_EXIT_DONE, %rdi
	mov $-22, %rsi			/* -EINVAL */
	jmp encl_exit

.Lother_tcs:
	mov %rcx, %rbx
	mov $LIBOS_EXIT_DONE, %rdi
	mov $-22, %rsi			/* -EINVAL */
	xor %ecx, %ecx
	xor %edx, %edx
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	mov $4, %eax			/* EEXIT */
	enclu

/* long libos_ocall_raw(long nr): EEXIT for an OCALL, returns its result. */
	.global libos_ocall_raw
	.hidden libos_ocall_raw
	.type libos_ocall_raw, @function
libos_ocall_raw:
	lea libos_tctx(%rip), %r11
	mov %rsp, TCTX_ENCL_RSP(%r11)
	mov %rbp, TCTX_ENCL_RBP(%r11)
	mov %rbx, TCTX_ENCL_RBX(%r11)
	mov %r12, TCTX_ENCL_R12(%r11)
	mov %r13, TCTX_ENCL_R13(%r11)
	mov %r14, TCTX_ENCL_R14(%r11)
	mov %r15, TCTX_ENCL_R15(%r11)
	movq $1, TCTX_PENDING(%r11)
	mov %rdi, %rsi
	mov $LIBOS_EXIT_OCALL, %rdi
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
