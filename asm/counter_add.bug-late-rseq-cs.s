# counter_add.bug-late-rseq-cs.s -- BROKEN twin of counter_add.s: the shared counter is loaded before the section is armed
#
# BUG: counters[cpu] is loaded into r9 before rseq_cs is stored and before start, so the
#      load is not protected: the section only contains cpu compare, add, store.
# EXPECTED: a preemption between that load and start (at the leaq or the rseq_cs store) that
#           lets another thread on the same CPU add to counters[cpu] is not an abort (the IP is
#           outside the section), so the section then commits the stale value -> wrong final
#           memory (lost update). No signal is raised. (A migration there is still caught by
#           the cpu compare.)
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
# BUG here: counters[cpu] loaded before rseq_cs is armed and before start.
	movq (%rdi,%r8,8), %r9
	leaq .Lcounter_add_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lcounter_add_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lcounter_add_abort
	addq %rsi, %r9
	movq %r9, (%rdi,%r8,8)
.Lcounter_add_post_commit:
	movq %r8, %rax
	ret
	.size counter_add, . - counter_add

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lcounter_add_abort:
	jmp .Lcounter_add_retry
	.popsection
