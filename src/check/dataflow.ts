// A small forward analysis over the program graph: what each general register holds before each
// instruction, as far as rseq is concerned — a constant (a descriptor's address from `lea sym(%rip)`,
// `mov $sym`, or a load of image memory known to hold an address, such as a GOT slot), `__rseq_offset`,
// the thread pointer, the address of the rseq area, a cpu number read from the area, or a value read
// from memory addressed by a cpu number ("per-CPU data"). Values meet at joins (loop heads, the
// blocks after a branch) by kind: a cpu number read at two places is still a cpu number, read at
// either. A direct call to a function of the image changes only the registers that function writes
// and returns what it returns (call-summary.ts). From that it names every memory operand (which rseq
// field, if any) and finds the stores that arm rseq_cs. Anything it cannot follow becomes `unknown`,
// which no rule reports on.
import { RseqField, RSEQ_AREA_SIZE } from '../abi/rseq.js';
import type { CriticalSection } from '../abi/tables.js';
import { insideSection } from '../kernel/rseq-fixup.js';
import type { Address } from '../types.js';
import type { Operand } from '../asm/operands.js';
import { summariseCalls, sameSummaries, type CallSummary } from './call-summary.js';
import type { ConstantMemory } from './constant-memory.js';
import { CALLER_SAVED, IMPLICIT_WRITES, READS_ONLY, canonicalRegister, constant, control, ripTarget, storeTarget, type Instruction, type MemOperand } from './instruction.js';
import type { ProgramGraph } from './program-graph.js';

export type Value =
  | { kind: 'unknown' }
  | { kind: 'const'; value: bigint }
  /** The value of `__rseq_offset` (or of a variable the code uses as it): the area's offset from the thread pointer. */
  | { kind: 'rseq-offset' }
  /** The value of some other variable read at a known address (e.g. a GOT slot's target): not an rseq offset, as far as known. */
  | { kind: 'variable'; address: Address }
  /** The FS base, read from `%fs:0` or `%fs:16` (the TCB points to itself). */
  | { kind: 'thread-pointer' }
  /** Thread pointer + __rseq_offset: the address of struct rseq. */
  | { kind: 'rseq-area' }
  /** A cpu number read (at one of `sites`, in address order) from a field of the rseq area, or computed from one. */
  | { kind: 'cpu'; field: number; sites: readonly Address[] }
  /** Read (at one of `sites`) from memory addressed by a cpu number or by such data, or computed from it. */
  | { kind: 'per-cpu'; sites: readonly Address[] };

export type MemoryClass =
  | { kind: 'rseq'; field: number }
  | { kind: 'thread-pointer' }
  | { kind: 'rseq-offset' }
  /** Memory at a known address. */
  | { kind: 'variable'; address: Address }
  | { kind: 'per-cpu' }
  | { kind: 'other' };

/** The fields user space reads a cpu (or concurrency) number from. */
export const CPU_FIELDS: ReadonlyMap<number, string> = new Map([
  [RseqField.cpuIdStart, 'cpu_id_start'],
  [RseqField.cpuId, 'cpu_id'],
  [RseqField.nodeId, 'node_id'],
  [RseqField.mmCid, 'mm_cid'],
]);

export interface ArmingStore {
  /** The store instruction. */
  store: Instruction;
  descriptor: Address;
}

export interface DataflowOptions {
  /** Offsets of struct rseq from the thread pointer known in advance (the emulated glibc's __rseq_offset). */
  areaOffsets: readonly bigint[];
  /** Variables holding the area's offset: `__rseq_offset` when the image refers to it, and any learnt from the code. */
  rseqOffsetVariables: readonly Address[];
  /**
   * The sections the tables list. Storing one's descriptor arms rseq_cs whatever the store's
   * address form; and its abort handler starts with the registers of the instruction the kernel
   * interrupted (it changes none), i.e. the join of the states inside the section.
   */
  listed: readonly CriticalSection[];
  /** Image memory whose content is known at run time. */
  memory: ConstantMemory;
  /** What each called function of the image does to the registers (none known: a call clobbers the caller-saved ones). */
  calls?: ReadonlyMap<Address, CallSummary>;
}

