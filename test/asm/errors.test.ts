// Every error the front end reports: its code, the exact line and column it points at, and a
// message that names the offending text. Each source puts the fault on a later line and an
// indented column, so a position that is merely "somewhere in the file" does not pass.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RseqEmuError } from '../../src/errors.js';
import { asm, expectFailure, failure, src } from './helpers.js';

describe('errors in instructions', () => {
  it('reports an instruction with a missing operand at the instruction', async () => {
    await expectFailure(src('nop', '  movq %rax'), { code: 'ASM_ENCODE', line: 2, column: 3, mentions: "'movq %rax'" });
  });

  it('reports operands the instruction has no form for at the instruction', async () => {
    await expectFailure(src('nop', '  movl %eax, %rbx'), { code: 'ASM_ENCODE', line: 2, column: 3, mentions: "'movl %eax, %rbx'" });
  });

  it('reports a malformed operand expression at the point where it goes wrong', async () => {
    await expectFailure(src('nop', '  movq 1+, %rax'), { code: 'ASM_SYNTAX', line: 2, column: 10, mentions: "'movq 1+, %rax'" });
  });

  it('reports an empty operand at the place it is missing', async () => {
    await expectFailure(src('  mov %eax,'), { code: 'ASM_SYNTAX', line: 1, column: 12, mentions: 'empty operand' });
  });

  it('reports an unknown mnemonic at the instruction', async () => {
    await expectFailure(src('nop', '  frobnicate %rax'), { code: 'ASM_ENCODE', line: 2, column: 3, mentions: 'frobnicate' });
  });

  it('reports an unknown mnemonic after a ; separator at its own column', async () => {
    await expectFailure(src('nop ; frob'), { code: 'ASM_ENCODE', line: 1, column: 7, mentions: "'frob'" });
  });

  it('reports an unknown register at the register', async () => {
    await expectFailure(src('nop', '  movq %rax, %rxx'), { code: 'ASM_SYNTAX', line: 2, column: 14, mentions: "'%rxx'" });
  });

  it('reports an unknown index register inside a memory operand at that register', async () => {
    await expectFailure(src('  movq 8(%rcx,%rxx), %rax'), { code: 'ASM_SYNTAX', line: 1, column: 15, mentions: "'%rxx'" });
  });

  it('reports a scale other than 1, 2, 4 or 8', async () => {
    await expectFailure(src('movq %rax, (%rcx,%rdx,3)'), { code: 'ASM_SYNTAX', line: 1, column: 12, mentions: 'not 3' });
  });

  it('reports a prefix on a direct branch, which has no encoding here', async () => {
    await expectFailure(src('  lock jmp a', 'a:'), { code: 'ASM_ENCODE', line: 1, column: 3, mentions: "'lock'" });
  });

  it('reports ud1 in any form other than the rseq signature’s', async () => {
    await expectFailure(src('nop', '  ud1 (%rax), %edi'), { code: 'ASM_ENCODE', line: 2, column: 3, mentions: 'ud1' });
  });

  it('reports a lone prefix, which Keystone turns into a byte that is no instruction', async () => {
    // Keystone 0.9.2 assembles `f` to the FS prefix byte 0x64 alone; Capstone rejects it.
    await expectFailure(src('nop', '  f'), { code: 'ASM_ENCODE', line: 2, column: 3, mentions: "'f'" });
  });

  it('reports an instruction in a data section', async () => {
    await expectFailure(src('.data', '  nop'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "'.data'" });
  });

  it('reports a bare symbol in Intel syntax as ambiguous, at the symbol', async () => {
    const e = await expectFailure(src('.intel_syntax noprefix', '  mov rax, sym', 'sym:'), { code: 'ASM_SYNTAX', line: 2, column: 12, mentions: "'sym'" });
    assert.match(e.message, /\[sym\].*offset sym/, 'the message says how to write either meaning');
  });

  it('reports an Intel segment override on a bare register', async () => {
    await expectFailure(src('.intel_syntax noprefix', 'mov rax, fs:rbx'), { code: 'ASM_SYNTAX', line: 2, column: 13, mentions: 'fs:[rbx]' });
  });

  it("reports a missing ']' in Intel syntax", async () => {
    await expectFailure(src('.intel_syntax noprefix', 'mov rax, [rbx'), { code: 'ASM_SYNTAX', line: 2, column: 14, mentions: "']' expected" });
  });
});

