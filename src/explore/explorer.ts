// Exploration: run a scenario under many schedules — every schedule within a deviation bound, or
// PCT's random ones — and judge each finished run. Time and randomness are inputs (`clock`,
// `seed`), and every violation carries the schedule string that replays it. A search can be
// split into shares (explore-workers.ts runs them on worker threads); results merge in the order
// the sequential search would have found them.
import type { Image } from '../asm/image.js';
import { processClock } from '../clock.js';
import { readRseqTables } from '../abi/tables.js';
import { parseProfile, profileName, type Profile } from '../kernel/profile.js';
import type { Scenario } from '../scenario/scenario.js';
import type { Address } from '../types.js';
import { instantiate } from '../scenario/setup.js';
import { ALL_DEVIATIONS, sharedAccessPoints, splitPoints, type DeviationKind, type DeviationSpace } from './deviations.js';
import { EventTwins } from './event-twins.js';
import { CommutingWalk, constantMemory, registerOnlyPoints } from './commuting.js';
import { RunBound } from './run-bound.js';
import { exhaustiveSearch, type SearchCache, type Share } from './exhaustive.js';
import { HeatCounter, mergeHeat, type HeatCell } from './heat.js';
import { judgeRun, type InvariantFn, type Violation } from './judge.js';
import type { ObserveSpec } from './observable.js';
import { SerialOracle } from './oracle.js';
import { pctSearch } from './pct.js';
import { shardShare, WHOLE, type Shard } from './shard.js';
import { MAX_CACHED_BOUND, StateCache, type StateCacheStats } from './state-cache.js';
import { StateTable, type StateTableMemory } from './state-table.js';
import { stateFingerprint } from './state-hash.js';
import { mayLeaveScratch, ScratchBytes, scratchConflicts, type ScratchRecord } from './scratch-bytes.js';
import { loadConflicts, loadPoints, loadRuleApplies, LoadWatch, type LoadRecord, type LoadWait } from './load-commuting.js';
import { entersKernel } from '../asm/kernel-entries.js';
import { LIMITS } from '../limits.js';

export interface ExploreOptions {
  mode?: 'exhaustive' | 'pct';
  /** Exhaustive: at most this many deviations from the default schedule (default 2). */
  preemptions?: number;
  /** PCT: the bug depth d (d - 1 change points per run; default 3). */
  depth?: number;
  /** PCT: how many runs (default 1000). */
  runs?: number;
  /** PCT: the seed (default 1); printed with the result. */
  seed?: number;
  /** Which deviations to consider (default all: preempt, migrate, signal, switch, split). */
  kinds?: readonly DeviationKind[];
  /** Switch CPUs before every instruction, not only before shared-memory accesses and system calls. */
  allSwitchPoints?: boolean;
  /** Stop after this many schedules (default 1,000,000); the result says the space was not finished. */
  maxSchedules?: number;
  /** Stop at the first violation. */
  stopAtFirst?: boolean;
  /** Keep at most this many violations (default KEEP_VIOLATIONS); `violationCount` counts them all. */
  keepViolations?: number;
  /**
   * Observable bytes per region or writable section: layouts as in a scenario's `observe` key, or a
   * function returning byte ranges (functions keep the search on one thread). Overrides the scenario's.
   */
  observe?: Record<string, ObserveSpec>;
  /** Extra invariants over the final state (the TS API's functions; they keep the search on one thread). */
  checks?: readonly InvariantFn[];
  /** Overrides the scenario's profile. */
  profile?: Profile;
  /** Seconds since some fixed point; the default reads the process clock. */
  clock?: () => number;
  /**
   * Instruction budget of each explored schedule. Default: ten times the default schedule's length,
   * at least 100,000 and at most the scenario's budget, so one endless schedule cannot cost minutes.
   */
  scheduleBudget?: number;
  /** Stop the search after this many seconds (`--timeout`); the result says it is incomplete. */
  timeout?: number;
  /** Called after each schedule. */
  onProgress?: (schedules: number, seconds: number) => void;
  /** Search only this shard of the space (`--shard I/N`; shard.ts); default the whole. */
  shard?: Shard;
  /**
   * Exhaustive: skip states already explored with at least as many deviations left. Same verdict
   * and violations, fewer schedules. Default: on from K = 2 (STATE_CACHE_FROM_BOUND), off below
   * and with `checks`, which may read anything.
   */
  stateCache?: boolean;
  /** At most this many remembered states, shared by the workers (default: the `stateCacheEntries` limit). */
  stateCacheEntries?: number;
  /**
   * Shared bytes the state cache hashes as they stand even when scratch (scratch-bytes.ts; decimal
   * addresses): the bytes an earlier round of the same search found a run could read. `false`:
   * no scratch rule at all.
   */
  scratchExcluded?: readonly string[] | false;
  /**
   * Load points (decimal addresses) where events may not stand for the same events after the
   * load (load-commuting.ts): those an earlier round found conflicted. `false`: no load rule at all.
   */
  loadsExcluded?: readonly string[] | false;
  /**
   * Go over the rounds of a spin loop where event twins stand for every event (quiet-rounds.ts):
   * the same schedules, or more where a skipped point would have hit the cache. Default on; false
   * walks each round (to compare).
   */
  quietRounds?: boolean;
  /** Which round of the search's checked rules (scratch bytes, loads) this search is (set by the search itself; nextScratchRound). */
  scratchRound?: number;
}

