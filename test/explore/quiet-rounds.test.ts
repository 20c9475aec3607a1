// Rounds of a spin loop that event twins stand for wholly are gone over in one step
// (quiet-rounds.ts), and a switch to another CPU in such a loop has twins (event-twins.ts): the
// search must report what it reports walking every round, and without the cache at all, and run
// exactly the schedules it runs walking every round (a skipped point whose events were not all
// stood for would have run one more).
import { strict as assert } from 'node:assert';
import type { Image } from '../../src/asm/image.js';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/explore/explorer.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import { brokenSpinlock, bundledScenario } from './fixtures.js';

function reported(r: ExploreResult): { verdict: string; complete: boolean; found: string[] } {
  return { verdict: r.verdict, complete: r.complete, found: [...new Set(r.violations.map((v) => `${v.kind}: ${v.message}`))].sort() };
}

/** The search going over quiet rounds (the default), walking each, and without the cache. */
function threeWays(scenario: Scenario, image: Image, options: ExploreOptions): { over: ExploreResult; each: ExploreResult; none: ExploreResult } {
  const all = { keepViolations: 1_000_000, ...options };
  return {
    over: explore(image, scenario, all),
    each: explore(image, scenario, { ...all, quietRounds: false }),
    none: explore(image, scenario, { ...all, stateCache: false }),
  };
}

describe('quiet rounds of a spin loop', function () {
  this.timeout(600_000);

  it('are gone over in the spinlock scenario at K = 2, with the schedules, verdict and violations of walking each round and of no cache', async () => {
    const { scenario, image } = await bundledScenario('spinlock.json');
    const { over, each, none } = threeWays(scenario, image, { preemptions: 2 });
    assert.ok(over.stateCache!.rounds > 100, `${over.stateCache!.rounds} rounds gone over`);
    assert.equal(each.stateCache!.rounds, 0);
    assert.equal(over.schedules, each.schedules);
    assert.equal(over.stateCache!.hits, each.stateCache!.hits, 'each event of a skipped round counts as stood for');
    assert.deepEqual(reported(over), reported(each));
    assert.deepEqual(reported(over), reported(none));
  });

  for (const slice of [40, 90, 300]) {
    it(`report the lost update of a spinlock released early, with ticks every ${slice} instructions, as walking each round and no cache do (K = 2)`, async () => {
      const { scenario, image } = await brokenSpinlock(slice);
      const { over, each, none } = threeWays(scenario, image, { preemptions: 2 });
      assert.equal(none.verdict, 'fail');
      assert.equal(over.schedules, each.schedules);
      assert.deepEqual(reported(over), reported(each));
      assert.deepEqual(reported(over), reported(none));
    });
  }

  it('are gone over where a tick is in reach of no twin: the rounds before it only (a slice of 300, K = 3)', async () => {
    const { scenario, image } = await brokenSpinlock(300);
    const over = explore(image, scenario, { preemptions: 3, keepViolations: 1_000_000 });
    const each = explore(image, scenario, { preemptions: 3, keepViolations: 1_000_000, quietRounds: false });
    assert.ok(over.stateCache!.rounds > 0);
    assert.equal(over.schedules, each.schedules);
    assert.deepEqual(reported(over), reported(each));
  });

  it('let a switch to the other CPU in a spin stand for the same switch a round later, with the verdict and violations of no cache (three threads, K = 2)', async () => {
    const { scenario, image } = await brokenSpinlock(120, true);
    const { over, each, none } = threeWays(scenario, image, { preemptions: 2 });
    assert.equal(none.verdict, 'fail');
    assert.ok(over.schedules < none.schedules);
    assert.equal(over.schedules, each.schedules);
    assert.deepEqual(reported(over), reported(none));
  });
});
