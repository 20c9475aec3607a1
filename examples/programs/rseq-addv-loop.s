	.file	"rseq-addv-loop.c"
	.text
.Ltext0:
	.file 0 "." "rseq-addv-loop.c"
	.globl	v
	.bss
	.align 32
	.type	v, @object
	.size	v, 512
v:
	.zero	512
	.text
	.globl	main
	.type	main, @function
main:
.LFB0:
	.file 1 "rseq-addv-loop.c"
	.loc 1 56 1
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset 6, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register 6
	.loc 1 58 7
	movq	$0, -8(%rbp)
	.loc 1 60 11
	movq	%fs:0, %rax
	movq	__rseq_offset(%rip), %rdx
	addq	%rdx, %rax
	.loc 1 60 22
	movl	4(%rax), %eax
	.loc 1 60 5
	testl	%eax, %eax
	jns	.L2
	.loc 1 61 3
	lock addq	$1, v(%rip)
	.loc 1 62 10
	movl	$0, %eax
	jmp	.L3
.L2:
	.loc 1 65 9 discriminator 1
	movq	%fs:0, %rax
	movq	__rseq_offset(%rip), %rdx
	addq	%rdx, %rax
	movl	(%rax), %eax
	.loc 1 65 7 discriminator 1
	movl	%eax, -12(%rbp)
.LBB2:
	.loc 1 66 9 discriminator 1
	movq	%fs:0, %rax
	movq	__rseq_offset(%rip), %rdx
	leaq	(%rax,%rdx), %rsi
	movl	-12(%rbp), %ecx
	leaq	v(%rip), %rdi
	movl	$1, %r8d
#APP
# 66 "rseq-addv-loop.c" 1
	.pushsection __rseq_cs, "aw"
	.balign 32
3:
	.long 0x0, 0x0
	.quad 1f, (2f - 1f), 4f
	.popsection
.pushsection __rseq_cs_ptr_array, "aw"
	.quad 3b
	.popsection
leaq 3b(%rip), %rax
	movq %rax, 8(%rsi)
1:
	cmpl %ecx, 4(%rsi)
	jnz 4f
	movq (%rdi, %rcx, 8), %rax
	addq %r8, %rax
	movq %rax, (%rdi, %rcx, 8)
2:
	xorl %edx, %edx
	jmp 5f
.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
4:
	movl $1, %edx
	jmp 5f
	.popsection
5:

# 0 "" 2
#NO_APP
	movl	%edx, -16(%rbp)
	movl	-16(%rbp), %eax
.LBE2:
	.loc 1 66 7 discriminator 1
	movl	%eax, -20(%rbp)
	.loc 1 67 11 discriminator 1
	addq	$1, -8(%rbp)
	.loc 1 68 11 discriminator 1
	cmpl	$0, -20(%rbp)
	jne	.L2
	.loc 1 69 9
	movq	-8(%rbp), %rax
.L3:
	.loc 1 70 1
	popq	%rbp
	.cfi_def_cfa 7, 8
	ret
	.cfi_endproc
.LFE0:
	.size	main, .-main
.Letext0:
	.file 2 "/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h"
	.file 3 "/usr/include/x86_64-linux-gnu/bits/types.h"
	.file 4 "/usr/include/x86_64-linux-gnu/bits/stdint-uintn.h"
	.section	.debug_info,"",@progbits
