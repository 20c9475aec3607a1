// Signals: rt_sigaction, rt_sigprocmask, rt_sigreturn, kill and tgkill, and delivery with a real
// x86-64 rt_sigframe (arch/x86/kernel/signal_64.c), the rseq fix-up running before the frame is built.
import { strict as assert } from 'node:assert';
import { RSEQ_SIG } from '../../src/abi/rseq.js';
import { describeReturn } from '../../src/kernel/errno.js';
import { address, inline } from '../support/program.js';
import { runClosed } from '../support/threads.js';

const SIGUSR1 = 10;
const SIGUSR2 = 12;
const SIGKILL = 9;
const SIGSEGV = 11;
const SA_SIGINFO = 0x4;
const SA_RESTORER = 0x04000000;
const SA_NODEFER = 0x40000000;
const SA_RESETHAND = 0x80000000;
const bit = (signo: number) => 1n << BigInt(signo - 1);

// Every program keeps m (its first argument) in rbx and uses m[48..51] for a struct sigaction.
const M = { name: 'm', size: 512 };

/** rt_sigaction(signo, {handler, flags, restorer, mask}, NULL, 8); handler is a label or a number (SIG_IGN = 1). */
function install(signo: number, handler: string | number, flags: number, restorer = 'restorer', mask = 0n): string {
  const h = typeof handler === 'number' ? `movq $${handler}, %rax` : `leaq ${handler}(%rip), %rax`;
  return `
      ${h}
      movq %rax, 0x180(%rbx)
      movq $${flags}, %rax
      movq %rax, 0x188(%rbx)
      leaq ${restorer}(%rip), %rax
      movq %rax, 0x190(%rbx)
      movq $${mask}, %rax
      movq %rax, 0x198(%rbx)
      movl $${signo}, %edi
      leaq 0x180(%rbx), %rsi
      xorl %edx, %edx
      movl $8, %r10d
      movl $13, %eax
      syscall`;
}

/** rt_sigprocmask(how, &m[20] = set, &m[slot] or NULL, 8). */
function sigprocmask(how: number, set: bigint | null, oldSlot: number | null): string {
  return `
      ${set === null ? 'xorl %esi, %esi' : `movq $${set}, %rax\n      movq %rax, 160(%rbx)\n      leaq 160(%rbx), %rsi`}
      movl $${how}, %edi
      ${oldSlot === null ? 'xorl %edx, %edx' : `leaq ${oldSlot * 8}(%rbx), %rdx`}
      movl $8, %r10d
      movl $14, %eax
      syscall`;
}

/** tgkill(getpid(), tid or gettid(), signo). */
function raise(signo: number, tid?: number): string {
  return `
      movl $39, %eax
      syscall
      movq %rax, %r12
      ${tid === undefined ? 'movl $186, %eax\n      syscall\n      movq %rax, %rsi' : `movl $${tid}, %esi`}
      movq %r12, %rdi
      movl $${signo}, %edx
      movl $234, %eax
      syscall`;
}

const RESTORER = `
  restorer:
      movl $15, %eax
      syscall
      ud2`;

