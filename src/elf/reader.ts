// Reads back what writer.ts writes (the same declared headers), for round-trip tests and tools
// that want the sections and symbols of an ELF64 file. Not a general ELF loader.
import { RseqEmuError } from '../errors.js';
import {
  ELF_MAGIC, FILE_HEADER_SIZE, PROGRAM_HEADER_SIZE, SECTION_HEADER_SIZE, SHT_NOBITS, SHT_SYMTAB, SYMBOL_SIZE, readFileHeader, readProgramHeader,
  readSectionHeader, readSymbol, type ElfSymbol, type FileHeader, type ProgramHeader, type SectionHeader,
} from './headers.js';

export interface ElfFile {
  header: FileHeader;
  segments: ProgramHeader[];
  sections: { name: string; header: SectionHeader; bytes: Uint8Array }[];
  symbols: (ElfSymbol & { nameText: string })[];
}

const cstringAt = (b: Uint8Array, at: number): string => {
  let end = at;
  while (end < b.length && b[end] !== 0) end++;
  return Buffer.from(b.subarray(at, end)).toString('utf8');
};

/** Refuses the file in one located line: what is wrong, at which byte. */
const bad = (file: string, what: string): RseqEmuError => new RseqEmuError('INPUT', `${file}: ${what}`);

/**
 * Every offset, size, count and index a header gives is checked against the file before it is
 * used, so hostile bytes get one INPUT error, and nothing is allocated in proportion to a field.
 */
export function readElf(bytes: Uint8Array, file = 'ELF file'): ElfFile {
  if (bytes.length < FILE_HEADER_SIZE) throw bad(file, `${bytes.length} bytes, shorter than an ELF64 file header (${FILE_HEADER_SIZE})`);
  const header = readFileHeader(bytes);
  if (header.magic !== ELF_MAGIC) throw bad(file, 'not an ELF file (no \\x7fELF at byte 0)');
  if (header.ehsize !== BigInt(FILE_HEADER_SIZE) || header.phentsize !== BigInt(PROGRAM_HEADER_SIZE) || header.shentsize !== BigInt(SECTION_HEADER_SIZE)) {
    throw bad(file, 'not an ELF64 file of the header sizes this reader knows (e_ehsize, e_phentsize, e_shentsize at byte 0x34)');
  }
  /** [offset, offset + size) within the file, as numbers; `what` names the field for the error. */
  const within = (offset: bigint, size: bigint, what: string): number => {
    if (offset + size > BigInt(bytes.length)) throw bad(file, `${what}: bytes 0x${offset.toString(16)}..+0x${size.toString(16)} run past the end of the file (${bytes.length} bytes)`);
    return Number(offset);
  };
  const phoff = within(header.phoff, header.phnum * BigInt(PROGRAM_HEADER_SIZE), `${header.phnum} program headers (e_phoff, e_phnum)`);
  const shoff = within(header.shoff, header.shnum * BigInt(SECTION_HEADER_SIZE), `${header.shnum} section headers (e_shoff, e_shnum)`);
  const segments = Array.from({ length: Number(header.phnum) }, (_, i) => readProgramHeader(bytes, phoff + i * PROGRAM_HEADER_SIZE));
  const headers = Array.from({ length: Number(header.shnum) }, (_, i) => readSectionHeader(bytes, shoff + i * SECTION_HEADER_SIZE));
  const contents = (h: SectionHeader, i: number) => {
    if (h.type === SHT_NOBITS) return new Uint8Array(0);
    const at = within(h.offset, h.size, `section ${i} (sh_offset, sh_size)`);
    return bytes.subarray(at, at + Number(h.size));
  };
  const indexed = (index: bigint, what: string): number => {
    if (index >= BigInt(headers.length)) throw bad(file, `${what} names section ${index}, but there are ${headers.length}`);
    return Number(index);
  };
  const names = headers.length ? contents(headers[indexed(header.shstrndx, 'e_shstrndx')]!, Number(header.shstrndx)) : new Uint8Array(0);
  const sections = headers.map((h, i) => ({ name: cstringAt(names, Number(h.name)), header: h, bytes: contents(h, i) }));
  const symtab = sections.find((s) => s.header.type === SHT_SYMTAB);
  const symbols: ElfFile['symbols'] = [];
  if (symtab) {
    const strings = sections[indexed(symtab.header.link, 'the symbol table\'s sh_link')]!.bytes;
    for (let at = 0; at + SYMBOL_SIZE <= symtab.bytes.length; at += SYMBOL_SIZE) {
      const s = readSymbol(symtab.bytes, at);
      symbols.push({ ...s, nameText: cstringAt(strings, Number(s.name)) });
    }
  }
  return { header, segments, sections, symbols };
}
