// The source-line table a debugger steps by. For `gcc -g -S` output the lines are the C lines the
// `.loc` directives name, as the assembler recorded them for each instruction (the same records
// the ELF's .debug_line is built from); for hand-written assembly every source line is a line of
// its own, as `as -g` records them. Consecutive instructions of one line form one
// address range, as DWARF line programs do.
import { normalize } from 'node:path';
import type { Image } from '../asm/image.js';
import type { Address, SourceLocation } from '../types.js';
import { rangeAt } from '../sorted.js';

export interface LineEntry {
  /** [start, end): the instructions of one source line that sit next to each other. */
  start: Address;
  end: Address;
  file: string;
  line: number;
}

export class LineTable {
  private constructor(private readonly entries: LineEntry[]) {}

  /**
   * From the image's per-instruction records: the C line of the last `.loc` (gcc -g output; an
   * `is_stmt 0` row stays on the statement line before it, where a line step never stops), or
   * each assembly line itself when the source has no `.loc`.
   */
  static fromImage(image: Image): LineTable {
    const records = image.lines.filter((r) => r.kind === 'instruction' && r.size > 0);
    const hasLoc = records.some((r) => r.source !== undefined);
    const entries: LineEntry[] = [];
    let statement: SourceLocation | null = null;
    for (const r of records) {
      if (r.source && r.sourceStmt !== false) statement = r.source;
      const src = hasLoc ? (r.sourceStmt === false ? statement : r.source ?? null) : r.loc;
      if (!src || src.line === 0) continue;
      const end = r.address + BigInt(r.size);
      const last = entries.at(-1);
      if (last && last.end === r.address && last.file === normalize(src.file) && last.line === src.line) last.end = end;
      else entries.push({ start: r.address, end, file: normalize(src.file), line: src.line });
    }
    entries.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    return new LineTable(entries);
  }

  /** The entry whose range holds `address`. */
  at(address: Address): LineEntry | null {
    return rangeAt(this.entries, address, (e) => e.start, (e) => e.end) ?? null;
  }

  /** Every range of a source line (a line split by jumps or sections has several). */
  rangesOf(file: string, line: number): LineEntry[] {
    return this.entries.filter((e) => e.line === line && e.file === file);
  }

  /** The first address of a source line, for `--break FILE:LINE`. */
  firstAddress(file: string, line: number): Address | null {
    const hits = this.entries.filter((e) => e.line === line && (e.file === file || e.file.endsWith('/' + file)));
    return hits.length ? hits.reduce((a, b) => (b.start < a.start ? b : a)).start : null;
  }

  get size(): number {
    return this.entries.length;
  }
}
