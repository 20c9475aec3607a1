// The return-to-user decision of Linux 6.1–6.18, one check per test, in the kernel's order
// (spec section 3: rseq_get_rseq_cs → rseq_ip_fixup → rseq_need_restart).
import { strict as assert } from 'node:assert';
import { RSEQ_SIG, RseqField, TASK_SIZE, encodeRseqCs, u32, u64, type RseqCs } from '../../src/abi/rseq.js';
import { applyFixup, decideFixup } from '../../src/kernel/rseq-fixup.js';
import { FakeMemory } from '../support/fake-memory.js';

const AREA = 0x7000n;
const DESC = 0x8000n;
const START = 0x10000n;
const ABORT = 0x10100n;
const GOOD: RseqCs = { version: 0, flags: 0, startIp: START, postCommitOffset: 0x20n, abortIp: ABORT };

function setup(cs: Partial<RseqCs> = {}, opts: { sig?: number; descriptor?: bigint; rseqFlags?: number } = {}) {
  const mem = new FakeMemory().map(AREA, 32).map(DESC, 32).map(START, 0x200);
  mem.write(DESC, encodeRseqCs({ ...GOOD, ...cs }));
  mem.write(ABORT - 4n, u32(opts.sig ?? RSEQ_SIG));
  mem.write(AREA + BigInt(RseqField.rseqCs), u64(opts.descriptor ?? DESC));
  mem.write(AREA + BigInt(RseqField.flags), u32(opts.rseqFlags ?? 0));
  return mem;
}
const decide = (mem: FakeMemory, ip: bigint, eventMask = 1) => decideFixup(mem, { area: AREA, sig: RSEQ_SIG, ip, eventMask });
const reasonOf = (d: ReturnType<typeof decide>) => (d.kind === 'sigsegv' ? d.reason : `no SIGSEGV (${d.kind})`);

