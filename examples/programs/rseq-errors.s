# The kernel selftest syscall_errors_test.c as one function: nine rseq() calls on one thread, each
# result stored in results[i], then the cpu_id the kernel wrote after the successful registration.
#
#   void walk(long results[10], struct rseq *area)    area: 32-aligned, 64 bytes, unregistered

	.set SIG, 0x53053053
	.set NR_RSEQ, 334
	.text
	.globl walk
walk:
	pushq %rbx
	pushq %r12
	movq %rdi, %rbx
	movq %rsi, %r12
	# 1: flags = -1 → EINVAL
	movq %r12, %rdi; movl $32, %esi; movl $-1, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 0(%rbx)
	# 2: misaligned area → EINVAL
	leaq 8(%r12), %rdi; movl $32, %esi; xorl %edx, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 8(%rbx)
	# 3: length 31 → EINVAL
	movq %r12, %rdi; movl $31, %esi; xorl %edx, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 16(%rbx)
	# 4: (void *)-4096 → EFAULT
	movq $-4096, %rdi; movl $32, %esi; xorl %edx, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 24(%rbx)
	# 5: register → 0
	movq %r12, %rdi; movl $32, %esi; xorl %edx, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 32(%rbx)
	# cpu_id as the kernel wrote it on the way back to user space
	movslq 4(%r12), %rax; movq %rax, 72(%rbx)
	# 6: register again → EBUSY
	movq %r12, %rdi; movl $32, %esi; xorl %edx, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 40(%rbx)
	# 7: unregister with sig + 1 → EPERM
	movq %r12, %rdi; movl $32, %esi; movl $1, %edx; movl $SIG+1, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 48(%rbx)
	# 8: unregister → 0
	movq %r12, %rdi; movl $32, %esi; movl $1, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 56(%rbx)
	# 9: unregister again → EINVAL
	movq %r12, %rdi; movl $32, %esi; movl $1, %edx; movl $SIG, %r10d; movl $NR_RSEQ, %eax; syscall; movq %rax, 64(%rbx)
	popq %r12
	popq %rbx
	ret
