# mm_cid_counter.bug-no-cid-compare.s -- BROKEN twin of mm_cid_counter.s: the section never
# compares mm_cid with the rseq area, so a thread switched out after reading its id (and given
# another one) still commits to the slot of the id it read, which another thread may now hold: a
# lost update. Everything else is as in mm_cid_counter.s.
#
# C signature (SysV x86-64):
#   int64_t cid_counter_add(uint64_t *counters, int64_t inc);
#     rdi = counters, rsi = inc; returns (rax) the mm_cid whose counter was updated.
#
# Data layout:
#   counters: uint64_t[ncpus], 8 bytes per concurrency id; mm_cid is below the number of CPUs
#     (and of the process's threads), so ncpus slots are enough and the low ones are the busy ones.
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +8 rseq_cs (u64), +24 mm_cid (u32).
#
# Registers: rcx = __rseq_offset, r8 = mm_cid (zero-extended u32), rax = descriptor address
#   (then return value), r9 = counter value being updated.
#
# Section: [start, post_commit) = load counters[cid], add, store (commit), with no id compare.

	.text

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcid_counter_add_cs:
	.long 0, 0
	.quad .Lcid_counter_add_start, (.Lcid_counter_add_post_commit - .Lcid_counter_add_start), .Lcid_counter_add_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcid_counter_add_cs
	.popsection

	.globl cid_counter_add
	.type cid_counter_add, @function
cid_counter_add:
	movq __rseq_offset(%rip), %rcx
.Lcid_counter_add_retry:
	movl %fs:24(%rcx), %r8d
	leaq .Lcid_counter_add_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lcid_counter_add_start:
	# BUG here: no `cmpl %fs:24(%rcx), %r8d; jne abort` here.
	movq (%rdi,%r8,8), %r9
	addq %rsi, %r9
	movq %r9, (%rdi,%r8,8)
.Lcid_counter_add_post_commit:
	movl %r8d, %eax
	ret
	.size cid_counter_add, . - cid_counter_add

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lcid_counter_add_abort:
	jmp .Lcid_counter_add_retry
	.popsection
