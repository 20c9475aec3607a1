// Processes and threads made by the program itself: clone with and without CLONE_VM, fork, wait4,
// exit and exit_group, getpid and gettid, write(2), and unknown system calls.
import { strict as assert } from 'node:assert';
import { RSEQ_SIG, readRseqArea } from '../../src/abi/rseq.js';
import { describeReturn } from '../../src/kernel/errno.js';
import { address, inline } from '../support/program.js';
import { path, runClosed, runThreads, sectionFunction, signed } from '../support/threads.js';

const CLONE_VM = 0x100;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;
const SIGCHLD = 17;

// Shared memory `m` (rbx in the program), 32 words:
//   m[0] clone's return in the parent   m[1] parent_tid   m[2] child_tid   m[3] child ran (1)
//   m[4] child's gettid   m[5] child's getpid   m[6] child's %fs:0   m[7] child's rseq() result
//   m[8] child's cpu_id after registering   m[9] child_tid as the child saw it   m[10] parent's getpid
//   m[16..] the child's TLS block (FS base at m+128)   m[24..] the child's rseq area (m+192, 32-aligned)
// The child's stack is the region `stack` (rsi = its top).
const cloneProgram = (flags: number) => `
  f:  movq %rdi, %rbx
      movq %rsi, %r12
      movl $39, %eax
      syscall
      movq %rax, 80(%rbx)
      movl $${flags}, %edi
      movq %r12, %rsi
      leaq 8(%rbx), %rdx
      leaq 16(%rbx), %r10
      leaq 128(%rbx), %r8
      movl $56, %eax
      syscall
      testq %rax, %rax
      jz child
      movq %rax, (%rbx)
      ret
  child:
      movq $1, 24(%rbx)
      movl $186, %eax
      syscall
      movq %rax, 32(%rbx)
      movl $39, %eax
      syscall
      movq %rax, 40(%rbx)
      movq 16(%rbx), %rax
      movq %rax, 72(%rbx)
      movq %fs:0, %rax
      movq %rax, 48(%rbx)
      leaq 192(%rbx), %rdi
      movl $32, %esi
      xorl %edx, %edx
      movl $${RSEQ_SIG}, %r10d
      movl $334, %eax
      syscall
      movq %rax, 56(%rbx)
      movl 196(%rbx), %eax
      movq %rax, 64(%rbx)
      movl $0, %edi
      movl $60, %eax
      syscall
      ud2`;

const STACK = { name: 'stack', size: 0x2000 };

async function runClone(flags: number, cpus = 2) {
  const image = await inline(cloneProgram(flags));
  // The TLS word the child should see through %fs:0 when CLONE_SETTLS points FS at m+128.
  const init = Array<bigint>(32).fill(0n);
  init[16] = 0x7e57n;
  return runThreads(image, { cpus, regions: [{ name: 'm', size: 256, words: init }, STACK], threads: [{ entry: 'f', args: ['m', 'stack+8192'] }] });
}

// A fork: the child writes 0xc41d to m[0] of its own copy and exits with status 7; the parent
// waits for it (wait4(-1, &m[2], 0, 0)) and stores wait4's result in m[1].
const FORK_AND_WAIT = `
  f:  movq %rdi, %rbx
      movl $57, %eax
      syscall
      testq %rax, %rax
      jz child
      movq %rax, 24(%rbx)
      movq $-1, %rdi
      leaq 16(%rbx), %rsi
      xorl %edx, %edx
      xorl %r10d, %r10d
      movl $61, %eax
      syscall
      movq %rax, 8(%rbx)
      ret
  child:
      movq $0xc41d, (%rbx)
      movl $7, %edi
      movl $60, %eax
      syscall
      ud2`;