export interface ExploreResult {
  verdict: 'pass' | 'fail';
  mode: 'exhaustive' | 'pct';
  schedules: number;
  seconds: number;
  /** Whether the whole space (exhaustive) or every requested run (PCT) was covered. */
  complete: boolean;
  violations: Violation[];
  /** The top-level branch (exhaustive) or run (PCT) each violation came from: merge orders shards by it. */
  units: number[];
  violationCount: number;
  bound?: number;
  depth?: number;
  runs?: number;
  seed?: number;
  profile: string;
  /** Threads that searched (1: the calling thread alone; a worker stopped before it began does not count). */
  workers: number;
  /** Per instruction, the schedules that placed a deviation before it and how many of them failed. */
  heat: HeatCell[];
  /** The state cache, summed over workers, when the exhaustive search used one. */
  stateCache?: StateCacheStats;
  /** How many times the search ran because runs read scratch bytes (scratch-bytes.ts) or changed bytes a skipped load would read (load-commuting.ts), when more than once. */
  scratchRounds?: number;
  /** Why the rounds before the last did not stand: runs read scratch bytes, or a wait before a load the search skipped was conflicted. */
  roundReasons?: RoundReason[];
}

/** Why a round of a search did not stand (scratch-bytes.ts, load-commuting.ts). */
export type RoundReason = 'scratch' | 'loads';

/** What one share of a search found; violations carry the top-level unit they came from. */
export interface ShareResult {
  schedules: number;
  violations: (Violation & { unit: number })[];
  violationCount: number;
  stopped: boolean;
  /** Deviation counts per instruction (of the schedules counted in `schedules`). */
  heat: HeatCell[];
  stateCache?: StateCacheStats;
  /** With the scratch rule: what the share's search learned about it. */
  scratch?: ScratchRecord;
  /** With the load rule: what the share's search learned about it. */
  loads?: LoadRecord;
}

/** What the threads of one parallel search (explore-workers.ts) share besides their options. */
export interface Joint {
  /** The state cache's table: a state one thread explored to the end, the others skip. */
  table?: StateTableMemory;
  /** Element 0: schedules run so far by all the threads (`maxSchedules` and progress count them all). */
  tally?: BigInt64Array;
  /** Element 0 set: some thread's scratch rule failed, and every thread stops (its search runs again). */
  halt?: Int32Array;
  /** Load points some thread found conflicted (load-commuting.ts sharedConflicts). */
  loadConflicts?: Int32Array;
  /** Called once, after the first schedule that ends `after` seconds into the search: start the other threads. */
  helpers?: { after: number; start: () => void };
}

