// Work stealing between the worker threads of one search: each top-level branch goes to the first
// search that takes it, in runs of consecutive branches (branch-claims.ts), or strictly in order
// through a shared counter for a stop-at-first search.
import { strict as assert } from 'node:assert';
import { exploreShare } from '../../src/explore/explorer.js';
import type { Image } from '../../src/asm/image.js';
import { ALL_DEVIATIONS, deviationsAt, sharedAccessPoints, splitPoints } from '../../src/explore/deviations.js';
import { branchRuns, exhaustiveSearch } from '../../src/explore/exhaustive.js';
import { CommutingWalk, registerOnlyPoints } from '../../src/explore/commuting.js';
import { LoadWatch, loadPoints } from '../../src/explore/load-commuting.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario, counterScenario } from './fixtures.js';
import { BranchRuns, createClaims, RUN_CLAIM_CAPACITY } from '../../src/explore/branch-claims.js';
import { threadsShare } from '../../src/explore/explore-workers.js';

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

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('branches claimed in order', () => {
  const inOrder = () => ({ claims: createClaims(), inOrder: true });

  it('go to the search that reaches them first: after one search took them all, another gets none', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const shared = inOrder();
    const first = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, ...shared });
    const second = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, ...shared });
    assert.equal(first.schedules, exploreShare(image, scenario, OPTIONS, { part: 0, of: 1 }).schedules);
    assert.equal(second.schedules, 0);
  });

  it('leave a search only the branches nobody took yet', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const shared = inOrder();
    shared.claims[0] = 5; // another search took the first five
    const rest = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, ...shared });
    const perBranch = leavesPerBranch(image, scenario);
    assert.equal(rest.schedules, sum(perBranch.slice(5)));
    assert.ok(rest.schedules > 0 && perBranch.slice(0, 5).some((n) => n > 0));
  });

  it('are counted within the share: a search of share 1 of 2 takes only that share\'s branches', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const r = exploreShare(image, scenario, OPTIONS, { part: 1, of: 2, ...inOrder() });
    assert.equal(r.schedules, exploreShare(image, scenario, OPTIONS, { part: 1, of: 2 }).schedules);
  });

  it('are what a search takes when its share has more branches than the claims can mark', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const tiny = new Int32Array(new SharedArrayBuffer(4)); // room for the counter only
    tiny[0] = 5;
    const rest = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims: tiny });
    assert.equal(rest.schedules, sum(leavesPerBranch(image, scenario).slice(5)));
  });
});

describe('the branches of a search on several threads', () => {
  it('are claimed in order when the search stops at its first violation, and in runs otherwise', () => {
    assert.equal(threadsShare({ stopAtFirst: true }).inOrder, true);
    assert.equal(threadsShare({}).inOrder ?? false, false);
  });

  it('are the shard\'s when the search is one shard of several', () => {
    const share = threadsShare({ shard: { index: 2, count: 3 } });
    assert.deepEqual([share.part, share.of], [1, 3]);
  });
});

