// Descriptor and area edge cases, written as small textual changes to asm/counter_add.s so each
// differs from the correct op in exactly one thing the kernel checks.
import fs from 'node:fs';
import path from 'node:path';
import type { OpCase } from './rows.js';

interface Variant {
  name: string;
  /** What changes, as [text of counter_add.s, replacement]. */
  change: [string, string];
}

const DESCRIPTOR_FLAGS = '.long 0, 0';
const POST_COMMIT = '(.Lcounter_add_post_commit - .Lcounter_add_start)';
const ARM = 'leaq .Lcounter_add_cs(%rip), %rax';
const OFFSET = 'movq __rseq_offset(%rip), %rcx\n';

export const VARIANTS: Variant[] = [
  // rseq_cs->flags: the deprecated NO_RESTART_ON_{PREEMPT,SIGNAL,MIGRATE} bits and an unknown one.
  ...[1, 2, 4, 8].map((f): Variant => ({ name: `cs-flags-${f}`, change: [DESCRIPTOR_FLAGS, `.long 0, ${f}`] })),
  { name: 'post-commit-0', change: [POST_COMMIT, '0'] },
  // struct rseq's own flags field (+28), set by the program before the section.
  ...[1, 8].map((f): Variant => ({ name: `rseq-flags-${f}`, change: [OFFSET, `${OFFSET}\tmovl $${f}, %fs:28(%rcx)\n`] })),
  // The cpu compare's failure path runs the signature itself (ud1): SIGILL after a migration.
  { name: 'jump-to-signature', change: ['jne .Lcounter_add_abort', 'jne .Lcounter_add_abort - 7'] },
  { name: 'rseq-cs-unaligned', change: [ARM, 'leaq .Lcounter_add_cs+4(%rip), %rax'] },
  { name: 'rseq-cs-unmapped', change: [ARM, 'movq $0x10000, %rax'] },
  { name: 'rseq-cs-kernel-space', change: [ARM, 'movabsq $0xffffffff81000000, %rax'] },
];

/** Writes every variant into `dir` and returns its op case. */
export function writeVariants(root: string, dir: string): OpCase[] {
  const base = fs.readFileSync(path.join(root, 'asm', 'counter_add.s'), 'utf8');
  return VARIANTS.map((v) => {
    if (!base.includes(v.change[0])) throw new Error(`variant ${v.name}: '${v.change[0]}' is not in asm/counter_add.s`);
    const file = path.join(dir, `counter_add.${v.name}.s`);
    fs.writeFileSync(file, `# ${v.name}: asm/counter_add.s with one change\n` + base.replace(v.change[0], v.change[1]));
    return { file, entry: 'counter_add', memSize: 16, init: ['100', '200'], args: ['m+0', '5'] };
  });
}
