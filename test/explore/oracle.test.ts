// The serial-order oracle on its own.
import { strict as assert } from 'node:assert';
import { onCpus, SerialOracle, sharedMemory } from '../../src/explore/oracle.js';
import { DEFAULT_PROFILE } from '../../src/kernel/profile.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario, counterScenario } from './fixtures.js';

const CPU0 = onCpus([[1n], [1n], [2n]]); // T1 and T2 ran on CPU 0 only, T3 on CPU 1 only

describe('the serial-order oracle', () => {
  it('finds one final state for counter adds on fixed CPUs, reached by every order', async () => {
    const { scenario, image } = await counterScenario('counter_add.s');
    const o = new SerialOracle(image, scenario, DEFAULT_PROFILE);
    try {
      const outs = o.outcomes(CPU0);
      assert.equal(outs.length, 1);
      assert.deepEqual(new BigUint64Array(outs[0]!.memory[0]!.bytes.slice().buffer).join(','), '11,100');
    } finally {
      o.close();
    }
  });

  it('offers a serial outcome for each CPU an operation ran on', async () => {
    const { scenario, image } = await counterScenario('counter_add.s');
    const o = new SerialOracle(image, scenario, DEFAULT_PROFILE);
    try {
      assert.equal(o.outcomes(onCpus([[3n], [1n], [2n]])).length, 2); // T1 may have finished on CPU 0 or CPU 1
    } finally {
      o.close();
    }
  });

  it('accepts a concurrent result equal to a serial one and rejects a lost update, naming the closest order', async () => {
    const { scenario, image } = await counterScenario('counter_add.s');
    const o = new SerialOracle(image, scenario, DEFAULT_PROFILE);
    try {
      const good = o.outcomes(CPU0)[0]!;
      assert.equal(o.judge(good.memory, good.returns, CPU0).ok, true);
      const lost = good.memory.map((m) => ({ ...m, bytes: m.bytes.slice() }));
      lost[0]!.bytes[0] = 1; // counters[0] = 1: the +10 was lost
      const v = o.judge(lost, good.returns, CPU0);
      assert.equal(v.ok, false);
      assert.ok(v.closest);
    } finally {
      o.close();
    }
  });

  it('rejects a wrong return value even when memory matches', async () => {
    const { scenario, image } = await counterScenario('counter_add.s');
    const o = new SerialOracle(image, scenario, DEFAULT_PROFILE);
    try {
      const good = o.outcomes(CPU0)[0]!;
      assert.equal(o.judge(good.memory, [[1n], [0n], [1n]], CPU0).ok, false);
    } finally {
      o.close();
    }
  });

  describe('leftover try-stores', () => {
    // T3 try-stores into CPU 1's buffer, migrates before its commit, aborts and commits on CPU 0.
    const SCHEDULE = 'T1:preempt c1:15 T3:migrate:0';

    it('excuses a try-store of an aborted attempt at a place the serial order leaves untouched', async () => {
      const { scenario, image } = await bundledScenario('buffer.json');
      const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
      const o = new SerialOracle(image, scenario, m.profile);
      try {
        const out = m.run({ schedule: parseSchedule(SCHEDULE) });
        const excused = m.abortedStores();
        assert.ok(excused.size > 0, 'the aborted attempt left bytes behind');
        const mem = sharedMemory(m);
        const masks = out.threads.map((t) => t.callIds);
        assert.equal(o.judge(mem, out.threads.map((t) => t.returns), masks, new Set()).ok, false, 'byte-exact comparison rejects it');
        assert.equal(o.judge(mem, out.threads.map((t) => t.returns), masks, excused).ok, true);
      } finally {
        m.close();
        o.close();
      }
    });

    it('does not excuse an aborted store to a place the operations really change', async () => {
      const { scenario, image } = await counterScenario('counter_add.s');
      const o = new SerialOracle(image, scenario, DEFAULT_PROFILE);
      try {
        const good = o.outcomes(CPU0)[0]!;
        const wrong = good.memory.map((m) => ({ ...m, bytes: m.bytes.slice() }));
        wrong[0]!.bytes[0] = 99;
        const addr = wrong[0]!.address;
        assert.equal(o.judge(wrong, good.returns, CPU0, new Set([addr])).ok, false);
      } finally {
        o.close();
      }
    });
  });
});
