// Exploration on several worker threads: each searches one share of the top-level branches (or of
// the PCT runs); the merged result is the one the sequential search would give, in the same order.
import { LIMITS } from '../limits.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RseqEmuError } from '../errors.js';
import type { Scenario } from '../scenario/scenario.js';
import { loadProgram } from '../program.js';
import type { Image } from '../asm/image.js';
import type { Share } from './exhaustive.js';
import { processClock } from '../clock.js';
import { shardShare, shareWithin, WHOLE } from './shard.js';
import { explore, exploreShare, mergeShares, stateCacheEntries, usesStateCache, type ExploreOptions, type ExploreResult, type ShareResult } from './explorer.js';
import { createStateTableMemory, type StateTableMemory } from './state-table.js';

export interface ParallelOptions extends ExploreOptions {
  /** Worker threads (default: one per core); 1 runs on the calling thread. */
  workers?: number;
  /**
   * Seconds the search runs on the calling thread before it starts workers (default
   * PILOT_SECONDS); a search that ends sooner never pays for them. 0 starts them at once.
   */
  pilotSeconds?: number;
}

/**
 * Starting two workers (threads loading koffi, Unicorn and the assembler, then assembling the
 * scenario) cost 0.9–1.2 s of wall time on the loaded 2-core machine, and two workers at best halve
 * what is left, so they pay only when more than about twice that remains; a pilot of 1 s bounds the
 * loss either way (bench/package.bench.ts). The pilot's work is kept, not redone.
 */
export const PILOT_SECONDS = 1;

/**
 * The worker's module: compiled code loads explore-worker.js directly; the sources (run through
 * tsx in a checkout) need the .mjs entry, as a worker does not inherit the parent's loader.
 */
const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './explore-worker-entry.mjs' : './explore-worker.js', import.meta.url);

function runShare(scenario: Scenario, options: ExploreOptions, share: Share, table: StateTableMemory | undefined, progress: (n: number) => void): Promise<ShareResult> {
  // Functions cannot cross to a worker; the options a worker needs are plain data.
  const { onProgress: _p, clock: _c, checks: _k, ...plain } = options;
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_MODULE, { workerData: { scenario, options: plain, share, table, limits: { ...LIMITS } } });
    worker.on('message', (m: { type: 'progress'; schedules: number } | { type: 'done'; result: ShareResult }) => {
      if (m.type === 'progress') progress(m.schedules);
      else resolve(m.result);
    });
    worker.on('error', (e) => reject(e instanceof RseqEmuError ? e : new RseqEmuError('ENGINE', `exploration worker failed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (code !== 0) reject(new RseqEmuError('ENGINE', `exploration worker exited with code ${code}`));
    });
  });
}

/**
 * Explores on up to `workers` threads: first on the calling thread for `pilotSeconds`; a search not
 * finished by then goes on in workers from the top-level branch the pilot was in.
 * TS functions (invariants, observe) keep it on the calling thread. `assembled`: the scenario's image, if at hand.
 */
export async function exploreParallel(scenario: Scenario, options: ParallelOptions = {}, assembled?: Image): Promise<ExploreResult> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), 64));
  // The caller may have assembled the source already (the CLI has, for its report).
  const image = assembled ?? (await loadProgram(scenario.source));
  const functions = options.checks?.length || Object.values(options.observe ?? {}).some((o) => typeof o === 'function');
  if (workers === 1 || functions) return explore(image, scenario, options);
  const clock = options.clock ?? processClock;
  const t0 = clock();
  const pilotSeconds = options.pilotSeconds ?? PILOT_SECONDS;
  let base: ShareResult = { schedules: 0, violations: [], violationCount: 0, stopped: false, heat: [] };
  let from = 0;
  // In a shard (--shard), the pilot searches the shard's share and the workers split it further.
  const shard = options.shard ?? WHOLE;
  // One state table for the pilot and all workers: none explores a state another finished.
  const exhaustive = (options.mode ?? 'exhaustive') === 'exhaustive';
  const table = exhaustive && usesStateCache(options) ? createStateTableMemory(stateCacheEntries(options)) : undefined;
  if (pilotSeconds > 0) {
    const pilot = exploreShare(image, scenario, options, shardShare(shard), pilotSeconds, table);
    if (!pilot.resume) return mergeShares([pilot], scenario, options, clock() - t0, 1);
    // Keep what the pilot found before the branch it was in; the workers redo that branch.
    const r = pilot.resume;
    base = { schedules: r.schedules, violations: pilot.violations.slice(0, r.kept), violationCount: r.violationCount, stopped: false, heat: r.heat, ...(pilot.stateCache ? { stateCache: pilot.stateCache } : {}) };
    from = r.unit;
  }
  let schedules = base.schedules;
  const progress = (n: number) => {
    schedules += n;
    options.onProgress?.(schedules, clock() - t0);
  };
  const elapsed = clock() - t0;
  const rest: ExploreOptions = {
    ...options,
    ...(options.maxSchedules !== undefined ? { maxSchedules: options.maxSchedules - base.schedules } : {}),
    ...(options.timeout !== undefined ? { timeout: Math.max(0, options.timeout - elapsed) } : {}),
  };
  // An exhaustive search's workers take the shard's branches as they come to them (measured on
  // counter.json at K = 3, a fixed split left one worker 30 % longer than the other); PCT runs
  // split by number.
  const claims = new Int32Array(new SharedArrayBuffer(4));
  const shareFor = (part: number): Share => (exhaustive ? { ...shardShare(shard), from, claims } : shareWithin(shard, part, workers, from));
  const parts = await Promise.all(Array.from({ length: workers }, (_, part) => runShare(scenario, rest, shareFor(part), table, progress)));
  return mergeShares([base, ...parts], scenario, options, clock() - t0, workers);
}
