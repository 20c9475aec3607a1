// Programs that call functions they do not define, as real tests do on their slow paths: the
// modelled libc functions behave as glibc's, any other one kills the thread naming it, and only
// when it is actually called.
import { strict as assert } from 'node:assert';
import { UNRESOLVED_BASE } from '../../src/abi/libc-model.js';
import { inline, runEntry } from '../support/program.js';

const CALLER = [
  '.text',
  'maybe_print: testq %rdi, %rdi', ' jz 1f', ' call printf@PLT', '1: movl $7, %eax', ' ret',
  'read_stderr: movq stderr(%rip), %rax', ' ret',
  'do_abort: subq $8, %rsp', ' call abort',
  'do_assert: subq $8, %rsp', ' leaq .Lexpr(%rip), %rdi', ' leaq .Lfile(%rip), %rsi', ' movl $42, %edx', ' leaq .Lfn(%rip), %rcx', ' call __assert_fail@PLT',
  'do_memcpy: subq $8, %rsp', ' call memcpy@PLT', ' addq $8, %rsp', ' ret',
  'do_memmove: subq $8, %rsp', ' call memmove', ' addq $8, %rsp', ' ret',
  'do_memset: subq $8, %rsp', ' call memset', ' addq $8, %rsp', ' ret',
  'do_getcpu: subq $8, %rsp', ' call sched_getcpu', ' addq $8, %rsp', ' ret',
  'do_yield: subq $8, %rsp', ' call sched_yield', ' addq $8, %rsp', ' ret',
  '.Lexpr: .asciz "x > 0"', '.Lfile: .asciz "op.c"', '.Lfn: .asciz "op"',
].join('\n') + '\n';

describe('functions the program does not define', () => {
  it('leave the file assembling, with each one listed at an unmapped address in order of first use', async () => {
    const image = await inline(CALLER);
    assert.deepEqual(image.unresolved.map((u) => [u.name, u.address, u.loc.line]), [['printf', UNRESOLVED_BASE, 4], ['stderr', UNRESOLVED_BASE + 16n, 7]]);
  });

  it('do nothing while they are not called', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'maybe_print', [0n]);
    machine.close();
    assert.equal(outcome.status, 'returned');
    assert.equal(outcome.rax, 7n);
  });

  it('kill the thread naming the function, its caller and its first use, when one is called', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'maybe_print', [1n]);
    machine.close();
    assert.equal(outcome.status, 'fault');
    assert.match(outcome.reason ?? '', /^called undefined function 'printf', called from 0x[0-9a-f]+ <.*>: .*first used at test\.s:4/);
  });

  it('kill the thread naming the symbol when undefined data is read', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'read_stderr', []);
    machine.close();
    assert.equal(outcome.status, 'fault');
    assert.match(outcome.reason ?? '', /^read of undefined symbol 'stderr'/);
  });

  it('are 0 when weak, as a static link makes them, so `if (&f) f();` skips the call', async () => {
    const image = await inline('.weak hook\nf: movq hook@GOTPCREL(%rip), %rax\n testq %rax, %rax\n jz 1f\n call hook\n1: ret\n');
    assert.deepEqual(image.unresolved, []);
    const { outcome, machine } = runEntry(image, 'f', []);
    machine.close();
    assert.deepEqual([outcome.status, outcome.rax], ['returned', 0n]);
  });

  it('stay errors for .L labels, which no link could define', async () => {
    await assert.rejects(inline('jmp .Lnowhere\n'), /undefined symbol '\.Lnowhere'/);
  });
});

describe('the modelled libc functions', () => {
  it('abort raises SIGABRT, which kills the process', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'do_abort', []);
    machine.close();
    assert.deepEqual([outcome.status, outcome.signal], ['signal', 'SIGABRT']);
    assert.ok(outcome.syscalls.some((s) => s.name === 'tgkill' && s.args[2] === 6n), 'abort sends SIGABRT to its own thread');
  });

  it("__assert_fail writes glibc's message to stderr, then aborts", async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'do_assert', []);
    machine.close();
    assert.equal(outcome.signal, 'SIGABRT');
    assert.deepEqual(outcome.output.filter((o) => o.fd === 2).map((o) => o.text), ["op.c:42: op: Assertion `x > 0' failed.\n"]);
  });

  it('memcpy copies n bytes and returns the destination', async () => {
    const src = Array.from({ length: 4 }, (_, i) => 0x1111111111111111n * BigInt(i + 1));
    const { outcome, memory, regions, machine } = runEntry(await inline(CALLER), 'do_memcpy', ['dst+8', 'src', 20n], { regions: [{ name: 'dst', size: 40 }, { name: 'src', size: 32, words: src }] });
    machine.close();
    assert.equal(outcome.rax, regions.dst! + 8n);
    assert.deepEqual(memory.dst, [0n, src[0], src[1], src[2]! & 0xffffffffn, 0n]);
  });

  it('memmove copies overlapping bytes as if through a buffer', async () => {
    const { memory, machine } = runEntry(await inline(CALLER), 'do_memmove', ['buf+1', 'buf', 7n], { regions: [{ name: 'buf', size: 8, words: [0x0807060504030201n] }] });
    machine.close();
    assert.deepEqual(memory.buf, [0x0706050403020101n]);
  });

  it('memset fills n bytes with the low byte of its value', async () => {
    const { memory, machine } = runEntry(await inline(CALLER), 'do_memset', ['buf+1', 0x1abn, 3n], { regions: [{ name: 'buf', size: 8 }] });
    machine.close();
    assert.deepEqual(memory.buf, [0xababab00n]);
  });

  it('sched_getcpu returns the cpu_id of the registered rseq area', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'do_getcpu', [], { machine: { cpus: 2 }, call: { cpu: 1 } });
    machine.close();
    assert.equal(outcome.rax, 1n);
  });

  it('sched_getcpu asks getcpu when no rseq area is registered', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'do_getcpu', [], { machine: { cpus: 2, registration: 'none' }, call: { cpu: 1 } });
    machine.close();
    assert.equal(outcome.rax, 1n);
    assert.ok(outcome.syscalls.some((s) => s.name === 'getcpu'));
  });

  it('sched_yield makes the sched_yield system call', async () => {
    const { outcome, machine } = runEntry(await inline(CALLER), 'do_yield', []);
    machine.close();
    assert.equal(outcome.status, 'returned');
    assert.ok(outcome.syscalls.some((s) => s.name === 'sched_yield'));
  });

  it('are linked as one section of their own when the program calls one', async () => {
    const image = await inline(CALLER);
    assert.deepEqual(image.sections.map((s) => s.name), ['.text', '.text.libc']);
  });

  it('are not linked into a program that calls none of them', async () => {
    const image = await inline('f: ret\n');
    assert.deepEqual(image.sections.map((s) => s.name), ['.text']);
  });
});
