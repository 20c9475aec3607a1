# usr1-handler.s -- asm/counter_add.s in a program with its own SIGUSR1 handler (SA_SIGINFO |
# SA_RESTORER, and SA_NODEFER when entered through counter_add_nodefer). The handler records what
# the kernel's fix-up left for it: m[2] = saved RIP - counter_add, or -1 for abort_ip (the sections'
# layout differs between ld and the emulator),
# m[3] = rseq_cs as the handler sees it (0 or 1), m[4] = number of handler runs.
#
#   int64_t counter_add(uint64_t *m, int64_t inc);          m[0..1] are the per-CPU counters
#   int64_t counter_add_nodefer(uint64_t *m, int64_t inc);

	.data
	.balign 8
.Lact:
	.quad on_usr1, 0x04000004, restorer, 0
.Lact_nodefer:
	.quad on_usr1, 0x44000004, restorer, 0
.Lmem:
	.quad 0

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

	.globl counter_add_nodefer
	.type counter_add_nodefer, @function
counter_add_nodefer:
	leaq .Lact_nodefer(%rip), %rax
	jmp .Linstall
	.size counter_add_nodefer, . - counter_add_nodefer

	.globl counter_add
	.type counter_add, @function
counter_add:
	leaq .Lact(%rip), %rax
.Linstall:
	movq %rdi, .Lmem(%rip)
	pushq %rdi
	pushq %rsi
	movq %rax, %rsi
	movl $13, %eax
	movl $10, %edi
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

# rdi = signo, rsi = siginfo, rdx = ucontext (uc_mcontext.rip at +168).
on_usr1:
	movq .Lmem(%rip), %r8
	movq 168(%rdx), %rax
	leaq .Labort(%rip), %r9
	cmpq %r9, %rax
	je 1f
	leaq counter_add(%rip), %r9
	subq %r9, %rax
	jmp 2f
1:	movq $-1, %rax
2:	movq %rax, 16(%r8)
	movq __rseq_offset(%rip), %rcx
	xorl %eax, %eax
	cmpq $0, %fs:8(%rcx)
	setne %al
	movq %rax, 24(%r8)
	incq 32(%r8)
	ret
restorer:
	movl $15, %eax
	syscall

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Labort:
	jmp .Lretry
	.popsection
