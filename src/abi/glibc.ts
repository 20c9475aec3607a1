// What the emulated glibc (≥ 2.35) exports to rseq code: `__rseq_offset` (the area's offset from
// the thread pointer), `__rseq_size` and `__rseq_flags`. Values mirror glibc 2.36 on x86-64 as
// measured on Debian 12: offset 2336, size 20 (the feature size; the registration length is 32).
import type { Address } from '../types.js';

export interface GlibcRseqExports {
  /** Page holding the three variables; must be within ±2 GiB of the code for RIP-relative loads. */
  dataAddress: Address;
  rseqOffset: bigint;
  rseqSize: number;
  rseqFlags: number;
}

export const GLIBC_DEFAULTS: GlibcRseqExports = { dataAddress: 0x300000n, rseqOffset: 2336n, rseqSize: 20, rseqFlags: 0 };

/** `__rseq_size` when glibc did not register (`glibc.pthread.rseq=0`, or `--registration none`). */
export const RSEQ_SIZE_UNREGISTERED = 0;

export const GlibcVariable = { __rseq_offset: 0, __rseq_size: 8, __rseq_flags: 12 } as const;

/** The symbol table the assembler resolves external references against. */
export function glibcSymbols(g: GlibcRseqExports = GLIBC_DEFAULTS): Map<string, Address> {
  return new Map(Object.entries(GlibcVariable).map(([name, off]) => [name, g.dataAddress + BigInt(off)]));
}

/**
 * Thread-local symbols the emulated glibc provides, by offset from the thread pointer: `__rseq_abi`,
 * the name the registered area had before glibc 2.35 (librseq, tcmalloc), is that area.
 */
export function glibcThreadLocals(g: GlibcRseqExports = GLIBC_DEFAULTS): Map<string, bigint> {
  return new Map([['__rseq_abi', g.rseqOffset]]);
}

/** The bytes of the data page's start: i64 offset, u32 size, u32 flags. */
export function glibcDataBytes(g: GlibcRseqExports, registered: boolean): Uint8Array {
  const out = new Uint8Array(16);
  const v = new DataView(out.buffer);
  v.setBigInt64(GlibcVariable.__rseq_offset, g.rseqOffset, true);
  v.setUint32(GlibcVariable.__rseq_size, registered ? g.rseqSize : RSEQ_SIZE_UNREGISTERED, true);
  v.setUint32(GlibcVariable.__rseq_flags, g.rseqFlags, true);
  return out;
}
