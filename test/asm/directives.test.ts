// What each directive does to bytes, symbols and sections. Expected bytes are GNU as 2.40's for
// the same lines (checked with `as --64` + `objcopy -O binary`), or follow from the x86 manual.
import { strict as assert } from 'node:assert';
import { sectionNamed } from '../../src/asm/image.js';
import { asm, bytesOf, src, symbol } from './helpers.js';

const hexOf = (bytes: number[]) => Buffer.from(bytes).toString('hex');
const NOP11 = '66662e0f1f840000000000';

describe('data directives', () => {
  it('stores .byte, .word, .short, .long and .quad values little-endian at their widths', async () => {
    const image = await asm(src('.data', '.byte 1, 0xff', '.word 0x1234', '.short 0x5678', '.long 0xdeadbeef', '.quad 0x0102030405060708'));
    assert.equal(hexOf(bytesOf(image, '.data')), '01ff34127856efbeadde' + '0807060504030201');
  });

  it('accepts the other spellings of the data sizes: .value, .hword, .2byte, .int, .4byte, .8byte', async () => {
    const image = await asm(src('.data', '.value 1', '.hword 2', '.2byte 3', '.int 4', '.4byte 5', '.8byte 6'));
    assert.equal(hexOf(bytesOf(image, '.data')), '0100' + '0200' + '0300' + '04000000' + '05000000' + '0600000000000000');
  });

  it('stores negative values in two’s complement', async () => {
    const image = await asm(src('.data', '.byte -1, -128', '.short -2', '.quad -2'));
    assert.equal(hexOf(bytesOf(image, '.data')), 'ff80' + 'feff' + 'feffffffffffffff');
  });

  it('evaluates expressions with GNU as precedence: shifts and & bind tighter than + and -', async () => {
    // In C, 4 + 2 & 3 would be 2 and 8 >> 1 + 1 would be 2.
    const image = await asm(src('.data', '.byte 4 + 2 & 3, 1 + 2 * 3, 8 >> 1 + 1, 7 - 2 - 1, 16 / 2 / 2'));
    assert.deepEqual(bytesOf(image, '.data'), [6, 7, 5, 4, 4]);
  });

  it('gives -1 for a true comparison and shifts right logically', async () => {
    const image = await asm(src('.data', '.byte 2 > 1, 1 > 2, -1 >> 60'));
    assert.deepEqual(bytesOf(image, '.data'), [0xff, 0, 0x0f]);
  });

  it('stores the address of a label, and a label difference as a constant', async () => {
    const image = await asm(src('.data', 'a: .quad a, b - a', 'b: .long . - a'));
    assert.equal(hexOf(bytesOf(image, '.data')), '0000400000000000' + '1000000000000000' + '10000000');
  });
});

describe('string directives', () => {
  it('stores .ascii without a terminator and .asciz and .string with one, per string', async () => {
    const image = await asm(src('.data', '.ascii "ab", "c"', '.asciz "hi"', '.string "x", ""'));
    assert.equal(hexOf(bytesOf(image, '.data')), '616263' + '686900' + '780000');
  });

  it('decodes backslash escapes: \\t, \\n, octal, hex, \\\\ and \\"', async () => {
    const image = await asm(src('.data', '.ascii "a\\tb\\n\\101\\x42\\\\\\""'));
    assert.equal(hexOf(bytesOf(image, '.data')), '610962' + '0a' + '41' + '42' + '5c' + '22');
  });

  it('keeps # ; , and /* inside a string as text', async () => {
    const image = await asm(src('.data', '.ascii "#;,/*"'));
    assert.equal(Buffer.from(bytesOf(image, '.data')).toString('latin1'), '#;,/*');
  });
});

