// One decoded instruction as the checker sees it: Capstone's AT&T text parsed into structured
// operands (capstone-js's own `detail` is unusable), with the few facts every analysis asks:
// where control goes, which memory operand is written, which registers are read or written.
// Source syntax does not matter here: Intel and AT&T sources decode to the same text.
import type { DecodedInstruction } from '../asm/capstone.js';
import { evaluate, type Expr } from '../asm/expression.js';
import type { Image } from '../asm/image.js';
import { OperandError, parseInstruction, type Operand } from '../asm/operands.js';
import { instructionText } from '../report/annotate.js';
import type { Address } from '../types.js';

export type MemOperand = Extract<Operand, { kind: 'mem' }>;

export interface Instruction {
  address: Address;
  size: number;
  /** address + size: where a fall-through goes. */
  next: Address;
  mnemonic: string;
  prefixes: string[];
  /** In AT&T order (destination last); null when the text did not parse, so nothing is assumed about it. */
  operands: Operand[] | null;
  /** Capstone's text with symbols for branch targets and RIP-relative operands, for messages. */
  text: string;
}

export function toInstruction(image: Image, d: DecodedInstruction): Instruction {
  let parsed: ReturnType<typeof parseInstruction> | null = null;
  try {
    parsed = parseInstruction(`${d.mnemonic} ${d.operands}`, 'att');
  } catch (e) {
    if (!(e instanceof OperandError)) throw e;
  }
  return {
    address: d.address,
    size: d.size,
    next: d.address + BigInt(d.size),
    mnemonic: parsed?.mnemonic ?? d.mnemonic,
    prefixes: parsed?.prefixes ?? [],
    operands: parsed?.operands ?? null,
    text: instructionText(image, d),
  };
}

/** The value of an expression Capstone printed (numbers only), or null. */
export function constant(e: Expr | null): bigint | null {
  if (e === null) return 0n;
  try {
    const v = evaluate(e, () => { throw new Error('symbol'); }, { base: null, offset: 0n });
    return v.base === null ? BigInt.asIntN(64, v.offset) : null;
  } catch {
    return null;
  }
}

/** The address a `disp(%rip)` operand refers to, or null for other operands. */
export function ripTarget(ins: Instruction, op: MemOperand): Address | null {
  if (op.base !== 'rip' || op.index !== null) return null;
  const disp = constant(op.disp);
  return disp === null ? null : BigInt.asUintN(64, ins.next + disp);
}

export type Control =
  | { kind: 'plain' }
  | { kind: 'jump'; target: Address }
  | { kind: 'branch'; target: Address }
  | { kind: 'indirect-jump' }
  | { kind: 'call'; target: Address | null }
  | { kind: 'return' }
  /** Never continues: raises a signal by design. */
  | { kind: 'stop' };

const CONDITIONAL = /^(j(?!mp)[a-z]+|loopn?[ez]?|xbegin)$/;

export function control(ins: Instruction): Control {
  const m = ins.mnemonic;
  const target = ins.operands?.[0]?.kind === 'target' ? constant(ins.operands[0].expr) : null;
  if (/^jmpq?$/.test(m)) return target === null ? { kind: 'indirect-jump' } : { kind: 'jump', target: BigInt.asUintN(64, target) };
  if (CONDITIONAL.test(m) && target !== null) return { kind: 'branch', target: BigInt.asUintN(64, target) };
  if (/^l?callq?$/.test(m)) return { kind: 'call', target: target === null ? null : BigInt.asUintN(64, target) };
  if (/^(l?retq?|retf[wlq]?|iret[wdq]?|sysret[lq]?|sysexit[lq]?)$/.test(m)) return { kind: 'return' };
  if (/^(ud[12]|hlt)$/.test(m)) return { kind: 'stop' };
  return { kind: 'plain' };
}

/** `syscall`, `sysenter` and `int $0x80`: entering the kernel on purpose. */
export function isSystemCall(ins: Instruction): boolean {
  if (ins.mnemonic === 'syscall' || ins.mnemonic === 'sysenter') return true;
  const op = ins.operands?.[0];
  return ins.mnemonic === 'int' && op?.kind === 'imm' && constant(op.expr) === 0x80n;
}

