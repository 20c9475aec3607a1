// `npm run bench:warmup [-- K] [scenario ...]`: what an exploration thread pays before V8 has
// optimized the search, and what the search allocates (issue 14: each exploration thread is a V8
// isolate of its own, which pays this again). For each scenario (default: the spinlock, the
// slowest bundled K = 3 space), on one thread:
// - the same whole search three times in one process: CPU and wall seconds of the first (cold) and
//   the third (warm) run; their difference is the warm-up;
// - a fresh command-line process run with --trace-opt and --trace-deopt, on the sources like the
//   searches above (RSEQ_EMU_DIST=0: a checkout with a current dist/ would run that instead): how
//   many functions TurboFan compiled, how many of those compiles were of a function compiled
//   before (after a deopt), the milliseconds V8 reports for them (the compile jobs, mostly on its helper threads), and the deopts;
// - V8's sampling heap profiler (objects already collected included) over a warm search: bytes
//   allocated per schedule.
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { explore } from '../src/explore/explorer.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { loadProgram } from '../src/program.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const k = args[0] && /^\d+$/.test(args[0]) ? Number(args.shift()) : 3;
const names = args.length ? args : ['spinlock'];

interface Timed {
  schedules: number;
  cpu: number;
  wall: number;
}

function timedSearch(run: () => { schedules: number }): Timed {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = run();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  return { schedules: r.schedules, cpu: (c.user + c.system) / 1e6, wall };
}

/** V8's own account of its optimizing, from a fresh process's --trace-opt and --trace-deopt output. */
export function compileCounts(trace: string): { compiles: number; recompiles: number; compileMs: number; deopts: number } {
  const seen = new Set<string>();
  let compiles = 0;
  let recompiles = 0;
  let compileMs = 0;
  for (const m of trace.matchAll(/\[completed compiling 0x[0-9a-f]+ <JSFunction .*? \(sfi = (0x[0-9a-f]+)\)> \(target [A-Z]+\) - took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/g)) {
    compiles++;
    // A function is its shared function info: names repeat (anonymous ones, methods of the same name).
    if (seen.has(m[1]!)) recompiles++;
    seen.add(m[1]!);
    compileMs += Number(m[2]) + Number(m[3]) + Number(m[4]);
  }
  const deopts = [...trace.matchAll(/\[bailout \(kind: deopt-/g)].length;
  return { compiles, recompiles, compileMs, deopts };
}

async function allocatedPerSchedule(run: () => { schedules: number }): Promise<number> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const { schedules } = run();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  let bytes = 0;
  const walk = (n: typeof profile.head): void => {
    bytes += n.selfSize;
    n.children.forEach(walk);
  };
  walk(profile.head);
  return bytes / schedules;
}

async function main(): Promise<void> {
  console.log(`| scenario (K = ${k}, one thread) | schedules | cold: CPU s, wall s | warm (third run): CPU s, wall s | warm-up: CPU s, wall s | TurboFan compiles (of them again after a deopt) | compile ms (V8's) | deopts | allocated per schedule |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const name of names) {
    const file = `${ROOT}examples/scenarios/${name}.json`;
    const scenario = await loadScenario(file);
    const image = await loadProgram(scenario.source);
    const search = () => explore(image, scenario, { preemptions: k, keepViolations: 1 });
    const cold = timedSearch(search);
    timedSearch(search);
    const warm = timedSearch(search);
    const perSchedule = await allocatedPerSchedule(search);
    const traced = spawnSync(process.execPath, ['--trace-opt', '--trace-deopt', `${ROOT}bin/rseq-emu.js`, 'explore', file, '--preemptions', String(k), '--workers', '1'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, RSEQ_EMU_DIST: '0' } });
    if (traced.status !== 0 && traced.status !== 1) throw new Error(`traced explore failed: ${traced.stderr}`);
    const c = compileCounts(traced.stdout + traced.stderr);
    console.log(
      `| ${name} | ${warm.schedules.toLocaleString('en-US')} | ${cold.cpu.toFixed(2)}, ${cold.wall.toFixed(2)} | ${warm.cpu.toFixed(2)}, ${warm.wall.toFixed(2)} | ` +
        `${(cold.cpu - warm.cpu).toFixed(2)}, ${(cold.wall - warm.wall).toFixed(2)} | ${c.compiles} (${c.recompiles}) | ${Math.round(c.compileMs)} | ${c.deopts} | ${Math.round(perSchedule / 1024)} KiB |`,
    );
  }
}

// Run as a script, not when a test imports compileCounts. No top-level await: mocha requires a test
// file's imports before it falls back to import(), and a module that awaits at the top failed that
// require half-way, leaving a second copy of the modules it had loaded (koffi then refused the
// emulator's callback types, defined twice).
if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
