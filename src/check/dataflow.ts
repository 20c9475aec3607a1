// A small forward analysis over the program graph: what each general register holds before each
// instruction, as far as rseq is concerned — a constant (a descriptor's address from `lea sym(%rip)`
// or `mov $sym`), `__rseq_offset`, the thread pointer, the address of the rseq area, a cpu number
// read from the area, or a value read from memory addressed by a cpu number ("per-CPU data").
// From that it names every memory operand (which rseq field, if any) and finds the stores that arm
// rseq_cs. Anything it cannot follow becomes `unknown`, which no rule reports on.
import { RseqField, RSEQ_AREA_SIZE } from '../abi/rseq.js';
import type { CriticalSection } from '../abi/tables.js';
import { insideSection } from '../kernel/rseq-fixup.js';
import type { Address } from '../types.js';
import type { Operand } from '../asm/operands.js';
import { CALLER_SAVED, canonicalRegister, constant, control, ripTarget, storeTarget, type Instruction, type MemOperand } from './instruction.js';
import type { ProgramGraph } from './program-graph.js';

export type Value =
  | { kind: 'unknown' }
  | { kind: 'const'; value: bigint }
  /** The value of `__rseq_offset`: the area's offset from the thread pointer. */
  | { kind: 'rseq-offset' }
  /** The value of some other variable read RIP-relative (e.g. a GOT slot): not an rseq offset. */
  | { kind: 'variable' }
  /** The FS base, read from `%fs:0` or `%fs:16` (the TCB points to itself). */
  | { kind: 'thread-pointer' }
  /** Thread pointer + __rseq_offset: the address of struct rseq. */
  | { kind: 'rseq-area' }
  /** A cpu number read (at `site`) from a field of the rseq area, or computed from one. */
  | { kind: 'cpu'; field: number; site: Address }
  /** Read (at `site`) from memory addressed by a cpu number or by such data, or computed from it. */
  | { kind: 'per-cpu'; site: Address };

export type MemoryClass =
  | { kind: 'rseq'; field: number }
  | { kind: 'thread-pointer' }
  | { kind: 'rseq-offset' }
  | { kind: 'variable' }
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
  /** The `__rseq_offset` variable, when the image refers to it. */
  rseqOffsetVariable: Address | null;
  /**
   * The sections the tables list. Storing one's descriptor arms rseq_cs whatever the store's
   * address form; and its abort handler starts with the registers of the instruction the kernel
   * interrupted (it changes none), i.e. the join of the states inside the section.
   */
  listed: readonly CriticalSection[];
}

type State = Map<string, Value>;
const UNKNOWN: Value = { kind: 'unknown' };

function sameValue(a: Value, b: Value): boolean {
  switch (a.kind) {
    case 'const':
      return b.kind === 'const' && a.value === b.value;
    case 'cpu':
      return b.kind === 'cpu' && a.field === b.field && a.site === b.site;
    case 'per-cpu':
      return b.kind === 'per-cpu' && a.site === b.site;
    default:
      return a.kind === b.kind;
  }
}

/** Paths meet: a register keeps its value only when every path agrees on it. */
function join(a: State, b: State): State {
  const out: State = new Map();
  for (const [r, v] of a) if (b.has(r) && sameValue(v, b.get(r)!)) out.set(r, v);
  return out;
}

const tainted = (v: Value) => v.kind === 'cpu' || v.kind === 'per-cpu';

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

// Instructions that write registers they do not name.
const IMPLICIT_WRITES: [RegExp, string[]][] = [
  [/^(mul|div|idiv)[bwlq]?$/, ['rax', 'rdx']],
  [/^(cqto|cltd|cwtd|cqo|cdq|cwd)$/, ['rdx']],
  [/^(cltq|cwtl|cbtw|cdqe|cwde|cbw|xlatb?|lahf)$/, ['rax']],
  [/^cpuid$/, ['rax', 'rbx', 'rcx', 'rdx']],
  [/^(rdtsc|rdpkru|xgetbv)$/, ['rax', 'rdx']],
  [/^rdtscp$/, ['rax', 'rdx', 'rcx']],
  [/^syscall$/, ['rax', 'rcx', 'r11']],
  [/^cmpxchg[bwlq]?$/, ['rax']],
  [/^cmpxchg(8|16)b$/, ['rax', 'rdx']],
  [/^lods[bwlq]$/, ['rax', 'rsi']],
  [/^(stos|scas)[bwlq]$/, ['rdi']],
  [/^(movs|cmps)[bwlq]$/, ['rsi', 'rdi']],
];

