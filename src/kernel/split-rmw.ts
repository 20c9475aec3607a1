// A read-modify-write of memory without LOCK is two accesses on real hardware: another CPU can
// store to the same bytes between the load and the store, and that store is lost. The emulator runs
// an instruction as one step, so the split is made explicit: the schedule item `Tn:load` reads the
// bytes thread n's next instruction loads and keeps them with the thread; other CPUs then run; when
// the thread next runs, the loaded bytes are put back for the length of that one instruction, so it
// computes from them and its store overwrites whatever came in between. Bytes it loads but does not
// store (the source of `movs`) get their current value back afterwards.
//
// Split instructions: add sub and or xor adc sbb inc dec neg not, the shifts and rotates (shl sal
// shr sar rol ror rcl rcr shld shrd), bts btr btc with an immediate bit, cmpxchg, cmpxchg8b/16b and
// xadd — each with a memory destination and no LOCK prefix — and movs (one element; `rep movs`
// already steps element by element). xchg with memory is locked by the CPU, never split.
import { disassembleSync } from '../asm/capstone.js';
import { evaluate, type Expr } from '../asm/expression.js';
import { parseInstruction } from '../asm/operands.js';
import type { Emulator, RegisterFile } from '../engine/index.js';
import type { Address } from '../types.js';
import { SHARED_MEMORY_END } from './address-space.js';

/** A memory operand: base + index * scale + disp (RIP-relative from the next instruction). */
interface MemRef {
  base: string | null;
  index: string | null;
  scale: number;
  disp: bigint;
}

/** What a splittable instruction loads and stores, as operands. */
export interface RmwShape {
  /** The instruction's length, for RIP-relative operands. */
  length: number;
  read: MemRef;
  write: MemRef;
  /** Bytes loaded and stored. */
  size: number;
  /** `rep movs`: nothing is loaded when rcx is 0. */
  rep: boolean;
}

/** A thread between the load and the store of its next instruction. */
export interface SplitLoad {
  ip: Address;
  read: Address;
  bytes: Uint8Array;
  write: Address;
}

const RMW = /^(add|sub|and|or|xor|adc|sbb|inc|dec|neg|not|shl|sal|shr|sar|rol|ror|rcl|rcr|shld|shrd|bts|btr|btc|cmpxchg|xadd)([bwlq])$/;
const SIZES: Record<string, number> = { b: 1, w: 2, l: 4, q: 8 };

function constant(e: Expr | null): bigint | null {
  if (e === null) return 0n;
  try {
    const v = evaluate(e, () => {
      throw new Error('symbol');
    }, { base: null, offset: 0n });
    return v.base === null ? v.offset : null;
  } catch {
    return null;
  }
}

/** The split shape of the instruction `bytes` starts with, or null when it is not one (LOCK, xchg, no memory destination…). */
export function decodeRmw(bytes: Uint8Array, ip: Address): RmwShape | null {
  const [d] = disassembleSync(bytes, ip, 1);
  if (!d || d.mnemonic === '.byte') return null;
  let parsed;
  try {
    parsed = parseInstruction(`${d.mnemonic} ${d.operands}`.trim(), 'att');
  } catch {
    return null;
  }
  if (parsed.prefixes.includes('lock')) return null;
  const mem = (i: number): MemRef | null => {
    const op = parsed.operands.at(i);
    if (op?.kind !== 'mem' || op.seg === 'fs' || op.seg === 'gs') return null; // %fs/%gs: thread-local
    const disp = constant(op.disp);
    return disp === null ? null : { base: op.base, index: op.index, scale: op.scale, disp };
  };
  const m = parsed.mnemonic;
  const movs = /^movs([bwlq])$/.exec(m);
  if (movs && parsed.operands.length === 2) {
    const read = mem(0);
    const write = mem(1);
    return read && write ? { length: d.size, read, write, size: SIZES[movs[1]!]!, rep: parsed.prefixes.includes('rep') } : null;
  }
  if (parsed.prefixes.length) return null;
  const wide = /^cmpxchg(8|16)b$/.exec(m);
  const rmw = RMW.exec(m);
  if (!wide && !rmw) return null;
  // bt* with a register bit offset address memory outside the operand: not modelled.
  if (rmw && /^bt/.test(rmw[1]!) && parsed.operands[0]?.kind !== 'imm') return null;
  const target = mem(parsed.operands.length - 1);
  if (!target) return null;
  return { length: d.size, read: target, write: target, size: wide ? Number(wide[1]) : SIZES[rmw![2]!]!, rep: false };
}

function effectiveAddress(r: MemRef, regs: RegisterFile, next: Address): Address | null {
  const reg = (name: string | null): bigint | null => {
    if (name === null) return 0n;
    if (name === 'rip') return next;
    const v = (regs as Record<string, bigint | undefined>)[name];
    return v === undefined ? null : v;
  };
  const base = reg(r.base);
  const index = reg(r.index);
  if (base === null || index === null) return null; // 32-bit address registers: not modelled
  return BigInt.asUintN(64, base + index * BigInt(r.scale) + r.disp);
}

/** Where a split of `shape` at `ip` would load and store; null when it touches no shared memory (or loads nothing). */
export function splitTarget(shape: RmwShape, ip: Address, regs: RegisterFile): { read: Address; write: Address } | null {
  if (shape.rep && regs.rcx === 0n) return null;
  const next = ip + BigInt(shape.length);
  const read = effectiveAddress(shape.read, regs, next);
  const write = effectiveAddress(shape.write, regs, next);
  if (read === null || write === null || read + BigInt(shape.size) > SHARED_MEMORY_END || write + BigInt(shape.size) > SHARED_MEMORY_END) return null;
  return { read, write };
}

/** The load half of the instruction at `ip`; a reason when there is nothing to split there. */
export function splitLoad(emu: Emulator, ip: Address, regs: RegisterFile): SplitLoad | string {
  let code: Uint8Array;
  try {
    code = emu.read(ip, 15);
  } catch {
    code = emu.read(ip, Number(((ip + 0x1000n) & ~0xfffn) - ip));
  }
  const shape = decodeRmw(code, ip);
  if (!shape) return 'its next instruction is not a read-modify-write of memory without LOCK';
  const at = splitTarget(shape, ip, regs);
  if (!at) return 'its next instruction touches no shared memory';
  try {
    return { ip, read: at.read, bytes: emu.read(at.read, shape.size), write: at.write };
  } catch {
    return `it cannot load from 0x${at.read.toString(16)}`;
  }
}

/**
 * Puts the loaded bytes back before the store half runs. The returned function ends it: with
 * `ran` the instruction executed, and loaded bytes it did not store get their current value
 * back; without, memory is as it was.
 */
export function resumeSplit(emu: Emulator, load: SplitLoad): (ran: boolean) => void {
  const n = load.bytes.length;
  const current = emu.read(load.read, n);
  emu.write(load.read, load.bytes);
  return (ran) => {
    for (let k = 0; k < n; k++) {
      const a = load.read + BigInt(k);
      const stored = a >= load.write && a < load.write + BigInt(n);
      if (!ran || !stored) emu.write(a, current.subarray(k, k + 1));
    }
  };
}
