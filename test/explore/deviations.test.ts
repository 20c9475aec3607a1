// Which deviations the exhaustive search offers before a thread's next instruction: the reductions
// of deviations.ts, each shown on list.json (T1 and T3 share CPU 0, T2 is alone on CPU 1).
import { strict as assert } from 'node:assert';
import { ALL_DEVIATIONS, deviationsAt, sharedAccessPoints, splitPoints, type Deviation, type DeviationSpace } from '../../src/explore/deviations.js';
import type { Machine } from '../../src/kernel/machine.js';
import { formatItem, parseSchedule, type ScheduleItem } from '../../src/kernel/schedule.js';
import { instantiate } from '../../src/scenario/setup.js';
import { bundledScenario } from './fixtures.js';

describe('deviations offered', () => {
  let machine: Machine;
  let space: DeviationSpace;
  beforeEach(async () => {
    const { scenario, image } = await bundledScenario('list.json');
    machine = instantiate(image, scenario, undefined, { trackSpeculativeStores: true });
    space = { kinds: ALL_DEVIATIONS, switchPoints: sharedAccessPoints(image), splitPoints: splitPoints(image), flagsMatter: false };
    machine.begin();
  });
  afterEach(() => machine.close());

  const offered = (schedule: string, cpu = 0, tid = 1): string[] => {
    for (const item of parseSchedule(schedule)) machine.step(item);
    const show = (d: Deviation) => [d].flat().map((i: ScheduleItem) => formatItem(i)).join('+');
    return deviationsAt(machine, cpu, tid, space).map(show);
  };

  it('offers no signal to a thread whose rseq_cs is 0 and that has no handler: it would change nothing', () => {
    assert.deepEqual(offered(''), ['T1:preempt', 'T1:migrate:1', 'c1:0']);
  });

  it('offers a signal once rseq_cs names a descriptor (the fix-up would clear it, or abort)', () => {
    assert.ok(offered('c0:6').includes('T1:signal:SIGUSR1'));
  });

  it('offers a signal to a thread that blocks it: it is delivered where the thread unblocks it', () => {
    machine.allThreads()[0]!.sigmask |= 1n << 9n;
    assert.ok(offered('').includes('T1:signal:SIGUSR1'));
  });

  it('offers no preempt, migrate or second signal to a thread whose injected signal waits for delivery: each equals an event offered without it', () => {
    assert.ok(offered('c0:6').includes('T1:preempt'));
    assert.deepEqual(offered('c0:6 T1:signal:SIGUSR1').filter((d) => d.startsWith('T1:')), []);
  });

  it('offers nothing inside the stand-in handler once the delivery cleared rseq_cs: an event there equals the same event where it returns to', () => {
    assert.deepEqual(offered('c0:6 T1:signal:SIGUSR1 c0:1'), []);
    assert.ok(offered('c0:2').length > 0);
  });

  it('offers a switch before a shared access, such as the commit store', () => {
    assert.ok(offered('c0:10').includes('c1:0'));
  });

  it('offers a switch by the instruction a thread about to abort runs next, the abort handler\'s jump', () => {
    // Preempted before its commit store, T1 resumes at .Llist_push_abort's jmp (T3 ran meanwhile).
    const items = offered('c0:10 T1:preempt c0:*');
    assert.ok(machine.allThreads()[0]!.notifyResume && machine.runnableCpus().includes(1));
    assert.ok(!items.includes('c1:0'), items.join(' '));
  });
});
