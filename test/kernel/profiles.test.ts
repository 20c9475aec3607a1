// Kernel profiles (spec section 7): each one's difference from the default `linux` (6.1–6.18),
// shown by a program that behaves differently under the two; and which combinations are allowed.
import { strict as assert } from 'node:assert';
import { RSEQ_SIG } from '../../src/abi/rseq.js';
import { readRseqTables } from '../../src/abi/tables.js';
import type { Image } from '../../src/asm/image.js';
import { RseqEmuError } from '../../src/errors.js';
import { describeReturn } from '../../src/kernel/errno.js';
import { parseProfile, profileName } from '../../src/kernel/profile.js';
import { hex } from '../../src/types.js';
import { bundled, inline } from '../support/program.js';
import { path, runClosed, sectionFunction, type Setup } from '../support/threads.js';

const M = { name: 'm', size: 128 };
const first = (r: { outcome: { threads: { returns: bigint[] }[] } }) => r.outcome.threads[0]!.returns[0]!;
const end = (r: { outcome: { threads: { end: unknown }[] } }, i = 0) => r.outcome.threads[i]!.end as { status: string; signal?: string; reason?: string; exitCode?: number } | null;

/**
 * A two-nop section `f_start..f_post` whose descriptor has `csFlags`; before arming it the thread
 * stores `rseqFlags` to rseq->flags.
 */
const flagged = (csFlags: number, rseqFlags: number) =>
  sectionFunction('f', 'xorl %eax, %eax\n nop', { abortReturns: true })
    .replace('.long 0, 0', `.long 0, ${csFlags}`)
    .replace('movq __rseq_offset(%rip), %rcx', `movq __rseq_offset(%rip), %rcx\n movl $${rseqFlags}, %fs:16(%rcx)`);

const one = (profile: string, extra: Partial<Setup> = {}): Setup => ({ profile, regions: [M], threads: [{ entry: 'f', args: ['m'] }], ...extra });

const COUNTERS = { name: 'counters', size: 16 };
const counterAdd = (profile: string): Setup => ({ profile, regions: [COUNTERS], threads: [{ entry: 'counter_add', args: ['counters', 5n] }] });
const section = (image: Image) => readRseqTables(image).sections[0]!;