describe('errors in directives', () => {
  it('reports an unknown directive at the directive', async () => {
    await expectFailure(src('nop', '  .frob 1'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "'.frob'" });
  });

  it('reports a directive without its arguments', async () => {
    await expectFailure(src('  .section'), { code: 'ASM_DIRECTIVE', line: 1, column: 3, mentions: '.section needs 1 argument' });
    await expectFailure(src('  .set x'), { code: 'ASM_DIRECTIVE', line: 1, column: 3, mentions: '.set needs 2 arguments' });
    await expectFailure(src('  .byte'), { code: 'ASM_DIRECTIVE', line: 1, column: 3, mentions: '.byte needs at least one value' });
  });

  it('reports an alignment that is not a power of two at the operand', async () => {
    await expectFailure(src('.data', '  .balign 3'), { code: 'ASM_DIRECTIVE', line: 2, column: 11, mentions: 'not 3' });
  });

  it('reports a .p2align beyond 4096 at the operand', async () => {
    await expectFailure(src('.p2align 99999999999'), { code: 'ASM_DIRECTIVE', line: 1, column: 10, mentions: '2**99999999999' });
  });

  it('reports a .fill size above 8 at the size', async () => {
    await expectFailure(src('.data', '.fill 1, 9, 0'), { code: 'ASM_DIRECTIVE', line: 2, column: 10, mentions: 'not 9' });
  });

  it('reports a negative or huge .fill count', async () => {
    await expectFailure(src('nop', ' .skip -1'), { code: 'ASM_RANGE', line: 2, column: 2, mentions: "'.skip -1'" });
    await expectFailure(src(' .fill 99999999999'), { code: 'ASM_RANGE', line: 1, column: 2, mentions: '99999999999' });
  });

  it('reports a .fill count that is an address rather than a number', async () => {
    await expectFailure(src('a: .fill a'), { code: 'ASM_DIRECTIVE', line: 1, column: 4, mentions: "'.fill a'" });
  });

  it('reports a non-string argument of .ascii at the argument', async () => {
    await expectFailure(src('.data', '.ascii "ok", abc'), { code: 'ASM_DIRECTIVE', line: 2, column: 14, mentions: "'abc'" });
  });

  it('reports junk after an expression at the junk', async () => {
    await expectFailure(src('.data', '  .long 1 2'), { code: 'ASM_SYNTAX', line: 2, column: 11, mentions: "'2'" });
  });

  it('reports an unbalanced parenthesis in a directive operand', async () => {
    await expectFailure(src('.byte (1'), { code: 'ASM_SYNTAX', line: 1, column: 9, mentions: "')' expected" });
  });

  it('reports a value too large for .byte at that value', async () => {
    await expectFailure(src('.data', '  .byte 1, 2, 0x1ff'), { code: 'ASM_RANGE', line: 2, column: 15, mentions: '511' });
  });

  it('reports a value too large for .word and .long', async () => {
    await expectFailure(src('.word 65536'), { code: 'ASM_RANGE', line: 1, column: 7, mentions: '65536' });
    await expectFailure(src('.long 0x100000000'), { code: 'ASM_RANGE', line: 1, column: 7, mentions: '4294967296' });
  });

  it('reports a subsection number after .text, which would reorder code', async () => {
    await expectFailure(src('  .text 1'), { code: 'ASM_DIRECTIVE', line: 1, column: 9, mentions: "'1'" });
  });

  it('reports .popsection without a .pushsection', async () => {
    await expectFailure(src('.pushsection a, "aw"', '.popsection', '  .popsection'), { code: 'ASM_DIRECTIVE', line: 3, column: 3, mentions: '.popsection' });
  });

  it('reports data in .bss, which holds no bytes', async () => {
    await expectFailure(src('.bss', '.zero 4', '  .byte 1'), { code: 'ASM_DIRECTIVE', line: 3, column: 3, mentions: '.bss' });
  });
});

