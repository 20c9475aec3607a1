# threads.s -- two threads made with a raw clone, as a thread library makes them (CLONE_VM | CLONE_FS
# | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID), each with its
# own stack and critical section. A new thread starts unregistered (CLONE_VM does not carry the
# registration over), so each registers an area of its own and addresses it directly; the calling
# thread waits until both have exited (their tid words cleared), then runs its own section on
# glibc's area. All three add to per-CPU counters of their own, so any order gives one result.
#
#   int64_t two_threads(uint64_t *m, int64_t inc);               both threads register
#   int64_t two_threads_a_unregistered(uint64_t *m, int64_t inc); thread A does not
#   int64_t two_threads_b_on_cpu1(uint64_t *m, int64_t inc);     thread B first pins itself to CPU 1
#                                  (sched_setaffinity migrates it), so A and B run at the same time
#   int64_t one_thread(uint64_t *m, int64_t inc);                thread A alone (B's words stay 0)
# Words of m: 0-1 A's per-CPU counters, 2-3 B's, 4-5 the caller's; 6, 7: A's and B's rseq() result
# (1 when not called); 8, 9: A's and B's tid words as the caller saw them after the join (0: the
# kernel cleared them; they live outside m, since a process killed with a thread gives no
# defined order to its threads' exits and so to which of them clear theirs); 10, 11: A's and B's
# cpu_id_start | cpu_id << 32 after the commit; 12, 13: whether their rseq_cs was set after it.
# Returns the CPU of the caller's commit.

	.data
	.balign 32
.Larea_a:
	.zero 32
.Larea_b:
	.zero 32
	.balign 16
	.zero 8192
.Lstack_a:
	.zero 8192
.Lstack_b:
.Lcpu1:
	.quad 2
.Lctid:
	.quad 0, 0

	.text
	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcs_a:
	.long 0, 0
	.quad .La_start, (.La_post - .La_start), .La_abort
	.balign 32
.Lcs_b:
	.long 0, 0
	.quad .Lb_start, (.Lb_post - .Lb_start), .Lb_abort
	.balign 32
.Lcs_main:
	.long 0, 0
	.quad .Lm_start, (.Lm_post - .Lm_start), .Lm_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcs_a, .Lcs_b, .Lcs_main
	.popsection

	.globl two_threads_a_unregistered
	.type two_threads_a_unregistered, @function
two_threads_a_unregistered:
	movl $1, %eax
	jmp .Lstart
	.size two_threads_a_unregistered, . - two_threads_a_unregistered

	.globl two_threads_b_on_cpu1
	.type two_threads_b_on_cpu1, @function
two_threads_b_on_cpu1:
	movl $2, %eax
	jmp .Lstart
	.size two_threads_b_on_cpu1, . - two_threads_b_on_cpu1

	.globl one_thread
	.type one_thread, @function
one_thread:
	movl $4, %eax
	jmp .Lstart
	.size one_thread, . - one_thread

	.globl two_threads
	.type two_threads, @function
two_threads:
	xorl %eax, %eax
.Lstart:
	pushq %rbx
	pushq %r12
	pushq %r14
	movq %rdi, %rbx
	movq %rsi, %r12
	movq %rax, %r14
	movq $1, .Lctid(%rip)
	movq $1, .Lctid+8(%rip)
	# clone(flags, stack, parent_tid, child_tid, tls)
	movl $0x250f00, %edi
	leaq .Lstack_a(%rip), %rsi
	xorl %edx, %edx
	leaq .Lctid(%rip), %r10
	xorl %r8d, %r8d
	movl $56, %eax
	syscall
	testq %rax, %rax
	jz .Lthread_a
	movq $0, .Lctid+8(%rip)
	testq $4, %r14
	jnz .Lwait
	movq $1, .Lctid+8(%rip)
	movl $0x250f00, %edi
	leaq .Lstack_b(%rip), %rsi
	xorl %edx, %edx
	leaq .Lctid+8(%rip), %r10
	xorl %r8d, %r8d
	movl $56, %eax
	syscall
	testq %rax, %rax
	jz .Lthread_b
.Lwait:
	cmpl $0, .Lctid(%rip)
	jne .Lyield
	cmpl $0, .Lctid+8(%rip)
	je .Ljoined
.Lyield:
	movl $24, %eax
	syscall
	jmp .Lwait
.Ljoined:
	movq .Lctid(%rip), %rax
	movq %rax, 64(%rbx)
	movq .Lctid+8(%rip), %rax
	movq %rax, 72(%rbx)
	movq __rseq_offset(%rip), %rcx
.Lm_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcs_main(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lm_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lm_abort
	movq 32(%rbx,%r8,8), %r9
	addq %r12, %r9
	movq %r9, 32(%rbx,%r8,8)
.Lm_post:
	movq %r8, %rax
	popq %r14
	popq %r12
	popq %rbx
	ret

.Lthread_a:
	movl $1, %eax
	testq $1, %r14
	jnz 1f
	leaq .Larea_a(%rip), %rdi
	movl $32, %esi
	xorl %edx, %edx
	movl $0x53053053, %r10d
	movl $334, %eax
	syscall
1:	movq %rax, 48(%rbx)
.La_retry:
	movl .Larea_a(%rip), %r8d
	leaq .Lcs_a(%rip), %rax
	movq %rax, .Larea_a+8(%rip)
.La_start:
	cmpl .Larea_a+4(%rip), %r8d
	jne .La_abort
	movq (%rbx,%r8,8), %r9
	addq %r12, %r9
	movq %r9, (%rbx,%r8,8)
.La_post:
	movq .Larea_a(%rip), %rax
	movq %rax, 80(%rbx)
	xorl %eax, %eax
	cmpq $0, .Larea_a+8(%rip)
	setne %al
	movq %rax, 96(%rbx)
	xorl %edi, %edi
	movl $60, %eax
	syscall

.Lthread_b:
	testq $2, %r14
	jz 1f
	# sched_setaffinity(0, 8, {CPU 1})
	xorl %edi, %edi
	movl $8, %esi
	leaq .Lcpu1(%rip), %rdx
	movl $203, %eax
	syscall
1:	leaq .Larea_b(%rip), %rdi
	movl $32, %esi
	xorl %edx, %edx
	movl $0x53053053, %r10d
	movl $334, %eax
	syscall
	movq %rax, 56(%rbx)
.Lb_retry:
	movl .Larea_b(%rip), %r8d
	leaq .Lcs_b(%rip), %rax
	movq %rax, .Larea_b+8(%rip)
.Lb_start:
	cmpl .Larea_b+4(%rip), %r8d
	jne .Lb_abort
	movq 16(%rbx,%r8,8), %r9
	addq %r12, %r9
	movq %r9, 16(%rbx,%r8,8)
.Lb_post:
	movq .Larea_b(%rip), %rax
	movq %rax, 88(%rbx)
	xorl %eax, %eax
	cmpq $0, .Larea_b+8(%rip)
	setne %al
	movq %rax, 104(%rbx)
	xorl %edi, %edi
	movl $60, %eax
	syscall
	.size two_threads, . - two_threads

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.La_abort:
	jmp .La_retry
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lb_abort:
	jmp .Lb_retry
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lm_abort:
	jmp .Lm_retry
	.popsection
