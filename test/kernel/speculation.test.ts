// Speculative stores (src/kernel/speculation.ts): which stores belong to a critical-section attempt
// that may still abort. counter-two-threads.json's T1 runs counter_add: its commit store is the
// ninth instruction, the post-commit address the tenth.
import { strict as assert } from 'node:assert';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from '../explore/fixtures.js';

describe('speculative stores', () => {
  it('count a store inside the section as the open attempt\'s until the thread leaves the section', async () => {
    const { scenario, image } = await bundledScenario('counter-two-threads.json');
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    try {
      m.begin();
      const t = m.allThreads()[0]!;
      for (const item of parseSchedule('c0:8')) m.step(item);
      assert.equal(t.attemptStores.length, 0, 'nothing stored before the commit');
      m.step(parseSchedule('c0:1')[0]!);
      // The commit store took T1 to its post-commit address: no fix-up can abort the attempt there.
      assert.equal(t.attemptStores.length, 0, 'the attempt is over as soon as its thread stands outside the section');
      assert.equal(t.attempt, 1);
      assert.ok([...m.kernelState().lastStores.values()].every((s) => s.attempt === 0 && s.tid === t.tid && !s.aborted));
    } finally {
      m.close();
    }
  });

  it('marks the open attempt\'s stores aborted when the kernel aborts it', async () => {
    const { scenario, image } = await bundledScenario('buffer.json');
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    try {
      m.begin();
      // buffer_push's 15th instruction try-stores the item; a signal before the commit aborts the attempt.
      for (const item of parseSchedule('c0:15 T1:signal:SIGUSR1 c0:0')) m.step(item);
      assert.ok(m.abortedStores().size > 0);
    } finally {
      m.close();
    }
  });

  it('leaves a snapshot\'s last stores as they were through later stores and aborts, and a rewind brings them back', async () => {
    const { scenario, image } = await bundledScenario('buffer.json');
    const m = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    try {
      m.begin();
      const all = () => [...m.lastStores()].map(([a, s]) => `${a}:${s.tid}:${s.attempt}:${s.aborted}`).sort();
      for (const item of parseSchedule('c0:16')) m.step(item);
      const stored = all();
      assert.ok(stored.length > 0, 'the try-store is recorded');
      const snapshot = m.capture();
      for (const item of parseSchedule('T1:signal:SIGUSR1 c0:0')) m.step(item);
      assert.ok(m.abortedStores().size > 0, 'the abort marks the try-store');
      assert.deepEqual([...snapshot.run.lastStore].map(([a, s]) => `${a}:${s.tid}:${s.attempt}:${s.aborted}`).sort(), stored);
      m.restore(snapshot);
      assert.deepEqual(all(), stored);
      assert.equal(m.abortedStores().size, 0);
    } finally {
      m.close();
    }
  });
});
