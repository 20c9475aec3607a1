// What check's data flow follows, each on a small variant of the template: values loaded from
// image memory the machine will hold too (GOT slots, read-only pointers), values carried across
// loop back-edges and through helper functions, code with alignment padding, and the variable
// librseq keeps the area's offset in.
import { strict as assert } from 'node:assert';
import { check, firesOnce, serious, TEMPLATE, variant } from './support.js';

const ARM = '\tleaq .Lcs(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)\n';
const NO_COMPARE: [string, string] = ['\tcmpl %fs:4(%rcx), %r8d\n\tjne .Labort\n', ''];

describe('check data flow', function () {
  this.timeout(20_000);

  describe('image memory with a known content', () => {
    it('follows a descriptor loaded through its GOT slot into the rseq_cs store', async () => {
      const src = variant([ARM, '\tmovq .Lcs@GOTPCREL(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)\n']);
      assert.deepEqual(serious(await check(src)), []);
    });
    it('follows a descriptor pointer loaded from read-only data', async () => {
      const src = variant([ARM, '\tmovq .Lptr(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)\n']) + '\t.section .rodata, "a"\n.Lptr:\n\t.quad .Lcs\n';
      assert.deepEqual(serious(await check(src)), []);
    });
    it('follows a pointer loaded through a register that holds the address of a GOT slot', async () => {
      const src = variant([ARM, '\tleaq .Lslot(%rip), %rdx\n\tmovq (%rdx), %rax\n\tmovq %rax, %fs:8(%rcx)\n']) + '\t.section .data.rel.ro, "aw"\n.Lslot:\n\t.quad .Lcs\n';
      assert.deepEqual(serious(await check(src)), []);
    });
    it('does not follow a writable pointer the code itself overwrites', async () => {
      const data = '\t.data\n.Lptr:\n\t.quad .Lcs\n';
      const src = variant([ARM, '\tmovq %rdx, .Lptr(%rip)\n\tmovq .Lptr(%rip), %rax\n\tmovq %rax, %fs:8(%rcx)\n']) + data;
      await firesOnce(src, 'setup/unarmed-entry', 'error', 'movq %rax, %fs:8(%rcx)');
    });
    it('reads __rseq_offset through its GOT slot, as -fPIC code does, and still sees a missing cpu compare', async () => {
      const src = variant(['\tmovq __rseq_offset(%rip), %rcx\n', '\tmovq __rseq_offset@GOTPCREL(%rip), %rcx\n\tmovq (%rcx), %rcx\n'], NO_COMPARE);
      await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
    });
  });

  describe('values across back-edges and blocks', () => {
    it('sees a cpu number read in two places (a rotated loop) used without a compare', async () => {
      // The cpu is read before the loop and again at its bottom; the loop head joins both reads.
      const src = variant(
        ['.Lretry:\n\tmovl %fs:0(%rcx), %r8d\n', '\tmovl %fs:0(%rcx), %r8d\n.Lretry:\n'],
        NO_COMPARE,
        ['.Labort:\n\tjmp .Lretry', '.Labort:\n\tmovl %fs:0(%rcx), %r8d\n\tjmp .Lretry'],
      );
      const f = await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
      assert.match(f.message, /cpu_id_start read at .* before the section/);
    });
    it('accepts the same rotated loop when the section compares the cpu number', async () => {
      const src = variant(
        ['.Lretry:\n\tmovl %fs:0(%rcx), %r8d\n', '\tmovl %fs:0(%rcx), %r8d\n.Lretry:\n'],
        ['.Labort:\n\tjmp .Lretry', '.Labort:\n\tmovl %fs:0(%rcx), %r8d\n\tjmp .Lretry'],
      );
      assert.deepEqual(serious(await check(src)), []);
    });
    it('carries the hoisted rseq area address across alignment padding and the loop back-edge', async () => {
      const src = variant(
        ['f:\n\tmovq __rseq_offset(%rip), %rcx\n.Lretry:\n\tmovl %fs:0(%rcx), %r8d\n', 'f:\n\tmovq __rseq_offset(%rip), %rcx\n\tmovq %fs:0, %rdx\n\taddq %rcx, %rdx\n\tjmp .Lretry\n\t.p2align 4\n.Lretry:\n\tnopw 0(%rax,%rax,1)\n\tmovl (%rdx), %r8d\n'],
        NO_COMPARE,
      );
      await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
    });
    it('follows an abort stub placed after alignment padding back to the loop head', async () => {
      const src = variant(
        ['.Labort:\n\tjmp .Lretry', '.Labort:\n\tjmp .Lslow'],
        ['\tret\n\t.pushsection', '\tret\n\t.p2align 4,,10\n\t.p2align 3\n.Lslow:\n\tmovl %fs:0(%rcx), %r8d\n\tjmp .Lretry\n\t.pushsection'],
        NO_COMPARE,
      );
      await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
    });
  });

  describe('direct calls', () => {
    const HELPER = '\t.type cpu_start, @function\ncpu_start:\n\tmovq %fs:0, %rax\n\taddq __rseq_offset(%rip), %rax\n\tmovl (%rax), %eax\n\tret\n';
    it('takes the cpu number a helper function returns as a cpu number', async () => {
      const src = variant(['\tmovl %fs:0(%rcx), %r8d\n', '\tcall cpu_start\n\tmovslq %eax, %r8\n'], NO_COMPARE) + HELPER;
      const f = await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
      assert.match(f.message, /read at 0x[0-9a-f]+ <cpu_start\+\d+>/);
    });
    it('keeps a cpu number in a caller-saved register across a call to a helper that does not write it', async () => {
      const src = variant(['\tleaq .Lcs(%rip), %rax\n', '\tcall tick\n\tleaq .Lcs(%rip), %rax\n'], NO_COMPARE) + '\t.type tick, @function\ntick:\n\tincq (%rdx)\n\tret\n';
      await firesOnce(src, 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
    });
    it('forgets a caller-saved register the called helper writes', async () => {
      const src = variant(['\tleaq .Lcs(%rip), %rax\n', '\tcall clobber\n\tleaq .Lcs(%rip), %rax\n'], NO_COMPARE) + '\t.type clobber, @function\nclobber:\n\tmovl (%rdx), %r8d\n\tret\n';
      assert.ok(!(await check(src)).some((f) => f.rule === 'setup/no-cpu-compare'));
    });
    it('forgets caller-saved registers across a call to a function it cannot see', async () => {
      // After `call *%rdx` %r8 may hold anything: no finding about it.
      const src = variant(['\tleaq .Lcs(%rip), %rax\n', '\tcall *%rdx\n\tleaq .Lcs(%rip), %rax\n'], NO_COMPARE);
      assert.ok(!(await check(src)).some((f) => f.rule === 'setup/no-cpu-compare'));
    });
  });

  describe("librseq's own offset variable", () => {
    it('learns that a variable holds the area offset from the %fs:8(%reg) store of a listed descriptor', async () => {
      const own = (s: string) => s.replaceAll('__rseq_offset(%rip)', 'rseq_offset(%rip)') + '\t.data\n\t.globl rseq_offset\nrseq_offset:\n\t.quad 0\n';
      assert.deepEqual(serious(await check(own(TEMPLATE))), []);
      const f = await firesOnce(own(variant(NO_COMPARE)), 'setup/no-cpu-compare', 'error', 'movq (%rdi,%r8,8), %r9');
      assert.match(f.message, /cpu_id_start read at/);
    });
  });
});
