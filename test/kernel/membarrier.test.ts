// membarrier(2)'s RSEQ commands (spec section 5): which threads get a preempt event, seen the way a
// program sees it — a thread inside a critical section is sent to its abort handler.
import { strict as assert } from 'node:assert';
import { describeReturn } from '../../src/kernel/errno.js';
import { inline } from '../support/program.js';
import { runClosed, runThreads, sectionFunction } from '../support/threads.js';

const QUERY = 0;
const PRIVATE_EXPEDITED_RSEQ = 128;
const REGISTER_PRIVATE_EXPEDITED_RSEQ = 256;
const FLAG_CPU = 1;

/** membarrier(cmd, flags, cpu) as asm; rax = the result. */
const membarrier = (cmd: number, flags: number, cpu: number) => `movl $${cmd}, %edi\n movl $${flags}, %esi\n movl $${cpu}, %edx\n movl $324, %eax\n syscall`;

/**
 * `reader(m)` spins inside its section until m[0] != 0, counting aborts in m[15]; returns the
 * count. `caller(m)` registers (unless told not to), makes the membarrier call described, stores
 * its result in m[1] and sets m[0]. `selfcheck_reg(m)` registers, makes the call inside its own
 * section (`selfcheck`), sets m[8] to release a reader of m+64, and returns (result << 8) | 2 when
 * aborted, (result << 8) | 1 when it committed.
 */
function program(cmd: number, flags: number, cpu: number, register = true): string {
  const reg = register ? membarrier(REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) : '';
  return `
    ${sectionFunction('reader', 'cmpq $0, (%r15)\n je reader_start')}
    caller:
        movq %rdi, %rbx
        ${reg}
        ${membarrier(cmd, flags, cpu)}
        movq %rax, 8(%rbx)
        movq $1, (%rbx)
        ret
    selfcheck_reg:
        pushq %rdi
        ${reg}
        movq (%rsp), %rdi
        call selfcheck
        popq %rdi
        movq $1, 64(%rdi)
        ret
    ${sectionFunction('selfcheck', `${membarrier(cmd, flags, cpu)}\n nop`, { abortReturns: true })}`;
}

const M = { name: 'm', size: 128 };
const readerAborts = (r: { memory: Record<string, bigint[]> }) => r.memory.m![15]!;

/** T1 spins in its section on CPU 0; T2 on CPU 1 runs `caller`; then T1 finishes. */
async function readerAndCaller(cmd: number, flags: number, cpu: number, register = true) {
  return runClosed(await inline(program(cmd, flags, cpu, register)), {
    regions: [M],
    threads: [{ entry: 'reader', args: ['m'], cpu: 0 }, { entry: 'caller', args: ['m'], cpu: 1 }],
  }, { schedule: 'c0:12 c1:* c0:*' });
}

/** T1 (CPU 0) makes the call inside its own section; T2 is a second thread on CPU 1. */
async function callerInSection(cmd: number, flags: number, cpu: number, threads = 2) {
  const image = await inline(program(cmd, flags, cpu));
  const others = threads === 2 ? [{ entry: 'reader', args: ['m+64'], cpu: 1 }] : [];
  return runClosed(image, { regions: [M], threads: [{ entry: 'selfcheck_reg', args: ['m'], cpu: 0 }, ...others] }, { schedule: threads === 2 ? 'c1:12 c0:*' : 'c0:*' });
}