describe('.fill, .zero, .skip and .space', () => {
  it('.fill repeats a value of the given size, little-endian', async () => {
    const image = await asm(src('.data', '.fill 2, 4, 0x11223344', '.fill 3, 2, -1'));
    assert.equal(hexOf(bytesOf(image, '.data')), '4433221144332211' + 'ffffffffffff');
  });

  it('.fill keeps only the low 4 bytes of the value, zero-extended for size 8 and cut for size 3', async () => {
    const image = await asm(src('.data', '.fill 1, 8, 0x1122334455667788', '.fill 2, 3, 0xaabbccdd'));
    assert.equal(hexOf(bytesOf(image, '.data')), '8877665500000000' + 'ddccbbddccbb');
  });

  it('.fill with only a count gives that many zero bytes', async () => {
    const image = await asm(src('.data', '.fill 3', '.byte 1'));
    assert.deepEqual(bytesOf(image, '.data'), [0, 0, 0, 1]);
  });

  it('.zero gives zero bytes, and .skip and .space a fill byte when one is given', async () => {
    const image = await asm(src('.data', '.zero 2', '.skip 2, 0x7f', '.space 1, 9', '.skip 1'));
    assert.deepEqual(bytesOf(image, '.data'), [0, 0, 0x7f, 0x7f, 9, 0]);
  });

  it('takes a count from a label difference defined later in the file', async () => {
    const image = await asm(src('.data', '.fill b - a, 1, 0x42', 'a: .long 0', 'b:'));
    assert.equal(hexOf(bytesOf(image, '.data')), '42424242' + '00000000');
  });
});

describe('alignment', () => {
  it('pads code with the longest NOP that fits, as GNU as does', async () => {
    const image = await asm(src('nop', '.balign 8', 'ret'));
    assert.equal(hexOf(bytesOf(image)), '90' + '0f1f8000000000' + 'c3');
  });

  it('pads code with 11-byte NOPs first and one NOP for the remainder', async () => {
    const image = await asm(src('ret', '.balign 64'));
    assert.equal(hexOf(bytesOf(image)), 'c3' + NOP11.repeat(5) + '0f1f840000000000');
  });

  it('jumps over code padding of 88 bytes or more, with a short jmp up to 129 bytes', async () => {
    const image = await asm(src('.fill 168, 1, 0xcc', '.balign 256', 'ret'));
    const pad = bytesOf(image).slice(168, 256);
    assert.equal(hexOf(pad.slice(0, 2)), 'eb56', 'jmp over the 86 bytes after it');
    assert.equal(hexOf(pad.slice(2)), NOP11.repeat(7) + '660f1f840000000000');
  });

  it('jumps over longer code padding with a near jmp', async () => {
    const image = await asm(src('ret', '.balign 256'));
    assert.equal(hexOf(bytesOf(image).slice(1, 6)), 'e9fa000000', 'jmp over the 250 bytes after it');
    assert.equal(bytesOf(image).length, 256);
  });

  it('pads data with zeros, or with the fill byte given', async () => {
    const image = await asm(src('.data', '.byte 1', '.balign 4', '.byte 2', '.balign 8, 0xee', '.byte 3'));
    assert.equal(hexOf(bytesOf(image, '.data')), '01000000' + '02eeeeee' + '03');
  });

  it('pads code with the fill byte given instead of NOPs', async () => {
    const image = await asm(src('nop', '.balign 8, 0xcc', 'ret'));
    assert.equal(hexOf(bytesOf(image)), '90' + 'cc'.repeat(7) + 'c3');
  });

  it('treats .align as a byte count on x86-64 and .p2align as a power of two', async () => {
    const image = await asm(src('.data', '.byte 1', '.align 4', '.byte 2', '.p2align 3', '.byte 3'));
    assert.deepEqual(bytesOf(image, '.data'), [1, 0, 0, 0, 2, 0, 0, 0, 3]);
  });

  it('skips the padding when it would exceed the maximum given', async () => {
    const image = await asm(src('.data', '.byte 1', '.p2align 4,,3', '.byte 2', '.balign 4, 0, 2', '.byte 3'));
    assert.deepEqual(bytesOf(image, '.data'), [1, 2, 0, 0, 3]);
  });

  it('records the largest alignment asked for in a section as its alignment', async () => {
    const image = await asm(src('.data', '.balign 8', '.p2align 5', '.balign 4'));
    assert.equal(sectionNamed(image, '.data')!.align, 32);
  });
});

