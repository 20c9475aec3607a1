// The assembler front end: GNU-as source → Image. Statements are walked once to build sections of
// fragments and symbol definitions (this file); layout then fixes sizes and addresses and emits
// bytes (layout.ts). Keystone only ever sees single instructions with numbers in them.
import { asmError, RseqEmuError } from '../errors.js';
import type { Address, SourceLocation } from '../types.js';
import { loadCapstone } from './capstone.js';
import { EncodeError, encodeInstruction } from './encoder.js';
import { evaluate, ExpressionError, parseExpression, renameSymbols, type Expr, type Value } from './expression.js';
import { DTPOFF_PREFIX, GOT_PREFIX, TLS_BLOCK_TPOFF, TPOFF_PREFIX, defaultFlags, parseFlags, setName, type Fragment, type LabelDef, type SectionState, type SetDef } from './fragments.js';
import type { Image } from './image.js';
import { KeystoneEncoder, type InstructionEncoder } from './keystone.js';
import { layoutAndEmit } from './layout.js';
import { OperandError, parseInstruction, type Operand, type Syntax } from './operands.js';
import { parseStatements, splitArgsAt, type Statement } from './statements.js';

export interface AssembleOptions {
  /** Shown in every error and line record. */
  file: string;
  /** Addresses of symbols used but not defined, such as the emulated libc's `__rseq_offset`. */
  externals?: ReadonlyMap<string, Address>;
  /** Address of the first section; later sections follow on fresh pages. Default 0x400000. */
  base?: Address;
  /** Thread-local symbols the environment provides, with their offset from the thread pointer (`sym@tpoff`). */
  threadLocals?: ReadonlyMap<string, bigint>;
  /**
   * Where symbols used but defined nowhere (libc functions a test calls) get addresses, 16 bytes
   * apart, instead of being an error: nothing is mapped there (image.unresolved lists them).
   * `.L` and numeric local labels stay errors: no link could define them.
   */
  unresolvedBase?: Address;
  /** Encodes single instructions; default the shared Keystone. Tests inject faulty ones to exercise the round-trip check. */
  encoder?: InstructionEncoder;
}

let keystone: Promise<KeystoneEncoder> | undefined;

export async function assemble(source: string, options: AssembleOptions): Promise<Image> {
  const [ks] = await Promise.all([options.encoder ?? (keystone ??= KeystoneEncoder.load()), loadCapstone()]);
  const program = new ProgramBuilder(options.file);
  for (const st of parseStatements(source, options.file)) {
    try {
      await program.statement(st, ks);
    } catch (e) {
      throw locate(e, st);
    }
  }
  program.finish();
  return layoutAndEmit(program, options.externals ?? new Map(), options.base ?? 0x400000n, options.threadLocals ?? new Map(), options.unresolvedBase ?? null);
}


/** Turns the lower layers' errors into RseqEmuError at the statement's location (column-precise where known). */
export function locate(e: unknown, st: { loc: SourceLocation; text?: string }): RseqEmuError {
  if (e instanceof RseqEmuError) return e;
  const column = (st.loc.column ?? 1) + (e instanceof OperandError || e instanceof ExpressionError ? e.offset : 0);
  const loc = { ...st.loc, column };
  const text = st.text === undefined ? '' : ` in '${st.text}'`;
  if (e instanceof EncodeError) return asmError('ASM_ENCODE', e.message, st.loc);
  if (e instanceof OperandError || e instanceof ExpressionError) return asmError('ASM_SYNTAX', `${e.message}${text}`, loc);
  if (e instanceof Error) return asmError('ASM_SYNTAX', `${e.message}${text}`, loc);
  return asmError('ASM_SYNTAX', String(e), loc);
}

const DATA_SIZES: Record<string, number> = {
  '.byte': 1, '.word': 2, '.short': 2, '.value': 2, '.hword': 2, '.2byte': 2, '.long': 4, '.int': 4, '.4byte': 4, '.quad': 8, '.8byte': 8,
};
// Directives with no effect on the bytes we produce.
const IGNORED = /^\.(ident|cfi_\w+|code64|hidden|protected|internal|text_end|addrsig|addrsig_sym|note|end)$/;

