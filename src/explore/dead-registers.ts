// Which general registers and status flags are dead at an address of the image: on every path from
// it, written before they are read. The state hash (state-hash.ts) leaves dead values out of every
// runnable thread, at the instruction it runs next, or at abort_ip for a thread about to abort: so
// aborts at different instructions of one attempt, whose registers differ only in what the retry
// recomputes, are one state, and so are states that differ only in scratch values about to be
// overwritten.
//
// An instruction inside a listed critical section has one more successor, the section's abort_ip:
// the kernel may abort the thread before it runs (descriptors not in the tables are not followed).
//
// The analysis is deliberately small and conservative. Instructions it knows (moves, lea, two-operand
// arithmetic and logic, adc/sbb, shifts by a constant or %cl, inc/dec/not/neg, two- and three-operand
// imul, setcc, cmovcc, compares, push/pop, direct jumps and conditional branches, nop, pause) read and
// write what they name; anything else — calls, returns, indirect jumps, system calls, string and
// locked instructions, any mnemonic not listed — counts as reading every register, so an unknown
// instruction only ever keeps values. A path longer than MAX_STEPS instructions keeps what is
// still undecided.
import { disassembleSync } from '../asm/capstone.js';
import { imageBytes, sectionAt, type Image } from '../asm/image.js';
import { BRANCH_MNEMONIC, parseInstruction, type Operand } from '../asm/operands.js';
import { readRseqTables } from '../abi/tables.js';
import type { Address } from '../types.js';

/** The registers the analysis tracks; `eflags` stands for the status flags as one unit. */
export const TRACKED = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'eflags'] as const;
export type TrackedRegister = (typeof TRACKED)[number];

const ALL = (1 << TRACKED.length) - 1;
const FLAGS = 1 << TRACKED.indexOf('eflags');
const MAX_STEPS = 256;

/** Register name → [bit of its 64-bit register (0 for rsp and others not tracked), whether writing it replaces the whole register]. */
function registerBit(name: string): [number, boolean] {
  const n = name.toLowerCase();
  const legacy: Record<string, string> = { a: 'rax', b: 'rbx', c: 'rcx', d: 'rdx' };
  let full: string | undefined;
  let whole = false;
  let m: RegExpExecArray | null;
  if ((m = /^r([a-d])x$/.exec(n))) [full, whole] = [legacy[m[1]!], true];
  else if ((m = /^e([a-d])x$/.exec(n))) [full, whole] = [legacy[m[1]!], true];
  else if ((m = /^([a-d])(x|l|h)$/.exec(n))) [full, whole] = [legacy[m[1]!], false];
  else if ((m = /^[re]?(si|di|bp)$/.exec(n))) [full, whole] = [`r${m[1]}`, n.length === 3];
  else if ((m = /^(si|di|bp)l$/.exec(n))) [full, whole] = [`r${m[1]}`, false];
  else if ((m = /^r([89]|1[0-5])(d?)$/.exec(n))) [full, whole] = [`r${m[1]}`, true];
  else if ((m = /^r([89]|1[0-5])[wb]$/.exec(n))) [full, whole] = [`r${m[1]}`, false];
  const i = full ? TRACKED.indexOf(full as TrackedRegister) : -1;
  return [i < 0 ? 0 : 1 << i, whole];
}

interface Effect {
  reads: number;
  /** Registers (and flags) given values that do not depend on what they held. */
  kills: number;
  /** Next instruction addresses; null: unknown (the instruction counts as reading everything). */
  next: Address[] | null;
}

const UNKNOWN: Effect = { reads: ALL, kills: 0, next: null };

function memReads(op: Operand): number {
  if (op.kind !== 'mem') return 0;
  return (op.base ? registerBit(op.base)[0] : 0) | (op.index ? registerBit(op.index)[0] : 0);
}

/** What a register or memory operand reads when it is read, and what writing it kills. */
function operandUse(op: Operand): { read: number; kill: number; readOnWrite: number } {
  if (op.kind === 'reg') {
    const [bit, whole] = registerBit(op.reg);
    return { read: bit, kill: whole ? bit : 0, readOnWrite: whole ? 0 : bit };
  }
  if (op.kind === 'mem') return { read: memReads(op), kill: 0, readOnWrite: memReads(op) };
  return { read: 0, kill: 0, readOnWrite: 0 };
}