.Ldebug_info0:
	.long	0x18a
	.value	0x5
	.byte	0x1
	.byte	0x8
	.long	.Ldebug_abbrev0
	.uleb128 0x6
	.long	.LASF24
	.byte	0x1d
	.long	.LASF0
	.long	.LASF1
	.quad	.Ltext0
	.quad	.Letext0-.Ltext0
	.long	.Ldebug_line0
	.uleb128 0x2
	.long	.LASF11
	.byte	0x2
	.byte	0x91
	.byte	0x1a
	.long	0x3f
	.uleb128 0x7
	.long	0x2e
	.uleb128 0x1
	.byte	0x8
	.byte	0x5
	.long	.LASF2
	.uleb128 0x1
	.byte	0x8
	.byte	0x7
	.long	.LASF3
	.uleb128 0x8
	.byte	0x4
	.byte	0x5
	.string	"int"
	.uleb128 0x1
	.byte	0x8
	.byte	0x5
	.long	.LASF4
	.uleb128 0x1
	.byte	0x10
	.byte	0x4
	.long	.LASF5
	.uleb128 0x1
	.byte	0x1
	.byte	0x8
	.long	.LASF6
	.uleb128 0x1
	.byte	0x2
	.byte	0x7
	.long	.LASF7
	.uleb128 0x1
	.byte	0x4
	.byte	0x7
	.long	.LASF8
	.uleb128 0x1
	.byte	0x1
	.byte	0x6
	.long	.LASF9
	.uleb128 0x1
	.byte	0x2
	.byte	0x5
	.long	.LASF10
	.uleb128 0x2
	.long	.LASF12
	.byte	0x3
	.byte	0x2a
	.byte	0x16
	.long	0x70
	.uleb128 0x2
	.long	.LASF13
	.byte	0x3
	.byte	0x2d
	.byte	0x1b
	.long	0x46
	.uleb128 0x1
	.byte	0x1
	.byte	0x6
	.long	.LASF14
	.uleb128 0x2
	.long	.LASF15
	.byte	0x4
	.byte	0x1a
	.byte	0x14
	.long	0x85
	.uleb128 0x2
	.long	.LASF16
	.byte	0x4
	.byte	0x1b
	.byte	0x14
	.long	0x91
	.uleb128 0x9
	.long	.LASF21
	.byte	0x1
	.byte	0x11
	.byte	0x18
	.long	0x3a
	.uleb128 0xa
	.long	.LASF25
	.byte	0x18
	.byte	0x1
	.byte	0x13
	.byte	0x8
	.long	0x102
	.uleb128 0x3
	.long	.LASF17
	.byte	0x14
	.long	0xa4
	.byte	0
	.uleb128 0x3
	.long	.LASF18
	.byte	0x15
	.long	0xa4
	.byte	0x4
	.uleb128 0x3
	.long	.LASF19
	.byte	0x16
	.long	0xb0
	.byte	0x8
	.uleb128 0x3
	.long	.LASF20
	.byte	0x17
	.long	0xa4
	.byte	0x10
	.byte	0
	.uleb128 0xb
	.long	0x3f
	.long	0x112
	.uleb128 0xc
	.long	0x46
	.byte	0x3f
	.byte	0
	.uleb128 0xd
	.string	"v"
	.byte	0x1
	.byte	0x1a
	.byte	0x6
	.long	0x102
	.uleb128 0x9
	.byte	0x3
	.quad	v
	.uleb128 0xe
	.long	.LASF26
	.byte	0x1
	.byte	0x37
	.byte	0x5
	.long	0x4d
	.quad	.LFB0
	.quad	.LFE0-.LFB0
	.uleb128 0x1
	.byte	0x9c
	.uleb128 0x4
	.string	"cpu"
	.byte	0x6
	.long	0x4d
	.uleb128 0x2
	.byte	0x91
	.sleb128 -28
	.uleb128 0x4
	.string	"ret"
	.byte	0xb
	.long	0x4d
	.uleb128 0x2
	.byte	0x91
	.sleb128 -36
	.uleb128 0x5
	.long	.LASF22
	.byte	0x3a
	.byte	0x7
	.long	0x3f
	.uleb128 0x2
	.byte	0x91
	.sleb128 -24
	.uleb128 0xf
	.quad	.LBB2
	.quad	.LBE2-.LBB2
	.uleb128 0x5
	.long	.LASF23
	.byte	0x42
	.byte	0x9
	.long	0x4d
	.uleb128 0x2
	.byte	0x91
	.sleb128 -32
	.byte	0
	.byte	0
	.byte	0
	.section	.debug_abbrev,"",@progbits
