// Exhaustive search with a deviation bound (CHESS-style preemption bounding): every schedule that
// differs from the default policy in at most K places, a place being a kernel event or a CPU
// switch before any instruction a thread executes. Depth-first; the machine is rewound with
// snapshots at each branching point instead of re-running the prefix. With a state cache, a state
// already explored with at least as many deviations left is not explored again (state-cache.ts),
// where the last deviation is spent, an event that leaves a state an earlier point of the same
// pure stretch left runs once (event-twins.ts; the twin's run is watched for coming back to the
// stretch, which lets it stand for the same event with a tick in reach), and at every level, an
// event just after a register-only instruction is stood for by the same event just before it
// (commuting.ts; at the top only when this search explored that one itself).
import type { Machine } from '../kernel/machine.js';
import type { Address } from '../types.js';
import type { Thread } from '../kernel/thread.js';
import { deviationsAt, type DeviationSpace } from './deviations.js';
import { BranchRuns, claim, runsFit } from './branch-claims.js';
import { RseqEmuError } from '../errors.js';
import { resolvedAsPredicted, type PendingAbort } from './pending-abort.js';
import { returnAfter, type EventTwins } from './event-twins.js';
import type { CommutingWalk } from './commuting.js';
import { PureStep } from './pure-step.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { Loop, StateCache } from './state-cache.js';
import type { PureStepFrom, StateFingerprint } from './state-hash.js';
import type { ScratchBytes } from './scratch-bytes.js';
import { QuietRounds } from './quiet-rounds.js';

/**
 * A state met, the instruction count there, its watch, the loop its walk went round
 * (state-cache.ts), and each thread's slice there: its key in the search's peaks and its count
 * (two numbers a thread).
 */
type Visit = [StateFingerprint, number, Watch | null, Loop | null, number[]];

/** The deepest leaf of a subtree and the peaks of its threads' slices (exhaustiveSearch). */
type Reached = [number, Map<number, number>];

/**
 * A thread's current time slice, as a key of a search's peaks (a small integer for runs of up to
 * four million instructions). Two slices may share a key (tids 256 apart, or the same start on two
 * paths): then each is taken to reach the other's peak too, which only keeps more states apart.
 */
const sliceKey = (t: Thread): number => t.sliceStart * 256 + (t.tid & 255);

/** A twin's thread and the stretch its run may come back to (event-twins.ts returnAfter). */
interface ReturnWatch {
  thread: Thread;
  earlier: (key: string) => StateFingerprint | undefined;
  passed: (rip: Address) => boolean;
}

/** A visit hashed with pending aborts, while its subtree is explored: did each end as predicted? */
interface Watch {
  pending: PendingAbort[];
  asPredicted: boolean;
}

export interface SearchControl {
  /**
   * Called at the end of every schedule with the machine in its final state and the address of the
   * instruction before which each of its deviations was placed; return false to stop.
   */
  leaf(placed?: readonly Address[]): boolean;
  /** The top-level branch the following leaves belong to (for merging parallel results in order). */
  unit?(index: number): void;
  /** Violations found so far (event twins one instruction apart stand only for clean leaves). */
  found?(): number;
}

/** Which top-level branches this search explores (worker `part` of `of`). */
export interface Share {
  part: number;
  of: number;
  /**
   * Shared by searches on several threads that all walk this share (createClaims): each branch
   * goes to the first of them to take it (work stealing, so a thread never waits while another has
   * branches left; branch-claims.ts). Element 0 counts the branches (or PCT runs) taken in order.
   */
  claims?: Int32Array;
  /** Whether the threads take branches strictly in order (a stop-at-first search) rather than in runs. */
  inOrder?: boolean;
}

/**
 * The share a top-level branch belongs to. Branches come in a regular pattern (each point's
 * preempt, migrate, … in turn), so plain `index % of` would give one worker all the preempts;
 * a multiplicative hash spreads them evenly.
 */
export const shareOf = (index: number, of: number): number => (Math.imul(index + 1, 0x9e3779b1) >>> 0) % of;

/**
 * With a state cache: its table, the twins of last deviations (event-twins.ts), and a new walk for
 * each frame with `left` deviations to spare, to find events one register-only instruction apart
 * (commuting.ts).
 */
export interface SearchCache {
  states: StateCache;
  /** The scratch rule's watch, which sees a split's load half here (the machine makes that load itself). */
  scratch?: ScratchBytes;
  twins?: EventTwins;
  walk?: (left: number) => CommutingWalk;
  /** False: walk every round of a loop, even where twins stand for all its events (quiet-rounds.ts). */
  quietRounds?: boolean;
}

