// Exploration: run a scenario under many schedules — every schedule within a deviation bound, or
// PCT's random ones — and judge each finished run. Time and randomness are inputs (`clock`,
// `seed`), and every violation carries the schedule string that replays it.
import type { Image } from '../asm/image.js';
import { readRseqTables } from '../abi/tables.js';
import { parseProfile, profileName, type Profile } from '../kernel/profile.js';
import type { Scenario } from '../scenario/scenario.js';
import { instantiate } from '../scenario/setup.js';
import { ALL_DEVIATIONS, sharedAccessPoints, type DeviationKind, type DeviationSpace } from './deviations.js';
import { exhaustiveSearch } from './exhaustive.js';
import { judgeRun, type InvariantFn, type Violation } from './judge.js';
import { SerialOracle } from './oracle.js';
import { pctSearch } from './pct.js';
import { Rng } from './rng.js';

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
  /** Which deviations to consider (default all: preempt, migrate, signal, switch). */
  kinds?: readonly DeviationKind[];
  /** Switch CPUs before every instruction, not only before shared-memory accesses and system calls. */
  allSwitchPoints?: boolean;
  /** Stop after this many schedules (default 1,000,000); the result says the space was not finished. */
  maxSchedules?: number;
  /** Stop at the first violation. */
  stopAtFirst?: boolean;
  /** Keep at most this many violations (default 1000); `violationCount` counts them all. */
  keepViolations?: number;
  /** Extra invariants over the final state (the TS API's functions). */
  checks?: readonly InvariantFn[];
  /** Overrides the scenario's profile. */
  profile?: Profile;
  /** Seconds since some fixed point; the default reads the process clock. */
  clock?: () => number;
  /** Called after each schedule. */
  onProgress?: (schedules: number, seconds: number) => void;
}

export interface ExploreResult {
  verdict: 'pass' | 'fail';
  mode: 'exhaustive' | 'pct';
  schedules: number;
  seconds: number;
  /** Whether the whole space (exhaustive) or every requested run (PCT) was covered. */
  complete: boolean;
  violations: Violation[];
  violationCount: number;
  bound?: number;
  depth?: number;
  runs?: number;
  seed?: number;
  profile: string;
}

const processClock = () => Number(process.hrtime.bigint()) / 1e9;

export function explore(image: Image, scenario: Scenario, options: ExploreOptions = {}): ExploreResult {
  const mode = options.mode ?? 'exhaustive';
  const profile = options.profile ?? parseProfile(scenario.profile ?? 'linux');
  const clock = options.clock ?? processClock;
  const space: DeviationSpace = {
    kinds: options.kinds ?? ALL_DEVIATIONS,
    switchPoints: options.allSwitchPoints ? null : sharedAccessPoints(image),
    flagsMatter: profile.base === 'linux-5.x',
  };
  const maxSchedules = options.maxSchedules ?? 1_000_000;
  const keep = options.keepViolations ?? 1000;
  const t0 = clock();
  const machine = instantiate(image, scenario, profile, { trackSpeculativeStores: true });
  const oracle = new SerialOracle(image, scenario, profile);
  const tables = readRseqTables(image);
  const violations: Violation[] = [];
  let violationCount = 0;
  let schedules = 0;
  let stopped = false;
  const leaf = (): boolean => {
    schedules++;
    const found = judgeRun({ machine, outcome: machine.result(), oracle, image, tables, invariants: scenario.invariants, checks: options.checks ?? [] });
    violationCount += found.length;
    for (const v of found) if (violations.length < keep) violations.push(v);
    options.onProgress?.(schedules, clock() - t0);
    stopped = (options.stopAtFirst === true && found.length > 0) || schedules >= maxSchedules;
    return !stopped;
  };
  try {
    machine.begin();
    const start = machine.capture();
    const result = { mode, profile: profileName(profile) } as const;
    if (mode === 'exhaustive') {
      const bound = options.preemptions ?? 2;
      exhaustiveSearch(machine, bound, space, { leaf });
      return finish({ ...result, bound });
    }
    const depth = options.depth ?? 3;
    const runs = options.runs ?? 1000;
    const seed = options.seed ?? 1;
    // Change points are drawn over the length of the default run.
    while (machine.step(null));
    const steps = Math.max(1, machine.result().instructions);
    pctSearch(machine, start, { depth, runs, steps }, space, new Rng(seed), { leaf });
    return finish({ ...result, depth, runs, seed });
  } finally {
    machine.close();
    oracle.close();
  }

  function finish(r: Pick<ExploreResult, 'mode' | 'profile' | 'bound' | 'depth' | 'runs' | 'seed'>): ExploreResult {
    return { ...r, verdict: violationCount ? 'fail' : 'pass', schedules, seconds: clock() - t0, complete: !stopped, violations, violationCount };
  }
}
