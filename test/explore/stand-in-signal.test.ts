// A signal injected into a program with no handler of its own runs the emulator's stand-in handler
// (`ret`, then rt_sigreturn). Its instructions stand for no user code, so they use none of the
// thread's time slice, and the search offers no event where one equals another it offers
// (deviations.ts): an event inside the stand-in handler equals the same event where the handler
// returns to; a preempt or migrate while the signal waits to be delivered equals the same event
// without it; a second signal while the first waits is not queued. Each equivalence is checked here
// on real runs: the two schedules must run the same instructions of the program, thread by
// thread and in the same order, and end with the same memory and return values.
import { strict as assert } from 'node:assert';
import { inTrampoline } from '../../src/kernel/address-space.js';
import type { Machine } from '../../src/kernel/machine.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { instantiate } from '../../src/scenario/setup.js';
import type { Scenario } from '../../src/scenario/scenario.js';
import type { Image } from '../../src/asm/image.js';
import { bundledScenario } from './fixtures.js';

interface Run {
  /** The program's instructions as `Ttid@address`, the stand-in handler's left out. */
  steps: string[];
  memory: string;
  returns: string;
}

function runOf(image: Image, scenario: Scenario, schedule: string): Run {
  const machine: Machine = instantiate(image, scenario);
  try {
    const out = machine.run({ schedule: parseSchedule(schedule), trace: true });
    const steps = out.trace.filter((s) => !inTrampoline(s.address)).map((s) => `T${s.tid}@${s.address.toString(16)}`);
    const memory = [...machine.regions].map(([name, r]) => `${name}:${Buffer.from(machine.emu.read(r.address, r.size)).toString('hex')}`).join(' ');
    return { steps, memory, returns: JSON.stringify(out.threads.map((t) => t.returns.map(String))) };
  } finally {
    machine.close();
  }
}

function assertSameRun(image: Image, scenario: Scenario, dropped: string, kept: string): void {
  const a = runOf(image, scenario, dropped);
  const b = runOf(image, scenario, kept);
  assert.equal(a.memory, b.memory, `${dropped} | ${kept}`);
  assert.equal(a.returns, b.returns, `${dropped} | ${kept}`);
  assert.deepEqual(a.steps, b.steps, `'${dropped}' and '${kept}' run different instructions`);
}

/**
 * Prefixes after which thread `tid` is about to run on `cpu` with rseq_cs set (where the search
 * offers it a signal): the spinner of spinlock.json across its loop, inside its section and out,
 * with the lock's holder preempted or moved away, and list.json's first push from its start to its
 * commit.
 */
async function points(): Promise<{ image: Image; scenario: Scenario; prefix: string; tid: number; other: number }[]> {
  const out = [];
  for (const [file, lead, tid, other, range] of [
    ['spinlock.json', 'c0:9 T1:preempt c1:15 ', 2, 1, [1, 30]],
    // The holder moved to CPU 1: the spinner is alone on CPU 0, so a preempt there leaves it
    // spinning, and where its tick comes decides when the holder runs.
    ['spinlock.json', 'c0:9 T1:migrate:1 ', 2, 1, [1, 20]],
    ['list.json', '', 1, 1, [1, 14]],
  ] as const) {
    const { scenario, image } = await bundledScenario(file);
    for (let n = range[0]; n <= range[1]; n++) {
      const prefix = `${lead}c0:${n}`;
      const machine = instantiate(image, scenario);
      machine.begin();
      for (const item of parseSchedule(prefix)) machine.step(item);
      const t = machine.thread(tid)!;
      const armed = machine.runningOn(0) === t && machine.rseqCsPointer(t) !== 0n;
      machine.close();
      if (armed) out.push({ image, scenario, prefix, tid, other });
    }
  }
  return out;
}

describe('the stand-in signal handler', () => {
  let cases: Awaited<ReturnType<typeof points>>;
  before(async () => {
    cases = await points();
    assert.ok(cases.length >= 20, `only ${cases.length} points`);
  });

  it('uses none of the time slice: a spinner signalled mid-spin still runs a whole slice of its own instructions before its tick', async () => {
    const { scenario, image } = await bundledScenario('spinlock.json');
    const machine = instantiate(image, scenario);
    try {
      const out = machine.run({ schedule: parseSchedule('c0:9 T1:preempt c1:15 c0:50 T2:signal:SIGUSR1'), trace: true });
      const tick = out.events.find((e) => e.spec === 'T2:slice')!;
      assert.ok(tick, 'the spinner never reached its tick');
      const own = out.trace.filter((s) => s.tid === 2 && s.index <= tick.before && !inTrampoline(s.address)).length;
      assert.ok(out.trace.some((s) => s.tid === 2 && inTrampoline(s.address)), 'the stand-in handler did not run');
      assert.equal(own, machine.timeSlice);
    } finally {
      machine.close();
    }
  });

  it('an event inside the handler runs as the same event where the handler returns to', () => {
    for (const { image, scenario, prefix, tid, other } of cases) {
      for (const e of [`T${tid}:preempt`, `T${tid}:migrate:${other}`, `T${tid}:signal:SIGUSR1`]) {
        // One instruction into the handler (after its `ret`), and right after rt_sigreturn.
        assertSameRun(image, scenario, `${prefix} T${tid}:signal:SIGUSR1 c0:1 ${e}`, `${prefix} T${tid}:signal:SIGUSR1 c0:3 ${e}`);
        assertSameRun(image, scenario, `${prefix} T${tid}:signal:SIGUSR1 c0:2 ${e}`, `${prefix} T${tid}:signal:SIGUSR1 c0:3 ${e}`);
      }
    }
  });

  it('a preempt or migrate while the signal waits to be delivered runs as the same event without the signal', () => {
    for (const { image, scenario, prefix, tid, other } of cases) {
      for (const e of [`T${tid}:preempt`, `T${tid}:migrate:${other}`]) assertSameRun(image, scenario, `${prefix} T${tid}:signal:SIGUSR1 ${e}`, `${prefix} ${e}`);
    }
  });

  it('a second signal while the first waits to be delivered changes nothing', () => {
    for (const { image, scenario, prefix, tid } of cases) {
      assertSameRun(image, scenario, `${prefix} T${tid}:signal:SIGUSR1 T${tid}:signal:SIGUSR1`, `${prefix} T${tid}:signal:SIGUSR1`);
    }
  });
});