describe('the rseq fix-up on return to user space', () => {
  describe('reading rseq_cs', () => {
    it('treats rseq_cs == 0 as an empty section: clear, with nothing to abort', () => {
      assert.deepEqual(decide(setup({}, { descriptor: 0n }), START + 4n), { kind: 'clear', wasSet: false, descriptor: 0n });
    });
    it('sends SIGSEGV when the rseq area itself cannot be read', () => {
      assert.match(reasonOf(decideFixup(new FakeMemory(), { area: AREA, sig: RSEQ_SIG, ip: START, eventMask: 1 })), /cannot read rseq->rseq_cs/);
    });
  });

  describe('validating a non-zero descriptor, in order', () => {
    it('rejects a descriptor pointer at or above TASK_SIZE', () => {
      assert.match(reasonOf(decide(setup({}, { descriptor: TASK_SIZE }), START)), /not a user-space address/);
    });
    it('rejects a descriptor that cannot be read', () => {
      assert.match(reasonOf(decide(setup({}, { descriptor: 0x900000n }), START)), /cannot read struct rseq_cs at 0x900000/);
    });
    it('rejects start_ip at or above TASK_SIZE', () => {
      assert.match(reasonOf(decide(setup({ startIp: TASK_SIZE }), START)), /start_ip 0x7ffffffff000 >= TASK_SIZE/);
    });
    it('rejects a section that ends at or above TASK_SIZE', () => {
      assert.match(reasonOf(decide(setup({ postCommitOffset: TASK_SIZE }), START)), /start_ip \+ post_commit_offset .* >= TASK_SIZE/);
    });
    it('rejects abort_ip at or above TASK_SIZE', () => {
      assert.match(reasonOf(decide(setup({ abortIp: TASK_SIZE }), START)), /abort_ip 0x7ffffffff000 >= TASK_SIZE/);
    });
    it('rejects a version other than 0', () => {
      assert.match(reasonOf(decide(setup({ version: 1 }), START)), /version 1, expected 0/);
    });
    it('rejects a start_ip + post_commit_offset that wraps around 64 bits', () => {
      assert.match(reasonOf(decide(setup({ postCommitOffset: (1n << 64n) - 0x10n }), START)), /overflows/);
    });
    it('rejects an abort_ip inside the section, start_ip itself included', () => {
      assert.match(reasonOf(decide(setup({ abortIp: START }), START)), /abort_ip 0x10000 is inside the critical section/);
    });
    it('accepts an abort_ip exactly at the post-commit address', () => {
      const mem = setup({ abortIp: START + 0x20n });
      mem.write(START + 0x1cn, u32(RSEQ_SIG));
      assert.equal(decide(mem, START).kind, 'abort');
    });
    it('rejects a signature that cannot be read', () => {
      assert.match(reasonOf(decide(setup({ abortIp: 0x900004n }), START)), /cannot read the signature at abort_ip - 4/);
    });
    it('rejects a signature other than the registered one', () => {
      assert.match(reasonOf(decide(setup({}, { sig: 0x53053054 }), START)), /signature mismatch: 0x53053054 at abort_ip - 4, expected 0x53053053/);
    });
    it('validates the descriptor even when the IP is outside the section', () => {
      assert.match(reasonOf(decide(setup({ version: 1 }), START + 0x1000n)), /version 1/);
    });
  });

  describe('deciding', () => {
    it('clears rseq_cs lazily when the IP is outside the section', () => {
      assert.deepEqual(decide(setup(), START + 0x20n), { kind: 'clear', wasSet: true, descriptor: DESC });
    });
    it('counts start_ip as inside and start_ip + post_commit_offset as outside', () => {
      assert.equal(decide(setup(), START).kind, 'abort');
      assert.equal(decide(setup(), START + 0x1fn).kind, 'abort');
      assert.equal(decide(setup(), START + 0x20n).kind, 'clear');
    });
    it('never counts an IP as inside a section with post_commit_offset 0', () => {
      assert.equal(decide(setup({ postCommitOffset: 0n }), START).kind, 'clear');
    });
    it('counts an IP below start_ip as outside (the test is unsigned)', () => {
      assert.equal(decide(setup(), START - 1n).kind, 'clear');
    });
    it('kills the thread for non-zero rseq_cs.flags when inside (6.1+)', () => {
      assert.match(reasonOf(decide(setup({ flags: 1 }), START)), /rseq_cs.flags is 0x1/);
    });
    it('ignores rseq_cs.flags when the IP is outside', () => {
      assert.equal(decide(setup({ flags: 1 }), START + 0x40n).kind, 'clear');
    });
    it('kills the thread for non-zero rseq->flags when inside (6.1+)', () => {
      assert.match(reasonOf(decide(setup({}, { rseqFlags: 2 }), START)), /rseq->flags is 0x2/);
    });
    it('checks the descriptor flags before the thread flags', () => {
      assert.match(reasonOf(decide(setup({ flags: 4 }, { rseqFlags: 2 }), START)), /rseq_cs.flags/);
    });
    it('changes nothing when inside with no event pending', () => {
      assert.deepEqual(decide(setup(), START + 4n, 0), { kind: 'none', descriptor: DESC });
    });
    it('aborts to abort_ip when inside with an event pending', () => {
      const d = decide(setup(), START + 4n, 4);
      assert.equal(d.kind, 'abort');
      assert.equal(d.kind === 'abort' && d.abortIp, ABORT);
    });
  });

  describe('applying the decision', () => {
    it('stores 0 to rseq_cs and redirects to abort_ip on abort', () => {
      const mem = setup();
      const fx = applyFixup(mem, AREA, decide(mem, START));
      assert.deepEqual(fx, { ip: ABORT, consumedEvents: true, fault: null });
      assert.equal(new DataView(mem.read(AREA + 8n, 8).buffer).getBigUint64(0, true), 0n);
    });
    it('leaves rseq_cs in place when inside with no event', () => {
      const mem = setup();
      applyFixup(mem, AREA, decide(mem, START, 0));
      assert.equal(new DataView(mem.read(AREA + 8n, 8).buffer).getBigUint64(0, true), DESC);
    });
    it('keeps pending events when the IP is outside (the mask is only consumed inside)', () => {
      const mem = setup();
      assert.equal(applyFixup(mem, AREA, decide(mem, START + 0x40n)).consumedEvents, false);
    });
    it('reports a fault when rseq_cs cannot be written', () => {
      const mem = setup();
      mem.readOnly.add(AREA >> 12n);
      assert.match(applyFixup(mem, AREA, decide(mem, START)).fault ?? '', /cannot write rseq->rseq_cs/);
    });
  });
});
