// GNU-as expressions: parsing to a small tree, and evaluation to a typed value.
// A value is either absolute or relative to a base (a section, before layout fixes section
// addresses). GAS precedence: * / % << >> bind tighter than | & ^ !, which bind tighter
// than + - and comparisons, then &&, then ||.

export type Expr =
  | { kind: 'num'; value: bigint }
  | { kind: 'sym'; name: string; at: number }
  | { kind: 'dot' }
  | { kind: 'unary'; op: string; arg: Expr }
  | { kind: 'binary'; op: string; left: Expr; right: Expr };

/** `base` null: an absolute number. Otherwise `offset` bytes from the start of section `base`. */
export interface Value {
  base: string | null;
  offset: bigint;
}

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const LEVELS: string[][] = [['||'], ['&&'], ['+', '-', '==', '!=', '<>', '<', '>', '<=', '>='], ['|', '&', '^', '!'], ['*', '/', '%', '<<', '>>']];
const OPERATORS = ['<<', '>>', '<=', '>=', '==', '!=', '<>', '&&', '||', '+', '-', '*', '/', '%', '|', '&', '^', '!', '~', '<', '>', '(', ')'];

type Token = { t: 'num'; v: bigint; at: number } | { t: 'sym'; v: string; at: number } | { t: 'op'; v: string; at: number };

/**
 * Where the character constant starting with the quote at `at` ends: the quote, one character or a
 * backslash escape, and an optional closing quote (GNU as reads 'a and 'a' alike).
 */
export function characterConstantEnd(text: string, at: number): number {
  let end = at + 2;
  if (text[at + 1] === '\\' && end < text.length && text[end] !== '\n') end++;
  return text[end] === "'" ? end + 1 : end;
}

// The escapes GNU as knows in a character constant; any other escaped character stands for itself.
const CHAR_ESCAPES: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9 };

