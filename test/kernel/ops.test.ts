// For every correct op in asm/: a preemption before each instruction of its critical section
// aborts (the IP is inside and an event is pending), a preemption at the post-commit address
// does not, and the retried run ends with the memory and return value of an uninterrupted run.
import { strict as assert } from 'node:assert';
import { readRseqTables, type CriticalSection } from '../../src/abi/tables.js';
import type { Image } from '../../src/asm/image.js';
import { hex } from '../../src/types.js';
import { bundled, instructionsBetween, runEntry, type Region } from '../support/program.js';

interface OpCase {
  file: string;
  entry: string;
  args: (bigint | string)[];
  regions: Region[];
}

const NODE_A = 'nodes';
const OPS: OpCase[] = [
  { file: 'counter_add.s', entry: 'counter_add', args: ['counters', 5n], regions: [{ name: 'counters', size: 16, words: [100n, 200n] }] },
  { file: 'cmpeqv_storev.s', entry: 'cmpeqv_storev', args: ['slots', 7n, 9n], regions: [{ name: 'slots', size: 16, words: [7n, 7n] }] },
  { file: 'percpu_list.s', entry: 'list_push', args: ['heads', `${NODE_A}+16`], regions: [{ name: 'heads', size: 16, words: [0n, 0n] }, { name: NODE_A, size: 32 }] },
  { file: 'buffer_push.s', entry: 'buffer_push', args: ['bufs', 42n], regions: [{ name: 'bufs', size: 256, words: [3n, 14n] }] },
  { file: 'memcpy_buffer_push.s', entry: 'memcpy_buffer_push', args: ['bufs', 'item'], regions: [{ name: 'bufs', size: 512, words: [1n, 15n] }, { name: 'item', size: 16, words: [0x1122334455667788n, 0x99aabbccddeeff00n] }] },
];

/** The section the entry's own code arms (the one whose start the uninterrupted run executes). */
function sectionsOf(image: Image): CriticalSection[] {
  return readRseqTables(image).sections;
}

describe('correct ops under a preemption at every instruction boundary', () => {
  for (const op of OPS) {
    describe(`${op.entry} (asm/${op.file})`, () => {
      it('has the memory and return value of an uninterrupted run after a preemption anywhere from start to post-commit', async () => {
        const image = await bundled(op.file);
        const base = runEntry(image, op.entry, op.args, { regions: op.regions, call: { trace: true } });
        base.machine.close();
        assert.equal(base.outcome.status, 'returned');
        const executed = new Set(base.outcome.trace.map((s) => s.address));
        const sections = sectionsOf(image).filter((cs) => executed.has(cs.startIp));
        assert.ok(sections.length > 0, 'the uninterrupted run enters a critical section');
        for (const cs of sections) {
          const points = instructionsBetween(image, cs.startIp, cs.postCommitIp).filter((a) => executed.has(a));
          assert.ok(points.includes(cs.postCommitIp), 'the post-commit address is executed');
          for (const at of points) {
            const r = runEntry(image, op.entry, op.args, { regions: op.regions, events: [`preempt@${hex(at)}`] });
            r.machine.close();
            const where = `preempt@${hex(at)}`;
            assert.equal(r.outcome.status, 'returned', where);
            assert.equal(r.outcome.events.length, 1, where);
            const inside = at < cs.postCommitIp;
            assert.equal(r.outcome.events[0]!.outcome, inside ? 'aborted' : 'cleared', where);
            if (inside) assert.equal(r.outcome.events[0]!.resumeIp, cs.abortIp, where);
            assert.deepEqual(r.memory, base.memory, where);
            assert.equal(r.outcome.rax, base.outcome.rax, where);
          }
        }
      });

      it('aborts on a migration inside the section and redoes the operation on the new CPU', async () => {
        const image = await bundled(op.file);
        const [cs] = sectionsOf(image);
        const r = runEntry(image, op.entry, op.args, { regions: op.regions, events: [`migrate:1@${hex(cs!.startIp)}`] });
        r.machine.close();
        assert.equal(r.outcome.events[0]!.outcome, 'aborted');
        const onCpu1 = runEntry(image, op.entry, op.args, { regions: op.regions, call: { cpu: 1 } });
        onCpu1.machine.close();
        assert.deepEqual(r.memory, onCpu1.memory);
      });

      it('aborts on a signal inside the section, and sigreturn lands on the abort handler', async () => {
        const image = await bundled(op.file);
        const [cs] = sectionsOf(image);
        const base = runEntry(image, op.entry, op.args, { regions: op.regions });
        base.machine.close();
        const r = runEntry(image, op.entry, op.args, { regions: op.regions, events: [`signal@${hex(cs!.startIp)}`], call: { trace: true } });
        r.machine.close();
        assert.equal(r.outcome.events[0]!.outcome, 'aborted');
        const sigreturn = r.outcome.syscalls.find((s) => s.name === 'rt_sigreturn');
        assert.ok(sigreturn, 'the handler returned through rt_sigreturn');
        const afterSigreturn = r.outcome.trace.find((s) => s.index > r.outcome.trace.find((t) => t.address === sigreturn.ip)!.index);
        assert.equal(afterSigreturn?.address, cs!.abortIp);
        assert.deepEqual(r.memory, base.memory);
      });
    });
  }
});