const MOVES = /^(mov[bwlq]?|movabs[bwlq]?|movz[bwlq]{2}|movs[bwlq]{2}|movslq)$/;
const ARITH = /^(add|sub|and|or|xor)[bwlq]?$/;
const COMPARE = /^(cmp|test)[bwlq]?$/;
const CONDITIONAL = /^j(?!mp)/;
const SHIFTS = /^(shl|sal|shr|sar)[bwlq]?$/;
/** Read-modify-writes of one operand: `inc` and `dec` keep the carry flag, `not` every flag; `neg` sets them all. */
const UNARY = /^(inc|dec|not|neg)[bwlq]?$/;
/** Instructions that read the status flags and write all of them (from the operands and the carry). */
const WITH_CARRY = /^(adc|sbb)[bwlq]?$/;

function effectOf(image: Image, address: Address): Effect {
  const section = sectionAt(image, address);
  const bytes = section ? imageBytes(image, address, Math.min(15, Number(section.address + BigInt(section.bytes.length) - address))) : null;
  const [d] = bytes ? disassembleSync(bytes, address, 1) : [];
  if (!d) return UNKNOWN;
  const next = address + BigInt(d.size);
  let parsed;
  try {
    parsed = parseInstruction(`${d.mnemonic} ${d.operands}`.trim(), 'att');
  } catch {
    return UNKNOWN;
  }
  if (parsed.prefixes.length) return UNKNOWN;
  const m = parsed.mnemonic.toLowerCase();
  const ops = parsed.operands;
  // pause is a spin-wait hint: it touches no register or flag.
  if (/^(nop[wlq]?|endbr64|pause)$/.test(m)) return { reads: 0, kills: 0, next: [next] };
  if (BRANCH_MNEMONIC.test(m) && m.startsWith("j") && ops.length === 1 && ops[0]!.kind === 'target') {
    const expr = ops[0]!.expr;
    if (expr.kind !== 'num') return UNKNOWN;
    const target = BigInt.asUintN(64, expr.value);
    if (m === 'jmp' || m === 'jmpq') return { reads: 0, kills: 0, next: [target] };
    if (CONDITIONAL.test(m) && !/cxz$/.test(m)) return { reads: FLAGS, kills: 0, next: [target, next] };
    return UNKNOWN;
  }
  if (MOVES.test(m) && ops.length === 2) {
    const [src, dst] = [operandUse(ops[0]!), operandUse(ops[1]!)];
    return { reads: src.read | dst.readOnWrite, kills: dst.kill, next: [next] };
  }
  if (/^lea[wlq]?$/.test(m) && ops.length === 2) {
    const dst = operandUse(ops[1]!);
    return { reads: memReads(ops[0]!) | dst.readOnWrite, kills: dst.kill, next: [next] };
  }
  if (ARITH.test(m) && ops.length === 2) {
    const [src, dst] = [operandUse(ops[0]!), operandUse(ops[1]!)];
    // `xor %eax, %eax` and `sub %eax, %eax` do not depend on what the register held.
    const zeroing = /^(xor|sub)/.test(m) && ops[0]!.kind === 'reg' && ops[1]!.kind === 'reg' && ops[0]!.reg === ops[1]!.reg;
    return { reads: zeroing ? 0 : src.read | dst.read, kills: dst.kill | FLAGS, next: [next] };
  }
  if (COMPARE.test(m) && ops.length === 2) return { reads: operandUse(ops[0]!).read | operandUse(ops[1]!).read, kills: FLAGS, next: [next] };
  if (WITH_CARRY.test(m) && ops.length === 2) return { reads: operandUse(ops[0]!).read | operandUse(ops[1]!).read | FLAGS, kills: FLAGS, next: [next] };
  if (SHIFTS.test(m) && (ops.length === 1 || ops.length === 2)) {
    const dst = operandUse(ops[ops.length - 1]!);
    const count = ops.length === 1 ? { kind: 'imm' as const, expr: { kind: 'num' as const, value: 1n } } : ops[0]!;
    // A count of zero (after masking) leaves the flags as they were; a count in %cl may be zero.
    const flags = count.kind === 'imm' && count.expr.kind === 'num' && (count.expr.value & 31n) !== 0n ? FLAGS : 0;
    if (count.kind !== 'imm' && !(count.kind === 'reg' && count.reg === 'cl')) return UNKNOWN;
    return { reads: dst.read | (count.kind === 'reg' ? registerBit('rcx')[0] : 0), kills: flags, next: [next] };
  }
  if (UNARY.test(m) && ops.length === 1) return { reads: operandUse(ops[0]!).read, kills: m.startsWith('neg') ? FLAGS : 0, next: [next] };
  if (/^imul[wlq]?$/.test(m) && (ops.length === 2 || ops.length === 3)) {
    // `imul src, dst` reads both; `imul $imm, src, dst` overwrites dst. The flags come from the product.
    const dst = operandUse(ops[ops.length - 1]!);
    const reads = ops.length === 2 ? operandUse(ops[0]!).read | dst.read : operandUse(ops[1]!).read | dst.readOnWrite;
    return { reads, kills: (ops.length === 3 ? dst.kill : 0) | FLAGS, next: [next] };
  }
  // setcc writes one byte (the rest of the register stays); cmovcc may not write at all.
  if (/^set[a-z]+$/.test(m) && ops.length === 1) return { reads: FLAGS | operandUse(ops[0]!).readOnWrite, kills: 0, next: [next] };
  if (/^cmov[a-z]+$/.test(m) && ops.length === 2) return { reads: FLAGS | operandUse(ops[0]!).read | operandUse(ops[1]!).read, kills: 0, next: [next] };
  if (/^push[wq]?$/.test(m) && ops.length === 1) return { reads: operandUse(ops[0]!).read, kills: 0, next: [next] };
  if (/^pop[wq]?$/.test(m) && ops.length === 1) {
    const dst = operandUse(ops[0]!);
    return { reads: dst.readOnWrite, kills: dst.kill, next: [next] };
  }
  return UNKNOWN;
}

