// A failed rseq fix-up in a program with its own SIGSEGV handler (spec section 3): the kernel's
// SIGSEGV goes to the handler, delivering it re-runs the fix-up (rseq_signal_deliver), which fails
// again, and force_sigsegv for SIGSEGV itself kills the process. The handler (exit_group(42))
// never runs and the section never commits. The real kernel does the same (test/fidelity).
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { findSymbol, loadProgram, Machine, parseEvent, type RunOutcome } from '../../src/index.js';

const SOURCE = fileURLToPath(new URL('../fidelity/edge/segv-handler.s', import.meta.url));

async function run(event: string): Promise<{ outcome: RunOutcome; counters: Uint8Array }> {
  const image = await loadProgram(SOURCE);
  const m = Machine.create(image, { cpus: 2 });
  try {
    const counters = m.allocate('counters', 16, new Uint8Array([100, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0]));
    const entry = findSymbol(image, 'counter_add')!.address;
    const outcome = m.call(entry, [counters, 5n], { cpu: 0, events: [parseEvent(event, image, 2)] });
    return { outcome, counters: m.emu.read(counters, 16) };
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
});
