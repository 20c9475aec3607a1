// commit/*: the body of a section. Its last instruction should be the one store that publishes
// the result (the commit); earlier stores are listed for the reader to judge (a try-store into
// memory private to the thread is fine, into shared data it is the bug the explorer finds);
// instructions that enter the kernel, leave the section by call or return, or trap make the
// kernel abort the section every time (or, under CONFIG_DEBUG_RSEQ, kill the thread). After the
// section, an update of the per-CPU memory it worked on is a commit placed past the post-commit label.
import type { Image } from '../../asm/image.js';
import type { CriticalSection } from '../../abi/tables.js';
import { insideSection } from '../../kernel/rseq-fixup.js';
import type { Address } from '../../types.js';
import type { ArmingStore, Dataflow } from '../dataflow.js';
import { finding, place, type Finding } from '../finding.js';
import { control, isSystemCall, readsStoreTarget, registersRead, storeSource, storeTarget, trapReason, type Instruction, type MemOperand } from '../instruction.js';
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
  for (const cs of sections) out.push(...storesAfter(image, graph, flow, cs, sections, armingAt));
  return out;
}

/** The read sites of the cpu numbers the section uses: read inside it, or read before it and used (compared, indexed) inside. */
function cpuSitesOf(flow: Dataflow, body: readonly Instruction[]): Set<Address> {
  const sites = new Set<Address>(body.map((i) => i.address));
  for (const ins of body) {
    for (const reg of registersRead(ins)) {
      const v = flow.value(ins, reg);
      if (v.kind === 'cpu') for (const s of v.sites) sites.add(s);
    }
  }
  return sites;
}

/** The same memory operand, written the same way (a lock word taken in the section and released after). */
const operandKey = (m: MemOperand): string => JSON.stringify([m.seg, m.base, m.index, m.scale, m.disp], (_, v) => (typeof v === 'bigint' ? v.toString() : v));

/** The memory operand an instruction only reads (not its store target, not an address computation). */
function plainLoad(ins: Instruction): MemOperand | null {
  if (!ins.operands || /^(lea|nop|prefetch|clflush|clwb)/.test(ins.mnemonic)) return null;
  const target = storeTarget(ins);
  const read = ins.operands.find((op): op is MemOperand => op.kind === 'mem' && !op.indirect && op !== target);
  return read ?? null;
}

/**
 * commit/outside: a store on the way on from the post-commit address that updates per-CPU memory
 * indexed by the cpu number the section used — a read-modify-write of that memory (`addq %rax,
 * (%rdi,%rcx,8)`, whatever its form), or a store of a value loaded from per-CPU memory. It runs
 * unprotected, typically because the post-commit label sits one instruction early. The way on ends
 * where a new attempt begins: a store into rseq_cs, another section, or the cpu number read again.
 * (Stores through pointers the section handed out, e.g. into a popped list node, are the thread's
 * own business and not reported.) A section whose commit takes a lock — the same memory is stored
 * again on the way on, the release — protects the stores before that release: the selftests'
 * per-CPU spinlock updates its data there on purpose.
 * commit/read-after, on the same way on: a load from that memory — the value a pop returns read
 * after the commit that freed its slot, which a push on that CPU may already have reused.
 */
function storesAfter(image: Image, graph: ProgramGraph, flow: Dataflow, cs: CriticalSection, sections: readonly CriticalSection[], armingAt: ReadonlySet<Address>): Finding[] {
  const out: Finding[] = [];
  const sites = cpuSitesOf(flow, graph.between(cs.startIp, cs.postCommitIp));
  const last = graph.containing(cs.postCommitIp - 1n);
  const lockTarget = last?.next === cs.postCommitIp ? storeTarget(last) : null;
  const lockKey = lockTarget ? operandKey(lockTarget) : null;
  const isRelease = (ins: Instruction): boolean => {
    const t = storeTarget(ins);
    return lockKey !== null && t !== null && operandKey(t) === lockKey;
  };
  /** Visits the way on, depth first, each (address, lock held) once; `visit` says whether to go on past it. */
  const walk = (held: boolean, visit: (ins: Instruction, held: boolean) => void): void => {
    const seen = new Set<string>();
    const work: [Address, boolean][] = graph.at(cs.postCommitIp) ? [[cs.postCommitIp, held]] : [];
    while (work.length) {
      const [at, h] = work.pop()!;
      const key = `${at}:${h}`;
      if (seen.has(key) || armingAt.has(at) || sections.some((s) => insideSection(at, s)) || (at !== cs.postCommitIp && sites.has(at))) continue;
      seen.add(key);
      const ins = graph.at(at)!;
      visit(ins, h);
      for (const next of graph.successors(at)) work.push([next, h && !isRelease(ins)]);
    }
  };
  let released = false;
  walk(false, (ins) => (released ||= isRelease(ins)));
  /** Whether a memory operand is addressed from the cpu number this section read. */
  const byCpu = (ins: Instruction, m: MemOperand): boolean =>
    [m.base, m.index].some((r) => {
      const v = r === null || r === 'rip' ? null : flow.value(ins, r);
      return v?.kind === 'cpu' && v.sites.some((s) => sites.has(s));
    });
  walk(released, (ins, held) => {
    if (held) return;
    const read = plainLoad(ins);
    if (read && byCpu(ins, read)) {
      out.push(finding(image, 'commit/read-after', ins.address, `\`${ins.text}\` reads per-CPU memory indexed by the cpu number of the section ending at ${place(image, cs.postCommitIp)}, after the commit: another thread on that CPU may have changed it since, so the value can belong to someone else; read it inside the section, before the commit`));
    }
    const target = storeTarget(ins);
    if (target === null) return;
    const src = storeSource(ins);
    const loaded = src !== null && flow.value(ins, src).kind === 'per-cpu';
    if (!byCpu(ins, target) || !(loaded || readsStoreTarget(ins))) return;
    const what = loaded ? 'stores a value loaded from per-CPU memory into' : 'updates (reads, modifies and writes)';
    out.push(finding(image, 'commit/outside', ins.address, `\`${ins.text}\` ${what} per-CPU memory indexed by the cpu number of the section ending at ${place(image, cs.postCommitIp)}, after the section: the store is not protected, so a preemption or migration before it loses another thread's update; should it be the commit?`));
  });
  return out;
}
