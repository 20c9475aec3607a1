# cmpeqv_storev.s -- per-CPU compare-and-store as one rseq critical section.
#
# C signature (SysV x86-64):
#   int64_t cmpeqv_storev(int64_t *slots, int64_t expect, int64_t newv);
#     rdi = slots, rsi = expect, rdx = newv.
#   On the current CPU: if slots[cpu] == expect, store newv and return 0;
#   otherwise leave slots[cpu] unchanged and return 1.
#
# Data layout:
#   slots: int64_t[ncpus], 8 bytes per CPU; slots[cpu] at slots + 8*cpu.
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Registers: rcx = __rseq_offset, r8 = cpu, rax = descriptor address (then
#   return value), r9 = current slots[cpu].
#
# Section: [start, post_commit) = cpu compare, load slots[cpu], compare with
#   expect (mismatch leaves the section through exit point .Lcmpeqv_storev_ne),
#   store newv (commit).

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
	.size cmpeqv_storev, . - cmpeqv_storev

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lcmpeqv_storev_abort:
	jmp .Lcmpeqv_storev_retry
	.popsection