// The frame program: a handler for SIGUSR1 (blocking SIGUSR2 too) is installed, every general
// register gets a known value, SIGUSR1 arrives at `ready`, and after rt_sigreturn every register
// and the signal mask are stored. The handler records what it got and clobbers every register.
//   after: m[0..7] r8..r15, m[8] rbp, m[9] rsi, m[10] rdi, m[11] rdx, m[12] rax, m[13] rcx, m[14] rsp, m[15] mask
//   handler: m[32] rdi, m[33] rsi, m[34] rdx, m[35] rsp, m[36] return address, m[37] saved rip,
//            m[38] si_signo, m[39] saved r12, m[40] mask in the handler, m[41] saved rsp, m[42] uc_sigmask
const FRAME = `
  f:  movq %rdi, %rbx
      ${install(SIGUSR1, 'handler', SA_RESTORER | SA_SIGINFO, 'restorer', bit(SIGUSR2))}
      movq $0x1008, %r8
      movq $0x1009, %r9
      movq $0x100a, %r10
      movq $0x100b, %r11
      movq $0x100c, %r12
      movq $0x100d, %r13
      movq $0x100e, %r14
      movq $0x100f, %r15
      movq $0x10bb, %rbp
      movq $0x1051, %rsi
      movq $0x1052, %rdi
      movq $0x1053, %rdx
      movq $0x1054, %rax
      movq $0x1055, %rcx
  ready:
      movq %r8, 0x00(%rbx)
      movq %r9, 0x08(%rbx)
      movq %r10, 0x10(%rbx)
      movq %r11, 0x18(%rbx)
      movq %r12, 0x20(%rbx)
      movq %r13, 0x28(%rbx)
      movq %r14, 0x30(%rbx)
      movq %r15, 0x38(%rbx)
      movq %rbp, 0x40(%rbx)
      movq %rsi, 0x48(%rbx)
      movq %rdi, 0x50(%rbx)
      movq %rdx, 0x58(%rbx)
      movq %rax, 0x60(%rbx)
      movq %rcx, 0x68(%rbx)
      movq %rsp, 0x70(%rbx)
      ${sigprocmask(0, null, 15)}
      ret
  handler:
      movq %rdi, 0x100(%rbx)
      movq %rsi, 0x108(%rbx)
      movq %rdx, 0x110(%rbx)
      movq %rsp, 0x118(%rbx)
      movq (%rsp), %rax
      movq %rax, 0x120(%rbx)
      movq 168(%rdx), %rax
      movq %rax, 0x128(%rbx)
      movl (%rsi), %eax
      movq %rax, 0x130(%rbx)
      movq 72(%rdx), %rax
      movq %rax, 0x138(%rbx)
      movq 160(%rdx), %rax
      movq %rax, 0x148(%rbx)
      movq 296(%rdx), %rax
      movq %rax, 0x150(%rbx)
      movq $0x5eed, 88(%rdx)
      ${sigprocmask(0, null, 40)}
      movq $-1, %rax
      movq $-1, %rcx
      movq $-1, %rdx
      movq $-1, %rsi
      movq $-1, %rdi
      movq $-1, %rbp
      movq $-1, %r8
      movq $-1, %r9
      movq $-1, %r10
      movq $-1, %r11
      movq $-1, %r12
      movq $-1, %r13
      movq $-1, %r14
      movq $-1, %r15
      movq $-1, %rbx
      ret
  ${RESTORER}`;

async function frameRun() {
  const image = await inline(FRAME);
  const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] }, { events: ['signal:SIGUSR1@ready'] });
  return { ...r, image, m: r.memory.m! };
}

// A critical section [sstart, spost) of two nops; SIGUSR1's handler records the saved RIP (m[0]) and
// rseq_cs as the handler sees it (m[1]). Returns 1 when the section committed, 2 from the abort handler.
const SECTION = `
  g:  movq %rdi, %rbx
      ${install(SIGUSR1, 'rhandler', SA_RESTORER)}
      movq __rseq_offset(%rip), %rcx
      leaq gcs(%rip), %rax
      movq %rax, %fs:8(%rcx)
  sstart:
      nop
      nop
  spost:
      movl $1, %eax
      ret
      .pushsection __rseq_cs, "aw"
      .balign 32
  gcs: .long 0, 0
      .quad sstart, spost - sstart, sabort
      .popsection
      .byte 0x0f, 0xb9, 0x3d
      .long ${RSEQ_SIG}
  sabort:
      movl $2, %eax
      ret
  rhandler:
      movq 168(%rdx), %rax
      movq %rax, (%rbx)
      movq __rseq_offset(%rip), %rcx
      movq %fs:8(%rcx), %rax
      movq %rax, 8(%rbx)
      ret
  ${RESTORER}`;

const first = (r: { outcome: { threads: { returns: bigint[] }[] } }) => r.outcome.threads[0]!.returns[0]!;