export function exhaustiveSearch(machine: Machine, bound: number, space: DeviationSpace, control: SearchControl, share: Share = { part: 0, of: 1 }, caches: SearchCache | null = null): boolean {
  const cache = caches?.states ?? null;
  let go = true;
  let unit = 0;
  // Which of the share's branches this is (for `claims`).
  let ordinal = 0;
  // Threads of one search take runs of branches; `pass` is this thread's current run: where it
  // began, and whether it met a branch another thread took (then the rest of this walk is not its).
  const runs = share.claims && !share.inOrder && bound > 0 ? branchRuns(machine, space, share, share.claims, caches?.walk?.(bound) ?? null) : null;
  const pass = { from: 0, over: false };
  /** Whether top-level branch `u` is this search's: called once per branch, in order. */
  const takes = (u: number): boolean => {
    if (shareOf(u, share.of) !== share.part) return false;
    const mine = ordinal++;
    if (runs) {
      if (mine < pass.from || pass.over) return false;
      pass.over = !runs.take(mine);
      return !pass.over;
    }
    return share.claims ? claim(share.claims, mine) : true;
  };
  const placed: Address[] = [];
  const pureStep = new PureStep(machine);
  // The most instructions a leaf of the subtree being explored ran (for the cache's budget check),
  // and the highest count each time slice of a thread reached there, by sliceKey (for the cache's
  // slice counts: state-cache.ts).
  let deepest = 0;
  let peaks = new Map<number, number>();
  const sliceLength = cache?.sliceLength ?? Infinity;
  const peak = (t: Thread, count: number): void => {
    const k = sliceKey(t);
    // A slice ends at its tick: no count goes past the slice's length.
    const top = Math.min(count, sliceLength);
    if (!((peaks.get(k) ?? -1) >= top)) peaks.set(k, top);
  };
  /** Every thread's slice may reach `more` (each thread's, or any) past its count now. */
  const reach = (more: number | readonly number[] = 0): void => {
    const all = machine.allThreads();
    for (let i = 0; i < all.length; i++) peak(all[i]!, all[i]!.sliceUsed + (typeof more === 'number' ? more : more[i] ?? 0));
  };
  // Open visits with pending aborts, innermost last (a stack: each dfs call pops its own).
  const watched: Watch[] = [];
  const check = (w: Watch, still: (p: PendingAbort) => boolean) => {
    if (w.asPredicted && !w.pending.every((p) => resolvedAsPredicted(machine, p) || still(p))) w.asPredicted = false;
  };
  // Leaves so far at which some open watch's abort did not end as predicted (for twins, which
  // stand for leaves that open watches never saw).
  let unresolved = 0;
  const leaf = (): void => {
    deepest = Math.max(deepest, machine.instructions);
    if (cache) reach();
    let resolved = true;
    for (const w of watched) {
      if (w.pending.every((p) => resolvedAsPredicted(machine, p))) continue;
      resolved = false;
      w.asPredicted = false;
    }
    if (!resolved) unresolved++;
    go = control.leaf(placed);
  };
  /**
   * The end of the path that deviates no more here. At the top it is the schedule with no
   * deviation at all (or the default run out of budget): it belongs to the last top-level unit,
   * so exactly one share reports it.
   */
  const endOfPath = (top: boolean): void => {
    if (!top || takes(unit)) {
      if (top) control.unit?.(unit);
      leaf();
    }
  };
  /**
   * Looks the machine's state up in the cache: true when an entry covers it (the caller skips the
   * subtree); otherwise the visit, to be added once its subtree is explored, and its watch opened.
   */
  const visit = (c: StateCache, left: number, from: PureStepFrom | null, runner: number): true | Visit => {
    const state = c.fingerprint(machine, from);
    const hit = c.covering(state, left, runner);
    if (hit !== null && machine.instructions + hit.span <= machine.maxInstructions) {
      // The skipped subtree ended an open visit's pending abort as predicted only if its entry
      // stood for pending states and this state holds that abort still pending.
      const samePending = (p: PendingAbort) => hit.anyPending && state.pending.some((q) => q.tid === p.tid && q.descriptor === p.descriptor && q.abortIp === p.abortIp);
      for (const w of watched) check(w, samePending);
      c.hits++;
      deepest = Math.max(deepest, machine.instructions + hit.span);
      reach(hit.ran ?? hit.span);
      return true;
    }
    const w = state.pending.length ? { pending: state.pending, asPredicted: true } : null;
    if (w) watched.push(w);
    const all = machine.allThreads();
    const slices = new Array<number>(2 * all.length);
    for (let i = 0; i < all.length; i++) {
      slices[2 * i] = sliceKey(all[i]!);
      slices[2 * i + 1] = all[i]!.sliceUsed;
    }
    return [state, machine.instructions, w, null, slices];
  };
  /**
   * A visit's key met before in this walk with only pure steps between (`round`: the first visit of
   * each key since the last impure step): only the running thread's count can differ, and when it
   * grew, the walk went round a loop from there.
   */
  const loopBack = (round: Map<string, Visit>, v: Visit, runner: number): void => {
    const [state] = v;
    const first = round.get(state.key);
    if (!first) {
      round.set(state.key, v);
      return;
    }
    const period = state.counts[runner]! - first[0].counts[runner]!;
    if (first[3] === null && period > 0 && state.counts.every((c, i) => i === runner || c === first[0].counts[i])) first[3] = { runner, period };
  };
  // Only a subtree explored to its end may stand for later visits.
  const remember = (c: StateCache, left: number, visits: readonly Visit[]): void => {
    if (!go) return;
    for (const [state, at, w, loop, slices] of visits) {
      const span = deepest - at;
      const ran: number[] = [];
      for (let i = 0; i < slices.length; i += 2) {
        // A slice no leaf saw (which the walk's own end always does) would count as the whole span.
        const top = peaks.get(slices[i]!);
        ran.push(top === undefined || top < slices[i + 1]! ? span : top - slices[i + 1]!);
      }
      c.add(state, left, span, w !== null && !w.asPredicted, loop, ran);
    }
  };
  /** Takes one step of a deviation; the scratch rule sees a split's load half (the machine makes that load itself). */
  const apply = (item: ScheduleItem): void => {
    machine.step(item);
    const split = item.kind === 'load' ? machine.thread(item.tid)?.split : null;
    if (split) caches?.scratch?.read(split.read, split.bytes.length);
  };
  // How far the last leg watched for coming back (`back`) brought its thread ahead (returnAfter).
  let returned: number | null = null;
  /**
   * Explores the subtree here; returns the most instructions a leaf of it ran. `back`: where the
   * last deviation was an event twin's in a loop, what its run watches for coming back to.
   */
  const dfs = (left: number, back: ReturnWatch | null = null): number => {
    const top = left === bound;
    const outer: Reached = [deepest, peaks];
    deepest = 0;
    // A frame with no deviation left remembers no visit: its peaks go straight to its caller's.
    if (left > 0) peaks = new Map();
    const mark = watched.length;
    if (left === 0) {
      // With no deviation to place at all (K = 0), the one schedule is one share's, as the end of a path is.
      if (top && !takes(unit)) return settle(outer);
      if (top) control.unit?.(unit);
      // The one schedule left here runs without a lookup: measured on list.json and counter.json at
      // K = 3, fingerprinting the state a last deviation leaves cost more than the runs it saved
      // (a fingerprint costs about a third of a schedule, and 29 % of these states hit). Only an
      // event twin in a loop is watched for its thread coming back to where it stood.
      returned = back && cache ? returnAfter(machine, (m, from) => cache.fingerprint(m, from), back.thread, back.earlier, back.passed) : null;
      while (machine.step(null));
      leaf();
      return settle(outer);
    }
    // States met along this path, each the root of everything explored after it here.
    const visited: Visit[] = [];
    // The state at the last point and its thread, when the step from there was pure (the fingerprint reuses what it holds).
    let before: PureStepFrom | null = null;
    // The first visit of each key since the last impure step (for loops).
    const round = new Map<string, Visit>();
    // The last visit of each key since then (for twins that come back; event-twins.ts).
    const lately = new Map<string, StateFingerprint>();
    // Where the deviations are the last ones, events that leave one state run once (not at the
    // top, whose branches the shares divide).
    const twins = left === 1 && !top ? caches?.twins ?? null : null;
    twins?.reset();
    // Rounds of a loop that twins stand for wholly are gone over (quiet-rounds.ts).
    const quiet = twins && caches?.quietRounds !== false ? new QuietRounds(machine, pureStep, sliceLength) : null;
    const walk = caches?.walk?.(left) ?? null;
    explore: for (;;) {
      const cpu = machine.defaultCpu();
      if (cpu === null) {
        machine.step(null); // let the run finish its bookkeeping (budget, deadlock)
        endOfPath(top);
        break;
      }
      const running = machine.runningOn(cpu)!;
      const tid = running.tid;
      let state: StateFingerprint | null = null;
      // Top-level states are never met again with as many deviations left. (Looking states up only
      // where another thread takes over, not before every instruction, was measured: fewer lookups,
      // but more schedules and more time on list.json at K = 3.)
      if (cache && !top) {
        const runner = machine.allThreads().indexOf(running);
        const v = visit(cache, left, before, runner);
        if (v === true) break;
        visited.push(v);
        state = v[0];
        loopBack(round, v, runner);
        if (twins) lately.set(v[0].key, v[0]);
        before = { state: v[0], tid };
      }
      const here = machine.capture();
      const deviations = deviationsAt(machine, cpu, tid, space);
      const regs = deviations.length ? machine.registersOf(running) : null;
      const rip = regs?.rip ?? 0n;
      const looping = twins !== null && deviations.length > 0 && twins.looping(rip, tid);
      if (quiet && state && regs && looping) {
        const skipped = quiet.skip(state, running, regs, here, cpu, () => twinsStandForAll(machine, twins!, cpu, tid, space));
        if (skipped) {
          cache!.hits += skipped.deviations;
          cache!.rounds += skipped.rounds;
          // The machine stands at the same point rounds later: a step of many, not one pure step.
          before = null;
          continue;
        }
      }
      if (walk && regs) walk.point(rip, tid, regs);
      // Whether a twin stood for every deviation here (quiet-rounds.ts).
      let allTwins = true;
      for (const d of deviations) {
        if (top) {
          const mine = takes(unit);
          unit++;
          if (!mine) continue;
          control.unit?.(unit - 1);
        }
        if (Array.isArray(d)) for (const part of d) apply(part);
        else apply(d as ScheduleItem);
        const item = Array.isArray(d) ? null : (d as ScheduleItem);
        const twin = twins && item ? twins.keyAfter(item, looping, here) : null;
        const byTwin = twin ? twins!.covering(twin) : null;
        if (!byTwin) allTwins = false;
        const covering = byTwin ?? (walk && item && !twin?.pending ? walk.commuted(item) : null);
        const span = covering?.span ?? null;
        if (span !== null) {
          // Watches opened after the twin ran never saw its leaf, which this one repeats: when
          // some abort there did not end as predicted, no open watch may count on it.
          if (!covering!.resolved) for (const w of watched) w.asPredicted = false;
          cache!.hits++;
          deepest = Math.max(deepest, machine.instructions + span);
          // The run that stands for this one left every other thread's slices as this one does, and
          // their peaks are this frame's already; the event's thread stood `ahead` lower in its slice.
          const t = item?.kind === 'event' ? machine.thread(item.tid) : undefined;
          if (t) peak(t, (peaks.get(sliceKey(t)) ?? t.sliceUsed) + covering!.ahead);
          else reach(span);
          machine.restore(here);
          continue;
        }
        // A twin that aborts stands for others only if its abort ends as predicted (as a cache entry).
        const w = twin?.pending ? { pending: [twin.pending], asPredicted: true } : null;
        if (w) watched.push(w);
        const at = machine.instructions;
        const unresolvedBefore = unresolved;
        const foundBefore = control.found?.() ?? null;
        placed.push(rip);
        // A twin in a loop that aborts nothing may come back to this point's state (event-twins.ts).
        const back: ReturnWatch | null = twin && looping && !twin.pending ? { thread: twin.thread, earlier: (key) => lately.get(key), passed: (at) => twins!.passedAt(at) } : null;
        returned = null;
        const reached = dfs(left - 1, back);
        placed.pop();
        if (w) watched.pop();
        if (twin && go && (w?.asPredicted ?? true)) twins!.remember(twin, reached - at, unresolved === unresolvedBefore, returned);
        machine.restore(here);
        if (walk && item && go) walk.explored(item, reached - at, unresolved === unresolvedBefore, foundBefore !== null && control.found!() === foundBefore);
        if (!go) break explore;
      }
      if (quiet && state) quiet.record(state, regs ?? machine.registersOf(running), here, allTwins, deviations.length);
      // A run that met another thread's branch ends: the rest of the walk is skipped anyway.
      if (top && pass.over) break;
      if (twins || walk) pureStep.before(machine.runningOn(cpu)!, cpu, here);
      const stepped = machine.step({ kind: 'run', cpu, count: 1 });
      // Without twins or walks no step is known to be pure.
      const pure = twins || walk ? pureStep.after() : false;
      twins?.stepped(pure);
      walk?.stepped(pure);
      if (!pure) {
        before = null;
        // Map.clear() allocates a new table even for an empty map.
        if (round.size) round.clear();
        if (lately.size) lately.clear();
        quiet?.reset();
      }
      if (!stepped) {
        endOfPath(top);
        break;
      }
    }
    if (cache) remember(cache, left, visited);
    watched.length = mark;
    return settle(outer);
  };
  /** Ends a subtree: returns its deepest leaf and folds it, and its slices' peaks, into the enclosing one's (`outer`). */
  const settle = ([outerDeepest, outerPeaks]: Reached): number => {
    const reached = deepest;
    deepest = Math.max(outerDeepest, reached);
    if (outerPeaks !== peaks) {
      const [small, large] = outerPeaks.size < peaks.size ? [outerPeaks, peaks] : [peaks, outerPeaks];
      for (const [k, count] of small) if (!((large.get(k) ?? -1) >= count)) large.set(k, count);
      peaks = large;
    }
    return reached;
  };
  // A slice's count before it starts anew is its peak (the cache compares slice counts by them).
  // A search run inside another's (a test's check) hands the machine back as it found it.
  const outerObserver = machine.onNewSlice;
  if (cache) machine.onNewSlice = (t) => peak(t, t.sliceUsed);
  try {
    return walkTop();
  } finally {
    machine.onNewSlice = outerObserver;
  }

  function walkTop(): boolean {
    if (!runs) {
      dfs(bound);
      return go;
    }
    // Each run walks the top level again from the start, taking branches from where it begins.
    const start = machine.capture();
    for (let from = runs.next(); from !== null && go; from = runs.next()) {
      machine.restore(start);
      [unit, ordinal, pass.from, pass.over] = [0, 0, from, false];
      dfs(bound);
      // A walk that never reached its first branch would pick it again, for ever.
      if (go && !runs.taken(from)) throw new RseqEmuError('ENGINE', `the search's top level has no branch ${from} of the ${runs.count} it counted`);
    }
    return go;
  }
}

