# memcpy_buffer_push.s -- per-CPU buffer of 16-byte items (cmpeqv_trymemcpy_storev) with rseq.
#
# C signature (SysV x86-64):
#   int64_t memcpy_buffer_push(struct cpu_membuf *bufs, const uint8_t *item);
#     rdi = bufs, rsi = item (16 bytes); returns 0 when pushed, 1 when the
#     current CPU's buffer is full (nothing written).
#
# Data layout (one 256-byte struct per CPU; bufs[cpu] at bufs + 256*cpu):
#   struct cpu_membuf { uint64_t count;      /* +0  */
#                       uint64_t capacity;   /* +8  (<= 15) */
#                       uint8_t  data[240];  /* +16: item i at data + 16*i */ };
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Before the section: buf = &bufs[cpu]; expect = buf->count; expect == capacity
#   -> return 1; dst = &buf->data[16*expect].
# Section: cpu compare; buf->count != expect -> exit point back to
#   .Lmemcpy_buffer_push_retry; copy 16 bytes item -> dst one byte per
#   iteration (try-memcpy; the loop's back branch stays inside the section);
#   commit buf->count = expect + 1.
# Registers: rcx = __rseq_offset, r8 = cpu, r9 = &bufs[cpu], r10 = expect
#   (then expect + 1), r11 = dst, rax = descriptor address, then byte index i
#   (then return value), edx/dl = byte being copied.

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lmemcpy_buffer_push_cs:
	.long 0, 0
	.quad .Lmemcpy_buffer_push_start, (.Lmemcpy_buffer_push_post_commit - .Lmemcpy_buffer_push_start), .Lmemcpy_buffer_push_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lmemcpy_buffer_push_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Lmemcpy_buffer_push_start, .Lmemcpy_buffer_push_retry
	.popsection

	.globl memcpy_buffer_push
	.type memcpy_buffer_push, @function
memcpy_buffer_push:
	movq __rseq_offset(%rip), %rcx
.Lmemcpy_buffer_push_retry:
	movl %fs:0(%rcx), %r8d
	movq %r8, %r9
	shlq $8, %r9
	addq %rdi, %r9
	movq 0(%r9), %r10
	cmpq 8(%r9), %r10
	je .Lmemcpy_buffer_push_full
	movq %r10, %r11
	shlq $4, %r11
	leaq 16(%r9,%r11), %r11
	leaq .Lmemcpy_buffer_push_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lmemcpy_buffer_push_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lmemcpy_buffer_push_abort
	cmpq %r10, 0(%r9)
	jne .Lmemcpy_buffer_push_retry
	xorl %eax, %eax
.Lmemcpy_buffer_push_copy:
	movzbl (%rsi,%rax), %edx
	movb %dl, (%r11,%rax)
	addq $1, %rax
	cmpq $16, %rax
	jne .Lmemcpy_buffer_push_copy
	addq $1, %r10
	movq %r10, 0(%r9)
.Lmemcpy_buffer_push_post_commit:
	xorl %eax, %eax
	ret
.Lmemcpy_buffer_push_full:
	movl $1, %eax
	ret
	.size memcpy_buffer_push, . - memcpy_buffer_push

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lmemcpy_buffer_push_abort:
	jmp .Lmemcpy_buffer_push_retry
	.popsection