describe('errors in symbols', () => {
  it('reports an undefined symbol at its first use', async () => {
    await expectFailure(src('nop', '  jmp nowhere', 'movq nowhere(%rip), %rax'), { code: 'ASM_SYMBOL', line: 2, column: 7, mentions: "'nowhere'" });
  });

  it('reports an undefined symbol used in data at the operand that uses it', async () => {
    await expectFailure(src('.data', '.quad 1, missing'), { code: 'ASM_SYMBOL', line: 2, column: 10, mentions: "'missing'" });
  });

  it('reports an undefined symbol even when no byte depends on it', async () => {
    await expectFailure(src('f: ret', '.size f, . - g'), { code: 'ASM_SYMBOL', line: 2, column: 14, mentions: "'g'" });
  });

  it('reports a label defined twice at the second definition', async () => {
    await expectFailure(src('a: nop', 'b: a: nop'), { code: 'ASM_SYMBOL', line: 2, column: 4, mentions: "'a'" });
  });

  it('reports a label with the name of a .set symbol, and .equiv of a defined name', async () => {
    await expectFailure(src('a = 1', '  a: nop'), { code: 'ASM_SYMBOL', line: 2, column: 3, mentions: "'a'" });
    await expectFailure(src('.equiv a, 1', '.equiv a, 2'), { code: 'ASM_SYMBOL', line: 2, column: 1, mentions: "'a'" });
  });

  it('reports 1b with no earlier 1: at the reference', async () => {
    await expectFailure(src('nop', '  jmp 1b', '1: nop'), { code: 'ASM_SYMBOL', line: 2, column: 7, mentions: "'1b'" });
  });

  it('reports 1f with no later 1: at the reference', async () => {
    await expectFailure(src('1: nop', 'jmp 1b', '  jmp 1f'), { code: 'ASM_SYMBOL', line: 3, column: 7, mentions: '1f' });
  });

  it('reports a symbol defined in terms of itself', async () => {
    await expectFailure(src('.set a, b', '.set b, a', '.data', '  .byte a'), { code: 'ASM_SYMBOL', line: 4, column: 3, mentions: "'a'" });
  });

  it('reports a short-only branch out of range: loop', async () => {
    await expectFailure(src('a: nop', '.fill 200, 1, 0x90', '  loop a'), { code: 'ASM_RANGE', line: 3, column: 3, mentions: "'loop a'" });
  });

  it('reports a short-only branch out of range: jrcxz', async () => {
    await expectFailure(src('  jrcxz b', '.fill 200, 1, 0x90', 'b: ret'), { code: 'ASM_RANGE', line: 1, column: 3, mentions: "'jrcxz b'" });
  });

  it('reports a layout that never settles at the fragment that keeps growing', async () => {
    await expectFailure(src('nop', 'a: .fill (b - a) + 1', 'b:'), { code: 'ASM_RANGE', line: 2, column: 4, mentions: "'.fill (b - a) + 1'" });
  });
});

describe('errors in the text itself', () => {
  it('reports an unterminated string at its opening quote', async () => {
    await expectFailure(src('nop', '.ascii "ok", "abc'), { code: 'ASM_SYNTAX', line: 2, column: 14, mentions: 'unterminated string' });
  });

  it('reports an unterminated block comment at its opening', async () => {
    await expectFailure(src('nop', 'nop /* abc', 'nop'), { code: 'ASM_SYNTAX', line: 2, column: 5, mentions: 'unterminated /* comment' });
  });

  it('reports a character constant with no character', async () => {
    await expectFailure(src(".byte '"), { code: 'ASM_SYNTAX', line: 1, column: 7, mentions: 'empty character constant' });
  });
});

