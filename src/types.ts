// Vocabulary types shared by every stage of the pipeline.

/** A virtual address in the emulated x86-64 address space. Always a bigint, never a number. */
export type Address = bigint;

/** A virtual CPU number, 0-based, as the kernel writes it into rseq.cpu_id. */
export type CpuId = number;

/** Where something came from in the user's source. Column is 1-based when known. */
export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

/** Formats an address the way every report prints it. */
export function hex(address: bigint): string {
  return '0x' + BigInt.asUintN(64, address).toString(16);
}

/** Bytes as spaced hex pairs, e.g. `0f b9 3d`. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Formats a location as `file:line[:column]`. */
export function formatLocation(loc: SourceLocation): string {
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}