/**
 * Why an instruction traps in user mode, or null (Capstone may add a size suffix). The list, as the README gives it:
 * by design — ud1/ud2, int3, int1, `int $n` other than 0x80; privileged (#GP at CPL 3) —
 * hlt, cli, sti, in/out and their string forms, lgdt/lidt/lldt/ltr/lmsw, clts, invd, wbinvd,
 * invlpg, invpcid, rdmsr/wrmsr, swapgs, sysret/sysexit, mov to or from a control or debug register,
 * monitor/mwait, xsetbv, rdpmc; likely — div/idiv (#DE on a zero divisor or an overflowing quotient).
 * System calls are reported on their own (`isSystemCall`).
 */
export function trapReason(ins: Instruction): string | null {
  const m = ins.mnemonic;
  if (/^ud[12]$/.test(m)) return 'raises SIGILL by design';
  if (m === 'int3' || m === 'int1') return 'raises a debug trap by design';
  if (m === 'int' && !isSystemCall(ins)) return 'raises an interrupt that user mode may not take (SIGSEGV)';
  if (/^(hlt|cli|sti|in|out|ins|outs|lgdt|lidt|lldt|ltr|lmsw|clts|invd|wbinvd|invlpg|invpcid|rdmsr|wrmsr|swapgs|sysret|sysexit|monitor|mwait|xsetbv|rdpmc)[bwlqx]?$/.test(m)) {
    return 'is privileged: #GP in user mode (SIGSEGV)';
  }
  if (/^mov/.test(m) && ins.operands?.some((o) => o.kind === 'reg' && /^(cr|dr)[0-9]+$/.test(o.reg))) return 'moves a control or debug register: #GP in user mode (SIGSEGV)';
  if (/^i?div[bwlq]?$/.test(m)) return 'divides: #DE (SIGFPE) on a zero divisor or an overflowing quotient';
  return null;
}

// Two-or-more-operand instructions whose last (destination) memory operand is only read.
const READS_LAST = /^(cmp(?!xchg)|test|bt[wlq]?$|v?u?comis|v?ptest|lea|nop|prefetch|bound)/;
// One-operand instructions that write their memory operand (others only read it: push, mul, div, jmp …).
const WRITES_ONLY_OPERAND = /^(inc|dec|neg|not|set|pop|fi?stp?|fbstp|fnst|fxsave|xsave|v?stmxcsr)/;

/** The memory operand an instruction writes, or null when it writes none that it names. */
export function storeTarget(ins: Instruction): MemOperand | null {
  const ops = ins.operands;
  if (!ops || ops.length === 0) return null;
  const last = ops[ops.length - 1]!;
  if (last.kind !== 'mem' || last.indirect) return null;
  if (ops.length === 1) return WRITES_ONLY_OPERAND.test(ins.mnemonic) ? last : null;
  return READS_LAST.test(ins.mnemonic) ? null : last;
}

/** The register a store writes from (its first operand), or null for immediates and memory sources. */
export function storeSource(ins: Instruction): string | null {
  const src = ins.operands?.[0];
  return storeTarget(ins) !== null && ins.operands!.length > 1 && src?.kind === 'reg' ? canonicalRegister(src.reg) : null;
}

const GPR: Record<string, string> = {};
for (const [full, ...parts] of [
  ['rax', 'eax', 'ax', 'al', 'ah'], ['rbx', 'ebx', 'bx', 'bl', 'bh'], ['rcx', 'ecx', 'cx', 'cl', 'ch'], ['rdx', 'edx', 'dx', 'dl', 'dh'],
  ['rsi', 'esi', 'si', 'sil'], ['rdi', 'edi', 'di', 'dil'], ['rbp', 'ebp', 'bp', 'bpl'], ['rsp', 'esp', 'sp', 'spl'],
]) for (const r of [full!, ...parts]) GPR[r] = full!;
for (let n = 8; n <= 15; n++) for (const s of ['', 'd', 'w', 'b']) GPR[`r${n}${s}`] = `r${n}`;

