// Layout: decides every fragment's size (branch relaxation as GNU as does it: short first, grown to
// near when out of range, never shrunk), places sections on pages, then emits bytes with every
// label value patched in and checks each instruction against its Capstone decoding.
import { asmError, RseqEmuError } from '../errors.js';
import { hexBytes, type Address, type SourceLocation } from '../types.js';
import type { ProgramBuilder } from './assembler.js';
import { disassembleSync } from './capstone.js';
import { evaluate, ExpressionError, type Expr, type Value } from './expression.js';
import { DTPOFF_PREFIX, SECTION_PAGE, TLS_BLOCK_TPOFF, TPOFF_PREFIX, setName, type Fragment, type Position, type SectionState } from './fragments.js';
import { UNRESOLVED_STRIDE, type Image, type ImageSection, type ImageSymbol, type LineRecord, type TlsTemplate, type UnresolvedSymbol } from './image.js';
import { compareDecoded, type ConcreteOperand } from './verify.js';
import { LIMITS } from '../limits.js';

// GNU as pads code with these NOPs: as many 11-byte ones as fit, then one for the remainder; past
// seven 11-byte NOPs' worth (88 bytes or more) it jumps over them instead, with a short jmp when
// the rest fits 127 bytes and a near one otherwise.
const NOPS: number[][] = [
  [], [0x90], [0x66, 0x90], [0x0f, 0x1f, 0x00], [0x0f, 0x1f, 0x40, 0x00], [0x0f, 0x1f, 0x44, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00], [0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00], [0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00], [0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
  [0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
];

export function codePadding(n: number): number[] {
  if (Math.floor(n / 11) <= 7) return nops(n);
  if (n - 2 <= 127) return [0xeb, n - 2, ...nops(n - 2)];
  const rest = n - 5;
  return [0xe9, rest & 0xff, (rest >> 8) & 0xff, (rest >> 16) & 0xff, rest >>> 24, ...nops(rest)];
}

function nops(n: number): number[] {
  const out: number[] = [];
  for (; n > 11; n -= 11) out.push(...NOPS[11]!);
  out.push(...NOPS[n]!);
  return out;
}

const MAX_PASSES = 100;

class Layout {
  /** Start offset of every fragment, per section, plus the section's end. */
  readonly offsets = new Map<SectionState, number[]>();
  readonly bases = new Map<SectionState, Address>();

  constructor(
    readonly program: ProgramBuilder,
    readonly externals: ReadonlyMap<string, Address>,
    readonly threadLocals: ReadonlyMap<string, bigint>,
  ) {}

  /**
   * Where each TLS section sits in the TLS template (`.tdata` then `.tbss`, each at its alignment),
   * and the template's size rounded to its alignment: the block ends at the thread pointer.
   */
  tlsTemplate(): { at: Map<SectionState, number>; size: number; align: number } {
    const at = new Map<SectionState, number>();
    let cursor = 0;
    let align = 1;
    for (const s of this.program.sections) {
      if (!s.flags.tls) continue;
      cursor = Math.ceil(cursor / s.align) * s.align;
      at.set(s, cursor);
      cursor += this.offsets.get(s)?.at(-1) ?? 0;
      align = Math.max(align, s.align);
    }
    return { at, size: Math.ceil(cursor / align) * align, align };
  }

  /** `sym@tpoff`: a thread-local symbol's offset from the thread pointer (negative for the program's own). */
  threadPointerOffset(sym: string): Value {
    const label = this.program.labels.get(sym);
    if (label) {
      if (!label.section.flags.tls) throw new ExpressionError(`'${sym}' is not thread-local (it is in ${label.section.name}), so it has no @tpoff`, 0);
      const t = this.tlsTemplate();
      return { base: null, offset: BigInt(t.at.get(label.section)! + this.offsetOf(label) - t.size) };
    }
    const provided = this.threadLocals.get(sym);
    if (provided !== undefined) return { base: null, offset: provided };
    throw new RseqEmuError('ASM_SYMBOL', `undefined thread-local symbol '${sym}'`, this.program.firstUse.get(sym));
  }

  /** `sym@dtpoff`: a thread-local symbol of the program's offset from the start of its TLS block. */
  tlsBlockOffset(sym: string): Value {
    const label = this.program.labels.get(sym);
    if (!label || !label.section.flags.tls) throw new RseqEmuError('ASM_SYMBOL', `'${sym}@dtpoff' needs a thread-local symbol defined in this file`, this.program.firstUse.get(sym));
    return { base: null, offset: BigInt(this.tlsTemplate().at.get(label.section)! + this.offsetOf(label)) };
  }

  offsetOf(p: Position): number {
    return this.offsets.get(p.section)![p.frag]!;
  }

  /** Symbol values: section-relative during layout, absolute once `bases` is filled. */
  resolver(seen = new Set<string>()): (name: string) => Value {
    const resolve = (name: string): Value => {
      if (name.startsWith(TPOFF_PREFIX)) return this.threadPointerOffset(name.slice(TPOFF_PREFIX.length));
      if (name.startsWith(DTPOFF_PREFIX)) return this.tlsBlockOffset(name.slice(DTPOFF_PREFIX.length));
      if (name === TLS_BLOCK_TPOFF) return { base: null, offset: -BigInt(this.tlsTemplate().size) };
      const label = this.program.labels.get(name);
      if (label) return this.position(label);
      const set = this.program.sets.get(name);
      if (set) {
        if (seen.has(name)) throw new ExpressionError(`symbol '${name}' is defined in terms of itself`, 0);
        // Each level is a host stack frame or three: a bounded depth is an error, never a stack overflow.
        if (seen.size >= LIMITS.setDepth) throw new ExpressionError(`symbol '${name}' is defined through more than ${LIMITS.setDepth} other symbols (the limit)`, 0);
        seen.add(name);
        const v = evaluate(set.expr, resolve, this.position(set));
        seen.delete(name);
        return v;
      }
      const ext = this.externals.get(name);
      if (ext !== undefined) return { base: null, offset: ext };
      throw new RseqEmuError('ASM_SYMBOL', `undefined symbol '${displayName(name)}'`, this.program.firstUse.get(name));
    };
    return resolve;
  }

  position(p: Position): Value {
    const base = this.bases.get(p.section);
    const offset = BigInt(this.offsetOf(p));
    return base === undefined ? { base: p.section.name, offset } : { base: null, offset: base + offset };
  }

  evaluateAt(e: Expr, section: SectionState, offset: number): Value {
    const base = this.bases.get(section);
    const dot = base === undefined ? { base: section.name, offset: BigInt(offset) } : { base: null, offset: base + BigInt(offset) };
    return evaluate(e, this.resolver(), dot);
  }

  size(f: Fragment, section: SectionState, offset: number): number {
    switch (f.kind) {
      case 'insn':
        return f.enc.kind === 'fixed' ? f.enc.bytes.length : f.near ? f.enc.near!.length + 4 : f.enc.short!.length + 1;
      case 'data':
        return f.items.reduce((n, it) => n + it.size, 0);
      case 'bytes':
        return f.bytes.length;
      case 'fill': {
        const count = this.evaluateAt(f.count, section, offset);
        if (count.base !== null) throw asmError('ASM_DIRECTIVE', `the count must be a constant, not an address, in '${f.text}'`, f.loc);
        if (count.offset < 0n || count.offset > 1n << 24n) throw asmError('ASM_RANGE', `count ${count.offset} is out of range (0 to 16777216) in '${f.text}'`, f.loc);
        return Number(count.offset) * f.size;
      }
      case 'leb128':
        return f.values.reduce((n, e) => n + leb128(absolute(this.evaluateAt(e, section, offset), 'the value'), f.signed).length, 0);
      case 'align': {
        const pad = (f.align - (offset % f.align)) % f.align;
        return f.max !== null && pad > f.max ? 0 : pad;
      }
    }
  }

  /**
   * One pass over every section, evaluating label references against the previous pass's offsets;
   * returns whether any offset changed. The first pass has no previous offsets: it keeps branches
   * as they start and counts fills it cannot evaluate yet as empty.
   */
  pass(first: boolean): boolean {
    const next = new Map<SectionState, number[]>();
    let image = 0;
    for (const s of this.program.sections) {
      const offs: number[] = [];
      const previous = this.offsets.get(s);
      let at = 0;
      for (const [i, f] of s.frags.entries()) {
        offs.push(at);
        // The branch and its target are both taken from the previous pass: mixing this pass's offset
        // with the target's old one would count growth between them that the target has not seen yet.
        if (!first && f.kind === 'insn' && f.enc.kind === 'branch' && !f.near && f.enc.near !== null) {
          f.near = !guarded(f, () => this.fitsShort(f, s, previous![i]!));
        }
        const size = first && (f.kind === 'fill' || f.kind === 'leb128') ? tryOr(() => this.size(f, s, at), 0) : guarded(f, () => this.size(f, s, at));
        // Checked before any byte is allocated: `.fill`/`.skip`/`.bss` may ask for gigabytes.
        if (image + at + size > LIMITS.imageBytes) throw asmError('ASM_RANGE', `the image would exceed ${LIMITS.imageBytes} bytes (the limit) at '${f.text}' in ${s.name}`, f.loc);
        at += size;
      }
      image += at;
      offs.push(at);
      next.set(s, offs);
    }
    const changed = first || [...next].some(([s, offs]) => this.offsets.get(s)!.some((o, i) => o !== offs[i]));
    for (const [s, offs] of next) this.offsets.set(s, offs);
    return changed;
  }

  private fitsShort(f: Fragment & { kind: 'insn' }, s: SectionState, offset: number): boolean {
    if (f.enc.kind !== 'branch') return true;
    const target = this.evaluateAt(f.enc.target, s, offset);
    if (target.base !== s.name) return false; // other sections, absolute values and externals: near, as GNU as does
    const end = offset + f.enc.short!.length + 1;
    const disp = target.offset - BigInt(end);
    return disp >= -128n && disp <= 127n;
  }
}

function tryOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function guarded<T>(f: Fragment, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RseqEmuError) throw e;
    if (e instanceof ExpressionError) throw asmError('ASM_SYMBOL', `${e.message} in '${f.text}'`, f.loc);
    throw e;
  }
}

