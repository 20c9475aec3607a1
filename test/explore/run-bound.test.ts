// How many instructions a thread can still run before its call returns (src/explore/run-bound.ts).
import { strict as assert } from 'node:assert';
import { readRseqTables } from '../../src/abi/tables.js';
import type { Image } from '../../src/asm/image.js';
import { RunBound } from '../../src/explore/run-bound.js';
import { address, inline } from '../support/program.js';
import { bundledScenario } from './fixtures.js';

const boundOf = (image: Image) => new RunBound(image, readRseqTables(image).sections);

describe('the run bound', () => {
  it("counts the longest path to the ret, the ret included, after the spinlock's commit", async () => {
    const { image } = await bundledScenario('spinlock.json');
    const b = boundOf(image);
    // movq counts, addq, movq counts, movq release, movl, ret.
    const afterCommit = image.lines.find((l) => l.kind === 'instruction' && l.text.includes('movq (%rsi,%r8,8), %r9'))!.address;
    assert.equal(b.from(afterCommit), 6);
  });

  it('finds no bound where the spinlock retries: the busy path and the abort handler both go round', async () => {
    const { image } = await bundledScenario('spinlock.json');
    assert.equal(boundOf(image).from(address(image, 'spinlock_add')), null);
  });

  it('follows an abort from inside a section to abort_ip: a handler that goes back to the retry makes a loop', async () => {
    // Straight code but for the abort edge; after the section the path is bounded again.
    const image = await inline(`\t.text
\t.pushsection __rseq_cs, "aw"
\t.balign 32
cs:\t.long 0, 0
\t.quad start, (post - start), abort
\t.popsection
\t.pushsection __rseq_cs_ptr_array, "aw"
\t.quad cs
\t.popsection
\t.globl f
f:
retry:\tnop
start:\taddq $1, %rax
\taddq $2, %rax
post:\tret
\t.byte 0x0f, 0xb9, 0x3d
\t.long 0x53053053
abort:\tjmp retry
`);
    const b = boundOf(image);
    assert.equal(b.from(address(image, 'f')), null);
    assert.equal(b.from(address(image, 'post')), 1);
    assert.equal(new RunBound(image, []).from(address(image, 'f')), 4);
  });

  it('takes the longer arm of a branch', async () => {
    const image = await inline('\t.text\n\t.globl f\nf:\n\ttestq %rdi, %rdi\n\tje 1f\n\taddq $1, %rax\n\taddq $2, %rax\n1:\tret\n');
    assert.equal(boundOf(image).from(address(image, 'f')), 5);
  });

  for (const [what, body] of [
    ['a call', 'call g\n\tret\ng:\tret'],
    ['a system call', 'syscall\n\tret'],
    ['a push, which moves the stack pointer', 'pushq %rbx\n\tpopq %rbx\n\tret'],
    ['an indirect jump', 'jmp *%rax'],
    ['a string instruction repeated', 'rep movsb\n\tret'],
    ['a loop', '1:\tdecq %rdi\n\tjnz 1b\n\tret'],
  ] as const) {
    it(`finds no bound through ${what}`, async () => {
      const image = await inline(`\t.text\n\t.globl f\nf:\n\tnop\n\t${body}\n`);
      assert.equal(boundOf(image).from(address(image, 'f')), null);
    });
  }
});