type State = Map<string, Value>;
const UNKNOWN: Value = { kind: 'unknown' };

const sameSites = (a: readonly Address[], b: readonly Address[]) => a.length === b.length && a.every((s, i) => s === b[i]);
const unionSites = (a: readonly Address[], b: readonly Address[]) => [...new Set([...a, ...b])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

export function sameValue(a: Value, b: Value): boolean {
  switch (a.kind) {
    case 'const':
      return b.kind === 'const' && a.value === b.value;
    case 'variable':
      return b.kind === 'variable' && a.address === b.address;
    case 'cpu':
      return b.kind === 'cpu' && a.field === b.field && sameSites(a.sites, b.sites);
    case 'per-cpu':
      return b.kind === 'per-cpu' && sameSites(a.sites, b.sites);
    default:
      return a.kind === b.kind;
  }
}

/** What a register holds where two paths meet: the same value, or a cpu number (per-CPU data) read at any of their sites. */
export function joinValue(a: Value, b: Value): Value {
  if (sameValue(a, b)) return a;
  if (a.kind === 'cpu' && b.kind === 'cpu' && a.field === b.field) return { kind: 'cpu', field: a.field, sites: unionSites(a.sites, b.sites) };
  if (a.kind === 'per-cpu' && b.kind === 'per-cpu') return { kind: 'per-cpu', sites: unionSites(a.sites, b.sites) };
  return UNKNOWN;
}

function join(a: State, b: State): State {
  const out: State = new Map();
  for (const [r, v] of a) {
    const w = b.get(r);
    const j = w === undefined ? UNKNOWN : joinValue(v, w);
    if (j.kind !== 'unknown') out.set(r, j);
  }
  return out;
}

function sameState(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [r, v] of a) {
    const w = b.get(r);
    if (w === undefined || !sameValue(v, w)) return false;
  }
  return true;
}

const tainted = (v: Value) => v.kind === 'cpu' || v.kind === 'per-cpu';

/** A stable name for the read sites of a cpu number or per-CPU value, to compare them as one. */
export const siteKey = (v: { sites: readonly Address[] }): string => v.sites.join(',');

/** What `a OP b` holds: thread pointer + offset is the area; per-CPU data and cpu numbers stay what they were computed from. */
function combine(mnemonic: string, a: Value, b: Value): Value {
  const kinds = new Set([a.kind, b.kind]);
  if (/^add/.test(mnemonic) && kinds.has('thread-pointer') && kinds.has('rseq-offset')) return { kind: 'rseq-area' };
  for (const kind of ['per-cpu', 'cpu'] as const) {
    if (a.kind === kind) return a;
    if (b.kind === kind) return b;
  }
  return UNKNOWN;
}

const BINARY = /^(add|sub|and|or|xor|adc|sbb|imul|sh[lr]|sa[lr]|ro[lr]|rc[lr]|shld|shrd|andn|bt[src])/;
const UNARY = /^(inc|dec|neg|not|bswap)/;
/** Loads of a whole 64-bit word into a register. */
const WORD_LOAD = /^movq?$/;
const SIGN_EXTEND_RAX = /^(cltq|cwtl|cbtw|cdqe|cwde|cbw)$/;

export class Dataflow {
  /** Descriptor stores into rseq_cs, in address order. */
  readonly armingStores: readonly ArmingStore[];
  /** Area offsets learnt from absolute `%fs:` stores of listed descriptors (tcmalloc's `%fs:__rseq_abi@tpoff+8`). */
  readonly learntAreaOffsets: readonly bigint[];
  /** Variables learnt to hold the area's offset: the register of a `%fs:8(%reg)` store of a listed descriptor was loaded from them (librseq's own `rseq_offset`). */
  readonly learntOffsetVariables: readonly Address[];
  /** The in-state of every reachable instruction. */
  private readonly states = new Map<Address, State>();

