// Scratch bytes: shared bytes whose last store came from a critical-section attempt that aborted,
// or from the open attempt of a thread about to abort (pending-abort.ts). An aborted try-store
// leaves data nobody committed (a copy cut short past a buffer's count); states that differ only
// there usually run alike, and hashing each copy's length apart multiplied the search by the
// number of places an abort can cut it (memcpy-buffer at K = 3: 305,456 schedules on one thread,
// 29,697 with this rule).
//
// The state hash (state-hash.ts) therefore hashes a scratch byte as if no attempt had stored it: at
// its value when the search began, with no mark. Two states with one key then differ only at bytes
// each holds in "merge form": scratch, or unmarked at the starting value. That is sound when no
// run below the entry can tell the forms apart, which the search checks as it goes instead of
// assuming it (a failed check costs another round, never a wrong verdict):
// - a load (by the code, a split instruction's load half, or the kernel's fix-up reading an rseq
//   area or descriptor) of a byte in merge form makes that byte `touched`;
// - so does, at a passing leaf, a byte in merge form that the serial outcome the leaf matched
//   changed (there the judge could tell the forms apart), and every byte in merge form at a
//   failing leaf (its message lists differing words).
// A byte hashed as scratch somewhere (`seen`) and touched anywhere may have merged states that
// differ in something a run reads: the search is then run again with the touched bytes `excluded`
// from the rule (explorer.ts nextScratchRound), until no such byte is left; after three rounds,
// with no rule at all. A byte nobody touches never costs a round.
//
// The rule covers only regions the default judging rule applies to (no `observe` declaration, no
// scenario invariant), code that makes no system call (which could read any byte), and images
// where some section may store before its last instruction (mayLeaveScratch: elsewhere no abort
// can leave a store, and the load hook would cost time for nothing).
import { sectionContaining, type CriticalSection } from '../abi/tables.js';
import { imageInstructions } from '../asm/capstone.js';
import type { Image } from '../asm/image.js';
import { parseInstruction } from '../asm/operands.js';
import type { Machine } from '../kernel/machine.js';
import type { LastStore } from '../kernel/machine-types.js';
import type { Scenario } from '../scenario/scenario.js';
import type { Address } from '../types.js';
import type { SerialOutcome } from './oracle.js';
import { sharedMemory } from './oracle.js';
import { sharedAccessPoints } from './deviations.js';

/** The widest load x86-64 makes (an AVX-512 register). */
const WIDEST_LOAD = 64n;

/** The bytes of an rseq area or descriptor the kernel reads (both structures are 32 bytes). */
const KERNEL_READ = 32n;

/** A shared region the rule covers, with one flag byte per byte of it. */
interface Region {
  address: Address;
  end: Address;
  initial: Uint8Array;
  /** 1 where the rule may not apply (an earlier round's touched bytes). */
  excluded: Uint8Array;
  seen: Uint8Array;
  touched: Uint8Array;
}

/** What a share's search learned about the rule, as plain data (it crosses to the parent thread). */
export interface ScratchRecord {
  /** Bytes some fingerprint hashed as scratch (decimal addresses). */
  seen: string[];
  /** Bytes a run could tell apart in their merge form. */
  touched: string[];
}

export class ScratchBytes {
  private readonly regions: Region[];
  /** Set once a byte is both seen and touched: this round's results cannot stand, and the search may stop. */
  conflicted = false;
  /** Rseq areas and descriptors whose bytes are touched already. */
  private readonly kernelRead = new Set<Address>();
  private readonly changed = new WeakMap<SerialOutcome, readonly (readonly [number, number])[]>();

  /**
   * `machine` as the search begins; `listed`: the descriptors of the image's tables (every fix-up
   * through one reads it); `excluded`: bytes an earlier round found touched.
   */
  constructor(private readonly machine: Machine, scenario: Scenario, observed: readonly string[], listed: readonly Address[], excluded: Iterable<Address>) {
    const judgedApart = new Set([...observed, ...scenario.invariants.map((i) => i.region)]);
    this.regions = sharedMemory(machine)
      .filter((r) => !judgedApart.has(r.name))
      .map((r) => {
        const n = r.bytes.length;
        return { address: r.address, end: r.address + BigInt(n), initial: r.bytes, excluded: new Uint8Array(n), seen: new Uint8Array(n), touched: new Uint8Array(n) };
      });
    for (const x of excluded) {
      const r = this.region(x);
      if (r) r.excluded[Number(x - r.address)] = 1;
    }
    for (const at of listed) this.kernelReadAt(at);
  }