/**
 * Symbols used but defined nowhere that a link could still define (not `.L` or numeric locals, not
 * thread-local uses), each given an address `unresolvedBase + 16 * i` in order of first use.
 */
function unresolvedSymbols(program: ProgramBuilder, externals: ReadonlyMap<string, Address>, threadLocals: ReadonlyMap<string, bigint>, unresolvedBase: Address | null): UnresolvedSymbol[] {
  if (unresolvedBase === null) return [];
  const out: UnresolvedSymbol[] = [];
  for (const [name, loc] of program.firstUse) {
    if (program.labels.has(name) || program.sets.has(name) || externals.has(name) || threadLocals.has(name)) continue;
    if (/[\u0001\u0002]/.test(name) || name.startsWith('.L') || name.startsWith(TPOFF_PREFIX) || name.startsWith(DTPOFF_PREFIX) || name === TLS_BLOCK_TPOFF) continue;
    if (program.weak.has(name)) continue; // an undefined weak symbol is 0 (weakZeros)
    out.push({ name, address: unresolvedBase + UNRESOLVED_STRIDE * BigInt(out.length), loc });
  }
  return out;
}

export function layoutAndEmit(program: ProgramBuilder, externals: ReadonlyMap<string, Address>, base: Address, threadLocals: ReadonlyMap<string, bigint>, unresolvedBase: Address | null): Image {
  const unresolved = unresolvedSymbols(program, externals, threadLocals, unresolvedBase);
  // An undefined weak symbol is 0, as a static link makes it (`if (&f) f();` skips the call).
  const weakZeros = [...program.weak].filter((n) => program.firstUse.has(n) && !program.labels.has(n) && !program.sets.has(n) && !externals.has(n)).map((n) => [n, 0n] as const);
  const layout = new Layout(program, new Map([...externals, ...weakZeros, ...unresolved.map((u) => [u.name, u.address] as const)]), threadLocals);
  let passes = 0;
  for (let changed = layout.pass(true); changed; changed = layout.pass(false)) {
    if (++passes > MAX_PASSES) throw unsettled(layout);
  }
  let next = base;
  for (const s of program.sections) {
    if (!s.flags.alloc) {
      layout.bases.set(s, 0n);
      continue;
    }
    layout.bases.set(s, next);
    const size = BigInt(layout.offsets.get(s)!.at(-1)!);
    next += ((size + SECTION_PAGE - 1n) / SECTION_PAGE) * SECTION_PAGE;
  }
  const lines: LineRecord[] = [];
  const sections: ImageSection[] = program.sections.map((s) => ({
    name: s.name,
    address: layout.bases.get(s)!,
    bytes: emitSection(layout, s, lines),
    flags: s.flags,
    align: s.align,
  }));
  lines.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const sourceFiles = program.sourceFiles.size > 0 ? { sourceFiles: new Map(program.sourceFiles) } : {};
  return { file: program.file, sections, tls: tlsImage(layout, sections), symbols: collectSymbols(layout), lines, unresolved, ...sourceFiles };
}

