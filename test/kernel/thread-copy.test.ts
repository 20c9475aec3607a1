// Snapshot copies of a thread's fields: equal to the original, sharing only values the kernel model
// replaces rather than changes (snapshot.test.ts checks that a run after a capture leaves them).
import { strict as assert } from 'node:assert';
import { assignThreadFields, copyThreadFields, type ThreadFields } from '../../src/kernel/thread-copy.js';
import type { Thread } from '../../src/kernel/thread.js';

/** Every field set, nested objects included, so a field the copy forgets shows. */
const full = (): ThreadFields => ({
  tid: 3, cpu: 1, affinity: 3n, rseq: { area: 0x1000n, length: 32, sig: 0x53053053 }, eventMask: 5, notifyResume: true,
  lastIds: { cpu: 1, node: 0, mmCid: 2 }, lastMmCid: 2, pinnedMmCid: null, sigmask: 1n << 9n, pendingSignals: [10, 12],
  standInFrames: 1, fsBase: 0x7000n, stackTop: 0x8000n, ownsMemory: true, state: 'blocked', wait: { kind: 'child', pid: 2, statusPtr: 0x9000n },
  inKvmRun: false,
  program: { entry: 0x401000n, args: [1n, 2n], repeat: 2, returns: [7n], callCpus: [1n], cpusThisCall: 2n, callIds: [[{ cpu: 0, node: 0, mmCid: 0 }]], idsThisCall: [{ cpu: 1, node: 0, mmCid: 1 }] },
  end: { status: 'signal', signal: 'SIGSEGV' }, executed: 40, sliceUsed: 7, sliceStart: 3, clearChildTid: 0xa000n, attempt: 4, attemptStores: [0x5000n],
  split: { ip: 0x401010n, read: 0x5000n, bytes: Uint8Array.from([1, 2]), write: 0x5000n },
});

describe('thread copies', () => {
  it('equal the thread\'s fields, every nested field included', () => {
    const t = full();
    assert.deepEqual(copyThreadFields(t), structuredClone(t));
  });

  it('give the program an object of its own, whose call in progress the kernel model changes in place', () => {
    const t = full();
    const copy = copyThreadFields(t);
    assert.notEqual(copy.program, t.program);
    t.program!.cpusThisCall = 3n;
    assert.equal(copy.program!.cpusThisCall, 2n);
  });

  it('put every field back into a thread, which keeps its identity', () => {
    const source = full();
    const other: ThreadFields = {
      tid: 4, cpu: 0, affinity: 1n, rseq: null, eventMask: 0, notifyResume: false, lastIds: null, lastMmCid: null, pinnedMmCid: 1, sigmask: 0n,
      pendingSignals: [], standInFrames: 0, fsBase: 0n, stackTop: 0n, ownsMemory: false, state: 'runnable', wait: null, inKvmRun: true, program: null,
      end: null, executed: 0, sliceUsed: 0, sliceStart: 0, clearChildTid: null, attempt: 0, attemptStores: [], split: null,
    };
    for (const k of Object.keys(source) as (keyof ThreadFields)[]) assert.notDeepEqual(other[k], source[k], `${k} differs before`);
    const t = { ...other } as Thread;
    assignThreadFields(t, source);
    assert.deepEqual(copyThreadFields(t), source);
  });
});