describe('symbols given values by .set, .equ and =', () => {
  it('defines a constant usable in data and instructions, listed as a constant symbol', async () => {
    const image = await asm(src('.equ K, 10', '.set M, K * 2 + 1', 'N = M << 2', 'movl $N, %eax', '.data', '.byte K, M, N'));
    assert.deepEqual(bytesOf(image, '.data'), [10, 21, 84]);
    assert.equal(hexOf(bytesOf(image)), 'b854000000', 'movl $84, %eax');
    assert.deepEqual([symbol(image, 'N').kind, symbol(image, 'N').address, symbol(image, 'N').section], ['constant', 84n, null]);
  });

  it('gives each use of a redefined symbol the value defined last before it', async () => {
    const image = await asm(src('.data', '.set X, 1', '.byte X', '.set X, X + 1', '.byte X', 'X = 7', '.byte X'));
    assert.deepEqual(bytesOf(image, '.data'), [1, 2, 7]);
  });

  it('gives a use before any definition the first value, as GNU as does', async () => {
    const image = await asm(src('.data', '.byte Y', '.set Y, 1', '.set Y, 2'));
    assert.deepEqual(bytesOf(image, '.data'), [1]);
  });

  it('lists a redefined symbol once, with its final value', async () => {
    const image = await asm(src('.set X, 1', '.set X, 2'));
    assert.equal(symbol(image, 'X').address, 2n);
  });

  it('binds `.` to the place where the symbol is defined', async () => {
    const image = await asm(src('.data', '.byte 0, 0', 'here = .', '.byte 0', '.quad here'));
    assert.equal(symbol(image, 'here').address, 0x400002n);
    assert.equal(hexOf(bytesOf(image, '.data').slice(3)), '0200400000000000');
  });
});

