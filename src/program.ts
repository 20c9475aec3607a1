// Source file → image, with the emulated glibc's symbols as externals. The first stage of the
// pipeline as the CLI and the library API both use it.
import { glibcSymbols, glibcThreadLocals, GLIBC_DEFAULTS, type GlibcRseqExports } from './abi/glibc.js';
import { assemble } from './asm/assembler.js';
import type { Image } from './asm/image.js';
import { needsPreprocessor, preprocess } from './asm/preprocess.js';
import { RseqEmuError } from './errors.js';
import { readInputFile } from './input-file.js';
import { LIMITS } from './limits.js';


export async function assembleSource(source: string, file: string, glibc: GlibcRseqExports = GLIBC_DEFAULTS): Promise<Image> {
  return assemble(source, { file, externals: glibcSymbols(glibc), threadLocals: glibcThreadLocals(glibc) });
}

export async function loadProgram(path: string, glibc: GlibcRseqExports = GLIBC_DEFAULTS): Promise<Image> {
  const source = await readInputFile(path, 'an assembly source', LIMITS.sourceBytes);
  if (source.startsWith('\x7fELF')) throw new RseqEmuError('INPUT', `${path} is an ELF file; rseq-emu reads GNU-as assembly source (.s)`);
  if (source.includes('\0')) throw new RseqEmuError('INPUT', `${path} is not a text assembly file (it contains NUL bytes)`);
  return assembleSource(needsPreprocessor(path) ? preprocess(path) : source, path, glibc);
}
