// Snapshot copies of a thread's fields: equal to the original, sharing nothing it can change.
import { strict as assert } from 'node:assert';
import { copyThreadFields, type ThreadFields } from '../../src/kernel/thread-copy.js';

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

/** The objects reachable from `v` (arrays, typed arrays and plain objects). */
function objects(v: unknown, out = new Set<object>()): Set<object> {
  if (typeof v !== 'object' || v === null || out.has(v)) return out;
  out.add(v);
  for (const x of Object.values(v)) objects(x, out);
  return out;
}

describe('thread copies', () => {
  it('equal the thread\'s fields, every nested field included', () => {
    const t = full();
    assert.deepEqual(copyThreadFields(t), structuredClone(t));
  });

  it('share no object with the thread, so running on after a capture cannot change the snapshot', () => {
    const t = full();
    const copied = objects(copyThreadFields(t));
    for (const o of objects(t)) assert.ok(!copied.has(o), `shared: ${JSON.stringify(o, (_, x) => (typeof x === 'bigint' ? `${x}` : x))}`);
  });

  it('keep a thread without a split without the field', () => {
    const { split: _s, ...t } = full();
    assert.ok(!('split' in copyThreadFields(t)));
  });
});