/**
 * The share's top-level branches as runs for its threads (branch-claims.ts), or null when there are
 * too many to mark: the default path walked once, counting the deviations the top level offers
 * (the same walk as the search's top level, which takes the same steps). `walk`: the top level's
 * commuting walk, which tells the branches a run may begin at (BranchRuns.next).
 */
export function branchRuns(machine: Machine, space: DeviationSpace, share: Share, claims: Int32Array, walk: CommutingWalk | null): BranchRuns | null {
  const start = machine.capture();
  let unit = 0;
  const starts: boolean[] = [];
  // The thread and instruction of the last point: events after it may be stood for by the same events before it.
  let last: { tid: number; rip: Address } | null = null;
  for (let cpu = machine.defaultCpu(); cpu !== null; cpu = machine.defaultCpu()) {
    const t = machine.runningOn(cpu)!;
    const rip = machine.ripOf(t);
    const first = !walk || last === null || last.tid !== t.tid || !walk.carriesOver(last.rip);
    // A run begins only at a point's first branch, so that it holds each event of the point, which
    // may stand for the same event at the next point.
    deviationsAt(machine, cpu, t.tid, space).forEach((_, i) => shareOf(unit++, share.of) === share.part && starts.push(first && i === 0));
    last = { tid: t.tid, rip };
    if (!machine.step({ kind: 'run', cpu, count: 1 })) break;
  }
  // The end of the path, the schedule with no deviation, is a branch of its own.
  if (shareOf(unit, share.of) === share.part) starts.push(true);
  machine.restore(start);
  return runsFit(claims, starts.length) ? new BranchRuns(claims, starts.length, starts) : null;
}

/**
 * Whether, at the machine's point (thread `tid` about to run on `cpu`), an event twin stands for
 * every deviation offered, as the walk would find applying each (quiet-rounds.ts); the machine is
 * rewound after each.
 */
function twinsStandForAll(machine: Machine, twins: EventTwins, cpu: number, tid: number, space: DeviationSpace): boolean {
  const t = machine.runningOn(cpu);
  if (machine.defaultCpu() !== cpu || t?.tid !== tid) return false;
  const deviations = deviationsAt(machine, cpu, t.tid, space);
  if (deviations.length && !twins.passedAt(machine.ripOf(t))) return false;
  const here = machine.capture();
  for (const d of deviations) {
    if (Array.isArray(d)) return false;
    const item = d as ScheduleItem;
    machine.step(item);
    const twin = twins.keyAfter(item, true, here);
    const covered = twin !== null && twins.covering(twin) !== null;
    machine.restore(here);
    if (!covered) return false;
  }
  return true;
}
