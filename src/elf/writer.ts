// An ELF64 executable of an assembled image, for gdb, readelf and objdump: every loaded section at
// the address the emulator runs it (one PT_LOAD each), a symbol table, and DWARF: gcc's own
// sections passed through, `.debug_line` built from the image's line records.
import { basename } from 'node:path';
import type { Image, ImageSection, ImageSymbol } from '../asm/image.js';
import type { Address } from '../types.js';
import { assemblerUnit } from './dwarf-unit.js';
import { encodeLineProgram, lineTableOf } from './dwarf-line.js';
import {
  EM_X86_64, ELF_MAGIC, ELFCLASS64, ELFDATA2LSB, ET_EXEC, EV_CURRENT, FILE_HEADER_SIZE, PF_R, PF_W, PF_X, PROGRAM_HEADER_SIZE, PT_LOAD,
  SECTION_HEADER_SIZE, SHF_ALLOC, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, SHF_WRITE, SHN_ABS, SHT_NOBITS, SHT_NULL, SHT_PROGBITS, SHT_STRTAB,
  SHT_SYMTAB, STB_GLOBAL, STB_LOCAL, STT_FILE, STT_FUNC, STT_NOTYPE, STT_OBJECT, STV_HIDDEN, SYMBOL_SIZE, symbolInfo, writeFileHeader, writeProgramHeader,
  writeSectionHeader, writeSymbol, type ElfSymbol, type ProgramHeader, type SectionHeader,
} from './headers.js';
import { ByteSink } from './struct.js';

export interface ElfOptions {
  /** e_entry; 0 when not given. */
  entry?: Address;
  /** The directory relative source paths are resolved against (DW_AT_comp_dir of a hand-written unit). */
  compDir: string;
  /** Data the emulator maps outside the image (`--memory` regions): absolute symbols, so gdb can `x/2gx &counters`. */
  regions?: readonly { name: string; address: Address; size: number }[];
}

interface OutSection {
  name: string;
  type: bigint;
  flags: bigint;
  addr: bigint;
  bytes: Uint8Array;
  /** Size in memory (differs from bytes.length for NOBITS). */
  size: bigint;
  align: bigint;
  link?: bigint;
  info?: bigint;
  entsize?: bigint;
}

const PAGE = 0x1000n;
/** Labels gcc makes up (`.LFB0`, `.LVL3`, `.Ltext0`, `.L2`): no help when reading code, so left out. */
const GENERATED_LABEL = /^\.L[A-Za-z]*\d+$/;

class StringTable {
  private readonly sink = new ByteSink().u(0, 1);
  private readonly seen = new Map<string, number>();
  add(s: string): bigint {
    let at = this.seen.get(s);
    if (at === undefined) {
      at = this.sink.length;
      this.sink.cstring(s);
      this.seen.set(s, at);
    }
    return BigInt(at);
  }
  bytes(): Uint8Array {
    return this.sink.result();
  }
}

function loadedSection(s: ImageSection): OutSection {
  const flags = SHF_ALLOC | (s.flags.write ? SHF_WRITE : 0n) | (s.flags.exec ? SHF_EXECINSTR : 0n);
  return { name: s.name, type: s.flags.nobits ? SHT_NOBITS : SHT_PROGBITS, flags, addr: s.address, bytes: s.flags.nobits ? new Uint8Array(0) : s.bytes, size: BigInt(s.bytes.length), align: BigInt(s.align) };
}

const debugSection = (name: string, bytes: Uint8Array, strings = false): OutSection => ({
  name, type: SHT_PROGBITS, flags: strings ? SHF_MERGE | SHF_STRINGS : 0n, addr: 0n, bytes, size: BigInt(bytes.length), align: 1n, ...(strings ? { entsize: 1n } : {}),
});