  constructor(
    private readonly graph: ProgramGraph,
    readonly options: DataflowOptions,
  ) {
    this.solve();
    const arming: ArmingStore[] = [];
    const learnt = new Set<bigint>();
    const variables = new Set<Address>();
    for (const ins of graph.instructions) {
      const found = this.arming(ins);
      if (!found) continue;
      arming.push({ store: ins, descriptor: found.descriptor });
      if (found.learntOffset !== null && !options.areaOffsets.includes(found.learntOffset)) learnt.add(found.learntOffset);
      if (found.learntVariable !== null && !options.rseqOffsetVariables.includes(found.learntVariable)) variables.add(found.learntVariable);
    }
    this.armingStores = arming;
    this.learntAreaOffsets = [...learnt];
    this.learntOffsetVariables = [...variables];
  }

  /** What `reg` (any width) holds before `ins`. */
  value(ins: Instruction, reg: string): Value {
    return this.states.get(ins.address)?.get(canonicalRegister(reg)) ?? UNKNOWN;
  }

  /** What a register, immediate or memory operand of `ins` yields when read. */
  private operandValue(ins: Instruction, op: Operand): Value {
    switch (op.kind) {
      case 'reg':
        return this.value(ins, op.reg);
      case 'imm': {
        const v = constant(op.expr);
        return v === null ? UNKNOWN : { kind: 'const', value: BigInt.asUintN(64, v) };
      }
      case 'mem':
        return this.load(ins, op);
      case 'target':
        return UNKNOWN;
    }
  }

  /** Which memory a memory operand of `ins` addresses, given the registers before it. */
  classify(ins: Instruction, op: MemOperand): MemoryClass {
    const disp = constant(op.disp);
    if (disp === null) return { kind: 'other' };
    const base = op.base === null || op.base === 'rip' ? null : this.value(ins, op.base);
    const index = op.index === null ? null : this.value(ins, op.index);
    if (op.seg !== null && op.seg !== 'fs') return { kind: 'other' };
    if (op.seg === 'fs') {
      if (index !== null) return { kind: 'other' };
      if (base === null) return this.absoluteFs(disp);
      if (base.kind === 'const') return this.absoluteFs(base.value + disp);
      // `%fs:OFF(%reg)`: the glibc ABI's way to reach the area, the register holding __rseq_offset
      // (loaded here, or handed in by the caller as librseq's asm does).
      if (base.kind === 'rseq-offset' || base.kind === 'unknown') return field(disp);
      return { kind: 'other' };
    }
    const at = op.base === 'rip' ? ripTarget(ins, op) : index === null && (base === null || base.kind === 'const') ? BigInt.asUintN(64, (base?.kind === 'const' ? base.value : 0n) + disp) : null;
    if (at !== null) return this.options.rseqOffsetVariables.includes(at) ? { kind: 'rseq-offset' } : { kind: 'variable', address: at };
    if (base?.kind === 'rseq-area' && index === null) return field(disp);
    if ((base !== null && tainted(base)) || (index !== null && tainted(index))) return { kind: 'per-cpu' };
    return { kind: 'other' };
  }

  private absoluteFs(address: bigint): MemoryClass {
    if (THREAD_POINTER_SLOTS.includes(address)) return { kind: 'thread-pointer' };
    for (const off of this.options.areaOffsets) {
      const f = field(address - off);
      if (f.kind === 'rseq') return f;
    }
    return { kind: 'other' };
  }

  private load(ins: Instruction, op: MemOperand): Value {
    const c = this.classify(ins, op);
    switch (c.kind) {
      case 'rseq':
        return CPU_FIELDS.has(c.field) ? { kind: 'cpu', field: c.field, sites: [ins.address] } : UNKNOWN;
      case 'per-cpu':
        return { kind: 'per-cpu', sites: [ins.address] };
      case 'variable': {
        // A word the image fixes (a GOT slot, read-only data): the machine reads the same value.
        const known = WORD_LOAD.test(ins.mnemonic) && this.destinationIs64(ins) ? this.options.memory.word(c.address) : null;
        return known === null ? c : { kind: 'const', value: known };
      }
      case 'rseq-offset':
      case 'thread-pointer':
        return { kind: c.kind };
      case 'other':
        return UNKNOWN;
    }
  }