/** `r8d` → `r8`, `al` → `rax`: a write to any part of a register is tracked as a write to all of it. */
export const canonicalRegister = (reg: string): string => GPR[reg] ?? reg;

/** Registers the SysV ABI lets a callee change. */
export const CALLER_SAVED = ['rax', 'rcx', 'rdx', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11'];

/** Mnemonics whose last register operand is written without being read. */
const WRITES_WITHOUT_READING = /^(v?mov|lea|pop|set|rdrand|rdseed|rdpid)/;

/** Every register an instruction reads: address registers of memory operands, and register operands it does not only write. */
export function registersRead(ins: Instruction): string[] {
  const ops = ins.operands ?? [];
  const out: string[] = [];
  ops.forEach((op, i) => {
    if (op.kind === 'mem') {
      for (const r of [op.base, op.index]) if (r !== null && r !== 'rip') out.push(canonicalRegister(r));
    } else if (op.kind === 'reg') {
      if (!(i === ops.length - 1 && WRITES_WITHOUT_READING.test(ins.mnemonic))) out.push(canonicalRegister(op.reg));
    }
  });
  return out;
}

/** Instructions that write registers they do not name. */
export const IMPLICIT_WRITES: readonly [RegExp, readonly string[]][] = [
  [/^(mul|div|idiv)[bwlq]?$/, ['rax', 'rdx']],
  [/^(cqto|cltd|cwtd|cqo|cdq|cwd)$/, ['rdx']],
  [/^(cltq|cwtl|cbtw|cdqe|cwde|cbw|xlatb?|lahf)$/, ['rax']],
  [/^cpuid$/, ['rax', 'rbx', 'rcx', 'rdx']],
  [/^(rdtsc|rdpkru|xgetbv)$/, ['rax', 'rdx']],
  [/^rdtscp$/, ['rax', 'rdx', 'rcx']],
  [/^syscall$/, ['rax', 'rcx', 'r11']],
  [/^cmpxchg[bwlq]?$/, ['rax']],
  [/^cmpxchg(8|16)b$/, ['rax', 'rdx']],
  [/^lods[bwlq]$/, ['rax', 'rsi']],
  [/^(stos|scas)[bwlq]$/, ['rdi']],
  [/^(movs|cmps)[bwlq]$/, ['rsi', 'rdi']],
];

/** Instructions whose last register operand is only read. */
export const READS_ONLY = /^(cmp(?!xchg)|test|bt[wlq]?$|v?u?comis|v?ptest|push|nop|j|l?call|loop|out|bound|prefetch|clflush)/;

const ALL_GPRS = [...new Set(Object.values(GPR))];

/** Every general register an instruction may write (all of them when its text did not parse); calls are left to the caller. */
export function registersWritten(ins: Instruction): string[] {
  const ops = ins.operands;
  if (ops === null) return ALL_GPRS;
  const out = new Set<string>();
  for (const [re, regs] of IMPLICIT_WRITES) if (re.test(ins.mnemonic)) for (const r of regs) out.add(r);
  if (ins.prefixes.some((p) => p.startsWith('rep'))) out.add('rcx');
  if (/^(push|pop|l?call|l?ret|enter|leave)/.test(ins.mnemonic)) out.add('rsp');
  if (/^leave/.test(ins.mnemonic)) out.add('rbp');
  const dst = ops[ops.length - 1];
  if (/^(xchg|xadd)/.test(ins.mnemonic) && ops[0]?.kind === 'reg') out.add(canonicalRegister(ops[0].reg));
  if (dst?.kind === 'reg' && !READS_ONLY.test(ins.mnemonic)) out.add(canonicalRegister(dst.reg));
  return [...out].filter((r) => r in GPR);
}

/** Whether an instruction that writes memory also reads it first (add, inc, xadd, cmpxchg…): a read-modify-write. */
export function readsStoreTarget(ins: Instruction): boolean {
  return storeTarget(ins) !== null && !/^(v?mov|set|pop|stos|fi?stp?|fbstp|fnst|fxsave|xsave|v?stmxcsr)/.test(ins.mnemonic);
}
