# segv-handler.s -- the fix-up fails (wrong signature before abort_ip) in a program that has its
# own SIGSEGV handler. The kernel's SIGSEGV from the failed fix-up goes to the handler, but
# delivering it re-runs the fix-up (rseq_signal_deliver), which fails again; force_sigsegv for
# SIGSEGV itself resets the handler, so the process dies of SIGSEGV and the handler never runs.
#
#   int64_t counter_add(uint64_t *counters, int64_t inc);   as asm/counter_add.s, after
#   rt_sigaction(SIGSEGV, {on_segv, SA_RESTORER, restorer}); on_segv calls exit_group(42).

	.data
	.balign 8
.Lact:
	.quad on_segv, 0x04000000, restorer, 0

	.text
	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcs:
	.long 0, 0
	.quad .Lstart, (.Lpost_commit - .Lstart), .Labort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcs
	.popsection

	.globl counter_add
	.type counter_add, @function
counter_add:
	pushq %rdi
	pushq %rsi
	movl $13, %eax
	movl $11, %edi
	leaq .Lact(%rip), %rsi
	xorl %edx, %edx
	movl $8, %r10d
	syscall
	popq %rsi
	popq %rdi
	movq __rseq_offset(%rip), %rcx
.Lretry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lstart:
	cmpl %fs:4(%rcx), %r8d
	jne .Labort
	movq (%rdi,%r8,8), %r9
	addq %rsi, %r9
	movq %r9, (%rdi,%r8,8)
.Lpost_commit:
	movq %r8, %rax
	ret
	.size counter_add, . - counter_add

on_segv:
	movl $231, %eax
	movl $42, %edi
	syscall
restorer:
	movl $15, %eax
	syscall

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053054
.Labort:
	jmp .Lretry
	.popsection
