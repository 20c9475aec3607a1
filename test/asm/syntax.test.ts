// The lexical layer: comments, statement separators, character constants, labels and case, as
// GNU as reads them for x86-64 ELF.
import { strict as assert } from 'node:assert';
import { asm, bytesOf, src, symbol } from './helpers.js';

describe('comments and separators', () => {
  it('ignores # to the end of the line, after a directive or an instruction', async () => {
    const image = await asm(src('# a whole line', '.data # after a directive', '.byte 1 # after data', '.text', 'nop # after an instruction'));
    assert.deepEqual([bytesOf(image, '.data'), bytesOf(image)], [[1], [0x90]]);
  });

  it('ignores /* */ comments, also across lines, and keeps later line numbers right', async () => {
    const image = await asm(src('nop /* one', 'two', 'three */ ret', 'int3'));
    assert.deepEqual(image.lines.map((l) => [l.text, l.loc.line]), [['nop', 1], ['ret', 3], ['int3', 4]]);
  });

  it('treats / as a comment where a statement would start, and as division elsewhere', async () => {
    const image = await asm(src('/ a comment', '\t/ an indented one', '.data', '.byte 6/3 ;/ after a separator'));
    assert.deepEqual(bytesOf(image, '.data'), [2]);
  });

  it('splits statements at ;', async () => {
    const image = await asm(src('nop ; nop;ret'));
    assert.deepEqual(bytesOf(image), [0x90, 0x90, 0xc3]);
  });

  it('keeps # and ; inside strings', async () => {
    const image = await asm(src('.data', '.ascii "a#b;c"'));
    assert.equal(Buffer.from(bytesOf(image, '.data')).toString('latin1'), 'a#b;c');
  });
});

describe('character constants', () => {
  it("reads 'c with or without a closing quote", async () => {
    const image = await asm(src('.data', ".byte 'a, 'b', 'c + 1"));
    assert.deepEqual(bytesOf(image, '.data'), [0x61, 0x62, 0x64]);
  });

  it("reads the escapes '\\n '\\t '\\\\ and '\\' and takes other escaped characters as themselves", async () => {
    const image = await asm(src('.data', ".byte '\\n, '\\t, '\\\\, '\\', '\\0"));
    assert.deepEqual(bytesOf(image, '.data'), [10, 9, 0x5c, 0x27, 0x30]);
  });

  it("reads '#, '; and ', as characters, not as a comment, a separator or a list comma", async () => {
    const image = await asm(src('.data', ".byte '#, ';, ',, 1"));
    assert.deepEqual(bytesOf(image, '.data'), [0x23, 0x3b, 0x2c, 1]);
  });

  it("reads '\" as a character, not as the start of a string", async () => {
    const image = await asm(src('.data', ".byte '\", 2"));
    assert.deepEqual(bytesOf(image, '.data'), [0x22, 2]);
  });

  it('works as an immediate operand', async () => {
    const image = await asm(src("movb $'#, %al ; movb $';, %bl"));
    assert.deepEqual(bytesOf(image), [0xb0, 0x23, 0xb3, 0x3b]);
  });
});

describe('labels, spacing and case', () => {
  it('reads a label followed directly by an instruction, and a space before the colon', async () => {
    const image = await asm(src('a:nop', 'b :ret'));
    assert.deepEqual([symbol(image, 'a').address, symbol(image, 'b').address, bytesOf(image)], [0x400000n, 0x400001n, [0x90, 0xc3]]);
  });

  it('reads mnemonics, registers and directives in any case', async () => {
    const image = await asm(src('  MOVQ   %RAX ,  %RBX', '.BYTE 1'));
    assert.deepEqual(bytesOf(image), [0x48, 0x89, 0xc3, 1]);
  });

  it('keeps symbol names case-sensitive', async () => {
    const image = await asm(src('x: nop', 'X: ret'));
    assert.deepEqual([symbol(image, 'x').address, symbol(image, 'X').address], [0x400000n, 0x400001n]);
  });
});
