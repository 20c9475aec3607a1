# read-area.s -- reports the thread's rseq area and glibc's exports as the program sees them:
#   void read_area(uint64_t *out);  out[0] cpu_id_start, out[1] cpu_id (sign-extended),
#   out[2] rseq_cs, out[3] flags, out[4] __rseq_size.
	.text
	.globl read_area
	.type read_area, @function
read_area:
	movq __rseq_offset(%rip), %rcx
	movl %fs:0(%rcx), %eax
	movq %rax, 0(%rdi)
	movslq %fs:4(%rcx), %rax
	movq %rax, 8(%rdi)
	movq %fs:8(%rcx), %rax
	movq %rax, 16(%rdi)
	movl %fs:24(%rcx), %eax
	movq %rax, 24(%rdi)
	movl __rseq_size(%rip), %eax
	movq %rax, 32(%rdi)
	xorl %eax, %eax
	ret
	.size read_area, . - read_area
