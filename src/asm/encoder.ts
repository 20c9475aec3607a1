// Turns one parsed instruction into an encoding whose size layout can reason about.
// - Direct branches are encoded here (short or near, relaxed like GNU as).
// - Everything else goes through Keystone once, with placeholder numbers for every operand that
//   refers to a label; the bytes that change with the placeholder are the field we patch after
//   layout. So label values never reach Keystone, and each field has the 32-bit form GNU as uses
//   for relocated values.
// - Keystone encodes absolute memory (`%fs:8`, `[8]`) as RIP-relative or as a moffs64 `movabs`;
//   both are rewritten to the ModRM+SIB absolute form GNU as emits (except for an explicit `movabs`).
import { repairEvex } from './evex.js';
import { repairNop } from './nop-form.js';
import type { Expr } from './expression.js';
import type { InstructionEncoder } from './keystone.js';
import { renderInstruction, type Operand, type ParsedInstruction, type Syntax } from './operands.js';

/** A patchable part of an instruction: `abs` holds the value itself, `pcrel` the value minus the next instruction's address. */
export interface Field {
  offset: number;
  size: 4 | 8;
  kind: 'abs' | 'pcrel';
  expr: Expr;
}

export type Encoding =
  | { kind: 'fixed'; bytes: Uint8Array; fields: Field[] }
  | { kind: 'branch'; short: number[] | null; near: number[] | null; target: Expr };

export class EncodeError extends Error {}

const CONDITION: Record<string, number> = {
  o: 0, no: 1, b: 2, c: 2, nae: 2, ae: 3, nb: 3, nc: 3, e: 4, z: 4, ne: 5, nz: 5, be: 6, na: 6, a: 7, nbe: 7,
  s: 8, ns: 9, p: 10, pe: 10, np: 11, po: 11, l: 12, nge: 12, ge: 13, nl: 13, le: 14, ng: 14, g: 15, nle: 15,
};

/** Opcode bytes for a direct branch, or null when the mnemonic is not one we encode. */
export function branchOpcodes(mnemonic: string): { short: number[] | null; near: number[] | null } | null {
  if (mnemonic === 'jmp' || mnemonic === 'jmpq') return { short: [0xeb], near: [0xe9] };
  if (mnemonic === 'call' || mnemonic === 'callq') return { short: null, near: [0xe8] };
  const loops: Record<string, number[]> = { loop: [0xe2], loope: [0xe1], loopz: [0xe1], loopne: [0xe0], loopnz: [0xe0], jrcxz: [0xe3], jecxz: [0x67, 0xe3] };
  if (loops[mnemonic]) return { short: loops[mnemonic]!, near: null };
  const cc = /^j(.+)$/.exec(mnemonic)?.[1];
  if (cc !== undefined && CONDITION[cc] !== undefined) return { short: [0x70 | CONDITION[cc]!], near: [0x0f, 0x80 | CONDITION[cc]!] };
  return null;
}

/** Operand-less instructions Keystone cannot encode (measured), with their bytes. */
const KEYSTONE_LACKS: Record<string, number[]> = {
  endbr64: [0xf3, 0x0f, 0x1e, 0xfa], // gcc -fcf-protection puts one at every function entry
  endbr32: [0xf3, 0x0f, 0x1e, 0xfb],
};

// Two placeholders that differ in every byte, fit a signed 32-bit field and are never real values here.
const P1 = 0x11223344n;
const P2 = 0x55667788n;
const P1_64 = 0x1122334455667788n;
const P2_64 = 0x5566778899aabbccn;

/** Which operands need a field, and of what kind; `constants[i]` is the operand's value when known now. */
function fieldKinds(ins: ParsedInstruction, constants: (bigint | null)[]): ('abs' | 'pcrel' | null)[] {
  return ins.operands.map((op, i) => {
    if (op.kind === 'imm') return constants[i] === null ? 'abs' : null;
    if (op.kind !== 'mem' || op.disp === null) return null;
    if (op.base === 'rip') return constants[i] === null ? 'pcrel' : null;
    if (op.base === null && op.index === null) return 'abs'; // always: see the absolute-form repair
    return constants[i] === null ? 'abs' : null;
  });
}

