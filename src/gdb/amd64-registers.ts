// The registers gdb's amd64 target description has, in gdb's numbering (features/i386/64bit-core,
// -sse, -linux, -segments): the order of the XML is the order of the `g` packet and the number `p`
// and `P` use. The machine models the general registers, rip, eflags and fs/gs base; segment
// selectors are the fixed Linux user values; the x87 and SSE state is reported unavailable.

export interface RegisterDef {
  name: string;
  bits: number;
  type: string;
  group?: 'general' | 'float' | 'vector' | 'system';
  feature: 'core' | 'sse' | 'linux' | 'segments';
}

const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

export const AMD64_REGISTERS: readonly RegisterDef[] = [
  ...GPRS.map((name): RegisterDef => ({ name, bits: 64, type: name === 'rbp' || name === 'rsp' ? 'data_ptr' : 'int64', feature: 'core' })),
  { name: 'rip', bits: 64, type: 'code_ptr', feature: 'core' },
  { name: 'eflags', bits: 32, type: 'i386_eflags', feature: 'core' },
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((name): RegisterDef => ({ name, bits: 32, type: 'int32', feature: 'core' })),
  ...Array.from({ length: 8 }, (_, i): RegisterDef => ({ name: `st${i}`, bits: 80, type: 'i387_ext', feature: 'core' })),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((name): RegisterDef => ({ name, bits: 32, type: 'int', group: 'float', feature: 'core' })),
  ...Array.from({ length: 16 }, (_, i): RegisterDef => ({ name: `xmm${i}`, bits: 128, type: 'vec128', feature: 'sse' })),
  { name: 'mxcsr', bits: 32, type: 'i386_mxcsr', group: 'vector', feature: 'sse' },
  { name: 'orig_rax', bits: 64, type: 'int', group: 'system', feature: 'linux' },
  { name: 'fs_base', bits: 64, type: 'int', feature: 'segments' },
  { name: 'gs_base', bits: 64, type: 'int', feature: 'segments' },
];

export const registerNumber = (name: string): number => AMD64_REGISTERS.findIndex((r) => r.name === name);

const FLAGS = (id: string, fields: [string, number][]) =>
  `<flags id="${id}" size="4">${fields.map(([n, b]) => `<field name="${n}" start="${b}" end="${b}"/>`).join('')}</flags>`;

const CORE_TYPES =
  FLAGS('i386_eflags', [['CF', 0], ['', 1], ['PF', 2], ['AF', 4], ['ZF', 6], ['SF', 7], ['TF', 8], ['IF', 9], ['DF', 10], ['OF', 11], ['NT', 14], ['RF', 16], ['VM', 17], ['AC', 18], ['VIF', 19], ['VIP', 20], ['ID', 21]]);
const SSE_TYPES =
  '<vector id="v4f" type="ieee_single" count="4"/><vector id="v2d" type="ieee_double" count="2"/>' +
  '<vector id="v16i8" type="int8" count="16"/><vector id="v8i16" type="int16" count="8"/>' +
  '<vector id="v4i32" type="int32" count="4"/><vector id="v2i64" type="int64" count="2"/>' +
  '<union id="vec128"><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>' +
  '<field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union>' +
  FLAGS('i386_mxcsr', [['IE', 0], ['DE', 1], ['ZE', 2], ['OE', 3], ['UE', 4], ['PE', 5], ['DAZ', 6], ['IM', 7], ['DM', 8], ['ZM', 9], ['OM', 10], ['UM', 11], ['PM', 12], ['FZ', 15]]);

const FEATURES: { key: RegisterDef['feature']; name: string; types: string }[] = [
  { key: 'core', name: 'org.gnu.gdb.i386.core', types: CORE_TYPES },
  { key: 'sse', name: 'org.gnu.gdb.i386.sse', types: SSE_TYPES },
  { key: 'linux', name: 'org.gnu.gdb.i386.linux', types: '' },
  { key: 'segments', name: 'org.gnu.gdb.i386.segments', types: '' },
];

/** The target description gdb reads with `qXfer:features:read:target.xml`. */
export function targetXml(): string {
  const features = FEATURES.map((f) => {
    const regs = AMD64_REGISTERS.map((r, i) => ({ r, i })).filter(({ r }) => r.feature === f.key);
    const body = regs.map(({ r, i }) => `<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${i}"${r.group ? ` group="${r.group}"` : ''}/>`).join('');
    return `<feature name="${f.name}">${f.types}${body}</feature>`;
  });
  return `<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0"><architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>${features.join('')}</target>`;
}
