// Scratch bytes (issue 14): bytes an aborted try-store left are hashed as if never stored, so the
// states an abort leaves at each byte of a copy are one; a run that reads such a byte makes the
// search run again without the rule for it, and reports what the search without the cache reports.
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { readRseqTables } from '../../src/abi/tables.js';
import { explore, nextScratchRound, withEarlierFindings, type ExploreOptions, type ExploreResult, type ShareResult } from '../../src/explore/explorer.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { mayLeaveScratch, ScratchBytes } from '../../src/explore/scratch-bytes.js';
import { stateFingerprint } from '../../src/explore/state-hash.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { loadProgram } from '../../src/program.js';
import { loadScenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario, writePeekScenario } from './fixtures.js';

const ASM = fileURLToPath(new URL('../../asm/', import.meta.url));

/** T1 cut short in its copy: preempted after `n` instructions, then T2 runs a few. */
const cutAfter = (n: number) => `c0:${n} T1:preempt c1:5`;

async function fingerprints(schedules: string[], excluded: bigint[] = []) {
  const { scenario, image } = await bundledScenario('memcpy-buffer.json');
  const tables = readRseqTables(image);
  return schedules.map((s) => {
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    const rule = new ScratchBytes(m, scenario, [], tables.sections.map((c) => c.descriptor), excluded);
    for (const item of parseSchedule(s)) m.step(item);
    const out = { key: stateFingerprint(m, tables, null, rule).key, plain: stateFingerprint(m, tables).key, rule, machine: m };
    return out;
  });
}

async function peekScenario() {
  const scenario = await loadScenario(writePeekScenario());
  return { scenario, image: await loadProgram(scenario.source) };
}

// Preemptions alone reach the reader's view of a cut copy, in a space small enough for a test.
const PEEK_SEARCH = { preemptions: 2, kinds: ['preempt'] as const, keepViolations: 1_000_000 };

const reported = (r: ExploreResult) => ({ verdict: r.verdict, complete: r.complete, found: [...new Set(r.violations.map((v) => `${v.kind}: ${v.message}`))].sort() });

describe('scratch bytes', function () {
  this.timeout(300_000);

  it('hashes a copy an abort cut short after one byte and one cut after five bytes as one state', async () => {
    const [a, b] = await fingerprints([cutAfter(20), cutAfter(30)]);
    assert.equal(a!.key, b!.key);
    assert.notEqual(a!.plain, b!.plain);
  });

  it('hashes them apart when an earlier round excluded the bytes the copy wrote', async () => {
    const [probe] = await fingerprints([cutAfter(30)]);
    const written = [...probe!.machine.lastStores().keys()];
    assert.ok(written.length > 1);
    const [a, b] = await fingerprints([cutAfter(20), cutAfter(30)], written);
    assert.notEqual(a!.key, b!.key);
  });

  it('marks a conflict when a byte it hashed as scratch is loaded in that form', async () => {
    const [a] = await fingerprints([cutAfter(30)]);
    assert.equal(a!.rule.conflicted, false);
    const scratch = a!.rule.record().seen.map(BigInt);
    assert.ok(scratch.length > 0);
    a!.rule.read(scratch[0]!, 1);
    assert.equal(a!.rule.conflicted, true);
  });

  it('leaves loads of other bytes alone', async () => {
    const [a] = await fingerprints([cutAfter(30)]);
    const seen = new Set(a!.rule.record().seen);
    const other = [...a!.machine.regions.values()].map((r) => r.address).find((x) => !seen.has(String(x)))!;
    a!.rule.read(other, 8);
    assert.equal(a!.rule.conflicted, false);
  });

  it('counts a load that starts before a region by the bytes it reads inside', async () => {
    const [a] = await fingerprints([cutAfter(30)]);
    const bufs = a!.machine.regions.get('bufs')!.address;
    a!.rule.read(bufs - 4n, 8);
    const touched = a!.rule.record().touched;
    assert.deepEqual(touched, [0n, 1n, 2n, 3n].map((k) => String(bufs + k)));
  });

  describe('which code can leave a store behind', () => {
    const leaves = async (file: string) => {
      const image = await loadProgram(`${ASM}${file}`);
      return mayLeaveScratch(image, readRseqTables(image).sections);
    };
    it('a section that stores before its last instruction (a try-copy, then the commit) can', async () => {
      assert.equal(await leaves('memcpy_buffer_push.s'), true);
      assert.equal(await leaves('slab_stack.s'), true);
    });
    it('a section whose one store is its commit cannot, whatever it loads and compares before it', async () => {
      assert.equal(await leaves('counter_add.s'), false);
      assert.equal(await leaves('cmpeqv_storev.s'), false);
      assert.equal(await leaves('percpu_list.s'), false);
    });
  });

  it('takes the memcpy-buffer search at K = 2 with fewer schedules, and the same report', async () => {
    const { scenario, image } = await bundledScenario('memcpy-buffer.json');
    const on = explore(image, scenario, { preemptions: 2 });
    const without = explore(image, scenario, { preemptions: 2, scratchExcluded: false });
    assert.deepEqual(reported(on), reported(without));
    assert.ok(on.schedules < without.schedules, `${on.schedules} schedules with the rule, ${without.schedules} without`);
    assert.equal(on.scratchRounds, undefined);
  });

  it('finds the free-space reader that sees an aborted copy, in a second round, as the search without the cache does', async () => {
    const { scenario, image } = await peekScenario();
    const off = explore(image, scenario, { ...PEEK_SEARCH, stateCache: false });
    assert.equal(off.verdict, 'fail');
    const on = explore(image, scenario, { ...PEEK_SEARCH, stateCache: true });
    assert.deepEqual(reported(on), reported(off));
    assert.ok((on.scratchRounds ?? 1) >= 2, 'the first round should have found its rule read');
  });

  describe('rounds', () => {
    const share = (stopped: boolean, schedules: string[]): ShareResult => ({
      schedules: schedules.length, stopped, heat: [], violationCount: schedules.length,
      violations: schedules.map((schedule, unit) => ({ kind: 'not-serializable' as const, schedule, message: 'm', unit })),
    });
    it('a last round cut short also reports the violations an earlier round found, once each', () => {
      const parts = withEarlierFindings([share(true, ['a'])], [share(true, ['a', 'b'])]);
      assert.deepEqual(parts.flatMap((p) => p.violations.map((v) => v.schedule)).sort(), ['a', 'b']);
    });
    it('a complete last round reports only its own', () => {
      const parts = withEarlierFindings([share(false, ['a'])], [share(true, ['b'])]);
      assert.deepEqual(parts.flatMap((p) => p.violations.map((v) => v.schedule)), ['a']);
    });
    it('no round follows one whose time ran out', () => {
      const conflicted = { ...share(true, []), scratch: { seen: ['1'], touched: ['1'] } };
      const options: ExploreOptions = { timeout: 5 };
      assert.equal(nextScratchRound(options, [conflicted], 5), null);
      assert.deepEqual(nextScratchRound(options, [conflicted], 2)?.scratchExcluded, ['1']);
    });
  });

  it('runs the second round on worker threads too', async () => {
    const { scenario, image } = await peekScenario();
    const off = explore(image, scenario, { ...PEEK_SEARCH, stateCache: false });
    const on = await exploreParallel(scenario, { ...PEEK_SEARCH, stateCache: true, workers: 2, pilotSeconds: 0, awaitWorkers: true }, image);
    assert.deepEqual(reported(on), reported(off));
    assert.ok((on.scratchRounds ?? 1) >= 2);
  });
});
