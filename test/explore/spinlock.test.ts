// Spin-waiting under exploration: with time slices in the default schedule a spinning thread gives
// its CPU back to the lock holder it waits for, so `livelock` means no fair schedule finishes.
import { strict as assert } from 'node:assert';
import { explore } from '../../src/explore/explorer.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from './fixtures.js';

describe('a per-CPU spinlock (asm/percpu_spinlock.s, examples/scenarios/spinlock.json)', function () {
  this.timeout(600_000);

  it('passes every schedule within 2 deviations with the default time slice and instruction budget', async () => {
    const { scenario } = await bundledScenario('spinlock.json');
    assert.equal(scenario.maxInstructions, undefined);
    assert.equal(scenario.timeSlice, undefined);
    const r = await exploreParallel(scenario, { preemptions: 2 });
    assert.equal(r.verdict, 'pass', r.violations.map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
    assert.equal(r.complete, true);
  });

  it('livelocks without time slices: the search finds a run where the spinner never lets the holder finish', async () => {
    const { scenario: s, image } = await bundledScenario('spinlock.json');
    const scenario = { ...s, timeSlice: 0, maxInstructions: 20_000 };
    const r = explore(image, scenario, { stopAtFirst: true });
    assert.equal(r.verdict, 'fail');
    const v = r.violations[0]!;
    assert.equal(v.kind, 'livelock');
    // The same schedule finishes once slices are back.
    const m = instantiate(image, s);
    try {
      assert.equal(m.run({ schedule: parseSchedule(v.schedule) }).status, 'completed');
    } finally {
      m.close();
    }
  });

  it('passes PCT runs too: a thread whose slice ends drops to the lowest priority', async () => {
    const { scenario, image } = await bundledScenario('spinlock.json');
    const r = explore(image, scenario, { mode: 'pct', runs: 200, seed: 1 });
    assert.equal(r.verdict, 'pass', r.violations.map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
  });
});
