// `npm run bench:package`: start-up and small-search wall times of the compiled package (the code an
// installed package runs: bin/rseq-emu.js with RSEQ_EMU_DIST=1) next to the sources through tsx (RSEQ_EMU_DIST=0: a checkout whose dist/ is stale), the
// small search with its image in the cache (every run after the first) and without (a fresh cache), the
// break-even of worker threads per bundled scenario, and schedules/s of a big search with workers
// joining at once and after the default second, each search in a fresh process of the compiled code.
// Needs `npm run build` first. Times are medians of several runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCENARIOS = `${ROOT}examples/scenarios/`;
if (!existsSync(`${ROOT}dist/index.js`)) throw new Error('run `npm run build` first');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const env = { ...process.env };
delete env.NODE_OPTIONS;

// The image cache of the runs below; `cold` runs each get an empty one.
const CACHE = mkdtempSync(join(tmpdir(), 'rseq-emu-bench-cache-'));
env.RSEQ_EMU_CACHE_DIR = CACHE;

function wall(args: string[], extra: Record<string, string> = {}, runs = 7, cold = false): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = cold ? mkdtempSync(join(tmpdir(), 'rseq-emu-bench-cold-')) : CACHE;
    const t0 = now();
    spawnSync(process.execPath, args, { cwd: ROOT, env: { ...env, RSEQ_EMU_CACHE_DIR: dir, ...extra }, stdio: 'ignore', timeout: 60_000 });
    times.push(now() - t0);
    if (cold) rmSync(dir, { recursive: true, force: true });
  }
  return median(times);
}

const out: Record<string, string> = {};
const s = (x: number) => `${x.toFixed(3)} s`;
const base = wall(['-e', '0']);
out['node -e 0'] = s(base);
for (const [what, args] of [
  ['--help', ['bin/rseq-emu.js', '--help']],
  ['explore counter-commit-outside --stop-at-first', ['bin/rseq-emu.js', 'explore', 'examples/scenarios/counter-commit-outside.json', '--stop-at-first']],
] as const) {
  const dist = wall([...args], { RSEQ_EMU_DIST: '1' });
  // The sources through tsx, as a checkout runs them when dist/ is stale or missing.
  const tsx = wall([...args], { RSEQ_EMU_DIST: '0' });
  out[`${what}: dist (installed package)`] = s(dist);
  out[`${what}: tsx (checkout, dist/ stale)`] = s(tsx);
  out[`${what}: dist / tsx`] = (dist / tsx).toFixed(2);
  out[`${what}: dist - node -e 0`] = s(dist - base);
  if (what.startsWith('explore')) out[`${what}: dist, image not cached (first run)`] = s(wall([...args], { RSEQ_EMU_DIST: '1' }, 7, true));
}

// bin/rseq-emu.js runs wasm on Liftoff only; the same explore through dist with V8's default tiering.
{
  const args = ['explore', 'examples/scenarios/counter-commit-outside.json', '--stop-at-first'];
  const main = `${ROOT}dist/cli/main.js`;
  const tiering = ['--input-type=module', '-e', `const { runCli } = await import(${JSON.stringify(main)}); process.exitCode = await runCli(${JSON.stringify(args)}, { out: () => {}, err: () => {}, progress: () => {} });`];
  const liftoff = wall(['bin/rseq-emu.js', ...args], { RSEQ_EMU_DIST: '1' });
  const tiered = wall(tiering);
  out['explore --stop-at-first: Liftoff only (bin) / default tiering'] = `${s(liftoff)} / ${s(tiered)} = ${(liftoff / tiered).toFixed(2)}`;
}

/**
 * One search in a fresh process, as the command line sets V8 up for it (Liftoff-only wasm, the
 * launcher's flags for its thread count): its own seconds (module loading left out) and schedules.
 * A fresh process each: searches run one after another in one process share its warmed-up code,
 * which favoured whichever ran later.
 */
function search(scenario: string, options: { workers: number; pilotSeconds?: number; timeout?: number }): { seconds: number; schedules: number } {
  const code = `
    import { setFlagsFromString } from 'node:v8';
    setFlagsFromString('--liftoff-only');
    const { v8FlagsFor } = await import(${JSON.stringify(`${ROOT}dist/cli/v8-flags.js`)});
    for (const flag of v8FlagsFor(['explore', '--workers', '${options.workers}'])) setFlagsFromString(flag);
    const { exploreParallel } = await import(${JSON.stringify(`${ROOT}dist/explore/explore-workers.js`)});
    const { loadScenario } = await import(${JSON.stringify(`${ROOT}dist/index.js`)});
    const scenario = await loadScenario(${JSON.stringify(`${SCENARIOS}${scenario}.json`)});
    const t0 = performance.now();
    const r = await exploreParallel(scenario, ${JSON.stringify(options)});
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, schedules: r.schedules }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${scenario}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { seconds: number; schedules: number };
}

// Break-even of workers: the whole K = 2 search of each small bundled scenario on one thread, on two
// started at once, and on two the second of which joins after the default pilot; three runs of
// each, in fresh processes, the order turning from run to run.
const configs = [{ workers: 1 }, { workers: 2, pilotSeconds: 0 }, { workers: 2 }];
for (const name of ['counter', 'cmpeqv', 'list', 'buffer']) {
  const seconds: number[][] = configs.map(() => []);
  let schedules = 0;
  for (let run = 0; run < 3; run++) {
    for (let i = 0; i < configs.length; i++) {
      const c = (i + run) % configs.length;
      const r = search(name, configs[c]!);
      seconds[c]!.push(r.seconds);
      schedules = r.schedules;
    }
  }
  out[`${name}: ${schedules} schedules, 1 thread / 2 threads at once / second after 1 s`] = seconds.map((x) => s(median(x))).join(' / ');
}

// A big search (memcpy-buffer, K = 2) for a bounded time: schedules/s, the second thread at once or after 1 s.
for (const pilotSeconds of [0, undefined]) {
  const r = search('memcpy-buffer', { workers: 2, timeout: 20, ...(pilotSeconds === 0 ? { pilotSeconds } : {}) });
  out[`memcpy-buffer K=2, 20 s, 2 threads, second after ${pilotSeconds ?? 'the default'} s: schedules/s`] = Math.round(r.schedules / r.seconds).toString();
}
for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(72)} ${v}`);
rmSync(CACHE, { recursive: true, force: true });
