// Events one load apart. commuting.ts lets a preempt or migrate just before a register-only
// instruction stand for the same event just after it. A load of shared memory commutes the same
// way as long as nothing changes the loaded bytes while its thread is off its CPU: the others run
// alike whether the load came before the event or after (a load changes no byte they see), and
// the thread reads the same value when it comes back. The search cannot know that beforehand (the
// holder of a lock reads data nobody else may write until it releases; a spinner's next read of
// the lock word is exactly what the holder's release changes), so it checks as it goes, as the
// scratch rule does (scratch-bytes.ts):
// - `used`: load points where an event's subtree stood for the same event after the load;
// - `conflicted`: load points where some thread waited (its next instruction the load) while
//   another thread stored to the bytes it would load.
// A point both used and conflicted may have skipped a schedule that reads another value: the
// search runs again with every conflicted point excluded (explorer.ts nextScratchRound). Every
// schedule below a skipped event has one below the earlier event in which the others run the same
// while the thread waits; the store would have happened there, in this search (a state met again
// was explored before, and the other rules' stand-ins run the same stores), so checking every run
// the search makes is enough. That needs the earlier event explored before the load itself
// (commuting.ts takes only those): one stood for in turn by an event before a register-only
// instruction leaves no run in which the thread waits at the load. A point is not used once it is
// known conflicted, by this thread of the search or another (sharedConflicts).
//
// The rule needs every store to shared memory to pass Unicorn's write hook: one process, code that
// makes no system call (the kernel's writes are the host's), and no handler of the program's own
// (a thread's handler could store to the bytes its interrupted code is about to load).
import { imageInstructions } from '../asm/capstone.js';
import type { Image } from '../asm/image.js';
import { parseInstruction, type Operand } from '../asm/operands.js';
import type { Expr } from '../asm/expression.js';
import { entersKernel } from '../asm/kernel-entries.js';
import { isBlockRegister, registerBlock, savedRegister, type BlockRegister } from '../engine/context-layout.js';
import type { RegisterFile } from '../engine/index.js';
import { SHARED_MEMORY_END } from '../kernel/address-space.js';
import type { Machine } from '../kernel/machine.js';
import type { Address } from '../types.js';

/** Loads and compares whose memory operand is only read (a mov's is its source, into a register). */
const LOADS = /^(mov[bwlq]?|movabs[bwlq]?|movz[bwlq]{2}|movs[bwlq]{2}|movslq|cmp[bwlq]?|test[bwlq]?)$/;

type MemOperand = Extract<Operand, { kind: 'mem' }>;

/** Whether the mnemonic is one of LOADS (before parsing its operands, which costs more). */
export const isLoad = (mnemonic: string): boolean => LOADS.test(mnemonic);

/**
 * The one memory operand of a load or compare (LOADS), which it only reads; null for any other
 * instruction, or one with more memory operands. A mov writes its last operand: the memory one
 * must be the source, the destination a register.
 */
export function loadedOperand(mnemonic: string, ops: readonly Operand[]): MemOperand | null {
  if (!isLoad(mnemonic)) return null;
  const mems = ops.filter((op): op is MemOperand => op.kind === 'mem');
  if (mems.length !== 1) return null;
  if (mnemonic.startsWith('mov') && (ops[0] !== mems[0] || ops[1]?.kind !== 'reg')) return null;
  return mems[0]!;
}

/** Eight bytes cover what any of these loads reads. */
const LOAD_BYTES = 8n;

/** A memory operand's displacement when it is a plain number (0 when absent); null for a symbol or an expression. */
export function numericDisplacement(disp: Expr | null): bigint | null {
  if (disp === null) return 0n;
  if (disp.kind === 'num') return disp.value;
  return disp.kind === 'unary' && disp.op === '-' && disp.arg.kind === 'num' ? -disp.arg.value : null;
}