/** Per image: address → its instruction's effect. */
const effects = new WeakMap<Image, Map<Address, Effect>>();

function effectAt(image: Image, address: Address): Effect {
  let byAddress = effects.get(image);
  if (!byAddress) effects.set(image, (byAddress = new Map()));
  let e = byAddress.get(address);
  if (!e) byAddress.set(address, (e = effectOf(image, address)));
  return e;
}

/** Per image: address → the bit set of dead tracked registers there. */
const deadSets = new WeakMap<Image, Map<Address, number>>();

/** The tracked registers dead at `address` (a bit per TRACKED entry). */
export function deadRegisters(image: Image, address: Address): number {
  let byAddress = deadSets.get(image);
  if (!byAddress) deadSets.set(image, (byAddress = new Map()));
  let dead = byAddress.get(address);
  if (dead === undefined) byAddress.set(address, (dead = ALL & ~liveFrom(image, address)));
  return dead;
}

/** Per image: the listed critical sections, as [start, post-commit) and where an abort sends the thread. */
const abortEdges = new WeakMap<Image, readonly { start: Address; end: Address; abortIp: Address }[]>();

function abortsOf(image: Image): readonly { start: Address; end: Address; abortIp: Address }[] {
  let edges = abortEdges.get(image);
  if (!edges) abortEdges.set(image, (edges = readRseqTables(image).sections.map((s) => ({ start: s.startIp, end: s.postCommitIp, abortIp: s.abortIp }))));
  return edges;
}

/**
 * The tracked registers read on some path from `start` before being written (depth-first over the
 * CFG). Before any instruction of a listed critical section the kernel may abort the thread to
 * the section's abort_ip instead: that is a path too.
 */
function liveFrom(image: Image, start: Address): number {
  let live = 0;
  let steps = 0;
  const seen = new Set<string>();
  const stack: [Address, number][] = [[start, ALL]];
  const aborts = abortsOf(image);
  while (stack.length) {
    const [address, undecided] = stack.pop()!;
    const open = undecided & ~live;
    if (open === 0) continue;
    const key = `${address}:${open}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (++steps > MAX_STEPS) return ALL;
    for (const a of aborts) if (address >= a.start && address < a.end) stack.push([a.abortIp, open]);
    const e = effectAt(image, address);
    live |= open & e.reads;
    if (e.next === null) continue;
    const rest = open & ~e.reads & ~e.kills;
    for (const n of e.next) stack.push([n, rest]);
  }
  return live;
}

/** The names of the tracked registers in a bit set. */
export const registerNames = (bits: number): TrackedRegister[] => TRACKED.filter((_, i) => bits & (1 << i));

/** The status flags (CF PF AF ZF SF OF); the rest of EFLAGS (DF, IF, …) is kept as it is. */
export const STATUS_FLAGS = 0x8d5n;

/**
 * The registers dead at `address`, with the values a state hash takes for them: zero, and `eflags`
 * (the thread's) without its status flags.
 */
export function deadValues(image: Image, address: Address, eflags: bigint): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const name of registerNames(deadRegisters(image, address))) out[name] = name === 'eflags' ? eflags & ~STATUS_FLAGS : 0n;
  return out;
}