export class ProgramBuilder {
  readonly sections: SectionState[] = [];
  readonly labels = new Map<string, LabelDef>();
  readonly sets = new Map<string, SetDef>();
  readonly globals = new Set<string>();
  readonly types = new Map<string, 'function' | 'object'>();
  readonly sizes = new Map<string, SetDef>();
  /** Where each symbol is first used, so an undefined one is reported there. */
  readonly firstUse = new Map<string, SourceLocation>();
  /** How often each name was given a value by `.set`, `.equ` or `=`: uses refer to the latest definition. */
  readonly setVersions = new Map<string, number>();
  private current: SectionState;
  private previous: SectionState;
  /** `.pushsection` saves both, so `.previous` after `.popsection` means what it meant before the push. */
  private readonly stack: { current: SectionState; previous: SectionState }[] = [];
  private syntax: Syntax = 'att';
  private readonly numericCount = new Map<string, number>();
  /** The last `.loc`: its section, how many fragments that section had then, and its view number. */
  private lastLoc: { section: SectionState; frags: number; view: number } | null = null;
  /** `.file N "dir" "name"` (gcc -g): file numbers as `.loc` uses them, resolved to paths. */
  readonly sourceFiles = new Map<number, string>();
  private compDir = '';
  /** The line the last `.loc` named; every later instruction is on it, as in GNU as's line table. */
  private sourceLoc: SourceLocation | null = null;
  private sourceStmt = true;
  /** Names given to `.weak`: one the program uses but nothing defines is 0, as in a static link. */
  readonly weak = new Set<string>();
  /** Names given to `.local`: a later `.comm` of one is allocated here, as `.lcomm` is. */
  private readonly locals = new Set<string>();
  /** `.comm`/`.lcomm` symbols, in source order, placed in `.bss` by finish(). */
  private readonly commons: { name: string; size: bigint; align: bigint; local: boolean; loc: SourceLocation; text: string }[] = [];
  /** GOT slots by label: the symbol whose value fills the slot, and where the slot was first needed. */
  private readonly gotSlots = new Map<string, { values: Expr[]; loc: SourceLocation }>();

  constructor(readonly file: string) {
    this.current = this.previous = this.section('.text');
  }

