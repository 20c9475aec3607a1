// The ELF64 headers the writer emits, declared once (System V gABI, x86-64 psABI). Each layout is
// both the reader and the writer of its header.
import { layoutSize, readStruct, writeStruct, type Fields, type Layout } from './struct.js';

export const FILE_HEADER = [
  ['magic', 4], ['class', 1], ['data', 1], ['identVersion', 1], ['osabi', 1], ['abiVersion', 1], ['pad0', 1], ['pad1', 2], ['pad2', 4],
  ['type', 2], ['machine', 2], ['version', 4], ['entry', 8], ['phoff', 8], ['shoff', 8], ['flags', 4],
  ['ehsize', 2], ['phentsize', 2], ['phnum', 2], ['shentsize', 2], ['shnum', 2], ['shstrndx', 2],
] as const satisfies Layout<string>;

export const PROGRAM_HEADER = [
  ['type', 4], ['flags', 4], ['offset', 8], ['vaddr', 8], ['paddr', 8], ['filesz', 8], ['memsz', 8], ['align', 8],
] as const satisfies Layout<string>;

export const SECTION_HEADER = [
  ['name', 4], ['type', 4], ['flags', 8], ['addr', 8], ['offset', 8], ['size', 8], ['link', 4], ['info', 4], ['addralign', 8], ['entsize', 8],
] as const satisfies Layout<string>;

export const SYMBOL = [['name', 4], ['info', 1], ['other', 1], ['shndx', 2], ['value', 8], ['size', 8]] as const satisfies Layout<string>;

type Names<L extends Layout<string>> = L[number][0];
export type FileHeader = Fields<Names<typeof FILE_HEADER>>;
export type ProgramHeader = Fields<Names<typeof PROGRAM_HEADER>>;
export type SectionHeader = Fields<Names<typeof SECTION_HEADER>>;
export type ElfSymbol = Fields<Names<typeof SYMBOL>>;

export const FILE_HEADER_SIZE = layoutSize(FILE_HEADER); // 64
export const PROGRAM_HEADER_SIZE = layoutSize(PROGRAM_HEADER); // 56
export const SECTION_HEADER_SIZE = layoutSize(SECTION_HEADER); // 64
export const SYMBOL_SIZE = layoutSize(SYMBOL); // 24

export const ELF_MAGIC = 0x464c457fn; // "\x7fELF" read little-endian
export const ELFCLASS64 = 2n, ELFDATA2LSB = 1n, EV_CURRENT = 1n, ET_EXEC = 2n, EM_X86_64 = 62n;
export const PT_LOAD = 1n, PF_X = 1n, PF_W = 2n, PF_R = 4n;
export const SHT_NULL = 0n, SHT_PROGBITS = 1n, SHT_SYMTAB = 2n, SHT_STRTAB = 3n, SHT_NOBITS = 8n;
export const SHF_WRITE = 1n, SHF_ALLOC = 2n, SHF_EXECINSTR = 4n, SHF_MERGE = 0x10n, SHF_STRINGS = 0x20n;
export const STB_LOCAL = 0n, STB_GLOBAL = 1n;
export const STT_NOTYPE = 0n, STT_OBJECT = 1n, STT_FUNC = 2n, STT_FILE = 4n;
export const STV_HIDDEN = 2n;
export const SHN_UNDEF = 0n, SHN_ABS = 0xfff1n;

export const writeFileHeader = (h: FileHeader, out: Uint8Array, at: number) => writeStruct(FILE_HEADER, h, out, at);
export const readFileHeader = (b: Uint8Array, at = 0): FileHeader => readStruct(FILE_HEADER, b, at);
export const writeProgramHeader = (h: ProgramHeader, out: Uint8Array, at: number) => writeStruct(PROGRAM_HEADER, h, out, at);
export const readProgramHeader = (b: Uint8Array, at: number): ProgramHeader => readStruct(PROGRAM_HEADER, b, at);
export const writeSectionHeader = (h: SectionHeader, out: Uint8Array, at: number) => writeStruct(SECTION_HEADER, h, out, at);
export const readSectionHeader = (b: Uint8Array, at: number): SectionHeader => readStruct(SECTION_HEADER, b, at);
export const writeSymbol = (s: ElfSymbol, out: Uint8Array, at: number) => writeStruct(SYMBOL, s, out, at);
export const readSymbol = (b: Uint8Array, at: number): ElfSymbol => readStruct(SYMBOL, b, at);

export const symbolInfo = (bind: bigint, type: bigint): bigint => (bind << 4n) | type;
