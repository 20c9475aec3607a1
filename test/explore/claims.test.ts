// Work stealing between the worker threads of one search: each top-level branch goes to the first
// search that reaches it, through a shared counter.
import { strict as assert } from 'node:assert';
import { exploreShare } from '../../src/explore/explorer.js';
import type { Image } from '../../src/asm/image.js';
import { ALL_DEVIATIONS, sharedAccessPoints, splitPoints } from '../../src/explore/deviations.js';
import { exhaustiveSearch } from '../../src/explore/exhaustive.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from './fixtures.js';

const claims = () => new Int32Array(new SharedArrayBuffer(4));

/** The schedules of each top-level branch of the K = 1 search, in order. */
function leavesPerBranch(image: Image, scenario: Scenario): number[] {
  const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
  const counts: number[] = [];
  try {
    m.begin();
    const space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
    exhaustiveSearch(m, 1, space, { unit: (u) => void (counts[u] = 0), leaf: () => (counts[counts.length - 1]!++, true) });
  } finally {
    m.close();
  }
  return counts;
}
const OPTIONS = { preemptions: 1, stateCache: false };

describe('claimed branches', () => {
  it('go to the search that reaches them first: after one search took them all, another gets none', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const shared = claims();
    const first = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims: shared });
    const second = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims: shared });
    assert.equal(first.schedules, exploreShare(image, scenario, OPTIONS, { part: 0, of: 1 }).schedules);
    assert.equal(second.schedules, 0);
  });

  it('leave a search only the branches nobody took yet', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const shared = claims();
    shared[0] = 5; // another search took the first five
    const rest = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims: shared });
    const perBranch = leavesPerBranch(image, scenario);
    assert.equal(rest.schedules, perBranch.slice(5).reduce((a, b) => a + b, 0));
    assert.ok(rest.schedules > 0 && perBranch.slice(0, 5).some((n) => n > 0));
  });

  it('are counted within the share: a search of share 1 of 2 takes only that share\'s branches', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const r = exploreShare(image, scenario, OPTIONS, { part: 1, of: 2, claims: claims() });
    assert.equal(r.schedules, exploreShare(image, scenario, OPTIONS, { part: 1, of: 2 }).schedules);
  });
});
