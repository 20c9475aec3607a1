# counter_addv.bug-no-cpu-compare.s -- BROKEN: counter_addv without the cpu compare.
#
# The cpu number read before the section is never compared with cpu_id inside it: a thread
# migrated in between adds to another CPU's counter while that CPU's thread adds to it too, and
# the non-LOCK add loses one of the two updates.
#
# C signature (SysV x86-64):
#   int64_t counter_addv(uint64_t *counters, int64_t inc);
#     rdi = counters, rsi = inc; returns (rax) the cpu whose counter was updated.
#
# Data layout:
#   counters: uint64_t[ncpus], 8 bytes per CPU; counters[cpu] lives at counters + 8*cpu.
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# Section: [start, post_commit) = `addq %rsi, counters[cpu]` as the commit.
# The add is a read-modify-write without LOCK: atomic against this CPU's other threads (rseq),
# not against other CPUs, which is fine as long as each CPU adds only to its own counter.
# Registers: rcx = __rseq_offset, r8 = cpu (zero-extended u32), rax = descriptor address (then
#   the return value).

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcounter_addv_cs:
	.long 0, 0
	.quad .Lcounter_addv_start, (.Lcounter_addv_post_commit - .Lcounter_addv_start), .Lcounter_addv_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcounter_addv_cs
	.popsection

	.globl counter_addv
	.type counter_addv, @function
counter_addv:
	movq __rseq_offset(%rip), %rcx
.Lcounter_addv_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcounter_addv_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lcounter_addv_start:
	# BUG here: no cpu compare before the add
	addq %rsi, (%rdi,%r8,8)
.Lcounter_addv_post_commit:
	movq %r8, %rax
	ret
	.size counter_addv, . - counter_addv

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lcounter_addv_abort:
	jmp .Lcounter_addv_retry
	.popsection
