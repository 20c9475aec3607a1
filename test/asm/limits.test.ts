// Sizes the source chooses are checked before anything is allocated for them.
import { strict as assert } from 'node:assert';
import { LIMITS } from '../../src/limits.js';
import { RseqEmuError } from '../../src/errors.js';
import { inline } from '../support/program.js';

async function refused(source: string): Promise<RseqEmuError> {
  try {
    await inline(source);
  } catch (e) {
    if (e instanceof RseqEmuError) return e;
    throw e;
  }
  assert.fail('assembled');
}

describe('image size limits', () => {
  it('refuses fills that together exceed the image limit, at the fill that crosses it', async () => {
    const fills = Array(LIMITS.imageBytes / (16 << 20) + 1).fill('.fill 2097152, 8, 0').join('\n');
    const e = await refused(`.data\n${fills}\n.text\nf: ret`);
    assert.equal(e.code, 'ASM_RANGE');
    assert.equal(e.location?.line, LIMITS.imageBytes / (16 << 20) + 1);
    assert.match(e.message, /the image would exceed 268435456 bytes/);
  });
  it('counts .bss space against the limit although it has no bytes in the file', async () => {
    const e = await refused(`.bss\n${Array(17).fill('.zero 16777216').join('\n')}`);
    assert.match(e.message, /image would exceed/);
  });
  it('counts every section against one limit', async () => {
    const e = await refused(`.data\n${Array(9).fill('.zero 16777216').join('\n')}\n.bss\n${Array(8).fill('.zero 16777216').join('\n')}`);
    assert.match(e.message, /image would exceed .* in \.bss/);
  });
});

describe('symbol definition depth', () => {
  const chain = (n: number) => ['.set s0, 1', ...Array.from({ length: n - 1 }, (_, i) => `.set s${i + 1}, s${i}+1`), `f: movq $s${n - 1}, %rax`, ' ret'].join('\n');
  it('evaluates a chain of 1,000 .set symbols', async () => {
    await inline(chain(1000));
  });
  it('refuses a longer chain with a located error instead of overflowing the stack', async () => {
    const e = await refused(chain(3000));
    assert.equal(e.location?.line, 3001);
    assert.match(e.message, /defined through more than 1000 other symbols/);
  });
  it('locates an undefined @gottpoff symbol at its use', async () => {
    const e = await refused('f: nop\n movq nowhere@gottpoff(%rip), %rax\n ret');
    assert.equal(e.location?.line, 2);
    assert.match(e.message, /undefined thread-local symbol 'nowhere'/);
  });
});
