// Descriptor, area and handler edge cases, written as small textual changes to asm/counter_add.s
// (or to an edge/ source) so each differs from its base in the one thing the kernel checks.
import fs from 'node:fs';
import path from 'node:path';
import type { OpCase } from './rows.js';

interface Variant {
  name: string;
  /** The source changed, relative to the repository; asm/counter_add.s when absent. */
  base?: string;
  /** What changes, as [text of the base, replacement] pairs. */
  change: [string, string] | [string, string][];
  /** The entries called and their memory and arguments; counter_add's when absent. */
  calls?: { entries: string[]; memSize: number; init: string[]; args: string[] };
}

const SEGV = 'test/fidelity/edge/segv-handler.s';
const NESTED = 'test/fidelity/edge/nested-signal.s';
const FORK = 'test/fidelity/edge/fork-child.s';
const THREADS = 'test/fidelity/edge/threads.s';
export const FORK_CALLS = { entries: ['fork_add'], memSize: 24, init: ['100', '200'], args: ['m+0', '5'] };
export const THREAD_CALLS = { entries: ['two_threads', 'two_threads_a_unregistered', 'two_threads_b_on_cpu1'], memSize: 112, init: [], args: ['m+0', '5'] };
export const NESTED_CALLS = { entries: ['usr2_nested', 'usr1_self', 'usr1_self_nodefer'], memSize: 88, init: ['100', '200'], args: ['m+0', '5'] };
const NODEFER: [string, string] = ['.quad on_segv, 0x04000000', '.quad on_segv, 0x44000000'];
/** segv-handler.s turned into a SIGILL handler around a failure path that runs the signature. */
const SIGILL_HANDLER: [string, string][] = [['movl $11, %edi', 'movl $4, %edi'], ['.long 0x53053054', '.long 0x53053053'], ['jne .Labort', 'jne .Labort - 7']];

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
  // User handlers: SIGSEGV with SA_NODEFER (the fix-up still fails during its delivery), and SIGILL
  // for the signature executed, with and without SA_NODEFER (the handler exits with 42).
  { name: 'segv-handler-nodefer', base: SEGV, change: NODEFER },
  { name: 'sigill-handler', base: SEGV, change: SIGILL_HANDLER },
  { name: 'sigill-handler-nodefer', base: SEGV, change: [...SIGILL_HANDLER, NODEFER] },
  // The handler's own section has a wrong signature: a fix-up failing in the handler, during a
  // nested delivery, and (rseq_cs is validated even outside) after the handler returned.
  // A fix-up failing in a fork child kills the child alone (the parent's wait status says how);
  // in a clone thread it kills the whole process, at that thread (one thread: with two, whether
  // the other committed before the process died is the scheduler's choice).
  { name: 'child-wrong-signature', base: FORK, change: ['.long 0x53053053\n.Lc_abort:', '.long 0x53053054\n.Lc_abort:'], calls: FORK_CALLS },
  { name: 'thread-a-wrong-signature', base: THREADS, change: ['.long 0x53053053\n.La_abort:', '.long 0x53053054\n.La_abort:'], calls: { ...THREAD_CALLS, entries: ['one_thread'] } },
  { name: 'handler-wrong-signature', base: NESTED, change: ['.long 0x53053053\n.Lh_abort:', '.long 0x53053054\n.Lh_abort:'], calls: NESTED_CALLS },
];

/** Writes every variant into `dir` and returns its op case. */
export function writeVariants(root: string, dir: string): OpCase[] {
  return VARIANTS.flatMap((v) => {
    const from = v.base ?? 'asm/counter_add.s';
    let text = fs.readFileSync(path.join(root, from), 'utf8');
    const changes = (typeof v.change[0] === 'string' ? [v.change] : v.change) as [string, string][];
    for (const [was, now] of changes) {
      if (!text.includes(was)) throw new Error(`variant ${v.name}: '${was}' is not in ${from}`);
      text = text.replace(was, now);
    }
    const file = path.join(dir, `${path.basename(from, '.s')}.${v.name}.s`);
    fs.writeFileSync(file, `# ${v.name}: ${from} changed\n` + text);
    const calls = v.calls ?? { entries: ['counter_add'], memSize: 16, init: ['100', '200'], args: ['m+0', '5'] };
    return calls.entries.map((entry): OpCase => ({ file, entry, memSize: calls.memSize, init: calls.init, args: calls.args }));
  });
}
