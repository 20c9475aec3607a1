// cpu_opv (the 2017 proposal, x86-64 335; spec section 6), called by emulated code: every
// operation, every error of the RFC in its order of checks, and the index a failed compare returns.
import { strict as assert } from 'node:assert';
import type { Image } from '../../src/asm/image.js';
import { describeReturn } from '../../src/kernel/errno.js';
import { Machine } from '../../src/kernel/machine.js';
import { parseProfile } from '../../src/kernel/profile.js';
import { CpuOp } from '../../src/kernel/syscalls/cpu-opv.js';
import { address, inline, words } from '../support/program.js';

const SOURCE = `
	.globl do_cpu_opv
	.type do_cpu_opv, @function
do_cpu_opv:
	movq %rcx, %r10
	movl $335, %eax
	syscall
	ret
	.section .rodata, "a"
	.balign 8
ro:
	.quad 5
`;

interface OpSpec {
  op: number;
  len: number;
  first?: bigint;
  second?: bigint;
  /** count, mask or shift bits */
  value?: bigint;
  expectFaultFirst?: boolean;
  expectFaultSecond?: boolean;
}

/** struct cpu_op as the RFC lays it out: s32 op, u32 len, then the 24-byte union. */
function encode(ops: OpSpec[]): Uint8Array {
  const b = new Uint8Array(ops.length * 32);
  const v = new DataView(b.buffer);
  ops.forEach((o, i) => {
    const at = i * 32;
    v.setInt32(at, o.op, true);
    v.setUint32(at + 4, o.len, true);
    v.setBigUint64(at + 8, o.first ?? 0n, true);
    const shift = o.op === CpuOp.lshift || o.op === CpuOp.rshift;
    if (shift) {
      v.setUint32(at + 16, Number(o.value ?? 0n), true);
      b[at + 20] = o.expectFaultFirst ? 1 : 0;
    } else {
      v.setBigUint64(at + 16, BigInt.asUintN(64, o.value ?? o.second ?? 0n), true);
      b[at + 24] = o.expectFaultFirst ? 1 : 0;
      b[at + 25] = o.expectFaultSecond ? 1 : 0;
    }
  });
  return b;
}

