// Labels and the symbol table: numeric local labels, .L labels, named labels in any section, and
// the external symbols the emulated glibc provides. Branch bytes follow from the x86 manual:
// EB rel8 with the displacement counted from the end of the 2-byte jmp.
import { strict as assert } from 'node:assert';
import { glibcSymbols } from '../../src/abi/glibc.js';
import { findSymbol } from '../../src/asm/image.js';
import { asm, bytesOf, failure, src, symbol } from './helpers.js';

const hexOf = (bytes: number[]) => Buffer.from(bytes).toString('hex');
const le64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b.toString('hex');
};

describe('numeric local labels', () => {
  it('resolves 1b to the nearest 1: before and 1f to the nearest 1: after, for each reuse', async () => {
    const image = await asm(src('1: nop', 'jmp 1b', 'jmp 1f', 'nop', '1: jmp 1b'));
    // 0: nop; 1: jmp 0; 3: jmp 6; 5: nop; 6: jmp 6
    assert.equal(hexOf(bytesOf(image)), '90' + 'ebfd' + 'eb01' + '90' + 'ebfe');
  });

  it('lets 1b on the line of a 1: label mean that label', async () => {
    const image = await asm(src('1: jmp 1b'));
    assert.equal(hexOf(bytesOf(image)), 'ebfe');
  });

  it('keeps labels with different numbers apart, including multi-digit ones', async () => {
    const image = await asm(src('1: nop', '10: nop', 'jmp 1b', 'jmp 10b'));
    // 0: 1:, 1: 10:, 2: jmp 0 (-4), 4: jmp 1 (-5)
    assert.equal(hexOf(bytesOf(image)), '9090' + 'ebfc' + 'ebfb');
  });

  it('lists every definition as a symbol named by its number, with its instance', async () => {
    const image = await asm(src('1: nop', '1: nop', '2: nop'));
    const numeric = image.symbols.filter((s) => s.instance !== undefined).map((s) => [s.name, s.instance, s.address]);
    assert.deepEqual(numeric, [['1', 1, 0x400000n], ['1', 2, 0x400001n], ['2', 1, 0x400002n]]);
    assert.equal(findSymbol(image, '1'), undefined, 'a numeric label is not found by its bare name');
  });

  it('resolves numeric references in data to labels in other sections, in source order', async () => {
    const image = await asm(src('1: nop', '.data', '.quad 1b, 1f, 2f - 1f', '.text', '1: nop', '2: ret'));
    assert.equal(hexOf(bytesOf(image, '.data')), le64(0x400000n) + le64(0x400001n) + le64(1n));
  });

  it('builds an rseq descriptor from forward references, as librseq macros do', async () => {
    const image = await asm(
      src(
        '.pushsection __rseq_cs, "aw"',
        '.quad 1f, (2f - 1f), 4f',
        '.popsection',
        '1: nop',
        'nop',
        '2: ret',
        '.pushsection __rseq_failure, "ax"',
        '.long 0x53053053',
        '4: jmp 1b',
        '.popsection',
      ),
    );
    // Pages in order of first appearance: .text 0x400000, __rseq_cs 0x401000, __rseq_failure 0x402000.
    assert.equal(hexOf(bytesOf(image, '__rseq_cs')), le64(0x400000n) + le64(2n) + le64(0x402004n));
  });
});

describe('named labels', () => {
  it('gives a label its section and address, and the place it is defined', async () => {
    const image = await asm(src('nop', '.data', '.byte 1', '  .Lthing: .byte 2'));
    const s = symbol(image, '.Lthing');
    assert.deepEqual(
      { section: s.section, address: s.address, kind: s.kind, global: s.global, line: s.loc?.line, column: s.loc?.column },
      { section: '.data', address: 0x401001n, kind: 'label', global: false, line: 4, column: 3 },
    );
  });

  it('keeps .L labels in the symbol table', async () => {
    const image = await asm(src('.Lstart: nop', '.Lend:'));
    assert.deepEqual([symbol(image, '.Lstart').address, symbol(image, '.Lend').address], [0x400000n, 0x400001n]);
  });

  it('allows several labels on one line, all naming the same place', async () => {
    const image = await asm(src('nop', 'a: b:c: nop'));
    assert.deepEqual(['a', 'b', 'c'].map((n) => symbol(image, n).address), [0x400001n, 0x400001n, 0x400001n]);
  });

  it('resolves a forward reference to a label in another section', async () => {
    const image = await asm(src('leaq desc(%rip), %rax', '.data', 'desc: .quad 0'));
    // lea at 0x400000 (7 bytes): disp = 0x401000 - 0x400007
    assert.equal(hexOf(bytesOf(image)), '488d05f90f0000');
  });
});

describe('blanks before a label\'s colon', () => {
  it('accepts `5 :` as numeric label 5, as GNU as does', async () => {
    const image = await asm(src('nop', '5 :', 'jmp 5b'));
    assert.equal(hexOf(bytesOf(image)), '90' + 'ebfe');
  });

  it('accepts tabs and spaces between a named label and its colon, with a statement after it', async () => {
    const image = await asm(src('nop', 'name \t: nop', 'jmp name'));
    assert.equal(symbol(image, 'name').address, 0x400001n);
    assert.equal(hexOf(bytesOf(image)), '90' + '90' + 'ebfd');
  });

  it('still refuses a double colon after a spaced label, as GNU as does', async () => {
    const e = await failure(src('5 ::', 'nop'));
    assert.equal(e.location?.line, 1);
  });
});

describe('external symbols', () => {
  it('resolves glibc’s __rseq_offset and lists it as an external symbol when used', async () => {
    const image = await asm(src('movq __rseq_offset(%rip), %rcx'));
    const ext = symbol(image, '__rseq_offset');
    assert.deepEqual([ext.kind, ext.address, ext.section, ext.global], ['external', glibcSymbols().get('__rseq_offset'), null, true]);
  });

  it('does not list externals the source never uses', async () => {
    const image = await asm(src('nop'));
    assert.equal(image.symbols.filter((s) => s.kind === 'external').length, 0);
  });

  it('prefers a definition in the source over an external of the same name', async () => {
    const image = await asm(src('__rseq_size: nop', '.data', '.quad __rseq_size'));
    assert.equal(hexOf(bytesOf(image, '.data')), le64(0x400000n));
    assert.equal(symbol(image, '__rseq_size').kind, 'label');
  });
});
