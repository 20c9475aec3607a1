// Splits GNU-as source text into statements (labels, directives, instructions), each with its
// location. Handles `#` and `/* */` comments, `;` separators and quoted strings, so later stages
// never see comment text or need to know about line structure.
import { asmError } from '../errors.js';
import { characterConstantEnd } from './expression.js';
import { expandMacros } from './macros.js';
import type { SourceLocation } from '../types.js';

export type Statement =
  | { kind: 'label'; name: string; loc: SourceLocation }
  | { kind: 'assign'; name: string; expr: string; exprAt: number; loc: SourceLocation }
  | { kind: 'directive'; name: string; args: string; loc: SourceLocation; text: string }
  | { kind: 'instruction'; text: string; loc: SourceLocation };

const IDENT = /^[A-Za-z_.$][A-Za-z0-9_.$]*/;
// GNU as allows blanks (spaces, tabs) between a label's name and its colon: `5 :`, `name\t:`.
const NUMERIC_LABEL = /^[0-9]+(?=[ \t]*:)/;

/** Removes comments and splits on `;`, keeping each piece's starting column. */
function pieces(source: string, inputFile: string): { text: string; loc: SourceLocation }[] {
  const out: { text: string; loc: SourceLocation }[] = [];
  // C preprocessor line markers (`# 12 "op.S"`) move the location, as GNU as honours them.
  let file = inputFile;
  let line = 1;
  let physicalLine = 1;
  // Between gcc's `#APP` and `#NO_APP` (its -S output around inline asm) a marker `# 5 "op.c" 1`
  // names the C line of the asm statement; we keep the .s file's own line there instead (README).
  let inlineAsm = false;
  let col = 1;
  let cur = '';
  let curLoc: SourceLocation = { file, line, column: 1 };
  let inBlockComment = false;
  let inString: string | null = null;
  // Where the open string or comment began: an unterminated one is reported there.
  let openedAt: SourceLocation = curLoc;
  const flush = () => {
    const lead = cur.length - cur.trimStart().length;
    if (cur.trim() !== '') out.push({ text: cur.trim(), loc: { ...curLoc, column: (curLoc.column ?? 1) + lead } });
    cur = '';
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\n') {
      if (inString !== null) throw asmError('ASM_SYNTAX', 'unterminated string', openedAt);
      flush();
      line++;
      physicalLine++;
      col = 1;
      curLoc = { file, line, column: 1 };
      continue;
    }
    if (inBlockComment) {
      if (ch === '*' && source[i + 1] === '/') {
        inBlockComment = false;
        i++;
        col++;
        cur += ' ';
      }
      col++;
      continue;
    }
    if (inString !== null) {
      cur += ch;
      if (ch === '\\' && i + 1 < source.length && source[i + 1] !== '\n') {
        cur += source[++i];
        col++;
      } else if (ch === inString) inString = null;
      col++;
      continue;
    }
    if (ch === '"') {
      inString = '"';
      openedAt = { file, line, column: col };
    } else if (ch === '/' && source[i + 1] === '*') {
      inBlockComment = true;
      openedAt = { file, line, column: col };
      i++;
      col += 2;
      continue;
    } else if (ch === '#' || (ch === '/' && cur.trim() === '')) {
      // A comment runs to the end of the line; as in GNU as for ELF x86, `/` starts one where a statement would.
      const end = source.indexOf('\n', i);
      const comment = source.slice(i, end < 0 ? source.length : end);
      const atStart = ch === '#' && cur.trim() === '';
      const marker = atStart ? /^#\s*(\d+)\s+"((?:[^"\\]|\\.)*)"((?:\s+\d+)*)\s*$/.exec(comment) : null;
      if (atStart && /^#(NO_)?APP\s*$/.test(comment)) inlineAsm = comment.startsWith('#APP');
      if (marker) {
        const [n, name, flags] = [Number(marker[1]), marker[2]!.replace(/\\(.)/g, '$1'), marker[3]!.trim().split(/\s+/)];
        if (name === '') {
          // `# 0 "" 2` ends gcc's inline asm: back to this file at its own line, as GNU as does.
          file = inputFile;
          line = n === 0 ? physicalLine : n - 1;
        } else if (!(inlineAsm && flags.includes('1'))) {
          line = n - 1; // the next line is line N of that file
          file = name;
        }
      }
      i += comment.length - 1;
      continue;
    } else if (ch === ';') {
      flush();
      col++;
      curLoc = { file, line, column: col };
      continue;
    }
    if (cur === '') curLoc = { file, line, column: col };
    if (ch === "'" && i + 1 < source.length && source[i + 1] !== '\n') {
      // A character constant ('a, '\n, 'a'): keep it verbatim, so a quoted ';', '#' or '"' is not syntax.
      const end = characterConstantEnd(source, i);
      cur += source.slice(i, end);
      col += end - i;
      i = end - 1;
      continue;
    }
    cur += ch;
    col++;
  }
  if (inBlockComment) throw asmError('ASM_SYNTAX', 'unterminated /* comment', openedAt);
  if (inString !== null) throw asmError('ASM_SYNTAX', 'unterminated string', openedAt);
  flush();
  return out;
}

