# A SIGUSR1 handler interrupting a per-CPU counter update inside its critical section. The handler
# records what it sees: rseq_cs (the kernel cleared it before building the frame) and the RIP
# saved in its frame (abort_ip: the fix-up ran first, so rt_sigreturn lands on the abort handler).
#
#   long main(u64 *counters, u64 log[3])   log = { rseq_cs seen, saved RIP, signo }; returns the cpu

	.set SIGUSR1, 10
	.set SA_SIGINFO, 4
	.set SA_RESTORER, 0x04000000
	.text
	.globl main
main:
	movq %rsi, log_ptr(%rip)
	# rt_sigaction(SIGUSR1, &act, NULL, 8)
	subq $40, %rsp
	leaq handler(%rip), %rax
	movq %rax, (%rsp)
	movq $SA_SIGINFO|SA_RESTORER, 8(%rsp)
	leaq restorer(%rip), %rax
	movq %rax, 16(%rsp)
	movq $0, 24(%rsp)
	movq %rdi, 32(%rsp)
	movl $SIGUSR1, %edi
	movq %rsp, %rsi
	xorl %edx, %edx
	movl $8, %r10d
	movl $13, %eax
	syscall
	movq 32(%rsp), %rdi
	addq $40, %rsp

	movq __rseq_offset(%rip), %rcx
.Lretry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lstart:
	cmpl %fs:4(%rcx), %r8d
	jne .Labort
	movq (%rdi,%r8,8), %r9
	addq $1, %r9
	movq %r9, (%rdi,%r8,8)
.Lpost_commit:
	movq %r8, %rax
	ret

handler:
	movq log_ptr(%rip), %rax
	movq __rseq_offset(%rip), %rcx
	movq %fs:8(%rcx), %r8
	movq %r8, (%rax)                 # rseq_cs as the handler sees it
	movq 168(%rdx), %r8              # uc->uc_mcontext.rip
	movq %r8, 8(%rax)
	movq %rdi, 16(%rax)
	ret

restorer:
	movl $15, %eax                   # rt_sigreturn
	syscall

	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcs:
	.long 0, 0
	.quad .Lstart, .Lpost_commit - .Lstart, .Labort
	.popsection
	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcs
	.popsection
	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Labort:
	jmp .Lretry
	.popsection

	.data
log_ptr:	.quad 0
