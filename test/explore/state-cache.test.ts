// The state cache (issue 14): skipping states already explored must never change what a search
// reports — same verdict, same set of violation kinds and messages — for every bundled scenario
// and every broken twin; the fingerprint tells apart states that differ in anything the future or
// the judge reads; and the cache's own rules (deviations left, budget, capacity).
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Image } from '../../src/asm/image.js';
import { readRseqTables } from '../../src/abi/tables.js';
import { explore, type ExploreOptions, type ExploreResult } from '../../src/explore/explorer.js';
import { exploreParallel } from '../../src/explore/explore-workers.js';
import { StateCache } from '../../src/explore/state-cache.js';
import { stateKey } from '../../src/explore/state-hash.js';
import type { Machine } from '../../src/kernel/machine.js';
import { loadProgram } from '../../src/program.js';
import { loadScenario, type Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario, counterScenario, SCENARIOS } from './fixtures.js';

const ASM = fileURLToPath(new URL('../../asm/', import.meta.url));
const base = (file: string) => file.replace(/^.*\//, '').replace(/\..*$/, '');

/** What a search reports, schedule strings aside (a skipped subtree's violation is found on another route). */
function reported(r: ExploreResult): { verdict: string; complete: boolean; found: string[] } {
  return { verdict: r.verdict, complete: r.complete, found: [...new Set(r.violations.map((v) => `${v.kind}: ${v.message}`))].sort() };
}

function bothWays(scenario: Scenario, image: Image, options: ExploreOptions): { on: ExploreResult; off: ExploreResult } {
  const all = { keepViolations: 1_000_000, ...options };
  return { on: explore(image, scenario, { ...all, stateCache: true }), off: explore(image, scenario, { ...all, stateCache: false }) };
}

describe('state cache', function () {
  this.timeout(900_000);

  describe('reports what the search without it reports', () => {
    // K = 2 where that space is small enough for a test; K = 1 for the scenarios whose K = 2 space
    // runs to 10^5 schedules (memcpy-buffer, spinlock) or whose op runs long (cpu_opv).
    const bounds: Record<string, number> = { 'memcpy-buffer.json': 1, 'spinlock.json': 1, 'cmpeqv-cpu-opv.json': 1, 'counter-cpu-opv.json': 1, 'buffer.json': 1 };
    const scenarios = readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort();
    for (const name of scenarios) {
      const K = bounds[name] ?? 2;
      it(`${name} at K = ${K}: same verdict and violations, no more schedules`, async () => {
        const { scenario, image } = await bundledScenario(name);
        const { on, off } = bothWays(scenario, image, { preemptions: K });
        assert.deepEqual(reported(on), reported(off));
        assert.ok(on.schedules <= off.schedules, `${on.schedules} schedules with the cache, ${off.schedules} without`);
        assert.equal(off.stateCache, undefined);
      });
    }
    // Each broken twin runs in the bundled scenario of its correct op (counter_add's in the
    // three-thread scenario explore.test.ts uses for them).
    const homes: Record<string, string | null> = { counter_add: null, counter_addv: 'counter-addv.json', mm_cid_counter: 'mm-cid-counter.json', slab_stack: 'slab-stack.json' };
    const twins = readdirSync(ASM).filter((f) => /\.bug-[a-z0-9-]+\.s$/.test(f)).sort();
    for (const twin of twins) {
      it(`${twin} at K = 2: same verdict and violations`, async () => {
        const home = homes[base(twin)];
        assert.ok(home !== undefined, `no scenario for ${twin}: add its op to this table`);
        let scenario: Scenario;
        let image: Image;
        if (home === null) ({ scenario, image } = await counterScenario(twin));
        else {
          scenario = { ...(await loadScenario(SCENARIOS + home)), source: ASM + twin };
          image = await loadProgram(scenario.source);
        }
        const { on, off } = bothWays(scenario, image, { preemptions: 2 });
        assert.equal(off.verdict, 'fail', `${twin} is not found without the cache`);
        assert.deepEqual(reported(on), reported(off));
      });
    }
  });

  it('finds every twin of counter_add first within the schedule budgets explore.test.ts holds', async () => {
    const budgets: [string, number][] = [
      ['counter_add.bug-wrong-signature.s', 50], ['counter_add.bug-no-signature.s', 50], ['counter_add.bug-abort-inside.s', 50], ['counter_add.bug-version-1.s', 50],
      ['counter_add.bug-commit-outside.s', 200], ['counter_add.bug-late-rseq-cs.s', 200], ['counter_add.bug-no-cpu-compare.s', 1500],
    ];
    for (const [file, within] of budgets) {
      const { scenario, image } = await counterScenario(file);
      const r = explore(image, scenario, { stopAtFirst: true, stateCache: true });
      assert.equal(r.verdict, 'fail', file);
      assert.ok(r.schedules <= within, `${file}: first violation after ${r.schedules} schedules`);
    }
  });

  describe('the fingerprint', () => {
    let machine: Machine;
    let key: () => string;
    beforeEach(async () => {
      const { scenario, image } = await bundledScenario('counter.json');
      machine = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
      const tables = readRseqTables(image);
      key = () => stateKey(machine, tables);
      machine.begin();
    });
    afterEach(() => machine.close());

    it('is the same for a state restored from its snapshot after running on', () => {
      machine.step({ kind: 'run', cpu: 0, count: 5 });
      const here = machine.capture();
      const before = key();
      machine.step({ kind: 'run', cpu: 1, count: 3 });
      assert.notEqual(key(), before);
      machine.restore(here);
      assert.equal(key(), before);
    });

    it('changes with one byte of shared memory', () => {
      const before = key();
      const r = machine.regions.get('counters')!;
      machine.emu.write(r.address + 3n, Uint8Array.of(1));
      assert.notEqual(key(), before);
    });

    it('changes with one byte of a stack, below the stack pointer too', () => {
      const before = key();
      const t = machine.allThreads()[0]!;
      machine.emu.write(machine.registersOf(t).rsp - 512n, Uint8Array.of(0x5a));
      assert.notEqual(key(), before);
    });

    it('changes with one register of a thread that is not running', () => {
      machine.step({ kind: 'run', cpu: 0, count: 2 });
      const before = key();
      const here = machine.capture();
      machine.step({ kind: 'event', tid: machine.allThreads()[2]!.tid, event: { kind: 'migrate', cpu: 0 } });
      machine.restore(here);
      assert.equal(key(), before);
      const t = machine.allThreads()[1]!;
      const emu = t.process.emu;
      const live = machine.registersOf(t); // loads t's registers into the emulator
      emu.setReg('r15', live.r15 + 1n);
      assert.notEqual(key(), before);
    });

    it('changes with the part of its time slice a thread has used', () => {
      const t = machine.allThreads()[0]!;
      const before = key();
      t.sliceUsed += 1;
      assert.notEqual(key(), before);
    });

    it('changes with what a call returned and which ids it observed, which the judge reads', () => {
      const t = machine.allThreads()[0]!;
      const before = key();
      t.program!.returns.push(0n);
      const withReturn = key();
      assert.notEqual(withReturn, before);
      t.program!.idsThisCall.push({ cpu: 1, node: 0, mmCid: 1 });
      assert.notEqual(key(), withReturn);
    });

    it('ignores instruction counts, which the cache compares with the budget instead', () => {
      const t = machine.allThreads()[0]!;
      const before = key();
      t.executed += 7;
      assert.equal(key(), before);
    });
  });

  describe('the cache', () => {
    const none = () => 'unused';
    it('covers a state explored with as many or more deviations left, not with fewer', () => {
      const c = new StateCache(10, none);
      c.add('s', 1, 40);
      assert.equal(c.covering('s', 1), 40);
      assert.equal(c.covering('s', 0), 40);
      assert.equal(c.covering('s', 2), null);
      c.add('s', 2, 55);
      assert.equal(c.covering('s', 2), 55);
      c.add('s', 1, 10); // a smaller budget never replaces a larger one
      assert.equal(c.covering('s', 2), 55);
    });

    it('stops remembering at its capacity and says so', () => {
      const c = new StateCache(2, none);
      c.add('a', 1, 1);
      c.add('b', 1, 1);
      c.add('c', 1, 1);
      assert.equal(c.covering('c', 1), null);
      assert.deepEqual(c.stats(), { hits: 0, entries: 2, full: true });
    });

    it('a search capped at one entry still reports the same as one without a cache', async () => {
      const { scenario, image } = await counterScenario('counter_add.bug-commit-outside.s');
      const { on, off } = bothWays(scenario, image, { preemptions: 2, stateCacheEntries: 1 });
      assert.deepEqual(reported(on), reported(off));
      assert.equal(on.stateCache?.full, true);
    });
  });

  it('is not used with invariant functions, which may read any part of the machine', async () => {
    const { scenario, image } = await bundledScenario('counter.json');
    const r = explore(image, scenario, { preemptions: 1, checks: [() => null] });
    assert.equal(r.stateCache, undefined);
  });
});

describe('state cache on worker threads', function () {
  this.timeout(300_000);
  it('two workers, each with its own cache, report the verdict and violations one thread reports', async () => {
    const { scenario, image } = await counterScenario('counter_add.bug-late-rseq-cs.s');
    const one = explore(image, scenario, { keepViolations: 1_000_000 });
    const two = await exploreParallel(scenario, { workers: 2, pilotSeconds: 0, keepViolations: 1_000_000 });
    assert.equal(two.workers, 2);
    assert.deepEqual(reported(two), reported(one));
    assert.equal(typeof two.stateCache?.hits, 'number');
  });
});
