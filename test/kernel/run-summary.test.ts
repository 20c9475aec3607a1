// Machine.summary: what a leaf's judge reads of a run, the outcome without registers.
import { strict as assert } from 'node:assert';
import { Machine } from '../../src/kernel/machine.js';
import type { MachineOutcome, RunSummary } from '../../src/kernel/machine.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { address, bundled } from '../support/program.js';

/** Two counter_add threads on CPU 0, run by `schedule` and then by the default policy. */
async function counterRun(schedule: string, budget?: number): Promise<Machine> {
  const image = await bundled('counter_add.s');
  const m = Machine.create(image, { cpus: 2 });
  const counters = m.allocate('counters', 16);
  m.spawn({ entry: address(image, 'counter_add'), args: [counters, 1n], cpu: 0 });
  m.spawn({ entry: address(image, 'counter_add'), args: [counters, 10n], cpu: 0 });
  if (budget !== undefined) m.maxInstructions = budget;
  m.begin();
  for (const item of parseSchedule(schedule)) m.step(item);
  while (m.step(null));
  return m;
}

/** The parts of an outcome a summary has, registers left out. */
const judged = (o: MachineOutcome | RunSummary) => ({
  status: o.status,
  threads: o.threads.map(({ tid, pid, cpu, end, returns, callCpus, callIds, instructions }) => ({ tid, pid, cpu, end, returns: [...returns], callCpus: [...callCpus], callIds: callIds.map((c) => [...c]), instructions })),
  instructions: o.instructions,
  events: o.events,
  warnings: o.warnings,
  schedule: o.schedule,
});

describe('run summaries', () => {
  it('give what result() gives of a run with an abort, but the registers', async () => {
    const a = await counterRun('c0:7 T1:preempt c0:3');
    const b = await counterRun('c0:7 T1:preempt c0:3');
    const summary = a.summary();
    const outcome = b.result();
    a.close();
    b.close();
    assert.ok(outcome.events.some((e) => e.outcome === 'aborted'));
    assert.deepEqual(judged(summary), judged(outcome));
    assert.equal('registers' in summary.threads[0]!, false);
  });

  it('end the live threads of a run out of budget with limit, as result() does', async () => {
    const a = await counterRun('c0:3', 20);
    const b = await counterRun('c0:3', 20);
    const summary = a.summary();
    const outcome = b.result();
    a.close();
    b.close();
    assert.equal(summary.status, 'limit');
    assert.deepEqual(summary.threads.map((t) => t.end?.status), ['returned', 'limit']);
    assert.deepEqual(judged(summary), judged(outcome));
  });
});
