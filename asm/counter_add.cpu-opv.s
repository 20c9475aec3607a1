# counter_add.cpu-opv.s -- counter_add with the cpu_opv fallback of the 2017 rseq RFC's librseq:
# after RSEQ_OPV_AFTER consecutive aborts the increment is done by the cpu_opv system call (x86-64
# number 335, profile proposal-cpu-opv), which runs it on the CPU with preemption off. This is
# what lets the operation finish under a single-stepping debugger, where every stop aborts.
#
# C signature (SysV x86-64):
#   int64_t counter_add(uint64_t *counters, int64_t inc);
#     rdi = counters, rsi = inc; returns (rax) the cpu whose counter was updated.
#
# Data layout:
#   counters: uint64_t[ncpus], 8 bytes per CPU; counters[cpu] lives at counters + 8*cpu.
#   struct rseq (per thread) at %fs:__rseq_offset: +0 cpu_id_start, +4 cpu_id, +8 rseq_cs.
#   struct cpu_op (32 bytes, on the stack for the fallback):
#     +0 s32 op (3 = CPU_ADD_OP), +4 u32 len (8), +8 u64 p, +16 s64 count, +24 u8 expect_fault_p.
#
# Registers: rcx = __rseq_offset, r8 = cpu, rax = descriptor address (then return value),
#   r9 = counter value being updated (saved counters pointer around the system call),
#   r10d = consecutive aborts so far.
#
# Section: [start, post_commit) = cpu compare, load counters[cpu], add, store (commit).
# On abort: count it; below the limit retry the section, at the limit call cpu_opv. A cpu_opv that
# fails (-ENOSYS on a kernel without it, -EAGAIN when the CPU cannot be reached) starts over.

	.set RSEQ_OPV_AFTER, 2
	.set NR_CPU_OPV, 335
	.set CPU_ADD_OP, 3

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcounter_add_cs:
	.long 0, 0
	.quad .Lcounter_add_start, (.Lcounter_add_post_commit - .Lcounter_add_start), .Lcounter_add_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcounter_add_cs
	.popsection

	.globl counter_add
	.type counter_add, @function
counter_add:
	xorl %r10d, %r10d
.Lcounter_add_again:
	movq __rseq_offset(%rip), %rcx
.Lcounter_add_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcounter_add_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lcounter_add_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lcounter_add_abort
	movq (%rdi,%r8,8), %r9
	addq %rsi, %r9
	movq %r9, (%rdi,%r8,8)
.Lcounter_add_post_commit:
	movq %r8, %rax
	ret

.Lcounter_add_fallback:
	subq $32, %rsp
	movl $CPU_ADD_OP, 0(%rsp)
	movl $8, 4(%rsp)
	leaq (%rdi,%r8,8), %rax
	movq %rax, 8(%rsp)
	movq %rsi, 16(%rsp)
	movq $0, 24(%rsp)
	movq %rdi, %r9
	movq %rsp, %rdi
	movl $1, %esi
	movl %r8d, %edx
	xorl %r10d, %r10d
	movl $NR_CPU_OPV, %eax
	syscall
	movq %r9, %rdi
	movq 16(%rsp), %rsi
	addq $32, %rsp
	testq %rax, %rax
	jne .Lcounter_add_again
	movq %r8, %rax
	ret
	.size counter_add, . - counter_add

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lcounter_add_abort:
	incl %r10d
	cmpl $RSEQ_OPV_AFTER, %r10d
	jae .Lcounter_add_fallback
	jmp .Lcounter_add_retry
	.popsection