/** The DWARF sections: gcc's passed through (its empty `.debug_line` replaced), or one `as -g` unit. */
function dwarfSections(image: Image, compDir: string): OutSection[] {
  const table = lineTableOf(image, compDir);
  const line = encodeLineProgram(table);
  const own = image.sections.filter((s) => !s.flags.alloc && s.name.startsWith('.debug_') && s.name !== '.debug_line' && s.bytes.length > 0);
  if (own.some((s) => s.name === '.debug_info')) {
    return [...own.map((s) => debugSection(s.name, s.bytes, s.name === '.debug_str' || s.name === '.debug_line_str')), debugSection('.debug_line', line)];
  }
  if (table.sequences.length === 0) return [];
  const unit = assemblerUnit(image.file, compDir, table.sequences.map((s) => ({ begin: s.rows[0]!.address, end: s.end })));
  return [debugSection('.debug_info', unit.info), debugSection('.debug_abbrev', unit.abbrev), debugSection('.debug_line', line), debugSection('.debug_ranges', unit.ranges)];
}

function symbolType(s: ImageSymbol): bigint {
  return s.type === 'function' ? STT_FUNC : s.type === 'object' || s.kind === 'external' ? STT_OBJECT : STT_NOTYPE;
}

/** Which image symbols the table lists: named labels of loaded sections (gcc's made-up ones left out), and the externals the emulated libc defines. */
export function listedSymbols(image: Image): ImageSymbol[] {
  const names = new Set(image.sections.filter((s) => s.flags.alloc).map((s) => s.name));
  return image.symbols.filter((s) => {
    if (s.instance !== undefined) return false;
    if (s.kind === 'external') return true;
    return s.kind === 'label' && s.section !== null && names.has(s.section) && !(GENERATED_LABEL.test(s.name) && !s.global);
  });
}

