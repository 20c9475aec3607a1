// Line records: the source statement behind every byte range of the image.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineAt } from '../../src/asm/image.js';
import { asm, FILE, src } from './helpers.js';

const ASM_DIR = fileURLToPath(new URL('../../asm', import.meta.url));

describe('line records', () => {
  it('give each instruction its address, its encoded size and its source line', async () => {
    const image = await asm(src('nop', 'movq %rax, %rbx', 'ret'));
    assert.deepEqual(
      image.lines.map((l) => [l.address, l.size, l.loc.line, l.kind, l.text]),
      [
        [0x400000n, 1, 1, 'instruction', 'nop'],
        [0x400001n, 3, 2, 'instruction', 'movq %rax, %rbx'],
        [0x400004n, 1, 3, 'instruction', 'ret'],
      ],
    );
  });

  it('tell apart statements on one line by their columns', async () => {
    const image = await asm(src('nop ;  ret'));
    assert.deepEqual(image.lines.map((l) => [l.loc.file, l.loc.line, l.loc.column, l.text]), [[FILE, 1, 1, 'nop'], [FILE, 1, 8, 'ret']]);
  });

  it('give a relaxed branch the size it was finally encoded with', async () => {
    const image = await asm(src('jmp far', '.fill 200, 1, 0x90', 'far: ret'));
    assert.deepEqual([image.lines[0]!.size, image.lines[0]!.text], [5, 'jmp far']);
  });

  it('mark data and alignment padding with their own kinds', async () => {
    const image = await asm(src('nop', '.balign 4', '.long 7', '.data', '.ascii "ab"'));
    assert.deepEqual(
      image.lines.map((l) => [l.address, l.size, l.kind, l.loc.line]),
      [
        [0x400000n, 1, 'instruction', 1],
        [0x400001n, 3, 'padding', 2],
        [0x400004n, 4, 'data', 3],
        [0x401000n, 2, 'data', 5],
      ],
    );
  });

  it('map every byte of an instruction back to that instruction', async () => {
    const image = await asm(src('nop', 'movabsq $0x1122334455667788, %rax', 'ret'));
    for (let a = 0x400001n; a < 0x40000bn; a++) assert.equal(lineAt(image, a)?.loc.line, 2, `byte at 0x${a.toString(16)}`);
    assert.equal(lineAt(image, 0x40000bn)?.loc.line, 3);
  });

  for (const file of readdirSync(ASM_DIR).filter((f) => f.endsWith('.s'))) {
    it(`cover every byte of every section of asm/${file} exactly once, in address order`, async () => {
      const image = await asm(readFileSync(join(ASM_DIR, file), 'utf8'));
      for (const s of image.sections) {
        const records = image.lines.filter((l) => l.address >= s.address && l.address < s.address + BigInt(s.bytes.length) && l.size > 0);
        let next = s.address;
        for (const l of records) {
          assert.equal(l.address, next, `${s.name}: gap or overlap before line ${l.loc.line} ('${l.text}')`);
          next += BigInt(l.size);
        }
        assert.equal(next, s.address + BigInt(s.bytes.length), `${s.name}: bytes after the last record`);
      }
    });
  }
});