/** The violations a search keeps, the earliest in search order, unless told otherwise. */
export const KEEP_VIOLATIONS = 1000;

/** Per-schedule budgets: ten times the default schedule's length, and never below this. */
const BUDGET_FACTOR = 10;
const MIN_SCHEDULE_BUDGET = 100_000;

/** One share of a search; `joint`: what it shares with the threads that search alongside it. */
export function exploreShare(image: Image, scenario: Scenario, options: ExploreOptions, share: Share, joint: Joint = {}): ShareResult {
  const profile = options.profile ?? parseProfile(scenario.profile ?? 'linux');
  const clock = options.clock ?? processClock;
  const space: DeviationSpace = {
    kinds: options.kinds ?? ALL_DEVIATIONS,
    switchPoints: options.allSwitchPoints ? null : sharedAccessPoints(image),
    splitPoints: splitPoints(image),
    flagsMatter: profile.base === 'linux-5.x',
  };
  const maxSchedules = options.maxSchedules ?? 1_000_000;
  const keep = options.keepViolations ?? KEEP_VIOLATIONS;
  const t0 = clock();
  const machine = instantiate(image, scenario, profile, { trackSpeculativeStores: true });
  const oracle = new SerialOracle(image, scenario, profile, options.observe);
  const tables = readRseqTables(image);
  const listed = tables.sections.map((c) => c.descriptor);
  const observed = Object.keys({ ...scenario.observe, ...options.observe });
  const scratch = usesScratchRule(options, image) && mayLeaveScratch(image, tables.sections) ? new ScratchBytes(machine, scenario, observed, listed, (options.scratchExcluded || []).map(BigInt)) : null;
  // Loads are watched from the start: memory hooks apply to code translated after them.
  for (const [begin, end] of scratch?.ranges() ?? []) machine.processes[0]!.emu.onMemoryRead(begin, end, (address, size) => scratch!.read(address, size));
  // The commuting walks (and the load rule with them) come with a cached exhaustive search.
  const walks = (options.mode ?? 'exhaustive') === 'exhaustive' && usesStateCache(options) && (options.preemptions ?? 2) < MAX_CACHED_BOUND;
  const registerOnly = walks ? registerOnlyPoints(image, constantMemory(machine)) : new Set<Address>();
  const loads = walks && options.loadsExcluded !== false && loadRuleApplies(machine, image) ? LoadWatch.install(machine, loadPoints(image, registerOnly), new Set(options.loadsExcluded || []), joint.loadConflicts ?? null) : null;
  const out: ShareResult = { schedules: 0, violations: [], violationCount: 0, stopped: false, heat: [] };
  let unit = 0;
  let cache: StateCache | null = null;
  const heat = new HeatCounter();
  let helpers = joint.helpers;
  const control = {
    unit: (u: number) => {
      unit = u;
    },
    leaf: (placed: readonly Address[] = []): boolean => {
      out.schedules++;
      const total = joint.tally ? Number(Atomics.add(joint.tally, 0, 1n)) + 1 : out.schedules;
      const outcome = machine.summary();
      const found = judgeRun({ machine, outcome, oracle, image, tables, invariants: scenario.invariants, checks: options.checks ?? [] });
      if (scratch) {
        // The judge compared the run with serial orders unless it was killed, stuck or badly aborted.
        const compared = !found.some((v) => v.kind === 'signal' || v.kind === 'table' || v.kind === 'livelock');
        if (compared) scratch.leaf(found.some((v) => v.kind === 'not-serializable') ? null : oracle.lastMatched);
        scratch.kernelReads();
      }
      heat.add(placed, found.length > 0);
      out.violationCount += found.length;
      for (const v of found) keepEarliest(out.violations, { ...v, unit }, keep);
      const seconds = clock() - t0;
      options.onProgress?.(total, seconds);
      // A schedule that exhausts its budget is reported once: the next ones would mostly burn theirs too.
      const livelock = outcome.status === 'limit' && found.some((v) => v.kind === 'livelock');
      const late = options.timeout !== undefined && seconds > options.timeout;
      // A share whose scratch rule failed stops, and tells the others: the search runs again (nextScratchRound).
      const failed = scratch?.conflicted === true || loads?.failed === true;
      if (failed && joint.halt) Atomics.store(joint.halt, 0, 1);
      const halted = failed || (joint.halt !== undefined && Atomics.load(joint.halt, 0) === 1);
      out.stopped = livelock || late || (options.stopAtFirst === true && found.length > 0) || total >= maxSchedules || halted;
      if (helpers && seconds > helpers.after && !out.stopped) {
        helpers.start();
        helpers = undefined;
      }
      return !out.stopped;
    },
    found: () => out.violationCount,
  };
  try {
    machine.begin();
    const start = machine.capture();
    // The default schedule first: when it alone exhausts the budget, that livelock is the verdict
    // (every deviation would burn the budget again); otherwise its length sets each schedule's budget.
    while (machine.step(null));
    const steps = Math.max(1, machine.result().instructions);
    if (machine.result().status === 'limit') {
      if (share.part === 0) {
        control.unit(0);
        control.leaf();
      }
      out.stopped = true;
      return out;
    }
    machine.maxInstructions = options.scheduleBudget ?? Math.min(machine.maxInstructions, Math.max(MIN_SCHEDULE_BUDGET, BUDGET_FACTOR * steps));
    machine.restore(start);
    if ((options.mode ?? 'exhaustive') === 'exhaustive') {
      const bound = options.preemptions ?? 2;
      let caches: SearchCache | null = null;
      if (walks) {
        const sliceLength = machine.timeSlice === 0 ? Infinity : machine.timeSlice;
        const runBound = new RunBound(image, tables.sections);
        cache = new StateCache(joint.table ? new StateTable(joint.table) : stateCacheEntries(options), (m, from) => stateFingerprint(m, tables, from, scratch), sliceLength);
        caches = { states: cache, twins: new EventTwins(machine, tables, sliceLength), walk: () => new CommutingWalk(machine, sliceLength, registerOnly, runBound, loads), ...(scratch ? { scratch } : {}), quietRounds: options.quietRounds ?? true };
      }
      try {
        exhaustiveSearch(machine, bound, space, control, share, caches);
      } finally {
        if (cache) out.stateCache = cache.stats();
        if (scratch) out.scratch = scratch.record();
        if (loads) out.loads = loads.record();
      }
    } else {
      // Change points are drawn over the length of the default run.
      pctSearch(machine, start, { depth: options.depth ?? 3, runs: options.runs ?? 1000, steps }, space, options.seed ?? 1, control, share);
    }
    return out;
  } finally {
    out.heat = heat.cellsByAddress();
    machine.close();
    oracle.close();
  }
}