  private section(name: string, flags?: string, type?: string): SectionState {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      s = { name, flags: flags === undefined ? defaultFlags(name) : parseFlags(flags, type), align: 1, frags: [] };
      this.sections.push(s);
    }
    return s;
  }

  private switchTo(s: SectionState): void {
    this.previous = this.current;
    this.current = s;
  }

  private add(f: Fragment): void {
    this.current.frags.push(f);
  }

  /**
   * Parses an expression that starts `at` characters into the statement at `loc`, and resolves
   * symbol references against the current point (numeric `1f`/`1b`, redefined `.set` symbols).
   */
  private expr(text: string, loc: SourceLocation, at: number): Expr {
    return this.resolveNames(parseExpression(text, at), loc);
  }

  private resolveNames(e: Expr, loc: SourceLocation): Expr {
    return renameSymbols(e, (name, at) => this.symbolName(name, { ...loc, column: (loc.column ?? 1) + at }));
  }

  /** The internal name a reference at `loc` means; records the first use so an undefined symbol is reported there. */
  private symbolName(name: string, loc: SourceLocation): string {
    const m = /^([0-9]+)([fb])$/.exec(name);
    let internal: string;
    if (m) {
      const n = this.numericCount.get(m[1]!) ?? 0;
      if (m[2] === 'b' && n === 0) throw asmError('ASM_SYMBOL', `backward reference '${name}' has no earlier label '${m[1]}:'`, loc);
      internal = numericName(m[1]!, m[2] === 'f' ? n + 1 : n);
    } else {
      // Before any definition this is the plain name, which the first definition takes (GNU as does the same).
      internal = setName(name, this.setVersions.get(name) ?? 1);
    }
    if (!this.firstUse.has(internal)) this.firstUse.set(internal, loc);
    return internal;
  }

  private defineLabel(name: string, loc: SourceLocation): void {
    let internal = name;
    let instance: number | undefined;
    if (/^[0-9]+$/.test(name)) {
      instance = (this.numericCount.get(name) ?? 0) + 1;
      this.numericCount.set(name, instance);
      internal = numericName(name, instance);
    } else if (this.labels.has(name) || this.sets.has(name)) {
      throw asmError('ASM_SYMBOL', `symbol '${name}' is already defined`, loc);
    }
    this.labels.set(internal, { name, instance, loc, section: this.current, frag: this.current.frags.length });
  }

  /** The value of `e` if it is a constant now (only numbers and already-defined constant symbols). */
  constantValue(e: Expr | null): bigint | null {
    if (e === null) return null;
    const seen = new Set<string>();
    const resolve = (name: string): Value => {
      const def = this.sets.get(name);
      if (!def || seen.has(name)) throw new ExpressionError('not constant', 0);
      seen.add(name);
      return evaluate(def.expr, resolve, { base: '.', offset: 0n });
    };
    try {
      const v = evaluate(e, resolve, { base: '.', offset: 0n });
      return v.base === null ? v.offset : null;
    } catch {
      return null;
    }
  }

  async statement(st: Statement, ks: InstructionEncoder): Promise<void> {
    switch (st.kind) {
      case 'label':
        return this.defineLabel(st.name, st.loc);
      case 'assign':
        return this.defineSet(st.name, st.expr, st.loc, st.exprAt, false);
      case 'instruction':
        return this.instruction(st.text, st.loc, ks);
      case 'directive':
        return this.directive(st.name, st.args, st.loc, st.text);
    }
  }

  private defineSet(name: string, exprText: string, loc: SourceLocation, exprAt: number, equiv: boolean): void {
    if (this.labels.has(name) || (equiv && this.setVersions.has(name))) throw asmError('ASM_SYMBOL', `symbol '${name}' is already defined`, loc);
    // Parsed before the new version exists, so `x = x + 1` means the previous x.
    const expr = this.expr(exprText, loc, exprAt);
    const version = (this.setVersions.get(name) ?? 0) + 1;
    this.setVersions.set(name, version);
    this.sets.set(setName(name, version), { expr, loc, section: this.current, frag: this.current.frags.length });
  }

  /**
   * Relocation modifiers as a static link resolves them: `sym@PLT` is sym itself; `sym@GOTPCREL`
   * is a slot of a synthetic `.got` holding sym's address; `sym@tpoff` (local-exec TLS) is sym's
   * offset from the thread pointer, and `sym@gottpoff` (initial-exec) a GOT slot holding it. The
   * dynamic models: `sym@tlsgd` is a GOT pair (module 1, sym's offset from the thread pointer) and
   * `sym@tlsld` one for the TLS block's start, which the modelled `__tls_get_addr` adds to the
   * thread pointer; `sym@dtpoff` is sym's offset in the block. @GOTOFF and others are refused by name.
   */
  private resolveModifiers(text: string, loc: SourceLocation): string {
    const slot = (label: string, ...values: Expr[]) => {
      if (!this.gotSlots.has(label)) this.gotSlots.set(label, { values, loc });
      return label;
    };
    // A thread-local use is recorded so an undefined one is reported where it is first used.
    const sym = (name: string): Expr => {
      if (name.startsWith(TPOFF_PREFIX) && !this.firstUse.has(name)) this.firstUse.set(name, loc);
      return { kind: 'sym', name, at: 0 };
    };
    return text.replace(/([A-Za-z_.][A-Za-z0-9_.$]*)@([A-Za-z]+)/g, (whole, name: string, modifier: string, at: number) => {
      switch (modifier.toLowerCase()) {
        case 'plt':
          return name;
        case 'gotpcrel':
          if (!this.firstUse.has(name)) this.firstUse.set(name, loc);
          return slot(GOT_PREFIX + name, sym(name));
        case 'tpoff':
          if (!this.firstUse.has(name)) this.firstUse.set(name, loc);
          return TPOFF_PREFIX + name;
        case 'dtpoff':
          return DTPOFF_PREFIX + name;
        case 'gottpoff':
          if (!this.firstUse.has(name)) this.firstUse.set(name, loc);
          return slot(`${GOT_PREFIX}tp.${name}`, sym(TPOFF_PREFIX + name));
        case 'tlsgd':
          return slot(`${GOT_PREFIX}gd.${name}`, { kind: 'num', value: 1n }, sym(TPOFF_PREFIX + name));
        case 'tlsld':
          return slot(`${GOT_PREFIX}ld`, { kind: 'num', value: 1n }, sym(TLS_BLOCK_TPOFF));
      }
      throw new OperandError(`relocation modifier @${modifier} in '${whole}' is not supported (only @PLT, @GOTPCREL, @tpoff, @gottpoff, @tlsgd, @tlsld and @dtpoff)`, at + name.length);
    });
  }

  /**
   * Relocation modifiers in data: `sym@dtpoff` (gcc -g's location of a thread-local variable) is
   * sym's offset in the TLS block, `sym@tpoff` its offset from the thread pointer; others are refused by name.
   */
  private dataModifiers(text: string, loc: SourceLocation): string {
    return text.replace(/([A-Za-z_.][A-Za-z0-9_.$]*)@([A-Za-z]+)/g, (whole, sym: string, modifier: string) => {
      if (!this.firstUse.has(sym)) this.firstUse.set(sym, loc);
      switch (modifier.toLowerCase()) {
        case 'dtpoff':
          return DTPOFF_PREFIX + sym;
        case 'tpoff':
          return TPOFF_PREFIX + sym;
      }
      throw asmError('ASM_DIRECTIVE', `relocation modifier @${modifier} in '${whole}' is not supported in data (only @dtpoff and @tpoff)`, loc);
    });
  }

  /** After the last statement: common symbols in `.bss`, and the GOT if any instruction needs one. */
  finish(): void {
    this.placeCommons();
    if (this.gotSlots.size === 0) return;
    const got = this.section('.got', 'aw');
    got.align = Math.max(got.align, 8);
    for (const [label, { values, loc }] of this.gotSlots) {
      this.labels.set(label, { name: label, loc, section: got, frag: got.frags.length });
      got.frags.push({ kind: 'data', loc, text: `GOT slot ${label.slice(GOT_PREFIX.length)}`, items: values.map((expr) => ({ expr, size: 8, loc })) });
    }
  }

  /**
   * `.lcomm` and local `.comm` symbols go after everything else in `.bss`, in source order (GNU as
   * allocates them in .bss subsection 1); global `.comm` symbols follow, as a static link with
   * `*(.bss) *(COMMON)` places them.
   */
  private placeCommons(): void {
    if (this.commons.length === 0) return;
    const bss = this.section('.bss');
    const ordered = [...this.commons.filter((c) => c.local), ...this.commons.filter((c) => !c.local)];
    for (const c of ordered) {
      if (this.labels.has(c.name) || this.sets.has(c.name)) throw asmError('ASM_SYMBOL', `symbol '${c.name}' is already defined`, c.loc);
      bss.align = Math.max(bss.align, Number(c.align));
      bss.frags.push({ kind: 'align', loc: c.loc, text: c.text, align: Number(c.align), fill: null, max: null });
      this.labels.set(c.name, { name: c.name, loc: c.loc, section: bss, frag: bss.frags.length });
      bss.frags.push({ kind: 'fill', loc: c.loc, text: c.text, count: { kind: 'num', value: c.size }, size: 1, value: { kind: 'num', value: 0n } });
      if (!c.local) this.globals.add(c.name);
      if (!this.types.has(c.name)) this.types.set(c.name, 'object');
      if (!this.sizes.has(c.name)) this.sizes.set(c.name, { expr: { kind: 'num', value: c.size }, loc: c.loc, section: bss, frag: bss.frags.length });
    }
  }

  private async instruction(text: string, loc: SourceLocation, ks: InstructionEncoder): Promise<void> {
    const unmodified = this.resolveModifiers(text, loc);
    const source = this.syntax === 'intel' ? unmodified.replace(/%(?=[a-z])/gi, '') : unmodified;
    const parsed = parseInstruction(source, this.syntax);
    const rename = (e: Expr) => this.resolveNames(e, loc);
    const operands: Operand[] = parsed.operands.map((op) => {
      if (op.kind === 'imm' || op.kind === 'target') return { ...op, expr: rename(op.expr) };
      if (op.kind === 'mem' && op.disp) return { ...op, disp: rename(op.disp) };
      return op;
    });
    const ins = { ...parsed, operands };
    const constants = operands.map((op) => this.constantValue(op.kind === 'imm' || op.kind === 'target' ? op.expr : op.kind === 'mem' ? op.disp : null));
    if (!this.current.flags.exec) throw asmError('ASM_DIRECTIVE', `instruction in non-executable section '${this.current.name}'`, loc);
    const enc = await encodeInstruction(ks, ins, this.syntax, constants);
    this.add({ kind: 'insn', loc, text, ins, syntax: this.syntax, constants, enc, near: enc.kind === 'branch' && enc.short === null, ...(this.sourceLoc ? { source: this.sourceLoc, ...(this.sourceStmt ? {} : { sourceStmt: false }) } : {}) });
  }

  private directive(name: string, args: string, loc: SourceLocation, text: string): void {
    // Each argument with its offset in the statement, so errors and symbol uses point at it.
    const argsAt = text.indexOf(args, name.length);
    const list = () => splitArgsAt(args).map((a) => ({ text: a.text, at: argsAt + a.at }));
    const need = (n: number) => {
      const a = list();
      if (a.length < n || a.slice(0, n).some((x) => x.text === '')) throw asmError('ASM_DIRECTIVE', `${name} needs ${n} argument${n > 1 ? 's' : ''}`, loc);
      return a;
    };
    const at = (a: Arg): SourceLocation => ({ ...loc, column: (loc.column ?? 1) + a.at });
    const expr = (a: Arg) => this.expr(a.text, loc, a.at);
    const optional = (a: Arg | undefined) => (a === undefined || a.text === '' ? null : expr(a));
    const constant = (a: Arg, what: string): bigint => {
      const v = this.constantValue(expr(a));
      if (v === null) throw asmError('ASM_DIRECTIVE', `${name}: ${what} must be a constant, not '${a.text}'`, at(a));
      return v;
    };
    const zero: Expr = { kind: 'num', value: 0n };
    if (name in DATA_SIZES) {
      const size = DATA_SIZES[name]!;
      const items = list().map((a) => ({ expr: expr({ ...a, text: this.dataModifiers(a.text, at(a)) }), size, loc: at(a) }));
      if (items.length === 0) throw asmError('ASM_DIRECTIVE', `${name} needs at least one value`, loc);
      return this.add({ kind: 'data', loc, text, items });
    }
    switch (name) {
      case '.text':
      case '.data':
      case '.bss':
        // A subsection number would place code after the rest of the section; we have no subsections.
        if (args !== '') throw asmError('ASM_DIRECTIVE', `${name}: subsections are not supported, found '${args}'`, { ...loc, column: (loc.column ?? 1) + argsAt });
        return this.switchTo(this.section(name));
      case '.section':
      case '.pushsection': {
        const [sec, flags, type] = need(1);
        const sname = sec!.text.replace(/^"(.*)"$/, '$1');
        const flagText = flags === undefined ? undefined : flags.text.replace(/^"(.*)"$/, '$1');
        if (name === '.pushsection') this.stack.push({ current: this.current, previous: this.previous });
        return this.switchTo(this.section(sname, flagText, type?.text));
      }
      case '.popsection': {
        const saved = this.stack.pop();
        if (!saved) throw asmError('ASM_DIRECTIVE', '.popsection without a matching .pushsection', loc);
        this.current = saved.current;
        this.previous = saved.previous;
        return;
      }
      case '.previous':
        return this.switchTo(this.previous);
      case '.balign':
      case '.align':
      case '.p2align': {
        const [a, fill, max] = need(1);
        const n = constant(a!, 'the alignment');
        const align = name === '.p2align' ? (n >= 0n && n < 64n ? 1n << n : 0n) : n;
        if (align <= 0n || (align & (align - 1n)) !== 0n || align > 0x1000n) {
          throw asmError('ASM_DIRECTIVE', `${name}: alignment must be a power of two up to 4096, not ${name === '.p2align' ? `2**${n}` : align}`, at(a!));
        }
        this.current.align = Math.max(this.current.align, Number(align));
        const maxVal = max === undefined || max.text === '' ? null : Number(constant(max, 'the maximum'));
        return this.add({ kind: 'align', loc, text, align: Number(align), fill: optional(fill), max: maxVal });
      }
      case '.uleb128':
      case '.sleb128': {
        const values = list().map(expr);
        if (values.length === 0) throw asmError('ASM_DIRECTIVE', `${name} needs at least one value`, loc);
        return this.add({ kind: 'leb128', loc, text, values, signed: name === '.sleb128' });
      }
      case '.zero':
      case '.skip':
      case '.space': {
        const [count, value] = need(1);
        return this.add({ kind: 'fill', loc, text, count: expr(count!), size: 1, value: optional(value) ?? zero });
      }
      case '.fill': {
        const [count, size, value] = need(1);
        const sz = size === undefined || size.text === '' ? 1n : constant(size, 'the size');
        if (sz < 0n || sz > 8n) throw asmError('ASM_DIRECTIVE', `.fill size must be 0 to 8, not ${sz}`, at(size!));
        return this.add({ kind: 'fill', loc, text, count: expr(count!), size: Number(sz), value: optional(value) ?? zero });
      }
      case '.ascii':
      case '.asciz':
      case '.string': {
        const parts = list().map((a) => parseString(a.text, at(a)));
        const nul = name !== '.ascii';
        const bytes = parts.flatMap((p) => (nul ? [...p, 0] : [...p]));
        return this.add({ kind: 'bytes', loc, text, bytes: Uint8Array.from(bytes) });
      }
      case '.set':
      case '.equ':
      case '.equiv': {
        const [sym, value] = need(2);
        return this.defineSet(sym!.text, value!.text, loc, value!.at, name === '.equiv');
      }
      case '.loc': {
        // `view SYM` defines SYM as the location view, as GAS does: 0 at a new address, one more
        // for each further .loc at the same address. Nothing else in .loc affects the image.
        const prev = this.lastLoc;
        const sameAddress = prev !== null && prev.section === this.current && prev.frags === this.current.frags.length;
        const view = sameAddress ? prev.view + 1 : 0;
        this.lastLoc = { section: this.current, frags: this.current.frags.length, view };
        const [fileNo, line, column] = args.trim().split(/\s+/).map(Number);
        const file = fileNo === undefined ? undefined : this.sourceFiles.get(fileNo);
        // is_stmt stays as last set, as in GNU as (gcc writes `is_stmt 1` to go back).
        const stmt = /\bis_stmt\s+(\d+)/.exec(args);
        if (stmt) this.sourceStmt = stmt[1] !== '0';
        if (file !== undefined && Number.isInteger(line)) this.sourceLoc = { file, line: line!, ...(Number.isInteger(column) && column! > 0 ? { column } : {}) };
        const named = /\bview\s+([A-Za-z_.][A-Za-z0-9_.$]*)/.exec(args);
        if (named) this.defineSet(named[1]!, String(view), loc, argsAt + named.index + named[0].length - named[1]!.length, false);
        return;
      }
      case '.file': {
        // `.file "name"` only names the object; `.file N ["dir"] "name" [md5 X]` numbers a source file for .loc.
        const m = /^\s*(\d+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"((?:[^"\\]|\\.)*)")?/.exec(args);
        if (!m) return;
        // Without a directory a file is relative to file 0's (DWARF 5: the compilation directory).
        if (m[1] === '0' && m[3] !== undefined) this.compDir = m[2]!;
        const [dir, name] = m[3] === undefined ? [this.compDir, m[2]!] : [m[2]!, m[3]];
        this.sourceFiles.set(Number(m[1]), name.startsWith('/') || dir === '' ? name : `${dir}/${name}`);
        return;
      }
      case '.reloc': {
        // Only R_X86_64_NONE (tcmalloc's section pinning) is accepted: it changes no byte.
        const [, type] = need(2);
        if (type!.text !== 'R_X86_64_NONE') throw asmError('ASM_DIRECTIVE', `.reloc ${type!.text} is not supported (only R_X86_64_NONE, which changes no byte)`, loc);
        return;
      }
      case '.globl':
      case '.global':
        for (const a of list()) this.globals.add(a.text);
        return;
      case '.type': {
        const [sym, type] = need(2);
        const t = type!.text.replace(/^[@%"]|"$/g, '').toLowerCase();
        if (t === 'function' || t === 'stt_func') this.types.set(sym!.text, 'function');
        else if (t === 'object' || t === 'stt_object') this.types.set(sym!.text, 'object');
        return;
      }
      case '.size': {
        const [sym, value] = need(2);
        this.sizes.set(sym!.text, { expr: expr(value!), loc, section: this.current, frag: this.current.frags.length });
        return;
      }
      case '.weak':
        for (const a of list()) this.weak.add(a.text);
        return;
      case '.local':
        for (const a of list()) this.locals.add(a.text);
        return;
      case '.comm':
      case '.lcomm': {
        // `.comm SYM, SIZE[, ALIGN]` (ALIGN in bytes) and `.lcomm SYM, SIZE` as GNU as reads them on
        // x86-64 ELF, with its default alignments when none is given.
        const [sym, size, align, extra] = need(2);
        if (extra !== undefined || (name === '.lcomm' && align !== undefined)) throw asmError('ASM_DIRECTIVE', `${name} takes ${name === '.lcomm' ? 'SYMBOL, SIZE' : 'SYMBOL, SIZE[, ALIGNMENT]'}, found '${args}'`, loc);
        const bytes = constant(size!, 'the size');
        if (bytes < 0n) throw asmError('ASM_DIRECTIVE', `${name}: the size must not be negative, not ${bytes}`, at(size!));
        let alignment = align === undefined ? defaultCommonAlign(name, bytes) : constant(align, 'the alignment');
        if (alignment === 0n) alignment = 1n;
        if (alignment < 0n || (alignment & (alignment - 1n)) !== 0n || alignment > 0x1000n) {
          throw asmError('ASM_DIRECTIVE', `${name}: alignment must be a power of two up to 4096, not ${alignment}`, at(align!));
        }
        const local = name === '.lcomm' || this.locals.has(sym!.text);
        this.commons.push({ name: sym!.text, size: bytes, align: alignment, local, loc, text });
        return;
      }
      case '.intel_syntax':
        this.syntax = 'intel';
        return;
      case '.att_syntax':
        this.syntax = 'att';
        return;
    }
    if (IGNORED.test(name)) return;
    throw asmError('ASM_DIRECTIVE', `unknown directive '${name}'`, loc);
  }
}

