// Checks that the bytes we emit for an instruction decode (with Capstone) to what the source
// asked for: same registers, same addressing, same values. Spelling differences (mnemonic
// suffixes, hex vs decimal, operand order in Intel source) do not matter; meaning does.
import type { DecodedInstruction } from './capstone.js';
import { evaluate } from './expression.js';
import { parseInstruction, type Operand } from './operands.js';

/** An operand with every expression reduced to a number. */
export type ConcreteOperand =
  | { kind: 'reg'; reg: string; indirect: boolean }
  | { kind: 'imm'; value: bigint }
  | { kind: 'mem'; seg: string | null; base: string | null; index: string | null; scale: number; disp: bigint; indirect: boolean }
  | { kind: 'target'; value: bigint };

const constantOnly = (op: Operand): ConcreteOperand => {
  const num = (e: Parameters<typeof evaluate>[0]) =>
    evaluate(e, (name) => {
      throw new Error(`unexpected symbol '${name}' in decoded text`);
    }, { base: null, offset: 0n }).offset;
  switch (op.kind) {
    case 'reg':
      return op;
    case 'imm':
      return { kind: 'imm', value: num(op.expr) };
    case 'target':
      return { kind: 'target', value: num(op.expr) };
    case 'mem':
      return { kind: 'mem', seg: op.seg, base: op.base, index: op.index, scale: op.scale, disp: op.disp ? num(op.disp) : 0n, indirect: op.indirect };
  }
};

/** Equal as an immediate of some width both values fit, so `$-1` matches `$0xffffffff` in a 32-bit operation. */
function sameImmediate(a: bigint, b: bigint): boolean {
  for (const bits of [64, 32, 16, 8]) {
    const fits = (v: bigint) => BigInt.asIntN(bits, v) === v || BigInt.asUintN(bits, v) === v;
    if (fits(a) && fits(b) && BigInt.asUintN(bits, a) === BigInt.asUintN(bits, b)) return true;
  }
  return false;
}

/** `%st` and `%st(0)` name the same x87 register. */
const x87 = (reg: string) => (reg === 'st(0)' ? 'st' : reg);

/** In 64-bit mode %ds (also the `notrack` prefix byte) changes no address, like no segment at all. */
const flat = (seg: string | null) => (seg === 'ds' || seg === 'es' || seg === 'ss' || seg === 'cs' ? null : seg);

function sameOperand(want: ConcreteOperand, got: ConcreteOperand): boolean {
  if (want.kind === 'imm' && got.kind === 'imm') return sameImmediate(want.value, got.value);
  if (want.kind === 'target' && got.kind === 'target') return BigInt.asUintN(64, want.value) === BigInt.asUintN(64, got.value);
  if (want.kind === 'reg' && got.kind === 'reg') return x87(want.reg) === x87(got.reg) && want.indirect === got.indirect;
  if (want.kind === 'mem' && got.kind === 'mem') {
    return (
      flat(want.seg) === flat(got.seg) && want.base === got.base && want.index === got.index && (want.index === null || want.scale === got.scale) &&
      BigInt.asIntN(32, want.disp) === BigInt.asIntN(32, got.disp) && want.indirect === got.indirect
    );
  }
  return false;
}

/** Capstone spells some forms with an operand more or less than the source; line them up. */
function alignOperands(mnemonic: string, want: ConcreteOperand[], got: ConcreteOperand[]): ConcreteOperand[] {
  // `shl $1, %rax` decodes as the one-operand shift-by-one form, and for some rotates (`rcrq
  // (%rdi)`, d1 /3) Capstone spells the one-operand form with its implicit `$1`.
  if (got.length === want.length - 1 && want[0]?.kind === 'imm' && want[0].value === 1n) return want.slice(1);
  if (got.length === want.length + 1 && want.length === 1 && /^(rc[lr]|ro[lr]|sh[lr]|sa[lr])/.test(mnemonic) && got[0]?.kind === 'imm' && got[0].value === 1n) {
    return [got[0], ...want];
  }
  // x87 `fmulp %st, %st(1)` decodes as `fmulp %st(1)`: Capstone leaves out the implicit %st(0).
  if (got.length === want.length - 1 && /^f/.test(mnemonic)) {
    const implicit = want.findIndex((op) => op.kind === 'reg' && (op.reg === 'st' || op.reg === 'st(0)'));
    if (implicit >= 0) return want.filter((_, i) => i !== implicit);
  }
  // `imul $3, %rax` decodes as `imul $3, %rax, %rax`.
  if (got.length === want.length + 1 && /^imul/.test(mnemonic) && want.length === 2) return [...want, want[1]!];
  return want;
}

/** Returns null when `decoded` means what `want` says, else a description of the difference. */
export function compareDecoded(mnemonic: string, want: ConcreteOperand[], decoded: DecodedInstruction): string | null {
  if (want.length === 0) return null; // string ops and the like: Capstone adds implicit operands
  let got: ConcreteOperand[];
  try {
    got = parseInstruction(`${decoded.mnemonic} ${decoded.operands}`, 'att').operands.map(constantOnly);
  } catch {
    return `Capstone's text '${decoded.mnemonic} ${decoded.operands}' could not be read back`;
  }
  const expected = alignOperands(decoded.mnemonic, want, got);
  if (expected.length !== got.length) return `${got.length} operands decoded, ${expected.length} written`;
  const commutative = /^xchg/.test(decoded.mnemonic) && expected.length === 2;
  const matches = (w: ConcreteOperand[]) => w.every((op, i) => sameOperand(op, got[i]!));
  if (matches(expected) || (commutative && matches([...expected].reverse()))) return null;
  const i = expected.findIndex((op, k) => !sameOperand(op, got[k]!));
  return `operand ${i + 1} decodes differently`;
}