describe('sections', () => {
  it('places sections on fresh pages from the base address, in order of first appearance', async () => {
    const image = await asm(src('.data', '.byte 1', '.text', '.fill 0x1001', '.section .rodata, "a"', '.byte 2'), { base: 0x10000n });
    assert.deepEqual(
      image.sections.map((s) => [s.name, s.address]),
      [['.text', 0x10000n], ['.data', 0x12000n], ['.rodata', 0x13000n]],
    );
  });

  it('gives .text, .data and .bss their usual flags', async () => {
    const image = await asm(src('.data', '.bss'));
    const flags = Object.fromEntries(image.sections.map((s) => [s.name, s.flags]));
    assert.deepEqual(flags, {
      '.text': { write: false, exec: true, nobits: false, tls: false, alloc: true },
      '.data': { write: true, exec: false, nobits: false, tls: false, alloc: true },
      '.bss': { write: true, exec: false, nobits: true, tls: false, alloc: true },
    });
  });

  it('takes flags from .section "a", "aw", "ax" and @nobits', async () => {
    const image = await asm(src('.section ro, "a"', '.section rw, "aw", @progbits', '.section rx, "ax"', '.section zeros, "aw", @nobits'));
    const flags = Object.fromEntries(image.sections.slice(1).map((s) => [s.name, s.flags]));
    assert.deepEqual(flags, {
      ro: { write: false, exec: false, nobits: false, tls: false, alloc: true },
      rw: { write: true, exec: false, nobits: false, tls: false, alloc: true },
      rx: { write: false, exec: true, nobits: false, tls: false, alloc: true },
      zeros: { write: true, exec: false, nobits: true, tls: false, alloc: true },
    });
  });

  it('gives __rseq_failure code flags and other __rseq_ sections data flags when none are written', async () => {
    const image = await asm(src('.section __rseq_failure', '.section __rseq_cs'));
    assert.deepEqual(sectionNamed(image, '__rseq_failure')!.flags, { write: false, exec: true, nobits: false, tls: false, alloc: true });
    assert.deepEqual(sectionNamed(image, '__rseq_cs')!.flags, { write: true, exec: false, nobits: false, tls: false, alloc: true });
  });

  it('accepts a quoted section name', async () => {
    const image = await asm(src('.section "my sec", "a"', '.byte 5'));
    assert.deepEqual(bytesOf(image, 'my sec'), [5]);
  });

  it('continues a section where it left off when it is entered again', async () => {
    const image = await asm(src('.data', '.byte 1', '.text', 'nop', '.data', '.byte 2'));
    assert.deepEqual(bytesOf(image, '.data'), [1, 2]);
  });

  it('returns to the pushed section at .popsection', async () => {
    const image = await asm(src('.data', '.byte 1', '.pushsection aux, "aw"', '.byte 2', '.popsection', '.byte 3'));
    assert.deepEqual(bytesOf(image, '.data'), [1, 3]);
    assert.deepEqual(bytesOf(image, 'aux'), [2]);
  });

  it('nests .pushsection', async () => {
    const image = await asm(src('.pushsection a, "aw"', '.pushsection b, "aw"', '.byte 2', '.popsection', '.byte 1', '.popsection', 'ret'));
    assert.deepEqual([bytesOf(image, 'a'), bytesOf(image, 'b'), bytesOf(image)], [[1], [2], [0xc3]]);
  });

  it('swaps the current and the previous section at .previous', async () => {
    const image = await asm(src('.data', '.section aux, "aw"', '.byte 1', '.previous', '.byte 2', '.previous', '.byte 3'));
    assert.deepEqual([bytesOf(image, 'aux'), bytesOf(image, '.data')], [[1, 3], [2]]);
  });

  it('restores what .previous means at .popsection', async () => {
    // GNU as saves the previous section with the current one: after the pop, .previous is .rodata.
    const image = await asm(src('.section .rodata, "a"', '.data', '.pushsection aux, "aw"', '.byte 1', '.popsection', '.previous', '.byte 2'));
    assert.deepEqual(bytesOf(image, '.rodata'), [2]);
  });

  it('reserves zero bytes in .bss for .zero, .skip and alignment', async () => {
    const image = await asm(src('.bss', '.zero 3', '.balign 8', '.skip 4'));
    assert.deepEqual(bytesOf(image, '.bss'), new Array(12).fill(0));
    assert.ok(sectionNamed(image, '.bss')!.flags.nobits);
  });
});

describe('symbol attributes and syntax switches', () => {
  it('marks .globl symbols global and records .type and .size', async () => {
    const image = await asm(src('.globl f', '.type f, @function', 'f: nop', 'ret', '.size f, . - f', '.data', '.type obj, %object', 'obj: .quad 0'));
    const f = symbol(image, 'f');
    const obj = symbol(image, 'obj');
    assert.deepEqual([f.global, f.type, f.size], [true, 'function', 2n]);
    assert.deepEqual([obj.global, obj.type, obj.size], [false, 'object', null]);
  });

  it('accepts .global as a spelling of .globl', async () => {
    const image = await asm(src('.global g', 'g: ret'));
    assert.ok(symbol(image, 'g').global);
  });

  it('reads instructions in Intel syntax after .intel_syntax noprefix and in AT&T after .att_syntax', async () => {
    const image = await asm(src('.intel_syntax noprefix', 'mov rax, rbx', '.att_syntax', 'movq %rax, %rbx'));
    assert.equal(hexOf(bytesOf(image)), '4889d8' + '4889c3');
  });

  it('ignores directives that only carry debugging or linking hints', async () => {
    const image = await asm(src('.file "x.c"', '.cfi_startproc', 'nop', '.cfi_endproc', '.ident "gcc"', '.hidden f', '.weak g', '.code64'));
    assert.deepEqual(bytesOf(image), [0x90]);
  });
});