  /**
   * The [begin, end) ranges to watch loads in: the regions the rule covers, each from a widest
   * load (64 bytes) before it, as a hook sees a load by its first byte.
   */
  ranges(): [Address, Address][] {
    return this.regions.map((r) => [r.address > WIDEST_LOAD ? r.address - WIDEST_LOAD : 0n, r.end]);
  }

  private region(x: Address): Region | undefined {
    for (const r of this.regions) if (x >= r.address && x < r.end) return r;
    return undefined;
  }

  /** The byte's value when the search began, when the rule may apply to it. */
  initial(x: Address): number | undefined {
    const r = this.region(x);
    if (!r) return undefined;
    const i = Number(x - r.address);
    return r.excluded[i] ? undefined : r.initial[i];
  }

  /**
   * The bytes to hash as scratch, ascending: aborted last stores, and the open attempt's try-stores
   * of the threads in `pending` (whose abort the search checks at every leaf below).
   */
  scratch(lastStores: ReadonlyMap<Address, LastStore>, pending: ReadonlySet<number>): Address[] {
    const out: Address[] = [];
    const mark = (x: Address) => {
      const r = this.region(x);
      if (!r) return;
      const i = Number(x - r.address);
      if (r.excluded[i]) return;
      out.push(x);
      r.seen[i] = 1;
      if (r.touched[i]) this.conflicted = true;
    };
    for (const [x, last] of lastStores) if (last.aborted) mark(x);
    for (const t of this.machine.allThreads()) if (pending.has(t.tid)) for (const x of new Set(t.attemptStores)) if (this.isOpen(lastStores.get(x), x)) mark(x);
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Whether `last`, the last store to `x`, is a try-store of its thread's open attempt (speculation.ts). */
  private isOpen(last: LastStore | undefined, x: Address): boolean {
    if (!last || last.aborted) return false;
    const t = this.machine.thread(last.tid);
    return !!t && t.attempt === last.attempt && t.attemptStores.includes(x);
  }

  /** Whether the byte at offset `i` of `r`, holding `value`, stands in a form a merge may have equated with another. */
  private mergeForm(r: Region, i: number, value: number, lastStores: ReadonlyMap<Address, LastStore>): boolean {
    if (r.excluded[i]) return false;
    const x = r.address + BigInt(i);
    const last = lastStores.get(x);
    // An open attempt's try-store is scratch only while its thread is about to abort; any is counted.
    if (last && (last.aborted || this.isOpen(last, x))) return true;
    return value === r.initial[i];
  }

  private touch(r: Region, i: number): void {
    r.touched[i] = 1;
    if (r.seen[i]) this.conflicted = true;
  }

  /** A load of `size` bytes at `address` (by the code, a split's load half or the kernel). */
  read(address: Address, size: number): void {
    const r = this.region(address);
    const end = address + BigInt(size);
    // A load across a region's edge (or starting before one): each byte on its own.
    if (!r || end > r.end) {
      for (let k = 0n; k < BigInt(size); k++) if (this.region(address + k)) this.read(address + k, 1);
      return;
    }
    const at = Number(address - r.address);
    // Most loads are of bytes touched already (a count read on every attempt).
    let all = true;
    for (let k = 0; k < size && all; k++) all = r.touched[at + k] === 1 || r.excluded[at + k] === 1;
    if (all) return;
    const stores = this.machine.lastStores();
    const bytes = this.machine.processes[0]!.emu.read(address, size);
    for (let k = 0; k < size; k++) if (!r.touched[at + k] && this.mergeForm(r, at + k, bytes[k]!, stores)) this.touch(r, at + k);
  }

  /**
   * At a leaf the judge compared with serial orders (see the file comment). A failing leaf's
   * message lists differing words: every byte in merge form is touched. A passing one matched
   * `matched`: a state merged with this one differs from it only in bytes in merge form, so it
   * matches the same outcome unless one of them is a byte that outcome changed.
   */
  leaf(matched: SerialOutcome | null): void {
    if (!matched) {
      const { merging } = this.leafState();
      this.regions.forEach((r, k) => merging[k]!.forEach((m, i) => m && !r.touched[i] && this.touch(r, i)));
      return;
    }
    const untouched = this.changedBy(matched).filter(([k, i]) => !this.regions[k]!.touched[i]);
    if (!untouched.length) return;
    const { merging } = this.leafState();
    for (const [k, i] of untouched) if (merging[k]![i]) this.touch(this.regions[k]!, i);
  }

  /** Which of the regions' bytes are in merge form at a leaf. */
  private leafState(): { merging: Uint8Array[] } {
    const stores = this.machine.lastStores();
    const now = this.regions.map((r) => this.machine.processes[0]!.emu.read(r.address, r.initial.length));
    // In merge form: unmarked at the starting value, or marked (aborted, or an open try-store).
    // mergeForm byte by byte, in bulk: a byte no store reached is in it when at its starting value.
    // (A plain loop: a callback per byte was most of a leaf's cost on memcpy-buffer's buffers.)
    const merging = this.regions.map((r, k) => {
      const out = new Uint8Array(r.initial.length);
      const bytes = now[k]!;
      for (let i = 0; i < out.length; i++) out[i] = !r.excluded[i] && bytes[i] === r.initial[i] ? 1 : 0;
      return out;
    });
    for (const x of stores.keys()) {
      const r = this.region(x);
      if (!r) continue;
      const k = this.regions.indexOf(r);
      const i = Number(x - r.address);
      merging[k]![i] = this.mergeForm(r, i, now[k]![i]!, stores) ? 1 : 0;
    }
    return { merging };
  }

  /** The bytes (region, offset) a serial outcome leaves changed. */
  private changedBy(s: SerialOutcome): readonly (readonly [number, number])[] {
    let out = this.changed.get(s);
    if (!out) {
      out = this.regions.flatMap((r, k) => {
        const bytes = s.memory.find((m) => m.address === r.address)!.bytes;
        return [...bytes.entries()].filter(([i, v]) => v !== r.initial[i]).map(([i]) => [k, i] as const);
      });
      this.changed.set(s, out);
    }
    return out;
  }

  /**
   * The kernel's loads: every fix-up reads its thread's rseq area and the descriptor its rseq_cs
   * names. Their bytes count as touched in any form, checked at leaves: each thread's area and the
   * descriptors the run's events went through, besides the listed ones (the constructor). (A
   * descriptor no table lists and no event went through, built in shared memory by a try-store
   * that aborted, is not covered.)
   */
  kernelReads(): void {
    for (const t of this.machine.allThreads()) if (t.rseq && t.process === this.machine.processes[0]) this.kernelReadAt(t.rseq.area);
    for (const e of this.machine.events()) if (e.descriptor) this.kernelReadAt(e.descriptor);
  }

  /** The kernel reads the 32 bytes at `at` (an rseq area or a descriptor): touched, once. */
  private kernelReadAt(at: Address): void {
    if (this.kernelRead.has(at)) return;
    this.kernelRead.add(at);
    for (let k = 0n; k < KERNEL_READ; k++) {
      const r = this.region(at + k);
      if (r) this.touch(r, Number(at + k - r.address));
    }
  }

  record(): ScratchRecord {
    const flagged = (f: (r: Region) => Uint8Array) => this.regions.flatMap((r) => [...f(r).entries()].filter(([, v]) => v).map(([i]) => String(r.address + BigInt(i))));
    return { seen: flagged((r) => r.seen), touched: flagged((r) => r.touched) };
  }
}

/** Instructions that read their memory operand wherever it stands. */
const READS_ONLY = /^(cmp(?!xchg)|test|bt$|btw$|btl$|btq$|u?comis|ptest|vptest)/;

/**
 * Whether an aborted attempt of the image's sections can leave a store behind: some section holds
 * an instruction that may store to shared memory (deviations.ts's access points, less loads and
 * compares) before its last one. A section whose one store is its last instruction commits by it
 * (its thread then stands outside), so an abort never finds a store of its attempt. Either answer
 * is sound — the rule only costs a load hook where it cannot pay.
 */
export function mayLeaveScratch(image: Image, sections: readonly CriticalSection[]): boolean {
  const shared = sharedAccessPoints(image);
  for (const d of imageInstructions(image)) {
    if (!shared.has(d.address)) continue;
    const section = sectionContaining(sections, d.address);
    if (!section || d.address + BigInt(d.size) >= section.postCommitIp) continue;
    if (READS_ONLY.test(d.mnemonic)) continue;
    try {
      const ops = parseInstruction(`${d.mnemonic} ${d.operands}`, 'att').operands;
      // AT&T puts the destination last: a memory operand elsewhere is a load (xchg and xadd store both).
      if (ops.length >= 2 && ops.at(-1)!.kind !== 'mem' && !/^(xchg|xadd)/.test(d.mnemonic)) continue;
    } catch {
      // When in doubt, a store.
    }
    return true;
  }
  return false;
}

/**
 * The touched bytes some share also hashed as scratch: when there are any, the search must run
 * again with them (and every other touched byte) excluded. Null when the rule held.
 */
export function scratchConflicts(records: readonly (ScratchRecord | undefined)[]): Address[] | null {
  const seen = new Set(records.flatMap((r) => r?.seen ?? []));
  const touched = records.flatMap((r) => r?.touched ?? []);
  return touched.some((x) => seen.has(x)) ? [...new Set(touched)].map(BigInt) : null;
}