describe('kernel profiles', () => {
  describe('linux-5.x', () => {
    it('lets NO_RESTART_ON_PREEMPT in rseq_cs.flags mask a preemption inside the section, where linux kills', async () => {
      const image = await inline(flagged(1, 0));
      const old = runClosed(image, one('linux-5.x'), { events: ['preempt@f_start'] });
      const now = runClosed(image, one('linux'), { events: ['preempt@f_start'] });
      assert.equal(path(first(old)), 'committed');
      assert.equal(end(now)?.signal, 'SIGSEGV');
    });

    it('still aborts for an event the flags do not mask (a signal with only NO_RESTART_ON_PREEMPT)', async () => {
      const r = runClosed(await inline(flagged(1, 0)), one('linux-5.x'), { events: ['signal@f_start'] });
      assert.equal(path(first(r)), 'aborted');
    });

    it('takes the flags from rseq->flags too: NO_RESTART_ON_PREEMPT | NO_RESTART_ON_MIGRATE masks a migration', async () => {
      const r = runClosed(await inline(flagged(0, 5)), one('linux-5.x'), { events: ['migrate:1@f_start'] });
      assert.equal(path(first(r)), 'committed');
    });

    it('does not let NO_RESTART_ON_MIGRATE alone mask a migration, which is also a preemption', async () => {
      const r = runClosed(await inline(flagged(4, 0)), one('linux-5.x'), { events: ['migrate:1@f_start'] });
      assert.equal(path(first(r)), 'aborted');
    });

    it('kills for NO_RESTART_ON_SIGNAL without both NO_RESTART_ON_PREEMPT and NO_RESTART_ON_MIGRATE', async () => {
      const r = runClosed(await inline(flagged(2, 1)), one('linux-5.x'), { events: ['preempt@f_start'] });
      assert.equal(end(r)?.signal, 'SIGSEGV');
      assert.match(end(r)?.reason ?? '', /NO_RESTART_ON_SIGNAL/);
    });

    it('writes neither node_id nor mm_cid, which linux rewrites on every return to user space', async () => {
      // The program scribbles over node_id and mm_cid, is preempted, and reads them back.
      const image = await inline(`
        f:  movq __rseq_offset(%rip), %rcx
            movl $0x77, %fs:20(%rcx)
            movl $0x77, %fs:24(%rcx)
            nop
            movl %fs:20(%rcx), %eax
            shlq $32, %rax
            movl %fs:24(%rcx), %edx
            orq %rdx, %rax
            ret`);
      const old = runClosed(image, one('linux-5.x'), { schedule: 'c0:4 T1:preempt' });
      const now = runClosed(image, one('linux'), { schedule: 'c0:4 T1:preempt' });
      assert.equal(first(old), 0x77_0000_0077n);
      assert.equal(first(now), 0n);
    });

    it('accepts only a registration length of exactly 32', async () => {
      const image = await inline(`f: movl $64, %esi\n xorl %edx, %edx\n movl $${RSEQ_SIG}, %ecx\n movl %ecx, %r10d\n movl $334, %eax\n syscall\n ret`);
      const old = runClosed(image, one('linux-5.x', { registration: 'none' }));
      const now = runClosed(image, one('linux', { registration: 'none' }));
      assert.equal(describeReturn(first(old)), '-EINVAL');
      assert.equal(first(now), 0n);
    });
  });

  describe('linux-6.19', () => {
    // cpu_id_start is overwritten with 0x99; after a preemption without migration the program reads it back.
    const SCRIBBLE = `
      f:  movq __rseq_offset(%rip), %rcx
          movl $0x99, %fs:0(%rcx)
          nop
          movl %fs:0(%rcx), %eax
          ret`;

    it('does not rewrite cpu_id_start after a preemption without migration (the TCMalloc regression), where linux does', async () => {
      const image = await inline(SCRIBBLE);
      const optimized = runClosed(image, one('linux-6.19'), { schedule: 'c0:2 T1:preempt' });
      const legacy = runClosed(image, one('linux'), { schedule: 'c0:2 T1:preempt' });
      assert.equal(first(optimized), 0x99n);
      assert.equal(first(legacy), 0n);
    });

    it('does write the ids when they change: after a migration', async () => {
      const r = runClosed(await inline(SCRIBBLE), one('linux-6.19'), { schedule: 'c0:2 T1:migrate:1' });
      assert.equal(first(r), 1n);
    });

    it('records no event for a voluntary switch-out: a section that yields to another thread commits, where linux aborts', async () => {
      const image = await inline(sectionFunction('f', 'movl $24, %eax\n syscall\n nop', { abortReturns: true }) + '\n n: ret');
      const setup = (profile: string): Setup => ({ profile, regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'n', cpu: 0 }] });
      assert.equal(path(first(runClosed(image, setup('linux-6.19')))), 'committed');
      assert.equal(path(first(runClosed(image, setup('linux')))), 'aborted');
    });

    it('records no event for a sleep either', async () => {
      const body = 'leaq 64(%r15), %rdi\n xorl %esi, %esi\n movl $35, %eax\n syscall\n nop';
      const image = await inline(sectionFunction('f', body, { abortReturns: true }));
      assert.equal(path(first(runClosed(image, one('linux-6.19')))), 'committed');
      assert.equal(path(first(runClosed(image, one('linux')))), 'aborted');
    });

    it('no longer kills for a version-1 descriptor: it aborts and the operation completes', async () => {
      const image = await bundled('counter_add.bug-version-1.s');
      const events = [`preempt@${hex(section(image).startIp)}`];
      const r = runClosed(image, counterAdd('linux-6.19'), { events });
      assert.equal(r.outcome.events[0]!.outcome, 'aborted');
      assert.deepEqual(r.memory.counters, [5n, 0n]);
      assert.equal(end(runClosed(image, counterAdd('linux'), { events }))?.signal, 'SIGSEGV');
    });

    it('no longer kills for an abort_ip inside the section (signature in place): it jumps there', async () => {
      const image = await inline(`
        f:  movq __rseq_offset(%rip), %rcx
            leaq cs(%rip), %rax
            movq %rax, %fs:8(%rcx)
        start:
            nop
            jmp body
            .byte 0x0f, 0xb9, 0x3d
            .long ${RSEQ_SIG}
        inside:
            movl $2, %eax
            jmp post
        body:
            movl $1, %eax
        post:
            ret
            .pushsection __rseq_cs, "aw"
            .balign 32
        cs: .long 0, 0
            .quad start, post - start, inside
            .popsection`);
      assert.equal(first(runClosed(image, one('linux-6.19'), { events: ['preempt@start'] })), 2n);
      assert.match(end(runClosed(image, one('linux'), { events: ['preempt@start'] }))?.reason ?? '', /inside the critical section/);
    });

    it('still checks the signature when the IP is inside', async () => {
      const image = await bundled('counter_add.bug-wrong-signature.s');
      const r = runClosed(image, counterAdd('linux-6.19'), { events: [`preempt@${hex(section(image).startIp)}`] });
      assert.equal(end(r)?.signal, 'SIGSEGV');
    });

    it('does not validate a descriptor when the IP is outside it, where linux kills', async () => {
      const image = await bundled('counter_add.bug-wrong-signature.s');
      const events = [`preempt@${hex(section(image).postCommitIp)}`];
      const r = runClosed(image, counterAdd('linux-6.19'), { events });
      assert.deepEqual(end(r), { status: 'returned' });
      assert.deepEqual(r.memory.counters, [5n, 0n]);
      assert.equal(end(runClosed(image, counterAdd('linux'), { events }))?.signal, 'SIGSEGV');
    });

    it('writes cpu_id_start = cpu_id = -1 during the registration itself, where linux writes nothing until the return to user space', async () => {
      // T1 registers an area (m, filled with 0x55) and is stopped right after the system call; T2 on CPU 1 copies the area to m+64.
      const image = await inline(`
        f:  movl $32, %esi
            xorl %edx, %edx
            movl $${RSEQ_SIG}, %r10d
            movl $334, %eax
            syscall
            ret
        copy:
            movq (%rdi), %rax
            movq %rax, 64(%rdi)
            movq 8(%rdi), %rax
            movq %rax, 72(%rdi)
            movq 16(%rdi), %rax
            movq %rax, 80(%rdi)
            movq 24(%rdi), %rax
            movq %rax, 88(%rdi)
            ret`);
      const fill = { name: 'm', size: 128, words: Array<bigint>(4).fill(0x5555_5555_5555_5555n) };
      const setup = (profile: string): Setup => ({ profile, registration: 'none', regions: [fill], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'copy', args: ['m'], cpu: 1 }] });
      const optimized = runClosed(image, setup('linux-6.19'), { schedule: 'c0:5 c1:*' });
      const legacy = runClosed(image, setup('linux'), { schedule: 'c0:5 c1:*' });
      assert.deepEqual(optimized.memory.m!.slice(8, 12), [0xffff_ffff_ffff_ffffn, 0n, 0n, 0x5555_5555_0000_0000n], 'cpu_id_start, cpu_id = -1; rseq_cs, flags, node_id, mm_cid = 0');
      assert.deepEqual(legacy.memory.m!.slice(8, 12), [0x5555_5555_5555_5555n, 0n, 0x5555_5555_5555_5555n, 0x5555_5555_5555_5555n], 'only the stale rseq_cs cleared (6.15+)');
      assert.equal(first(optimized), 0n);
    });
  });

  describe('debug-rseq', () => {
    it('kills with SIGSEGV at the exit of a system call made inside a section, which linux lets commit', async () => {
      const image = await inline(sectionFunction('f', 'movl $39, %eax\n syscall\n nop', { abortReturns: true }));
      const debug = runClosed(image, one('linux,debug-rseq'));
      assert.equal(end(debug)?.signal, 'SIGSEGV');
      assert.match(end(debug)?.reason ?? '', /system call inside the critical section/);
      assert.equal(path(first(runClosed(image, one('linux')))), 'committed');
    });

    it('raises that SIGSEGV as force_sig does: a SIGSEGV handler catches it, and the section aborts on its delivery', async () => {
      // g installs a SIGSEGV handler counting in m[1], then calls f, whose section makes a system call.
      const image = await inline(`
        ${sectionFunction('f', 'movl $39, %eax\n syscall\n nop', { abortReturns: true })}
        g:  movq %rdi, %rbx
            leaq h(%rip), %rax
            movq %rax, 64(%rbx)
            movq $0x04000000, 72(%rbx)
            leaq r(%rip), %rax
            movq %rax, 80(%rbx)
            movq $0, 88(%rbx)
            movl $11, %edi
            leaq 64(%rbx), %rsi
            xorl %edx, %edx
            movl $8, %r10d
            movl $13, %eax
            syscall
            movq %rbx, %rdi
            jmp f
        h:  incq 8(%rbx)
            ret
        r:  movl $15, %eax
            syscall`);
      const r = runClosed(image, { profile: 'linux,debug-rseq', regions: [M], threads: [{ entry: 'g', args: ['m'] }] });
      assert.equal(r.memory.m![1], 1n, 'the handler ran once');
      assert.equal(path(first(r)), 'aborted');
    });

    it('kills with SIGSEGV at a system call\'s exit while rseq_cs points at an invalid descriptor, even outside the section', async () => {
      // rseq_cs is armed with a version-1 descriptor, then getpid runs outside its section.
      const image = await inline(sectionFunction('f', 'nop', { abortReturns: true }).replace('.long 0, 0', '.long 1, 0').replace('f_start:', 'movl $39, %eax\n syscall\n f_start:'));
      const debug = runClosed(image, one('linux,debug-rseq'));
      assert.match(end(debug)?.reason ?? '', /invalid rseq_cs at syscall exit/);
      assert.deepEqual(end(runClosed(image, one('linux'))), { status: 'returned' });
    });

    it('warns about a user write to cpu_id', async () => {
      const image = await inline('f: movq __rseq_offset(%rip), %rcx\n movl $0x42, %fs:4(%rcx)\n nop\n ret');
      const debug = runClosed(image, one('linux,debug-rseq'), { schedule: 'c0:2 T1:preempt' });
      assert.equal(debug.outcome.warnings.filter((w) => /wrote kernel-owned rseq field cpu_id\b/.test(w)).length, 1);
      assert.deepEqual(end(debug), { status: 'returned' }, 'a warning, not a kill');
      assert.deepEqual(runClosed(image, one('linux'), { schedule: 'c0:2 T1:preempt' }).outcome.warnings, []);
    });
  });

  describe('linux-6.19,debug-rseq', () => {
    it('kills on a user write to cpu_id_start, where linux-6.19 alone lets it stand', async () => {
      const image = await inline('f: movq __rseq_offset(%rip), %rcx\n movl $0x99, %fs:0(%rcx)\n nop\n movl %fs:0(%rcx), %eax\n ret');
      const debug = runClosed(image, one('linux-6.19,debug-rseq'), { schedule: 'c0:2 T1:preempt' });
      assert.equal(end(debug)?.signal, 'SIGSEGV');
      assert.match(end(debug)?.reason ?? '', /cpu_id_start/);
      assert.equal(first(runClosed(image, one('linux-6.19'), { schedule: 'c0:2 T1:preempt' })), 0x99n);
    });

    it('restores the full descriptor checks: a version-1 descriptor kills again', async () => {
      const image = await bundled('counter_add.bug-version-1.s');
      const r = runClosed(image, counterAdd('linux-6.19,debug-rseq'), { events: [`preempt@${hex(section(image).startIp)}`] });
      assert.match(end(r)?.reason ?? '', /version 1/);
    });
  });

  describe('bug-new-task-cpu-id', () => {
    // The fork child (on CPU 1) exits with (cpu_id at its start) << 4 | (cpu_id after a sleep, its next event).
    const FORK = `
      f:  movl $57, %eax
          syscall
          testq %rax, %rax
          jz child
          ret
      child:
          movq __rseq_offset(%rip), %rbx
          movl %fs:4(%rbx), %r12d
          subq $16, %rsp
          movq $0, (%rsp)
          movq $0, 8(%rsp)
          movq %rsp, %rdi
          xorl %esi, %esi
          movl $35, %eax
          syscall
          movl %fs:4(%rbx), %edi
          shll $4, %r12d
          orl %r12d, %edi
          movl $60, %eax
          syscall`;
    const forked = async (profile: string) => runClosed(await inline(FORK), { profile, threads: [{ entry: 'f', cpu: 0 }] });

    it('leaves a fork child placed on another CPU with the parent\'s cpu_id until its next event', async () => {
      const r = await forked('linux,bug-new-task-cpu-id');
      assert.equal(r.outcome.threads[1]!.cpu, 1);
      assert.equal(end(r, 1)?.exitCode, 0x01);
    });

    it('gives the child its own cpu_id from the start under linux', async () => {
      assert.equal(end(await forked('linux'), 1)?.exitCode, 0x11);
    });
  });

  describe('bug-kvm-run', () => {
    // ioctl(3, KVM_RUN); then returns cpu_id << 4 | getcpu().
    const KVM = `
      f:  movl $3, %edi
          movl $0xae80, %esi
          xorl %edx, %edx
          movl $16, %eax
          syscall
          movq %rax, %r13
          subq $8, %rsp
          movq %rsp, %rdi
          xorl %esi, %esi
          movl $309, %eax
          syscall
          movl (%rsp), %eax
          movq __rseq_offset(%rip), %rcx
          movl %fs:4(%rcx), %edx
          shll $4, %edx
          orl %edx, %eax
          addq $8, %rsp
          ret`;

    it('leaves cpu_id stale after a migration during KVM_RUN', async () => {
      const r = runClosed(await inline(KVM), { profile: 'linux,bug-kvm-run', threads: [{ entry: 'f', cpu: 0 }] }, { schedule: 'c0:* T1:migrate:1 c1:*' });
      assert.equal(first(r), 0x01n, 'getcpu 1, cpu_id still 0');
    });

    it('updates cpu_id after the same migration under linux', async () => {
      const r = runClosed(await inline(KVM), { profile: 'linux', threads: [{ entry: 'f', cpu: 0 }] }, { schedule: 'c0:* T1:migrate:1 c1:*' });
      assert.equal(first(r), 0x11n);
    });

    it('leaves cpu_id stale when another thread moves it with sched_setaffinity, as the kvm selftest does', async () => {
      const image = await inline(`${KVM}
        move:
            movq $2, (%rdi)
            movq %rdi, %rdx
            movl $1, %edi
            movl $8, %esi
            movl $203, %eax
            syscall
            ret`);
      const setup = (profile: string): Setup => ({ profile, regions: [M], threads: [{ entry: 'f', cpu: 0 }, { entry: 'move', args: ['m'], cpu: 1 }] });
      assert.equal(first(runClosed(image, setup('linux,bug-kvm-run'), { schedule: 'c0:* c1:*' })), 0x01n);
      assert.equal(first(runClosed(image, setup('linux'), { schedule: 'c0:* c1:*' })), 0x11n);
    });

    it('returns 0 from KVM_RUN and ENOTTY for any other ioctl request', async () => {
      const r = runClosed(await inline('f: movl $3, %edi\n movl $0x5401, %esi\n movl $16, %eax\n syscall\n ret'), { threads: [{ entry: 'f' }] });
      assert.equal(describeReturn(first(r)), '-ENOTTY');
      const kvm = runClosed(await inline(KVM), { profile: 'linux', threads: [{ entry: 'f' }] });
      assert.equal(kvm.outcome.syscalls[0]!.name, 'ioctl');
      assert.deepEqual(end(kvm), { status: 'returned' });
    });
  });

  describe('proposal-reliable-cpu-id', () => {
    const probe = `f: xorl %edi, %edi\n xorl %esi, %esi\n movl $4, %edx\n xorl %r10d, %r10d\n movl $334, %eax\n syscall\n ret`;
    const register = `f: movl $32, %esi\n movl $6, %edx\n movl $${RSEQ_SIG}, %r10d\n movl $334, %eax\n syscall\n ret`;
    const result = async (src: string, profile: string) => describeReturn(first(runClosed(await inline(src), one(profile, { registration: 'none' }))));

    it('answers rseq(NULL, 0, RSEQ_FLAG_RELIABLE_CPU_ID, 0) with 0, where linux says EINVAL', async () => {
      assert.equal(await result(probe, 'linux,proposal-reliable-cpu-id'), '0');
      assert.equal(await result(probe, 'linux'), '-EINVAL');
    });

    it('registers with RSEQ_FLAG_REGISTER | RSEQ_FLAG_RELIABLE_CPU_ID on a kernel with the new-task fix', async () => {
      assert.equal(await result(register, 'linux,proposal-reliable-cpu-id'), '0');
    });

    it('refuses that registration with EINVAL on a kernel with the new-task cpu_id bug', async () => {
      assert.equal(await result(register, 'linux,bug-new-task-cpu-id,proposal-reliable-cpu-id'), '-EINVAL');
    });

    it('refuses flags 6 with EINVAL without the proposal', async () => {
      assert.equal(await result(register, 'linux'), '-EINVAL');
    });

    it('writes cpu_id after a registration with the flag, as after a plain one', async () => {
      const src = register.replace('ret', 'movl 4(%rdi), %eax\n ret');
      const r = runClosed(await inline(src), { profile: 'linux,proposal-reliable-cpu-id', registration: 'none', regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 1 }] });
      assert.equal(first(r), 1n);
    });
  });

  describe('combinations', () => {
    const fails = (text: string, pattern: RegExp) => assert.throws(() => parseProfile(text), (e: unknown) => e instanceof RseqEmuError && e.code === 'USAGE' && pattern.test(e.message), text);

    it('combines a kernel with a bug: linux,bug-kvm-run', () => {
      const p = parseProfile('linux,bug-kvm-run');
      assert.equal(p.base, 'linux');
      assert.equal(p.bugKvmRun, true);
      assert.equal(profileName(p), 'linux,bug-kvm-run');
    });

    it('defaults the kernel to linux when only options are named', () => {
      assert.equal(profileName(parseProfile('debug-rseq')), 'linux,debug-rseq');
    });

    it('refuses two kernels', () => {
      fails('linux-5.x,linux-6.19', /'linux-5.x' and 'linux-6.19' are different kernels/);
    });

    it('refuses a bug fixed long before linux-6.19 together with it', () => {
      fails('linux-6.19,bug-kvm-run', /bug-kvm-run .* cannot be combined with linux-6.19/);
      fails('linux-6.19,bug-new-task-cpu-id', /bug-new-task-cpu-id .* cannot be combined with linux-6.19/);
    });

    it('refuses an unknown name, listing the known ones', () => {
      fails('linux,bug-everything', /unknown profile 'bug-everything' \(known: linux, linux-5.x, linux-6.19/);
    });

    it('reports the profile a run used', async () => {
      const r = runClosed(await inline('f: ret'), { profile: 'linux-5.x,debug-rseq', threads: [{ entry: 'f' }] });
      assert.equal(r.outcome.profile, 'linux-5.x,debug-rseq');
    });
  });
});
