// The source-line table a debugger steps by. For `gcc -g -S` output the lines are the C lines the
// `.loc` directives name (`.file N "name"` gives the file); for hand-written assembly every source
// line is a line of its own, as `as -g` records them. Consecutive instructions of one line form one
// address range, as DWARF line programs do.
import { readFileSync } from 'node:fs';
import type { Image } from '../asm/image.js';
import type { Address } from '../types.js';
import { rangeAt } from '../sorted.js';

export interface LineEntry {
  /** [start, end): the instructions of one source line that sit next to each other. */
  start: Address;
  end: Address;
  file: string;
  line: number;
}

interface SourceLine {
  file: string;
  line: number;
}

/**
 * For each statement location the assembler gives (file and line after cpp line markers, such as
 * the `# 66 "f.c" 1` gcc puts around inline asm), the C line the last `.loc` before it named.
 * Null when the source has no `.loc`.
 */
export function locLines(source: string, inputFile: string): Map<string, SourceLine | null> | null {
  const files = new Map<number, string>();
  const out = new Map<string, SourceLine | null>();
  let current: SourceLine | null = null;
  let seen = false;
  // The assembler's own position, moved by line markers as statements.ts moves it.
  let asmFile = inputFile;
  let asmLine = 1;
  for (const text of source.split('\n')) {
    const file = /^\s*\.file\s+(\d+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"((?:[^"\\]|\\.)*)")?/.exec(text);
    if (file) files.set(Number(file[1]), file[3] !== undefined ? file[3] : file[2]!);
    const loc = /^\s*\.loc\s+(\d+)\s+(\d+)/.exec(text);
    // is_stmt 0 rows are not places a line step stops, so they do not start a new line here.
    if (loc && !/\bis_stmt\s+0\b/.test(text)) {
      seen = true;
      const line = Number(loc[2]);
      current = line === 0 ? null : { file: files.get(Number(loc[1])) ?? `file${loc[1]}`, line };
    }
    out.set(`${asmFile}\n${asmLine}`, current);
    const marker = /^\s*#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"/.exec(text);
    if (marker) {
      asmFile = marker[2]!.replace(/\\(.)/g, '$1');
      asmLine = Number(marker[1]);
    } else asmLine++;
  }
  return seen ? out : null;
}

export class LineTable {
  private constructor(private readonly entries: LineEntry[]) {}

  /** From the image's per-instruction source records, mapped through `.loc` when the source has it. */
  static fromImage(image: Image, source?: string): LineTable {
    let text = source;
    if (text === undefined) {
      try {
        text = readFileSync(image.file, 'utf8');
      } catch {
        text = '';
      }
    }
    const mapped = locLines(text, image.file);
    const entries: LineEntry[] = [];
    for (const r of image.lines) {
      if (r.kind !== 'instruction' || r.size === 0) continue;
      const src: SourceLine | null = mapped ? (mapped.get(`${r.loc.file}\n${r.loc.line}`) ?? null) : { file: r.loc.file, line: r.loc.line };
      if (!src) continue;
      const end = r.address + BigInt(r.size);
      const last = entries.at(-1);
      if (last && last.end === r.address && last.file === src.file && last.line === src.line) last.end = end;
      else entries.push({ start: r.address, end, file: src.file, line: src.line });
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