describe('branches claimed in runs', () => {
  it('are all taken by a search that finds none taken, in one run: the schedules of a search alone', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const claims = createClaims();
    const first = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims });
    assert.equal(first.schedules, exploreShare(image, scenario, OPTIONS, { part: 0, of: 1 }).schedules);
    assert.equal(exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims }).schedules, 0);
  });

  it('leave a search every branch but those another took, wherever these lie', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const perBranch = leavesPerBranch(image, scenario);
    const claims = createClaims();
    const other = new BranchRuns(claims, perBranch.length);
    const taken = [3, 4, 5, 11, perBranch.length - 2];
    for (const b of taken) assert.ok(other.take(b));
    const rest = exploreShare(image, scenario, OPTIONS, { part: 0, of: 1, claims });
    assert.equal(rest.schedules, sum(perBranch.filter((_, i) => !taken.includes(i))));
    assert.ok(taken.every((b) => perBranch[b]! > 0));
  });

  it('keep the violations of the earliest branches when a search meets later branches first', async () => {
    // Branch 0 taken elsewhere: this search starts in the middle of the rest, then goes back.
    const { scenario, image } = await counterScenario('counter_add.bug-late-rseq-cs.s');
    const options = { preemptions: 2, stateCache: false, keepViolations: 3 };
    const all = exploreShare(image, scenario, { ...options, keepViolations: 10_000 }, { part: 0, of: 1 });
    const claims = createClaims();
    new BranchRuns(claims, leavesPerBranch(image, scenario).length).take(0);
    const r = exploreShare(image, scenario, options, { part: 0, of: 1, claims });
    const expected = all.violations.filter((v) => v.unit !== 0).slice(0, 3);
    assert.deepEqual(r.violations.map((v) => [v.unit, v.schedule]), expected.map((v) => [v.unit, v.schedule]));
    assert.ok(all.violations.some((v) => v.unit > leavesPerBranch(image, scenario).length / 2));
  });

  it('give the one schedule of a search with no deviation (K = 0) to one search only', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const claims = createClaims();
    const options = { preemptions: 0, stateCache: false };
    assert.equal(exploreShare(image, scenario, options, { part: 0, of: 1, claims }).schedules, 1);
    assert.equal(exploreShare(image, scenario, options, { part: 0, of: 1, claims }).schedules, 0);
  });

  it('give each branch to one search only', () => {
    const runs = new BranchRuns(createClaims(), 100);
    assert.equal(runs.take(40), true);
    assert.equal(runs.take(40), false);
    assert.equal(runs.taken(40), true);
    assert.equal(runs.taken(41), false);
  });

  it('start at the first branch when nobody took it', () => {
    assert.equal(new BranchRuns(createClaims(), 100).next(), 0);
  });

  it('start in the middle of the longest run nobody took, which the search working along it reaches last', () => {
    const runs = new BranchRuns(createClaims(), 100);
    for (const b of [0, 1, 2, 30, 31]) runs.take(b);
    // Free: 3–29 (27 branches) and 32–99 (68): the second, from its middle.
    assert.equal(runs.next(), 32 + 34);
  });

  it('start no later than that middle, at the closest branch a run may begin at', () => {
    const starts = Array.from({ length: 100 }, (_, i) => i % 10 === 3);
    const runs = new BranchRuns(createClaims(), 100, starts);
    for (const b of [0, 1, 2, 30, 31]) runs.take(b);
    assert.equal(runs.next(), 63);
  });

  it('start at the first free branch when no branch up to the middle may begin a run', () => {
    const runs = new BranchRuns(createClaims(), 100, Array.from({ length: 100 }, (_, i) => i > 80));
    for (const b of [0, 1, 2, 30, 31]) runs.take(b);
    assert.equal(runs.next(), 32);
  });

  it('begin only at a point\'s first branch, and not one instruction after a load or a register-only instruction of its thread (spinlock.json)', async () => {
    const { scenario, image } = await bundledScenario('spinlock.json');
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    try {
      m.begin();
      const space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
      const registerOnly = registerOnlyPoints(image);
      const loads = LoadWatch.install(m, loadPoints(image, registerOnly), new Set(), null);
      const runs = branchRuns(m, space, { part: 0, of: 1 }, createClaims(), new CommutingWalk(m, 1000, registerOnly, null, loads))!;
      // The top level's points, T1 first: each with its first branch's number and its instruction.
      const points: { unit: number; text: string }[] = [];
      let unit = 0;
      for (let cpu = m.defaultCpu(); cpu !== null && points.length < 13; cpu = m.defaultCpu()) {
        const rip = m.ripOf(m.runningOn(cpu)!);
        points.push({ unit, text: image.lines.find((l) => l.kind === 'instruction' && l.address === rip)!.text });
        unit += deviationsAt(m, cpu, m.runningOn(cpu)!.tid, space).length;
        m.step({ kind: 'run', cpu, count: 1 });
      }
      const at = (text: string) => points.find((p) => p.text === text)!.unit;
      // After the store of 1 (the lock taken): the load of the count begins a run, its other branches do not.
      const load = at('movq (%rsi,%r8,8), %r9');
      assert.deepEqual(runs.starts!.slice(load, load + 2), [true, false]);
      // After that load, and after the register-only add: none.
      assert.equal(runs.starts![at('addq %rdx, %r9')], false);
      assert.equal(runs.starts![at('movq %r9, (%rsi,%r8,8)')], false);
      // After the count's store: the release begins one.
      assert.equal(runs.starts![at('movq $0, (%rdi,%r8,8)')], true);
    } finally {
      m.close();
    }
  });

  it('start nowhere when every branch is taken', () => {
    const runs = new BranchRuns(createClaims(), 70);
    for (let b = 0; b < 70; b++) runs.take(b);
    assert.equal(runs.next(), null);
  });

  it('mark up to the capacity of the claims, the last branch included', () => {
    const runs = new BranchRuns(createClaims(), RUN_CLAIM_CAPACITY);
    assert.equal(runs.take(RUN_CLAIM_CAPACITY - 1), true);
    assert.equal(runs.taken(RUN_CLAIM_CAPACITY - 2), false);
  });
});
