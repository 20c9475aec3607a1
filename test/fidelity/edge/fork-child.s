# fork-child.s -- a fork child inherits the rseq registration (the same area, at the same address
# in its copy of the address space) and runs a critical section of its own on its copy of the
# counters. The parent forks right after its own section, with rseq_cs still pointing at it.
#
#   int64_t fork_add(uint64_t *m, int64_t inc);
#   m[0..1]: per-CPU counters (the parent's copy; the child's stores stay in its own);
#   m[2]: the child's wait status; the child exits with
#     bit 0: rseq_cs was not 0 at the child's first instruction after fork
#     bit 1: registering the same area again gave EBUSY (the registration was inherited)
#     bits 2-3: the CPU of the child's commit;  bits 4-7: the child's aborts (at most 15).
#   Returns the CPU of the parent's commit.
#
#   int64_t fork_in_section(uint64_t *m);   fork called inside a critical section (a system call
#   there is allowed, without CONFIG_DEBUG_RSEQ). The child's first return to user space has an
#   event (the migration sched_fork records) with its IP inside the section: it starts at abort_ip
#   and exits with 42 (7 had it committed). m[0] = 1 when the parent aborted after forking (the
#   harness's stop at the fork is a preemption), m[1] = the child's wait status; returns 0.

	.text
	.pushsection __rseq_cs, "aw"
	.balign 32
.Lparent_cs:
	.long 0, 0
	.quad .Lp_start, (.Lp_post - .Lp_start), .Lp_abort
	.balign 32
.Lchild_cs:
	.long 0, 0
	.quad .Lc_start, (.Lc_post - .Lc_start), .Lc_abort
	.balign 32
.Lfork_cs:
	.long 0, 0
	.quad .Lf_start, (.Lf_post - .Lf_start), .Lf_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lparent_cs, .Lchild_cs, .Lfork_cs
	.popsection

	.globl fork_add
	.type fork_add, @function
fork_add:
	pushq %rbx
	pushq %r12
	pushq %r13
	movq %rdi, %rbx
	movq %rsi, %r12
	movq __rseq_offset(%rip), %rcx
.Lp_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lparent_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lp_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lp_abort
	movq (%rbx,%r8,8), %r9
	addq %r12, %r9
	movq %r9, (%rbx,%r8,8)
.Lp_post:
	movq %r8, %r13
	movl $57, %eax
	syscall
	testq %rax, %rax
	jz .Lchild
	movq %rax, %rdi
	leaq 16(%rbx), %rsi
	xorl %edx, %edx
	xorl %r10d, %r10d
	movl $61, %eax
	syscall
	movq %r13, %rax
	popq %r13
	popq %r12
	popq %rbx
	ret

.Lchild:
	xorl %r13d, %r13d
	movq __rseq_offset(%rip), %rcx
	cmpq $0, %fs:8(%rcx)
	setne %r13b
	movq %fs:0, %rdi
	addq %rcx, %rdi
	movl $32, %esi
	xorl %edx, %edx
	movl $0x53053053, %r10d
	movl $334, %eax
	syscall
	cmpq $-16, %rax
	jne 1f
	orq $2, %r13
1:	xorl %r10d, %r10d
	movq __rseq_offset(%rip), %rcx
.Lc_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lchild_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lc_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lc_abort
	movq (%rbx,%r8,8), %r9
	addq %r12, %r9
	movq %r9, (%rbx,%r8,8)
.Lc_post:
	shlq $2, %r8
	orq %r8, %r13
	cmpq $15, %r10
	jbe 2f
	movq $15, %r10
2:	shlq $4, %r10
	orq %r10, %r13
	movq %r13, %rdi
	movl $231, %eax
	syscall
	.size fork_add, . - fork_add

	.globl fork_in_section
	.type fork_in_section, @function
fork_in_section:
	pushq %rbx
	pushq %r13
	movq %rdi, %rbx
	movq __rseq_offset(%rip), %r8
.Lf_retry:
	leaq .Lfork_cs(%rip), %rax
	movq %rax, %fs:8(%r8)
	xorl %ecx, %ecx
.Lf_start:
	movl $57, %eax
	syscall
.Lf_after:
	movq %rax, %r13
.Lf_post:
	testq %r13, %r13
	jz .Lf_child_commit
.Lf_wait:
	movq %r13, %rdi
	leaq 8(%rbx), %rsi
	xorl %edx, %edx
	xorl %r10d, %r10d
	movl $61, %eax
	syscall
	xorl %eax, %eax
	popq %r13
	popq %rbx
	ret
.Lf_child_commit:
	movl $7, %edi
	movl $231, %eax
	syscall
	.size fork_in_section, . - fork_in_section

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lp_abort:
	jmp .Lp_retry
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lc_abort:
	incq %r10
	jmp .Lc_retry
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lf_abort:
	# Before the fork (rcx is the syscall's return address only after it): start over.
	leaq .Lf_after(%rip), %rdx
	cmpq %rdx, %rcx
	jne .Lf_retry
	testq %rax, %rax
	jz .Lf_child_abort
	movq %rax, %r13
	movq $1, (%rbx)
	jmp .Lf_wait
.Lf_child_abort:
	movl $42, %edi
	movl $231, %eax
	syscall
	.popsection
