// An event's outcome is decided by the thread's next return to user space. A signal delivered to
// a thread with no rseq registration yet (a new clone thread) has nothing to fix up: the event
// resumes where the thread was interrupted, and a registration the thread makes afterwards must not
// settle it again (the real kernel agrees, test/fidelity rows of edge/threads.s).
import { strict as assert } from 'node:assert';
import { fileURLToPath } from 'node:url';
import { findSymbol, loadProgram, Machine, parseEvent } from '../../src/index.js';

const SOURCE = fileURLToPath(new URL('../fidelity/edge/threads.s', import.meta.url));

describe('a signal to a thread that has not registered with rseq yet', () => {
  it('resumes, and is recorded as resuming, at the instruction it interrupted, not after the rseq() call the thread makes next', async () => {
    const image = await loadProgram(SOURCE);
    const m = Machine.create(image, { cpus: 2 });
    try {
      const mem = m.allocate('m', 112);
      const at = findSymbol(image, '.Lthread_b')!.address;
      const outcome = m.call(findSymbol(image, 'two_threads')!.address, [mem, 5n], { cpu: 0, events: [parseEvent('signal:SIGUSR1@.Lthread_b', image, 2)] });
      assert.equal(outcome.status, 'returned');
      const ev = outcome.events[0]!;
      assert.equal(ev.registered, false, 'thread B had not registered when the signal came');
      assert.equal(ev.outcome, 'none');
      assert.equal(ev.resumeIp, at, `resumed at 0x${ev.resumeIp.toString(16)}`);
    } finally {
      m.close();
    }
  });
});
