// The `.debug_line` of an image, as GNU as builds it: from the `.loc` directives of gcc -g output
// (file numbers kept, so DW_AT_decl_file still names the right file), or for hand-written code one
// row per source line of the `.s`, as `as -g` does. DWARF 4 line programs (DWARF 4 §6.2), which gdb
// reads under DWARF 5 units too.
import { dirname, isAbsolute, resolve } from 'node:path';
import { sectionAt, type Image } from '../asm/image.js';
import type { Address } from '../types.js';
import { ByteSink } from './struct.js';

export interface LineRow {
  address: Address;
  /** 1-based index into LineTable.files. */
  file: number;
  line: number;
  column: number;
  /** DWARF's is_stmt: a recommended breakpoint location for the line. */
  stmt: boolean;
}

/** The rows of one contiguous code range, ending at `end` (the address after its last instruction). */
export interface LineSequence {
  rows: LineRow[];
  end: Address;
}

export interface LineTable {
  /** files[i - 1] is file number i. */
  files: string[];
  sequences: LineSequence[];
  /** True when the rows come from `.loc` (a compiler's source lines), false for the `.s` lines themselves. */
  fromLoc: boolean;
}

const DW_LNS_copy = 1, DW_LNS_advance_pc = 2, DW_LNS_advance_line = 3, DW_LNS_set_file = 4, DW_LNS_set_column = 5, DW_LNS_negate_stmt = 6;
const DW_LNE_end_sequence = 1, DW_LNE_set_address = 2;
const OPCODE_BASE = 13;
const STANDARD_OPCODE_LENGTHS = [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1];

export function lineTableOf(image: Image, compDir: string): LineTable {
  const instructions = image.lines.filter((l) => l.kind === 'instruction');
  const fromLoc = instructions.some((l) => l.source);
  const files: string[] = [];
  const fileNumber = new Map<string, number>();
  if (fromLoc && image.sourceFiles) {
    const top = Math.max(...image.sourceFiles.keys());
    // A relative compilation directory (`-fdebug-prefix-map=$PWD=.`) is taken as the .s file's own.
    const sourceDir = dirname(resolve(compDir, image.file));
    const path = (p: string) => (isAbsolute(p) ? p : resolve(sourceDir, p));
    for (let n = 1; n <= top; n++) files.push(path(image.sourceFiles.get(n) ?? image.sourceFiles.get(0) ?? '<unknown>'));
    for (let n = top; n >= 0; n--) if (image.sourceFiles.has(n)) fileNumber.set(image.sourceFiles.get(n)!, Math.max(n, 1));
  }
  const numberOf = (path: string): number => {
    let n = fileNumber.get(path);
    if (n === undefined) {
      files.push(fromLoc ? path : resolve(compDir, path));
      fileNumber.set(path, (n = files.length));
    }
    return n;
  };
  const bySection = new Map<string, LineSequence>();
  for (const l of instructions) {
    const where = fromLoc ? l.source : l.loc;
    const section = sectionAt(image, l.address);
    if (!where || !section) continue;
    let seq = bySection.get(section.name);
    if (!seq) bySection.set(section.name, (seq = { rows: [], end: l.address }));
    const row = { address: l.address, file: numberOf(where.file), line: where.line, column: where.column ?? 0, stmt: !(fromLoc && l.sourceStmt === false) };
    const last = seq.rows.at(-1);
    if (!last || last.file !== row.file || last.line !== row.line || last.stmt !== row.stmt) seq.rows.push(row);
    seq.end = l.address + BigInt(l.size);
  }
  // Instructions after the last .loc-less one in a section still belong to its last row.
  for (const l of instructions) {
    const section = sectionAt(image, l.address);
    const seq = section && bySection.get(section.name);
    if (seq && l.address + BigInt(l.size) > seq.end) seq.end = l.address + BigInt(l.size);
  }
  return { files, sequences: [...bySection.values()].filter((s) => s.rows.length > 0), fromLoc };
}

/** Encodes a line table as one `.debug_line` unit (offset 0, which DW_AT_stmt_list points at). */
export function encodeLineProgram(table: LineTable): Uint8Array {
  const out = new ByteSink();
  out.u(0, 4); // unit_length, patched
  out.u(4, 2); // version
  const headerLengthAt = out.length;
  out.u(0, 4); // header_length, patched
  const headerStart = out.length;
  out.u(1, 1).u(1, 1).u(1, 1); // minimum_instruction_length, maximum_operations_per_instruction, default_is_stmt
  out.u(-5, 1).u(14, 1).u(OPCODE_BASE, 1).bytes(STANDARD_OPCODE_LENGTHS);
  out.u(0, 1); // no include_directories: every file name is a path of its own
  for (const f of table.files) out.cstring(f).uleb(0).uleb(0).uleb(0);
  out.u(0, 1);
  out.patch(headerLengthAt, out.length - headerStart, 4);
  for (const seq of table.sequences) {
    let address = seq.rows[0]!.address;
    let file = 1, line = 1, column = 0, stmt = true;
    out.u(0, 1).uleb(9).u(DW_LNE_set_address, 1).u(address, 8);
    for (const r of seq.rows) {
      if (r.address !== address) out.u(DW_LNS_advance_pc, 1).uleb(r.address - address);
      if (r.file !== file) out.u(DW_LNS_set_file, 1).uleb(r.file);
      if (r.line !== line) out.u(DW_LNS_advance_line, 1).sleb(r.line - line);
      if (r.column !== column) out.u(DW_LNS_set_column, 1).uleb(r.column);
      if (r.stmt !== stmt) out.u(DW_LNS_negate_stmt, 1);
      out.u(DW_LNS_copy, 1);
      ({ address, file, line, column, stmt } = r);
    }
    if (seq.end > address) out.u(DW_LNS_advance_pc, 1).uleb(seq.end - address);
    out.u(0, 1).uleb(1).u(DW_LNE_end_sequence, 1);
  }
  out.patch(0, out.length - 4, 4);
  return out.result();
}
