// The split deviation: exploration lets another CPU run between the load and the store of a
// non-LOCK read-modify-write, so lost updates through `addq` to memory are found — and correct ops
// whose commit is such an add still pass, at little cost to the search.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { readRseqTables } from '../../src/abi/tables.js';
import { ALL_DEVIATIONS } from '../../src/explore/deviations.js';
import { explore } from '../../src/explore/explorer.js';
import { judgeRun } from '../../src/explore/judge.js';
import { SerialOracle } from '../../src/explore/oracle.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { loadProgram } from '../../src/program.js';
import { scenarioFromJson } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WITHOUT_SPLIT = ALL_DEVIATIONS.filter((k) => k !== 'split');

/** counter_addv.s (or a twin): two threads on CPU 0, one on CPU 1, as counter.json. */
async function addv(file: string) {
  const scenario = scenarioFromJson({
    source: `asm/${file}`, cpus: 2, memory: { counters: { size: 16 } },
    threads: [
      { entry: 'counter_addv', args: ['counters', 1], cpu: 0 },
      { entry: 'counter_addv', args: ['counters', 10], cpu: 0 },
      { entry: 'counter_addv', args: ['counters', 100], cpu: 1 },
    ],
  }, ROOT + 'scenario.json');
  return { scenario, image: await loadProgram(scenario.source) };
}

/** fixtures/shared_counter.s: a plain `addq` to one counter from both CPUs. */
async function shared() {
  const scenario = scenarioFromJson({
    source: 'test/explore/fixtures/shared_counter.s', cpus: 2, memory: { counter: { size: 8 } },
    threads: [
      { entry: 'shared_add', args: ['counter', 1], cpu: 0 },
      { entry: 'shared_add', args: ['counter', 10], cpu: 1 },
    ],
  }, ROOT + 'scenario.json');
  return { scenario, image: await loadProgram(scenario.source) };
}

describe('the split deviation', function () {
  this.timeout(180_000);

  it('a plain addq counter shared by two CPUs loses an update under the exhaustive search within 50 schedules', async () => {
    const { scenario, image } = await shared();
    const r = explore(image, scenario, { stopAtFirst: true });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.violations[0]!.kind, 'not-serializable');
    assert.match(r.violations[0]!.schedule, /T\d:load/);
    assert.ok(r.schedules <= 50, `first violation after ${r.schedules} schedules`);
  });

  it('and under PCT (depth 3, seed 1) within 100 runs', async () => {
    const { scenario, image } = await shared();
    const r = explore(image, scenario, { mode: 'pct', runs: 100, seed: 1, stopAtFirst: true });
    assert.equal(r.verdict, 'fail', `no violation in ${r.schedules} runs`);
  });

  it('without splits the same counter never loses an update (what the search saw before)', async () => {
    const { scenario, image } = await shared();
    assert.equal(explore(image, scenario, { kinds: WITHOUT_SPLIT }).verdict, 'pass');
  });

  it('counter_addv, whose commit is a non-LOCK addq, passes its whole K = 2 space', async () => {
    const { scenario, image } = await addv('counter_addv.s');
    const r = explore(image, scenario);
    assert.equal(r.verdict, 'pass', r.violations.map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
    assert.equal(r.complete, true);
  });

  it('splits cost counter_addv less than 1.5 times the schedules of the space without them', async () => {
    const { scenario, image } = await addv('counter_addv.s');
    const withSplit = explore(image, scenario).schedules;
    const without = explore(image, scenario, { kinds: WITHOUT_SPLIT }).schedules;
    assert.ok(withSplit > without, 'splits add schedules');
    assert.ok(withSplit < 1.5 * without, `${withSplit} schedules with splits, ${without} without`);
  });

  it('counter_addv without its cpu compare is found by the exhaustive search within 600 schedules', async () => {
    const { scenario, image } = await addv('counter_addv.bug-no-cpu-compare.s');
    const r = explore(image, scenario, { stopAtFirst: true });
    assert.equal(r.verdict, 'fail');
    assert.equal(r.violations[0]!.kind, 'not-serializable');
    assert.ok(r.schedules <= 600, `first violation after ${r.schedules} schedules`);
  });

  it('and by PCT (depth 3, seed 1) within 2,000 runs', async () => {
    const { scenario, image } = await addv('counter_addv.bug-no-cpu-compare.s');
    const r = explore(image, scenario, { mode: 'pct', runs: 2000, seed: 1, stopAtFirst: true });
    assert.equal(r.verdict, 'fail', `no violation in ${r.schedules} runs`);
  });

  it('and is missed without splits: the atomic add hides the lost update', async () => {
    const { scenario, image } = await addv('counter_addv.bug-no-cpu-compare.s');
    assert.equal(explore(image, scenario, { kinds: WITHOUT_SPLIT }).verdict, 'pass');
  });

  it('replays a violation with a split from its schedule string to the same violation', async () => {
    const { scenario, image } = await addv('counter_addv.bug-no-cpu-compare.s');
    const found = explore(image, scenario, { stopAtFirst: true }).violations[0]!;
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    const oracle = new SerialOracle(image, scenario, m.profile);
    try {
      const outcome = m.run({ schedule: parseSchedule(found.schedule) });
      assert.equal(outcome.schedule, found.schedule);
      const again = judgeRun({ machine: m, outcome, oracle, image, tables: readRseqTables(image), invariants: [], checks: [] });
      assert.deepEqual(again.map((v) => v.message), [found.message]);
    } finally {
      m.close();
      oracle.close();
    }
  });
});
