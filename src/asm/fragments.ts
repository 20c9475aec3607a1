// The assembler's intermediate form: per-section lists of fragments whose sizes layout decides,
// and the symbol definitions that point between fragments.
import type { SourceLocation } from '../types.js';
import type { Encoding } from './encoder.js';
import type { Expr } from './expression.js';
import type { SectionFlags } from './image.js';
import type { ParsedInstruction, Syntax } from './operands.js';

interface FragmentBase {
  loc: SourceLocation;
  text: string;
}

export type Fragment =
  | (FragmentBase & { kind: 'insn'; ins: ParsedInstruction; syntax: Syntax; constants: (bigint | null)[]; enc: Encoding; near: boolean; source?: SourceLocation; sourceStmt?: false })
  | (FragmentBase & { kind: 'data'; items: { expr: Expr; size: number; loc: SourceLocation }[] })
  | (FragmentBase & { kind: 'bytes'; bytes: Uint8Array })
  | (FragmentBase & { kind: 'fill'; count: Expr; size: number; value: Expr })
  /** `.uleb128` / `.sleb128`: as many bytes as the value needs. */
  | (FragmentBase & { kind: 'leb128'; values: Expr[]; signed: boolean })
  | (FragmentBase & { kind: 'align'; align: number; fill: Expr | null; max: number | null });

export interface SectionState {
  name: string;
  flags: SectionFlags;
  align: number;
  frags: Fragment[];
}

/** A point in a section: before fragment `frag` (== frags.length at the end). */
export interface Position {
  section: SectionState;
  frag: number;
}

export interface LabelDef extends Position {
  name: string;
  instance?: number;
  loc: SourceLocation;
}

export interface SetDef extends Position {
  expr: Expr;
  loc: SourceLocation;
}

/** A `.set` symbol's n-th definition; the first keeps the plain name, which forward references use. */
export const setName = (name: string, version: number): string => (version === 1 ? name : `${name}\u0002${version}`);

/** Flags GNU as gives a section it knows by name; other names are read-only data unless flags say otherwise. */
export function defaultFlags(name: string): SectionFlags {
  const exec = name === '.text' || name.startsWith('.text.') || name === '.init' || name === '.fini' || name === '__rseq_failure';
  const tls = /^\.t(data|bss)(\.|$)/.test(name);
  const nobits = name === '.bss' || name.startsWith('.bss.') || /^\.tbss(\.|$)/.test(name);
  const write = nobits || tls || name === '.data' || name.startsWith('.data.') || name.startsWith('__rseq_');
  // GNU as loads no debugging or comment section: in a linked file they sit at address 0.
  const alloc = !/^\.(debug_|zdebug_|comment$|note\.GNU-stack$|gnu_debuglink$)/.test(name);
  return { write: write && !exec, exec, nobits, tls, alloc };
}

/** Parses `"awx"` plus an optional `@nobits` type, as in `.section name, "aw", @nobits`. */
export function parseFlags(flags: string, type: string | undefined): SectionFlags {
  const nobits = /^[@%]nobits$/.test(type?.trim() ?? '');
  // Flags with none of a, w, x, T (`""`, `"MS"` of .debug_str) make a section that is not loaded.
  return { write: flags.includes('w'), exec: flags.includes('x'), nobits, tls: flags.includes('T'), alloc: nobits || /[awxT]/.test(flags) };
}

export const SECTION_PAGE = 0x1000n;

/** Labels of the synthetic GOT's slots: `__got.SYMBOL` (its address) and `__got.tp.SYMBOL` (its @tpoff). */
export const GOT_PREFIX = '__got.';
/** `__tpoff.SYMBOL`: a thread-local symbol's offset from the thread pointer, resolved at layout. */
export const TPOFF_PREFIX = '__tpoff.';
/** `__dtpoff.SYMBOL`: a thread-local symbol's offset in the program's TLS block (`sym@dtpoff`, DWARF's TLS locations). */
export const DTPOFF_PREFIX = '__dtpoff.';
/** The TLS block's start as an offset from the thread pointer (minus the template's size): `@tlsld`'s GOT pair. */
export const TLS_BLOCK_TPOFF = '__tls_block.tpoff';