type Arg = { text: string; at: number };

/**
 * GNU as's alignment for a common symbol given none: `.lcomm` by size (8 from 8 bytes, 4 from 4,
 * 2 from 2, else 1); `.comm` the next power of two of the size, at most 16.
 */
function defaultCommonAlign(directive: string, size: bigint): bigint {
  if (directive === '.lcomm') return size >= 8n ? 8n : size >= 4n ? 4n : size >= 2n ? 2n : 1n;
  let a = 1n;
  while (a < size && a < 16n) a <<= 1n;
  return a;
}

export const numericName = (n: string, instance: number): string => `${n}\u0001${instance}`;

/** A GNU-as string literal with its escapes. */
function parseString(text: string, loc: SourceLocation): number[] {
  const m = /^"((?:[^"\\]|\\.)*)"$/s.exec(text.trim());
  if (!m) throw asmError('ASM_DIRECTIVE', `string expected, found '${text}'`, loc);
  const out: number[] = [];
  const body = m[1]!;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\') {
      out.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const e = body[++i]!;
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, '\\': 92, '"': 34, "'": 39 };
    if (simple[e] !== undefined) out.push(simple[e]!);
    else if (e === 'x' || e === 'X') {
      // Any number of hex digits; only the low byte counts, i.e. the last two digits.
      const hexDigits = /^[0-9a-fA-F]+/.exec(body.slice(i + 1))?.[0] ?? '';
      out.push(parseInt(hexDigits.slice(-2) || '0', 16));
      i += hexDigits.length;
    } else if (/[0-9]/.test(e)) {
      // Up to three digits read as octal, where GNU as lets 8 and 9 through as digit values too.
      const digits = /^[0-9]{1,3}/.exec(body.slice(i))![0];
      out.push([...digits].reduce((n, d) => n * 8 + Number(d), 0) & 0xff);
      i += digits.length - 1;
    } else out.push(e.charCodeAt(0));
  }
  return out;
}
