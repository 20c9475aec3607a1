// Source file → image, with the emulated glibc's symbols as externals. The first stage of the
// pipeline as the CLI and the library API both use it.
import { libcFunctions, libcImage, linkLibc, UNRESOLVED_BASE } from './abi/libc-model.js';
import { glibcSymbols, glibcThreadLocals, GLIBC_DEFAULTS, type GlibcRseqExports } from './abi/glibc.js';
import { assemble } from './asm/assembler.js';
import { loadCapstone } from './asm/capstone.js';
import type { Image } from './asm/image.js';
import { imageKey, processImageCache, type ImageCache } from './asm/image-cache.js';
import { needsPreprocessor, preprocess } from './asm/preprocess.js';
import { RseqEmuError } from './errors.js';
import { readInputFile } from './input-file.js';
import { LIMITS } from './limits.js';


/**
 * Assembles a program as a static link with the emulated libc would: glibc's rseq variables, the
 * modelled libc functions it calls (abi/libc-model.ts), and any other symbol it uses but does not
 * define left unresolved, so that only calling or reading it fails (the machine names it).
 */
export function assembleSource(source: string, file: string, glibc: GlibcRseqExports = GLIBC_DEFAULTS): Promise<Image> {
  return assembleThrough(processImageCache(), source, file, glibc);
}

/** assembleSource with an explicit cache (null: none). */
export async function assembleThrough(cached: { cache: ImageCache; build: string } | null, source: string, file: string, glibc: GlibcRseqExports = GLIBC_DEFAULTS): Promise<Image> {
  const key = cached ? imageKey(cached.build, source, file, glibc) : null;
  const hit = key ? cached!.cache.get(key) : null;
  if (hit) {
    await loadCapstone(); // what assembling would have loaded, for the disassembly that follows
    return hit;
  }
  const image = await assembleAndLink(source, file, glibc);
  if (key) cached!.cache.put(key, image);
  return image;
}

// Modules are imported statically: a dynamic import() from code that mocha runs as CommonJS loads
// a second copy of the module graph (and of Capstone's loaded state).
async function assembleAndLink(source: string, file: string, glibc: GlibcRseqExports): Promise<Image> {
  const libc = await libcImage(glibc);
  const externals = new Map([...glibcSymbols(glibc), ...libcFunctions(libc)]);
  const program = await assemble(source, { file, externals, threadLocals: glibcThreadLocals(glibc), unresolvedBase: UNRESOLVED_BASE });
  return linkLibc(program, libc);
}

export async function loadProgram(path: string, glibc: GlibcRseqExports = GLIBC_DEFAULTS): Promise<Image> {
  const source = await readInputFile(path, 'an assembly source', LIMITS.sourceBytes);
  if (source.startsWith('\x7fELF')) throw new RseqEmuError('INPUT', `${path} is an ELF file; rseq-emu reads GNU-as assembly source (.s)`);
  if (source.includes('\0')) throw new RseqEmuError('INPUT', `${path} is not a text assembly file (it contains NUL bytes)`);
  return assembleSource(needsPreprocessor(path) ? preprocess(path) : source, path, glibc);
}
