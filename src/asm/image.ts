// The assembled program: sections at fixed addresses, every symbol, and the source line behind
// every byte range. This is the one type the assembler hands to the rest of the pipeline.
import { hex, type Address, type SourceLocation } from '../types.js';
import { lineIndexAt, nearestLabel } from './image-index.js';

export interface SectionFlags {
  write: boolean;
  exec: boolean;
  /** Occupies no file bytes (`.bss`): memory is zero-filled. */
  nobits: boolean;
  /** Part of the thread-local storage template (`.tdata`, `.tbss`, flag `T`). */
  tls: boolean;
  /**
   * Loaded into memory. Sections that are not (DWARF, `.comment`) sit at address 0 as in a linked
   * file, so a reference into them (`.long .Ldebug_abbrev0`) is the section offset DWARF expects.
   */
  alloc: boolean;
}

/** The initial image of every thread's TLS block: it ends at the thread pointer (x86-64 variant II). */
export interface TlsTemplate {
  /** `.tdata` bytes, then zeros for `.tbss`, padded to a multiple of `align`. */
  bytes: Uint8Array;
  align: number;
}

export interface ImageSection {
  name: string;
  address: Address;
  bytes: Uint8Array;
  flags: SectionFlags;
  align: number;
}

export interface ImageSymbol {
  /** As written; a numeric local label `1:` is named `1`, with `instance` telling its definitions apart. */
  name: string;
  address: Address;
  /** The section the symbol is in, or null for absolute values and external symbols. */
  section: string | null;
  kind: 'label' | 'constant' | 'external';
  global: boolean;
  type: 'function' | 'object' | null;
  size: bigint | null;
  instance?: number;
  loc: SourceLocation | null;
}

export interface LineRecord {
  address: Address;
  size: number;
  loc: SourceLocation;
  /** For an instruction after a `.loc` (gcc -g output): the source line it says, the file resolved through `.file`. */
  source?: SourceLocation;
  /** False when that `.loc` said `is_stmt 0`: not a place a debugger stops for the line. */
  sourceStmt?: false;
  text: string;
  kind: 'instruction' | 'data' | 'padding';
}

/**
 * A symbol the program uses but defines nowhere (a libc function such as `printf`), and the
 * address it was given: nothing is mapped there, so a call or access faults and the machine names
 * the symbol. Only with AssembleOptions.unresolvedBase; without it such a symbol is an error.
 */
export interface UnresolvedSymbol {
  name: string;
  address: Address;
  /** Its first use. */
  loc: SourceLocation;
}

/** Unresolved symbols are this many bytes apart. */
export const UNRESOLVED_STRIDE = 16n;

export interface Image {
  file: string;
  sections: ImageSection[];
  /** Null when the program has no thread-local data. */
  tls: TlsTemplate | null;
  symbols: ImageSymbol[];
  /** Sorted by address. */
  lines: LineRecord[];
  /** gcc -g output: `.file N` numbers and the paths they name; DWARF's `DW_AT_decl_file` counts on them. */
  sourceFiles?: ReadonlyMap<number, string>;
  /** Symbols used but defined nowhere, in order of first use (empty unless AssembleOptions.unresolvedBase). */
  unresolved: UnresolvedSymbol[];
}

/** The unresolved symbol whose address block holds `address`, if any. */
export function unresolvedAt(image: Image, address: Address): UnresolvedSymbol | undefined {
  return image.unresolved.find((u) => address >= u.address && address < u.address + UNRESOLVED_STRIDE);
}

export function findSymbol(image: Image, name: string): ImageSymbol | undefined {
  return image.symbols.find((s) => s.name === name && s.instance === undefined);
}

export function sectionNamed(image: Image, name: string): ImageSection | undefined {
  return image.sections.find((s) => s.name === name);
}

export function sectionAt(image: Image, address: Address): ImageSection | undefined {
  return image.sections.find((s) => s.flags.alloc && address >= s.address && address < s.address + BigInt(s.bytes.length));
}

export function lineAt(image: Image, address: Address): LineRecord | undefined {
  return lineIndexAt(image, address);
}

/** Reads `size` bytes of the image at `address`, or null when they are not all inside one section. */
export function imageBytes(image: Image, address: Address, size: number): Uint8Array | null {
  const s = sectionAt(image, address);
  if (!s) return null;
  const off = Number(address - s.address);
  return off + size <= s.bytes.length ? s.bytes.subarray(off, off + size) : null;
}

/**
 * `symbol+offset` for an address: the nearest label at or below it in the same section,
 * preferring named labels over numeric ones, falling back to hex.
 */
export function symbolize(image: Image, address: Address): string {
  const section = sectionAt(image, address) ?? image.sections.find((s) => s.flags.alloc && address === s.address + BigInt(s.bytes.length));
  const best = section ? nearestLabel(image, section.name, address, rank) : undefined;
  if (!best) {
    const exact = image.symbols.find((sym) => sym.kind === 'external' && sym.address === address);
    return exact ? exact.name : hex(address);
  }
  const off = address - best.address;
  return off === 0n ? best.name : `${best.name}+${off}`;
}

// Prefer global names, then ordinary names, then .L locals, then numeric labels.
const rank = (s: ImageSymbol) => (s.instance !== undefined ? 3 : s.name.startsWith('.L') ? 2 : s.global ? 0 : 1);
