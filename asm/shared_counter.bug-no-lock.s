# shared_counter.bug-no-lock.s -- BROKEN on purpose: one counter shared by every CPU, incremented with a
# plain `addq` and no LOCK prefix, outside any critical section.
#
# C signature (SysV x86-64):
#   int64_t shared_add(uint64_t *counter, int64_t inc);
#     rdi = counter, rsi = inc; returns 0.
#
# Two CPUs adding at once both load the old value, and one store overwrites the other: a lost
# update that `lock addq` would prevent.

	.text
	.globl shared_add
	.type shared_add, @function
shared_add:
	# BUG here: no lock prefix
	addq %rsi, (%rdi)
	xorl %eax, %eax
	ret
	.size shared_add, . - shared_add
