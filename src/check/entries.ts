// How control enters each critical section. The kernel clears rseq_cs whenever it finds the IP
// outside a section (the lazy clear), so a section is protected only when the store of its
// descriptor into rseq_cs is the very instruction before it: any instruction in between is a
// window where a preemption leaves the section unarmed. Every edge into a section from outside
// is therefore classified by what precedes it.
import type { CriticalSection } from '../abi/tables.js';
import { insideSection } from '../kernel/rseq-fixup.js';
import type { Address } from '../types.js';
import type { ArmingStore } from './dataflow.js';
import type { Instruction } from './instruction.js';
import type { ProgramGraph } from './program-graph.js';

export type EntryKind =
  /** The edge leaves the store that arms this section's descriptor. */
  | 'armed'
  /** The abort handler gets here without storing the descriptor again (the kernel cleared rseq_cs at the abort). */
  | 'from-abort'
  /** The descriptor was stored earlier, but other instructions ran since. */
  | 'gap'
  /** No store of this descriptor precedes the edge. */
  | 'unarmed';

export interface SectionEntry {
  section: CriticalSection;
  /** The instruction outside that passes control in; null when `to` is itself an entry point (call target, global or function symbol). */
  from: Instruction | null;
  to: Instruction;
  kind: EntryKind;
}

/** Addresses reachable from `starts` along the graph, not expanding past `stop`. */
function reach(graph: ProgramGraph, starts: Address[], stop: (a: Address) => boolean): Set<Address> {
  const seen = new Set<Address>();
  const work = starts.filter((a) => graph.at(a) !== undefined);
  while (work.length) {
    const a = work.pop()!;
    if (seen.has(a)) continue;
    seen.add(a);
    if (!stop(a)) work.push(...graph.successors(a));
  }
  return seen;
}

export function sectionEntries(graph: ProgramGraph, sections: readonly CriticalSection[], arming: readonly ArmingStore[]): SectionEntry[] {
  const out: SectionEntry[] = [];
  for (const cs of sections) {
    const inside = (a: Address) => insideSection(a, cs);
    const stores = new Set(arming.filter((s) => s.descriptor === cs.descriptor).map((s) => s.store.address));
    const stop = (a: Address) => inside(a) || stores.has(a);
    // With no store of the descriptor anywhere, every way in is simply unarmed, the handler's included.
    const fromAbort = stores.size === 0 || inside(cs.abortIp) ? new Set<Address>() : reach(graph, [cs.abortIp], stop);
    const afterStores = [...stores].flatMap((a) => graph.successors(a)).filter((a) => !inside(a));
    const fromStore = reach(graph, afterStores, stop);
    for (const to of graph.between(cs.startIp, cs.postCommitIp)) {
      if (graph.entryPoints.has(to.address)) out.push({ section: cs, from: null, to, kind: 'unarmed' });
      for (const p of graph.predecessors(to.address)) {
        if (inside(p)) continue;
        const kind: EntryKind = stores.has(p) ? 'armed' : fromAbort.has(p) ? 'from-abort' : fromStore.has(p) ? 'gap' : 'unarmed';
        out.push({ section: cs, from: graph.at(p)!, to, kind });
      }
    }
  }
  return out;
}