/** Where a load point reads: base + index * scale + disp (RIP-relative: from the next instruction). */
interface LoadOperand {
  base: BlockRegister | null;
  index: BlockRegister | null;
  scale: bigint;
  disp: bigint;
  /** The next instruction's address, for RIP-relative operands. */
  next: Address;
}

/**
 * The image's loads and compares with one memory operand that no segment selects (fs loads read
 * the rseq area, which the kernel rewrites on a migration) and that is not on the stack, besides
 * `skip` (points commuting.ts already treats as register-only).
 */
export function loadPoints(image: Image, skip: ReadonlySet<Address>): Map<Address, LoadOperand> {
  const out = new Map<Address, LoadOperand>();
  for (const d of imageInstructions(image)) {
    if (skip.has(d.address) || !isLoad(d.mnemonic)) continue;
    try {
      const m = loadedOperand(d.mnemonic, parseInstruction(`${d.mnemonic} ${d.operands}`.trim(), 'att').operands);
      if (m === null || m.seg !== null || m.indirect) continue;
      const base = m.base === null ? null : isBlockRegister(m.base) ? m.base : undefined;
      const index = m.index === null ? null : isBlockRegister(m.index) ? m.index : undefined;
      const disp = numericDisplacement(m.disp);
      if (base === undefined || index === undefined || disp === null || base === 'rsp' || index === 'rip') continue;
      out.set(d.address, { base, index, scale: BigInt(m.scale), disp, next: d.address + BigInt(d.size) });
    } catch {
      // unparsed: not a known load
    }
  }
  return out;
}

/**
 * A wait before a load, as uses and conflicts are kept: the load point's address (decimal). Keeping
 * them per thread and address read as well was measured: more rounds (list at K = 3: four, each
 * halted by a wait found conflicted after its use) and no fewer schedules anywhere.
 */
export type LoadWait = string;

const waitKey = (rip: Address): LoadWait => String(rip);

/** What a share's search learned about the rule, as plain data (it crosses to the parent thread). */
export interface LoadRecord {
  /** Load points whose rule was used. */
  used: LoadWait[];
  /** Load points at which a thread waited while another stored to the bytes its load reads. */
  conflicted: LoadWait[];
}

/** Whether a search of `image` on `machine` may use the rule at all (see the file comment). */
export function loadRuleApplies(machine: Machine, image: Image): boolean {
  const p = machine.processes[0]!;
  // The watch reads waiting threads' registers from their saved contexts in place.
  return machine.processes.length === 1 && !entersKernel(image) && p.sigactions.size === 0 && registerBlock(p.emu) !== null;
}

/** Load points a search's threads share conflict flags for (sharedConflicts); points past it are never used. */
export const SHARED_POINTS = 4096;

/** Conflict flags for the threads of one search: a point one thread finds conflicted, the others stop using. */
export const sharedConflicts = (): Int32Array => new Int32Array(new SharedArrayBuffer(4 * SHARED_POINTS));

export class LoadWatch {
  private readonly used = new Set<LoadWait>();
  private readonly conflicted = new Set<LoadWait>();
  /** Each point's index in `shared` (by address). */
  private readonly slots = new Map<LoadWait, number>();
  /** Set once a wait is both used and conflicted: this round's results cannot stand, and the search may stop. */
  failed = false;

  /**
   * `excluded`: points an earlier round found conflicted; `shared`: conflict flags the threads of a
   * parallel search share (sharedConflicts), so that a point one finds conflicted the others stop
   * using (each failure costs a round). A watch that sees stores comes from install().
   */
  constructor(private readonly machine: Machine, private readonly points: ReadonlyMap<Address, LoadOperand>, private readonly excluded: ReadonlySet<LoadWait>, private readonly shared: Int32Array | null = null) {
    [...points.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).forEach((rip, i) => this.slots.set(waitKey(rip), i));
  }

