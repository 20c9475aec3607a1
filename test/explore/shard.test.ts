// Shards (`--shard I/N`): the N shards of a search are disjoint and together are exactly the whole
// search, however many workers each shard runs on; their results, ordered by unit, are the whole
// search's in its own order.
import { strict as assert } from 'node:assert';
import { ALL_DEVIATIONS, sharedAccessPoints, splitPoints, type DeviationSpace } from '../../src/explore/deviations.js';
import { exhaustiveSearch, shareOf, type Share } from '../../src/explore/exhaustive.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { explore, mergeViolations } from '../../src/explore/explorer.js';
import { pctSearch } from '../../src/explore/pct.js';
import { parseShard, shardShare, shareWithin, type Shard } from '../../src/explore/shard.js';
import { instantiate } from '../../src/scenario/setup.js';
import { counterScenario } from './fixtures.js';

/** Every (shard, worker) share of a search in N shards of W workers each. */
const splits = (n: number, w: number): { shard: Shard; share: Share }[] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: w }, (_, p) => ({ shard: { index: i + 1, count: n }, share: shareWithin({ index: i + 1, count: n }, p, w) }))).flat();

/** The leaves of a search over `share`, each as its schedule string and the unit it belongs to. */
type Leaf = { schedule: string; unit: number };

async function leavesOf(file: string, search: 'exhaustive' | 'pct', shares: Share[]): Promise<Leaf[][]> {
  const { scenario, image } = await counterScenario(file);
  const machine = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
  try {
    machine.begin();
    const start = machine.capture();
    const space: DeviationSpace = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
    return shares.map((share) => {
      machine.restore(start);
      const out: Leaf[] = [];
      let unit = -1;
      const control = { unit: (u: number) => (unit = u), leaf: () => (out.push({ schedule: machine.result().schedule, unit }), true) };
      if (search === 'exhaustive') exhaustiveSearch(machine, 1, space, control, share);
      else pctSearch(machine, start, { depth: 3, runs: 60, steps: 200 }, space, 7, control, share);
      return out;
    });
  } finally {
    machine.close();
  }
}

describe('shards of a search', function () {
  this.timeout(120_000);

  describe('parsing --shard', () => {
    it('reads I/N with shards numbered from 1', () => {
      assert.deepEqual(parseShard('2/3'), { index: 2, count: 3 });
      assert.deepEqual(parseShard('1/1'), { index: 1, count: 1 });
    });
    for (const [text, why] of [
      ['0/3', /I must be 1 to 3 \(shards are numbered from 1\), not 0/],
      ['4/3', /I must be 1 to 3/],
      ['1/0', /N must be 1 to 65536, not 0/],
      ['1/70000', /N must be 1 to 65536/],
      ['2', /--shard must be I\/N/],
      ['a/b', /--shard must be I\/N/],
      ['-1/3', /--shard must be I\/N/],
    ] as const) {
      it(`refuses '${text}' with one line saying why`, () => {
        assert.throws(() => parseShard(text), (e: Error) => why.test(e.message) && !e.message.includes('\n'));
      });
    }
  });

  describe('the split of units', () => {
    for (const [n, w] of [[1, 1], [2, 2], [3, 2], [4, 3], [5, 1]] as const) {
      it(`puts every unit in exactly one worker of exactly one shard, the shard's own, with ${n} shards of ${w} workers`, () => {
        const all = splits(n, w);
        for (let unit = 0; unit < 5000; unit++) {
          const owners = all.filter((s) => shareOf(unit, s.share.of) === s.share.part);
          assert.equal(owners.length, 1, `unit ${unit} has ${owners.length} owners`);
          assert.equal(owners[0]!.shard.index - 1, shareOf(unit, n), `unit ${unit} is not in its shard's share`);
        }
      });
    }
    it('gives every worker of every shard some units when units outnumber shares', () => {
      for (const s of splits(3, 2)) {
        let mine = 0;
        for (let unit = 0; unit < 600; unit++) if (shareOf(unit, s.share.of) === s.share.part) mine++;
        assert.ok(mine > 50, `shard ${s.shard.index} share ${s.share.part}/${s.share.of} has ${mine} of 600 units`);
      }
    });
    it('makes the shard of one the whole search', () => {
      assert.deepEqual(shardShare({ index: 1, count: 1 }), { part: 0, of: 1 });
    });
  });

  for (const search of ['exhaustive', 'pct'] as const) {
    it(`covers the whole ${search} search, each schedule once, in 3 shards of 2 workers, and orders it back by unit`, async () => {
      const all = splits(3, 2);
      const [whole, ...parts] = await leavesOf('counter_add.s', search, [{ part: 0, of: 1 }, ...all.map((s) => s.share)]);
      assert.ok(whole!.length > 20, `the whole search has ${whole!.length} schedules`);
      for (const p of parts) assert.ok(p.length < whole!.length, 'a share is not the whole search');
      const merged = mergeViolations(parts, Infinity, false);
      assert.deepEqual(merged.map((l) => l.schedule), whole!.map((l) => l.schedule));
    });
  }

  it('gives the one schedule of a search with no deviation (K = 0) to exactly one shard', async () => {
    const { scenario, image } = await counterScenario('counter_add.bug-commit-outside.s');
    const shards = [1, 2, 3].map((index) => explore(image, scenario, { preemptions: 0, shard: { index, count: 3 } }));
    assert.deepEqual(shards.map((r) => r.schedules).sort(), [0, 0, 1]);
  });

  for (const pilot of [0, 0.02]) {
    it(`finds the violations of the whole search when its shards run on worker threads${pilot ? ', after a pilot on the calling thread' : ''}`, async () => {
      const { scenario, image } = await counterScenario('counter_add.bug-commit-outside.s');
      // Without the state cache: each worker's own cache skips different states, so schedule counts
      // would differ from the whole search's (state-cache.test.ts checks the violations stay the same).
      const options = { preemptions: 1, stateCache: false };
      const whole = explore(image, scenario, options);
      const shards = [];
      for (let index = 1; index <= 2; index++) {
        // A clock that advances with each reading stops the pilot after the same schedules on any machine.
        let now = 0;
        shards.push(await exploreParallel(scenario, { ...options, shard: { index, count: 2 }, workers: 2, pilotSeconds: pilot, awaitWorkers: true, clock: () => (now += 0.001) }, image));
      }
      assert.equal(shards[0]!.workers, 2, 'the pilot ended the search before the workers started');
      assert.equal(shards[0]!.schedules + shards[1]!.schedules, whole.schedules);
      const merged = mergeViolations(shards.map((r) => r.violations.map((v, i) => ({ ...v, unit: r.units[i]! }))), 1000, false);
      assert.ok(whole.violations.length > 0);
      assert.deepEqual(merged.map(({ unit: _u, ...v }) => v), whole.violations);
    });
  }
});
