// x86 instruction operands as structured values, parsed from AT&T or Intel text and rendered back.
// The same structure describes what the source asked for and what Capstone decoded, so the
// round-trip check compares meaning, not spelling. Operands are kept in AT&T order.
import { parseExpression, ExpressionError, symbolsOf, type Expr } from './expression.js';
import { splitArgsAt } from './statements.js';

export type Syntax = 'att' | 'intel';

export type Operand =
  | { kind: 'reg'; reg: string; indirect: boolean }
  | { kind: 'imm'; expr: Expr }
  | { kind: 'mem'; seg: string | null; base: string | null; index: string | null; scale: number; disp: Expr | null; indirect: boolean; size: string | null }
  | { kind: 'target'; expr: Expr };

export interface ParsedInstruction {
  prefixes: string[];
  mnemonic: string;
  operands: Operand[];
}

export class OperandError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const PREFIXES = new Set(['lock', 'rep', 'repe', 'repz', 'repne', 'repnz', 'notrack', 'data16', 'addr32', 'rex64']);
const SEGMENTS = new Set(['cs', 'ds', 'es', 'fs', 'gs', 'ss']);
const REGISTER =
  /^(r[a-d]x|r[sd]i|r[sb]p|r(?:[89]|1[0-5])[dwb]?|e[a-d]x|e[sd]i|e[sb]p|[a-d]x|[sd]i|[sb]p|[a-d][lh]|[sd]il|[sb]pl|rip|eip|[c-gs]s|[xyz]mm[0-9]+|k[0-7]|st(?:\([0-7]\))?|mm[0-7]|cr[0-9]+|dr[0-7]|riz|eiz)$/;
const SIZE_PTR = /^(byte|word|dword|qword|tbyte|fword|oword|xmmword|ymmword|zmmword)\s+ptr\s+/i;

/** Direct branches whose target operand is an address, not a memory reference. */
export const BRANCH_MNEMONIC = /^(jmp|jmpq|call|callq|j(?:n?[abcegloprsz]|n?[abgl]e|p[eo]|[er]?cxz)|loop(?:n?[ez])?|xbegin)$/;

export const isRegisterName = (name: string): boolean => REGISTER.test(name.toLowerCase());

function expr(text: string, base: number): Expr {
  try {
    return parseExpression(text, base);
  } catch (e) {
    if (e instanceof ExpressionError) throw new OperandError(e.message, e.offset);
    throw e;
  }
}

/** Splits `lock addq $1, (%rdi)` into prefixes, mnemonic and operand text (with its offset). */
export function splitInstruction(text: string): { prefixes: string[]; mnemonic: string; operandText: string; operandOffset: number } {
  const prefixes: string[] = [];
  let rest = text;
  let offset = 0;
  for (;;) {
    const m = /^([A-Za-z][A-Za-z0-9.]*)(\s*)/.exec(rest);
    if (!m) throw new OperandError(`instruction expected, found '${rest}'`, offset);
    const word = m[1]!.toLowerCase();
    offset += m[0].length;
    rest = rest.slice(m[0].length);
    if (PREFIXES.has(word) && rest !== '') {
      prefixes.push(word);
      continue;
    }
    return { prefixes, mnemonic: word, operandText: rest, operandOffset: offset };
  }
}

export function parseInstruction(text: string, syntax: Syntax): ParsedInstruction {
  const { prefixes, mnemonic, operandText, operandOffset } = splitInstruction(text);
  const isBranch = BRANCH_MNEMONIC.test(mnemonic);
  const parts = operandText.trim() === '' ? [] : splitArgsAt(operandText);
  const operands = parts.map(({ text: p, at }) => {
    const start = operandOffset + at;
    if (p === '') throw new OperandError('empty operand', start);
    if (syntax === 'att') return parseAttOperand(p, isBranch, start);
    // Intel writes no `*`: a branch through a register or memory is indirect by its operand kind.
    const op = parseIntelOperand(p, isBranch, start);
    return isBranch && (op.kind === 'reg' || op.kind === 'mem') ? { ...op, indirect: true } : op;
  });
  if (syntax === 'intel') operands.reverse();
  return { prefixes, mnemonic, operands };
}

