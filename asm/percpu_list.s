# percpu_list.s -- per-CPU singly linked lists (LIFO) with rseq.
#
# C signatures (SysV x86-64):
#   int64_t      list_push(struct node **heads, struct node *node);
#     rdi = heads, rsi = node; returns (rax) the cpu whose list received the node.
#   struct node *list_pop(struct node **heads);
#     rdi = heads; returns (rax) the popped node, or 0 if the current CPU's list is empty.
#
# Data layout:
#   struct node { struct node *next; /* +0 */  uint64_t payload; /* +8 */ };
#   heads: struct node *[ncpus], 8 bytes per CPU; heads[cpu] at heads + 8*cpu.
#   struct rseq (per thread) at %fs:__rseq_offset:
#     +0 cpu_id_start (u32), +4 cpu_id (u32), +8 rseq_cs (u64).
#
# list_push (cmpeqv_storev, librseq style):
#   before the section: expect = heads[cpu]; node->next = expect (node is still
#   private to the caller, so this store needs no protection).
#   section: cpu compare; heads[cpu] != expect -> exit point back to
#   .Llist_push_retry (someone pushed/popped meanwhile); commit heads[cpu] = node.
#   Registers: rcx = __rseq_offset, r8 = cpu, r9 = expect, rax = descriptor
#   address (then return value).
#
# list_pop (cmpnev_storeoffp_load):
#   section: cpu compare; head = heads[cpu]; head == 0 -> exit point
#   .Llist_pop_empty; next = head->next; commit heads[cpu] = next.
#   Registers: rcx = __rseq_offset, r8 = cpu, rax = descriptor address, then
#   head (return value), r9 = next.

	.text

# ---------------------------------------------------------------- list_push

	.pushsection __rseq_cs, "aw"
	.balign 32
.Llist_push_cs:
	.long 0, 0
	.quad .Llist_push_start, (.Llist_push_post_commit - .Llist_push_start), .Llist_push_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Llist_push_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Llist_push_start, .Llist_push_retry
	.popsection

	.globl list_push
	.type list_push, @function
list_push:
	movq __rseq_offset(%rip), %rcx
.Llist_push_retry:
	movl %fs:0(%rcx), %r8d
	movq (%rdi,%r8,8), %r9
	movq %r9, 0(%rsi)
	leaq .Llist_push_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Llist_push_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Llist_push_abort
	cmpq %r9, (%rdi,%r8,8)
	jne .Llist_push_retry
	movq %rsi, (%rdi,%r8,8)
.Llist_push_post_commit:
	movq %r8, %rax
	ret
	.size list_push, . - list_push

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Llist_push_abort:
	jmp .Llist_push_retry
	.popsection

# ---------------------------------------------------------------- list_pop

	.pushsection __rseq_cs, "aw"
	.balign 32
.Llist_pop_cs:
	.long 0, 0
	.quad .Llist_pop_start, (.Llist_pop_post_commit - .Llist_pop_start), .Llist_pop_abort
	.popsection

	.pushsection __rseq_cs_ptr_array, "aw"
	.quad .Llist_pop_cs
	.popsection

	.pushsection __rseq_exit_point_array, "aw"
	.quad .Llist_pop_start, .Llist_pop_empty
	.popsection

	.globl list_pop
	.type list_pop, @function
list_pop:
	movq __rseq_offset(%rip), %rcx
.Llist_pop_retry:
	movl %fs:0(%rcx), %r8d
	leaq .Llist_pop_cs(%rip), %rax
	movq %rax, %fs:8(%rcx)
.Llist_pop_start:
	cmpl %fs:4(%rcx), %r8d
	jne .Llist_pop_abort
	movq (%rdi,%r8,8), %rax
	testq %rax, %rax
	jz .Llist_pop_empty
	movq 0(%rax), %r9
	movq %r9, (%rdi,%r8,8)
.Llist_pop_post_commit:
	ret
.Llist_pop_empty:
	xorl %eax, %eax
	ret
	.size list_pop, . - list_pop

	.pushsection __rseq_failure, "ax"
	.byte 0x0f, 0xb9, 0x3d
	.long 0x53053053
.Llist_pop_abort:
	jmp .Llist_pop_retry
	.popsection