/**
 * Adds a violation to a share's list, which holds those of the earliest units, `keep` at most, in
 * search order: a thread that takes runs of branches (branch-claims.ts) may meet a later unit
 * before an earlier one; within a unit, violations come in search order.
 */
function keepEarliest<V extends { unit: number }>(list: V[], v: V, keep: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]!.unit > v.unit) i--;
  if (i >= keep) return;
  list.splice(i, 0, v);
  if (list.length > keep) list.pop();
}

/**
 * The violations the sequential search would report, from disjoint shares that each kept theirs in
 * search order: each unit lies wholly in one share, so a stable sort by unit restores the order, and
 * the first `keep` overall are among the first `keep` of their share.
 */
export function mergeViolations<V extends { unit: number }>(lists: readonly (readonly V[])[], keep: number, stopAtFirst: boolean): V[] {
  const all = lists.flat().sort((a, b) => a.unit - b.unit);
  return stopAtFirst ? all.slice(0, 1) : all.slice(0, keep);
}

/**
 * Whether an exhaustive search with these options may skip states it explored already. By default
 * from K = 2 on: measured on the bundled scenarios (README, State cache figures), every whole
 * K = 2 and K = 3 space took less CPU with the cache. Below, it would look nothing up (states at
 * the top level and those a last deviation leaves are never looked up).
 */
