/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LibOS enclave: the TCS, the EENTER dispatch, OCALLs and EEXIT.
 *
 * EENTER hands us RAX = CSSA, RBX = the TCS, RCX = where to EEXIT to, and
 * the host's RSP/RBP. The TCS names the thread: the first TCS is thread 0
 * (libos_thread0, in measured data), the others (libsgx's extra TCS pages,
 * from libos_tcs1 up) the threads the LibOS started, whose blocks
 * libos_threads[] points to; any other TCS is refused without touching
 * state. Each entry records the host's callee-saved state in the thread's
 * context (TCTX_*), so the next EEXIT, from whichever entry is current,
 * goes back to the frame that entered. Dispatch:
 *   OCALL_RET   resumes the thread's pending OCALL (the only ecall accepted
 *               while one is out; anything else kills the enclave);
 *   START       thread 0, CSSA 0, once: libos_start on its stack;
 *   THREAD      a thread the LibOS made ready, once: at CSSA 0 (a TCS never
 *               used) it executes UD2 at libos_thread_trap, and the AEX
 *               this causes lets the exception handler load the new
 *               thread's registers (FS base included) into SSA frame 0,
 *               which ERESUME then loads; at CSSA 1 (a TCS whose thread
 *               ended in its handler) they go into frame 0 right away;
 *   EXCEPTION   CSSA >= 1: libos_exception on the thread's stack, which
 *               edits SSA frame CSSA-1 and asks the host to ERESUME;
 *   REPORT      on the service TCS (the last one, never a thread's), CSSA
 *               0: libos_report, an EREPORT for the host (rune attest).
 * C returns a two-word struct: RAX = the exit reason, RDX = its value.
 * A thread's block (LIBOS_THREAD_BLOCK bytes, aligned to that size except
 * thread 0's) holds its context at the bottom and its stack above, so
 * the current thread is found from RSP.
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
#define TCTX_STATE    120	/* 0 free, 1 ready to enter, 2 running */
#define TCTX_STACK    128	/* the top of the thread's stack */
#define TCTX_MB	      136	/* RSI of the THREAD ecall, checked in C */
#define TCTX_HOSTSIG  144	/* RDX of every entry, ORed: signals from outside */

#define SSA_FRAME 4096

/* r11 = the current thread, from RSP (clobbers r10). */
.macro cur_thread
	mov %rsp, %r11
	lea libos_thread0(%rip), %r10
	sub %r10, %r11
	cmp $LIBOS_THREAD_BLOCK, %r11
	jb 1f
	mov %rsp, %r10
	and $-LIBOS_THREAD_BLOCK, %r10
1:	mov %r10, %r11
.endm

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
	.quad libos_tls - . + (. - __encl_tcs) /* OFSBASE: the LibOS's %fs */
	.quad 0				/* OGSBASE */
	.long 0xffffffff		/* FSLIMIT */
	.long 0xffffffff		/* GSLIMIT */
	.fill 4024, 1, 0

	/* The LibOS's FS segment: only its stack-protector word at 0x28 is read. */
	.section .data.encl, "aw"
	.balign 4096
	.global libos_tls
	.hidden libos_tls
libos_tls:
	.zero 4096

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
	.global libos_thread0
	.hidden libos_thread0
libos_thread0:
	.fill LIBOS_THREAD_BLOCK, 1, 0

	.text
	.global encl_entry
	.type encl_entry, @function
encl_entry:
	lea __encl_tcs(%rip), %r11
	cmp %r11, %rbx
	jne .Lextra_tcs
	lea libos_thread0(%rip), %r11
.Lsave_host:
	mov %rsp, TCTX_HOST_RSP(%r11)
	mov %rbp, TCTX_HOST_RBP(%r11)
	mov %rcx, TCTX_HOST_RET(%r11)
	mov %r12, TCTX_HOST_R12(%r11)
	mov %r13, TCTX_HOST_R13(%r11)
	mov %r14, TCTX_HOST_R14(%r11)
	mov %r15, TCTX_HOST_R15(%r11)
	or %rdx, TCTX_HOSTSIG(%r11)
	cld
	cmpq $0, libos_dead(%rip)
	jne .Lrefuse
	cmpq $0, TCTX_PENDING(%r11)
	jne .Locall_ret
	cmp $LIBOS_ECALL_EXCEPTION, %rdi
	je .Lexception
	cmp $LIBOS_ECALL_THREAD, %rdi
	je .Lthread
	test %rax, %rax
	jnz .Lrefuse
	cmp $LIBOS_ECALL_REPORT, %rdi
	je .Lreport
	cmp $LIBOS_ECALL_START, %rdi
	jne .Lrefuse
	lea libos_thread0(%rip), %r10
	cmp %r10, %r11
	jne .Lrefuse
	cmpq $0, TCTX_STATE(%r11)
	jne .Lrefuse
	movq $2, TCTX_STATE(%r11)
	/* Below the top: RSP must stay inside the block for cur_thread. */
	lea libos_thread0 + LIBOS_THREAD_BLOCK - 64(%rip), %rsp
	mov %rsp, TCTX_STACK(%r11)
	xor %ebp, %ebp
	mov %rsi, %rdi
	call libos_start
	jmp .Lreturn

	/* The service TCS, or the TCS of a thread libos_threads[] names, else refused as is. */
.Lextra_tcs:
	cmp libos_service_tcs(%rip), %rbx
	jne 1f
	mov libos_service(%rip), %r11
	test %r11, %r11
	jz .Lother_tcs
	jmp .Lsave_host
1:	mov %rbx, %r10
	sub libos_tcs1(%rip), %r10
	jb .Lother_tcs
	shr $12, %r10
	cmp libos_nextra(%rip), %r10
	jae .Lother_tcs
	lea libos_threads(%rip), %r11
	mov (%r11,%r10,8), %r11
	test %r11, %r11
	jz .Lother_tcs
	jmp .Lsave_host

.Lthread:
	cmpq $1, TCTX_STATE(%r11)
	jne .Lrefuse
	cmp $1, %rax
	ja .Lrefuse
	movq $2, TCTX_STATE(%r11)
	mov %rsi, TCTX_MB(%r11)
	mov TCTX_STACK(%r11), %rsp
	test %rax, %rax
	jnz .Lthread_again
	.global libos_thread_trap
	.hidden libos_thread_trap
libos_thread_trap:
	ud2
	/*
	 * A TCS whose last thread ended: that thread left from its exception
	 * handler, so CSSA is still 1 and SSA frame 0 is free for the new
	 * thread's registers; ERESUME loads them and brings CSSA back to 0.
	 */
.Lthread_again:
	xor %ebp, %ebp
	mov %r11, %rdi
	call libos_thread_again
	jmp .Lreturn

	/* REPORT: only on the service TCS, at CSSA 0, on its own block. */
.Lreport:
	cmp libos_service(%rip), %r11
	jne .Lrefuse
	mov TCTX_STACK(%r11), %rsp
	xor %ebp, %ebp
	mov %rsi, %rdi
	call libos_report
	jmp .Lreturn

.Lexception:
	test %rax, %rax
	jz .Lrefuse
	cmpq $2, TCTX_STATE(%r11)
	jne .Lrefuse
	mov TCTX_STACK(%r11), %rsp
	xor %ebp, %ebp
	mov %rax, %rdi
	mov %r11, %rsi
	call libos_exception
.Lreturn:
	mov %rax, %rdi
	mov %rdx, %rsi
	cur_thread
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

	/* A protocol violation: the enclave stops for good, every thread. */
.Lrefuse:
	movq $1, libos_dead(%rip)
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
	cur_thread
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

/*
 * r11 = the thread, rdi = reason, rsi = value: back to the host. A thread
 * that ended frees its slot only here, after the last read of its block:
 * the LibOS may hand the block to a new thread from then on.
 */
encl_exit:
	mov TCTX_HOST_RSP(%r11), %rsp
	mov TCTX_HOST_RBP(%r11), %rbp
	mov TCTX_HOST_RET(%r11), %rbx
	mov TCTX_HOST_R12(%r11), %r12
	mov TCTX_HOST_R13(%r11), %r13
	mov TCTX_HOST_R14(%r11), %r14
	mov TCTX_HOST_R15(%r11), %r15
	cmp $LIBOS_EXIT_THREAD, %rdi
	jne 2f
	movq $0, TCTX_STATE(%r11)
2:
	/*
	 * Leave nothing of the enclave's in the other registers, vector ones
	 * included (SHA-NI and the channel's cipher use them; the workload's
	 * are in its SSA frame, which ERESUME restores).
	 */
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	pxor %xmm\n, %xmm\n
	.endr
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
