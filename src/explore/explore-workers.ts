// Exploration on several worker threads: each searches one share of the top-level branches (or of
// the PCT runs); the merged result is the one the sequential search would give, in the same order.
import { LIMITS } from '../limits.js';
import { Worker } from 'node:worker_threads';
import { RseqEmuError } from '../errors.js';
import type { Scenario } from '../scenario/scenario.js';
import { loadProgram } from '../program.js';
import type { Image } from '../asm/image.js';
import type { Share } from './exhaustive.js';
import { processClock } from '../clock.js';
import { shardShare, WHOLE } from './shard.js';
import { explore, exploreShare, SearchRounds, stateCacheEntries, usesStateCache, type ExploreOptions, type ExploreResult, type Joint, type ShareResult } from './explorer.js';
import { createStateTableMemory } from './state-table.js';
import { sharedConflicts } from './load-commuting.js';
import { createClaims } from './branch-claims.js';
import { defaultWorkers, MAX_WORKERS } from './worker-count.js';

export interface ParallelOptions extends ExploreOptions {
  /** Threads in all (default: one per core): the calling thread and `workers - 1` worker threads. */
  workers?: number;
  /**
   * Seconds the search runs on the calling thread alone before the worker threads join it
   * (default HELPERS_AFTER_SECONDS); a search that ends sooner never pays for them.
   */
  pilotSeconds?: number;
  /**
   * Wait for every worker started, even one that had not begun to search when the calling thread
   * ended (by default it is stopped: there is nothing left for it). Tests of the workers set it.
   */
  awaitWorkers?: boolean;
}

/**
 * A worker thread was ready to search about 1.1 s after it was started from the sources (0.9 s
 * loading the modules through tsx, 0.2 s Capstone and the image handed over), sooner from dist/,
 * and runs cold for a while after; a search that ends within a second never pays that (a pilot
 * of 0.5 or 0.25 s made the spinlock's K = 3 search no faster, measured from dist/). The calling
 * thread goes on searching, so its work is never redone.
 */
export const HELPERS_AFTER_SECONDS = 1;

/**
 * The worker's module: compiled code loads explore-worker.js directly; the sources (run through
 * tsx in a checkout) need the .mjs entry, as a worker does not inherit the parent's loader.
 */
const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './explore-worker-entry.mjs' : './explore-worker.js', import.meta.url);

/**
 * What a worker gets: plain data only (functions cannot cross to it). The image goes along: a
 * worker that assembled it again loaded Keystone first, 0.4 s of its start in a checkout.
 */
export interface WorkerInput {
  /** One slot per worker: 0 until it begins to search (1), or until the calling thread calls it off (2). */
  gate: Int32Array;
  seat: number;
  image: Image;
  scenario: Scenario;
  options: ExploreOptions;
  share: Share;
  joint: Omit<Joint, 'helpers'>;
  limits: typeof LIMITS;
}

