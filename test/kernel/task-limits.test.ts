// A fork or clone bomb is a result, not a crash: past the machine's task limits clone and fork fail
// with EAGAIN, as Linux does at RLIMIT_NPROC, and the program runs into its budget.
import { strict as assert } from 'node:assert';
import { describeReturn } from '../../src/kernel/errno.js';
import { LIMITS } from '../../src/limits.js';
import { inline } from '../support/program.js';
import { runClosed } from '../support/threads.js';

describe('task limits', () => {
  const saved = { ...LIMITS };
  afterEach(() => Object.assign(LIMITS, saved));

  it('fails fork with EAGAIN once the machine holds its limit of processes', async () => {
    LIMITS.liveProcesses = 3;
    // Each process forks until fork fails, records the error in its own copy of m, then exits.
    const image = await inline(`
      f:  movq %rdi, %rbx
      1:  movl $57, %eax
          syscall
          testq %rax, %rax
          jg 1b
          jz 2f
          movq %rax, (%rbx)
      2:  movl $60, %eax
          xorl %edi, %edi
          syscall`);
    const r = runClosed(image, { regions: [{ name: 'm', size: 16 }], threads: [{ entry: 'f', args: ['m'] }], maxInstructions: 100_000 });
    assert.equal(describeReturn(r.memory.m![0]!), '-EAGAIN');
    assert.equal(r.outcome.threads.length, 3, 'the first process and two children');
  });

  it('turns a fork bomb into a run that exhausts its budget', async () => {
    LIMITS.liveProcesses = 4;
    const image = await inline('f: 1: movl $57, %eax\n syscall\n jmp 1b');
    const r = runClosed(image, { threads: [{ entry: 'f' }], maxInstructions: 5_000 });
    assert.equal(r.outcome.status, 'limit');
    assert.equal(new Set(r.outcome.threads.map((t) => t.pid)).size, 4);
  });

  it('fails fork with EAGAIN once a run has created its limit of processes, even when each was reaped', async () => {
    LIMITS.processesPerRun = 5;
    // fork, wait for the child, again, until fork fails.
    const image = await inline(`
      f:  movq %rdi, %rbx
      1:  movl $57, %eax
          syscall
          testq %rax, %rax
          jz 3f
          js 2f
          movq $-1, %rdi
          xorl %esi, %esi
          xorl %edx, %edx
          xorl %r10d, %r10d
          movl $61, %eax
          syscall
          jmp 1b
      2:  movq %rax, (%rbx)
          ret
      3:  movl $60, %eax
          xorl %edi, %edi
          syscall`);
    const r = runClosed(image, { regions: [{ name: 'm', size: 16 }], threads: [{ entry: 'f', args: ['m'] }], maxInstructions: 100_000 });
    assert.equal(describeReturn(r.memory.m![0]!), '-EAGAIN');
    assert.equal(r.outcome.threads.length, 5, 'the first process and four reaped children');
  });

  it('fails clone of a thread with EAGAIN once the machine holds its limit of threads', async () => {
    LIMITS.liveThreads = 2;
    // clone(CLONE_VM | CLONE_THREAD-less, stack): the first succeeds, the second fails.
    const image = await inline(`
      f:  movq %rdi, %rbx
          movl $0x100, %edi
          leaq 4096(%rsi), %rsi
          movl $56, %eax
          syscall
          testq %rax, %rax
          jz child
          movl $0x100, %edi
          movl $56, %eax
          syscall
          movq %rax, (%rbx)
          ret
      child:
      1:  jmp 1b`);
    const r = runClosed(image, { regions: [{ name: 'm', size: 16 }, { name: 'stack', size: 8192 }], threads: [{ entry: 'f', args: ['m', 'stack'] }], maxInstructions: 5_000 });
    assert.equal(describeReturn(r.memory.m![0]!), '-EAGAIN');
  });
});
