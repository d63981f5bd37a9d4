// SPDX-License-Identifier: Apache-2.0
/*
 * The emulator's enclave entry: a function with the contract of the vDSO's
 * __vdso_sgx_enter_enclave (arguments, struct sgx_enclave_run, user
 * handler, exception reporting), so the loader drives both backends the
 * same way. Its ENCLU raises SIGILL on a CPU without SGX; emu.c emulates
 * the leaf and either lands the EEXIT right after it, or, for an exception
 * inside the enclave (an AEX), resumes at sgx_emu_fixup with RAX = the
 * leaf, RDI/RSI/RDX = vector, error code, address, as the kernel's
 * exception fixup does for the vDSO. Unlike the vDSO it also preserves
 * R12-R15 for the caller.
 *
 * struct sgx_enclave_run offsets: tcs 0, function 8, exception_vector 12,
 * exception_error_code 14, exception_addr 16, user_handler 24.
 */
#include <stddef.h>

#include "loader_backend.h"

#include <signal.h>
#include <ucontext.h>

_Static_assert(offsetof(ucontext_t, uc_stack.ss_sp) == 16, "uc_stack.ss_sp");
_Static_assert(offsetof(ucontext_t, uc_stack.ss_size) == 32, "uc_stack.ss_size");
_Static_assert(offsetof(struct sgx_enclave_run, function) == 8, "run.function");
_Static_assert(offsetof(struct sgx_enclave_run, exception_vector) == 12, "run.vector");
_Static_assert(offsetof(struct sgx_enclave_run, exception_error_code) == 14, "run.error_code");
_Static_assert(offsetof(struct sgx_enclave_run, exception_addr) == 16, "run.addr");
_Static_assert(offsetof(struct sgx_enclave_run, user_handler) == 24, "run.user_handler");

asm(".text\n"
    "	.globl sgx_emu_enter_enclave\n"
    "	.hidden sgx_emu_enter_enclave\n"
    "	.type sgx_emu_enter_enclave, @function\n"
    "	.p2align 4\n"
    "sgx_emu_enter_enclave:\n"
    "	.cfi_startproc\n"
    "	push %rbp\n"
    "	.cfi_def_cfa_offset 16\n"
    "	.cfi_offset %rbp, -16\n"
    "	mov %rsp, %rbp\n"
    "	.cfi_def_cfa_register %rbp\n"
    "	push %rbx\n"
    "	push %r12\n"
    "	push %r13\n"
    "	push %r14\n"
    "	push %r15\n"
    "	.cfi_offset %rbx, -24\n"
    "	.cfi_offset %r12, -32\n"
    "	.cfi_offset %r13, -40\n"
    "	.cfi_offset %r14, -48\n"
    "	.cfi_offset %r15, -56\n"
    "	mov %ecx, %eax\n"
    "1:	cmp $2, %eax\n" /* EENTER or ERESUME only */
    "	jb 3f\n"
    "	cmp $3, %eax\n"
    "	ja 3f\n"
    "	mov 16(%rbp), %rcx\n" /* run */
    "	mov (%rcx), %rbx\n"   /* run->tcs */
    "	lea sgx_emu_aep(%rip), %rcx\n"
    "	.globl sgx_emu_aep\n"
    "	.hidden sgx_emu_aep\n"
    "sgx_emu_aep:\n"
    "	enclu\n"
    /* EEXIT lands here */
    "	mov 16(%rbp), %rbx\n"
    "	movl $4, 8(%rbx)\n" /* run->function = EEXIT */
    "2:	cmpq $0, 24(%rbx)\n"
    "	jne 4f\n"
    "	xor %eax, %eax\n"
    "5:	lea -40(%rbp), %rsp\n"
    "	pop %r15\n"
    "	pop %r14\n"
    "	pop %r13\n"
    "	pop %r12\n"
    "	pop %rbx\n"
    "	pop %rbp\n"
    "	.cfi_def_cfa %rsp, 8\n"
    "	ret\n"
    "	.cfi_def_cfa %rbp, 16\n"
    "3:	mov $-22, %eax\n" /* -EINVAL */
    "	jmp 5b\n"
    "	.globl sgx_emu_fixup\n"
    "	.hidden sgx_emu_fixup\n"
    "sgx_emu_fixup:\n"
    "	mov 16(%rbp), %rbx\n"
    "	mov %eax, 8(%rbx)\n"
    "	mov %di, 12(%rbx)\n"
    "	mov %si, 14(%rbx)\n"
    "	mov %rdx, 16(%rbx)\n"
    "	jmp 2b\n"
    /* user_handler(rdi, rsi, rdx, untrusted rsp, r8, r9, run) */
    "4:	mov %rsp, %rcx\n"
    "	mov %rbx, %rax\n"
    "	mov %rsp, %r12\n"
    "	and $-16, %rsp\n"
    "	sub $8, %rsp\n"
    "	push %rax\n"
    "	cld\n"
    "	call *24(%rax)\n"
    "	mov %r12, %rsp\n"
    "	cmp $0, %eax\n"
    "	jle 5b\n"
    "	jmp 1b\n"
    "	.cfi_endproc\n"
    "	.size sgx_emu_enter_enclave, .-sgx_emu_enter_enclave\n");