/** Tokens with offsets counted from `base`, so errors and symbols point into the caller's line. */
function tokenize(text: string, base: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const at = base + i;
    const numLabel = /^([0-9]+)([fb])(?![0-9A-Za-z_.$])/.exec(text.slice(i));
    if (numLabel) {
      out.push({ t: 'sym', v: numLabel[0], at });
      i += numLabel[0].length;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)(?![0-9A-Za-z_.$])/.exec(text.slice(i));
    if (num) {
      const s = num[0];
      const v = /^0[0-7]+$/.test(s) ? BigInt('0o' + s.slice(1)) : BigInt(s);
      out.push({ t: 'num', v, at });
      i += s.length;
      continue;
    }
    if (/[0-9]/.test(ch)) throw new ExpressionError(`bad number '${/^[0-9A-Za-z_.$]+/.exec(text.slice(i))?.[0]}'`, at);
    if (ch === "'") {
      if (i + 1 >= text.length) throw new ExpressionError('empty character constant', at);
      const escaped = text[i + 1] === '\\' && i + 2 < text.length ? text[i + 2]! : null;
      out.push({ t: 'num', v: BigInt(escaped === null ? text.charCodeAt(i + 1) : CHAR_ESCAPES[escaped] ?? escaped.charCodeAt(0)), at });
      i = characterConstantEnd(text, i);
      continue;
    }
    const sym = /^[A-Za-z_.$][A-Za-z0-9_.$]*/.exec(text.slice(i));
    if (sym) {
      out.push({ t: 'sym', v: sym[0], at });
      i += sym[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected '${ch}'`, at);
    out.push({ t: 'op', v: op, at });
    i += op.length;
  }
  return out;
}

/**
 * Parses a whole expression; throws ExpressionError with the offending offset. Offsets (in errors
 * and symbol nodes) count from `base`: pass the text's offset in its statement.
 */
export function parseExpression(text: string, base = 0): Expr {
  const toks = tokenize(text, base);
  let pos = 0;
  const peek = () => toks[pos];
  const endAt = () => toks[pos]?.at ?? base + text.length;

  const primary = (): Expr => {
    const tok = toks[pos];
    if (!tok) throw new ExpressionError('expression expected', base + text.length);
    pos++;
    if (tok.t === 'num') return { kind: 'num', value: tok.v };
    if (tok.t === 'sym') return tok.v === '.' ? { kind: 'dot' } : { kind: 'sym', name: tok.v, at: tok.at };
    if (tok.v === '(') {
      const e = binary(0);
      const close = toks[pos];
      if (!close || close.t !== 'op' || close.v !== ')') throw new ExpressionError("')' expected", endAt());
      pos++;
      return e;
    }
    if (tok.v === '-' || tok.v === '~' || tok.v === '!' || tok.v === '+') return { kind: 'unary', op: tok.v, arg: primary() };
    throw new ExpressionError(`unexpected '${tok.v}'`, tok.at);
  };
  const binary = (level: number): Expr => {
    if (level >= LEVELS.length) return primary();
    let left = binary(level + 1);
    for (;;) {
      const tok = peek();
      if (!tok || tok.t !== 'op' || !LEVELS[level]!.includes(tok.v)) return left;
      pos++;
      left = { kind: 'binary', op: tok.v, left, right: binary(level + 1) };
    }
  };
  const e = binary(0);
  if (pos < toks.length) throw new ExpressionError(`unexpected '${text.slice(toks[pos]!.at - base)}'`, toks[pos]!.at);
  return e;
}

/** Every symbol name an expression mentions. */
export function symbolsOf(e: Expr, out: string[] = []): string[] {
  if (e.kind === 'sym') out.push(e.name);
  else if (e.kind === 'unary') symbolsOf(e.arg, out);
  else if (e.kind === 'binary') {
    symbolsOf(e.left, out);
    symbolsOf(e.right, out);
  }
  return out;
}

/** Rewrites symbol names, e.g. numeric `1f` references to the definition they mean. */
export function renameSymbols(e: Expr, rename: (name: string, at: number) => string): Expr {
  switch (e.kind) {
    case 'sym':
      return { ...e, name: rename(e.name, e.at) };
    case 'unary':
      return { ...e, arg: renameSymbols(e.arg, rename) };
    case 'binary':
      return { ...e, left: renameSymbols(e.left, rename), right: renameSymbols(e.right, rename) };
    default:
      return e;
  }
}

const wrap = (v: bigint) => BigInt.asIntN(64, v);
const abs = (offset: bigint): Value => ({ base: null, offset: wrap(offset) });

/**
 * Evaluates with `resolve` giving each symbol's value (throw from it for undefined symbols)
 * and `dot` the current location. Throws ExpressionError for arithmetic on relative values
 * that does not yield an address or a constant (e.g. the sum of two addresses).
 */
export function evaluate(e: Expr, resolve: (name: string) => Value, dot: Value): Value {
  switch (e.kind) {
    case 'num':
      return abs(e.value);
    case 'sym':
      return resolve(e.name);
    case 'dot':
      return dot;
    case 'unary': {
      const a = evaluate(e.arg, resolve, dot);
      if (e.op === '+') return a;
      if (a.base !== null) throw new ExpressionError(`cannot apply '${e.op}' to an address`, 0);
      if (e.op === '-') return abs(-a.offset);
      if (e.op === '~') return abs(~a.offset);
      return abs(a.offset === 0n ? 1n : 0n);
    }
    case 'binary': {
      const a = evaluate(e.left, resolve, dot);
      const b = evaluate(e.right, resolve, dot);
      if (e.op === '+') {
        if (a.base !== null && b.base !== null) throw new ExpressionError('cannot add two addresses', 0);
        return { base: a.base ?? b.base, offset: wrap(a.offset + b.offset) };
      }
      if (e.op === '-') {
        if (b.base === null) return { base: a.base, offset: wrap(a.offset - b.offset) };
        if (a.base === b.base) return abs(a.offset - b.offset);
        throw new ExpressionError(`difference of addresses in different sections (${a.base ?? 'absolute'} and ${b.base})`, 0);
      }
      if (a.base !== null || b.base !== null) throw new ExpressionError(`operator '${e.op}' needs constants, not addresses`, 0);
      return abs(binaryOp(e.op, a.offset, b.offset));
    }
  }
}

function binaryOp(op: string, x: bigint, y: bigint): bigint {
  switch (op) {
    case '*': return x * y;
    case '/': if (y === 0n) throw new ExpressionError('division by zero', 0); return x / y;
    case '%': if (y === 0n) throw new ExpressionError('division by zero', 0); return x % y;
    case '<<': return x << (y & 63n);
    case '>>': return BigInt.asUintN(64, x) >> (y & 63n);
    case '|': return x | y;
    case '&': return x & y;
    case '^': return x ^ y;
    case '!': return x | ~y;
    case '&&': return x !== 0n && y !== 0n ? 1n : 0n;
    case '||': return x !== 0n || y !== 0n ? 1n : 0n;
    // GAS comparisons yield -1 for true.
    case '==': return x === y ? -1n : 0n;
    case '!=': case '<>': return x !== y ? -1n : 0n;
    case '<': return x < y ? -1n : 0n;
    case '>': return x > y ? -1n : 0n;
    case '<=': return x <= y ? -1n : 0n;
    case '>=': return x >= y ? -1n : 0n;
  }
  throw new ExpressionError(`unknown operator '${op}'`, 0);
}
