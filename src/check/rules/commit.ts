// commit/*: the body of a section. Its last instruction should be the one store that publishes
// the result (the commit); earlier stores are listed for the reader to judge (a try-store into
// memory private to the thread is fine, into shared data it is the bug the explorer finds);
// instructions that enter the kernel, leave the section by call or return, or trap make the
// kernel abort the section every time (or, under CONFIG_DEBUG_RSEQ, kill the thread).
import type { Image } from '../../asm/image.js';
import type { CriticalSection } from '../../abi/tables.js';
import { insideSection } from '../../kernel/rseq-fixup.js';

import type { ArmingStore, Dataflow } from '../dataflow.js';
import { finding, place, type Finding } from '../finding.js';
import { control, isSystemCall, storeSource, storeTarget, trapReason } from '../instruction.js';
import type { ProgramGraph } from '../program-graph.js';

export function commitRules(image: Image, graph: ProgramGraph, flow: Dataflow, sections: readonly CriticalSection[], arming: readonly ArmingStore[]): Finding[] {
  const out: Finding[] = [];
  const armingAt = new Set(arming.map((a) => a.store.address));
  for (const cs of sections) {
    const body = graph.between(cs.startIp, cs.postCommitIp);
    const last = graph.containing(cs.postCommitIp - 1n);
    const commit = last?.next === cs.postCommitIp ? last : undefined;
    if (commit && storeTarget(commit) === null) {
      out.push(finding(image, 'commit/not-last-store', commit.address, `the last instruction of the section, \`${commit.text}\`, is not a store: the section should end with its commit`));
    }
    for (const ins of body) {
      const c = control(ins);
      if (ins !== commit && storeTarget(ins) !== null && !armingAt.has(ins.address)) {
        out.push(finding(image, 'commit/try-store', ins.address, `\`${ins.text}\` stores before the commit: fine for memory private to this thread, a lost update if other threads read it`));
      }
      const trap = trapReason(ins);
      if (isSystemCall(ins)) {
        out.push(finding(image, 'commit/syscall', ins.address, `\`${ins.text}\` makes a system call inside the section: a call that blocks aborts it every time, and CONFIG_DEBUG_RSEQ kills the thread`));
      } else if (trap) {
        out.push(finding(image, 'commit/trap', ins.address, `\`${ins.text}\` ${trap}: the signal aborts the section every time`));
      } else if (c.kind === 'call' && (c.target === null || !insideSection(c.target, cs))) {
        out.push(finding(image, 'commit/call', ins.address, `\`${ins.text}\` calls out of the section: the callee runs unprotected, and a preemption there is not an abort`));
      } else if (c.kind === 'return') {
        out.push(finding(image, 'commit/ret', ins.address, `\`${ins.text}\` returns from inside the section: the section is left without passing its commit`));
      }
    }
  }
  // A store after a section of a value the section loaded from per-CPU memory, into memory indexed
  // by the cpu number: the update happens unprotected — typically a post-commit label placed one
  // instruction early. (Stores through pointers the section handed out, e.g. to a popped list
  // node, are the thread's own business and not reported.)
  for (const ins of graph.instructions) {
    const target = storeTarget(ins);
    const src = storeSource(ins);
    if (target === null || src === null || sections.some((cs) => insideSection(ins.address, cs))) continue;
    const v = flow.value(ins, src);
    const from = v.kind === 'per-cpu' ? sections.find((cs) => insideSection(v.site, cs)) : undefined;
    const byCpu = [target.base, target.index].some((r) => r !== null && flow.value(ins, r).kind === 'cpu');
    if (!from || !byCpu) continue;
    out.push(finding(image, 'commit/outside', ins.address, `\`${ins.text}\` stores to per-CPU memory, after the section ending at ${place(image, from.postCommitIp)}, a value loaded inside it: this store is not protected; should it be the commit?`));
  }
  return out;
}
