// Assembling one source with GNU as + ld, with each section placed at the address our image gave
// it, and reading back sections, symbols and the line table: the other side of the differential tests.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { lineAt, type Image } from '../../src/asm/image.js';
import { hex } from '../../src/types.js';

export const TOOLS = ['as', 'ld', 'objcopy', 'readelf', 'objdump'];

function run(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${tool} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

export const missingTool = (): string | undefined => TOOLS.find((t) => spawnSync(t, ['--version']).status !== 0);

export interface GnuSection {
  type: string;
  address: bigint;
  size: number;
  flags: string;
  bytes: Buffer;
}

export interface GnuSymbol {
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
}

export interface GnuResult {
  ours: Image;
  sections: Map<string, GnuSection>;
  symbols: Map<string, GnuSymbol>;
  /** Line-table rows: the source line of the instruction starting at each address. */
  rows: { address: bigint; line: number }[];
}

/** Assembles with `as -g -L` (line table, local symbols kept) and links at our section addresses. */
export function gnu(ours: Image, path: string, dir: string, externals: ReadonlyMap<string, bigint>): GnuResult {
  const stem = join(dir, basename(path, '.s'));
  const script = [
    'SECTIONS {',
    // Global `.comm` symbols are COMMON in the object file; a static link puts them after .bss.
    ...ours.sections.map((s) => `  ${s.name} ${hex(s.address)} : { *(${s.name})${s.name === '.bss' ? ' *(COMMON)' : ''} }`),
    '  /DISCARD/ : { *(.note.*) *(.comment) }',
    '}',
  ].join('\n');
  writeFileSync(`${stem}.ld`, script);
  run('as', ['--64', '--noexecstack', '-g', '-L', '-o', `${stem}.o`, path]);
  const defsyms = [...externals].flatMap(([name, address]) => ['--defsym', `${name}=${hex(address)}`]);
  run('ld', ['-T', `${stem}.ld`, '-e', '0', '--no-relax', ...defsyms, '-o', `${stem}.elf`, `${stem}.o`]);

  const sections = new Map<string, GnuSection>();
  for (const line of run('readelf', ['-SW', `${stem}.elf`]).split('\n')) {
    // [Nr] Name Type Address Off Size ES Flg Lk Inf Al (Flg may be empty)
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+\d+\s*$/.exec(line);
    if (!m) continue;
    const [, name, type, address, size, flags] = m;
    const binary = `${stem}.${sections.size}.bin`;
    run('objcopy', ['-O', 'binary', '-j', name!, `${stem}.elf`, binary]);
    sections.set(name!, { type: type!, address: BigInt('0x' + address), size: parseInt(size!, 16), flags: flags!, bytes: readFileSync(binary) });
  }

  const symbols = new Map<string, GnuSymbol>();
  for (const line of run('readelf', ['-sW', `${stem}.elf`]).split('\n')) {
    // Num: Value Size Type Bind Vis Ndx Name
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+(\d+|0x[0-9a-f]+)\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+(\S+)$/.exec(line);
    if (m) symbols.set(m[5]!, { value: BigInt('0x' + m[1]), size: BigInt(m[2]!), type: m[3]!, bind: m[4]! });
  }

  const rows: { address: bigint; line: number }[] = [];
  for (const line of run('objdump', ['--dwarf=decodedline', `${stem}.elf`]).split('\n')) {
    const m = /^\S+\s+(\d+)\s+(0x[0-9a-f]+)\b/.exec(line);
    if (m) rows.push({ line: Number(m[1]), address: BigInt(m[2]!) });
  }
  return { ours, sections, symbols, rows };
}

/** Where two byte strings first differ, told with our address and source line there. */
export function firstDifference(image: Image, name: string, ours: Uint8Array, theirs: Uint8Array): string {
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) i++;
  const section = image.sections.find((s) => s.name === name)!;
  const address = section.address + BigInt(i);
  const line = lineAt(image, address);
  const show = (b: Uint8Array) => Buffer.from(b.subarray(i, i + 16)).toString('hex');
  return `${name} differs at ${hex(address)} (${line ? `line ${line.loc.line}: ${line.text}` : 'no line'}): ours ${show(ours)}…, GNU ${show(theirs)}… (sizes ${ours.length} and ${theirs.length})`;
}