/** LEB128, as DWARF writes lengths and offsets: 7 bits a byte, high bit set on all but the last. */
export function leb128(value: bigint, signed: boolean): Uint8Array {
  const out: number[] = [];
  let v = signed ? BigInt.asIntN(64, value) : BigInt.asUintN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = signed ? (v === 0n && !(byte & 0x40)) || (v === -1n && (byte & 0x40) !== 0) : v === 0n;
    out.push(done ? byte : byte | 0x80);
    if (done) return Uint8Array.from(out);
  }
}

/** The TLS template's bytes: each TLS section's bytes at its place (zeros for `.tbss`). */
function tlsImage(layout: Layout, sections: ImageSection[]): TlsTemplate | null {
  const t = layout.tlsTemplate();
  if (t.at.size === 0) return null;
  const bytes = new Uint8Array(t.size);
  layout.program.sections.forEach((s, i) => {
    const at = t.at.get(s);
    if (at !== undefined) bytes.set(sections[i]!.bytes, at);
  });
  return { bytes, align: t.align };
}

/** The error for a layout that keeps changing, at the first fragment whose size still changes. */
function unsettled(layout: Layout): RseqEmuError {
  const before = new Map(layout.offsets);
  layout.pass(false);
  for (const s of layout.program.sections) {
    const [was, now] = [before.get(s)!, layout.offsets.get(s)!];
    const i = s.frags.findIndex((_, k) => was[k + 1]! - was[k]! !== now[k + 1]! - now[k]!);
    if (i >= 0) return asmError('ASM_RANGE', `layout did not settle after ${MAX_PASSES} passes: the size of '${s.frags[i]!.text}' keeps changing`, s.frags[i]!.loc);
  }
  return asmError('ASM_RANGE', `layout did not settle after ${MAX_PASSES} passes`, { file: layout.program.file, line: 1 });
}