describe('garbage input', function () {
  this.timeout(20_000);
  // A small seeded generator (mulberry32), so every run sees the same inputs.
  const generator = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const PRINTABLE = ' \t\n' + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

  it('rejects random printable junk with one RseqEmuError that has a location', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rnd = generator(seed);
      // At least 100 characters, so the junk spans several lines and is never one `#` comment.
      const junk = Array.from({ length: 100 + Math.floor(rnd() * 300) }, () => PRINTABLE[Math.floor(rnd() * PRINTABLE.length)]).join('');
      const e = await failure(junk);
      assert.ok(e.location && e.location.line >= 1, `seed ${seed}: no location in '${e.oneLine()}'`);
    }
  });

  it('either assembles or rejects with an RseqEmuError every slightly damaged example', async () => {
    const dir = fileURLToPath(new URL('../../asm', import.meta.url));
    const examples = readdirSync(dir).filter((f) => f.endsWith('.s')).map((f) => readFileSync(join(dir, f), 'utf8'));
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = generator(seed);
      let text = examples[seed % examples.length]!;
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(rnd() * text.length);
        const ch = PRINTABLE[Math.floor(rnd() * PRINTABLE.length)]!;
        text = rnd() < 0.5 ? text.slice(0, at) + ch + text.slice(at + 1) : text.slice(0, at) + text.slice(at + 1);
      }
      try {
        await asm(text);
      } catch (e) {
        assert.ok(e instanceof RseqEmuError, `seed ${seed}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  });
});

describe('errors in repetitions and macros', () => {
  it('reports a .rept without its .endr at the .rept', async () => {
    await expectFailure(src('nop', '  .rept 3', '  nop'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "'.rept' without a matching '.endr'" });
  });

  it('reports an .endr with no repetition open at the .endr', async () => {
    await expectFailure(src('nop', '  .endr'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "'.endr' without a matching" });
  });

  it('reports a .rept count that is not a constant known at that line', async () => {
    await expectFailure(src('nop', '  .rept later', '  nop', '  .endr', '  .set later, 2'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "'later' is not a constant defined before this line" });
  });

  it('stops a repetition that expands past the expandedStatements limit, at the repeated line', async () => {
    await expectFailure(src('nop', '  .rept 100000000', '  nop', '  .endr'), { code: 'ASM_DIRECTIVE', line: 3, column: 3, mentions: 'the limit expandedStatements' });
  });

  it('stops a macro that invokes itself without end, at the invocation', async () => {
    await expectFailure(src('  .macro loop', '  loop', '  .endm', 'nop', '  loop'), { code: 'ASM_DIRECTIVE', line: 5, column: 3, mentions: "macro 'loop' nested more than 100 deep" });
  });

  it('reports a missing required macro argument at the invocation', async () => {
    await expectFailure(src('  .macro m a:req', '  .byte \\a', '  .endm', 'nop', '  m'), { code: 'ASM_DIRECTIVE', line: 5, column: 3, mentions: "missing value for required parameter 'a'" });
  });

  it('reports too many macro arguments at the invocation', async () => {
    await expectFailure(src('  .macro m a', '  .byte \\a', '  .endm', '  m 1, 2'), { code: 'ASM_DIRECTIVE', line: 4, column: 3, mentions: "macro 'm' takes 1 argument(s), given 2" });
  });

  it('reports .exitm outside a macro', async () => {
    await expectFailure(src('nop', '  .exitm'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "'.exitm' outside a macro" });
  });

  it('reports .purgem of a macro never defined', async () => {
    await expectFailure(src('nop', '  .purgem nosuch'), { code: 'ASM_DIRECTIVE', line: 2, column: 3, mentions: "no macro named 'nosuch'" });
  });
});