  /** A watch whose `store` sees every store to shared memory of `machine`'s process: call it before the first run (stores made before it are not seen). */
  static install(machine: Machine, points: ReadonlyMap<Address, LoadOperand>, excluded: ReadonlySet<LoadWait>, shared: Int32Array | null = null): LoadWatch {
    const watch = new LoadWatch(machine, points, excluded, shared);
    // The hook reads saved contexts through the register block, which must not be probed inside it.
    registerBlock(machine.processes[0]!.emu);
    machine.processes[0]!.emu.onMemoryWrite(0n, SHARED_MEMORY_END, (address, size) => watch.store(address, size));
    return watch;
  }

  /** Whether the instruction at `rip` is a load the rule watches (events after it may stand for those before). */
  watches(rip: Address): boolean {
    return this.points.has(rip);
  }

  /**
   * The wait of a thread with registers `regs` about to run `rip`, when the rule may stand an
   * event there for the same event after the load: a load point reading shared memory, its wait
   * neither excluded nor known conflicted. Null otherwise.
   */
  waitAt(rip: Address, regs: RegisterFile): LoadWait | null {
    const op = this.points.get(rip);
    if (!op) return null;
    const at = effectiveAddress(op, (name) => (name === 'rip' ? op.next : regs[name]));
    if (at + LOAD_BYTES > SHARED_MEMORY_END) return null;
    const wait = waitKey(rip);
    return this.usable(wait) ? wait : null;
  }

  /** Whether the rule may still use `wait`. */
  usable(wait: LoadWait): boolean {
    if (this.excluded.has(wait) || this.conflicted.has(wait)) return false;
    if (!this.shared) return true;
    const slot = this.slots.get(wait) ?? SHARED_POINTS;
    return slot < SHARED_POINTS && Atomics.load(this.shared, slot) === 0;
  }

  /** The rule stood an event before the load of `wait` for the same event after it. */
  use(wait: LoadWait): void {
    this.used.add(wait);
    if (this.conflicted.has(wait)) this.failed = true;
  }

  /** A store to [address, address + size) of shared memory: the write hook. */
  store(address: Address, size: number): void {
    const running = this.machine.runningThread;
    for (const t of this.machine.allThreads()) {
      if (t === running || t.state === 'exited') continue;
      // Every thread but the running one has its registers in its saved context.
      const emu = t.process.emu;
      const rip = savedRegister(emu, t.context, 'rip');
      const op = rip === null ? undefined : this.points.get(rip);
      if (op === undefined) continue;
      const at = effectiveAddress(op, (name) => (name === 'rip' ? op.next : savedRegister(emu, t.context, name) ?? 0n));
      if (address < at + LOAD_BYTES && at < address + BigInt(size)) {
        const wait = waitKey(rip!);
        this.conflicted.add(wait);
        const slot = this.slots.get(wait)!;
        if (this.shared && slot < SHARED_POINTS) Atomics.store(this.shared, slot, 1);
        if (this.used.has(wait)) this.failed = true;
      }
    }
  }

  record(): LoadRecord {
    return { used: [...this.used], conflicted: [...this.conflicted] };
  }
}

function effectiveAddress(op: LoadOperand, reg: (name: BlockRegister) => bigint): Address {
  const base = op.base === null ? 0n : reg(op.base);
  const index = op.index === null ? 0n : reg(op.index) * op.scale;
  return BigInt.asUintN(64, base + index + op.disp);
}

/**
 * When some share used a load point that some share found conflicted, every conflicted point:
 * the next round excludes them all, not just those used (a point seen conflicted once is likely
 * to be again, and each failure costs a round). An empty list when the round stands.
 */
export function loadConflicts(records: readonly (LoadRecord | undefined)[]): LoadWait[] {
  const conflicted = new Set(records.flatMap((r) => r?.conflicted ?? []));
  return records.some((r) => r?.used.some((x) => conflicted.has(x))) ? [...conflicted].sort() : [];
}