export const usesStateCache = (options: ExploreOptions): boolean => options.stateCache ?? (!(options.checks?.length) && (options.preemptions ?? 2) >= STATE_CACHE_FROM_BOUND);

/** Whether the state cache hashes scratch bytes as unstored: code that makes a system call could read any byte. */
const usesScratchRule = (options: ExploreOptions, image: Image): boolean =>
  (options.mode ?? 'exhaustive') === 'exhaustive' && usesStateCache(options) && options.scratchExcluded !== false && !entersKernel(image);

/** The state cache's capacity. */
export const stateCacheEntries = (options: ExploreOptions): number => options.stateCacheEntries ?? LIMITS.stateCacheEntries;

/** The smallest deviation bound whose search uses the state cache unless told otherwise. */
export const STATE_CACHE_FROM_BOUND = 2;

/** Merges shares in the order the sequential search meets their units. */
export function mergeShares(parts: ShareResult[], scenario: Scenario, options: ExploreOptions, seconds: number, workers: number): ExploreResult {
  const mode = options.mode ?? 'exhaustive';
  const merged = mergeViolations(parts.map((p) => p.violations), options.keepViolations ?? KEEP_VIOLATIONS, options.stopAtFirst === true);
  const violationCount = parts.reduce((n, p) => n + p.violationCount, 0);
  return {
    verdict: violationCount ? 'fail' : 'pass',
    mode,
    schedules: parts.reduce((n, p) => n + p.schedules, 0),
    seconds,
    complete: parts.every((p) => !p.stopped),
    violations: merged.map(({ unit: _unit, ...v }) => v),
    units: merged.map((v) => v.unit),
    violationCount,
    profile: profileName(options.profile ?? parseProfile(scenario.profile ?? 'linux')),
    workers,
    heat: mergeHeat(parts.map((p) => p.heat)),
    ...(parts.some((p) => p.stateCache) ? { stateCache: sumCaches(parts) } : {}),
    ...(mode === 'exhaustive' ? { bound: options.preemptions ?? 2 } : { depth: options.depth ?? 3, runs: options.runs ?? 1000, seed: options.seed ?? 1 }),
  };
}

function sumCaches(parts: ShareResult[]): StateCacheStats {
  const all = parts.flatMap((p) => (p.stateCache ? [p.stateCache] : []));
  return { hits: all.reduce((n, c) => n + c.hits, 0), rounds: all.reduce((n, c) => n + c.rounds, 0), entries: all.reduce((n, c) => n + c.entries, 0), full: all.some((c) => c.full) };
}

/** The whole search on the calling thread. */
export function explore(image: Image, scenario: Scenario, options: ExploreOptions = {}): ExploreResult {
  const rounds = new SearchRounds(options, scenario, options.clock ?? processClock);
  for (;;) {
    const done = rounds.end([exploreShare(image, scenario, rounds.options, shardShare(options.shard ?? WHOLE))], 1);
    if (done) return done;
  }
}

/**
 * The rounds of one search (scratch-bytes.ts, load-commuting.ts), on one thread or several: each round's options, and
 * once a round's results stand, the search's result, timed from the first round.
 */
export class SearchRounds<O extends ExploreOptions> {
  /** This round's options. */
  options: O;
  /** When this round began (clock seconds). */
  began: number;
  private readonly t0: number;
  private earlier: ShareResult[] = [];
  /** Why earlier rounds did not stand. */
  private readonly reasons = new Set<RoundReason>();

  constructor(private readonly first: O, private readonly scenario: Scenario, private readonly clock: () => number) {
    this.options = first;
    this.t0 = this.began = clock();
  }

