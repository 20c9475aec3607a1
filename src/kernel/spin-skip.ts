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
// Looking costs a stop of the emulator: a turn is probed FIRST_PROBE instructions in, the probed
// instruction watched for a few rounds, then probed again twice as far in.
import { markMemory, unchangedSince, type MemoryMark } from './memory-snapshot.js';
import type { Emulator } from '../engine/index.js';
import type { Thread } from './thread.js';
import type { Address } from '../types.js';

/** Instructions into a turn before the first look, and the shortest turn worth looking at. */
export const FIRST_PROBE = 64;
/** Rounds watched from one probe before probing again further on. */
const TRIES = 2;

/** What a round must leave as it found it. */
interface Probe {
  rip: Address;
  executed: number;
  sliceUsed: number;
  context: Uint8Array;
  memory: MemoryMark;
  sharedStores: number;
  attempt: number;
  attemptStores: number;
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
  /** The instruction the emulator stops at to end a round (null: none)... */
  watch: Address | null = null;
  /** ...unless the thread's instruction count is still this (the probe's own instruction). */
  watchedFrom = -1;
  private probe: Probe | null = null;
  private tries = 0;
  private distance = FIRST_PROBE;

  /** A turn of `t` begins; `enabled` when rounds may be skipped in it. */
  begin(t: Thread, enabled: boolean): void {
    this.probe = null;
    this.watch = null;
    this.watchedFrom = -1;
    this.distance = FIRST_PROBE;
    this.probeAt = enabled ? t.sliceUsed + FIRST_PROBE : -1;
  }

  /** The turn ended. */
  end(): void {
    this.probe = null;
    this.watch = null;
    this.probeAt = -1;
  }

  /**
   * The emulator stopped for a probe or at the watched instruction. Returns the round found, or
   * null (then the watch goes on, or a later probe is set).
   */
  stopped(t: Thread, view: SpinView): Round | null {
    const p = this.probe;
    if (p && view.rip === p.rip && t.executed > p.executed) {
      const round = this.sameAs(p, t, view);
      if (round) {
        this.end();
        return round;
      }
      if (++this.tries < TRIES) {
        this.take(t, view);
        return null;
      }
      this.watch = null;
      this.probe = null;
      this.distance *= 2;
      this.probeAt = t.sliceUsed + this.distance;
      return null;
    }
    this.probeAt = -1;
    this.tries = 0;
    this.take(t, view);
    return null;
  }

  private take(t: Thread, view: SpinView): void {
    const memory = markMemory(view.emu);
    if (!memory) {
      this.end();
      return;
    }
    this.probe = {
      rip: view.rip, executed: t.executed, sliceUsed: t.sliceUsed, context: view.context(), memory,
      sharedStores: view.sharedStores, attempt: t.attempt, attemptStores: t.attemptStores.length,
    };
    this.watch = view.rip;
    this.watchedFrom = t.executed;
  }

  /** The round since probe `p`, when it left everything as it was. */
  private sameAs(p: Probe, t: Thread, view: SpinView): Round | null {
    const slice = t.sliceUsed - p.sliceUsed;
    if (slice <= 0 || view.sharedStores !== p.sharedStores || t.attempt !== p.attempt || t.attemptStores.length !== p.attemptStores) return null;
    if (!Buffer.from(view.context()).equals(p.context) || !unchangedSince(view.emu, p.memory)) return null;
    return { instructions: t.executed - p.executed, slice };
  }
}