  private destinationIs64(ins: Instruction): boolean {
    const dst = ins.operands?.[ins.operands.length - 1];
    return dst?.kind === 'reg' && canonicalRegister(dst.reg) === dst.reg;
  }

  /** `lea`: the address a memory operand computes. */
  private address(ins: Instruction, op: MemOperand): Value {
    if (op.seg !== null) return UNKNOWN;
    const rip = ripTarget(ins, op);
    if (rip !== null) return { kind: 'const', value: rip };
    const base = op.base === null ? UNKNOWN : this.value(ins, op.base);
    const index = op.index === null ? UNKNOWN : this.value(ins, op.index);
    if (op.base !== null && op.index === null && constant(op.disp) === 0n && base.kind === 'rseq-area') return base;
    return combine('add', base, index);
  }

  /** The state after `ins`, from the one recorded before it. */
  private transfer(ins: Instruction): State {
    const s: State = new Map(this.states.get(ins.address));
    const ops = ins.operands;
    if (ops === null) return new Map(); // an instruction we could not read may have written anything
    const c = control(ins);
    if (c.kind === 'call') {
      const summary = c.target === null ? undefined : this.options.calls?.get(c.target);
      for (const r of summary?.writes ?? CALLER_SAVED) s.delete(r);
      if (summary && summary.returns.kind !== 'unknown') s.set('rax', summary.returns);
      return s;
    }
    // Sign-extending %eax into %rax (cltq) leaves a cpu number a cpu number.
    const extended = SIGN_EXTEND_RAX.test(ins.mnemonic) ? s.get('rax') : undefined;
    for (const [re, regs] of IMPLICIT_WRITES) if (re.test(ins.mnemonic)) for (const r of regs) s.delete(r);
    if (extended !== undefined && tainted(extended)) s.set('rax', extended);
    if (ins.prefixes.some((p) => p.startsWith('rep'))) s.delete('rcx');
    const dst = ops[ops.length - 1];
    // xchg/xadd with memory load into their register operand.
    if (/^(xchg|xadd)/.test(ins.mnemonic) && ops[0]?.kind === 'reg' && dst?.kind === 'mem') s.delete(canonicalRegister(ops[0].reg));
    if (dst?.kind !== 'reg' || READS_ONLY.test(ins.mnemonic)) return s;
    const name = canonicalRegister(dst.reg);
    const src = ops.length > 1 ? ops[0]! : null;
    const current = this.value(ins, dst.reg);
    let v: Value = UNKNOWN;
    if (/^(xchg|xadd)/.test(ins.mnemonic) && src?.kind === 'reg') {
      s.set(canonicalRegister(src.reg), current);
      v = /^xchg/.test(ins.mnemonic) ? this.value(ins, src.reg) : UNKNOWN;
    } else if (ops.length === 3 && /^imul/.test(ins.mnemonic)) v = combine('imul', this.operandValue(ins, ops[1]!), UNKNOWN);
    else if (/^v?mov/.test(ins.mnemonic) && src) v = this.operandValue(ins, src);
    else if (ins.mnemonic.startsWith('lea') && src?.kind === 'mem') v = this.address(ins, src);
    else if (/^cmov/.test(ins.mnemonic) && src) {
      const moved = this.operandValue(ins, src);
      v = sameValue(moved, current) ? current : UNKNOWN;
    } else if (BINARY.test(ins.mnemonic) && src) {
      const zeroing = src.kind === 'reg' && canonicalRegister(src.reg) === name && /^(xor|sub|sbb)/.test(ins.mnemonic);
      v = zeroing ? UNKNOWN : combine(ins.mnemonic, current, this.operandValue(ins, src));
    } else if ((UNARY.test(ins.mnemonic) || BINARY.test(ins.mnemonic)) && tainted(current)) v = current;
    if (v.kind === 'unknown') s.delete(name);
    else s.set(name, v);
    return s;
  }

