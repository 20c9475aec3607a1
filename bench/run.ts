// `npm run bench`: speed figures for the README. Engine figures come from bench/engine.bench.ts;
// the rest run the whole stack (Machine with its per-instruction hook, kernel events, fix-ups).
import { readFileSync } from 'node:fs';
import { benchEngine } from './engine.bench.js';
import { benchExplore, benchMemory, benchCheckedRules, benchTwoThreads } from './explore.bench.js';
import { benchGdb } from './gdb.bench.js';
import { Machine, assembleSource, findSymbol, parseEvent } from '../src/index.js';
import { copySize } from '../src/kernel/memory-snapshot.js';
import { parseSchedule } from '../src/kernel/schedule.js';

const now = () => Number(process.hrtime.bigint()) / 1e9;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Runs `fn` repeatedly for about `seconds`, returning iterations per second. */
function rate(seconds: number, fn: () => void): number {
  fn(); // warm-up: translation caches, JIT
  let n = 0;
  const t0 = now();
  let t = t0;
  while (t - t0 < seconds) {
    fn();
    n++;
    t = now();
  }
  return n / (t - t0);
}

async function benchMachine(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const LOOP = 3_000_000;
  const loop = await assembleSource(`f: movq $${LOOP / 2}, %rcx\n1: decq %rcx\n jnz 1b\n ret\n`, 'loop.s');
  const m = Machine.create(loop, { maxInstructions: 10 * LOOP });
  const t0 = now();
  const r = m.call(findSymbol(loop, 'f')!.address, []);
  out['machine loop, per-instruction hook (insn/s)'] = r.instructions / (now() - t0);
  m.close();

  const image = await assembleSource(readFileSync(new URL('../asm/counter_add.s', import.meta.url), 'utf8'), 'asm/counter_add.s');
  const machine = Machine.create(image);
  const counters = machine.allocate('counters', 16);
  const entry = findSymbol(image, 'counter_add')!.address;
  const preempt = [parseEvent('preempt@.Lcounter_add_start', image, machine.cpus)];
  out['counter_add runs, no event (runs/s)'] = rate(2, () => machine.call(entry, [counters, 1n]));
  out['counter_add runs, preempt + abort + retry (runs/s)'] = rate(2, () => machine.call(entry, [counters, 1n], { events: preempt }));
  out['counter_add, fresh machine per run with preempt (runs/s)'] = rate(2, () => {
    const fresh = Machine.create(image);
    const c = fresh.allocate('counters', 16);
    fresh.call(entry, [c, 1n], { events: preempt });
    fresh.close();
  });
  machine.close();

  // Snapshots: two threads of counter_add mid-run (two stacks, two TLS blocks, the image, a region).
  const snap = Machine.create(image);
  const c2 = snap.allocate('counters', 16);
  snap.spawn({ entry, args: [c2, 1n], cpu: 0 });
  snap.spawn({ entry, args: [c2, 10n], cpu: 1 });
  snap.begin();
  snap.step({ kind: 'run', cpu: 0, count: 5 });
  const state = snap.capture();
  out['capture of a 2-thread machine (captures/s)'] = rate(2, () => snap.capture());
  out['restore of a 2-thread machine (restores/s)'] = rate(2, () => snap.restore(state));
  // What the search does for every event a twin or a neighbour stands for: apply it, then rewind.
  const running = snap.runningOn(snap.defaultCpu()!)!.tid;
  out['preempt tried and rewound on a 2-thread machine (tries/s)'] = rate(2, () => {
    snap.step({ kind: 'event', tid: running, event: { kind: 'preempt' } });
    snap.restore(state);
  });
  out['restore + run both threads to the end (runs/s)'] = rate(2, () => {
    snap.restore(state);
    while (snap.step(null));
  });
  out['snapshot size (KiB)'] = state.processes.reduce((n, p) => n + copySize(p.memory), 0) / 1024;
  snap.close();

  // What the search does after a last deviation that leaves a spin-wait: the lock's holder
  // preempted on its CPU, the waiter spins to its tick. With the spin's rounds skipped and without.
  const spin = await assembleSource(readFileSync(new URL('../asm/percpu_spinlock.s', import.meta.url), 'utf8'), 'asm/percpu_spinlock.s');
  const spinlockAdd = findSymbol(spin, 'spinlock_add')!.address;
  for (const [label, skipRounds] of [['rounds skipped', true], ['every round emulated', false]] as const) {
    const m = Machine.create(spin, { skipRounds });
    const [locks, counts] = [m.allocate('locks', 16), m.allocate('counts', 16)];
    m.spawn({ entry: spinlockAdd, args: [locks, counts, 1n], cpu: 0 });
    m.spawn({ entry: spinlockAdd, args: [locks, counts, 10n], cpu: 0 });
    m.begin();
    for (const item of parseSchedule('c0:9 T1:preempt')) m.step(item);
    const held = m.capture();
    out[`rewind + spin-wait to its tick + both to the end, ${label} (runs/s)`] = rate(2, () => {
      m.restore(held);
      while (m.step(null));
    });
    m.close();
  }

  const source = readFileSync(new URL('../asm/percpu_list.s', import.meta.url), 'utf8');
  let files = 0;
  const a0 = now();
  while (now() - a0 < 2) {
    await assembleSource(source, 'asm/percpu_list.s');
    files++;
  }
  out['assembling asm/percpu_list.s (files/s)'] = files / (now() - a0);
  return out;
}

const engine = await benchEngine();
const results = { ...engine, ...(await benchMachine()), ...(await benchExplore(engine['loop, no hooks (insn/s)']!)), ...(await benchMemory()), ...(await benchCheckedRules()), ...(await benchTwoThreads()), ...(await benchGdb()) };
for (const [name, value] of Object.entries(results)) console.log(`${name.padEnd(66)} ${fmt(value)}`);
