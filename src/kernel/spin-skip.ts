// Rounds of a loop that change nothing, skipped. A thread that comes back to the same instruction
// with the same registers, having stored nothing to shared memory, left every other byte as it was
// and entered no kernel, went round a fixed round: it goes round it again, identically, until
// something outside it acts. Within one turn on its CPU nothing does (no other thread runs there,
// and the turn lasts until the tick, the budget or the step's count), so the machine skips whole
// rounds up to the last one before that end and advances only the counts: the run is the same,
// instruction count for instruction count, without the time spent emulating it. A spin-wait on a
// lock whose holder was preempted on the same CPU is the case that matters: it spins to its tick,
// and a search runs it to the end after every last deviation.
//
// Looking is done in the instruction hook as far as it can: a turn is probed FIRST_PROBE
// instructions in, with only counters noted, and the probed instruction watched. A round back to
// it that stored nothing shared stops the emulator to take the thread's context and memory there,
// and the next round is compared with them. Any other round probes again twice as far in, so a
// copy loop, which stores every round, never stops the emulator.
import { markMemory, unchangedSince, type MemoryMark } from './memory-snapshot.js';
import type { Emulator } from '../engine/index.js';
import type { Thread } from './thread.js';
import type { Address } from '../types.js';

/** Instructions into a turn before the first look (a turn shorter than twice this is not looked at). */
const FIRST_PROBE = 64;
/** Rounds watched from one probe before probing again further on. */
const TRIES = 2;

/** What a round must leave as it found it: counters first (cheap), then the context and memory. */
interface Probe {
  rip: Address;
  executed: number;
  sliceUsed: number;
  sharedStores: number;
  attempt: number;
  attemptStores: number;
  whole: { context: Uint8Array; memory: MemoryMark } | null;
}

/** A fixed round found: its length in instructions and in slice count (trampoline code uses none). */
export interface Round {
  instructions: number;
  slice: number;
}

/** What the machine lets the watch read of the running thread. */
export interface SpinView {
  emu: Emulator;
  rip: Address;
  /** The thread's context as saved now (the whole CPU state the next instructions depend on). */
  context: () => Uint8Array;
  /** Stores to shared memory so far (by any thread). */
  sharedStores: number;
}

export class SpinSkip {
  /** The slice count of the running thread at which the emulator stops for a probe (-1: none). */
  probeAt = -1;
  /** The probe's instruction, where the hook calls `look` again (null: none; the hook's fast test). */
  watch: Address | null = null;
  private probe: Probe | null = null;
  private tries = 0;
  private distance = FIRST_PROBE;

  /** A turn of `t` of up to `length` instructions begins; `enabled` when rounds may be skipped in it. */
  begin(t: Thread, enabled: boolean, length: number): void {
    this.probe = null;
    this.watch = null;
    this.distance = FIRST_PROBE;
    this.probeAt = enabled && length >= 2 * FIRST_PROBE ? t.sliceUsed + FIRST_PROBE : -1;
  }

  /** The turn ended. */
  end(): void {
    this.probe = null;
    this.watch = null;
    this.probeAt = -1;
  }

  /**
   * From the instruction hook, at the probe's count or the watched instruction (`rip`, about to
   * run): notes the counters there, or gives up when the round since stored to shared memory.
   * Returns true when the emulator should stop for `stopped` (a round passed those checks).
   */
  look(t: Thread, rip: Address, sharedStores: number): boolean {
    const p = this.probe;
    if (!p || rip !== p.rip) {
      this.probeAt = -1;
      this.tries = 0;
      this.watchFrom(t, rip, sharedStores, null);
      return false;
    }
    // The probed instruction itself, as the emulator resumes there.
    if (t.executed === p.executed) return false;
    if (t.sliceUsed > p.sliceUsed && sharedStores === p.sharedStores && t.attempt === p.attempt && t.attemptStores.length === p.attemptStores) return true;
    this.later(t);
    return false;
  }

  /**
   * The emulator stopped where `look` said: takes the context and memory there, or compares them
   * with the last ones. Returns the round found, or null (then the watch goes on, or a later probe is set).
   */
  stopped(t: Thread, view: SpinView): Round | null {
    const p = this.probe;
    if (!p) return null;
    if (!p.whole) return this.note(t, view);
    if (!Buffer.from(view.context()).equals(p.whole.context) || !unchangedSince(view.emu, p.whole.memory)) {
      // The first round of a loop may set what the next ones keep: one more try.
      return ++this.tries < TRIES ? this.note(t, view) : this.later(t);
    }
    this.end();
    return { instructions: t.executed - p.executed, slice: t.sliceUsed - p.sliceUsed };
  }

  /** Probes `t` here with its context and memory. */
  private note(t: Thread, view: SpinView): null {
    const memory = markMemory(view.emu);
    if (!memory) return this.later(t);
    this.watchFrom(t, view.rip, view.sharedStores, { context: view.context(), memory });
    return null;
  }

  /** Takes a probe of `t` at `rip` (its counters, and `whole` when taken) and watches that instruction. */
  private watchFrom(t: Thread, rip: Address, sharedStores: number, whole: Probe['whole']): void {
    this.probe = { rip, executed: t.executed, sliceUsed: t.sliceUsed, sharedStores, attempt: t.attempt, attemptStores: t.attemptStores.length, whole };
    this.watch = rip;
  }

  /** Gives up on this probe: the next one twice as far in. */
  private later(t: Thread): null {
    this.probe = null;
    this.watch = null;
    this.distance *= 2;
    this.probeAt = t.sliceUsed + this.distance;
    return null;
  }
}