/*
 * The emulator's signal handler. Inside an enclave FS holds the enclave's
 * base (OFSBASE), so no C code may run before the host's thread pointer is
 * back: this entry finds the thread's alternate-stack header (emu.c's
 * struct alt_hdr: magic 0, host_fs 8, inside 16, encl_fs 24) through the
 * ucontext's uc_stack, restores the host FS base if the thread was inside
 * (having read the enclave's live one first where enclave code can change
 * it: sgx_emu_live_fs),
 * calls sgx_emu_on_fault, and loads the enclave's FS base again if the
 * thread is inside when it returns (after an emulated EENTER, ERESUME or
 * EREPORT). A stack that is not ours (or no alternate stack) means the
 * thread was not inside.
 */
asm(".text\n"
    "	.globl sgx_emu_sig_entry\n"
    "	.hidden sgx_emu_sig_entry\n"
    "	.type sgx_emu_sig_entry, @function\n"
    "	.p2align 4\n"
    "sgx_emu_sig_entry:\n"
    "	.cfi_startproc\n"
    "	push %rbx\n"
    "	.cfi_def_cfa_offset 16\n"
    "	.cfi_offset %rbx, -16\n"
    "	xor %ebx, %ebx\n"
    "	mov 16(%rdx), %rax\n" /* uc_stack.ss_sp: ours is 32 past a 256 KiB boundary */
    "	mov %rax, %rcx\n"
    "	and $0x3ffff, %ecx\n"
    "	cmp $32, %ecx\n"
    "	jne 1f\n"
    "	mov %rsp, %rcx\n" /* and we run on it */
    "	sub %rax, %rcx\n"
    "	cmp 32(%rdx), %rcx\n"
    "	jae 1f\n"
    "	lea -32(%rax), %rax\n"
    "	movabs $0x5347582d454d5521, %rcx\n"
    "	cmp %rcx, (%rax)\n"
    "	jne 1f\n"
    "	mov %rax, %rbx\n"
    "	cmpq $0, 16(%rbx)\n"
    "	je 1f\n"
    "	mov %rdi, %r8\n"
    "	mov %rsi, %r9\n"
    "	mov %rdx, %r10\n"
    "	cmpl $0, sgx_emu_live_fs(%rip)\n"
    "	je 3f\n"
    "	lea 24(%rbx), %rsi\n" /* arch_prctl(ARCH_GET_FS, &encl_fs): the live one */
    "	mov $0x1003, %edi\n"
    "	mov $158, %eax\n"
    "	syscall\n"
    "3:	mov 8(%rbx), %rsi\n" /* arch_prctl(ARCH_SET_FS, host_fs) */
    "	mov $0x1002, %edi\n"
    "	mov $158, %eax\n"
    "	syscall\n"
    "	mov %r8, %rdi\n"
    "	mov %r9, %rsi\n"
    "	mov %r10, %rdx\n"
    "1:	call sgx_emu_on_fault\n"
    "	test %rbx, %rbx\n"
    "	jz 2f\n"
    "	cmpq $0, 16(%rbx)\n"
    "	je 2f\n"
    "	mov 24(%rbx), %rsi\n" /* arch_prctl(ARCH_SET_FS, encl_fs) */
    "	mov $0x1002, %edi\n"
    "	mov $158, %eax\n"
    "	syscall\n"
    "2:	pop %rbx\n"
    "	.cfi_def_cfa_offset 8\n"
    "	ret\n"
    "	.cfi_endproc\n"
    "	.size sgx_emu_sig_entry, .-sgx_emu_sig_entry\n");
