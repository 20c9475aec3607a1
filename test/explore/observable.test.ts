// Observable state: what the oracle compares. A per-CPU stack (TCMalloc's slabs) leaves dead data
// above its top — a popped item, an aborted push's item — that no operation reads; declarations
// and the default rule must let it differ, and still catch the stack's real bugs.
import { strict as assert } from 'node:assert';
import { explore } from '../../src/explore/explorer.js';
import { DeadByteProbe } from '../../src/explore/dead-bytes.js';
import { layoutRanges, type ObserveFn } from '../../src/explore/observable.js';
import { SerialOracle, sharedMemory } from '../../src/explore/oracle.js';
import { findSymbol } from '../../src/asm/image.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { loadProgram } from '../../src/program.js';
import { scenarioFromJson, type Scenario } from '../../src/scenario/scenario.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario, SCENARIOS } from './fixtures.js';

// T1 pushes 100 and T2 pops it on CPU 0; T3's push of 300 try-stores into the freed slot, migrates
// before its commit and pushes on CPU 1: slot 1 of CPU 0 holds 300, serially 100, and is dead.
const LEFTOVER = 'c0:* c0:* c0:11 T3:migrate:1';

async function slab(changes: Record<string, unknown> = {}, file = 'slab_stack.s'): Promise<{ scenario: Scenario; image: Awaited<ReturnType<typeof loadProgram>> }> {
  const { scenario: base } = await bundledScenario('slab-stack.json');
  const json = {
    source: `../../asm/${file}`, cpus: 2, memory: { slabs: { size: 128, init: [1, 10] } },
    threads: [
      { entry: 'slab_push', args: ['slabs', 100], cpu: 0 },
      { entry: 'slab_pop', args: ['slabs'], cpu: 0 },
      { entry: 'slab_push', args: ['slabs', 300], cpu: 0 },
    ],
    observe: base.observe,
    ...changes,
  };
  const scenario = scenarioFromJson(json, SCENARIOS + 'test.json');
  return { scenario, image: await loadProgram(scenario.source) };
}

/** Judges one replayed run with the oracle built for `scenario`. */
async function judgeReplay(scenario: Scenario, image: Awaited<ReturnType<typeof loadProgram>>, schedule: string, observe = {}) {
  const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
  const o = new SerialOracle(image, scenario, m.profile, observe);
  try {
    const out = m.run({ schedule: parseSchedule(schedule) });
    return o.judge(sharedMemory(m), out.threads.map((t) => t.returns), out.threads.map((t) => t.callIds), m.abortedStores());
  } finally {
    m.close();
    o.close();
  }
}