/** A worker searching `input.share`, and its result to come (null: called off before it began). */
function runShare(input: Omit<WorkerInput, 'limits'>): { worker: Worker; result: Promise<ShareResult | null> } {
  const worker = new Worker(WORKER_MODULE, { workerData: { ...input, limits: { ...LIMITS } } satisfies WorkerInput });
  const result = new Promise<ShareResult | null>((resolve, reject) => {
    worker.on('message', (r: ShareResult | null) => resolve(r));
    worker.on('error', (e) => reject(e instanceof RseqEmuError ? e : new RseqEmuError('ENGINE', `exploration worker failed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (code !== 0) reject(new RseqEmuError('ENGINE', `exploration worker exited with code ${code}`));
    });
  });
  return { worker, result };
}

/**
 * Explores on up to `workers` threads: on the calling thread, joined after `pilotSeconds` by
 * worker threads that take the top-level branches (or PCT runs) it has not reached yet.
 * TS functions (invariants, observe) keep it on the calling thread. `assembled`: the scenario's image, if at hand.
 */
export async function exploreParallel(scenario: Scenario, options: ParallelOptions = {}, assembled?: Image): Promise<ExploreResult> {
  const workers = Math.max(1, Math.min(options.workers ?? defaultWorkers(), MAX_WORKERS));
  // The caller may have assembled the source already (the CLI has, for its report).
  const image = assembled ?? (await loadProgram(scenario.source));
  const functions = options.checks?.length || Object.values(options.observe ?? {}).some((o) => typeof o === 'function');
  if (workers === 1 || functions) return explore(image, scenario, options);
  const clock = options.clock ?? processClock;
  // Rounds of the checked rules (scratch-bytes.ts, load-commuting.ts): each on fresh tables.
  const rounds = new SearchRounds(options, scenario, clock);
  for (;;) {
    const { parts, used } = await searchOnThreads(image, scenario, rounds.options, workers, clock, rounds.began);
    const done = rounds.end(parts, used);
    if (done) return done;
  }
}

/**
 * The share the threads of one search divide among themselves (the shard's, or the whole search).
 * A stop-at-first search takes its branches in order, so that the first failure is the sequential
 * order's; others take them in runs (branch-claims.ts).
 */
export function threadsShare(options: ExploreOptions): Share {
  return { ...shardShare(options.shard ?? WHOLE), claims: createClaims(), ...(options.stopAtFirst ? { inOrder: true } : {}) };
}

/** Stops a worker whose result is no longer wanted. */
function stopWorker(h: ReturnType<typeof runShare>): void {
  h.result.catch(() => {});
  void h.worker.terminate();
}

/** Stops worker `seat` if it has not begun to search; returns whether it did. */
function callOff(gate: Int32Array, seat: number, h: ReturnType<typeof runShare>): boolean {
  if (Atomics.compareExchange(gate, seat, 0, 2) !== 0) return false;
  stopWorker(h);
  return true;
}

/** One round of a parallel search: the shares' results and how many threads ran. */
async function searchOnThreads(image: Image, scenario: Scenario, options: ParallelOptions, workers: number, clock: () => number, t0: number): Promise<{ parts: ShareResult[]; used: number }> {
  // One state table for all threads (none explores a state another finished), one count of
  // schedules, and one counter of branches taken. In a shard (--shard), the threads split the shard's share.
  const exhaustive = (options.mode ?? 'exhaustive') === 'exhaustive';
  const joint: Omit<Joint, 'helpers'> = {
    ...(exhaustive && usesStateCache(options) ? { table: createStateTableMemory(stateCacheEntries(options)) } : {}),
    tally: new BigInt64Array(new SharedArrayBuffer(8)),
    halt: new Int32Array(new SharedArrayBuffer(4)),
    loadConflicts: sharedConflicts(),
  };
  const share = threadsShare(options);
  const helpers: ReturnType<typeof runShare>[] = [];
  const gate = new Int32Array(new SharedArrayBuffer(4 * workers));
  const start = () => {
    const elapsed = clock() - t0;
    // Functions cannot cross to a worker; the options a worker needs are plain data.
    const { onProgress: _p, clock: _c, checks: _k, ...plain } = options;
    const rest = { ...plain, ...(options.timeout !== undefined ? { timeout: Math.max(0, options.timeout - elapsed) } : {}) };
    for (let i = 1; i < workers; i++) helpers.push(runShare({ gate, seat: i, image, scenario, options: rest, share, joint }));
  };
  let own: ShareResult;
  try {
    own = exploreShare(image, scenario, options, share, { ...joint, helpers: { after: options.pilotSeconds ?? HELPERS_AFTER_SECONDS, start } });
  } catch (e) {
    // Workers would otherwise search on, and keep the process alive, for a search that failed.
    for (const h of helpers) stopWorker(h);
    throw e;
  }
  // The calling thread ends when every branch is taken or the search stops: a worker still loading
  // has nothing left to do (a search that ends just after the pilot would otherwise wait a second
  // for it to start).
  const working = options.awaitWorkers ? helpers : helpers.filter((h, i) => !callOff(gate, i + 1, h));
  if (!working.length) return { parts: [own], used: 1 };
  // The calling thread is done; the workers' schedules still count in the progress shown.
  const tick = setInterval(() => options.onProgress?.(Number(Atomics.load(joint.tally!, 0)), clock() - t0), 250);
  try {
    const parts = (await Promise.all(working.map((h) => h.result))).filter((r): r is ShareResult => r !== null);
    return { parts: [own, ...parts], used: 1 + parts.length };
  } finally {
    clearInterval(tick);
  }
}
