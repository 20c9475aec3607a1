// Exploration on several worker threads: each searches one share of the top-level branches (or of
// the PCT runs); the merged result is the one the sequential search would give, in the same order.
import { LIMITS } from '../limits.js';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { RseqEmuError } from '../errors.js';
import type { Scenario } from '../scenario/scenario.js';
import { loadProgram } from '../program.js';
import { explore, mergeShares, processClock, type ExploreOptions, type ExploreResult, type ShareResult } from './explorer.js';

export interface ParallelOptions extends ExploreOptions {
  /** Worker threads (default: one per core); 1 runs on the calling thread. */
  workers?: number;
}

function runShare(scenario: Scenario, options: ExploreOptions, part: number, of: number, progress: (n: number) => void): Promise<ShareResult> {
  // Functions cannot cross to a worker; the options a worker needs are plain data.
  const { onProgress: _p, clock: _c, checks: _k, ...plain } = options;
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./explore-worker-entry.mjs', import.meta.url), { workerData: { scenario, options: plain, share: { part, of }, limits: { ...LIMITS } } });
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

/** Explores on `workers` threads; TS functions (invariants, observe) keep it on the calling thread. */
export async function exploreParallel(scenario: Scenario, options: ParallelOptions = {}): Promise<ExploreResult> {
  const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), 64));
  const functions = options.checks?.length || Object.values(options.observe ?? {}).some((o) => typeof o === 'function');
  if (workers === 1 || functions) return explore(await loadProgram(scenario.source), scenario, options);
  const clock = options.clock ?? processClock;
  const t0 = clock();
  let schedules = 0;
  const progress = (n: number) => {
    schedules += n;
    options.onProgress?.(schedules, clock() - t0);
  };
  const parts = await Promise.all(Array.from({ length: workers }, (_, i) => runShare(scenario, options, i, workers, progress)));
  return mergeShares(parts, scenario, options, clock() - t0, workers);
}