describe('observable state', function () {
  this.timeout(120_000);

  describe('declarations', () => {
    it('a count-plus-items layout makes the count word and the live items observable, per CPU', () => {
      const bytes = new Uint8Array(128);
      bytes[0] = 2; // CPU 0: top 2
      bytes[64] = 1; // CPU 1: top 1
      const ranges = layoutRanges({ count: 0, countSize: 8, items: 8, itemSize: 8, stride: 8, max: 7, perCpu: 64 }, bytes, 2);
      assert.deepEqual(ranges, [[0, 8], [8, 16], [16, 24], [64, 72], [72, 80]]);
    });

    it('a count beyond max makes at most max items observable', () => {
      const bytes = new Uint8Array(64);
      bytes[0] = 200;
      assert.equal(layoutRanges({ count: 0, countSize: 1, items: 8, itemSize: 8, stride: 8, max: 3 }, bytes, 1).length, 1 + 3);
    });

    it('byte ranges repeat per CPU at the given stride', () => {
      assert.deepEqual(layoutRanges({ bytes: [0, 8], perCpu: 32 }, new Uint8Array(64), 2), [[0, 8], [32, 40]]);
    });

    const bad: [string, unknown, RegExp][] = [
      ['an unknown region', { nope: [] }, /observe\.nope: no memory region 'nope'/],
      ['a layout that is not an array', { slabs: {} }, /observe\.slabs: expected an array of layouts/],
      ['an unknown layout key', { slabs: [{ count: 0, items: 8, size: 8 }] }, /observe\.slabs\[0\]\.size: unknown key/],
      ['a count word of 3 bytes', { slabs: [{ count: 0, countSize: 3, items: 8 }] }, /observe\.slabs\[0\]\.countSize: must be 1, 2, 4 or 8/],
      ['a stride smaller than an item', { slabs: [{ count: 0, items: 8, itemSize: 8, stride: 4 }] }, /observe\.slabs\[0\]\.stride: must be 8 to/],
      ['bytes mixed with a count', { slabs: [{ bytes: [0, 8], count: 0 }] }, /observe\.slabs\[0\]\.count: does not go with "bytes"/],
      ['a layout past the region', { slabs: [{ count: 0, items: 8, max: 7, perCpu: 100 }] }, /observe\.slabs\[0\]: reaches byte 164 of a 128-byte region/],
      ['an end before the start', { slabs: [{ bytes: [8, 4] }] }, /observe\.slabs\[0\]\.bytes\[1\]: must be 8 to/],
    ];
    for (const [what, observe, message] of bad) {
      it(`refuses ${what} with the key path`, async () => {
        await assert.rejects(slab({ observe }), message);
      });
    }

    it('refuses, when exploring, a section name the image does not have', async () => {
      const { scenario, image } = await slab({ observe: { '.nodata': [] } });
      assert.throws(() => explore(image, scenario, { maxSchedules: 1 }), /observe\.\.nodata: no memory region or writable section/);
    });
  });

  describe('the slab stack, where an aborted push leaves its item in a slot a pop freed', () => {
    it('compared byte for byte (the whole region declared observable), the dead slot is a difference', async () => {
      const { scenario, image } = await slab({ observe: { slabs: [{ bytes: [0, 128] }] } });
      assert.equal((await judgeReplay(scenario, image, LEFTOVER)).ok, false);
    });

    it('with the count-plus-items declaration, the run is serializable', async () => {
      const { scenario, image } = await slab();
      assert.equal((await judgeReplay(scenario, image, LEFTOVER)).ok, true);
    });

    it('with no declaration, the default rule proves the slot dead and the run is serializable', async () => {
      const { scenario, image } = await slab({ observe: {} });
      assert.equal((await judgeReplay(scenario, image, LEFTOVER)).ok, true);
    });

    it('a TS function can declare the same layout', async () => {
      const { scenario, image } = await slab({ observe: { slabs: [{ bytes: [0, 128] }] } });
      const liveItems: ObserveFn = (bytes) => {
        const out: [number, number][] = [];
        for (const base of [0, 64]) {
          out.push([base, base + 8]);
          for (let i = 0; i < bytes[base]!; i++) out.push([base + 8 + 8 * i, base + 16 + 8 * i]);
        }
        return out;
      };
      assert.equal((await judgeReplay(scenario, image, LEFTOVER, { slabs: liveItems })).ok, true, 'the option overrides the scenario');
    });

    it('slab-stack.json passes its whole K = 2 space with its declaration', async function () {
      this.timeout(300_000);
      const { scenario, image } = await bundledScenario('slab-stack.json');
      const r = explore(image, scenario, { preemptions: 2 });
      assert.equal(r.verdict, 'pass', r.violations.map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
      assert.ok(r.complete && r.schedules > 500, `${r.schedules} schedules`);
    });

    it('and without it, under the default rule', async function () {
      this.timeout(300_000);
      const { scenario, image } = await slab({ observe: {} });
      const r = explore(image, scenario, { preemptions: 2 });
      assert.equal(r.verdict, 'pass', r.violations.map((v) => `${v.kind}: ${v.message} [${v.schedule}]`).join('\n'));
    });

    it('a pop that reads its item after the commit is found by the exhaustive search within 100 schedules', async () => {
      const { scenario, image } = await slab({}, 'slab_stack.bug-pop-after-commit.s');
      const r = explore(image, scenario, { stopAtFirst: true });
      assert.equal(r.verdict, 'fail');
      assert.equal(r.violations[0]!.kind, 'not-serializable');
      assert.ok(r.schedules <= 100, `first violation after ${r.schedules} schedules`);
    });

    it('and by PCT (depth 3, seed 1) within 200 runs', async () => {
      const { scenario, image } = await slab({}, 'slab_stack.bug-pop-after-commit.s');
      const r = explore(image, scenario, { mode: 'pct', runs: 200, seed: 1, stopAtFirst: true });
      assert.equal(r.verdict, 'fail', `no violation in ${r.schedules} runs`);
    });
  });

  describe('the default rule (DeadByteProbe)', () => {
    // Serial state: CPU 0's stack holds 10 (live, slot 0) and a popped 100 (dead, slot 1).
    async function probeWith(entries: string[]) {
      const { scenario, image } = await slab({ observe: {} });
      const m = instantiate(image, { ...scenario, threads: [] });
      const base = m.regions.get('slabs')!.address;
      m.emu.write(base, new Uint8Array(new BigUint64Array([1n, 10n, 100n]).buffer));
      const state = sharedMemory(m);
      m.close();
      const slabs = base;
      const ops = entries.map((e) => ({ entry: findSymbol(image, e)!.address, args: e === 'slab_pop' ? [slabs] : [slabs, 5n] }));
      return { probe: new DeadByteProbe(image, scenario, m.profile, ops), state, slot: (i: number) => base + 8n + 8n * BigInt(i) };
    }

    it('proves a slot above the top dead when every sequence of operations stores it before loading it', async () => {
      const { probe, state, slot } = await probeWith(['slab_push', 'slab_pop']);
      try {
        assert.equal(probe.unobservable(state, [slot(1)]), true);
      } finally {
        probe.close();
      }
    });

    it('does not call a live item dead: a pop loads it', async () => {
      const { probe, state, slot } = await probeWith(['slab_push', 'slab_pop']);
      try {
        assert.equal(probe.unobservable(state, [slot(0)]), false);
      } finally {
        probe.close();
      }
    });

    it('gives no verdict of dead for memory the operations never load (push only)', async () => {
      const { probe, state, slot } = await probeWith(['slab_push']);
      try {
        assert.equal(probe.unobservable(state, [slot(1)]), false);
      } finally {
        probe.close();
      }
    });
  });
});
