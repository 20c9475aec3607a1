# The pattern of the kernel's KVM selftest kvm/rseq_test.c (61e52f1630f5): one thread loops on
# KVM_RUN (modelled as ioctl(fd, KVM_RUN)); another migrates it back and forth, bumping a sequence
# count before and after each sched_setaffinity. After each KVM_RUN the reader compares the rseq
# cpu_id with getcpu() inside a stable sequence window: a mismatch there is a stale cpu_id.
#
# struct state { u64 seq; u64 ok; u64 failed; u64 reader_tid; }
#   void reader(struct state *s, long iterations)
#   void migrator(struct state *s, long migrations, long ncpus)

	.set KVM_RUN, 0xae80
	.text
	.globl reader
reader:
	pushq %rbx
	pushq %r12
	pushq %r13
	subq $16, %rsp
	movq %rdi, %rbx
	movq %rsi, %r12
	movq __rseq_offset(%rip), %r13
	movl $186, %eax                  # gettid()
	syscall
	movq %rax, 24(%rbx)
.Lrun:
	testq %r12, %r12
	jz .Ldone
	movl $-1, %edi
	movl $KVM_RUN, %esi
	xorl %edx, %edx
	movl $16, %eax                   # ioctl(vcpu_fd, KVM_RUN, 0)
	syscall
.Lwindow:
	movq (%rbx), %r8
	andq $-2, %r8                    # an odd count (migration in progress) never matches
	movq %rsp, %rdi
	xorl %esi, %esi
	movl $309, %eax                  # getcpu(&cpu, NULL)
	syscall
	movl %fs:4(%r13), %r9d           # rseq cpu_id
	cmpq (%rbx), %r8
	jne .Lwindow
	cmpl (%rsp), %r9d
	jne .Lstale
	incq 8(%rbx)
	jmp .Lnext
.Lstale:
	incq 16(%rbx)
.Lnext:
	decq %r12
	jmp .Lrun
.Ldone:
	addq $16, %rsp
	popq %r13
	popq %r12
	popq %rbx
	ret

	.globl migrator
migrator:
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	subq $24, %rsp
	movq %rdi, %rbx
	movq %rsi, %r12
	movq %rdx, %r14
	xorl %r13d, %r13d                # i
.Lwait_reader:
	cmpq $0, 24(%rbx)
	jne .Lmigrate
	movl $24, %eax                   # sched_yield()
	syscall
	jmp .Lwait_reader
.Lmigrate:
	cmpq %r12, %r13
	je .Lfinished
	movq %r13, %rax
	xorl %edx, %edx
	divq %r14                        # cpu = i % ncpus
	movl $1, %eax
	movl %edx, %ecx
	shlq %cl, %rax
	movq %rax, (%rsp)
	incq (%rbx)                      # seq++ (odd: migration in progress)
	movq 24(%rbx), %rdi
	movl $8, %esi
	movq %rsp, %rdx
	movl $203, %eax                  # sched_setaffinity(reader, 8, {cpu})
	syscall
	incq (%rbx)                      # seq++ (even again)
	movq $0, 8(%rsp)
	movq $1000, 16(%rsp)
	leaq 8(%rsp), %rdi
	xorl %esi, %esi
	movl $35, %eax                   # nanosleep({0, 1000}, NULL)
	syscall
	incq %r13
	jmp .Lmigrate
.Lfinished:
	addq $24, %rsp
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	ret
