// A failed rseq fix-up in a program with its own SIGSEGV handler (spec section 3): the kernel's
// SIGSEGV goes to the handler, delivering it re-runs the fix-up (rseq_signal_deliver), which fails
// again, and force_sigsegv for SIGSEGV itself kills the process. The handler (exit_group(42))
// never runs and the section never commits. The real kernel does the same (test/fidelity).
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { findSymbol, loadProgram, Machine, parseEvent, type Image, type RunOutcome } from '../../src/index.js';
import { TRAMPOLINE, TRAMPOLINE_CODE } from '../../src/kernel/address-space.js';

const SOURCE = fileURLToPath(new URL('../fidelity/edge/segv-handler.s', import.meta.url));

async function run(event: string): Promise<{ outcome: RunOutcome; counters: Uint8Array; image: Image }> {
  const image = await loadProgram(SOURCE);
  const m = Machine.create(image, { cpus: 2 });
  try {
    const counters = m.allocate('counters', 16, new Uint8Array([100, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0]));
    const entry = findSymbol(image, 'counter_add')!.address;
    const outcome = m.call(entry, [counters, 5n], { cpu: 0, events: [parseEvent(event, image, 2)] });
    return { outcome, counters: m.emu.read(counters, 16), image };
  } finally {
    m.close();
  }
}

describe('a failed fix-up when the program has a SIGSEGV handler', () => {
  for (const event of ['preempt@.Lstart', 'migrate:1@.Lstart', 'preempt@.Lpost_commit', 'signal:SIGUSR1@.Lstart']) {
    it(`kills the process with SIGSEGV and never runs the handler (${event})`, async () => {
      const { outcome, counters } = await run(event);
      assert.equal(outcome.events[0]?.outcome, 'sigsegv');
      assert.equal(outcome.status, 'signal', `ended ${outcome.status} ${outcome.exitCode ?? ''} ${outcome.warnings.join('; ')}`);
      assert.equal(outcome.signal, 'SIGSEGV');
      assert.equal(counters[0], event.includes('post_commit') ? 105 : 100, 'the counter as the kernel leaves it');
    });
  }

  it('builds each signal frame before the SIGSEGV of a fix-up failing during delivery takes effect: the process dies in the SIGSEGV handler', async () => {
    const { outcome, image } = await run('signal:SIGUSR1@.Lstart');
    assert.equal(outcome.signal, 'SIGSEGV');
    assert.equal(outcome.ip, findSymbol(image, 'on_segv')!.address, 'RIP at on_segv, as on Linux 6.18 (test/fidelity)');
  });
});

describe('a fix-up failing while a signal is delivered, without a SIGSEGV handler', () => {
  it('kills the process with RIP at the signal handler, whose frame the kernel still built', async () => {
    const image = await loadProgram(fileURLToPath(new URL('../../asm/counter_add.bug-wrong-signature.s', import.meta.url)));
    const m = Machine.create(image, { cpus: 2 });
    try {
      const counters = m.allocate('counters', 16);
      const outcome = m.call(findSymbol(image, 'counter_add')!.address, [counters, 1n], { cpu: 0, events: [parseEvent('signal:SIGUSR1@.Lcounter_add_start', image, 2)] });
      assert.equal(outcome.signal, 'SIGSEGV');
      assert.equal(outcome.ip, TRAMPOLINE + BigInt(TRAMPOLINE_CODE.handler.offset), 'RIP at the (stand-in) SIGUSR1 handler');
    } finally {
      m.close();
    }
  });
});
