// Rounds of a spin loop that event twins stand for wholly are not walked one instruction at a time.
//
// Where the search has one deviation left it walks the default path an instruction at a time and,
// at each point, applies every deviation offered and rewinds (exhaustive.ts). When the path spins
// on a lock, most of those points come round again and again until the spinner's tick, and at
// each of them every event is stood for by its twin from an earlier round (event-twins.ts): no
// schedule runs, yet each point costs a fingerprint, a capture, and an event, a key and a rewind
// per deviation. Measured on the spinlock's K = 3 space (one thread), 147,420 of the 190,108
// points of such walks were points met again in a round where every event had a twin, and they
// took a third of the search's time.
//
// A round is quiet when at each of its points every deviation is an event that a twin stands for,
// and exact when the state at its end is the state at its start but for the counts: same key, the
// spinner's registers and the rest of its context equal, and only pure steps between (nothing
// stored, no kernel entry: pure-step.ts), so no other thread's state changed either. Then every
// later round is the same round again, with the spinner's slice count and the instruction count
// higher by the round's length, until its tick or the budget. Whether a twin stands for an event
// there depends on those counts only, and one way: the twin's key, its registers and context are
// the same in every round; the event either keeps the slice count (which then grows, and a tick
// comes into reach of the twin's span) or starts the slice anew (and the counts are equal); the
// budget left shrinks; a twin whose run came back to the stretch covers while the count stays
// short of the slice (event-twins.ts alongReturn). So the quiet rounds come first: when the round
// n rounds ahead is quiet, so are all before it. A bisection over n, each probe one round walked
// with its events applied and rewound but no schedule run, finds the last quiet round, and the
// walk goes there in one step of the default policy (which runs the instructions: the machine
// skips rounds of its own when it can, spin-skip.ts), to walk that round and the rest as before.
//
// What the skipped points would have given the search is what the landing round gives, or less:
// their twins' leaves, counted as hits; the deepest leaf (each twin's run ends no later than the
// same twin's at the landing round); the slice peaks (each event's peak is higher there); no entry
// of the cache (a key met again in a walk adds none) and no record of the commuting walk (a quiet
// round leaves none). A visit at a skipped point could have hit the cache and ended the walk
// there; walking on only runs schedules the walk would not have run, never fewer.
import type { Machine } from '../kernel/machine.js';
import type { MachineSnapshot } from '../kernel/machine-types.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { Thread } from '../kernel/thread.js';
import { equalBesides, registerBlock, registerWords } from '../engine/context-layout.js';
import type { RegisterFile } from '../engine/index.js';
import type { PureStep } from './pure-step.js';
import type { StateFingerprint } from './state-hash.js';

/** Loops of more points than this are walked as before. */
export const MAX_PERIOD = 64;
/** At most this many rounds are gone over at once (a bisection of 16 probes). */
const MAX_ROUNDS = 1 << 16;

/** A point of the stretch, once its deviations were tried. */
interface Point {
  key: string;
  /** Every thread's slice count there. */
  counts: readonly number[];
  /** The running thread's registers (a file of its own: registersOf makes one per call). */
  regs: RegisterFile;
  here: MachineSnapshot;
  /** Whether a twin stood for every deviation there. */
  quiet: boolean;
  deviations: number;
}

/** How the walk tries one point's deviations without running their schedules: whether twins stand for all of them. */
export type PointProbe = () => boolean;

export class QuietRounds {
  private readonly points: Point[] = [];
  /** A bisection ran in this stretch (the rounds after its last quiet one are never quiet). */
  private tried = false;

  constructor(private readonly machine: Machine, private readonly pure: PureStep, private readonly sliceLength: number) {}

  /** The stretch ended (an impure step, or another thread ran). */
  reset(): void {
    this.points.length = 0;
    this.tried = false;
  }

  /** A point whose deviations were tried: `quiet` when a twin stood for each of them. */
  record(state: StateFingerprint, regs: RegisterFile, here: MachineSnapshot, quiet: boolean, deviations: number): void {
    // A loop longer than MAX_PERIOD is walked as before: older points are let go.
    if (this.points.length === 2 * MAX_PERIOD) this.points.splice(0, MAX_PERIOD);
    this.points.push({ key: state.key, counts: state.counts, regs, here, quiet, deviations });
  }