function emitSection(layout: Layout, s: SectionState, lines: LineRecord[]): Uint8Array {
  const offs = layout.offsets.get(s)!;
  const out = new Uint8Array(offs.at(-1)!);
  const base = layout.bases.get(s)!;
  s.frags.forEach((f, i) => {
    const at = offs[i]!;
    const size = offs[i + 1]! - at;
    const address = base + BigInt(at);
    guarded(f, () => emitFragment(layout, s, f, out, at, size));
    if (s.flags.nobits && out.subarray(at, at + size).some((b) => b !== 0)) {
      throw asmError('ASM_DIRECTIVE', `non-zero data in ${s.name}, which holds no bytes`, f.loc);
    }
    if (!s.flags.alloc) return; // DWARF bytes are no program lines
    const source = f.kind === 'insn' && f.source ? { source: f.source, ...(f.sourceStmt === false ? { sourceStmt: false as const } : {}) } : {};
    if (size > 0 || f.kind === 'insn') lines.push({ address, size, loc: f.loc, ...source, text: f.text, kind: f.kind === 'insn' ? 'instruction' : f.kind === 'align' ? 'padding' : 'data' });
  });
  return out;
}

function checkFits(value: bigint, size: number, loc: SourceLocation, what: string): void {
  const bits = size * 8;
  if (bits < 64 && BigInt.asIntN(bits, value) !== value && BigInt.asUintN(bits, value) !== value) {
    throw asmError('ASM_RANGE', `${what} ${value} does not fit in ${size} byte${size > 1 ? 's' : ''}`, loc);
  }
}

function writeLE(out: Uint8Array, at: number, value: bigint, size: number): void {
  for (let k = 0; k < size; k++) out[at + k] = Number((value >> BigInt(8 * k)) & 0xffn);
}

/**
 * `.fill` of `size` bytes with `value` repeated in units of `unit` bytes. Byte by byte this took 14 s
 * for a 128 MiB `.fill`; one unit, then doubling copies, is memcpy speed.
 */
