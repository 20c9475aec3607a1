// `npm run bench:package`: start-up and small-search wall times of the compiled package (the code an
// installed package runs: bin/rseq-emu.js with RSEQ_EMU_DIST=1) next to the sources through tsx (RSEQ_EMU_DIST=0: a checkout whose dist/ is stale), the
// small search with its image in the cache (every run after the first) and without (a fresh cache), the
// break-even of worker threads per bundled scenario, and schedules/s of a big search with workers
// joining at once and after the default second. Needs `npm run build` first. Times are medians of several runs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCENARIOS = `${ROOT}examples/scenarios/`;
if (!existsSync(`${ROOT}dist/index.js`)) throw new Error('run `npm run build` first');
// The compiled code, as the package runs it (a worker of the tsx sources would load TypeScript).
const { exploreParallel } = (await import(`${ROOT}dist/explore/explore-workers.js`)) as typeof import('../src/explore/explore-workers.js');
const { loadScenario } = (await import(`${ROOT}dist/index.js`)) as typeof import('../src/index.js');

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

// Break-even of workers: the whole K = 2 search of each small bundled scenario on the calling
// thread against two workers started at once.
for (const name of ['counter', 'cmpeqv', 'list', 'buffer']) {
  const scenario = await loadScenario(`${SCENARIOS}${name}.json`);
  const t = async (o: object) => {
    const t0 = now();
    const r = await exploreParallel(scenario, o);
    return { seconds: now() - t0, schedules: r.schedules };
  };
  const one = await t({ workers: 1 });
  const two = await t({ workers: 2, pilotSeconds: 0 });
  const piloted = await t({ workers: 2 });
  out[`${name}: ${one.schedules} schedules, 1 thread / 2 threads at once / second after 1 s`] = `${s(one.seconds)} / ${s(two.seconds)} / ${s(piloted.seconds)}`;
}

// A big search (memcpy-buffer, K = 2) for a bounded time: schedules/s, the second thread at once or after 1 s.
const big = await loadScenario(`${SCENARIOS}memcpy-buffer.json`);
for (const pilotSeconds of [0, undefined]) {
  const t0 = now();
  const r = await exploreParallel(big, { workers: 2, timeout: 20, ...(pilotSeconds === 0 ? { pilotSeconds } : {}) });
  out[`memcpy-buffer K=2, 20 s, 2 threads, second after ${pilotSeconds ?? 'the default'} s: schedules/s`] = Math.round(r.schedules / (now() - t0)).toString();
}
for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(72)} ${v}`);
rmSync(CACHE, { recursive: true, force: true });
