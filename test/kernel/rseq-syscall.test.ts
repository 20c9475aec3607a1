// rseq(2) in the kernel's order of checks (spec section 2), as unit cases and as the kernel
// selftest's error walk (syscall_errors_test.c) run by emulated code on one thread.
import { strict as assert } from 'node:assert';
import { RSEQ_SIG, RseqField, u64 } from '../../src/abi/rseq.js';
import { describeReturn } from '../../src/kernel/errno.js';
import { sysRseq } from '../../src/kernel/syscalls/rseq.js';
import type { Thread } from '../../src/kernel/thread.js';
import { DEFAULT_PROFILE, type Profile } from '../../src/kernel/profile.js';
import type { KernelServices } from '../../src/kernel/syscalls/types.js';
import { FakeMemory } from '../support/fake-memory.js';
import { readFileSync } from 'node:fs';
import { assembleSource } from '../../src/program.js';
import { runEntry } from '../support/program.js';

const AREA = 0x20000n;

/** Only the fields rseq() looks at. */
function thread(): Thread {
  return { tid: 1, cpu: 0, rseq: null, eventMask: 0, notifyResume: false, lastIds: null } as unknown as Thread;
}
function call(t: Thread, mem: FakeMemory, p: bigint, len: number, flags: number, sig: number, profile: Profile = DEFAULT_PROFILE): string {
  const kernel = { profile, cpus: 2 } as KernelServices;
  const r = sysRseq({ thread: t, mem, args: [p, BigInt(len), BigInt.asUintN(64, BigInt(flags)), BigInt(sig)], kernel });
  assert.equal(r.kind, 'return');
  return describeReturn(r.kind === 'return' ? r.value : 0n);
}

describe('the rseq() system call', () => {
  let mem: FakeMemory;
  let t: Thread;
  beforeEach(() => {
    mem = new FakeMemory().map(AREA, 64);
    t = thread();
  });

  it('answers rseq(NULL, 0, 0, 0) with EINVAL, which tells user space that rseq exists', () => {
    assert.equal(call(t, mem, 0n, 0, 0, 0), '-EINVAL');
  });
  it('rejects unknown flags with EINVAL', () => {
    assert.equal(call(t, mem, AREA, 32, -1, RSEQ_SIG), '-EINVAL');
  });
  it('rejects a length below 32 with EINVAL', () => {
    assert.equal(call(t, mem, AREA, 31, 0, RSEQ_SIG), '-EINVAL');
  });
  it('rejects a 32-byte area that is not 32-aligned with EINVAL', () => {
    assert.equal(call(t, mem, AREA + 8n, 32, 0, RSEQ_SIG), '-EINVAL');
  });
  it('accepts a longer area that covers the 6.3 feature size', () => {
    assert.equal(call(t, mem, AREA, 64, 0, RSEQ_SIG), '0');
  });
  it('rejects an area beyond user space with EFAULT', () => {
    assert.equal(call(t, mem, BigInt.asUintN(64, -4096n), 32, 0, RSEQ_SIG), '-EFAULT');
  });
  it('registers without writing cpu_id: that happens on the way back to user space', () => {
    assert.equal(call(t, mem, AREA, 32, 0, RSEQ_SIG), '0');
    assert.deepEqual(t.rseq, { area: AREA, length: 32, sig: RSEQ_SIG });
    assert.equal(t.notifyResume, true);
    assert.deepEqual([...mem.read(AREA, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('clears a stale rseq_cs left in the area when registering (6.15+)', () => {
    mem.write(AREA + BigInt(RseqField.rseqCs), u64(0x1234n));
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.deepEqual([...mem.read(AREA + 8n, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('answers EBUSY to an identical second registration and changes nothing', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA, 32, 0, RSEQ_SIG), '-EBUSY');
  });
  it('answers EINVAL to a second registration at another address', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA + 32n, 32, 0, RSEQ_SIG), '-EINVAL');
  });
  it('answers EPERM to a second registration with another signature', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA, 32, 0, RSEQ_SIG + 1), '-EPERM');
  });
  it('refuses to unregister with the wrong signature (EPERM)', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA, 32, 1, RSEQ_SIG + 1), '-EPERM');
  });
  it('refuses to unregister with another length (EINVAL)', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA, 64, 1, RSEQ_SIG), '-EINVAL');
  });
  it('refuses UNREGISTER combined with other flags (EINVAL)', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA, 32, 3, RSEQ_SIG), '-EINVAL');
  });
  it('unregisters, resetting cpu_id_start to 0, cpu_id to -1 and node_id, mm_cid to 0', () => {
    mem.write(AREA, Uint8Array.from([5, 0, 0, 0, 5, 0, 0, 0]));
    mem.write(AREA + 20n, Uint8Array.from([7, 0, 0, 0, 7, 0, 0, 0]));
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    assert.equal(call(t, mem, AREA, 32, 1, RSEQ_SIG), '0');
    assert.equal(t.rseq, null);
    assert.deepEqual([...mem.read(AREA, 8)], [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert.deepEqual([...mem.read(AREA + 20n, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  });
  it('refuses to unregister a thread that is not registered (EINVAL)', () => {
    assert.equal(call(t, mem, AREA, 32, 1, RSEQ_SIG), '-EINVAL');
  });
  it('returns EFAULT when the area cannot be written while unregistering', () => {
    call(t, mem, AREA, 32, 0, RSEQ_SIG);
    mem.readOnly.add(AREA >> 12n);
    assert.equal(call(t, mem, AREA, 32, 1, RSEQ_SIG), '-EFAULT');
  });

  describe('the selftest error walk, run by emulated code', () => {
    it('gives EINVAL, EINVAL, EINVAL, EFAULT, 0, EBUSY, EPERM, 0, EINVAL and a cpu_id written after registering', async () => {
      const image = await assembleSource(readFileSync(new URL('../../examples/programs/rseq-errors.s', import.meta.url), 'utf8'), 'examples/programs/rseq-errors.s');
      const r = runEntry(image, 'walk', ['results', 'area'], {
        regions: [{ name: 'results', size: 80 }, { name: 'area', size: 64 }],
        machine: { registration: 'none' },
        call: { cpu: 1 },
      });
      r.machine.close();
      assert.equal(r.outcome.status, 'returned');
      assert.deepEqual(r.memory.results!.slice(0, 9).map(describeReturn), ['-EINVAL', '-EINVAL', '-EINVAL', '-EFAULT', '0', '-EBUSY', '-EPERM', '0', '-EINVAL']);
      assert.equal(r.memory.results![9], 1n);
    });
  });
});