function fillPattern(out: Uint8Array, at: number, size: number, value: bigint, unit: number): void {
  if (size === 0) return;
  writeLE(out, at, value, Math.min(unit, size));
  for (let done = unit; done < size; done *= 2) out.copyWithin(at + done, at, at + Math.min(done, size - done));
}

function absolute(v: Value, what: string): bigint {
  if (v.base !== null) throw new ExpressionError(`${what} is not an absolute value`, 0);
  return v.offset;
}

function emitFragment(layout: Layout, s: SectionState, f: Fragment, out: Uint8Array, at: number, size: number): void {
  const address = layout.bases.get(s)! + BigInt(at);
  switch (f.kind) {
    case 'bytes':
      out.set(f.bytes, at);
      return;
    case 'data': {
      let off = at;
      for (const item of f.items) {
        const v = absolute(layout.evaluateAt(item.expr, s, off), 'the value');
        checkFits(v, item.size, item.loc, 'value');
        writeLE(out, off, v, item.size);
        off += item.size;
      }
      return;
    }
    case 'fill': {
      const value = absolute(layout.evaluateAt(f.value, s, at), 'the fill value') & 0xffffffffn;
      fillPattern(out, at, size, value, f.size);
      return;
    }
    case 'leb128': {
      let off = at;
      for (const e of f.values) {
        const bytes = leb128(absolute(layout.evaluateAt(e, s, off), 'the value'), f.signed);
        out.set(bytes, off);
        off += bytes.length;
      }
      return;
    }
    case 'align': {
      if (f.fill === null && s.flags.exec) out.set(codePadding(size), at);
      else out.fill(f.fill === null ? 0 : Number(absolute(layout.evaluateAt(f.fill, s, at), 'the fill value') & 0xffn), at, at + size);
      return;
    }
    case 'insn':
      emitInstruction(layout, s, f, out, at, size, address);
  }
}

function emitInstruction(layout: Layout, s: SectionState, f: Fragment & { kind: 'insn' }, out: Uint8Array, at: number, size: number, address: Address): void {
  const end = address + BigInt(size);
  const value = (e: Expr) => absolute(layout.evaluateAt(e, s, at), 'the operand');
  if (f.enc.kind === 'branch') {
    const opcode = f.near ? f.enc.near! : f.enc.short!;
    const target = value(f.enc.target);
    const disp = target - end;
    const width = f.near ? 4 : 1;
    if (BigInt.asIntN(width * 8, disp) !== disp) {
      throw asmError('ASM_RANGE', `branch target ${f.near ? 'too far for a 32-bit displacement' : 'out of range for this short-only branch'} in '${f.text}'`, f.loc);
    }
    out.set(opcode, at);
    writeLE(out, at + opcode.length, disp, width);
  } else {
    out.set(f.enc.bytes, at);
    for (const field of f.enc.fields) {
      const v = value(field.expr);
      const patched = field.kind === 'pcrel' ? v - end : v;
      if (field.size === 4) checkFits(patched, 4, f.loc, field.kind === 'pcrel' ? 'RIP-relative displacement' : 'address');
      writeLE(out, at + field.offset, patched, field.size);
    }
  }
  verify(layout, s, f, out.subarray(at, at + size), address, end);
}

/** Decodes what we emitted and compares it with the source operands, fully resolved. */
/** A prefix written alone on its line (gcc's `rex64` before `call __tls_get_addr`): its one byte. */
const PREFIX_BYTES: Record<string, number> = { rex64: 0x48, data16: 0x66, addr32: 0x67, lock: 0xf0, rep: 0xf3, repe: 0xf3, repz: 0xf3, repne: 0xf2, repnz: 0xf2 };