const exprOf = (op: Operand): Expr => (op.kind === 'imm' || op.kind === 'target' ? op.expr : op.kind === 'mem' ? op.disp! : { kind: 'num', value: 0n });

/**
 * Encodes an instruction. `constants[i]` is operand i's value when it is a constant already known
 * (then it is encoded directly, in its smallest form), or null when it refers to a label.
 */
export async function encodeInstruction(ks: InstructionEncoder, ins: ParsedInstruction, syntax: Syntax, constants: (bigint | null)[]): Promise<Encoding> {
  const target = ins.operands.length === 1 && ins.operands[0]!.kind === 'target' ? ins.operands[0] : null;
  const branch = branchOpcodes(ins.mnemonic);
  if (target && target.kind === 'target') {
    if (!branch) throw new EncodeError(`'${ins.mnemonic}' with a direct target is not supported`);
    if (ins.prefixes.length) throw new EncodeError(`prefix '${ins.prefixes.join(' ')}' on a direct branch is not supported`);
    return { kind: 'branch', ...branch, target: target.expr };
  }
  if (ins.prefixes.includes('notrack')) return withNotrack(ks, ins, syntax, constants);
  const signature = encodeUd1(ins, constants);
  if (signature) return signature;
  const fixed = KEYSTONE_LACKS[ins.mnemonic];
  if (fixed && ins.operands.length === 0 && ins.prefixes.length === 0) return { kind: 'fixed', bytes: Uint8Array.from(fixed), fields: [] };

  const kinds = fieldKinds(ins, constants);
  const wide = ins.mnemonic.startsWith('movabs');
  const placeholder = (which: 1 | 2) => (wide ? (which === 1 ? P1_64 : P2_64) : which === 1 ? P1 : P2);
  const valuesWith = (varied: number) => ins.operands.map((_, i) => (kinds[i] === null ? constants[i] ?? null : placeholder(i === varied ? 2 : 1)));
  const base = await assembleOnce(ks, renderInstruction(ins, syntax, valuesWith(-1)), syntax);
  const found: { field: Field; absolute: boolean }[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    if (!kind) continue;
    const run = differingRun(base, await assembleOnce(ks, renderInstruction(ins, syntax, valuesWith(i)), syntax));
    const op = ins.operands[i]!;
    // `movabs` asks for the 64-bit form (imm64, or the moffs64 address GNU as keeps): no repair.
    const absolute = op.kind === 'mem' && op.base === null && op.index === null && !wide;
    found.push({ field: { offset: run.start, size: wide ? 8 : 4, kind, expr: exprOf(op) }, absolute });
  }
  // Repair from the last field backwards so the offsets of earlier fields stay valid.
  let bytes = base;
  found.sort((a, b) => b.field.offset - a.field.offset);
  for (const f of found) {
    if (!f.absolute) continue;
    const origin = f.field.offset;
    const repaired = toSibAbsolute(bytes, f.field);
    bytes = repaired.bytes;
    f.field = repaired.field;
    for (const g of found) if (g !== f && g.field.offset > origin) g.field.offset += repaired.shift;
  }
  const fields = found.map((f) => f.field).sort((a, b) => a.offset - b.offset);
  return { kind: 'fixed', bytes, fields };
}

/**
 * `notrack` (CET: an indirect branch that needs no endbr64 at its target; gcc -fcf-protection uses
 * it for switch tables) is the 0x3e prefix, which Keystone does not know: encode without it, prepend.
 */
const isIndirect = (op: Operand): boolean => (op.kind === 'reg' || op.kind === 'mem') && op.indirect;