  /**
   * Fills `states` by a worklist to a fixpoint. A join only drops registers or widens a cpu
   * number's (per-CPU value's) set of read sites, which is bounded by the loads of the program, so it ends.
   */
  private solve(): void {
    const abortsFrom = new Map<Address, Address[]>();
    for (const cs of this.options.listed) {
      if (insideSection(cs.abortIp, cs) || !this.graph.at(cs.abortIp)) continue;
      for (const ins of this.graph.between(cs.startIp, cs.postCommitIp)) abortsFrom.set(ins.address, [...(abortsFrom.get(ins.address) ?? []), cs.abortIp]);
    }
    const handlers = new Set([...abortsFrom.values()].flat());
    const work: Address[] = [];
    const flow = (to: Address, state: State) => {
      const old = this.states.get(to);
      const merged = old === undefined ? state : join(old, state);
      if (old !== undefined && sameState(merged, old)) return;
      this.states.set(to, merged);
      work.push(to);
    };
    for (const r of this.graph.roots) if (!handlers.has(r)) flow(r, new Map());
    while (work.length) {
      const at = work.pop()!;
      const out = this.transfer(this.graph.at(at)!);
      for (const next of this.graph.successors(at)) flow(next, out);
      // The kernel aborts before the interrupted instruction runs: the handler gets the state before it.
      for (const handler of abortsFrom.get(at) ?? []) flow(handler, this.states.get(at)!);
    }
  }

  private arming(ins: Instruction): { descriptor: Address; learntOffset: bigint | null; learntVariable: Address | null } | null {
    const target = storeTarget(ins);
    const src = ins.operands?.[0];
    if (target === null || src === undefined || ins.operands!.length < 2) return null;
    const data = this.operandValue(ins, src);
    if (data.kind !== 'const' || data.value === 0n) return null;
    const c = this.classify(ins, target);
    if (c.kind === 'rseq' && c.field === RseqField.rseqCs) return { descriptor: data.value, learntOffset: null, learntVariable: null };
    // A listed descriptor stored somewhere this analysis cannot name (not another rseq field):
    // rseq_cs reached some other way, e.g. through a register a call returned.
    if (c.kind !== 'other' || !this.options.listed.some((cs) => cs.descriptor === data.value)) return null;
    const absolute = target.seg === 'fs' && target.base === null && target.index === null ? constant(target.disp) : null;
    const base = target.seg === 'fs' && target.base !== null && target.index === null && constant(target.disp) === BigInt(RseqField.rseqCs) ? this.value(ins, target.base) : null;
    return {
      descriptor: data.value,
      learntOffset: absolute === null ? null : absolute - BigInt(RseqField.rseqCs),
      learntVariable: base?.kind === 'variable' ? base.address : null,
    };
  }
}

/** Where the TCB holds the thread pointer: glibc's tcbhead_t.tcb at %fs:0 and .self at %fs:16. */
const THREAD_POINTER_SLOTS = [0n, 16n];

const field = (offset: bigint): MemoryClass =>
  offset >= 0n && offset < BigInt(RSEQ_AREA_SIZE) ? { kind: 'rseq', field: Number(offset) } : { kind: 'other' };

/** Passes of learning (area offsets, offset variables, call summaries) before the analysis is taken as it is. */
const MAX_PASSES = 6;

/**
 * Runs the analysis, then again with what the previous pass learnt, until nothing new is learnt:
 * an area offset from a listed descriptor stored to an absolute `%fs:` address, a variable holding
 * the offset from a `%fs:8(%reg)` store of one, and what each called function writes and returns.
 */
export function analyse(graph: ProgramGraph, options: DataflowOptions): Dataflow {
  let flow = new Dataflow(graph, options);
  for (let pass = 1; pass < MAX_PASSES; pass++) {
    const calls = summariseCalls(graph, flow);
    if (flow.learntAreaOffsets.length === 0 && flow.learntOffsetVariables.length === 0 && sameSummaries(calls, options.calls)) return flow;
    options = {
      ...options,
      areaOffsets: [...options.areaOffsets, ...flow.learntAreaOffsets],
      rseqOffsetVariables: [...options.rseqOffsetVariables, ...flow.learntOffsetVariables],
      calls,
    };
    flow = new Dataflow(graph, options);
  }
  return flow;
}
