// Time slices in the default schedule (kernel/scheduler.ts, Machine.endSlice): the tick preempts a
// thread that has used up its slice when another waits on its CPU, the default policy's turn ends
// with the slice, explicit steps count towards it, and schedules and snapshots keep it exact.
import { strict as assert } from 'node:assert';
import { RseqEmuError } from '../../src/errors.js';
import { Machine } from '../../src/kernel/machine.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { DEFAULT_TIME_SLICE } from '../../src/kernel/scheduler.js';
import { bundled, inline } from '../support/program.js';
import { boot, fingerprint, runClosed, runThreads, type Setup } from '../support/threads.js';

const REGIONS = [{ name: 'locks', size: 16 }, { name: 'counts', size: 16 }];
/** Two spinlock adders on CPU 0; `c0:9 T1:preempt` preempts T1 while it holds CPU 0's lock. */
const spinners = (extra: Partial<Setup> = {}): Setup => ({
  cpus: 2,
  regions: REGIONS,
  threads: [
    { entry: 'spinlock_add', args: ['locks', 'counts', 1n], cpu: 0 },
    { entry: 'spinlock_add', args: ['locks', 'counts', 10n], cpu: 0 },
  ],
  ...extra,
});
const HOLDER_PREEMPTED = 'c0:9 T1:preempt';

/** `loop(rdi = n)`: n iterations of two instructions, touching nothing shared. */
const LOOP = `
  loop: decq %rdi
        jnz loop
        ret
`;

describe('time slices', () => {
  it('preempts a spinning thread at the end of its slice, so the preempted lock holder runs and both finish', async () => {
    const r = runClosed(await bundled('percpu_spinlock.s'), spinners(), { schedule: HOLDER_PREEMPTED });
    assert.equal(r.outcome.status, 'completed');
    assert.deepEqual(r.memory.counts, [11n, 0n]);
    const tick = r.outcome.events.find((e) => e.spec === 'T2:slice');
    assert.ok(tick, 'a slice end for the spinner');
    assert.equal(tick.kind, 'preempt');
    assert.equal(r.outcome.threads[1]!.instructions > DEFAULT_TIME_SLICE, true);
  });

  it('makes the end of a slice an rseq preempt event: a section interrupted there aborts', async () => {
    // With 14 instructions T2's first slice ends on the `jne` after its cpu compare, on its second try.
    const r = runClosed(await bundled('percpu_spinlock.s'), spinners({ timeSlice: 14 }), { schedule: HOLDER_PREEMPTED });
    assert.equal(r.outcome.status, 'completed');
    const tick = r.outcome.events.find((e) => e.spec === 'T2:slice')!;
    assert.equal(tick.outcome, 'aborted');
  });

  it('never lets a section longer than the slice commit while another thread waits on its CPU', async () => {
    // From the retry label to the commit is 8 instructions: a slice of 7 aborts every attempt.
    const r = runClosed(await bundled('percpu_spinlock.s'), spinners({ timeSlice: 7, maxInstructions: 5_000 }));
    assert.equal(r.outcome.status, 'limit');
    // Every tick aborts an attempt (the last one's outcome is left open when the budget runs out).
    const ticks = r.outcome.events.slice(0, -1);
    assert.ok(ticks.length > 100 && ticks.every((e) => e.spec.endsWith(':slice') && e.outcome === 'aborted'));
  });

  it('livelocks without slices: the spinner keeps the CPU its lock holder waits for', async () => {
    const r = runClosed(await bundled('percpu_spinlock.s'), spinners({ timeSlice: 0, maxInstructions: 20_000 }), { schedule: HOLDER_PREEMPTED });
    assert.equal(r.outcome.status, 'limit');
    assert.equal(r.outcome.events.some((e) => e.spec.endsWith(':slice')), false);
  });

  it('lets a thread alone on its CPU run on past its slice, with no event', async () => {
    const r = runClosed(await inline(LOOP), { cpus: 1, timeSlice: 50, threads: [{ entry: 'loop', args: [100n] }] });
    assert.equal(r.outcome.status, 'completed');
    assert.equal(r.outcome.events.length, 0);
    assert.equal(r.outcome.instructions, 201);
  });

  it('ends the default turn of a CPU with its slice, so parallel CPUs alternate slice by slice', async () => {
    const r = runClosed(await inline(LOOP), { cpus: 2, timeSlice: 50, threads: [{ entry: 'loop', args: [60n], cpu: 0 }, { entry: 'loop', args: [60n], cpu: 1 }] });
    assert.equal(r.outcome.schedule, 'c0:50 c1:50 c0:50 c1:50 c0:21 c1:21');
  });

  it('counts explicit steps towards the slice: the tick comes inside the step that reaches it', async () => {
    const r = runClosed(await inline(LOOP), { cpus: 1, timeSlice: 100, threads: [{ entry: 'loop', args: [500n] }, { entry: 'loop', args: [5n] }] }, { schedule: 'c0:60 c0:60' });
    const tick = r.outcome.events[0]!;
    assert.equal(tick.spec, 'T1:slice');
    assert.equal(tick.before, 100);
    assert.match(r.outcome.schedule, /^c0:100 c0:11 /);
  });

  it('replays a run whose slices ended threads exactly from its printed schedule', async () => {
    const image = await bundled('percpu_spinlock.s');
    const first = runThreads(image, spinners({ timeSlice: 37 }), { schedule: HOLDER_PREEMPTED });
    const again = runThreads(image, spinners({ timeSlice: 37 }), { schedule: first.outcome.schedule });
    try {
      assert.ok(first.outcome.events.some((e) => e.spec.endsWith(':slice')));
      assert.deepEqual(fingerprint(again), fingerprint(first));
      assert.equal(again.outcome.schedule, first.outcome.schedule);
    } finally {
      first.machine.close();
      again.machine.close();
    }
  });

  it('captures the slice a thread has used: a restore in mid-spin ends it at the same instruction', async () => {
    const { machine } = boot(await bundled('percpu_spinlock.s'), spinners({ timeSlice: 300 }));
    try {
      machine.begin();
      for (const item of parseSchedule(`${HOLDER_PREEMPTED} c0:120`)) machine.step(item);
      const mid = machine.capture();
      const finish = (m: Machine) => {
        while (m.step(null));
        return m.result().events.find((e) => e.spec === 'T2:slice')!.before;
      };
      const before = finish(machine);
      machine.restore(mid);
      assert.equal(finish(machine), before);
      assert.equal(before, 9 + 300);
    } finally {
      machine.close();
    }
  });

  it('refuses a slice that is not a whole number of instructions', async () => {
    const image = await inline(LOOP);
    assert.throws(() => Machine.create(image, { timeSlice: -1 }), (e: unknown) => e instanceof RseqEmuError && e.code === 'USAGE' && /time slice/.test(e.message));
  });
});
