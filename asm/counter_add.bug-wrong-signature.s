# counter_add.bug-wrong-signature.s -- BROKEN twin of counter_add.s: wrong signature before the abort handler
#
# BUG: the u32 before abort_ip is 0x53053054, not the registered signature 0x53053053
#      (bytes 0f b9 3d 54 30 05 53).
# EXPECTED: SIGSEGV, validation reason: signature mismatch. The kernel validates the
#           descriptor whenever rseq_cs is non-zero, so any preempt/migrate/signal from the
#           instruction after the rseq_cs store (movq %rax, %fs:8(%rcx)) until the lazy clear
#           kills the thread, whether the IP is inside the section or not (e.g. also at the
#           `movq %r8, %rax` after post_commit). No abort is ever taken; memory is not corrupted.
#
# Everything else is identical to counter_add.s; the original header follows.
#
# (counter_add.s) per-CPU counter increment as one rseq critical section.
#
# C signature (SysV x86-64):
#   int64_t counter_add(uint64_t *counters, int64_t inc);
#     rdi = counters, rsi = inc; returns (rax) the cpu whose counter was updated.
#
# Data layout:
#   counters: uint64_t[ncpus], 8 bytes per CPU; counters[cpu] lives at counters + 8*cpu.
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Registers: rcx = __rseq_offset, r8 = cpu (zero-extended u32), rax = descriptor
#   address (then return value), r9 = counter value being updated.
#
# Section: [start, post_commit) = cpu compare, load counters[cpu], add, store (commit).
# On abort the handler jumps back to .Lcounter_add_retry (reload cpu, re-arm, redo).

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
	.size counter_add, . - counter_add

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
# BUG here: wrong signature value (0x53053054).
	.long 0x53053054
.Lcounter_add_abort:
	jmp .Lcounter_add_retry
	.popsection
