# buffer_push.s -- per-CPU bounded buffer push (cmpeqv_trystorev_storev) with rseq.
#
# C signature (SysV x86-64):
#   int64_t buffer_push(struct cpu_buffer *bufs, uint64_t item);
#     rdi = bufs, rsi = item; returns 0 when pushed, 1 when the current CPU's
#     buffer is full (nothing written).
#
# Data layout (one 128-byte struct per CPU; bufs[cpu] at bufs + 128*cpu):
#   struct cpu_buffer { uint64_t count;      /* +0  */
#                       uint64_t capacity;   /* +8  (<= 14) */
#                       uint64_t slots[14];  /* +16 */ };
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Before the section: buf = &bufs[cpu]; expect = buf->count; expect == capacity
#   -> return 1 (plain branch, the section is armed only afterwards).
# Section: cpu compare; buf->count != expect -> exit point back to
#   .Lbuffer_push_retry; try-store buf->slots[expect] = item (speculative,
#   invisible until count moves); commit buf->count = expect + 1.
# Registers: rcx = __rseq_offset, r8 = cpu, r9 = &bufs[cpu], r10 = expect
#   (then expect + 1), rax = descriptor address (then return value).

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lbuffer_push_cs:
	.long 0, 0
	.quad .Lbuffer_push_start, (.Lbuffer_push_post_commit - .Lbuffer_push_start), .Lbuffer_push_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lbuffer_push_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Lbuffer_push_start, .Lbuffer_push_retry
	.popsection

	.globl buffer_push
	.type buffer_push, @function
buffer_push:
	movq __rseq_offset(%rip), %rcx
.Lbuffer_push_retry:
	movl %fs:0(%rcx), %r8d
	movq %r8, %r9
	shlq $7, %r9
	addq %rdi, %r9
	movq 0(%r9), %r10
	cmpq 8(%r9), %r10
	je .Lbuffer_push_full
	leaq .Lbuffer_push_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lbuffer_push_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lbuffer_push_abort
	cmpq %r10, 0(%r9)
	jne .Lbuffer_push_retry
	movq %rsi, 16(%r9,%r10,8)
	addq $1, %r10
	movq %r10, 0(%r9)
.Lbuffer_push_post_commit:
	xorl %eax, %eax
	ret
.Lbuffer_push_full:
	movl $1, %eax
	ret
	.size buffer_push, . - buffer_push

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lbuffer_push_abort:
	jmp .Lbuffer_push_retry
	.popsection
