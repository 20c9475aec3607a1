// The libc functions rseq-emu models (libc-model.s), and linking them into a program that calls
// them without defining them, as a static link with libc would. Functions neither the program nor
// the model defines stay unresolved: the image lists them and the machine names one when it is called.
import { readFileSync } from 'node:fs';
import { assemble } from '../asm/assembler.js';
import type { Image, LineRecord } from '../asm/image.js';
import type { Address } from '../types.js';
import { glibcSymbols, type GlibcRseqExports } from './glibc.js';

/** Where the model's code goes: below the glibc data page, within ±2 GiB of the program. */
export const LIBC_BASE: Address = 0x280000n;
/** Where unresolved symbols get their (unmapped) addresses, 16 bytes apart, up to LIBC_BASE. */
export const UNRESOLVED_BASE: Address = 0x200000n;

const SOURCE_URL = new URL('./libc-model.s', import.meta.url);
const cache = new Map<Address, Promise<Image>>();

/** The model assembled against this glibc's data page (sched_getcpu reads `__rseq_offset`). */
export function libcImage(glibc: GlibcRseqExports): Promise<Image> {
  let image = cache.get(glibc.dataAddress);
  if (!image) {
    image = assemble(readFileSync(SOURCE_URL, 'utf8'), { file: '<libc model>', externals: glibcSymbols(glibc), base: LIBC_BASE });
    cache.set(glibc.dataAddress, image);
  }
  return image;
}

/** The model's functions by name, as externals for assembling a program. */
export function libcFunctions(libc: Image): Map<string, Address> {
  return new Map(libc.symbols.filter((s) => s.global && s.type === 'function').map((s) => [s.name, s.address]));
}

/** The program with the model's code added, when it uses any of the model's functions; else the program unchanged. */
export function linkLibc(program: Image, libc: Image): Image {
  const functions = libcFunctions(libc);
  if (!program.symbols.some((s) => s.kind === 'external' && functions.get(s.name) === s.address)) return program;
  const lines: LineRecord[] = [...program.lines, ...libc.lines].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { ...program, sections: [...program.sections, ...libc.sections.filter((x) => x.bytes.length > 0)], symbols: [...program.symbols, ...libc.symbols.filter((s) => s.kind === 'label')], lines };
}
