// `npm run bench:cross-check -- [--preemptions K] [--max-schedules N] [filter ...]`: every bundled
// scenario, and every broken twin of `asm/` in each bundled scenario of its op, searched with the
// state cache and without it, on one thread, each search keeping every violation, and compared as
// `explore --cross-check` compares them (src/explore/cross-check.ts): the verdicts and the distinct
// violations. The test suite compares them at K = 2 (test/explore/state-cache.test.ts); this runs
// the deeper bounds, whose spaces without the cache take minutes (K = 3 by default). A filter keeps
// the searches whose name holds it. Exit status 1 when a pair differs.
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CROSS_CHECK_KEEP, crossCheck, type CrossCheck, type CrossCheckSide } from '../src/explore/cross-check.js';
import { explore } from '../src/explore/explorer.js';
import { loadProgram } from '../src/program.js';
import { loadScenario } from '../src/scenario/scenario.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCENARIOS = `${ROOT}examples/scenarios`;
const ASM = `${ROOT}asm`;

/** A search to make both ways: a bundled scenario, run with its own program or with a broken twin of it. */
export interface Case {
  name: string;
  scenario: string;
  /** The twin's source, or null for the scenario's own program. */
  twin: string | null;
}

/** The op a program of `asm/` implements: its file name up to the first dot. */
const opOf = (file: string): string => basename(file).replace(/\..*$/, '');

/** Every bundled scenario, then each twin in every bundled scenario whose program is its op's (`x.bug-y.s` in those of `x.s`). */
export function cases(scenarios = SCENARIOS, asm = ASM): Case[] {
  const bundled = readdirSync(scenarios).filter((f) => f.endsWith('.json')).sort();
  const programOf = new Map(bundled.map((f) => [f, basename((JSON.parse(readFileSync(`${scenarios}/${f}`, 'utf8')) as { source: string }).source)]));
  const out: Case[] = bundled.map((f) => ({ name: f.slice(0, -'.json'.length), scenario: `${scenarios}/${f}`, twin: null }));
  for (const twin of readdirSync(asm).filter((f) => /\.bug-[a-z0-9-]+\.s$/.test(f)).sort()) {
    for (const f of bundled) {
      if (programOf.get(f) === `${opOf(twin)}.s`) out.push({ name: `${twin.slice(0, -'.s'.length)} in ${f.slice(0, -'.json'.length)}`, scenario: `${scenarios}/${f}`, twin: `${asm}/${twin}` });
    }
  }
  return out;
}

interface Options {
  preemptions: number;
  maxSchedules: number;
  filters: string[];
}

export function parseArgs(argv: readonly string[]): Options {
  const o: Options = { preemptions: 3, maxSchedules: 1_000_000, filters: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a whole number`);
      return v;
    };
    if (a === '--preemptions') o.preemptions = value();
    else if (a === '--max-schedules') o.maxSchedules = value();
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.filters.push(a);
  }
  if (o.maxSchedules < 1) throw new Error('--max-schedules must be at least 1');
  return o;
}

/** One search made both ways, and their comparison. */
async function bothWays(c: Case, o: Options): Promise<CrossCheck> {
  const loaded = await loadScenario(c.scenario);
  const scenario = c.twin ? { ...loaded, source: c.twin } : loaded;
  const image = await loadProgram(scenario.source);
  const options = { preemptions: o.preemptions, maxSchedules: o.maxSchedules, keepViolations: CROSS_CHECK_KEEP };
  return crossCheck(explore(image, scenario, { ...options, stateCache: true }), explore(image, scenario, { ...options, stateCache: false }));
}

const side = (s: CrossCheckSide): string => `${s.schedules.toLocaleString('en-US')}, ${s.seconds.toFixed(1)}`;

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const chosen = cases().filter((c) => !o.filters.length || o.filters.some((f) => c.name.includes(f)));
  console.log(`K = ${o.preemptions}, one thread, at most ${o.maxSchedules.toLocaleString('en-US')} schedules a search`);
  console.log('| search | verdict | with the cache: schedules, s | without: schedules, s | distinct violations | cross-check |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  let differ = 0;
  for (const c of chosen) {
    const r = await bothWays(c, o);
    if (r.outcome === 'differ') differ++;
    const verdict = r.withCache.verdict === r.without.verdict ? r.withCache.verdict : `${r.withCache.verdict} / ${r.without.verdict}`;
    const outcome = r.outcome === 'incomplete' ? `not compared: ${r.reason}` : r.outcome === 'differ' ? `DIFFER: ${r.onlyWithCache.length} only with the cache, ${r.onlyWithout.length} only without` : 'agree';
    console.log(`| ${c.name} | ${verdict} | ${side(r.withCache)} | ${side(r.without)} | ${r.withCache.distinct} / ${r.without.distinct} | ${outcome} |`);
  }
  console.log(differ ? `${differ} search(es) differ` : 'no search differs');
  if (differ) process.exitCode = 1;
}

// Run as a script, not when a test imports its functions (no top-level await: see warmup.bench.ts).
if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