function verify(layout: Layout, s: SectionState, f: Fragment & { kind: 'insn' }, bytes: Uint8Array, address: Address, end: Address): void {
  const prefix = f.ins.operands.length === 0 && f.ins.prefixes.length === 0 ? PREFIX_BYTES[f.ins.mnemonic] : undefined;
  if (prefix !== undefined) {
    // Not an instruction by itself: it prefixes the next one, so it is checked as a byte.
    if (bytes.length !== 1 || bytes[0] !== prefix) throw asmError('ASM_ENCODE', `'${f.text}' was encoded as ${hexBytes(bytes)}, not the prefix byte ${prefix.toString(16)}`, f.loc);
    return;
  }
  const [decoded] = disassembleSync(bytes, address, 1);
  const shown = (d: { mnemonic: string; operands: string }) => `${d.mnemonic} ${d.operands}`.trim();
  const shownBytes = hexBytes(bytes);
  if (!decoded || decoded.size !== bytes.length || decoded.mnemonic === '.byte') {
    throw asmError('ASM_ENCODE', `'${f.text}' was encoded as ${shownBytes}, which does not decode as one instruction`, f.loc);
  }
  const at = Number(address - layout.bases.get(s)!);
  const value = (e: Expr | null, i: number) => f.constants[i] ?? (e === null ? 0n : absolute(layout.evaluateAt(e, s, at), 'the operand'));
  const want: ConcreteOperand[] = f.ins.operands.map((op, i) => {
    switch (op.kind) {
      case 'reg':
        return op;
      case 'imm':
        return { kind: 'imm', value: value(op.expr, i) };
      case 'target':
        return { kind: 'target', value: value(op.expr, i) };
      case 'mem': {
        let disp = value(op.disp, i);
        if (op.base === 'rip' && f.constants[i] === null) disp -= end;
        return { kind: 'mem', seg: op.seg, base: op.base, index: op.index, scale: op.scale, disp, indirect: op.indirect };
      }
    }
  });
  const problem = compareDecoded(decoded.mnemonic, want, decoded);
  if (problem) throw asmError('ASM_ENCODE', `'${f.text}' was encoded as ${shownBytes} = '${shown(decoded)}': ${problem}`, f.loc);
}

function collectSymbols(layout: Layout): ImageSymbol[] {
  const p = layout.program;
  const resolve = layout.resolver();
  const out: ImageSymbol[] = [];
  const meta = (name: string) => ({
    global: p.globals.has(name),
    type: p.types.get(name) ?? null,
    size: sizeOf(layout, name),
  });
  for (const [internal, def] of p.labels) {
    const v = layout.position(def);
    out.push({ name: def.name, address: v.offset, section: def.section.name, kind: 'label', ...meta(internal), ...(def.instance !== undefined ? { instance: def.instance } : {}), loc: def.loc });
  }
  // A redefined `.set` symbol appears once, with its final value, as in GNU as's symbol table.
  for (const [name, version] of p.setVersions) {
    const internal = setName(name, version);
    const def = p.sets.get(internal)!;
    const v = guarded({ kind: 'bytes', loc: def.loc, text: name, bytes: new Uint8Array() }, () => resolve(internal));
    out.push({ name, address: v.offset, section: null, kind: 'constant', ...meta(name), loc: def.loc });
  }
  for (const [name, address] of layout.externals) {
    if (p.firstUse.has(name) && !p.labels.has(name) && !p.sets.has(name)) {
      out.push({ name, address, section: null, kind: 'external', global: true, type: null, size: null, loc: null });
    }
  }
  // A used symbol that is defined nowhere is an error even if no byte depends on it.
  for (const [name, loc] of p.firstUse) {
    if (name.startsWith(TPOFF_PREFIX)) {
      layout.threadPointerOffset(name.slice(TPOFF_PREFIX.length)); // throws for an undefined one
      continue;
    }
    if (name.startsWith(DTPOFF_PREFIX)) {
      layout.tlsBlockOffset(name.slice(DTPOFF_PREFIX.length));
      continue;
    }
    if (name === TLS_BLOCK_TPOFF) continue;
    if (!p.labels.has(name) && !p.sets.has(name) && !layout.externals.has(name) && !p.globals.has(name) && !layout.threadLocals.has(name)) {
      throw new RseqEmuError('ASM_SYMBOL', `undefined symbol '${displayName(name)}'`, loc);
    }
  }
  return out;
}

function sizeOf(layout: Layout, name: string): bigint | null {
  const def = layout.program.sizes.get(name);
  if (!def) return null;
  const v = evaluate(def.expr, layout.resolver(), layout.position(def));
  return v.base === null ? v.offset : null;
}

const displayName = (internal: string): string => {
  const [n, instance] = internal.split('\u0001');
  return instance === undefined ? internal : `${n}f (no later '${n}:' label)`;
};