function parseAttOperand(text: string, isBranch: boolean, base: number): Operand {
  let t = text.trim();
  let indirect = false;
  if (t.startsWith('*')) {
    indirect = true;
    t = t.slice(1).trim();
    base++;
  }
  if (t.startsWith('$')) return { kind: 'imm', expr: expr(t.slice(1), base + 1) };
  const seg = /^%([a-z]s)\s*:\s*/i.exec(t);
  if (t.startsWith('%') && !seg) {
    const reg = t.slice(1).toLowerCase().replace(/\s+/g, '');
    if (!isRegisterName(reg)) throw new OperandError(`unknown register '%${reg}'`, base);
    return { kind: 'reg', reg, indirect };
  }
  let rest = t;
  let segment: string | null = null;
  if (seg) {
    segment = seg[1]!.toLowerCase();
    rest = t.slice(seg[0].length);
    base += seg[0].length;
  }
  // The base/index group is the final parenthesised part when it names a register or starts with a comma.
  let baseReg: string | null = null;
  let indexReg: string | null = null;
  let scale = 1;
  let dispText = rest;
  const group = /\(\s*(%[a-z0-9]+)?\s*(?:,\s*(%[a-z0-9]+)?\s*(?:,\s*([0-9]+))?)?\s*\)\s*$/i.exec(rest);
  if (group && (group[1] !== undefined || group[0].replace(/\s/g, '').startsWith('(,'))) {
    dispText = rest.slice(0, group.index);
    baseReg = group[1]?.slice(1).toLowerCase() ?? null;
    indexReg = group[2]?.slice(1).toLowerCase() ?? null;
    scale = group[3] === undefined ? 1 : Number(group[3]);
    for (const r of [baseReg, indexReg]) {
      if (r !== null && !isRegisterName(r)) throw new OperandError(`unknown register '%${r}'`, base + group.index + group[0].toLowerCase().indexOf(`%${r}`));
    }
    if (![1, 2, 4, 8].includes(scale)) throw new OperandError(`scale must be 1, 2, 4 or 8, not ${scale}`, base + group.index);
  }
  const disp = dispText.trim() === '' ? null : expr(dispText, base);
  if (isBranch && !indirect && segment === null && baseReg === null && indexReg === null && disp !== null) return { kind: 'target', expr: disp };
  return { kind: 'mem', seg: segment, base: baseReg, index: indexReg, scale, disp, indirect, size: null };
}

