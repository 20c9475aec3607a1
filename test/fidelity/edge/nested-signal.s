# nested-signal.s -- signals delivered while a handler runs. The program installs its own handler
# (SA_SIGINFO | SA_RESTORER) and sends itself the signal with kill() right after a critical section
# of its own; the handler runs a critical section too (adding 1 to m[2 + cpu]), so an event in the
# handler finds it inside or outside its section, and a signal then is a nested delivery:
#   int64_t usr2_nested(uint64_t *m, int64_t inc);        the handler takes SIGUSR2: an injected
#                                                          SIGUSR1 goes to another handler, nested
#   int64_t usr1_self(uint64_t *m, int64_t inc);          the handler takes SIGUSR1 itself: an
#                                                          injected SIGUSR1 waits until it returns
#   int64_t usr1_self_nodefer(uint64_t *m, int64_t inc);  the same with SA_NODEFER: it nests
# Words of m: 0-1 the caller's per-CPU counters (+inc), 2-3 the handler's (+1 a run), 4 handler
# runs; for the first three runs, 5-7 the RIP its frame saved (relative to usr2_nested; -1 for the
# handler's abort_ip, -2 for the caller's: the sections' layout differs between ld and the
# emulator) and 8-10 whether rseq_cs was set when it started (0 or 1).
# Returns the CPU of the caller's commit.

	.data
	.balign 8
.Lact_usr2:
	.quad on_signal, 0x04000004, restorer, 0
.Lact_usr1:
	.quad on_signal, 0x04000004, restorer, 0
.Lact_usr1_nodefer:
	.quad on_signal, 0x44000004, restorer, 0
.Lmem:
	.quad 0

	.text
	.pushsection __rseq_cs, "aw"
	.balign 32
.Lcs_main:
	.long 0, 0
	.quad .Lm_start, (.Lm_post - .Lm_start), .Lm_abort
	.balign 32
.Lcs_handler:
	.long 0, 0
	.quad .Lh_start, (.Lh_post - .Lh_start), .Lh_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Lcs_main, .Lcs_handler
	.popsection

	.globl usr2_nested
	.type usr2_nested, @function
usr2_nested:
	leaq .Lact_usr2(%rip), %rax
	movl $12, %edx
	jmp .Lrun
	.size usr2_nested, . - usr2_nested

	.globl usr1_self
	.type usr1_self, @function
usr1_self:
	leaq .Lact_usr1(%rip), %rax
	movl $10, %edx
	jmp .Lrun
	.size usr1_self, . - usr1_self

	.globl usr1_self_nodefer
	.type usr1_self_nodefer, @function
usr1_self_nodefer:
	leaq .Lact_usr1_nodefer(%rip), %rax
	movl $10, %edx

.Lrun:
	pushq %rbx
	pushq %r12
	pushq %r13
	movq %rdi, %rbx
	movq %rsi, %r12
	movq %rdx, %r13
	movq %rdi, .Lmem(%rip)
	# rt_sigaction(signo, act, NULL, 8)
	movq %r13, %rdi
	movq %rax, %rsi
	xorl %edx, %edx
	movl $8, %r10d
	movl $13, %eax
	syscall
	movq __rseq_offset(%rip), %rcx
.Lm_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Lcs_main(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lm_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Lm_abort
	movq (%rbx,%r8,8), %r9
	addq %r12, %r9
	movq %r9, (%rbx,%r8,8)
.Lm_post:
	pushq %r8
	# kill(getpid(), signo)
	movl $39, %eax
	syscall
	movq %rax, %rdi
	movq %r13, %rsi
	movl $62, %eax
	syscall
	popq %rax
	popq %r13
	popq %r12
	popq %rbx
	ret
	.size usr1_self_nodefer, . - usr1_self_nodefer

# rdi = signo, rsi = siginfo, rdx = ucontext (uc_mcontext.rip at +168).
on_signal:
	movq .Lmem(%rip), %r8
	movq 32(%r8), %r11
	incq 32(%r8)
	cmpq $3, %r11
	jae .Lcounted
	movq 168(%rdx), %rax
	leaq .Lh_abort(%rip), %r9
	cmpq %r9, %rax
	je 1f
	leaq .Lm_abort(%rip), %r9
	cmpq %r9, %rax
	je 2f
	leaq usr2_nested(%rip), %r9
	subq %r9, %rax
	jmp 3f
1:	movq $-1, %rax
	jmp 3f
2:	movq $-2, %rax
3:	movq %rax, 40(%r8,%r11,8)
	movq __rseq_offset(%rip), %rcx
	xorl %eax, %eax
	cmpq $0, %fs:8(%rcx)
	setne %al
	movq %rax, 64(%r8,%r11,8)
.Lcounted:
	movq __rseq_offset(%rip), %rcx
.Lh_retry:
	movl %fs:0(%rcx), %r9d
	leaq .Lcs_handler(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Lh_start:
	cmpl %fs:4(%rcx), %r9d
	jne .Lh_abort
	movq 16(%r8,%r9,8), %r10
	incq %r10
	movq %r10, 16(%r8,%r9,8)
.Lh_post:
	ret
restorer:
	movl $15, %eax
	syscall

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lm_abort:
	jmp .Lm_retry
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Lh_abort:
	jmp .Lh_retry
	.popsection
