# percpu_spinlock.s -- a per-CPU spinlock taken with an rseq compare-and-store, guarding a plain
# read-modify-write of per-CPU data.
#
# C signature (SysV x86-64):
#   int64_t spinlock_add(int64_t *locks, int64_t *counts, int64_t inc);
#     rdi = locks, rsi = counts, rdx = inc; returns (rax) the cpu whose lock it took.
#   Spins until locks[cpu] is 0 on the current CPU and sets it to 1 there (the rseq section), then,
#   holding that lock wherever the thread runs next, adds inc to counts[cpu] with an ordinary
#   load-add-store and releases the lock with a plain store of 0 (a release on x86-64).
#
# Data layout:
#   locks:  int64_t[ncpus], 8 bytes per CPU; 0 free, 1 held.
#   counts: int64_t[ncpus], 8 bytes per CPU; written only by the holder of locks[cpu].
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Registers: rcx = __rseq_offset, r8 = cpu, rax = descriptor address (then return value),
#   r9 = counts[cpu] being updated.
#
# Section: [start, post_commit) = cpu compare, test locks[cpu] (held: leave through exit point
#   .Lspinlock_add_busy and spin), store 1 (commit). A thread that finds the lock held spins
#   until the holder releases it, which needs the holder to run: when the holder was preempted on
#   the same CPU, only the end of the spinner's time slice lets it.

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lspinlock_add_cs:
	.long 0, 0
	.quad .Lspinlock_add_start, (.Lspinlock_add_post_commit - .Lspinlock_add_start), .Lspinlock_add_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lspinlock_add_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Lspinlock_add_start, .Lspinlock_add_busy
	.popsection

	.globl spinlock_add
	.type spinlock_add, @function
spinlock_add:
	movq __rseq_offset(%rip), %rcx
.Lspinlock_add_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lspinlock_add_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lspinlock_add_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lspinlock_add_abort
	cmpq $0, (%rdi,%r8,8)
	jne .Lspinlock_add_busy
	movq $1, (%rdi,%r8,8)
.Lspinlock_add_post_commit:
	# Locked: counts[cpu] is ours until the release, even if the thread is preempted or migrated.
	movq (%rsi,%r8,8), %r9
	addq %rdx, %r9
	movq %r9, (%rsi,%r8,8)
	movq $0, (%rdi,%r8,8)
	movl %r8d, %eax
	ret
.Lspinlock_add_busy:
	pause
	jmp .Lspinlock_add_retry
	.size spinlock_add, . - spinlock_add

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lspinlock_add_abort:
	jmp .Lspinlock_add_retry
	.popsection
