// CPU placement system calls: getcpu, sched_getaffinity/sched_setaffinity, sched_yield and the
// sleeps, and what each means for rseq (a voluntary switch-out is a preempt event).
import { strict as assert } from 'node:assert';
import { describeReturn } from '../../src/kernel/errno.js';
import { inline } from '../support/program.js';
import { areaOf, path, runClosed, runThreads, sectionFunction } from '../support/threads.js';

const M = { name: 'm', size: 128 };

/** getcpu(&m[0], &m[1]) then returns getcpu's result. */
const GETCPU = `
  f:  movq $0xdead, 8(%rdi)
      movl $0xbeef, (%rdi)
      leaq 8(%rdi), %rsi
      movl $309, %eax
      syscall
      ret`;

/** sched_getaffinity(pid = rsi, len = rdx, &m[0]); returns its result. */
const GETAFFINITY = `
  f:  movq %rdx, %rax
      movq %rdi, %rdx
      movq %rsi, %rdi
      movq %rax, %rsi
      movl $204, %eax
      syscall
      ret`;

/**
 * sched_setaffinity(pid = rsi, len = rdx, &m[0]) with the mask already in m[0]; then stores
 * getcpu in m[1], cpu_id from the rseq area in m[2], and returns setaffinity's result.
 */
const SETAFFINITY = `
  f:  movq %rdi, %rbx
      movq %rdx, %rax
      movq %rdi, %rdx
      movq %rsi, %rdi
      movq %rax, %rsi
      movl $203, %eax
      syscall
      movq %rax, %r12
      leaq 8(%rbx), %rdi
      xorl %esi, %esi
      movl $309, %eax
      syscall
      movq __rseq_offset(%rip), %rcx
      movl %fs:4(%rcx), %eax
      movq %rax, 16(%rbx)
      movq %r12, %rax
      ret
  other:
      movl $20, %ecx
  1:  decl %ecx
      jnz 1b
      ret`;

const ret0 = (r: { outcome: { threads: { returns: bigint[] }[] } }) => r.outcome.threads[0]!.returns[0]!;
/** The system call result a `sectionFunction` returned in its upper 56 bits, as a 64-bit rax. */
const result = (ret: bigint) => BigInt.asUintN(64, BigInt.asIntN(56, ret >> 8n));

