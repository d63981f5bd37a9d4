/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SHA-256 compression with the x86 SHA extensions (SHA-NI, plus SSSE3's
 * pshufb and palignr), for src/common/sha256.c, which calls it only when
 * told the CPU has them.
 *
 *   void sha256_blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
 *
 * Every XMM register used is saved on entry and restored on exit: the
 * LibOS runs this while handling the workload's system call, and on the
 * SGX emulator nothing restores the workload's vector registers (an
 * XSAVE in the SSA would, on hardware). Only position-independent
 * references: the enclave must have no relocations.
 *
 * SHA256RNDS2 takes the state as two registers, ABEF and CDGH (A in the
 * top lane), and W+K for two rounds in the low half of XMM0; after it the
 * destination holds the new ABEF and the other register is the new CDGH,
 * so the two trade roles every two rounds. The message schedule for four
 * rounds is SHA256MSG1, + W[t-7..t-4] (palignr), SHA256MSG2, done between
 * the rounds of earlier groups so that the units overlap.
 */
#define STATE0 %xmm1 /* ABEF */
#define STATE1 %xmm2 /* CDGH */
#define MSG0 %xmm3
#define MSG1 %xmm4
#define MSG2 %xmm5
#define MSG3 %xmm6
#define TMP %xmm7
#define BSWAP %xmm8
#define SAVE0 %xmm9
#define SAVE1 %xmm10

	.section .rodata
	.balign 16
.Lbswap:
	.byte 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12
.Lk:
	.long 0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5
	.long 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5
	.long 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3
	.long 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174
	.long 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc
	.long 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da
	.long 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7
	.long 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967
	.long 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13
	.long 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85
	.long 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3
	.long 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070
	.long 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5
	.long 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3
	.long 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208
	.long 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2

/*
 * Rounds 4g..4g+3 with m = W[4g..4g+3] (in MSG[g % 4]), interleaved with
 * the schedule: when fin, next (MSG[(g+1) % 4], holding SHA256MSG1's part
 * for group g+1) becomes W[4g+4..] from m and prev (W[4g-4..]); when m1,
 * prev gets SHA256MSG1's part for group g+3 (it is not needed any more).
 */
.macro GROUP g, m, prev, next, fin, m1
	movdqa \m, %xmm0
	paddd (16 * \g)(%rax), %xmm0
	sha256rnds2 %xmm0, STATE0, STATE1
.if \fin
	movdqa \m, TMP
	palignr $4, \prev, TMP
	paddd TMP, \next
	sha256msg2 \m, \next
.endif
	pshufd $0x0e, %xmm0, %xmm0
	sha256rnds2 %xmm0, STATE1, STATE0
.if \m1
	sha256msg1 \m, \prev
.endif
.endm

	.text
	.globl sha256_blocks_shani
	.hidden sha256_blocks_shani
	.type sha256_blocks_shani, @function
sha256_blocks_shani:
	sub $(11 * 16), %rsp
	movdqu %xmm0, 0(%rsp)
	movdqu %xmm1, 16(%rsp)
	movdqu %xmm2, 32(%rsp)
	movdqu %xmm3, 48(%rsp)
	movdqu %xmm4, 64(%rsp)
	movdqu %xmm5, 80(%rsp)
	movdqu %xmm6, 96(%rsp)
	movdqu %xmm7, 112(%rsp)
	movdqu %xmm8, 128(%rsp)
	movdqu %xmm9, 144(%rsp)
	movdqu %xmm10, 160(%rsp)
	test %rdx, %rdx
	jz .Lout

	/* h[0..3] = (D C B A), h[4..7] = (H G F E), top lane first */
	movdqu 0(%rdi), TMP
	movdqu 16(%rdi), STATE1
	pshufd $0x1b, TMP, TMP		/* (A B C D) */
	pshufd $0x1b, STATE1, STATE1	/* (E F G H) */
	movdqa STATE1, STATE0
	punpckhqdq TMP, STATE0		/* (A B E F) */
	punpcklqdq TMP, STATE1		/* (C D G H) */
	movdqa .Lbswap(%rip), BSWAP
	lea .Lk(%rip), %rax

.Lblock:
	movdqa STATE0, SAVE0
	movdqa STATE1, SAVE1
	movdqu 0(%rsi), MSG0
	movdqu 16(%rsi), MSG1
	movdqu 32(%rsi), MSG2
	movdqu 48(%rsi), MSG3
	pshufb BSWAP, MSG0
	pshufb BSWAP, MSG1
	pshufb BSWAP, MSG2
	pshufb BSWAP, MSG3
	GROUP 0, MSG0, MSG3, MSG1, 0, 0
	GROUP 1, MSG1, MSG0, MSG2, 0, 1
	GROUP 2, MSG2, MSG1, MSG3, 0, 1
	GROUP 3, MSG3, MSG2, MSG0, 1, 1
	GROUP 4, MSG0, MSG3, MSG1, 1, 1
	GROUP 5, MSG1, MSG0, MSG2, 1, 1
	GROUP 6, MSG2, MSG1, MSG3, 1, 1
	GROUP 7, MSG3, MSG2, MSG0, 1, 1
	GROUP 8, MSG0, MSG3, MSG1, 1, 1
	GROUP 9, MSG1, MSG0, MSG2, 1, 1
	GROUP 10, MSG2, MSG1, MSG3, 1, 1
	GROUP 11, MSG3, MSG2, MSG0, 1, 1
	GROUP 12, MSG0, MSG3, MSG1, 1, 1
	GROUP 13, MSG1, MSG0, MSG2, 1, 0
	GROUP 14, MSG2, MSG1, MSG3, 1, 0
	GROUP 15, MSG3, MSG2, MSG0, 0, 0
	paddd SAVE0, STATE0
	paddd SAVE1, STATE1
	add $64, %rsi
	dec %rdx
	jnz .Lblock

	/* back to h[]: (A B C D) and (E F G H), then lane order */
	movdqa STATE1, TMP
	punpckhqdq STATE0, TMP		/* (A B C D) */
	punpcklqdq STATE0, STATE1	/* (E F G H) */
	pshufd $0x1b, TMP, TMP
	pshufd $0x1b, STATE1, STATE1
	movdqu TMP, 0(%rdi)
	movdqu STATE1, 16(%rdi)

.Lout:
	movdqu 0(%rsp), %xmm0
	movdqu 16(%rsp), %xmm1
	movdqu 32(%rsp), %xmm2
	movdqu 48(%rsp), %xmm3
	movdqu 64(%rsp), %xmm4
	movdqu 80(%rsp), %xmm5
	movdqu 96(%rsp), %xmm6
	movdqu 112(%rsp), %xmm7
	movdqu 128(%rsp), %xmm8
	movdqu 144(%rsp), %xmm9
	movdqu 160(%rsp), %xmm10
	add $(11 * 16), %rsp
	ret
	.size sha256_blocks_shani, . - sha256_blocks_shani

	.section .note.GNU-stack, "", @progbits
