// readElf on hostile bytes (the fuzz suite's ELF family): it returns, or refuses with one typed,
// one-line INPUT error naming what is wrong and where; never a RangeError or TypeError from deep
// inside, never a hang, never an allocation sized by a header field. FUZZ_RUNS=N runs longer.
import { strict as assert } from 'node:assert';
import { readElf } from '../../src/elf/reader.js';
import { RseqEmuError } from '../../src/errors.js';
import { Rng } from '../../src/explore/rng.js';
import { writeElf } from '../../src/elf/writer.js';
import { elfBytes, prepareElfSeeds } from '../fuzz/generators.js';
import { bundled } from '../support/program.js';
import { ROOT } from '../support/tools.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 500);
const SEED = 0xe1f;

/** A valid ELF from the writer with `edit` applied through a DataView. */
async function edited(edit: (v: DataView, b: Uint8Array) => void): Promise<Uint8Array> {
  const b = Uint8Array.from(writeElf(await bundled('counter_add.s'), { compDir: ROOT }));
  edit(new DataView(b.buffer), b);
  return b;
}

const refuses = (b: Uint8Array, message: RegExp) =>
  assert.throws(() => readElf(b, 'x.elf'), (e: unknown) => e instanceof RseqEmuError && e.code === 'INPUT' && message.test(e.message) && e.message.startsWith('x.elf: '));

/** The first section header of `type`, by index. */
function sectionOfType(v: DataView, type: number): number {
  const shoff = Number(v.getBigUint64(0x28, true));
  for (let i = 0; i < v.getUint16(0x3c, true); i++) if (v.getUint32(shoff + i * 64 + 4, true) === type) return shoff + i * 64;
  throw new Error(`no section of type ${type}`);
}

// Minimised from what the fuzz cases below first hit (RangeError or TypeError from inside the reader).
describe('readElf on broken headers', () => {
  it('refuses a file shorter than the file header', () => refuses(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), /7 bytes, shorter than an ELF64 file header/));
  it('refuses section headers that run past the end of the file', async () => refuses(await edited((v) => v.setUint16(0x3c, 0xffff, true)), /65535 section headers.*run past the end/));
  it('refuses program headers at an offset near 2^64', async () => refuses(await edited((v) => v.setBigUint64(0x20, 2n ** 64n - 1n, true)), /program headers \(e_phoff, e_phnum\): bytes 0xffffffffffffffff/));
  it('refuses a section whose contents run past the end', async () => refuses(await edited((v) => v.setBigUint64(sectionOfType(v, 2) + 32, 2n ** 63n, true)), /section \d+ \(sh_offset, sh_size\)/));
  it('refuses a section-name table index past the last section', async () => refuses(await edited((v) => v.setUint16(0x3e, 999, true)), /e_shstrndx names section 999/));
  it('refuses a symbol table linked to a section that does not exist', async () => refuses(await edited((v) => v.setUint32(sectionOfType(v, 2) + 40, 0xffffffff, true)), /sh_link names section 4294967295/));
  it('refuses a file without the ELF magic', async () => refuses(await edited((_, b) => (b[1] = 0x58)), /not an ELF file/));
});

describe('readElf on fuzzed bytes', function () {
  this.timeout(120_000);
  before(prepareElfSeeds);

  it(`reads or refuses with a one-line INPUT error each of ${RUNS} seeded mutated, truncated and absurd ELF files`, () => {
    const wrong: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const bytes = elfBytes(Rng.forRun(SEED, i));
      const t0 = performance.now();
      try {
        readElf(bytes, 'fuzz.elf');
      } catch (e) {
        if (!(e instanceof RseqEmuError) || e.code !== 'INPUT' || /\n/.test(e.message)) wrong.push(`case ${i}: ${String(e)}`);
      }
      if (performance.now() - t0 > 2000) wrong.push(`case ${i}: took ${Math.round(performance.now() - t0)} ms`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
  });
});
