# glibc's tst-affinity pattern from the 2020 report behind ce3614daabea: a forked child pins itself
# to each CPU in turn and compares the rseq cpu_id with the CPU it pinned itself to.
#
#   long main(long ncpus)   returns the child's exit status (0: every CPU matched)
#
# The parent first moves itself to the last CPU and widens its mask again, so the forked child (which
# inherits the mask) is placed on an idle CPU elsewhere. On a kernel with the
# new-task bug the child keeps the parent's cpu_id until its next rseq event, and pinning to the
# CPU it already runs on causes none: "Unexpected CPU 1, expected 0".

	.text
	.globl main
main:
	pushq %rbx
	pushq %r12
	pushq %r13
	subq $16, %rsp
	movq %rdi, %r12                  # ncpus
	movq __rseq_offset(%rip), %r13

	# sched_setaffinity(0, 8, {ncpus - 1})
	leaq -1(%r12), %rcx
	movl $1, %eax
	shlq %cl, %rax
	movq %rax, (%rsp)
	xorl %edi, %edi
	movl $8, %esi
	movq %rsp, %rdx
	movl $203, %eax
	syscall
	# sched_setaffinity(0, 8, all CPUs): allowed everywhere again, still on the last CPU
	movq %r12, %rcx
	movl $1, %eax
	shlq %cl, %rax
	decq %rax
	movq %rax, (%rsp)
	xorl %edi, %edi
	movl $8, %esi
	movq %rsp, %rdx
	movl $203, %eax
	syscall

	movl $57, %eax                   # fork()
	syscall
	testq %rax, %rax
	jz .Lchild

	# parent: wait4(child, &status, 0, NULL), return WEXITSTATUS
	movq %rax, %rdi
	leaq 8(%rsp), %rsi
	xorl %edx, %edx
	xorl %r10d, %r10d
	movl $61, %eax
	syscall
	movl 8(%rsp), %eax
	shrl $8, %eax
	andl $0xff, %eax
	addq $16, %rsp
	popq %r13
	popq %r12
	popq %rbx
	ret

.Lchild:
	xorl %ebx, %ebx                  # cpu
.Lnext_cpu:
	cmpq %r12, %rbx
	je .Lall_matched
	movl $1, %eax
	movl %ebx, %ecx
	shlq %cl, %rax
	movq %rax, (%rsp)
	xorl %edi, %edi
	movl $8, %esi
	movq %rsp, %rdx
	movl $203, %eax                  # sched_setaffinity(0, 8, {cpu})
	syscall
	movl %fs:4(%r13), %eax           # what glibc's sched_getcpu returns: rseq cpu_id
	cmpl %ebx, %eax
	jne .Lunexpected
	incq %rbx
	jmp .Lnext_cpu

.Lunexpected:
	# "Unexpected CPU <cpu_id>, expected <cpu>\n" (single-digit CPU numbers)
	leaq msg_cpu(%rip), %rsi
	addb $'0', %al
	movb %al, (%rsi)
	leaq msg_expected(%rip), %rsi
	movl %ebx, %eax
	addb $'0', %al
	movb %al, (%rsi)
	movl $2, %edi
	leaq msg(%rip), %rsi
	movl $msg_end - msg, %edx
	movl $1, %eax
	syscall
	movl $1, %edi
	movl $60, %eax                   # exit(1)
	syscall

.Lall_matched:
	movl $1, %edi
	leaq ok(%rip), %rsi
	movl $ok_end - ok, %edx
	movl $1, %eax
	syscall
	xorl %edi, %edi
	movl $60, %eax                   # exit(0)
	syscall

	.data
msg:	.ascii "Unexpected CPU "
msg_cpu:	.ascii "?, expected "
msg_expected:	.ascii "?\n"
msg_end:
ok:	.ascii "child: the rseq cpu_id matched on every CPU\n"
ok_end:
