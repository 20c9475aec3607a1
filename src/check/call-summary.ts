// What a direct call to a function of the image does to the caller's registers: compilers that see
// the callee (gcc's IPA register allocation, `static` helpers at -Os) keep values in caller-saved
// registers across a call that does not write them, and a helper such as librseq's
// rseq_current_cpu_raw() returns a cpu number. A summary is the caller-saved registers the callee
// may write (the ABI keeps the others) and the join of what %rax holds at its returns. A callee
// that leaves by an indirect jump or into another function (a tail call) gets no summary: a call
// to it clobbers every caller-saved register and returns something unknown.
import type { Address } from '../types.js';
import { CALLER_SAVED, control, registersWritten } from './instruction.js';
import type { ProgramGraph } from './program-graph.js';
import { joinValue, sameValue, type Dataflow, type Value } from './dataflow.js';

export interface CallSummary {
  /** The caller-saved registers the callee may change. */
  writes: readonly string[];
  /** What %rax holds when it returns. */
  returns: Value;
}

function summarise(graph: ProgramGraph, flow: Dataflow, entry: Address): CallSummary | null {
  const seen = new Set<Address>();
  const work = [entry];
  const writes = new Set<string>();
  let returns: Value | null = null;
  while (work.length) {
    const at = work.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const ins = graph.at(at)!;
    const c = control(ins);
    if (c.kind === 'indirect-jump') return null;
    if (c.kind === 'jump' && c.target !== entry && graph.entryPoints.has(c.target)) return null;
    if (c.kind === 'call') {
      const inner = c.target === null || c.target === entry ? undefined : flow.options.calls?.get(c.target);
      for (const r of inner?.writes ?? CALLER_SAVED) writes.add(r);
    } else {
      for (const r of registersWritten(ins)) writes.add(r);
    }
    if (c.kind === 'return') {
      const rax = flow.value(ins, 'rax');
      returns = returns === null ? rax : joinValue(returns, rax);
    }
    work.push(...graph.successors(at));
  }
  return { writes: CALLER_SAVED.filter((r) => writes.has(r)), returns: returns ?? { kind: 'unknown' } };
}

/** A summary for every direct call target of the program that has one. */
export function summariseCalls(graph: ProgramGraph, flow: Dataflow): Map<Address, CallSummary> {
  const out = new Map<Address, CallSummary>();
  const targets = new Set<Address>();
  for (const ins of graph.instructions) {
    const c = control(ins);
    if (c.kind === 'call' && c.target !== null && graph.at(c.target)) targets.add(c.target);
  }
  for (const t of targets) {
    const s = summarise(graph, flow, t);
    if (s) out.set(t, s);
  }
  return out;
}

export function sameSummaries(a: ReadonlyMap<Address, CallSummary>, b: ReadonlyMap<Address, CallSummary> | undefined): boolean {
  if (b === undefined) return a.size === 0;
  if (a.size !== b.size) return false;
  for (const [t, s] of a) {
    const o = b.get(t);
    if (!o || o.writes.join() !== s.writes.join() || !sameValue(o.returns, s.returns)) return false;
  }
  return true;
}