export function writeElf(image: Image, options: ElfOptions): Uint8Array {
  const sections: OutSection[] = [{ name: '', type: SHT_NULL, flags: 0n, addr: 0n, bytes: new Uint8Array(0), size: 0n, align: 0n }];
  const loaded = image.sections.filter((s) => s.flags.alloc);
  for (const s of loaded) sections.push(loadedSection(s));
  sections.push(...dwarfSections(image, options.compDir));
  const indexOf = new Map(sections.map((s, i) => [s.name, BigInt(i)]));

  // Symbols: locals first (the file, then local labels), then globals, as the gABI requires.
  const strtab = new StringTable();
  const symbols: ElfSymbol[] = [{ name: 0n, info: 0n, other: 0n, shndx: 0n, value: 0n, size: 0n }];
  symbols.push({ name: strtab.add(basename(image.file)), info: symbolInfo(STB_LOCAL, STT_FILE), other: 0n, shndx: SHN_ABS, value: 0n, size: 0n });
  const listed = listedSymbols(image);
  // gdb drops local code symbols named `.L…` as compiler noise (elfread.c); bound global but hidden
  // they stay, so `x/i` shows `.Lcounter_add_start+5`.
  const code = new Set(loaded.filter((s) => s.flags.exec).map((s) => s.name));
  const hiddenGlobal = (s: ImageSymbol) => !s.global && s.name.startsWith('.L') && s.section !== null && code.has(s.section);
  // gdb passes over a zero-sized symbol for a sized function that contains the address, so each
  // such label spans to the next symbol, function end or section end.
  const bounds = (section: string) => {
    const sec = loaded.find((x) => x.name === section)!;
    return [...listed.filter((x) => x.section === section).flatMap((x) => [x.address, x.address + (x.size ?? 0n)]), sec.address + BigInt(sec.bytes.length)];
  };
  const labelExtent = (s: ImageSymbol) => bounds(s.section!).filter((a) => a > s.address).reduce((a, b) => (b < a ? b : a)) - s.address;
  const isGlobal = (s: ImageSymbol) => s.global || hiddenGlobal(s);
  const entry = (s: ImageSymbol): ElfSymbol => ({
    name: strtab.add(s.name), info: symbolInfo(isGlobal(s) ? STB_GLOBAL : STB_LOCAL, symbolType(s)), other: hiddenGlobal(s) ? STV_HIDDEN : 0n,
    shndx: s.section === null ? SHN_ABS : indexOf.get(s.section)!, value: s.address, size: hiddenGlobal(s) ? labelExtent(s) : s.size ?? 0n,
  });
  for (const s of listed) if (!isGlobal(s)) symbols.push(entry(s));
  const firstGlobal = BigInt(symbols.length);
  for (const s of listed) if (isGlobal(s)) symbols.push(entry(s));
  for (const r of options.regions ?? []) {
    symbols.push({ name: strtab.add(r.name), info: symbolInfo(STB_GLOBAL, STT_OBJECT), other: 0n, shndx: SHN_ABS, value: r.address, size: BigInt(r.size) });
  }
  const symtabBytes = new Uint8Array(symbols.length * SYMBOL_SIZE);
  symbols.forEach((s, i) => writeSymbol(s, symtabBytes, i * SYMBOL_SIZE));
  const strtabIndex = BigInt(sections.length + 1);
  sections.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0n, addr: 0n, bytes: symtabBytes, size: BigInt(symtabBytes.length), align: 8n, link: strtabIndex, info: firstGlobal, entsize: BigInt(SYMBOL_SIZE) });
  const strtabBytes = strtab.bytes();
  sections.push({ name: '.strtab', type: SHT_STRTAB, flags: 0n, addr: 0n, bytes: strtabBytes, size: BigInt(strtabBytes.length), align: 1n });
  const shstrtab = new StringTable();
  const names = sections.map((s) => shstrtab.add(s.name));
  const shstrtabName = shstrtab.add('.shstrtab');
  const shstrtabBytes = shstrtab.bytes();
  sections.push({ name: '.shstrtab', type: SHT_STRTAB, flags: 0n, addr: 0n, bytes: shstrtabBytes, size: BigInt(shstrtabBytes.length), align: 1n });
  names.push(shstrtabName);

  // File layout: headers, then each section; a loaded one at a file offset congruent to its address
  // modulo the page size, as PT_LOAD requires.
  const segments = loaded.filter((s) => s.bytes.length > 0);
  let offset = BigInt(FILE_HEADER_SIZE + segments.length * PROGRAM_HEADER_SIZE);
  const offsets: bigint[] = [];
  for (const s of sections) {
    if (s.flags & SHF_ALLOC) offset += (((s.addr % PAGE) - (offset % PAGE)) % PAGE + PAGE) % PAGE;
    else if (s.align > 1n) offset = ((offset + s.align - 1n) / s.align) * s.align;
    offsets.push(offset);
    offset += BigInt(s.bytes.length);
  }
  const shoff = ((offset + 7n) / 8n) * 8n;
  const out = new Uint8Array(Number(shoff) + sections.length * SECTION_HEADER_SIZE);
  writeFileHeader({
    magic: ELF_MAGIC, class: ELFCLASS64, data: ELFDATA2LSB, identVersion: EV_CURRENT, osabi: 0n, abiVersion: 0n, pad0: 0n, pad1: 0n, pad2: 0n,
    type: ET_EXEC, machine: EM_X86_64, version: EV_CURRENT, entry: options.entry ?? 0n, phoff: BigInt(FILE_HEADER_SIZE), shoff, flags: 0n,
    ehsize: BigInt(FILE_HEADER_SIZE), phentsize: BigInt(PROGRAM_HEADER_SIZE), phnum: BigInt(segments.length),
    shentsize: BigInt(SECTION_HEADER_SIZE), shnum: BigInt(sections.length), shstrndx: BigInt(sections.length - 1),
  }, out, 0);
  segments.forEach((s, i) => {
    const at = offsets[Number(indexOf.get(s.name)!)]!;
    const ph: ProgramHeader = {
      type: PT_LOAD, flags: PF_R | (s.flags.write ? PF_W : 0n) | (s.flags.exec ? PF_X : 0n), offset: at, vaddr: s.address, paddr: s.address,
      filesz: s.flags.nobits ? 0n : BigInt(s.bytes.length), memsz: BigInt(s.bytes.length), align: PAGE,
    };
    writeProgramHeader(ph, out, FILE_HEADER_SIZE + i * PROGRAM_HEADER_SIZE);
  });
  sections.forEach((s, i) => {
    out.set(s.bytes, Number(offsets[i]!));
    const sh: SectionHeader = {
      name: names[i]!, type: s.type, flags: s.flags, addr: s.addr, offset: i === 0 ? 0n : offsets[i]!, size: s.size,
      link: s.link ?? 0n, info: s.info ?? 0n, addralign: s.align, entsize: s.entsize ?? 0n,
    };
    writeSectionHeader(sh, out, Number(shoff) + i * SECTION_HEADER_SIZE);
  });
  return out;
}
