// For hand-written assembly (no .debug_info of its own) the one compilation unit `as -g` would
// write: its name, directory, code ranges and line table. gdb reads line tables only through a unit.
import type { Address } from '../types.js';
import { ByteSink } from './struct.js';

export interface UnitSections {
  info: Uint8Array;
  abbrev: Uint8Array;
  ranges: Uint8Array;
}

const DW_TAG_compile_unit = 0x11;
const DW_AT_name = 0x03, DW_AT_stmt_list = 0x10, DW_AT_low_pc = 0x11, DW_AT_language = 0x13, DW_AT_comp_dir = 0x1b, DW_AT_producer = 0x25, DW_AT_ranges = 0x55;
const DW_FORM_addr = 0x01, DW_FORM_data2 = 0x05, DW_FORM_string = 0x08, DW_FORM_sec_offset = 0x17;
const DW_LANG_Mips_Assembler = 0x8001;

export function assemblerUnit(name: string, compDir: string, ranges: readonly { begin: Address; end: Address }[]): UnitSections {
  const attrs: [number, number][] = [
    [DW_AT_stmt_list, DW_FORM_sec_offset], [DW_AT_low_pc, DW_FORM_addr], [DW_AT_ranges, DW_FORM_sec_offset],
    [DW_AT_name, DW_FORM_string], [DW_AT_comp_dir, DW_FORM_string], [DW_AT_producer, DW_FORM_string], [DW_AT_language, DW_FORM_data2],
  ];
  const abbrev = new ByteSink().uleb(1).uleb(DW_TAG_compile_unit).u(0, 1);
  for (const [at, form] of attrs) abbrev.uleb(at).uleb(form);
  abbrev.u(0, 1).u(0, 1).u(0, 1);

  const info = new ByteSink().u(0, 4).u(4, 2).u(0, 4).u(8, 1); // unit_length (patched), version 4, abbrev offset, address size
  info.uleb(1).u(0, 4).u(0n, 8).u(0, 4).cstring(name).cstring(compDir).cstring('rseq-emu').u(DW_LANG_Mips_Assembler, 2);
  info.patch(0, info.length - 4, 4);

  // DWARF 4 range list: absolute (begin, end) pairs since the unit's base (low_pc) is 0, then (0, 0).
  const list = new ByteSink();
  for (const r of ranges) list.u(r.begin, 8).u(r.end, 8);
  list.u(0, 8).u(0, 8);
  return { info: info.result(), abbrev: abbrev.result(), ranges: list.result() };
}
