// GNU as's repetition and macro directives, expanded on the statement pieces (comments gone, one
// statement each) before statements are parsed: `.rept N`, `.irp SYM, VALUES`, `.irpc SYM, CHARS`
// (each up to its `.endr`), and `.macro NAME ARGS` … `.endm` with its invocations, `.exitm` and
// `.purgem`. A repeated piece keeps the location of its body line, a macro's pieces take the
// invocation's: where GNU as's line table puts them (test/asm/gnu-as.test.ts).
import { asmError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { SourceLocation } from '../types.js';
import { evaluate, ExpressionError, parseExpression } from './expression.js';
import { splitArgsAt } from './statements.js';

export interface Piece {
  text: string;
  loc: SourceLocation;
}

interface MacroParam {
  name: string;
  default: string | null;
  required: boolean;
  vararg: boolean;
}

interface Macro {
  name: string;
  params: MacroParam[];
  body: Piece[];
}

/** Macros call macros; GNU as stops runaway recursion too (at a depth it does not document). */
const MAX_DEPTH = 100;

const directiveOf = (text: string): string | null => /^\.[A-Za-z0-9_]+/.exec(text)?.[0].toLowerCase() ?? null;
const OPENS = new Set(['.rept', '.irp', '.irpc']);
/** Labels at the start of a statement (`a: b :`), as statements.ts reads them. */
const LEADING_LABELS = /^(?:(?:[A-Za-z_.$][A-Za-z0-9_.$]*|[0-9]+)[ \t]*:(?!:)[ \t]*)+/;

/** Expands every repetition and macro; pieces without any pass through unchanged. */
export function expandMacros(pieces: readonly Piece[]): Piece[] {
  if (!pieces.some((p) => /(^|:\s*)\.(rept|irpc?|macro|endr|endm|exitm|purgem)\b/i.test(p.text))) return [...pieces];
  return new Expander().run(pieces);
}

class Expander {
  private readonly macros = new Map<string, Macro>();
  private readonly out: Piece[] = [];
  /** Values of `.set`/`.equ`/`=` constants seen so far, for counts such as `.rept COUNT`. */
  private readonly constants = new Map<string, bigint>();
  private invocations = 0;

  run(pieces: readonly Piece[]): Piece[] {
    this.expand(pieces, 0);
    return this.out;
  }

  private emit(p: Piece): void {
    if (this.out.length >= LIMITS.expandedStatements) {
      throw asmError('ASM_DIRECTIVE', `repetitions and macros expand to more than ${LIMITS.expandedStatements} statements (the limit expandedStatements; --limit expandedStatements=N)`, p.loc);
    }
    this.out.push(p);
  }

  /** Expands `pieces`; returns false when an `.exitm` ended the macro body being expanded. */
  private expand(pieces: readonly Piece[], depth: number): boolean {
    for (let i = 0; i < pieces.length; i++) {
      let p = pieces[i]!;
      // Labels before a directive or an invocation on the same line (`f: addn rax`) stay where they are.
      const labels = LEADING_LABELS.exec(p.text)?.[0];
      if (labels && labels.length < p.text.length) {
        this.emit({ text: labels.trimEnd(), loc: p.loc });
        p = { text: p.text.slice(labels.length), loc: { ...p.loc, column: (p.loc.column ?? 1) + labels.length } };
      }
      const d = directiveOf(p.text);
      if (d === '.macro') {
        const end = this.blockEnd(pieces, i, '.macro', '.endm');
        this.define(p, pieces.slice(i + 1, end));
        i = end;
        continue;
      }
      if (d !== null && OPENS.has(d)) {
        const end = this.blockEnd(pieces, i, d, '.endr');
        if (!this.repeat(p, d, pieces.slice(i + 1, end), depth)) return false;
        i = end;
        continue;
      }
      if (d === '.endr' || d === '.endm') throw asmError('ASM_DIRECTIVE', `'${d}' without a matching ${d === '.endr' ? "'.rept', '.irp' or '.irpc'" : "'.macro'"}`, p.loc);
      if (d === '.exitm') {
        if (depth === 0) throw asmError('ASM_DIRECTIVE', "'.exitm' outside a macro", p.loc);
        return false;
      }
      if (d === '.purgem') {
        const name = p.text.slice(d.length).trim().toLowerCase();
        if (!this.macros.delete(name)) throw asmError('ASM_DIRECTIVE', `'.purgem': no macro named '${name}'`, p.loc);
        continue;
      }
      const word = /^[A-Za-z_.$][A-Za-z0-9_.$]*/.exec(p.text)?.[0];
      const macro = word === undefined ? undefined : this.macros.get(word.toLowerCase());
      if (macro && !/^\s*:/.test(p.text.slice(word!.length))) {
        this.invoke(macro, p, p.text.slice(word!.length), depth);
        continue;
      }
      this.noteConstant(p.text);
      this.emit(p);
    }
    return true;
  }

  /** The index of the piece that closes the block opened at `start`, counting nested blocks. */
  private blockEnd(pieces: readonly Piece[], start: number, open: string, close: string): number {
    let nesting = 0;
    for (let i = start + 1; i < pieces.length; i++) {
      const d = directiveOf(pieces[i]!.text);
      if (d === null) continue;
      if (close === '.endr' ? OPENS.has(d) : d === '.macro') nesting++;
      else if (d === close) {
        if (nesting === 0) return i;
        nesting--;
      }
    }
    throw asmError('ASM_DIRECTIVE', `'${open}' without a matching '${close}'`, pieces[start]!.loc);
  }

  private define(p: Piece, body: Piece[]): void {
    const spec = p.text.slice('.macro'.length).trim();
    const name = /^[A-Za-z_.$][A-Za-z0-9_.$]*/.exec(spec)?.[0];
    if (!name) throw asmError('ASM_DIRECTIVE', "'.macro' needs a name", p.loc);
    const params: MacroParam[] = [];
    for (const raw of splitParams(spec.slice(name.length))) {
      const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*(?::\s*(req|vararg))?\s*(?:=\s*(.*))?$/i.exec(raw);
      if (!m) throw asmError('ASM_DIRECTIVE', `'.macro ${name}': bad parameter '${raw}'`, p.loc);
      params.push({ name: m[1]!, default: m[3] ?? null, required: m[2]?.toLowerCase() === 'req', vararg: m[2]?.toLowerCase() === 'vararg' });
    }
    if (params.slice(0, -1).some((q) => q.vararg)) throw asmError('ASM_DIRECTIVE', `'.macro ${name}': only the last parameter may be :vararg`, p.loc);
    this.macros.set(name.toLowerCase(), { name, params, body });
  }

  private invoke(macro: Macro, p: Piece, argText: string, depth: number): void {
    if (depth >= MAX_DEPTH) throw asmError('ASM_DIRECTIVE', `macro '${macro.name}' nested more than ${MAX_DEPTH} deep (a macro that invokes itself without end?)`, p.loc);
    const values = new Map<string, string>();
    const givenAt = splitParamsAt(argText);
    const given = givenAt.map((g) => g.text);
    let positional = 0;
    for (let k = 0; k < given.length; k++) {
      const a = given[k]!;
      const kw = /^([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=)\s*(.*)$/.exec(a);
      const named = kw ? macro.params.find((q) => q.name === kw[1]) : undefined;
      if (named) {
        values.set(named.name, kw![2]!);
        continue;
      }
      const param = macro.params[positional++];
      if (!param) throw asmError('ASM_DIRECTIVE', `macro '${macro.name}' takes ${macro.params.length} argument(s), given ${given.length}`, p.loc);
      if (param.vararg) {
        values.set(param.name, argText.trim().slice(givenAt[k]!.start));
        break;
      }
      values.set(param.name, a);
    }
    for (const q of macro.params) {
      if (values.has(q.name) && values.get(q.name) !== '') continue;
      if (q.required) throw asmError('ASM_DIRECTIVE', `macro '${macro.name}': missing value for required parameter '${q.name}'`, p.loc);
      values.set(q.name, q.default ?? '');
    }
    const count = String(this.invocations++);
    // The invocation's location, as GNU as's line table gives every instruction of the expansion.
    const body = macro.body.map((b) => ({ text: substitute(b.text, values, count), loc: p.loc }));
    this.expand(body, depth + 1);
  }

  /** Expands a `.rept`/`.irp`/`.irpc` block; false when an `.exitm` inside it ended the enclosing macro. */
  private repeat(p: Piece, d: string, body: Piece[], depth: number): boolean {
    const args = p.text.slice(d.length).trim();
    if (d === '.rept') {
      const n = this.count(args, p);
      for (let k = 0n; k < n; k++) if (!this.expand(body, depth)) return false;
      return true;
    }
    const comma = args.search(/[,\s]/);
    const sym = comma < 0 ? args : args.slice(0, comma);
    if (!/^[A-Za-z_.$][A-Za-z0-9_.$]*$/.test(sym)) throw asmError('ASM_DIRECTIVE', `'${d}' needs a symbol, then its values`, p.loc);
    const rest = comma < 0 ? '' : args.slice(comma).replace(/^\s*,?\s*/, '');
    const values = d === '.irp' ? (rest === '' ? [''] : splitParams(rest)) : rest === '' ? [''] : [...rest.replace(/\s+/g, '')];
    for (const v of values) {
      const sub = body.map((b) => ({ text: substitute(b.text, new Map([[sym, v]]), null), loc: b.loc }));
      if (!this.expand(sub, depth)) return false;
    }
    return true;
  }

  private count(text: string, p: Piece): bigint {
    try {
      const v = this.constantValue(text);
      return v < 0n ? 0n : v;
    } catch (e) {
      throw asmError('ASM_DIRECTIVE', `'.rept' count '${text}' is not an absolute expression: ${e instanceof Error ? e.message : String(e)}`, p.loc);
    }
  }

  /** The value of an expression of numbers and the constants seen so far; throws ExpressionError otherwise. */
  private constantValue(text: string): bigint {
    const v = evaluate(parseExpression(text), (name) => {
      const c = this.constants.get(name);
      if (c === undefined) throw new ExpressionError(`'${name}' is not a constant defined before this line`, 0);
      return { base: null, offset: c };
    }, { base: null, offset: 0n });
    if (v.base !== null) throw new ExpressionError('the value is an address', 0);
    return v.offset;
  }

  /** Records `.set NAME, EXPR`, `.equ NAME, EXPR` and `NAME = EXPR` with constant values. */
  private noteConstant(text: string): void {
    const m = /^(?:\.(?:set|equ)\s+([A-Za-z_.$][A-Za-z0-9_.$]*)\s*,|([A-Za-z_.$][A-Za-z0-9_.$]*)\s*=(?!=))\s*(.+)$/i.exec(text);
    if (!m) return;
    const name = (m[1] ?? m[2])!;
    try {
      this.constants.set(name, this.constantValue(m[3]!));
    } catch {
      this.constants.delete(name);
    }
  }
}

/**
 * Macro arguments: separated by commas, or by blanks where no comma is used (GNU as accepts
 * both), keeping parenthesised and quoted parts whole.
 */
function splitParams(text: string): string[] {
  return splitParamsAt(text).map((a) => a.text);
}

/** splitParams with where each argument starts in the trimmed text (a :vararg takes the rest verbatim). */
function splitParamsAt(text: string): { text: string; start: number }[] {
  const s = text.trim();
  if (s === '') return [];
  const byComma = splitArgsAt(s);
  if (byComma.length > 1) return byComma.map((a) => ({ text: a.text, start: a.at }));
  // Blank-separated: `name = value` stays one argument; parentheses and quotes keep blanks inside.
  const out: { text: string; start: number }[] = [];
  let depth = 0;
  let quote = false;
  let cur = '';
  let start = 0;
  const push = () => {
    if (cur.trim() !== '') out.push({ text: cur.trim(), start: start + cur.length - cur.trimStart().length });
  };
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      cur += ch;
      if (ch === '\\' && i + 1 < s.length) cur += s[++i];
      else if (ch === '"') quote = false;
      continue;
    }
    if (ch === '"') quote = true;
    else if (ch === '(' || ch === '[') depth++;
    else if (ch === ')' || ch === ']') depth--;
    if (depth === 0 && /\s/.test(ch) && !/^\s*=/.test(s.slice(i)) && !/=\s*$/.test(cur)) {
      push();
      cur = '';
      start = i + 1;
      continue;
    }
    cur += ch;
  }
  push();
  return out;
}

/** Replaces `\NAME` with its value, `\@` with the invocation count and `\()` with nothing. */
function substitute(text: string, values: ReadonlyMap<string, string>, count: string | null): string {
  return text.replace(/\\(\(\)|@|[A-Za-z_.$][A-Za-z0-9_.$]*)/g, (all, name: string) => {
    if (name === '()') return '';
    if (name === '@') return count ?? all;
    return values.get(name) ?? all;
  });
}