describe('the cpu_opv system call (proposal-cpu-opv)', () => {
  let image: Image;
  let machine: Machine;
  let opsAt: bigint;
  let data: bigint;
  before(async () => {
    image = await inline(SOURCE, 'cpu-opv.s');
  });
  beforeEach(() => {
    machine = Machine.create(image, { profile: parseProfile('proposal-cpu-opv') });
    opsAt = machine.allocate('ops', 17 * 32);
    data = machine.allocate('data', 8192);
  });
  afterEach(() => machine.close());

  const setData = (u64s: bigint[]) => u64s.forEach((w, i) => machine.emu.writeU64(data + BigInt(i * 8), BigInt.asUintN(64, w)));
  const dataWords = (n: number) => words(machine.emu.read(data, n * 8));
  const d = (i: number) => data + BigInt(i * 8);
  /** cpu_opv(ops, cnt, cpu, flags) from the thread on CPU 0; its return value as `0`, `2`, `-EINVAL`. */
  function call(ops: OpSpec[], opts: { cnt?: number; cpu?: number; flags?: number; at?: bigint } = {}): string {
    machine.emu.write(opsAt, encode(ops));
    const args = [opts.at ?? opsAt, BigInt.asUintN(64, BigInt(opts.cnt ?? ops.length)), BigInt.asUintN(64, BigInt(opts.cpu ?? 0)), BigInt(opts.flags ?? 0)];
    const out = machine.call(address(image, 'do_cpu_opv'), args);
    assert.equal(out.status, 'returned');
    return describeReturn(out.rax);
  }

  describe('operations', () => {
    it('COMPARE_EQ of equal data lets the vector go on and returns 0', () => {
      setData([7n, 7n]);
      assert.equal(call([{ op: CpuOp.compareEq, len: 8, first: d(0), second: d(1) }]), '0');
    });
    it('COMPARE_EQ of different data stops the vector and returns its index + 1', () => {
      setData([7n, 7n, 1n, 2n, 0n]);
      const r = call([
        { op: CpuOp.compareEq, len: 8, first: d(0), second: d(1) },
        { op: CpuOp.add, len: 8, first: d(4), value: 1n },
        { op: CpuOp.compareEq, len: 8, first: d(2), second: d(3) },
        { op: CpuOp.add, len: 8, first: d(4), value: 10n },
      ]);
      assert.equal(r, '3');
      assert.equal(dataWords(5)[4], 1n, 'the ops before the failed compare ran, the ones after it did not');
    });
    it('COMPARE_NE of different data goes on; of equal data it stops with index + 1', () => {
      setData([1n, 2n, 3n, 3n]);
      assert.equal(call([{ op: CpuOp.compareNe, len: 8, first: d(0), second: d(1) }]), '0');
      assert.equal(call([{ op: CpuOp.compareNe, len: 8, first: d(0), second: d(1) }, { op: CpuOp.compareNe, len: 8, first: d(2), second: d(3) }]), '2');
    });
    it('compares lengths other than 1/2/4/8 byte by byte', () => {
      machine.emu.write(d(0), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
      machine.emu.write(d(4), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99]));
      assert.equal(call([{ op: CpuOp.compareEq, len: 11, first: d(0), second: d(4) }]), '0');
      assert.equal(call([{ op: CpuOp.compareEq, len: 12, first: d(0), second: d(4) }]), '1');
    });
    it('MEMCPY copies len bytes from src to dst', () => {
      setData([0n, 0x1122334455667788n]);
      assert.equal(call([{ op: CpuOp.memcpy, len: 6, first: d(0), second: d(1) }]), '0');
      assert.equal(dataWords(1)[0], 0x334455667788n);
    });
    it('ADD adds count to the 1, 2, 4 or 8 bytes at p, wrapping at their width', () => {
      setData([0xffn, 0n]);
      assert.equal(call([{ op: CpuOp.add, len: 1, first: d(0), value: 2n }, { op: CpuOp.add, len: 8, first: d(1), value: -3n }]), '0');
      assert.deepEqual(dataWords(2), [0x01n, BigInt.asUintN(64, -3n)]);
    });
    it('OR, AND and XOR apply their mask', () => {
      setData([0b1100n, 0b1100n, 0b1100n]);
      assert.equal(call([
        { op: CpuOp.or, len: 8, first: d(0), value: 0b0011n },
        { op: CpuOp.and, len: 8, first: d(1), value: 0b0100n },
        { op: CpuOp.xor, len: 8, first: d(2), value: 0b0110n },
      ]), '0');
      assert.deepEqual(dataWords(3), [0b1111n, 0b0100n, 0b1010n]);
    });
    it('LSHIFT and RSHIFT shift by bits within the width', () => {
      setData([0x81n, 0x8000n]);
      assert.equal(call([{ op: CpuOp.lshift, len: 1, first: d(0), value: 1n }, { op: CpuOp.rshift, len: 2, first: d(1), value: 15n }]), '0');
      assert.deepEqual(dataWords(2), [0x02n, 0x01n]);
    });
    it('MB touches no memory and returns 0', () => {
      setData([5n]);
      assert.equal(call([{ op: CpuOp.mb, len: 0 }]), '0');
      assert.deepEqual(dataWords(1), [5n]);
    });
    it('an empty vector (cnt 0) returns 0', () => {
      assert.equal(call([], { cnt: 0 }), '0');
    });
    it('a cpu other than the current one moves the thread there first', () => {
      setData([0n]);
      const t = machine.spawn({ entry: address(image, 'do_cpu_opv'), args: [opsAt, 1n, 1n, 0n], cpu: 0 });
      machine.emu.write(opsAt, encode([{ op: CpuOp.add, len: 8, first: d(0), value: 4n }]));
      const out = machine.run();
      assert.equal(out.threads[0]!.returns[0], 0n);
      assert.equal(machine.thread(t.tid)!.cpu, 1);
      assert.deepEqual(dataWords(1), [4n]);
    });
  });

  describe('errors', () => {
    it('is -ENOSYS on a kernel without the proposal', () => {
      machine.close();
      machine = Machine.create(image, { profile: parseProfile('linux') });
      opsAt = machine.allocate('ops', 32);
      assert.equal(call([{ op: CpuOp.mb, len: 0 }]), '-ENOSYS');
    });
    it('rejects non-zero flags with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.mb, len: 0 }], { flags: 1 }), '-EINVAL');
    });
    it('rejects a negative cpu with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.mb, len: 0 }], { cpu: -1 }), '-EINVAL');
    });
    it('rejects a negative count or more than 16 operations with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.mb, len: 0 }], { cnt: -1 }), '-EINVAL');
      assert.equal(call(Array.from({ length: 17 }, () => ({ op: CpuOp.mb, len: 0 }))), '-EINVAL');
      assert.equal(call(Array.from({ length: 16 }, () => ({ op: CpuOp.mb, len: 0 }))), '0');
    });
    it('answers an unreadable operation vector with EFAULT', () => {
      assert.equal(call([{ op: CpuOp.mb, len: 0 }], { at: 0x1000n }), '-EFAULT');
    });
    it('rejects an unknown operation with EINVAL', () => {
      assert.equal(call([{ op: 10, len: 8, first: d(0) }]), '-EINVAL');
      assert.equal(call([{ op: -1, len: 8, first: d(0) }]), '-EINVAL');
    });
    it('rejects compare and memcpy lengths over 4096 with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.compareEq, len: 4097, first: d(0), second: d(1) }]), '-EINVAL');
      assert.equal(call([{ op: CpuOp.memcpy, len: 4097, first: d(0), second: d(600) }]), '-EINVAL');
    });
    it('rejects arithmetic and bitwise lengths other than 1, 2, 4 and 8 with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.add, len: 3, first: d(0), value: 1n }]), '-EINVAL');
      assert.equal(call([{ op: CpuOp.xor, len: 16, first: d(0), value: 1n }]), '-EINVAL');
    });
    it('rejects a shift by the width or more with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.lshift, len: 1, first: d(0), value: 8n }]), '-EINVAL');
      assert.equal(call([{ op: CpuOp.rshift, len: 4, first: d(0), value: 32n }]), '-EINVAL');
    });
    it('rejects a vector whose lengths add up to more than 4096 + 15 × 8 with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.memcpy, len: 4096, first: d(0), second: d(512) }, { op: CpuOp.memcpy, len: 121, first: d(0), second: d(512) }]), '-EINVAL');
      assert.equal(call([{ op: CpuOp.memcpy, len: 4096, first: d(0), second: d(512) }, { op: CpuOp.memcpy, len: 120, first: d(0), second: d(512) }]), '0');
    });
    it('answers an unmapped operand with EFAULT before running any operation', () => {
      setData([0n]);
      assert.equal(call([{ op: CpuOp.add, len: 8, first: d(0), value: 1n }, { op: CpuOp.add, len: 8, first: 0x2000n, value: 1n }]), '-EFAULT');
      assert.deepEqual(dataWords(1), [0n]);
    });
    it('answers a write to read-only memory with EFAULT', () => {
      assert.equal(call([{ op: CpuOp.add, len: 8, first: address(image, 'ro'), value: 1n }]), '-EFAULT');
      assert.equal(call([{ op: CpuOp.compareEq, len: 8, first: address(image, 'ro'), second: d(0) }]), '1', 'reading it is allowed');
    });
    it('answers EAGAIN instead of EFAULT for an operand the op expected to fault', () => {
      assert.equal(call([{ op: CpuOp.compareEq, len: 8, first: d(0), second: 0x2000n, expectFaultSecond: true }]), '-EAGAIN');
      assert.equal(call([{ op: CpuOp.lshift, len: 8, first: 0x2000n, value: 1n, expectFaultFirst: true }]), '-EAGAIN');
    });
    it('rejects a cpu that does not exist with EINVAL', () => {
      assert.equal(call([{ op: CpuOp.mb, len: 0 }], { cpu: 2 }), '-EINVAL');
    });
    it('answers a cpu outside the thread affinity with EAGAIN', () => {
      const t = machine.spawn({ entry: address(image, 'do_cpu_opv'), args: [opsAt, 1n, 1n, 0n], cpu: 0 });
      machine.emu.write(opsAt, encode([{ op: CpuOp.mb, len: 0 }]));
      t.affinity = 1n;
      assert.equal(describeReturn(machine.run().threads[0]!.returns[0]!), '-EAGAIN');
    });
  });
});
