// How a run ends and what the kernel model does besides rseq fix-ups: faults, traps, the budget,
// the small system-call set, event placement and the two registration modes.
import { strict as assert } from 'node:assert';
import { GLIBC_DEFAULTS } from '../../src/abi/glibc.js';
import { RSEQ_SIG, readRseqArea } from '../../src/abi/rseq.js';
import { describeReturn } from '../../src/kernel/errno.js';
import { parseEvent } from '../../src/kernel/event-spec.js';
import { address, inline, runEntry } from '../support/program.js';

const ret = async (src: string, entry = 'f', opts: Parameters<typeof runEntry>[3] = {}, args: (bigint | string)[] = []) => {
  const r = runEntry(await inline(src), entry, args, opts);
  r.machine.close();
  return r;
};

describe('the machine', () => {
  describe('ending a run', () => {
    it('returns the entry function\'s rax when it returns to the sentinel', async () => {
      const r = await ret('f: movq %rdi, %rax\n addq %rsi, %rax\n ret', 'f', {}, [40n, 2n]);
      assert.equal(r.outcome.status, 'returned');
      assert.equal(r.outcome.rax, 42n);
      assert.equal(r.outcome.instructions, 3);
    });
    it('reports a read of unmapped memory as a SIGSEGV fault with the address', async () => {
      const r = await ret('f: movq 0x1234, %rax\n ret');
      assert.equal(r.outcome.status, 'fault');
      assert.equal(r.outcome.signal, 'SIGSEGV');
      assert.equal(r.outcome.faultAddress, 0x1234n);
      assert.match(r.outcome.reason ?? '', /read of unmapped address 0x1234/);
    });
    it('reports a write to read-only memory as a SIGSEGV fault', async () => {
      const r = await ret('f: leaq f(%rip), %rax\n movq $1, (%rax)\n ret');
      assert.equal(r.outcome.status, 'fault');
      assert.match(r.outcome.reason ?? '', /write of protected address/);
    });
    it('raises SIGILL when execution falls into the abort signature', async () => {
      const r = await ret('f: nop\n .byte 0x0f, 0xb9, 0x3d\n .long 0x53053053\n ret');
      assert.equal(r.outcome.status, 'fault');
      assert.equal(r.outcome.signal, 'SIGILL');
      assert.equal(r.outcome.ip, address(r.machine.image, 'f') + 1n);
    });
    it('stops a runaway loop at the instruction budget with status limit', async () => {
      const r = await ret('f: jmp f', 'f', { machine: { maxInstructions: 5000 } });
      assert.equal(r.outcome.status, 'limit');
      assert.equal(r.outcome.instructions, 5000);
    });
    it('ends with the exit code on exit_group', async () => {
      const r = await ret('f: movl $7, %edi\n movl $231, %eax\n syscall\n ud2');
      assert.equal(r.outcome.status, 'exited');
      assert.equal(r.outcome.exitCode, 7);
    });
  });

  describe('system calls', () => {
    it('captures write(2) to stdout', async () => {
      const r = await ret('f: movl $1, %edi\n leaq msg(%rip), %rsi\n movl $3, %edx\n movl $1, %eax\n syscall\n ret\n msg: .ascii "hi\\n"');
      assert.deepEqual(r.outcome.output, [{ tid: 1, fd: 1, text: 'hi\n' }]);
      assert.equal(r.outcome.rax, 3n);
    });
    it('answers getcpu with the thread\'s CPU', async () => {
      const r = await ret('f: movq %rdi, %rbx\n xorl %esi, %esi\n movl $309, %eax\n syscall\n movl (%rbx), %eax\n ret', 'f', { regions: [{ name: 'out', size: 8 }], call: { cpu: 1 } }, ['out']);
      assert.equal(r.outcome.rax, 1n);
    });
    it('returns -ENOSYS for an unknown system call and logs it by number and name', async () => {
      const r = await ret('f: movl $9, %eax\n syscall\n ret');
      assert.equal(describeReturn(r.outcome.rax), '-ENOSYS');
      assert.deepEqual(r.outcome.syscalls.map((s) => [s.nr, s.name, s.implemented]), [[9, 'mmap', false]]);
    });
    it('records the address of the syscall instruction', async () => {
      const r = await ret('f: nop\n s: movl $39, %eax\n syscall\n ret');
      assert.equal(r.outcome.syscalls[0]!.ip, address(r.machine.image, 's') + 5n);
    });
  });

  describe('events', () => {
    it('fires an #K event before the K-th executed instruction', async () => {
      const r = await ret('f: nop\n nop\n nop\n ret', 'f', { events: ['preempt@#3'] });
      assert.equal(r.outcome.events[0]!.before, 2);
      assert.equal(r.outcome.events[0]!.ip, address(r.machine.image, 'f') + 2n);
    });
    it('fires each event once, the first time its location is reached', async () => {
      const r = await ret('f: movl $3, %ecx\n loop: decl %ecx\n jnz loop\n ret', 'f', { events: ['preempt@loop'] });
      assert.equal(r.outcome.events.length, 1);
      assert.equal(r.outcome.events[0]!.before, 1);
    });
    it('moves the thread on migrate:N, so getcpu answers N afterwards', async () => {
      const r = await ret('f: movq %rdi, %rbx\n xorl %esi, %esi\n here: movl $309, %eax\n syscall\n movl (%rbx), %eax\n ret', 'f', { regions: [{ name: 'out', size: 8 }], events: ['migrate:1@here'] }, ['out']);
      assert.equal(r.outcome.rax, 1n);
    });
    it('rejects a location that is not the first byte of an instruction', async () => {
      const image = await inline('f: movl $1, %eax\n ret');
      assert.throws(() => parseEvent('preempt@f+1', image, 2), /0x[0-9a-f]+ is not the first byte of an instruction/);
    });
    it('rejects a migration to a CPU that does not exist', async () => {
      const image = await inline('f: ret');
      assert.throws(() => parseEvent('migrate:2@f', image, 2), /CPU 2 does not exist/);
    });
    it('rejects an unknown label and an unknown kind', async () => {
      const image = await inline('f: ret');
      assert.throws(() => parseEvent('preempt@nowhere', image, 2), /no label 'nowhere'/);
      assert.throws(() => parseEvent('sleep@f', image, 2), /unknown kind 'sleep'/);
    });
  });

  describe('registration', () => {
    it('registers every thread as glibc does, with cpu_id written before the first instruction', async () => {
      const r = runEntry(await inline('f: ret'), 'f', [], { call: { cpu: 1 } });
      const area = readRseqArea(r.machine.emu, r.machine.rseqArea());
      r.machine.close();
      assert.deepEqual([area.cpuIdStart, area.cpuId, area.rseqCs], [1, 1, 0n]);
    });
    it('exports __rseq_offset and __rseq_size as glibc 2.36 does', async () => {
      const r = await ret('f: movq __rseq_offset(%rip), %rax\n movl __rseq_size(%rip), %edx\n shlq $32, %rdx\n orq %rdx, %rax\n ret');
      assert.equal(r.outcome.rax, (BigInt(GLIBC_DEFAULTS.rseqSize) << 32n) | GLIBC_DEFAULTS.rseqOffset);
    });
    it('leaves the area unregistered with --registration none: cpu_id -2 (RSEQ_CPU_ID_REGISTRATION_FAILED, as glibc leaves it) and __rseq_size 0', async () => {
      const r = runEntry(await inline('f: movl __rseq_size(%rip), %eax\n ret'), 'f', [], { machine: { registration: 'none' } });
      const area = readRseqArea(r.machine.emu, r.machine.rseqArea());
      r.machine.close();
      assert.equal(r.outcome.rax, 0n);
      assert.equal(area.cpuId, -2);
    });
    it('flags a system call made inside a critical section', async () => {
      const src = `
        f: movq __rseq_offset(%rip), %rcx
           leaq desc(%rip), %rax
           movq %rax, %fs:8(%rcx)
        start: movl $39, %eax
           syscall
        post: ret
        .pushsection __rseq_cs, "aw"
        .balign 32
        desc: .long 0, 0
           .quad start, post - start, abort
        .popsection
        .byte 0x0f, 0xb9, 0x3d
        .long ${RSEQ_SIG}
        abort: ud2`;
      const r = await ret(src);
      assert.equal(r.outcome.syscalls[0]!.insideCriticalSection, true);
    });
  });
});

describe('reading a thread\'s rseq_cs', () => {
  it('answers 0 for an unregistered thread, the pointer for a registered one, and null when the area cannot be read', async () => {
    const image = await inline('f: leaq d(%rip), %rax\n movq __rseq_offset(%rip), %rcx\n movq %rax, %fs:8(%rcx)\n ret\n .data\n d: .quad 0\n');
    const r = runEntry(image, 'f', []);
    try {
      const t = r.machine.thread(1)!;
      assert.equal(r.machine.rseqCsPointer(t), address(image, 'd'));
      t.rseq = { ...t.rseq!, area: 0x5000n };
      assert.equal(r.machine.rseqCsPointer(t), null);
      t.rseq = null;
      assert.equal(r.machine.rseqCsPointer(t), 0n);
    } finally {
      r.machine.close();
    }
  });
});
