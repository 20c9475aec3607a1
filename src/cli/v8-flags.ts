// V8 settings the launcher (bin/rseq-emu.js) gives a command's process before running it.
import { defaultWorkers } from '../explore/worker-count.js';
import { takeLimits } from './limit-options.js';

/**
 * Optimized code with a quarter of V8's default inlining budget (920 bytes of bytecode per function).
 * Each exploration thread is a V8 isolate of its own, which compiles the search's hot code again:
 * on two threads, TurboFan's compiling took about a fifth of the process's CPU time on the
 * spinlock's K = 3 search (perf). This budget cut the compiler's instructions by a third
 * and added 2.7 % to the search's own (callgrind, --single-threaded); on two threads the search took
 * 0.91 of the time on list.json at K = 3 (5 pairs of 5) and 0.93 on the spinlock (median of 11
 * pairs), but 1.08 on one thread, where the compiler runs on the otherwise idle core.
 */
export const PARALLEL_INLINING = '--max-inlined-bytecode-size-cumulative=230';

/**
 * The V8 flags for running `argv` (the command line after the program name): the parallel
 * inlining budget for an `explore` on more than one thread (`--workers`, by default
 * `workersByDefault`). Arguments the command would reject get none: it reports them itself.
 */
export function v8FlagsFor(argv: readonly string[], workersByDefault = defaultWorkers()): string[] {
  let rest: string[];
  try {
    rest = takeLimits(argv).rest;
  } catch {
    return [];
  }
  if (rest[0] !== 'explore') return [];
  let workers = workersByDefault;
  for (let i = 1; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') break;
    if (a === '--workers') workers = Number(rest[++i]);
    else if (a.startsWith('--workers=')) workers = Number(a.slice('--workers='.length));
  }
  return Number.isInteger(workers) && workers > 1 ? [PARALLEL_INLINING] : [];
}