function parseIntelOperand(text: string, isBranch: boolean, base: number): Operand {
  let t = text.trim();
  let size: string | null = null;
  const sp = SIZE_PTR.exec(t);
  if (sp) {
    size = sp[1]!.toLowerCase();
    t = t.slice(sp[0].length);
    base += sp[0].length;
  }
  const offsetKw = /^offset\s+/i.exec(t);
  if (offsetKw) return { kind: 'imm', expr: expr(t.slice(offsetKw[0].length), base + offsetKw[0].length) };
  let segment: string | null = null;
  const seg = /^([a-z]s)\s*:\s*/i.exec(t);
  if (seg && SEGMENTS.has(seg[1]!.toLowerCase())) {
    segment = seg[1]!.toLowerCase();
    t = t.slice(seg[0].length);
    base += seg[0].length;
  }
  if (!t.startsWith('[')) {
    if (segment !== null) {
      // `fs:8` means the same as `fs:[8]`; a register after the colon needs the brackets.
      if (isRegisterName(t)) throw new OperandError(`write ${segment}:[${t}] for memory addressed by a register`, base);
      return memOf(segment, null, null, 1, expr(t, base), size);
    }
    if (isRegisterName(t)) return { kind: 'reg', reg: t.toLowerCase(), indirect: false };
    const e = expr(t, base);
    if (isBranch) return { kind: 'target', expr: e };
    if (size !== null) return memOf(null, null, null, 1, e, size);
    // A number (or character constant) is an immediate; a symbol alone could mean either.
    if (symbolsOf(e).length > 0) {
      throw new OperandError(`ambiguous operand '${t}' in Intel syntax: write [${t}] for memory or offset ${t} for its address`, base);
    }
    return { kind: 'imm', expr: e };
  }
  if (!t.endsWith(']')) throw new OperandError("']' expected", base + t.length);
  let inner = t.slice(1, -1);
  let innerBase = base + 1;
  const innerSeg = /^\s*([a-z]s)\s*:\s*/i.exec(inner);
  if (innerSeg && SEGMENTS.has(innerSeg[1]!.toLowerCase())) {
    segment = innerSeg[1]!.toLowerCase();
    inner = inner.slice(innerSeg[0].length);
    innerBase += innerSeg[0].length;
  }
  let baseReg: string | null = null;
  let indexReg: string | null = null;
  let scale = 1;
  // The displacement is what is left once register terms (with their signs) are blanked out, so
  // every offset in it still points at the source text.
  let dispText = inner;
  let hasDisp = false;
  const blank = (m: RegExpMatchArray) => {
    dispText = dispText.slice(0, m.index) + ' '.repeat(m[0].length) + dispText.slice(m.index! + m[0].length);
  };
  for (const m of inner.matchAll(/([+-]?)\s*([^+-]+)/g)) {
    const sign = m[1] || '+';
    const term = m[2]!.trim();
    const scaled = /^([a-z0-9]+)\s*\*\s*([0-9]+)$|^([0-9]+)\s*\*\s*([a-z0-9]+)$/i.exec(term);
    if (scaled) {
      const reg = (scaled[1] ?? scaled[4])!.toLowerCase();
      if (!isRegisterName(reg)) throw new OperandError(`unknown register '${reg}'`, base);
      indexReg = reg;
      scale = Number(scaled[2] ?? scaled[3]);
      blank(m);
      continue;
    }
    if (isRegisterName(term) && sign === '+') {
      if (baseReg === null) baseReg = term.toLowerCase();
      else if (indexReg === null) indexReg = term.toLowerCase();
      else throw new OperandError('too many registers in memory operand', base);
      blank(m);
      continue;
    }
    hasDisp = true;
  }
  if (![1, 2, 4, 8].includes(scale)) throw new OperandError(`scale must be 1, 2, 4 or 8, not ${scale}`, base);
  const disp = hasDisp ? expr(dispText, innerBase) : null;
  return memOf(segment, baseReg, indexReg, scale, disp, size);
}

const memOf = (seg: string | null, base: string | null, index: string | null, scale: number, disp: Expr | null, size: string | null): Operand => ({
  kind: 'mem', seg, base, index, scale, disp, indirect: false, size,
});

/** Renders a numeric value the way both syntaxes accept it. */
const num = (v: bigint): string => (v < 0n ? '-0x' + (-v).toString(16) : '0x' + v.toString(16));

/** Renders operands (in AT&T order) back to text in the given syntax, with each expression replaced by a number. */
export function renderInstruction(ins: ParsedInstruction, syntax: Syntax, values: (bigint | null)[]): string {
  const ops = ins.operands.map((op, i) => renderOperand(op, syntax, values[i] ?? null));
  if (syntax === 'intel') ops.reverse();
  return [...ins.prefixes, ins.mnemonic].join(' ') + (ops.length ? ' ' + ops.join(', ') : '');
}

function renderOperand(op: Operand, syntax: Syntax, value: bigint | null): string {
  switch (op.kind) {
    case 'reg':
      return syntax === 'att' ? `${op.indirect ? '*' : ''}%${op.reg}` : op.reg;
    case 'imm':
      return syntax === 'att' ? `$${num(value ?? 0n)}` : num(value ?? 0n);
    case 'target':
      return num(value ?? 0n);
    case 'mem': {
      const d = op.disp === null ? null : (value ?? 0n);
      if (syntax === 'att') {
        const regs = op.base !== null || op.index !== null ? `(${op.base ? '%' + op.base : ''}${op.index ? `,%${op.index},${op.scale}` : ''})` : '';
        return `${op.indirect ? '*' : ''}${op.seg ? `%${op.seg}:` : ''}${d === null ? '' : num(d)}${regs}`;
      }
      const terms = [op.base, op.index ? `${op.index}*${op.scale}` : null].filter((x): x is string => x !== null);
      let inner = terms.join(' + ');
      if (d !== null) inner = inner === '' ? num(d) : `${inner} ${d < 0n ? '-' : '+'} ${num(d < 0n ? -d : d)}`;
      return `${op.size ? op.size + ' ptr ' : ''}${op.seg ? op.seg + ':' : ''}[${inner}]`;
    }
  }
}