describe('processes and threads', () => {
  describe('clone with CLONE_VM', () => {
    const flags = CLONE_VM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | SIGCHLD;

    it('starts a thread that shares memory: the parent gets its tid, the child gets 0 and runs', async () => {
      const r = await runClone(flags);
      const child = r.outcome.threads.find((t) => t.tid !== 1)!;
      r.machine.close();
      assert.equal(r.memory.m![0], BigInt(child.tid), 'clone returned the child tid in the parent');
      assert.equal(r.memory.m![3], 1n, 'the child\'s store is visible in the parent\'s memory');
      assert.equal(r.memory.m![4], BigInt(child.tid), 'gettid in the child');
      assert.equal(child.pid, 1);
      assert.deepEqual(child.end, { status: 'exited', exitCode: 0 });
    });

    it('gives the thread the parent\'s pid', async () => {
      const r = await runClone(flags);
      r.machine.close();
      assert.equal(r.memory.m![5], 1n);
      assert.equal(r.memory.m![10], 1n);
    });

    it('points FS at the tls argument with CLONE_SETTLS', async () => {
      const r = await runClone(flags);
      r.machine.close();
      assert.equal(r.memory.m![6], 0x7e57n);
    });

    it('stores the child tid for the parent and the child with CLONE_PARENT_SETTID and CLONE_CHILD_SETTID', async () => {
      const r = await runClone(flags);
      r.machine.close();
      assert.equal(r.memory.m![1], r.memory.m![0]);
      assert.equal(r.memory.m![2], r.memory.m![0]);
    });

    it('clears child_tid when the child exits with CLONE_CHILD_CLEARTID', async () => {
      const r = await runClone(flags | CLONE_CHILD_CLEARTID);
      r.machine.close();
      assert.equal(r.memory.m![9], r.memory.m![0], 'set while the child ran');
      assert.equal(r.memory.m![2], 0n, 'cleared at its exit');
    });

    it('writes neither tid without the SETTID flags', async () => {
      const r = await runClone(CLONE_VM | CLONE_SETTLS | SIGCHLD);
      r.machine.close();
      assert.deepEqual([r.memory.m![1], r.memory.m![2]], [0n, 0n]);
    });

    it('starts the thread unregistered: it can register its own area, and the kernel then writes its cpu_id', async () => {
      const r = await runClone(flags);
      const child = r.outcome.threads.find((t) => t.tid !== 1)!;
      r.machine.close();
      assert.equal(r.memory.m![7], 0n, 'rseq() in the child succeeded (a registered thread would get EBUSY or EINVAL)');
      assert.equal(r.memory.m![8], BigInt(child.cpu), 'cpu_id written on the way back from rseq()');
    });

    it('leaves the parent\'s registration alone', async () => {
      const r = await runClone(flags);
      const area = readRseqArea(r.machine.emu, r.machine.rseqArea(1));
      r.machine.close();
      assert.equal(area.cpuId, 0);
    });

    it('refuses a thread without a stack with EINVAL', async () => {
      const image = await inline(`f: movl $${CLONE_VM | SIGCHLD}, %edi\n xorl %esi, %esi\n movl $56, %eax\n syscall\n ret`);
      const r = runClosed(image, { threads: [{ entry: 'f' }] });
      assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-EINVAL');
      assert.equal(r.outcome.threads.length, 1);
    });
  });

  describe('clone without CLONE_VM and fork', () => {
    it('gives a clone without CLONE_VM its own copy of memory and its own pid', async () => {
      const r = await runClone(SIGCHLD);
      const child = r.outcome.threads.find((t) => t.tid !== 1)!;
      const childMem = r.machine.processes.find((p) => p.pid === child.pid)!.emu;
      const m = r.machine.regions.get('m')!.address;
      const childWords = [0, 3, 4, 5].map((i) => new DataView(childMem.read(m + BigInt(i * 8), 8).buffer).getBigUint64(0, true));
      r.machine.close();
      assert.notEqual(child.pid, 1);
      assert.equal(child.pid, child.tid);
      assert.equal(r.memory.m![3], 0n, 'the child\'s stores went to its own copy');
      assert.deepEqual(childWords, [0n, 1n, BigInt(child.tid), BigInt(child.pid)]);
    });

    it('makes the fork child inherit the registration, refreshing cpu_id on its first return to user space', async () => {
      // The child reads cpu_id from the inherited area, and getcpu, and exits with cpu_id * 16 + getcpu.
      const image = await inline(`
        f:  movl $57, %eax
            syscall
            testq %rax, %rax
            jz child
            ret
        child:
            movq __rseq_offset(%rip), %rcx
            movl %fs:4(%rcx), %ebx
            subq $8, %rsp
            movq %rsp, %rdi
            xorl %esi, %esi
            movl $309, %eax
            syscall
            movl (%rsp), %edi
            shll $4, %ebx
            addl %ebx, %edi
            movl $60, %eax
            syscall
            ud2`);
      const r = runClosed(image, { threads: [{ entry: 'f', cpu: 0 }] });
      const child = r.outcome.threads[1]!;
      assert.equal(child.cpu, 1, 'the child was placed on the idle CPU');
      assert.equal(child.end?.exitCode, 0x11, 'cpu_id 1 and getcpu 1');
    });

    it('marks the fork child with a migrate event even on the parent\'s CPU: a fork inside a section aborts in the child only', async () => {
      // sched_fork and wake_up_new_task call rseq_migrate unconditionally (ce3614daabea). One CPU, so no real migration.
      const image = await inline(sectionFunction('f', 'movl $57, %eax\n syscall\n nop', { abortReturns: true }));
      const run = (profile: string) => runClosed(image, { cpus: 1, profile, regions: [{ name: 'm', size: 128 }], threads: [{ entry: 'f', args: ['m'] }] });
      const fixed = run('linux');
      assert.deepEqual(fixed.outcome.threads.map((t) => path(t.returns[0]!)), ['committed', 'aborted'], 'parent, child');
      const buggy = run('linux,bug-new-task-cpu-id');
      assert.deepEqual(buggy.outcome.threads.map((t) => path(t.returns[0]!)), ['committed', 'committed']);
    });

    it('registers nothing anew in the fork child: rseq() with the same area and length is EBUSY there', async () => {
      const image = await inline(`
        f:  movl $57, %eax
            syscall
            testq %rax, %rax
            jz child
            ret
        child:
            movq __rseq_offset(%rip), %rdi
            addq %fs:0, %rdi
            movl $32, %esi
            xorl %edx, %edx
            movl $${RSEQ_SIG}, %r10d
            movl $334, %eax
            syscall
            movl %eax, %edi
            negl %edi
            movl $60, %eax
            syscall`);
      const r = runClosed(image, { threads: [{ entry: 'f' }] });
      assert.equal(r.outcome.threads[1]!.end?.exitCode, 16, 'EBUSY');
    });

    it('returns the child pid to the parent and 0 to the child for fork (57)', async () => {
      const r = runClosed(await inline(FORK_AND_WAIT), { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] });
      const child = r.outcome.threads[1]!;
      assert.equal(r.memory.m![3], BigInt(child.pid));
      assert.equal(r.memory.m![0], 0n, 'the child wrote to its own copy');
    });

    it('lets a fork child that returns from the entry function end as the parent would', async () => {
      const image = await inline('f: movl $57, %eax\n syscall\n ret');
      const r = runClosed(image, { threads: [{ entry: 'f' }] });
      assert.equal(r.outcome.status, 'completed');
      assert.deepEqual(r.outcome.threads.map((t) => t.end?.status), ['returned', 'returned']);
      assert.deepEqual(r.outcome.threads.map((t) => t.returns.at(-1)), [2n, 0n]);
    });
  });

  describe('wait4', () => {
    it('blocks the parent until the child exits, then returns its pid and status', async () => {
      const r = runClosed(await inline(FORK_AND_WAIT), { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] });
      const child = r.outcome.threads[1]!;
      const names = r.outcome.syscalls.map((s) => `${s.tid}:${s.name}`);
      assert.deepEqual(names, ['1:fork', '1:wait4', `${child.tid}:exit`], 'the parent waited before the child ran');
      assert.equal(r.memory.m![1], BigInt(child.pid));
      assert.equal(r.memory.m![2], 0x700n, 'WEXITSTATUS 7');
      assert.equal(r.outcome.status, 'completed');
    });

    it('returns at once when the child has already ended', async () => {
      // The child runs first: CPU 1 is stepped to its end before the parent reaches wait4.
      const image = await inline(FORK_AND_WAIT);
      const r = runClosed(image, { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] }, { schedule: 'c0:3 c1:*' });
      assert.deepEqual(r.outcome.syscalls.map((s) => s.name), ['fork', 'exit', 'wait4']);
      assert.equal(r.outcome.syscalls[2]!.ret, BigInt(r.outcome.threads[1]!.pid));
      assert.equal(r.memory.m![2], 0x700n);
    });

    it('reports a child killed by a signal with the signal number as its status', async () => {
      const image = await inline(FORK_AND_WAIT.replace('movq $0xc41d, (%rbx)', 'movq 0, %rax'));
      const r = runClosed(image, { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.outcome.threads[1]!.end?.signal, 'SIGSEGV');
      assert.equal(r.memory.m![2], 11n);
    });

    it('switches the waiting thread out, a preempt event: wait4 blocking inside a section returns to abort_ip', async () => {
      // g forks; the child exits at once; the parent waits inside f's section (made for the test: a system call there is a bug).
      const image = await inline(`
        ${sectionFunction('f', 'movq $-1, %rdi\n xorl %esi, %esi\n xorl %edx, %edx\n xorl %r10d, %r10d\n movl $61, %eax\n syscall\n nop', { abortReturns: true })}
        g:  movq %rdi, %rbx
            movl $57, %eax
            syscall
            testq %rax, %rax
            jz child
            movq %rbx, %rdi
            jmp f
        child:
            movl $60, %eax
            syscall`);
      const r = runClosed(image, { regions: [{ name: 'm', size: 128 }], threads: [{ entry: 'g', args: ['m'] }] });
      const child = r.outcome.threads[1]!;
      assert.equal(path(r.outcome.threads[0]!.returns[0]!), 'aborted');
      assert.equal(r.outcome.threads[0]!.returns[0]! >> 8n, BigInt(child.pid), 'with rax = the child pid');
      const sixNineteen = runClosed(image, { profile: 'linux-6.19', regions: [{ name: 'm', size: 128 }], threads: [{ entry: 'g', args: ['m'] }] });
      assert.equal(path(sixNineteen.outcome.threads[0]!.returns[0]!), 'committed', 'linux-6.19 records no event for a voluntary switch-out');
    });

    it('returns 0 at once with WNOHANG while the child still runs', async () => {
      const image = await inline(FORK_AND_WAIT.replace('xorl %edx, %edx\n      xorl %r10d, %r10d\n      movl $61, %eax', 'movl $1, %edx\n      xorl %r10d, %r10d\n      movl $61, %eax'));
      const r = runClosed(image, { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.memory.m![1], 0n);
      assert.equal(r.outcome.syscalls.find((s) => s.name === 'wait4')!.tid, 1);
      assert.deepEqual(r.outcome.syscalls.map((s) => s.name), ['fork', 'wait4', 'exit'], 'the parent did not wait');
    });

    it('returns -EFAULT, having reaped the child, when the status pointer is unmapped and it blocked', async () => {
      const image = await inline(FORK_AND_WAIT.replace('leaq 16(%rbx), %rsi', 'movq $8, %rsi'));
      const r = runClosed(image, { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.outcome.status, 'completed');
      assert.equal(describeReturn(r.memory.m![1]!), '-EFAULT');
    });

    it('returns -EFAULT, having reaped the child, when the status pointer is unmapped and the child had ended', async () => {
      const image = await inline(FORK_AND_WAIT.replace('leaq 16(%rbx), %rsi', 'movq $8, %rsi').replace('movq %rax, 8(%rbx)\n      ret', 'movq %rax, 8(%rbx)\n      movq $-1, %rdi\n      xorl %esi, %esi\n      movl $61, %eax\n      syscall\n      movq %rax, 16(%rbx)\n      ret'));
      const r = runClosed(image, { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] }, { schedule: 'c0:3 c1:*' });
      assert.equal(describeReturn(r.memory.m![1]!), '-EFAULT');
      assert.equal(describeReturn(r.memory.m![2]!), '-ECHILD', 'a second wait4 finds the child reaped');
    });

    it('refuses unknown options with EINVAL', async () => {
      const image = await inline('f: movq $-1, %rdi\n xorl %esi, %esi\n movl $0x100, %edx\n xorl %r10d, %r10d\n movl $61, %eax\n syscall\n ret');
      assert.equal(describeReturn(runClosed(image, { threads: [{ entry: 'f' }] }).outcome.threads[0]!.returns[0]!), '-EINVAL');
    });

    it('fails with ECHILD when there are no children', async () => {
      const image = await inline('f: movq $-1, %rdi\n xorl %esi, %esi\n xorl %edx, %edx\n xorl %r10d, %r10d\n movl $61, %eax\n syscall\n ret');
      const r = runClosed(image, { threads: [{ entry: 'f' }] });
      assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-ECHILD');
    });

    it('fails with ECHILD once the only child has been reaped', async () => {
      const image = await inline(FORK_AND_WAIT.replace('movq %rax, 8(%rbx)\n      ret', 'movq %rax, 8(%rbx)\n      movq $-1, %rdi\n      xorl %esi, %esi\n      movl $61, %eax\n      syscall\n      ret'));
      const r = runClosed(image, { regions: [{ name: 'm', size: 32 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-ECHILD');
    });
  });

  describe('exit and exit_group', () => {
    // T1 ends itself with exit(5) or exit_group(5); T2 (CPU 1) counts down 50 times and returns 9.
    const EXITS = (nr: number) => `
      quit: movl $5, %edi
            movl $${nr}, %eax
            syscall
            ud2
      spin: movl $50, %ecx
      1:    decl %ecx
            jnz 1b
            movl $9, %eax
            ret`;
    const BOTH = { threads: [{ entry: 'quit', cpu: 0 }, { entry: 'spin', cpu: 1 }] };

    it('ends only the calling thread on exit', async () => {
      const r = runClosed(await inline(EXITS(60)), BOTH, { schedule: 'c1:20 c0:*' });
      assert.deepEqual(r.outcome.threads[0]!.end, { status: 'exited', exitCode: 5 });
      assert.deepEqual(r.outcome.threads[1]!.end, { status: 'returned' });
      assert.deepEqual(r.outcome.threads[1]!.returns, [9n]);
    });

    it('ends every thread of the process on exit_group', async () => {
      const r = runClosed(await inline(EXITS(231)), BOTH, { schedule: 'c1:20 c0:*' });
      assert.equal(r.outcome.status, 'completed');
      assert.deepEqual(r.outcome.threads.map((t) => t.end), [{ status: 'exited', exitCode: 5 }, { status: 'exited', exitCode: 5 }]);
      assert.deepEqual(r.outcome.threads[1]!.returns, []);
    });

    it('leaves other processes running on exit_group', async () => {
      // The fork child spins for a while and returns; the parent exit_groups at once.
      const image = await inline(`
        f:  movl $57, %eax
            syscall
            testq %rax, %rax
            jz child
            movl $3, %edi
            movl $231, %eax
            syscall
        child:
            movl $50, %ecx
        1:  decl %ecx
            jnz 1b
            movl $60, %eax
            movl $4, %edi
            syscall`);
      const r = runClosed(image, { threads: [{ entry: 'f' }] });
      assert.deepEqual(r.outcome.threads.map((t) => t.end?.exitCode), [3, 4]);
    });

    it('keeps only the low 8 bits of the exit code', async () => {
      const r = runClosed(await inline('f: movl $0x1ff, %edi\n movl $60, %eax\n syscall'), { threads: [{ entry: 'f' }] });
      assert.equal(r.outcome.threads[0]!.end?.exitCode, 0xff);
    });
  });

  describe('rseq per thread', () => {
    // rseq(&own area, 32, flags, RSEQ_SIG) on the thread's glibc area; returns the result, and m[tid] = cpu_id afterwards.
    const RSEQ_OWN = (flags: number) => `
      f:  movq %rdi, %rbx
          movq __rseq_offset(%rip), %rdi
          addq %fs:0, %rdi
          movq %rdi, %r12
          movl $32, %esi
          movl $${flags}, %edx
          movl $${RSEQ_SIG}, %r10d
          movl $334, %eax
          syscall
          movq %rax, %r13
          movl $186, %eax
          syscall
          movslq 4(%r12), %rdx
          movq %rdx, (%rbx,%rax,8)
          movq %r13, %rax
          ret`;

    it('registers every thread with its own area, each seeing its own CPU', async () => {
      const r = runThreads(await inline(RSEQ_OWN(0)), { cpus: 3, regions: [{ name: 'm', size: 64 }], threads: [{ entry: 'f', args: ['m'], cpu: 2 }, { entry: 'f', args: ['m'], cpu: 0 }, { entry: 'f', args: ['m'], cpu: 1 }] });
      const areas = [1, 2, 3].map((tid) => r.machine.rseqArea(tid));
      r.machine.close();
      assert.equal(new Set(areas).size, 3);
      assert.deepEqual(r.outcome.threads.map((t) => describeReturn(t.returns[0]!)), ['-EBUSY', '-EBUSY', '-EBUSY'], 'each is registered already, at that very area');
      assert.deepEqual(r.memory.m!.slice(1, 4), [2n, 0n, 1n]);
    });

    it('unregisters one thread without touching the others', async () => {
      // T1 unregisters (its cpu_id becomes -1); T2 on the other CPU is still registered afterwards.
      const image = await inline(`${RSEQ_OWN(1)}\n${RSEQ_OWN(0).replace('f:', 'g:')}`);
      const r = runClosed(image, { regions: [{ name: 'm', size: 64 }], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'g', args: ['m'], cpu: 1 }] });
      assert.deepEqual(r.outcome.threads.map((t) => describeReturn(t.returns[0]!)), ['0', '-EBUSY']);
      assert.deepEqual(r.memory.m!.slice(1, 3), [-1n & 0xffff_ffff_ffff_ffffn, 1n]);
    });
  });

  describe('getpid and gettid', () => {
    it('gives every spawned thread its own tid and the process\'s pid, the first thread\'s tid being the pid', async () => {
      const image = await inline('f: movl $186, %eax\n syscall\n shlq $16, %rax\n movq %rax, %rbx\n movl $39, %eax\n syscall\n orq %rbx, %rax\n ret');
      const r = runClosed(image, { threads: [{ entry: 'f', cpu: 0 }, { entry: 'f', cpu: 1 }, { entry: 'f', cpu: 0 }] });
      const got = r.outcome.threads.map((t) => [t.tid, Number(t.returns[0]! >> 16n), Number(t.returns[0]! & 0xffffn)]);
      assert.deepEqual(got.map(([tid, seen]) => [tid, seen]), got.map(([tid]) => [tid, tid]));
      assert.deepEqual(got.map(([, , pid]) => pid), [1, 1, 1]);
      assert.equal(new Set(got.map(([tid]) => tid)).size, 3);
    });
  });

  describe('write', () => {
    const WRITE = (fd: number) => `f: movl $${fd}, %edi\n leaq msg(%rip), %rsi\n movl $3, %edx\n movl $1, %eax\n syscall\n ret\n msg: .ascii "ok\\n"`;

    it('captures output to fd 1 and fd 2 per thread', async () => {
      const one = await inline(WRITE(1));
      const two = await inline(WRITE(2));
      const a = runClosed(one, { threads: [{ entry: 'f', cpu: 0 }, { entry: 'f', cpu: 1 }] });
      const b = runClosed(two, { threads: [{ entry: 'f' }] });
      assert.deepEqual(a.outcome.output, [{ tid: 1, fd: 1, text: 'ok\n' }, { tid: 2, fd: 1, text: 'ok\n' }]);
      assert.deepEqual(b.outcome.output, [{ tid: 1, fd: 2, text: 'ok\n' }]);
      assert.equal(a.outcome.threads[0]!.returns[0], 3n);
    });

    it('fails with EBADF for any other descriptor, writing nothing', async () => {
      const r = runClosed(await inline(WRITE(3)), { threads: [{ entry: 'f' }] });
      assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-EBADF');
      assert.deepEqual(r.outcome.output, []);
    });

    it('fails with EFAULT for an unmapped buffer', async () => {
      const r = runClosed(await inline('f: movl $1, %edi\n movl $0x1000, %esi\n movl $3, %edx\n movl $1, %eax\n syscall\n ret'), { threads: [{ entry: 'f' }] });
      assert.equal(describeReturn(r.outcome.threads[0]!.returns[0]!), '-EFAULT');
    });
  });

  describe('system calls inside a critical section', () => {
    // getpid from inside f's section; `version` is the descriptor's version field.
    const inside = (version: number) => sectionFunction('f', 'movl $39, %eax\n syscall\n nop', { abortReturns: true }).replace('.long 0, 0', `.long ${version}, 0`);

    it('reports one, under every profile', async () => {
      for (const profile of ['linux', 'linux-5.x', 'linux-6.19']) {
        const r = runClosed(await inline(inside(0)), { profile, regions: [{ name: 'm', size: 128 }], threads: [{ entry: 'f', args: ['m'] }] });
        assert.deepEqual(r.outcome.syscalls.map((s) => [s.name, s.insideCriticalSection]), [['getpid', true]], profile);
      }
    });

    it('reports one inside the range of a descriptor the kernel would reject', async () => {
      const r = runClosed(await inline(inside(1)), { regions: [{ name: 'm', size: 128 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.outcome.syscalls[0]!.insideCriticalSection, true);
    });

    it('does not report one made after the section, with rseq_cs still set', async () => {
      const src = sectionFunction('f', 'nop', { abortReturns: true }).replace('shlq $8, %rax\n      orq $1, %rax', 'movl $39, %eax\n      syscall\n      shlq $8, %rax\n      orq $1, %rax');
      const r = runClosed(await inline(src), { regions: [{ name: 'm', size: 128 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.deepEqual(r.outcome.syscalls.map((s) => [s.name, s.insideCriticalSection]), [['getpid', false]]);
    });
  });

  describe('the syscall instruction', () => {
    it('leaves the return address in rcx and rflags in r11, as the CPU does on the way in', async () => {
      const image = await inline('f: movq $7, %rcx\n movq $9, %r11\n movl $39, %eax\n syscall\n after: movq %rcx, (%rdi)\n movq %r11, 8(%rdi)\n ret');
      const r = runClosed(image, { regions: [{ name: 'm', size: 16 }], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.memory.m![0], address(image, 'after'));
      assert.equal(r.memory.m![1]! & 0x2n, 0x2n, 'bit 1 of rflags is always set');
    });
  });

  describe('unknown system calls', () => {
    it('returns -ENOSYS and logs the call by number and name, named or not', async () => {
      const r = runClosed(await inline('f: movl $202, %eax\n syscall\n movq %rax, %rbx\n movl $999, %eax\n syscall\n ret'), { threads: [{ entry: 'f' }] });
      assert.deepEqual(r.outcome.syscalls.map((s) => [s.nr, s.name, s.implemented, signed(s.ret!)]), [[202, 'futex', false, -38n], [999, 'syscall_999', false, -38n]]);
    });
  });
});
