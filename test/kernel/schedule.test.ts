// Schedules as strings (kernel/schedule.ts) and the run queues and default policy under them
// (kernel/scheduler.ts): what a schedule may say, and what runs when it says nothing.
import { strict as assert } from 'node:assert';
import { RseqEmuError } from '../../src/errors.js';
import { formatSchedule, parseSchedule } from '../../src/kernel/schedule.js';
import { DefaultPolicy, RunQueues } from '../../src/kernel/scheduler.js';
import type { Thread } from '../../src/kernel/thread.js';
import { bundled } from '../support/program.js';
import { boot, twoAdders } from '../support/threads.js';

const COUNTERS = { name: 'counters', size: 16 };
const usageError = (pattern: RegExp) => (e: unknown) => e instanceof RseqEmuError && e.code === 'USAGE' && pattern.test(e.message);

/** Just what the queues and the policy look at. */
const thread = (tid: number, cpu: number) => ({ tid, cpu }) as Thread;

describe('schedule strings', () => {
  it('formats what it parses, item for item', () => {
    const text = 'c0:4 c1:* T2:preempt T1:migrate:3 T3:signal:SIGUSR2 T1:ipi c0:0';
    assert.equal(formatSchedule(parseSchedule(text)), text);
  });

  it('parses what it formats, including signals given by number and the default signal', () => {
    const s = parseSchedule('T1:signal T1:signal:12, c2:17');
    assert.deepEqual(s, [
      { kind: 'event', tid: 1, event: { kind: 'signal', signal: 10 } },
      { kind: 'event', tid: 1, event: { kind: 'signal', signal: 12 } },
      { kind: 'run', cpu: 2, count: 17 },
    ]);
    assert.deepEqual(parseSchedule(formatSchedule(s)), s);
  });

  it('rejects bad syntax with one usage error naming the item', () => {
    for (const [text, item] of [['c0:4 c0:x', "2 'c0:x'"], ['T1:jump', "1 'T1:jump'"], ['T1:signal:SIGNOPE', "1 'T1:signal:SIGNOPE'"], ['0:4', "1 '0:4'"]] as const) {
      assert.throws(() => parseSchedule(text), usageError(new RegExp(`item ${item.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)), text);
    }
  });

});

describe('schedule items a run refuses', () => {
  it('rejects an event for a thread that has ended', async () => {
    const { machine } = boot(await bundled('counter_add.s'), twoAdders([0, 1]));
    try {
      assert.throws(() => machine.run({ schedule: parseSchedule('c0:* T1:signal') }), usageError(/thread T1 has ended/));
    } finally {
      machine.close();
    }
  });

  it('rejects an event for a thread that does not exist', async () => {
    const { machine } = boot(await bundled('counter_add.s'), twoAdders([0, 1]));
    try {
      assert.throws(() => machine.run({ schedule: parseSchedule('c0:1 T9:preempt') }), usageError(/T9:preempt'?: thread T9 does not exist/));
    } finally {
      machine.close();
    }
  });

  it('rejects a step on a CPU without a thread, and on a CPU that does not exist', async () => {
    const image = await bundled('counter_add.s');
    for (const [schedule, why] of [['c1:3', /CPU 1 has no thread to run/], ['c7:1', /CPU 7 has no thread to run/]] as const) {
      const { machine } = boot(image, { regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 1n], cpu: 0 }] });
      try {
        assert.throws(() => machine.run({ schedule: parseSchedule(schedule) }), usageError(why));
      } finally {
        machine.close();
      }
    }
  });

  it('rejects a migration to a CPU that does not exist', async () => {
    const { machine } = boot(await bundled('counter_add.s'), twoAdders([0, 1]));
    try {
      assert.throws(() => machine.run({ schedule: parseSchedule('T1:migrate:2') }), usageError(/CPU 2 does not exist/));
    } finally {
      machine.close();
    }
  });
});

describe('run queues', () => {
  it('runs the first thread queued on a CPU and keeps the others waiting in order', () => {
    const q = new RunQueues(2);
    const [a, b] = [thread(1, 0), thread(2, 0)];
    q.enqueue(a);
    q.enqueue(b);
    assert.equal(q.head(0), a);
    assert.equal(q.head(1), undefined);
    assert.deepEqual(q.save(), [[1, 2], []]);
  });

  it('moves a rotated thread to the back, reporting whether another thread now runs', () => {
    const q = new RunQueues(1);
    const [a, b] = [thread(1, 0), thread(2, 0)];
    q.enqueue(a);
    assert.equal(q.rotate(a), false, 'alone: it keeps the CPU');
    q.enqueue(b);
    assert.equal(q.rotate(a), true);
    assert.equal(q.head(0), b);
  });

  it('finds the next CPU with a thread round-robin, the starting CPU last', () => {
    const q = new RunQueues(4);
    q.enqueue(thread(1, 1));
    q.enqueue(thread(2, 3));
    assert.equal(q.nextBusyCpu(1), 3);
    assert.equal(q.nextBusyCpu(3), 1);
    q.remove(q.head(3)!);
    assert.equal(q.nextBusyCpu(1), 1);
    q.remove(q.head(1)!);
    assert.equal(q.nextBusyCpu(0), null);
  });
});

describe('the default policy', () => {
  const setup = () => {
    const q = new RunQueues(3);
    const t = [thread(1, 0), thread(2, 2), thread(3, 0)];
    t.forEach((x) => q.enqueue(x));
    return { q, t, p: new DefaultPolicy() };
  };

  it('starts with CPU 0', () => {
    const { q, p } = setup();
    assert.equal(p.next(q), 0);
  });

  it('stays on a CPU while the thread it found there still runs there', () => {
    const { q, p } = setup();
    p.next(q);
    assert.equal(p.next(q), 0);
  });

  it('passes the turn to the next busy CPU once that thread has left, skipping idle CPUs', () => {
    const { q, t, p } = setup();
    p.next(q);
    q.remove(t[0]!);
    assert.equal(p.next(q), 2);
    q.remove(t[1]!);
    assert.equal(p.next(q), 0, 'round the end, back to CPU 0 and its next thread');
    assert.equal(q.head(0), t[2]);
  });

  it('passes the turn on when told the thread left, even if it still heads its queue', () => {
    const { q, p } = setup();
    p.next(q);
    p.left();
    assert.equal(p.next(q), 2);
  });

  it('resumes from the CPU an explicit step visited', () => {
    const { q, t, p } = setup();
    p.visited(2, t[1]!);
    assert.equal(p.next(q), 2);
  });

  it('answers null when no thread can run', () => {
    assert.equal(new DefaultPolicy().next(new RunQueues(2)), null);
  });
});