// Instructions whose last register operand is only read.
const READS_ONLY = /^(cmp(?!xchg)|test|bt[wlq]?$|v?u?comis|v?ptest|push|nop|j|l?call|loop|out|bound|prefetch|clflush)/;
const BINARY = /^(add|sub|and|or|xor|adc|sbb|imul|sh[lr]|sa[lr]|ro[lr]|rc[lr]|shld|shrd|andn|bt[src])/;
const UNARY = /^(inc|dec|neg|not|bswap)/;

export class Dataflow {
  /** Descriptor stores into rseq_cs, in address order. */
  readonly armingStores: readonly ArmingStore[];
  /** Area offsets learnt from absolute `%fs:` stores of listed descriptors (tcmalloc's `%fs:__rseq_abi@tpoff+8`). */
  readonly learntAreaOffsets: readonly bigint[];
  /** The in-state of every reachable instruction. */
  private readonly states = new Map<Address, State>();

  constructor(
    private readonly graph: ProgramGraph,
    private readonly options: DataflowOptions,
  ) {
    this.solve();
    const arming: ArmingStore[] = [];
    const learnt = new Set<bigint>();
    for (const ins of graph.instructions) {
      const found = this.arming(ins);
      if (!found) continue;
      arming.push({ store: ins, descriptor: found.descriptor });
      if (found.learntOffset !== null && !options.areaOffsets.includes(found.learntOffset)) learnt.add(found.learntOffset);
    }
    this.armingStores = arming;
    this.learntAreaOffsets = [...learnt];
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
    if (op.base === 'rip') {
      const target = ripTarget(ins, op);
      return target !== null && target === this.options.rseqOffsetVariable ? { kind: 'rseq-offset' } : { kind: 'variable' };
    }
    const base = op.base === null ? null : this.value(ins, op.base);
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
        return CPU_FIELDS.has(c.field) ? { kind: 'cpu', field: c.field, site: ins.address } : UNKNOWN;
      case 'per-cpu':
        return { kind: 'per-cpu', site: ins.address };
      case 'rseq-offset':
      case 'thread-pointer':
      case 'variable':
        return { kind: c.kind };
      case 'other':
        return UNKNOWN;
    }
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
      for (const r of CALLER_SAVED) s.delete(r);
      return s;
    }
    for (const [re, regs] of IMPLICIT_WRITES) if (re.test(ins.mnemonic)) for (const r of regs) s.delete(r);
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

  /** Fills `states` by a worklist to a fixpoint; a join only ever drops registers, so it ends. */
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
      if (old !== undefined && merged.size === old.size) return;
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

  private arming(ins: Instruction): { descriptor: Address; learntOffset: bigint | null } | null {
    const target = storeTarget(ins);
    const src = ins.operands?.[0];
    if (target === null || src === undefined || ins.operands!.length < 2) return null;
    const data = this.operandValue(ins, src);
    if (data.kind !== 'const' || data.value === 0n) return null;
    const c = this.classify(ins, target);
    if (c.kind === 'rseq' && c.field === RseqField.rseqCs) return { descriptor: data.value, learntOffset: null };
    // A listed descriptor stored somewhere this analysis cannot name (not another rseq field):
    // rseq_cs reached some other way, e.g. through a register a call returned.
    if (c.kind !== 'other' || !this.options.listed.some((cs) => cs.descriptor === data.value)) return null;
    const absolute = target.seg === 'fs' && target.base === null && target.index === null ? constant(target.disp) : null;
    return { descriptor: data.value, learntOffset: absolute === null ? null : absolute - BigInt(RseqField.rseqCs) };
  }
}

/** Where the TCB holds the thread pointer: glibc's tcbhead_t.tcb at %fs:0 and .self at %fs:16. */
const THREAD_POINTER_SLOTS = [0n, 16n];

const field = (offset: bigint): MemoryClass =>
  offset >= 0n && offset < BigInt(RSEQ_AREA_SIZE) ? { kind: 'rseq', field: Number(offset) } : { kind: 'other' };

/**
 * Runs the analysis; when a listed descriptor is stored to an absolute `%fs:` address the area's
 * offset is learnt from it and the analysis runs once more, so loads of cpu_id there are seen too.
 */
export function analyse(graph: ProgramGraph, options: DataflowOptions): Dataflow {
  const first = new Dataflow(graph, options);
  if (first.learntAreaOffsets.length === 0) return first;
  return new Dataflow(graph, { ...options, areaOffsets: [...options.areaOffsets, ...first.learntAreaOffsets] });
}
