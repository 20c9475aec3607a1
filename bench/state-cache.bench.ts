// `npm run bench:state-cache`: the exhaustive search with and without the state cache, side by side
// in one run (issue 14), on one thread. The K = 2 table runs each whole space (memcpy-buffer's first
// 3,000 schedules) and gives schedules, CPU seconds (the machine is shared, so CPU time is the fair
// clock), schedules per CPU second, the cost of a schedule against bare Unicorn running its
// instructions, and the whole space's CPU time with the cache over without; the K = 3 rows run each
// scenario for at most `K3_SCHEDULES` schedules (or the whole space) and report schedules, CPU
// seconds, states skipped and RSS. Each search runs as `explore` runs it, with every round a
// checked rule asks for (load-commuting.ts, scratch-bytes.ts): one round alone may stop early to be
// searched again, which is no cut.
// Usage: node --expose-gc --import tsx bench/state-cache.bench.ts [K3_SCHEDULES] [scenario.json ...]
import { fileURLToPath } from 'node:url';
import { benchEngine } from './engine.bench.js';
import { explore, type ExploreOptions, type ExploreResult } from '../src/explore/explorer.js';
import { instantiate } from '../src/scenario/setup.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { loadProgram } from '../src/program.js';

const SCENARIOS = fileURLToPath(new URL('../examples/scenarios/', import.meta.url));
const K2 = ['counter', 'cmpeqv', 'list', 'buffer', 'memcpy-buffer'];
const K3 = ['counter', 'cmpeqv', 'list', 'buffer', 'counter-two-threads', 'slab-stack', 'mm-cid-counter', 'counter-addv'];

function timed(fn: () => ExploreResult): { r: ExploreResult; cpu: number } {
  globalThis.gc?.();
  const c0 = process.cpuUsage();
  const r = fn();
  const c = process.cpuUsage(c0);
  return { r, cpu: (c.user + c.system) / 1e6 };
}

async function main(): Promise<void> {
  const k3Schedules = Number(process.argv[2] ?? 20_000);
  const only = process.argv.slice(3);
  const bare = (await benchEngine())['loop, no hooks (insn/s)']!;
  console.log(`bare Unicorn: ${Math.round(bare).toLocaleString('en-US')} instructions/s`);
  console.log('| scenario (K = 2) | instructions per schedule | no cache: schedules, CPU s | schedules/CPU s | cost ratio | cache: schedules, CPU s | schedules/CPU s | cost ratio | skipped | CPU time, cache / no cache |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const name of K2.filter((n) => !only.length || only.includes(`${n}.json`))) {
    const scenario = await loadScenario(`${SCENARIOS}${name}.json`);
    const image = await loadProgram(scenario.source);
    const m = instantiate(image, scenario);
    const instructions = m.run().instructions;
    m.close();
    // The whole space, but memcpy-buffer's (10^5 schedules without the cache) only to its first 3,000.
    const cap = name === 'memcpy-buffer' ? 3000 : 1_000_000;
    const run = (o: ExploreOptions) => timed(() => explore(image, scenario, { preemptions: 2, maxSchedules: cap, ...o }));
    const off = run({ stateCache: false });
    const on = run({ stateCache: true });
    const rate = (x: { r: { schedules: number }; cpu: number }) => x.r.schedules / x.cpu;
    const ratio = (x: { r: { schedules: number }; cpu: number }) => bare / (rate(x) * instructions);
    const done = (x: { r: ExploreResult }) => `${x.r.schedules.toLocaleString('en-US')}${x.r.complete ? '' : ' (cut)'}`;
    const whole = off.r.complete && on.r.complete ? (on.cpu / off.cpu).toFixed(2) : 'n/a (cut)';
    console.log(`| ${name} | ${instructions} | ${done(off)}, ${off.cpu.toFixed(1)} | ${Math.round(rate(off))} | ${Math.round(ratio(off))}× | ${done(on)}, ${on.cpu.toFixed(1)} | ${Math.round(rate(on))} | ${Math.round(ratio(on))}× | ${on.r.stateCache?.hits ?? 0} | ${whole} |`);
  }
  console.log(`\n| scenario (K = 3, at most ${k3Schedules.toLocaleString('en-US')} schedules) | schedules, no cache | CPU s | schedules, cache | CPU s | skipped | cache entries | RSS MiB after |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const name of K3.filter((n) => !only.length || only.includes(`${n}.json`))) {
    const scenario = await loadScenario(`${SCENARIOS}${name}.json`);
    const image = await loadProgram(scenario.source);
    const run = (o: ExploreOptions) => timed(() => explore(image, scenario, { preemptions: 3, maxSchedules: k3Schedules, ...o }));
    const off = run({ stateCache: false });
    const on = run({ stateCache: true });
    const done = (x: { r: ExploreResult }) => `${x.r.schedules.toLocaleString('en-US')}${x.r.complete ? '' : ' (cut)'}`;
    console.log(`| ${name} | ${done(off)} | ${off.cpu.toFixed(1)} | ${done(on)} | ${on.cpu.toFixed(1)} | ${on.r.stateCache?.hits ?? 0} | ${on.r.stateCache?.entries ?? 0} | ${Math.round(process.memoryUsage().rss / 2 ** 20)} |`);
  }
}

await main();