describe('scheduling system calls', () => {
  describe('getcpu', () => {
    it('stores the current CPU and node 0 and returns 0', async () => {
      const r = runClosed(await inline(GETCPU), { cpus: 3, regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 2 }] });
      assert.equal(ret0(r), 0n);
      assert.equal(r.memory.m![0]! & 0xffffffffn, 2n);
      assert.equal(r.memory.m![1]! & 0xffffffffn, 0n);
    });

    it('accepts NULL pointers', async () => {
      const r = runClosed(await inline('f: xorl %edi, %edi\n xorl %esi, %esi\n movl $309, %eax\n syscall\n ret'), { threads: [{ entry: 'f' }] });
      assert.equal(ret0(r), 0n);
    });

    it('fails with EFAULT for an unmapped pointer', async () => {
      const r = runClosed(await inline('f: movl $8, %edi\n xorl %esi, %esi\n movl $309, %eax\n syscall\n ret'), { threads: [{ entry: 'f' }] });
      assert.equal(describeReturn(ret0(r)), '-EFAULT');
    });

    it('answers the new CPU after a migration', async () => {
      const r = runClosed(await inline(GETCPU), { regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 0 }] }, { schedule: 'c0:1 T1:migrate:1' });
      assert.equal(r.memory.m![0]! & 0xffffffffn, 1n);
    });
  });

  describe('sched_getaffinity', () => {
    it('returns the size of the mask and stores every CPU of the machine', async () => {
      const r = runClosed(await inline(GETAFFINITY), { cpus: 3, regions: [M], threads: [{ entry: 'f', args: ['m', 0n, 8n] }] });
      assert.equal(ret0(r), 8n);
      assert.equal(r.memory.m![0], 0b111n);
    });

    it('fails with EINVAL for a length shorter than the mask or not a multiple of 8', async () => {
      for (const len of [4n, 12n]) {
        const r = runClosed(await inline(GETAFFINITY), { regions: [M], threads: [{ entry: 'f', args: ['m', 0n, len] }] });
        assert.equal(describeReturn(ret0(r)), '-EINVAL', `len ${len}`);
      }
    });

    it('fails with ESRCH for a thread that does not exist', async () => {
      const r = runClosed(await inline(GETAFFINITY), { regions: [M], threads: [{ entry: 'f', args: ['m', 77n, 8n] }] });
      assert.equal(describeReturn(ret0(r)), '-ESRCH');
    });

    it('checks the length before looking the thread up, as Linux does', async () => {
      const r = runClosed(await inline(GETAFFINITY), { regions: [M], threads: [{ entry: 'f', args: ['m', 77n, 4n] }] });
      assert.equal(describeReturn(ret0(r)), '-EINVAL');
    });
  });

  describe('sched_setaffinity', () => {
    const setaffinity = async (mask: bigint, opts: { pid?: bigint; len?: bigint; cpus?: number } = {}) =>
      runThreads(await inline(SETAFFINITY), {
        cpus: opts.cpus ?? 2,
        regions: [{ name: 'm', size: 64, words: [mask] }],
        threads: [{ entry: 'f', args: ['m', opts.pid ?? 0n, opts.len ?? 8n], cpu: 0 }, { entry: 'other', cpu: 1 }],
      }, { schedule: 'c0:*' });

    it('moves the caller before it returns when the mask excludes its CPU, cpu_id included', async () => {
      const r = await setaffinity(0b10n);
      r.machine.close();
      assert.equal(ret0(r), 0n);
      assert.equal(r.memory.m![1]! & 0xffffffffn, 1n, 'getcpu right after the call');
      assert.equal(r.memory.m![2], 1n, 'cpu_id refreshed on the way back to user space');
      assert.equal(r.outcome.threads[0]!.cpu, 1);
    });

    it('leaves the caller where it is when the mask includes its CPU, and the new mask is what sched_getaffinity reads', async () => {
      const image = await inline(`${SETAFFINITY.replace('f:', 'g:')}
        f:  pushq %rdi
            call g
            popq %rdi
            movq %rax, 32(%rdi)
            movl $8, %esi
            leaq 40(%rdi), %rdx
            xorl %edi, %edi
            movl $204, %eax
            syscall
            ret`);
      const r = runClosed(image, { cpus: 3, regions: [{ name: 'm', size: 64, words: [0b101n] }], threads: [{ entry: 'f', args: ['m', 0n, 8n], cpu: 0 }] });
      assert.equal(r.memory.m![4], 0n);
      assert.equal(r.memory.m![1]! & 0xffffffffn, 0n);
      assert.equal(r.memory.m![5], 0b101n, 'sched_getaffinity read back the mask');
      assert.equal(r.outcome.threads[0]!.cpu, 0);
    });

    it('fails with EINVAL for an empty mask', async () => {
      const r = await setaffinity(0n);
      r.machine.close();
      assert.equal(describeReturn(ret0(r)), '-EINVAL');
    });

    it('fails with EINVAL for a mask naming only CPUs the machine does not have', async () => {
      const r = await setaffinity(0b100n);
      r.machine.close();
      assert.equal(describeReturn(ret0(r)), '-EINVAL');
    });

    it('treats a short length as a mask with the missing bytes zero, so length 0 is an empty mask', async () => {
      const zero = await setaffinity(0b10n, { len: 0n });
      zero.machine.close();
      assert.equal(describeReturn(ret0(zero)), '-EINVAL');
      const one = await setaffinity(0b10n, { len: 1n });
      one.machine.close();
      assert.equal(ret0(one), 0n);
      assert.equal(one.outcome.threads[0]!.cpu, 1);
    });

    it('fails with ESRCH for a thread that does not exist', async () => {
      const r = await setaffinity(0b10n, { pid: 77n });
      r.machine.close();
      assert.equal(describeReturn(ret0(r)), '-ESRCH');
    });

    it('moves another thread named by its tid', async () => {
      // T1 (CPU 0) restricts T2 (CPU 1) to CPU 0.
      const r = await setaffinity(0b01n, { pid: 2n });
      r.machine.close();
      assert.equal(ret0(r), 0n);
      assert.deepEqual(r.outcome.threads.map((t) => t.cpu), [0, 0]);
      assert.equal(r.outcome.threads[1]!.end?.status, 'returned');
    });
  });

  describe('sched_yield', () => {
    // The section yields; 2 means it was aborted (rax = 0 from sched_yield), 1 that it committed.
    const YIELD_IN_SECTION = sectionFunction('f', 'movl $24, %eax\n syscall\n nop', { abortReturns: true }) + '\n n: nop\n ret';

    it('switches to another thread of the CPU, which is a preempt event for the yielder', async () => {
      const r = runClosed(await inline(YIELD_IN_SECTION), { regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'n', cpu: 0 }] }, { trace: true });
      assert.deepEqual(r.outcome.trace.map((s) => s.tid).filter((t, i, a) => i === 0 || a[i - 1] !== t), [1, 2, 1]);
      assert.equal(ret0(r), 2n, 'returned to abort_ip with rax = 0');
      assert.equal(r.outcome.syscalls[0]!.insideCriticalSection, true);
    });

    it('is no event when no other thread can run on the CPU', async () => {
      // T2 runs on the other CPU: it cannot take CPU 0.
      const r = runClosed(await inline(YIELD_IN_SECTION), { regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'n', cpu: 1 }] });
      assert.equal(ret0(r), 1n, 'the section committed');
      assert.equal(r.outcome.syscalls[0]!.insideCriticalSection, true, 'a system call inside a section is reported all the same');
    });
  });

  describe('sleeps', () => {
    // nanosleep(&ts, NULL) and clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) with ts = {0, 1000} at m[8].
    const NANOSLEEP = 'leaq 64(%rdi), %rbx\n movq %rdi, %r12\n movq %rbx, %rdi\n xorl %esi, %esi\n movl $35, %eax\n syscall\n movq %r12, %rdi';
    const CLOCK_NANOSLEEP = 'leaq 64(%rdi), %rdx\n movq %rdi, %r12\n movl $1, %edi\n xorl %esi, %esi\n xorl %r10d, %r10d\n movl $230, %eax\n syscall\n movq %r12, %rdi';
    const TS = { name: 'm', size: 128, words: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 1000n] };

    for (const [name, body] of [['nanosleep', NANOSLEEP], ['clock_nanosleep', CLOCK_NANOSLEEP]] as const) {
      it(`${name} switches the thread out even when it is alone on its CPU: a preempt event, so a section aborts`, async () => {
        const r = runClosed(await inline(sectionFunction('f', body, { abortReturns: true })), { regions: [TS], threads: [{ entry: 'f', args: ['m'] }] });
        assert.equal(ret0(r), 2n, 'aborted with rax = 0');
        assert.equal(r.memory.m![15], 1n, 'one abort');
        assert.equal(r.outcome.syscalls[0]!.ret, 0n);
      });

      it(`${name} lets the other threads of the CPU run`, async () => {
        const src = `f: movq %rdi, %rbx\n ${body.replace('leaq 64(%rdi)', 'leaq 64(%rbx)')}\n ret\n n: nop\n ret`;
        const r = runClosed(await inline(src), { regions: [TS], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'n', cpu: 0 }] }, { trace: true });
        assert.deepEqual(r.outcome.trace.map((s) => s.tid).filter((t, i, a) => i === 0 || a[i - 1] !== t), [1, 2, 1]);
      });
    }

    it('fails nanosleep with EFAULT for an unreadable timespec and with EINVAL for tv_nsec out of range, without switching out', async () => {
      const bad = await inline(sectionFunction('f', 'movl $8, %edi\n xorl %esi, %esi\n movl $35, %eax\n syscall\n nop', { abortReturns: true }));
      const r = runClosed(bad, { regions: [TS], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(describeReturn(result(ret0(r))), '-EFAULT');
      assert.equal(path(ret0(r)), 'committed', 'no switch-out, no event');
      const ns = runClosed(await inline(sectionFunction('f', NANOSLEEP, { abortReturns: true })), { regions: [{ name: 'm', size: 128, words: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 1_000_000_000n] }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(describeReturn(result(ret0(ns))), '-EINVAL');
    });

    it('fails clock_nanosleep with EINVAL for an unknown clock', async () => {
      const src = sectionFunction('f', CLOCK_NANOSLEEP.replace('movl $1, %edi', 'movl $42, %edi'), { abortReturns: true });
      const r = runClosed(await inline(src), { regions: [TS], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(describeReturn(result(ret0(r))), '-EINVAL');
      assert.equal(path(ret0(r)), 'committed');
    });

    it('writes cpu_id on the way back from a sleep', async () => {
      // The program scribbles over cpu_id, sleeps, and the kernel's rewrite on return makes it right again.
      const r = runThreads(await inline(`f: movq __rseq_offset(%rip), %rcx\n movl $77, %fs:4(%rcx)\n ${NANOSLEEP}\n ret`), { regions: [TS], threads: [{ entry: 'f', args: ['m'], cpu: 1 }] });
      const area = areaOf(r.machine, 1);
      r.machine.close();
      assert.equal(area.cpuId, 1);
    });
  });
});