.Ldebug_abbrev0:
	.uleb128 0x1
	.uleb128 0x24
	.byte	0
	.uleb128 0xb
	.uleb128 0xb
	.uleb128 0x3e
	.uleb128 0xb
	.uleb128 0x3
	.uleb128 0xe
	.byte	0
	.byte	0
	.uleb128 0x2
	.uleb128 0x16
	.byte	0
	.uleb128 0x3
	.uleb128 0xe
	.uleb128 0x3a
	.uleb128 0xb
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x49
	.uleb128 0x13
	.byte	0
	.byte	0
	.uleb128 0x3
	.uleb128 0xd
	.byte	0
	.uleb128 0x3
	.uleb128 0xe
	.uleb128 0x3a
	.uleb128 0x21
	.sleb128 1
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0x21
	.sleb128 11
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x38
	.uleb128 0xb
	.byte	0
	.byte	0
	.uleb128 0x4
	.uleb128 0x34
	.byte	0
	.uleb128 0x3
	.uleb128 0x8
	.uleb128 0x3a
	.uleb128 0x21
	.sleb128 1
	.uleb128 0x3b
	.uleb128 0x21
	.sleb128 57
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x2
	.uleb128 0x18
	.byte	0
	.byte	0
	.uleb128 0x5
	.uleb128 0x34
	.byte	0
	.uleb128 0x3
	.uleb128 0xe
	.uleb128 0x3a
	.uleb128 0x21
	.sleb128 1
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x2
	.uleb128 0x18
	.byte	0
	.byte	0
	.uleb128 0x6
	.uleb128 0x11
	.byte	0x1
	.uleb128 0x25
	.uleb128 0xe
	.uleb128 0x13
	.uleb128 0xb
	.uleb128 0x3
	.uleb128 0x1f
	.uleb128 0x1b
	.uleb128 0x1f
	.uleb128 0x11
	.uleb128 0x1
	.uleb128 0x12
	.uleb128 0x7
	.uleb128 0x10
	.uleb128 0x17
	.byte	0
	.byte	0
	.uleb128 0x7
	.uleb128 0x26
	.byte	0
	.uleb128 0x49
	.uleb128 0x13
	.byte	0
	.byte	0
	.uleb128 0x8
	.uleb128 0x24
	.byte	0
	.uleb128 0xb
	.uleb128 0xb
	.uleb128 0x3e
	.uleb128 0xb
	.uleb128 0x3
	.uleb128 0x8
	.byte	0
	.byte	0
	.uleb128 0x9
	.uleb128 0x34
	.byte	0
	.uleb128 0x3
	.uleb128 0xe
	.uleb128 0x3a
	.uleb128 0xb
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x3f
	.uleb128 0x19
	.uleb128 0x3c
	.uleb128 0x19
	.byte	0
	.byte	0
	.uleb128 0xa
	.uleb128 0x13
	.byte	0x1
	.uleb128 0x3
	.uleb128 0xe
	.uleb128 0xb
	.uleb128 0xb
	.uleb128 0x3a
	.uleb128 0xb
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x1
	.uleb128 0x13
	.byte	0
	.byte	0
	.uleb128 0xb
	.uleb128 0x1
	.byte	0x1
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x1
	.uleb128 0x13
	.byte	0
	.byte	0
	.uleb128 0xc
	.uleb128 0x21
	.byte	0
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x2f
	.uleb128 0xb
	.byte	0
	.byte	0
	.uleb128 0xd
	.uleb128 0x34
	.byte	0
	.uleb128 0x3
	.uleb128 0x8
	.uleb128 0x3a
	.uleb128 0xb
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x3f
	.uleb128 0x19
	.uleb128 0x2
	.uleb128 0x18
	.byte	0
	.byte	0
	.uleb128 0xe
	.uleb128 0x2e
	.byte	0x1
	.uleb128 0x3f
	.uleb128 0x19
	.uleb128 0x3
	.uleb128 0xe
	.uleb128 0x3a
	.uleb128 0xb
	.uleb128 0x3b
	.uleb128 0xb
	.uleb128 0x39
	.uleb128 0xb
	.uleb128 0x27
	.uleb128 0x19
	.uleb128 0x49
	.uleb128 0x13
	.uleb128 0x11
	.uleb128 0x1
	.uleb128 0x12
	.uleb128 0x7
	.uleb128 0x40
	.uleb128 0x18
	.uleb128 0x7a
	.uleb128 0x19
	.byte	0
	.byte	0
	.uleb128 0xf
	.uleb128 0xb
	.byte	0x1
	.uleb128 0x11
	.uleb128 0x1
	.uleb128 0x12
	.uleb128 0x7
	.byte	0
	.byte	0
	.byte	0
	.section	.debug_aranges,"",@progbits
	.long	0x2c
	.value	0x2
	.long	.Ldebug_info0
	.byte	0x8
	.byte	0
	.value	0
	.value	0
	.quad	.Ltext0
	.quad	.Letext0-.Ltext0
	.quad	0
	.quad	0
	.section	.debug_line,"",@progbits
.Ldebug_line0:
	.section	.debug_str,"MS",@progbits,1
.LASF4:
	.string	"long long int"
.LASF8:
	.string	"unsigned int"
.LASF20:
	.string	"flags"
.LASF12:
	.string	"__uint32_t"
.LASF11:
	.string	"ptrdiff_t"
.LASF23:
	.string	"__ret"
.LASF19:
	.string	"rseq_cs"
.LASF18:
	.string	"cpu_id"
.LASF16:
	.string	"uint64_t"
.LASF25:
	.string	"rseq_abi"
.LASF21:
	.string	"__rseq_offset"
.LASF24:
	.string	"GNU C17 12.2.0 -mtune=generic -march=x86-64 -g -O0 -fasynchronous-unwind-tables"
.LASF6:
	.string	"unsigned char"
.LASF26:
	.string	"main"
.LASF15:
	.string	"uint32_t"
.LASF2:
	.string	"long int"
.LASF3:
	.string	"long unsigned int"
.LASF17:
	.string	"cpu_id_start"
.LASF13:
	.string	"__uint64_t"
.LASF7:
	.string	"short unsigned int"
.LASF9:
	.string	"signed char"
.LASF22:
	.string	"attempts"
.LASF5:
	.string	"long double"
.LASF10:
	.string	"short int"
.LASF14:
	.string	"char"
	.section	.debug_line_str,"MS",@progbits,1
.LASF1:
	.string	"."
.LASF0:
	.string	"rseq-addv-loop.c"
	.ident	"GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
	.section	.note.GNU-stack,"",@progbits