  /**
   * At a point of the walk (its state, the running thread `t`'s registers, the machine `here`),
   * before its deviations: when the points before it were a quiet, exact round of a loop, goes
   * ahead over the quiet rounds that follow and returns how many, and how many deviations their
   * points offered (the walk counts them as stood for); the machine is then at the same point of
   * the last quiet round. Returns null, with the machine back `here`, when none can be skipped.
   * `probe`: tries the deviations of the machine's point as the walk does, and rewinds.
   */
  skip(state: StateFingerprint, t: Thread, regs: RegisterFile, here: MachineSnapshot, cpu: number, probe: PointProbe): { rounds: number; deviations: number } | null {
    if (this.tried) return null;
    const round = this.roundBefore(state, t, regs, here);
    if (round === null) return null;
    this.tried = true;
    const period = round.length;
    const runner = this.machine.allThreads().indexOf(t);
    // The last of the rounds gone over must end short of the tick and the budget.
    const bySlice = Math.floor((this.sliceLength - 1 - state.counts[runner]! - period) / period);
    const byBudget = Math.floor((this.machine.maxInstructions - this.machine.instructions - period) / period);
    const most = Math.min(bySlice, byBudget, MAX_ROUNDS);
    if (!(most >= 1)) return null;
    // Bisection: `lo` rounds ahead is known quiet (0: none skipped), `hi + 1` is not.
    let lo = 0;
    let hi = most;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.quietAhead(here, t.tid, cpu, mid, period, probe)) lo = mid;
      else hi = mid - 1;
    }
    this.machine.restore(here);
    if (lo === 0) return null;
    if (!this.goAhead(t.tid, cpu, lo * period, here)) {
      this.machine.restore(here);
      return null;
    }
    // Each point of a round offers what the same point of the last one offered.
    return { rounds: lo, deviations: lo * round.reduce((n, p) => n + p.deviations, 0) };
  }

  /**
   * The points of the round that ends at this point, when it was quiet and exact (see the file
   * comment): the last point with this key, every point from it quiet, the running thread's slice
   * count one round length higher and the others' the same, its registers and the rest of its
   * context equal. Null otherwise.
   */
  private roundBefore(state: StateFingerprint, t: Thread, regs: RegisterFile, here: MachineSnapshot): Point[] | null {
    const points = this.points;
    let from = points.length - 1;
    const last = Math.max(0, points.length - MAX_PERIOD);
    while (from >= last && points[from]!.key !== state.key) from--;
    if (from < last) return null;
    const round = points.slice(from);
    if (!round.every((p) => p.quiet)) return null;
    const runner = this.machine.allThreads().indexOf(t);
    const start = round[0]!;
    if (state.counts.length !== start.counts.length || !state.counts.every((c, i) => (i === runner ? c === start.counts[i]! + round.length : c === start.counts[i]))) return null;
    if (!Buffer.from(registerWords(regs)).equals(registerWords(start.regs))) return null;
    const block = registerBlock(t.process.emu);
    const now = contextIn(here, t);
    const then = contextIn(start.here, t);
    return block && now && then && equalBesides(now, then, block) ? round : null;
  }

  /** Whether the round `rounds` rounds ahead of `here` is quiet: each point's deviations stood for by twins, and each step pure. */
  private quietAhead(here: MachineSnapshot, tid: number, cpu: number, rounds: number, period: number, probe: PointProbe): boolean {
    this.machine.restore(here);
    if (!this.goAhead(tid, cpu, rounds * period, here)) return false;
    for (let i = 0; i < period; i++) {
      if (!probe()) return false;
      const at = this.machine.capture();
      if (!this.goAhead(tid, cpu, 1, at)) return false;
    }
    return true;
  }

  /** Runs thread `tid` on `cpu` for `count` instructions by the default policy: whether every one was a pure step. */
  private goAhead(tid: number, cpu: number, count: number, here: MachineSnapshot): boolean {
    // A rewind across a thread's start or end makes new Thread objects: the thread is looked up after each.
    const t = this.machine.runningOn(cpu);
    if (t?.tid !== tid) return false;
    this.pure.before(t, cpu, here);
    const item: ScheduleItem = { kind: 'run', cpu, count };
    return this.machine.step(item) && this.pure.after(count) && this.machine.runningOn(cpu)?.tid === tid;
  }
}

/** Thread `t`'s exported context in a snapshot. */
function contextIn(here: MachineSnapshot, t: Thread): Uint8Array | null {
  return here.threads.find((s) => s.fields.tid === t.tid && s.pid === t.process.pid)?.context ?? null;
}
