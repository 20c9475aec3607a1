// Skipped rounds (spin-skip.ts): a loop that changes nothing is not emulated round after round, and
// the run is the same as one that emulates every round — schedule, counts, registers, memory.
import { strict as assert } from 'node:assert';
import type { Image } from '../../src/asm/image.js';
import { Machine, type MachineOptions } from '../../src/kernel/machine.js';
import { parseSchedule } from '../../src/kernel/schedule.js';
import { address, inline, words } from '../support/program.js';

// `wait(flag)` spins until *flag is non-zero; `release(flag)` sets it. The other loops differ from
// the spin-wait in one thing each.
const SOURCE = `
  .text
  .globl wait, release, count_up, store_spin, stack_spin
wait:
1: cmpq $0, (%rdi)
  jne 2f
  pause
  jmp 1b
2: ret
release:
  movq $1, (%rdi)
  ret
count_up:
  xorl %eax, %eax
1: incq %rax
  cmpq $0, (%rdi)
  je 1b
  ret
store_spin:
1: movq $0, 8(%rdi)
  cmpq $0, (%rdi)
  je 1b
  ret
stack_spin:
1: pushq %rdi
  popq %rdi
  cmpq $0, (%rdi)
  je 1b
  ret
`;

let image: Image;
before(async () => {
  image = await inline(SOURCE, 'spin.s');
});

/** Runs `waiter(flag)` and then `release(flag)` on one CPU to the end: the outcome, the flag words and how much was skipped. */
function run(waiter: string, options: MachineOptions = {}, schedule = '') {
  const m = Machine.create(image, { cpus: 1, ...options });
  try {
    const flag = m.allocate('flag', 16);
    m.spawn({ entry: address(image, waiter), args: [flag], cpu: 0 });
    m.spawn({ entry: address(image, 'release'), args: [flag], cpu: 0 });
    m.begin();
    // Rounds are compared with memory as of the last copy: a search always has one.
    m.capture();
    for (const item of parseSchedule(schedule)) m.step(item);
    while (m.step(null));
    const outcome = m.result();
    return { outcome, flag: words(m.emu.read(flag, 16)), skipped: m.skipped };
  } finally {
    m.close();
  }
}

/** The run with rounds skipped and without: both, after checking they are the same run. */
function both(waiter: string, options: MachineOptions = {}, schedule = '') {
  const on = run(waiter, options, schedule);
  const off = run(waiter, { ...options, skipRounds: false }, schedule);
  assert.equal(off.skipped, 0);
  assert.equal(on.outcome.schedule, off.outcome.schedule);
  assert.equal(on.outcome.status, off.outcome.status);
  assert.equal(on.outcome.instructions, off.outcome.instructions);
  assert.deepEqual(on.outcome.threads, off.outcome.threads);
  assert.deepEqual(on.outcome.events, off.outcome.events);
  assert.deepEqual(on.flag, off.flag);
  return on;
}

describe('skipped rounds of a loop that changes nothing', () => {
  it('a spin-wait to its tick runs as when every round is emulated, most of its rounds skipped', () => {
    const r = both('wait');
    assert.equal(r.outcome.status, 'completed');
    // The slice is 1,000 instructions: the waiter spins nearly all of it before the releaser runs.
    assert.ok(r.skipped > 800, `skipped ${r.skipped}`);
  });

  it('a loop that counts in a register is emulated round by round', () => {
    const r = both('count_up');
    assert.equal(r.skipped, 0);
  });

  it('a loop that stores to shared memory is emulated round by round, even when it stores the same value', () => {
    const r = both('store_spin');
    assert.equal(r.skipped, 0);
  });

  it('a loop that writes its own stack with the bytes it held is skipped', () => {
    const r = both('stack_spin');
    assert.ok(r.skipped > 800, `skipped ${r.skipped}`);
  });

  it('with slices off, a spin that nothing ends exhausts the budget at the same instruction', () => {
    const r = both('wait', { timeSlice: 0, maxInstructions: 200_000 });
    assert.equal(r.outcome.status, 'limit');
    assert.ok(r.skipped > 190_000, `skipped ${r.skipped}`);
  });

  it('a step count that ends inside the spin stops at the same instruction', () => {
    const r = both('wait', {}, 'c0:777 T1:preempt');
    assert.ok(r.skipped > 500, `skipped ${r.skipped}`);
  });
});
