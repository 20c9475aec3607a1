# The libc functions rseq-emu models, linked into a program that calls them without defining them
# (src/abi/libc-model.ts). Each does what glibc's does, with plain instructions and the system calls
# the kernel model implements, so the emulator runs them like any other code. Byte loops, not
# glibc's vector code: the results are the same, the instruction counts are not.
	.section .text.libc, "ax"

	.globl memcpy
	.type memcpy, @function
memcpy:
	movq %rdi, %rax
	testq %rdx, %rdx
	jz 2f
1:	movb (%rsi), %cl
	movb %cl, (%rdi)
	incq %rsi
	incq %rdi
	decq %rdx
	jnz 1b
2:	ret
	.size memcpy, .-memcpy

	.globl memmove
	.type memmove, @function
memmove:
	cmpq %rsi, %rdi
	jbe memcpy		# forwards is safe when the destination starts first
	movq %rdi, %rax
	testq %rdx, %rdx
	jz 2f
1:	decq %rdx
	movb (%rsi,%rdx), %cl
	movb %cl, (%rdi,%rdx)
	jnz 1b
2:	ret
	.size memmove, .-memmove

	.globl memset
	.type memset, @function
memset:
	movq %rdi, %rax
	testq %rdx, %rdx
	jz 2f
1:	movb %sil, (%rdi)
	incq %rdi
	decq %rdx
	jnz 1b
2:	ret
	.size memset, .-memset

	.globl sched_yield
	.type sched_yield, @function
sched_yield:
	movl $24, %eax		# sched_yield
	syscall
	ret
	.size sched_yield, .-sched_yield

# The dynamic TLS models' lookup: the assembler's `@tlsgd`/`@tlsld` GOT pair holds the module (1)
# and an offset from the thread pointer (the variable's, or the TLS block's start), not glibc's
# offset in the block; the address is the same.
	.globl __tls_get_addr
	.type __tls_get_addr, @function
__tls_get_addr:
	movq %fs:0, %rax
	addq 8(%rdi), %rax
	ret
	.size __tls_get_addr, .-__tls_get_addr

# glibc >= 2.35: the cpu_id of the registered rseq area, or getcpu when it is not registered.
	.globl sched_getcpu
	.type sched_getcpu, @function
sched_getcpu:
	movq __rseq_offset(%rip), %rax
	movl %fs:4(%rax), %eax
	testl %eax, %eax
	jns 1f
	subq $8, %rsp
	movq %rsp, %rdi
	xorl %esi, %esi
	xorl %edx, %edx
	movl $309, %eax		# getcpu(&cpu, NULL, NULL)
	syscall
	movl (%rsp), %eax
	addq $8, %rsp
1:	ret
	.size sched_getcpu, .-sched_getcpu

# As glibc: unblock SIGABRT and raise it; if a handler returns, restore the default action and
# raise it again; exit_group(127) if even that returns.
	.globl abort
	.type abort, @function
abort:
	subq $40, %rsp
	movq $32, (%rsp)	# the set {SIGABRT}
	movl $14, %eax		# rt_sigprocmask(SIG_UNBLOCK, &set, NULL, 8)
	movl $1, %edi
	movq %rsp, %rsi
	xorl %edx, %edx
	movl $8, %r10d
	syscall
	call .Lraise_sigabrt
	movq $0, (%rsp)		# struct sigaction: SIG_DFL, no flags, no restorer, empty mask
	movq $0, 8(%rsp)
	movq $0, 16(%rsp)
	movq $0, 24(%rsp)
	movl $13, %eax		# rt_sigaction(SIGABRT, &act, NULL, 8)
	movl $6, %edi
	movq %rsp, %rsi
	xorl %edx, %edx
	movl $8, %r10d
	syscall
	call .Lraise_sigabrt
	movl $127, %edi
	movl $231, %eax		# exit_group
	syscall
	.size abort, .-abort

.Lraise_sigabrt:
	movl $39, %eax		# getpid
	syscall
	movl %eax, %edi
	movl $186, %eax		# gettid
	syscall
	movl %eax, %esi
	movl $6, %edx
	movl $234, %eax		# tgkill(pid, tid, SIGABRT)
	syscall
	ret

# __assert_fail(assertion, file, line, function): glibc's message (without the program name glibc
# puts first), formatted into a buffer and written to stderr in one write, then abort().
	.globl __assert_fail
	.type __assert_fail, @function
__assert_fail:
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $1056, %rsp	# message at 0..999, the line number's digits at 1024..1055
	movq %rdi, %rbx
	movq %rsi, %r12
	movl %edx, %r13d
	movq %rcx, %r14
	movq %rsp, %rdi
	leaq 1000(%rsp), %r15
	movq %r12, %rsi
	call .Lappend
	leaq .Lcolon(%rip), %rsi
	call .Lappend
	leaq 1055(%rsp), %rsi	# the line number in decimal, written backwards
	movb $0, (%rsi)
	movl %r13d, %eax
	movl $10, %ecx
1:	xorl %edx, %edx
	divl %ecx
	addb $48, %dl
	decq %rsi
	movb %dl, (%rsi)
	testl %eax, %eax
	jnz 1b
	call .Lappend
	leaq .Lcolon_space(%rip), %rsi
	call .Lappend
	testq %r14, %r14
	jz 2f
	movq %r14, %rsi
	call .Lappend
	leaq .Lcolon_space(%rip), %rsi
	call .Lappend
2:	leaq .Lassertion(%rip), %rsi
	call .Lappend
	movq %rbx, %rsi
	call .Lappend
	leaq .Lfailed(%rip), %rsi
	call .Lappend
	movq %rdi, %rdx
	subq %rsp, %rdx
	movq %rsp, %rsi
	movl $2, %edi
	movl $1, %eax		# write(2, message, length)
	syscall
	call abort
	.size __assert_fail, .-__assert_fail

# Copies the string at %rsi to %rdi, stopping at %r15; %rdi ends after the last byte copied.
.Lappend:
1:	cmpq %r15, %rdi
	jae 2f
	movb (%rsi), %al
	testb %al, %al
	jz 2f
	movb %al, (%rdi)
	incq %rsi
	incq %rdi
	jmp 1b
2:	ret

	.globl __stack_chk_fail
	.type __stack_chk_fail, @function
__stack_chk_fail:
	leaq .Lsmashing(%rip), %rdi
	call .Lputs
	call abort
	.size __stack_chk_fail, .-__stack_chk_fail

# write(2, s, strlen(s))
.Lputs:
	movq %rdi, %rsi
	xorl %edx, %edx
1:	cmpb $0, (%rsi,%rdx)
	je 2f
	incq %rdx
	jmp 1b
2:	movl $2, %edi
	movl $1, %eax
	syscall
	ret

.Lcolon:	.asciz ":"
.Lcolon_space:	.asciz ": "
.Lassertion:	.asciz "Assertion `"
.Lfailed:	.asciz "' failed.\n"
.Lsmashing:	.asciz "*** stack smashing detected ***: terminated\n"