describe('membarrier', () => {
  it('answers QUERY with the RSEQ commands', async () => {
    const r = runClosed(await inline(`f: ${membarrier(QUERY, 0, 0)}\n ret`), { threads: [{ entry: 'f' }] });
    assert.equal(r.outcome.threads[0]!.returns[0]! & BigInt(PRIVATE_EXPEDITED_RSEQ | REGISTER_PRIVATE_EXPEDITED_RSEQ), BigInt(PRIVATE_EXPEDITED_RSEQ | REGISTER_PRIVATE_EXPEDITED_RSEQ));
  });

  it('registers with REGISTER_PRIVATE_EXPEDITED_RSEQ, returning 0', async () => {
    const r = runClosed(await inline(`f: ${membarrier(REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0)}\n ret`), { threads: [{ entry: 'f' }] });
    assert.equal(r.outcome.threads[0]!.returns[0], 0n);
  });

  it('refuses PRIVATE_EXPEDITED_RSEQ without prior registration with EPERM, and sends nothing', async () => {
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, 0, 0, false);
    assert.equal(describeReturn(r.memory.m![1]!), '-EPERM');
    assert.equal(readerAborts(r), 0n);
  });

  it('refuses flags other than 0 and FLAG_CPU with EINVAL', async () => {
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, 2, 0);
    assert.equal(describeReturn(r.memory.m![1]!), '-EINVAL');
    assert.equal(readerAborts(r), 0n);
  });

  it('refuses any flag on the other commands with EINVAL', async () => {
    const r = runClosed(await inline(`f: ${membarrier(REGISTER_PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, 0)}\n ret`), { threads: [{ entry: 'f' }] });
    assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-EINVAL');
  });

  it('refuses an unknown command with EINVAL', async () => {
    const r = runClosed(await inline(`f: ${membarrier(1 << 12, 0, 0)}\n ret`), { threads: [{ entry: 'f' }] });
    assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-EINVAL');
  });

  it('gives every other running thread of the process a preempt event without FLAG_CPU', async () => {
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, 0, 0);
    assert.equal(r.memory.m![1], 0n);
    assert.equal(readerAborts(r), 1n, 'the reader on CPU 0 was sent to its abort handler once');
  });

  it('sends the caller nothing without FLAG_CPU', async () => {
    const r = await callerInSection(PRIVATE_EXPEDITED_RSEQ, 0, 0);
    assert.equal(r.outcome.threads[0]!.returns[0], 1n, 'the caller\'s section committed with result 0');
  });

  it('gives the thread on the named CPU a preempt event with FLAG_CPU', async () => {
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, 0);
    assert.equal(r.memory.m![1], 0n);
    assert.equal(readerAborts(r), 1n);
  });

  it('sends nothing to threads on other CPUs with FLAG_CPU', async () => {
    // The caller (CPU 1) names its own CPU: the reader on CPU 0 is left alone.
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, 1);
    assert.equal(readerAborts(r), 0n);
  });

  it('includes the caller with FLAG_CPU naming its own CPU', async () => {
    const r = await callerInSection(PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, 0);
    assert.equal(r.outcome.threads[0]!.returns[0], 2n, 'aborted, with rax = 0 from membarrier');
  });

  it('returns 0 and sends nothing for a CPU that does not exist', async () => {
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, 9);
    assert.equal(r.memory.m![1], 0n);
    assert.equal(readerAborts(r), 0n);
  });

  it('treats FLAG_CPU with a negative CPU as no CPU named: every other running thread gets the event', async () => {
    // kernel/sched/membarrier.c tests cpu_id >= 0 to pick one CPU; -1 falls through to all of them.
    const r = await readerAndCaller(PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, -1);
    assert.equal(r.memory.m![1], 0n);
    assert.equal(readerAborts(r), 1n);
  });

  it('returns 0 and sends nothing in a single-threaded process, even to the caller\'s own CPU', async () => {
    const r = await callerInSection(PRIVATE_EXPEDITED_RSEQ, FLAG_CPU, 0, 1);
    assert.equal(r.outcome.threads[0]!.returns[0], 1n, 'committed with result 0');
  });

  it('sends nothing to a thread of another process', async () => {
    // T1 forks; the child spins in its section on CPU 1 (in its own copy of m, which nobody
    // releases); T1 then makes the call with T2 as a second thread of its process.
    const image = await inline(`
      ${program(PRIVATE_EXPEDITED_RSEQ, 0, 0)}
      parent:
          movl $57, %eax
          syscall
          testq %rax, %rax
          jz reader
          jmp caller
      idle:
          ret`);
    const r = runThreads(image, { regions: [M], maxInstructions: 3000, threads: [{ entry: 'parent', args: ['m'], cpu: 0 }, { entry: 'idle', cpu: 0 }] }, { schedule: 'c0:2 c1:12 c0:*' });
    try {
      const child = r.outcome.threads.find((t) => t.pid !== 1)!;
      const childM = r.machine.processes.find((p) => p.pid === child.pid)!.emu.read(r.regions.m!, 128);
      assert.equal(child.cpu, 1);
      assert.equal(r.memory.m![1], 0n, 'the call succeeded');
      assert.equal(r.outcome.status, 'limit', 'the child spun on until the budget ran out');
      assert.equal(new DataView(childM.buffer).getBigUint64(120, true), 0n, 'the child never aborted');
    } finally {
      r.machine.close();
    }
  });
});
