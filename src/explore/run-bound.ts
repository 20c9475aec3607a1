// The most instructions a thread can still run before its call returns, from where it stands: the
// longest path through the image's control-flow graph to a `ret`, where the thread may also be
// aborted from inside any listed section to its abort_ip. Unbounded (null) where a path can loop,
// jump or call indirectly or through a call, enter the kernel, trap, repeat a string instruction,
// move the stack pointer (then a `ret` may not end the call), or leave the decoded code.
//
// commuting.ts uses it to know that a thread cannot reach its time slice's end before it leaves
// its CPU for good: then where that thread's tick would come decides nothing.
import type { CriticalSection } from '../abi/tables.js';
import type { Image } from '../asm/image.js';
import { control, isSystemCall, trapReason, type Instruction } from '../check/instruction.js';
import { ProgramGraph } from '../check/program-graph.js';
import type { Address } from '../types.js';

/** Instructions that move the stack pointer without naming it, and any that name it. */
const STACK_MNEMONIC = /^(push|pop|call|leave|enter|lcall)/;
const STACK_OPERAND = /%(rsp|esp|sp|spl)\b/;

export class RunBound {
  /** Built when first asked (a search may never need a bound): it decodes the whole image. */
  private built: ProgramGraph | null = null;
  /** Per address: the longest path from it (instructions, the `ret` included), or null; absent while on the stack. */
  private readonly memo = new Map<Address, number | null>();

  constructor(private readonly image: Image, private readonly sections: readonly CriticalSection[]) {}

  private get graph(): ProgramGraph {
    return (this.built ??= new ProgramGraph(this.image));
  }

  /** The most instructions a thread at `address` runs until its call returns, or null when unbounded. */
  from(address: Address): number | null {
    // Iterative depth-first search: a path may be long, and a cycle is found by meeting an address still open.
    if (this.memo.has(address)) return this.memo.get(address)!;
    const open = new Set<Address>();
    const stack: { at: Address; succ: Address[] | null; next: Address[] | null }[] = [{ at: address, succ: null, next: null }];
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.next === null) {
        top.succ = this.successors(top.at);
        if (top.succ === null) {
          this.memo.set(top.at, null);
          stack.pop();
          continue;
        }
        top.next = [...top.succ];
        open.add(top.at);
      }
      const n = top.next.pop();
      if (n !== undefined) {
        if (open.has(n)) return this.fail(open);
        if (!this.memo.has(n)) stack.push({ at: n, succ: null, next: null });
        else if (this.memo.get(n) === null) return this.fail(open);
        continue;
      }
      // Every successor settled: the longest of them, plus this instruction.
      stack.pop();
      open.delete(top.at);
      let longest = 0;
      for (const s of top.succ!) {
        const b = this.memo.get(s);
        if (b === null || b === undefined) return this.fail(open);
        longest = Math.max(longest, b);
      }
      this.memo.set(top.at, longest + 1);
    }
    return this.memo.get(address) ?? null;
  }

  /** Where a thread may go after the instruction at `at`: [] after a `ret`, null when unbounded. */
  private successors(at: Address): Address[] | null {
    const ins = this.graph.at(at);
    if (!ins || this.unbounded(ins)) return null;
    const c = control(ins);
    if (c.kind === 'return') return [];
    const out = [...this.graph.successors(at)];
    // A fall-through or branch past the decoded code leaves the graph: unbounded.
    if ((c.kind === 'plain' || c.kind === 'branch') && !out.includes(ins.next)) return null;
    if ((c.kind === 'jump' || c.kind === 'branch') && !out.includes(c.target)) return null;
    for (const s of this.sections) {
      if (at - s.startIp >= 0n && at - s.startIp < s.postCommitOffset && !out.includes(s.abortIp)) {
        if (!this.graph.at(s.abortIp)) return null;
        out.push(s.abortIp);
      }
    }
    return out;
  }

  private unbounded(ins: Instruction): boolean {
    const c = control(ins);
    if (c.kind === 'indirect-jump' || c.kind === 'call' || c.kind === 'stop') return true;
    if (isSystemCall(ins) || trapReason(ins) !== null) return true;
    if (ins.prefixes.some((p) => /^rep/.test(p)) || /^rep/.test(ins.mnemonic)) return true;
    return (c.kind !== 'return' && STACK_MNEMONIC.test(ins.mnemonic)) || STACK_OPERAND.test(ins.text);
  }

  /** A cycle (or an unbounded instruction) is reachable from every address still open. */
  private fail(open: Set<Address>): null {
    for (const a of open) this.memo.set(a, null);
    return null;
  }
}
