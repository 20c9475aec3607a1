// Reads back what writer.ts writes (the same declared headers), for round-trip tests and tools
// that want the sections and symbols of an ELF64 file. Not a general ELF loader.
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

export function readElf(bytes: Uint8Array): ElfFile {
  const header = readFileHeader(bytes);
  if (header.magic !== ELF_MAGIC) throw new Error('not an ELF file');
  if (header.ehsize !== BigInt(FILE_HEADER_SIZE) || header.phentsize !== BigInt(PROGRAM_HEADER_SIZE) || header.shentsize !== BigInt(SECTION_HEADER_SIZE)) {
    throw new Error('not an ELF64 file of the sizes this reader knows');
  }
  const segments = Array.from({ length: Number(header.phnum) }, (_, i) => readProgramHeader(bytes, Number(header.phoff) + i * PROGRAM_HEADER_SIZE));
  const headers = Array.from({ length: Number(header.shnum) }, (_, i) => readSectionHeader(bytes, Number(header.shoff) + i * SECTION_HEADER_SIZE));
  const contents = (h: SectionHeader) => (h.type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(Number(h.offset), Number(h.offset + h.size)));
  const names = contents(headers[Number(header.shstrndx)]!);
  const sections = headers.map((h) => ({ name: cstringAt(names, Number(h.name)), header: h, bytes: contents(h) }));
  const symtab = sections.find((s) => s.header.type === SHT_SYMTAB);
  const symbols: ElfFile['symbols'] = [];
  if (symtab) {
    const strings = sections[Number(symtab.header.link)]!.bytes;
    for (let at = 0; at + SYMBOL_SIZE <= symtab.bytes.length; at += SYMBOL_SIZE) {
      const s = readSymbol(symtab.bytes, at);
      symbols.push({ ...s, nameText: cstringAt(strings, Number(s.name)) });
    }
  }
  return { header, segments, sections, symbols };
}
