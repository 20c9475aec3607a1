// `rseq-emu explore`: search the schedules of a scenario for runs that are not atomic per CPU.
import { readRseqTables } from '../abi/tables.js';
import { usageError } from '../errors.js';
import { ALL_DEVIATIONS, type DeviationKind } from '../explore/deviations.js';
import { exploreParallel, type ParallelOptions } from '../explore/explore-workers.js';
import { CROSS_CHECK_KEEP, crossCheck, type CrossCheck } from '../explore/cross-check.js';
import { KEEP_VIOLATIONS, type ExploreResult } from '../explore/explorer.js';
import { crossCheckText } from '../report/cross-check-report.js';
import { defaultWorkers, MAX_WORKERS } from '../explore/worker-count.js';
import { shardRecordFields } from '../explore/merge-results.js';
import { searchIdentity } from '../explore/search-identity.js';
import { formatShard, parseShard } from '../explore/shard.js';
import { loadProgram } from '../program.js';
import { exploreJson, exploreText } from '../report/explore-report.js';
import { all, integerOption, one, parseArgs, positionalProblem } from './args.js';
import { profileFromArgs, scenarioFromArgs } from './scenario-args.js';
import { EXPLORE_USAGE } from './usage.js';
import { LIMITS } from '../limits.js';


const SPEC = {
  threads: { value: true }, memory: { value: true, repeat: true }, cpus: { value: true }, profile: { value: true }, mode: { value: true },
  preemptions: { value: true }, depth: { value: true }, runs: { value: true }, seed: { value: true }, kinds: { value: true },
  'max-schedules': { value: true }, 'schedule-budget': { value: true }, timeout: { value: true }, 'stop-at-first': {}, 'max-insns': { value: true }, 'time-slice': { value: true }, traces: { value: true }, workers: { value: true }, json: {}, shard: { value: true },
  html: { value: true },
  'state-cache': {}, 'no-state-cache': {}, 'state-cache-entries': { value: true }, 'cross-check': {},
};


function kindsOf(text: string | undefined): DeviationKind[] {
  if (text === undefined) return [...ALL_DEVIATIONS];
  const kinds = text.split(',').map((k) => k.trim());
  for (const k of kinds) if (!ALL_DEVIATIONS.includes(k as DeviationKind)) throw usageError(`--kinds: unknown kind '${k}' (known: ${ALL_DEVIATIONS.join(', ')})`);
  return kinds as DeviationKind[];
}