/** Parses the source into statements. Several labels may precede one statement on a line. */
export function parseStatements(source: string, file: string): Statement[] {
  const out: Statement[] = [];
  for (const piece of expandMacros(pieces(source, file))) {
    let text = piece.text;
    let column = piece.loc.column ?? 1;
    for (;;) {
      const m = IDENT.exec(text) ?? NUMERIC_LABEL.exec(text);
      if (!m) break;
      const rest = text.slice(m[0].length);
      const afterName = rest.replace(/^[ \t]*/, '');
      if (afterName.startsWith(':') && !afterName.startsWith('::')) {
        out.push({ kind: 'label', name: m[0], loc: { ...piece.loc, column } });
        const consumed = text.length - afterName.length + 1;
        const next = text.slice(consumed);
        column += consumed + (next.length - next.trimStart().length);
        text = next.trimStart();
        continue;
      }
      if (afterName.startsWith('=') && !afterName.startsWith('==')) {
        const value = afterName.slice(1);
        out.push({ kind: 'assign', name: m[0], expr: value.trim(), exprAt: text.length - value.trimStart().length, loc: { ...piece.loc, column } });
        text = '';
      }
      break;
    }
    if (text === '') continue;
    const loc = { ...piece.loc, column };
    if (text.startsWith('.')) {
      const name = /^\.[A-Za-z0-9_.]+/.exec(text)?.[0] ?? '.';
      out.push({ kind: 'directive', name: name.toLowerCase(), args: text.slice(name.length).trim(), loc, text });
    } else {
      out.push({ kind: 'instruction', text, loc });
    }
  }
  return out;
}

/** Splits an argument list on top-level commas (not inside parentheses, brackets or strings). */
export function splitArgs(args: string): string[] {
  return splitArgsAt(args).map((a) => a.text);
}

/** Like splitArgs, with each trimmed argument's offset in `args`, so errors can point into it. */
export function splitArgsAt(args: string): { text: string; at: number }[] {
  const out: { text: string; at: number }[] = [];
  const push = (start: number, end: number) => {
    const raw = args.slice(start, end);
    out.push({ text: raw.trim(), at: start + raw.length - raw.trimStart().length });
  };
  let depth = 0;
  let start = 0;
  let quote = false;
  for (let i = 0; i < args.length; i++) {
    const ch = args[i]!;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === '"') quote = false;
    } else if (ch === "'" && i + 1 < args.length) {
      // A character constant such as ',' or '" is one value, not a separator or a string.
      i = characterConstantEnd(args, i) - 1;
    } else if (ch === '"') quote = true;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    else if (ch === ',' && depth === 0) {
      push(start, i);
      start = i + 1;
    }
  }
  if (args.slice(start).trim() !== '' || out.length > 0) push(start, args.length);
  return out;
}
