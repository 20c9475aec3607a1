// `npm run bench:targets -- [--runs N] [--load L] [--preemptions K] [--workers W] [scenario ...]`:
// issue 14's targets as a user meets them. Each bundled correct scenario (its source is not a
// `.bug-` file) is searched whole from the command line, `rseq-emu explore SCENARIO --preemptions K`
// (default 3) in a fresh process with the default `--workers`, N times (default 3): schedules, wall
// seconds (min, median, max) and the process's peak RSS, each against the targets (10 s, 1 GB).
// `--load L` keeps L busy-looping processes running beside each search, as another job on the same
// machine would: the margin a slow stretch of the machine eats, measured rather than guessed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS = `${ROOT}examples/scenarios`;
/** Issue 14's targets. */
export const WALL_TARGET_SECONDS = 10;
export const RSS_TARGET_BYTES = 1024 ** 3;
/** Loaded into the searching process: its peak RSS, worker threads included, as it exits. */
const RSS_PROBE = `process.on('exit', () => process.stderr.write('\\npeak-rss ' + process.resourceUsage().maxRSS * 1024 + '\\n'));`;

/** The bundled scenarios whose program is not a deliberately broken twin, by name, sorted. */
export function correctScenarios(folder = SCENARIOS): string[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .filter((f) => !/\.bug-/.test((JSON.parse(readFileSync(`${folder}/${f}`, 'utf8')) as { source: string }).source))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The peak RSS the probe printed (bytes), or null when the process printed none. */
export function peakRss(stderr: string): number | null {
  const m = /^peak-rss (\d+)$/m.exec(stderr);
  return m ? Number(m[1]) : null;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  if (!xs.length) throw new Error('spread of no values');
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2, max: s[s.length - 1]! };
}

/** A row of the table: whether every run met both targets. */
export function withinTargets(walls: readonly number[], rss: readonly number[]): boolean {
  return walls.every((w) => w <= WALL_TARGET_SECONDS) && rss.every((r) => r < RSS_TARGET_BYTES);
}

interface Options {
  runs: number;
  load: number;
  preemptions: string;
  workers: string | null;
  names: string[];
}

export function parseArgs(argv: readonly string[]): Options {
  const o: Options = { runs: 3, load: 0, preemptions: '3', workers: null, names: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') o.runs = Number(value());
    else if (a === '--load') o.load = Number(value());
    else if (a === '--preemptions') o.preemptions = value();
    else if (a === '--workers') o.workers = value();
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.names.push(a);
  }
  if (!(Number.isInteger(o.runs) && o.runs >= 1)) throw new Error('--runs must be a whole number of at least 1');
  if (!(Number.isInteger(o.load) && o.load >= 0)) throw new Error('--load must be a whole number');
  return o;
}

/** One search in a fresh process: its schedules, wall seconds and peak RSS. */
function search(name: string, o: Options): { schedules: number; wall: number; rss: number } {
  const probe = `data:text/javascript,${encodeURIComponent(RSS_PROBE)}`;
  const args = ['--import', probe, `${ROOT}bin/rseq-emu.js`, 'explore', `${SCENARIOS}/${name}.json`, '--preemptions', o.preemptions, '--json', ...(o.workers ? ['--workers', o.workers] : [])];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${name}: exit ${r.status}: ${r.stderr.trim().split('\n').pop()}`);
  const rss = peakRss(r.stderr);
  if (rss === null) throw new Error(`${name}: no peak RSS reported`);
  return { schedules: (JSON.parse(r.stdout) as { schedules: number }).schedules, wall, rss };
}

/** L processes that each keep a core busy until stopped (at most an hour). */
function startLoad(l: number): ChildProcess[] {
  return Array.from({ length: l }, () => spawn(process.execPath, ['--eval', 'const end = Date.now() + 3600e3; while (Date.now() < end);'], { stdio: 'ignore' }));
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const names = o.names.length ? o.names : correctScenarios();
  const load = startLoad(o.load);
  const stop = () => load.forEach((p) => p.kill());
  process.on('exit', stop);
  try {
    console.log(`K = ${o.preemptions}, ${o.workers ? `--workers ${o.workers}` : 'default --workers'}, ${o.runs} run(s) each, ${o.load} busy process(es) beside`);
    console.log('| scenario | schedules | wall s (min / median / max) | peak RSS MiB (max) | within 10 s and 1 GB |');
    console.log('| --- | --- | --- | --- | --- |');
    let all = true;
    for (const name of names) {
      const runs = Array.from({ length: o.runs }, () => search(name, o));
      const w = spread(runs.map((r) => r.wall));
      const ok = withinTargets(runs.map((r) => r.wall), runs.map((r) => r.rss));
      all &&= ok;
      const schedules = [...new Set(runs.map((r) => r.schedules.toLocaleString('en-US')))].join(', ');
      console.log(`| ${name} | ${schedules} | ${w.min.toFixed(2)} / ${w.median.toFixed(2)} / ${w.max.toFixed(2)} | ${Math.round(Math.max(...runs.map((r) => r.rss)) / 2 ** 20)} | ${ok ? 'yes' : 'NO'} |`);
    }
    console.log(all ? 'every run met both targets' : 'some run missed a target');
  } finally {
    stop();
  }
}

// Run as a script, not when a test imports its functions (no top-level await: see warmup.bench.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