/** A bar when the total is known (PCT runs), else the count so far; both with the rate. */
export function progressLine(done: number, seconds: number, total: number | null): string {
  const rate = `${Math.round(done / seconds)} schedules/s`;
  if (total === null) return `explored ${done} schedules in ${seconds.toFixed(1)} s (${rate})`;
  const width = 30;
  const filled = Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} runs, ${seconds.toFixed(1)} s (${rate})`;
}

export async function exploreCommand(argv: readonly string[], print: (s: string) => void, progress: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(positionalProblem(a.positionals, 'SCENARIO.json or FILE.s'));
  if (a.flags.has('state-cache') && a.flags.has('no-state-cache')) throw usageError('--state-cache and --no-state-cache exclude each other');
  const mode = one(a, 'mode') ?? 'exhaustive';
  if (mode !== 'exhaustive' && mode !== 'pct') throw usageError(`--mode must be exhaustive or pct, not '${mode}'`);
  for (const opt of mode === 'pct' ? ['preemptions'] : ['depth', 'runs', 'seed']) if (a.options.has(opt)) throw usageError(`--${opt} does not apply to --mode ${mode}`);
  const shardText = one(a, 'shard');
  const crossChecked = a.flags.has('cross-check');
  if (crossChecked) crossCheckUsage(a.flags, a.options, mode);
  const shard = shardText === undefined ? undefined : parseShard(shardText);
  const scenario = await scenarioFromArgs(a.positionals[0]!, a);
  if (scenario.threads.length === 0) throw usageError('an assembly file needs --threads SPEC');
  const profile = profileFromArgs(a, scenario);
  const image = await loadProgram(scenario.source);
  const runs = integerOption(one(a, 'runs'), 'runs', 1000, 1, 100_000_000);
  const htmlFile = one(a, 'html');
  if (htmlFile !== undefined) (await import('../report/html/collect.js')).checkReportPath(htmlFile);
  let lastShown = 0;
  const options: ParallelOptions = {
    workers: integerOption(one(a, 'workers'), 'workers', defaultWorkers(), 1, MAX_WORKERS),
    mode,
    profile,
    kinds: kindsOf(one(a, 'kinds')),
    preemptions: integerOption(one(a, 'preemptions'), 'preemptions', 2, 0, 8),
    depth: integerOption(one(a, 'depth'), 'depth', 3, 1, 64),
    runs,
    seed: integerOption(one(a, 'seed'), 'seed', 1, 0, 2 ** 32 - 1),
    maxSchedules: integerOption(one(a, 'max-schedules'), 'max-schedules', 1_000_000, 1, 1_000_000_000),
    stopAtFirst: a.flags.has('stop-at-first'),
    ...(a.flags.has('state-cache') ? { stateCache: true } : a.flags.has('no-state-cache') ? { stateCache: false } : {}),
    ...(a.options.has('state-cache-entries') ? { stateCacheEntries: integerOption(one(a, 'state-cache-entries'), 'state-cache-entries', 0, 1, LIMITS.stateCacheEntries) } : {}),
    ...(a.options.has('timeout') ? { timeout: integerOption(one(a, 'timeout'), 'timeout', 0, 1, 86_400) } : {}),
    ...(a.options.has('schedule-budget') ? { scheduleBudget: integerOption(one(a, 'schedule-budget'), 'schedule-budget', 0, 1, 1_000_000_000) } : {}),
    ...(shard ? { shard } : {}),
    onProgress: (n, seconds) => {
      // Only for runs long enough to wonder about, refreshed a few times a second.
      if (seconds > 1 && seconds - lastShown > 0.25) {
        lastShown = seconds;
        progress(`\r${progressLine(n, seconds, mode === 'pct' && !shard ? runs : null)}`);
      }
    },
  };
  let result: ExploreResult;
  let check: CrossCheck | null = null;
  if (crossChecked) {
    // Both searches keep every violation; the report shows the first ones as usual.
    const on = await exploreParallel(scenario, { ...options, stateCache: true, keepViolations: CROSS_CHECK_KEEP }, image);
    const off = await exploreParallel(scenario, { ...options, stateCache: false, keepViolations: CROSS_CHECK_KEEP }, image);
    check = crossCheck(on, off);
    result = { ...on, violations: on.violations.slice(0, KEEP_VIOLATIONS) };
  } else result = await exploreParallel(scenario, options, image);
  if (lastShown) progress('\r\x1b[K');
  const tables = readRseqTables(image);
  const traces = integerOption(one(a, 'traces'), 'traces', 1, 0, 1000);
  const html = one(a, 'html');
  if (html !== undefined) {
    const { commandLine, exploreReport, writeReport } = await import('../report/html/collect.js');
    // The replay runs the same scenario: a scenario file, or the file with the options that describe it.
    const describing = ['threads', 'memory', 'cpus', 'profile', 'max-insns'].flatMap((o) => all(a, o).map((v) => `--${o}=${v}`));
    const replayPrefix = commandLine(['rseq-emu', 'run', a.positionals[0]!, ...describing]);
    writeReport(html, exploreReport({ image, tables, scenario, profile, result, command: commandLine(['rseq-emu', 'explore', ...argv]), replayPrefix }));
  }
  if (a.flags.has('json')) {
    // A shard's result carries what `rseq-emu merge` needs to check and order it.
    const record = shard ? shardRecordFields(result, searchIdentity(image, scenario, options), shard, a.positionals[0]!, scenario.timeSlice) : {};
    print(JSON.stringify({ ...exploreJson(result), ...record, ...(check ? { crossCheck: check } : {}) }, null, 2) + '\n');
  } else {
    print(exploreText(image, tables, scenario, profile, result, traces));
    if (check) print(crossCheckText(check));
    if (shard) print(`shard ${formatShard(shard)} of the search: run every shard with --json and join them with 'rseq-emu merge'\n`);
  }
  return exploreStatus(result.verdict, check);
}

/** 0 pass, 1 a violation; 3 when a cross-check differs, a fault of the tool rather than of the code searched. */
export const exploreStatus = (verdict: ExploreResult['verdict'], check: CrossCheck | null): number => (check?.outcome === 'differ' ? 3 : verdict === 'pass' ? 0 : 1);

/** `--cross-check` makes both searches itself, of a whole exhaustive space, and compares every violation. */
function crossCheckUsage(flags: ReadonlySet<string>, options: ReadonlyMap<string, unknown>, mode: string): void {
  if (flags.has('state-cache') || flags.has('no-state-cache')) throw usageError('--cross-check searches both with and without the state cache: leave out --state-cache and --no-state-cache');
  if (mode !== 'exhaustive') throw usageError('--cross-check applies to --mode exhaustive, whose search the state cache serves');
  if (options.has('shard')) throw usageError('--cross-check compares whole searches, not shards: leave out --shard');
  if (flags.has('stop-at-first')) throw usageError('--cross-check compares every violation: leave out --stop-at-first');
}