describe('signals', () => {
  describe('the handler\'s frame', () => {
    it('calls the handler with rdi = signo, rsi = &siginfo, rdx = &ucontext, and si_signo set', async () => {
      const { m } = await frameRun();
      assert.equal(m[32], BigInt(SIGUSR1));
      assert.equal(m[38], BigInt(SIGUSR1));
      assert.equal(m[33], m[34]! + 304n, 'the siginfo follows the 304-byte ucontext');
    });

    it('builds the frame on the thread\'s stack, below the red zone, with rsp = 8 mod 16 at entry', async () => {
      const { m } = await frameRun();
      assert.equal(m[35]! % 16n, 8n);
      assert.equal(m[35], m[34]! - 8n, 'the return address sits right below the ucontext');
      assert.ok(m[35]! < m[14]! - 128n - 440n, 'below the interrupted rsp, its red zone and the frame');
      assert.ok(m[35]! > m[14]! - 0x1000n, 'on the same stack');
    });

    it('returns from the handler to sa_restorer', async () => {
      const { m, image } = await frameRun();
      assert.equal(m[36], address(image, 'restorer'));
    });

    it('saves the interrupted registers in uc_mcontext, RIP and rsp included', async () => {
      const { m, image } = await frameRun();
      assert.equal(m[37], address(image, 'ready'));
      assert.equal(m[39], 0x100cn);
      assert.equal(m[41], m[14]);
    });

    it('blocks the signal and sa_mask while the handler runs, and saves the old mask in uc_sigmask', async () => {
      const { m } = await frameRun();
      assert.equal(m[40], bit(SIGUSR1) | bit(SIGUSR2));
      assert.equal(m[42], 0n);
    });

    it('restores every general register and the signal mask on rt_sigreturn, from the frame as the handler left it', async () => {
      const { m, outcome } = await frameRun();
      assert.deepEqual(m.slice(0, 8), [0x1008n, 0x1009n, 0x100an, 0x100bn, 0x100cn, 0x100dn, 0x5eedn, 0x100fn], 'r8..r15, r14 as the handler rewrote it');
      assert.deepEqual(m.slice(8, 14), [0x10bbn, 0x1051n, 0x1052n, 0x1053n, 0x1054n, 0x1055n], 'rbp rsi rdi rdx rax rcx');
      assert.equal(m[15], 0n, 'mask restored');
      assert.equal(outcome.threads[0]!.end?.status, 'returned');
    });

    it('clears the direction flag for the handler, and rt_sigreturn sets it back', async () => {
      // The ABI guarantees DF = 0 at function entry; the interrupted code had set it.
      const image = await inline(`
        f:  movq %rdi, %rbx
            ${install(SIGUSR1, 'h', SA_RESTORER)}
            std
        here:
            pushfq
            popq %rax
            cld
            movq %rax, 8(%rbx)
            ret
        h:  pushfq
            popq %rax
            movq %rax, (%rbx)
            ret
        ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] }, { events: ['signal:SIGUSR1@here'] });
      const DF = 0x400n;
      assert.equal(r.memory.m![0]! & DF, 0n, 'clear in the handler');
      assert.equal(r.memory.m![1]! & DF, DF, 'set again after rt_sigreturn');
    });

    it('kills the thread with SIGSEGV when the frame cannot be written to its stack', async () => {
      const image = await inline(`f: movq %rdi, %rbx\n ${install(SIGUSR1, 'h', SA_RESTORER)}\n movq $0x2000, %rsp\n here: nop\n ud2\n h: ret\n ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] }, { events: ['signal:SIGUSR1@here'] });
      assert.equal(r.outcome.threads[0]!.end?.signal, 'SIGSEGV');
      assert.match(r.outcome.threads[0]!.end?.reason ?? '', /frame/);
    });

    it('runs the handler of a signal sent to another thread on that thread\'s stack', async () => {
      const image = await inline(`
        sender:
            movq %rdi, %rbx
            ${install(SIGUSR1, 'handler', SA_RESTORER)}
            ${raise(SIGUSR1, 2)}
            ret
        receiver:
            movq %rdi, %rbx
            movl $100, %ecx
        1:  decl %ecx
            jnz 1b
            movq %rsp, 8(%rbx)
            ret
        handler:
            movq %rsp, 16(%rbx)
            movl $186, %eax
            syscall
            movq %rax, 24(%rbx)
            ret
        ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'sender', args: ['m'], cpu: 0 }, { entry: 'receiver', args: ['m'], cpu: 1 }] }, { schedule: 'c1:10 c0:* c1:*' });
      const [, receiverRsp, handlerRsp, tid] = r.memory.m!;
      assert.equal(tid, 2n);
      assert.ok(handlerRsp! < receiverRsp! && handlerRsp! > receiverRsp! - 0x1000n, 'on the receiver\'s stack');
    });
  });

  describe('rseq and signal delivery', () => {
    it('aborts the section before building the frame: the saved RIP is abort_ip and rseq_cs is 0 in the handler', async () => {
      const image = await inline(SECTION);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'g', args: ['m'] }] }, { events: ['signal:SIGUSR1@sstart+1'] });
      assert.equal(r.memory.m![0], address(image, 'sabort'));
      assert.equal(r.memory.m![1], 0n);
      assert.equal(first(r), 2n, 'rt_sigreturn resumed at abort_ip');
      assert.equal(r.outcome.events[0]!.outcome, 'aborted');
    });

    it('kills when the fix-up fails while delivering the SIGSEGV it raised, a SIGSEGV handler notwithstanding', async () => {
      // rseq_cs names a version-1 descriptor; SIGUSR1's delivery fails the fix-up (SIGSEGV, catchable), and so does SIGSEGV's own.
      const image = await inline(SECTION.replace('gcs: .long 0, 0', 'gcs: .long 1, 0').replace('  sstart:', `${install(SIGSEGV, 'rhandler', SA_RESTORER)}\n      ${raise(SIGUSR1)}\n  sstart:`));
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'g', args: ['m'] }] });
      assert.equal(r.outcome.threads[0]!.end?.signal, 'SIGSEGV');
      assert.match(r.outcome.threads[0]!.end?.reason ?? '', /version 1/);
      assert.equal(r.memory.m![0], 0n, 'no handler ran');
      assert.equal(r.outcome.warnings.filter((w) => /SIGSEGV sent to its handler/.test(w)).length, 1, 'the first SIGSEGV was catchable');
    });

    it('saves the interrupted RIP when the signal arrives outside the section', async () => {
      const image = await inline(SECTION);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'g', args: ['m'] }] }, { events: ['signal:SIGUSR1@spost'] });
      assert.equal(r.memory.m![0], address(image, 'spost'));
      assert.equal(first(r), 1n);
    });

    it('runs an emulator-supplied handler for a scheduled signal when the program installed none', async () => {
      // A model convenience: `Tn:signal` injects the event without killing the thread.
      const image = await inline(SECTION.replace(install(SIGUSR1, 'rhandler', SA_RESTORER), ''));
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'g', args: ['m'] }] }, { events: ['signal@sstart'] });
      assert.equal(r.outcome.threads[0]!.end?.status, 'returned');
      assert.equal(first(r), 2n);
    });
  });

  describe('injected signals', () => {
    it('queues a signal injected twice before delivery once: one stand-in frame, none owed to a later signal', async () => {
      // Linux keeps one instance of a pending standard signal. The program's own SIGUSR1 later, with
      // no handler installed, takes the default action: it kills the process.
      const image = await inline(`f: nop\n nop\n ${raise(SIGUSR1)}\n ret`);
      const r = runClosed(image, { threads: [{ entry: 'f', args: [] }] }, { schedule: 'c0:1 T1:signal:SIGUSR1 T1:signal:SIGUSR1' });
      assert.equal(r.outcome.threads[0]!.end?.status, 'signal');
    });
  });

  describe('dispositions', () => {
    it('kills the thread with SIGSEGV when the handler has no SA_RESTORER', async () => {
      const image = await inline(`f: movq %rdi, %rbx\n ${install(SIGUSR1, 'h', 0)}\n ${raise(SIGUSR1)}\n ret\n h: ret\n ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.outcome.threads[0]!.end?.signal, 'SIGSEGV');
      assert.match(r.outcome.threads[0]!.end?.reason ?? '', /SA_RESTORER/);
    });

    it('discards a signal whose action is SIG_IGN', async () => {
      const image = await inline(`f: movq %rdi, %rbx\n ${install(SIGUSR1, 1, SA_RESTORER)}\n ${raise(SIGUSR1)}\n movl $5, %eax\n ret\n ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.deepEqual(r.outcome.threads[0]!.end, { status: 'returned' });
      assert.equal(first(r), 5n);
    });

    it('kills every thread of the process on a signal whose default action is to terminate', async () => {
      const image = await inline(`
        f:  movq %rdi, %rbx
            ${raise(SIGUSR1)}
            ret
        spin:
            movl $100, %ecx
        1:  decl %ecx
            jnz 1b
            ret`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'], cpu: 0 }, { entry: 'spin', cpu: 1 }] }, { schedule: 'c1:5 c0:*' });
      assert.deepEqual(r.outcome.threads.map((t) => [t.end?.status, t.end?.signal]), [['signal', 'SIGUSR1'], ['signal', 'SIGUSR1']]);
    });

    it('ignores a signal whose default action is to ignore (SIGCHLD)', async () => {
      const r = runClosed(await inline(`f: movq %rdi, %rbx\n ${raise(17)}\n movl $5, %eax\n ret`), { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(first(r), 5n);
    });

    it('keeps a blocked signal pending and delivers it as soon as it is unblocked', async () => {
      const image = await inline(`
        f:  movq %rdi, %rbx
            ${install(SIGUSR1, 'h', SA_RESTORER)}
            ${sigprocmask(0, bit(SIGUSR1), null)}
            ${raise(SIGUSR1)}
            movq 8(%rbx), %rax
            movq %rax, 16(%rbx)
            ${sigprocmask(1, bit(SIGUSR1), null)}
            movq 8(%rbx), %rax
            movq %rax, 24(%rbx)
            ret
        h:  incq 8(%rbx)
            ret
        ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.memory.m![2], 0n, 'not delivered while blocked');
      assert.equal(r.memory.m![3], 1n, 'delivered on the way back from the unblocking rt_sigprocmask');
    });

    it('restores the default action after delivery with SA_RESETHAND, and lets the handler nest with SA_NODEFER', async () => {
      // The handler raises SIGUSR1 again once: with SA_NODEFER it is delivered inside the handler,
      // and SA_RESETHAND made that second delivery the default action, which kills.
      const image = await inline(`
        f:  movq %rdi, %rbx
            ${install(SIGUSR1, 'h', SA_RESTORER | SA_NODEFER | SA_RESETHAND)}
            ${raise(SIGUSR1)}
            ret
        h:  incq 8(%rbx)
            ${raise(SIGUSR1)}
            ret
        ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.memory.m![1], 1n);
      assert.equal(r.outcome.threads[0]!.end?.signal, 'SIGUSR1');
    });
  });

  describe('rt_sigaction and rt_sigprocmask', () => {
    it('returns the previous action through oldact', async () => {
      const image = await inline(`
        f:  movq %rdi, %rbx
            ${install(SIGUSR2, 'h', SA_RESTORER, 'restorer', bit(SIGUSR1))}
            movl $${SIGUSR2}, %edi
            xorl %esi, %esi
            movq %rbx, %rdx
            movl $8, %r10d
            movl $13, %eax
            syscall
            ret
        h:  ret
        ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.deepEqual(r.memory.m!.slice(0, 4), [address(image, 'h'), BigInt(SA_RESTORER), address(image, 'restorer'), bit(SIGUSR1)]);
    });

    it('refuses a handler for SIGKILL, a bad signal number and a bad sigset size with EINVAL', async () => {
      const results: string[] = [];
      for (const [signo, size] of [[SIGKILL, 8], [65, 8], [0, 8], [SIGUSR1, 4]] as const) {
        const image = await inline(`f: movq %rdi, %rbx\n ${install(signo, 'h', SA_RESTORER).replace('movl $8, %r10d', `movl $${size}, %r10d`)}\n ret\n h: ret\n ${RESTORER}`);
        results.push(describeReturn(first(runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] }))));
      }
      assert.deepEqual(results, ['-EINVAL', '-EINVAL', '-EINVAL', '-EINVAL']);
    });

    it('refuses an unknown `how` with EINVAL', async () => {
      const r = runClosed(await inline(`f: movq %rdi, %rbx\n ${sigprocmask(7, bit(SIGUSR1), null)}\n ret`), { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(describeReturn(first(r)), '-EINVAL');
    });

    it('cannot block SIGKILL through rt_sigreturn either: a uc_sigmask with every bit set leaves it deliverable', async () => {
      const image = await inline(`
        f:  movq %rdi, %rbx
            ${install(SIGUSR1, 'h', SA_RESTORER)}
            ${raise(SIGUSR1)}
            ${sigprocmask(0, 0n, 2)}
            ${raise(SIGKILL)}
            ret
        h:  movq $-1, 296(%rdx)
            ret
        ${RESTORER}`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.memory.m![2]! & (bit(SIGKILL) | bit(19)), 0n);
      assert.equal(r.memory.m![2]! & bit(SIGUSR2), bit(SIGUSR2), 'the rest of the mask came from the frame');
      assert.equal(r.outcome.threads[0]!.end?.signal, 'SIGKILL');
    });

    it('cannot block SIGKILL: a process that blocks every signal still dies of it', async () => {
      const image = await inline(`f: movq %rdi, %rbx\n ${sigprocmask(2, -1n, null)}\n ${sigprocmask(0, 0n, 2)}\n ${raise(SIGKILL)}\n ret`);
      const r = runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] });
      assert.equal(r.memory.m![2]! & (bit(SIGKILL) | bit(19)), 0n, 'SIGKILL and SIGSTOP were left out of the mask');
      assert.equal(r.outcome.threads[0]!.end?.signal, 'SIGKILL');
    });
  });

  describe('kill and tgkill', () => {
    const call = (nr: number, a: number, b: number, c = 0) => `f: movl $${a}, %edi\n movl $${b}, %esi\n movl $${c}, %edx\n movl $${nr}, %eax\n syscall\n ret`;
    const result = async (src: string) => describeReturn(first(runClosed(await inline(src), { threads: [{ entry: 'f' }] })));

    it('answers kill(pid, 0) with 0 for a live process and sends nothing', async () => {
      assert.equal(await result(call(62, 1, 0)), '0');
    });

    it('fails with ESRCH for a process or thread that does not exist', async () => {
      assert.equal(await result(call(62, 77, SIGUSR1)), '-ESRCH');
      assert.equal(await result(call(234, 1, 77, SIGUSR1)), '-ESRCH');
    });

    it('fails tgkill with ESRCH when the thread is not in the named thread group', async () => {
      assert.equal(await result(call(234, 5, 1, SIGUSR1)), '-ESRCH');
    });

    it('fails with EINVAL for a signal number beyond 64', async () => {
      assert.equal(await result(call(62, 1, 65)), '-EINVAL');
      assert.equal(await result(call(234, 1, 1, 65)), '-EINVAL');
    });

    it('delivers SIGSEGV from kill to an installed SIGSEGV handler', async () => {
      const image = await inline(`f: movq %rdi, %rbx\n ${install(SIGSEGV, 'h', SA_RESTORER)}\n ${raise(SIGSEGV)}\n movq 8(%rbx), %rax\n ret\n h: incq 8(%rbx)\n ret\n ${RESTORER}`);
      assert.equal(first(runClosed(image, { regions: [M], threads: [{ entry: 'f', args: ['m'] }] })), 1n);
    });
  });
});
