// `npm run bench:snapshot [SCENARIO]`: microseconds per restore, per capture (after a restore) and
// per state fingerprint, each timed alone after a restore, cycling over the states of the first 20 instructions of
// a bundled scenario's default run (list by default) — the three costs an explored state pays —
// and per event tried and rewound (a preempt of the running thread, then a restore to the state
// before it: what the search does for every event a twin or a neighbour stands for).
import { readRseqTables } from '../src/abi/tables.js';
import { stateFingerprint } from '../src/explore/state-hash.js';
import { loadProgram } from '../src/program.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { instantiate } from '../src/scenario/setup.js';

const name = process.argv[2] ?? 'list';
const scenario = await loadScenario(new URL(`../examples/scenarios/${name}.json`, import.meta.url).pathname);
const image = await loadProgram(scenario.source);
const tables = readRseqTables(image);
const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
m.begin();
const states: ReturnType<typeof m.capture>[] = [];
for (let i = 0; i < 20; i++) {
  const cpu = m.defaultCpu();
  if (cpu === null) break;
  states.push(m.capture());
  m.step({ kind: 'run', cpu, count: 1 });
}
const N = 3000;
/** Mean microseconds of `op` alone, each call after a restore to the next state (which is not timed). */
const time = (op: (i: number) => void): number => {
  let spent = 0;
  for (let round = 0; round < 2; round++) {
    spent = 0; // the first round warms up
    for (let i = 0; i < N; i++) {
      m.restore(states[i % states.length]!);
      const t0 = performance.now();
      op(i);
      spent += performance.now() - t0;
    }
  }
  return (spent / N) * 1000;
};
const restore = time((i) => m.restore(states[(i + 1) % states.length]!)); // to the next state
const capture = time(() => m.capture());
const fingerprint = time(() => stateFingerprint(m, tables));
const eventTried = time((i) => {
  const tid = m.runningOn(m.defaultCpu()!)!.tid;
  m.step({ kind: 'event', tid, event: { kind: 'preempt' } });
  m.restore(states[i % states.length]!);
});
console.log(`${name}: restore ${restore.toFixed(1)} µs, capture ${capture.toFixed(1)} µs, fingerprint ${fingerprint.toFixed(1)} µs, event tried and rewound ${eventTried.toFixed(1)} µs (${states.length} states, ${N} calls each)`);
m.close();