  /** After a round that `used` threads ran: the search's result, or null when another round follows (then `options` are its). */
  end(parts: ShareResult[], used: number): ExploreResult | null {
    const failures = roundFailures(parts);
    const next = nextRound(this.options, failures, this.clock() - this.began);
    if (!next) {
      const result = withRounds(mergeShares(withEarlierFindings(parts, this.earlier), this.scenario, this.first, this.clock() - this.t0, used), this.options);
      return this.reasons.size ? { ...result, roundReasons: [...this.reasons].sort() } : result;
    }
    if (failures.scratch) this.reasons.add('scratch');
    if (failures.loads.length) this.reasons.add('loads');
    this.earlier = [...this.earlier, ...parts];
    this.options = next;
    this.began = this.clock();
    return null;
  }
}

/**
 * A last round stopped early (a timeout, a schedule cap) may not reach the violations an earlier
 * round found: each is a schedule that fails, so they are reported too (once per schedule string).
 * A complete last round found every violation itself.
 */
export function withEarlierFindings(parts: ShareResult[], earlier: readonly ShareResult[]): ShareResult[] {
  if (!parts.some((p) => p.stopped) || !earlier.length) return parts;
  const known = new Set(parts.flatMap((p) => p.violations.map((v) => v.schedule)));
  const more = earlier.flatMap((p) => p.violations).filter((v) => !known.has(v.schedule) && (known.add(v.schedule), true));
  return [...parts, { schedules: 0, violations: more, violationCount: more.length, stopped: true, heat: [] }];
}

/** The result of a search's last round, saying how many rounds it took when more than one. */
export function withRounds(result: ExploreResult, last: ExploreOptions): ExploreResult {
  return last.scratchRound ? { ...result, scratchRounds: last.scratchRound } : result;
}

/** Rounds of a checked rule before a search gives it up (each excludes more bytes or load points; scratch-bytes.ts, load-commuting.ts). */
const SCRATCH_ROUNDS = 3;

/**
 * The options of the search's next round when some share found a byte it hashed as scratch read
 * (scratch-bytes.ts), or a load point it used conflicted (load-commuting.ts): those bytes or points
 * excluded, or after SCRATCH_ROUNDS rounds, no such rule at all.
 * Null when the round's results stand, or when its time ran out: a search stopped by `timeout`
 * is incomplete anyway, and every violation it found is a schedule that fails. `elapsed`: the
 * round's seconds (a timeout counts over all rounds).
 */
export const nextScratchRound = <O extends ExploreOptions>(options: O, parts: readonly ShareResult[], elapsed: number): O | null => nextRound(options, roundFailures(parts), elapsed);

/** What a round's shares found that makes the round not stand: scratch bytes touched, load points conflicted. */
interface RoundFailures {
  scratch: Address[] | null;
  loads: LoadWait[];
}

const roundFailures = (parts: readonly ShareResult[]): RoundFailures => ({ scratch: scratchConflicts(parts.map((p) => p.scratch)), loads: loadConflicts(parts.map((p) => p.loads)) });

function nextRound<O extends ExploreOptions>(options: O, { scratch: conflicts, loads }: RoundFailures, elapsed: number): O | null {
  if ((!conflicts && !loads.length) || (options.timeout !== undefined && elapsed >= options.timeout)) return null;
  const rounds = (options.scratchRound ?? 1) + 1;
  const timeout = options.timeout === undefined ? {} : { timeout: Math.max(0, options.timeout - elapsed) };
  const last = rounds > SCRATCH_ROUNDS;
  const scratchExcluded = conflicts && options.scratchExcluded !== false ? (last ? false : excludedMore(options.scratchExcluded, conflicts)) : options.scratchExcluded;
  const loadsExcluded = loads.length && options.loadsExcluded !== false ? (last ? false : excludedMore(options.loadsExcluded, loads)) : options.loadsExcluded;
  return { ...options, ...timeout, scratchExcluded, loadsExcluded, scratchRound: rounds };
}

const excludedMore = (before: readonly string[] | undefined, more: readonly (Address | string)[]): string[] => [...new Set([...(before ?? []), ...more.map(String)])];