async function withNotrack(ks: InstructionEncoder, ins: ParsedInstruction, syntax: Syntax, constants: (bigint | null)[]): Promise<Encoding> {
  if (!/^(jmp|call)[lqw]?$/.test(ins.mnemonic) || ins.operands.length !== 1 || !isIndirect(ins.operands[0]!)) {
    throw new EncodeError(`'notrack' applies only to an indirect jmp or call, not '${ins.mnemonic}'`);
  }
  const inner = await encodeInstruction(ks, { ...ins, prefixes: ins.prefixes.filter((p) => p !== 'notrack') }, syntax, constants);
  if (inner.kind !== 'fixed') throw new EncodeError("'notrack' on a direct branch is not supported");
  return { kind: 'fixed', bytes: Uint8Array.of(0x3e, ...inner.bytes), fields: inner.fields.map((f) => ({ ...f, offset: f.offset + 1 })) };
}

async function assembleOnce(ks: InstructionEncoder, text: string, syntax: Syntax): Promise<Uint8Array> {
  const r = await ks.encode(text, 0x400000n, syntax);
  if (!r.ok) throw new EncodeError(r.message);
  return repairNop(repairEvex(r.bytes));
}

/** The bytes that differ between two encodings: they must form one run, else the field is ambiguous. */
function differingRun(a: Uint8Array, b: Uint8Array): { start: number; end: number } {
  if (a.length !== b.length) throw new EncodeError('the encoding size depends on a label value; write the operand with an explicit size');
  let start = -1;
  let end = -1;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      if (start < 0) start = i;
      end = i + 1;
    }
  }
  if (start < 0 || end - start > 8) throw new EncodeError('cannot locate the field that holds a label value');
  return { start, end };
}

/** Rewrites RIP-relative (mod 00 rm 101) or moffs64 (A0–A3) absolute memory to ModRM rm=100 + SIB 0x25 + disp32. */
function toSibAbsolute(bytes: Uint8Array, field: Field): { bytes: Uint8Array; field: Field; shift: number } {
  const at = field.offset;
  const before = bytes[at - 1]!;
  if (at >= 2 && before === 0x25 && (bytes[at - 2]! & 0xc7) === 0x04) return { bytes, field, shift: 0 }; // already SIB absolute
  if ((before & 0xc7) === 0x05) {
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes.subarray(0, at - 1));
    out[at - 1] = (before & 0xf8) | 0x04;
    out[at] = 0x25;
    out.set(bytes.subarray(at), at + 1);
    return { bytes: out, field: { ...field, offset: at + 1 }, shift: 1 };
  }
  const moffs: Record<number, number> = { 0xa0: 0x8a, 0xa1: 0x8b, 0xa2: 0x88, 0xa3: 0x89 };
  if (moffs[before] !== undefined && bytes.length === at + 8) {
    const out = new Uint8Array(at - 1 + 3 + 4);
    out.set(bytes.subarray(0, at - 1));
    out[at - 1] = moffs[before]!;
    out[at] = 0x04;
    out[at + 1] = 0x25;
    return { bytes: out, field: { ...field, offset: at + 2, size: 4 }, shift: 2 };
  }
  throw new EncodeError('absolute memory operand has an encoding this assembler does not recognise');
}

/** `ud1 disp32(%rip), %r32` (Keystone cannot encode ud1 with operands): 0F B9 /r. */
function encodeUd1(ins: ParsedInstruction, constants: (bigint | null)[]): Encoding | null {
  if (ins.mnemonic !== 'ud1' && ins.mnemonic !== 'ud1l') return null;
  const [mem, reg] = ins.operands;
  const regs = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
  if (ins.operands.length !== 2 || mem?.kind !== 'mem' || mem.base !== 'rip' || mem.index !== null || mem.seg !== null || reg?.kind !== 'reg' || !regs.includes(reg.reg) || constants[0] === null || constants[0] === undefined) {
    throw new EncodeError("only 'ud1 CONSTANT(%rip), %r32' is supported for ud1 (the rseq signature form)");
  }
  const disp = BigInt.asUintN(32, constants[0]);
  if (BigInt.asIntN(32, disp) !== constants[0] && disp !== constants[0]) throw new EncodeError('ud1 displacement does not fit 32 bits');
  const bytes = new Uint8Array(7);
  bytes.set([0x0f, 0xb9, 0x05 | (regs.indexOf(reg.reg) << 3)]);
  new DataView(bytes.buffer).setUint32(3, Number(disp), true);
  return { kind: 'fixed', bytes, fields: [] };
}
