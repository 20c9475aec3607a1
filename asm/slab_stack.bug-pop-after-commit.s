# slab_stack.bug-pop-after-commit.s -- BROKEN: per-CPU stacks of pointers in one slab, TCMalloc style, with rseq.
#
# C signatures (SysV x86-64):
#   int64_t  slab_push(struct slab *slabs, uint64_t item);
#     rdi = slabs, rsi = item; returns 0 when pushed, 1 when the CPU's stack is full.
#   uint64_t slab_pop(struct slab *slabs);
#     rdi = slabs; returns the popped item, or 0 when the CPU's stack is empty.
#
# Data layout (one 64-byte struct per CPU; slabs[cpu] at slabs + 64*cpu):
#   struct slab { uint64_t top;        /* +0: items[0 .. top-1] are live */
#                 uint64_t items[7];   /* +8 */ };
#   Slots at and above top are free: a pop leaves its item there, and an aborted
#   push may leave the item it was pushing. Nothing reads them before a push
#   stores into them again.
#   struct rseq (per thread) at %fs:__rseq_offset: +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Both sections read cpu_id inside the section (an abort restarts them, so no compare
# is needed), as TCMalloc's slab operations do:
#   push: top = slab->top; full -> exit; try-store items[top] = item; commit top + 1.
#   pop:  top = slab->top; empty -> exit; commit top - 1; item = items[top-1]
#   BUG: the item is read after the commit, outside the section: a push on the
#   same CPU in between overwrites the freed slot, and the pop returns its item.
# Registers: rcx = __rseq_offset, r8 = cpu, r9 = &slabs[cpu], r10 = top,
#   rax = descriptor address (then the return value).

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lslab_push_cs:
	.long 0, 0
	.quad .Lslab_push_start, (.Lslab_push_post_commit - .Lslab_push_start), .Lslab_push_abort
	.balign 32
.Lslab_pop_cs:
	.long 0, 0
	.quad .Lslab_pop_start, (.Lslab_pop_post_commit - .Lslab_pop_start), .Lslab_pop_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lslab_push_cs, .Lslab_pop_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Lslab_push_start, .Lslab_push_full
	.quad .Lslab_pop_start, .Lslab_pop_empty
	.popsection

	.globl slab_push
	.type slab_push, @function
slab_push:
	movq __rseq_offset(%rip), %rcx
.Lslab_push_retry:
	leaq .Lslab_push_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lslab_push_start:
	movl %fs:4(%rcx), %r8d
	movq %r8, %r9
	shlq $6, %r9
	addq %rdi, %r9
	movq 0(%r9), %r10
	cmpq $7, %r10
	jae .Lslab_push_full
	movq %rsi, 8(%r9,%r10,8)
	addq $1, %r10
	movq %r10, 0(%r9)
.Lslab_push_post_commit:
	xorl %eax, %eax
	ret
.Lslab_push_full:
	movl $1, %eax
	ret
	.size slab_push, . - slab_push

	.globl slab_pop
	.type slab_pop, @function
slab_pop:
	movq __rseq_offset(%rip), %rcx
.Lslab_pop_retry:
	leaq .Lslab_pop_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lslab_pop_start:
	movl %fs:4(%rcx), %r8d
	movq %r8, %r9
	shlq $6, %r9
	addq %rdi, %r9
	movq 0(%r9), %r10
	testq %r10, %r10
	jz .Lslab_pop_empty
	# BUG here: the commit comes before the item is read
	leaq -1(%r10), %r11
	movq %r11, 0(%r9)
.Lslab_pop_post_commit:
	movq 0(%r9,%r10,8), %rax
	ret
.Lslab_pop_empty:
	xorl %eax, %eax
	ret
	.size slab_pop, . - slab_pop

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lslab_push_abort:
	jmp .Lslab_push_retry
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lslab_pop_abort:
	jmp .Lslab_pop_retry
	.popsection
