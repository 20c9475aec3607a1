# cmpeqv_storev.cpu-opv.s -- cmpeqv_storev with the cpu_opv fallback of the 2017 rseq RFC's
# librseq: after RSEQ_OPV_AFTER consecutive aborts the compare-and-store is done by the cpu_opv
# system call (x86-64 number 335, profile proposal-cpu-opv) as two operations run on the CPU with
# preemption off: COMPARE_EQ(slots[cpu], expect), then MEMCPY(slots[cpu], newv). A failed compare
# stops the vector and returns its index + 1, which is 1 here: the function's "not equal" result.
#
# C signature (SysV x86-64):
#   int64_t cmpeqv_storev(int64_t *slots, int64_t expect, int64_t newv);
#     rdi = slots, rsi = expect, rdx = newv.
#   On the current CPU: if slots[cpu] == expect, store newv and return 0;
#   otherwise leave slots[cpu] unchanged and return 1.
#
# Data layout:
#   slots: int64_t[ncpus], 8 bytes per CPU; slots[cpu] at slots + 8*cpu.
#   struct rseq (per thread) at %fs:__rseq_offset: +0 cpu_id_start, +4 cpu_id, +8 rseq_cs.
#   Fallback frame (80 bytes): struct cpu_op[2] at +0 and +32 (s32 op, u32 len, u64 a/dst,
#     u64 b/src, u8 expect_fault…), expect at +64, newv at +72.
#
# Registers: rcx = __rseq_offset, r8 = cpu, rax = descriptor address (then return value),
#   r9 = current slots[cpu] (saved slots pointer around the system call), r10d = consecutive aborts.
#
# Section: [start, post_commit) = cpu compare, load slots[cpu], compare with expect (mismatch
#   leaves through exit point .Lcmpeqv_storev_ne), store newv (commit).

	.set RSEQ_OPV_AFTER, 2
	.set NR_CPU_OPV, 335
	.set CPU_COMPARE_EQ_OP, 0
	.set CPU_MEMCPY_OP, 2

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcmpeqv_storev_cs:
	.long 0, 0
	.quad .Lcmpeqv_storev_start, (.Lcmpeqv_storev_post_commit - .Lcmpeqv_storev_start), .Lcmpeqv_storev_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcmpeqv_storev_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Lcmpeqv_storev_start, .Lcmpeqv_storev_ne
	.popsection

	.globl cmpeqv_storev
	.type cmpeqv_storev, @function
cmpeqv_storev:
	xorl %r10d, %r10d
.Lcmpeqv_storev_again:
	movq __rseq_offset(%rip), %rcx
.Lcmpeqv_storev_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcmpeqv_storev_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lcmpeqv_storev_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lcmpeqv_storev_abort
	movq (%rdi,%r8,8), %r9
	cmpq %rsi, %r9
	jne .Lcmpeqv_storev_ne
	movq %rdx, (%rdi,%r8,8)
.Lcmpeqv_storev_post_commit:
	xorl %eax, %eax
	ret
.Lcmpeqv_storev_ne:
	movl $1, %eax
	ret

.Lcmpeqv_storev_fallback:
	subq $80, %rsp
	movq %rsi, 64(%rsp)
	movq %rdx, 72(%rsp)
	leaq (%rdi,%r8,8), %rax
	movl $CPU_COMPARE_EQ_OP, 0(%rsp)
	movl $8, 4(%rsp)
	movq %rax, 8(%rsp)
	leaq 64(%rsp), %r9
	movq %r9, 16(%rsp)
	movq $0, 24(%rsp)
	movl $CPU_MEMCPY_OP, 32(%rsp)
	movl $8, 36(%rsp)
	movq %rax, 40(%rsp)
	leaq 72(%rsp), %r9
	movq %r9, 48(%rsp)
	movq $0, 56(%rsp)
	movq %rdi, %r9
	movq %rsp, %rdi
	movl $2, %esi
	movl %r8d, %edx
	xorl %r10d, %r10d
	movl $NR_CPU_OPV, %eax
	syscall
	movq %r9, %rdi
	movq 64(%rsp), %rsi
	movq 72(%rsp), %rdx
	addq $80, %rsp
	cmpq $1, %rax
	ja .Lcmpeqv_storev_again
	ret
	.size cmpeqv_storev, . - cmpeqv_storev

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lcmpeqv_storev_abort:
	incl %r10d
	cmpl $RSEQ_OPV_AFTER, %r10d
	jae .Lcmpeqv_storev_fallback
	jmp .Lcmpeqv_storev_retry
	.popsection
