// Differential test: every shipped example and every fixture is assembled by our front end and by
// GNU as + ld with each section placed at the address our image gave it. The sections' bytes,
// flags and sizes, the symbol table and the instruction line table must agree.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { glibcSymbols } from '../../src/abi/glibc.js';
import { assemble } from '../../src/asm/assembler.js';
import { lineAt, type Image } from '../../src/asm/image.js';
import { hex } from '../../src/types.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = [join(ROOT, 'asm'), join(ROOT, 'test/asm/fixtures')].flatMap((dir) =>
  readdirSync(dir).filter((f) => f.endsWith('.s')).sort().map((f) => join(dir, f)),
);
const TOOLS = ['as', 'ld', 'objcopy', 'readelf', 'objdump'];

function run(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${tool} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

const missingTool = (): string | undefined => TOOLS.find((t) => spawnSync(t, ['--version']).status !== 0);

interface GnuSection {
  type: string;
  address: bigint;
  size: number;
  flags: string;
  bytes: Buffer;
}

interface GnuSymbol {
  value: bigint;
  size: bigint;
  type: string;
  bind: string;
}

interface GnuResult {
  ours: Image;
  sections: Map<string, GnuSection>;
  symbols: Map<string, GnuSymbol>;
  /** Line-table rows: the source line of the instruction starting at each address. */
  rows: { address: bigint; line: number }[];
}

/** Assembles with `as -g -L` (line table, local symbols kept) and links at our section addresses. */
async function gnu(path: string, dir: string): Promise<GnuResult> {
  const ours = await assemble(readFileSync(path, 'utf8'), { file: path, externals: glibcSymbols() });
  const stem = join(dir, basename(path, '.s'));
  const script = [
    'SECTIONS {',
    ...ours.sections.map((s) => `  ${s.name} ${hex(s.address)} : { *(${s.name}) }`),
    '  /DISCARD/ : { *(.note.*) *(.comment) }',
    '}',
  ].join('\n');
  writeFileSync(`${stem}.ld`, script);
  run('as', ['--64', '--noexecstack', '-g', '-L', '-o', `${stem}.o`, path]);
  const defsyms = [...glibcSymbols()].flatMap(([name, address]) => ['--defsym', `${name}=${hex(address)}`]);
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
function firstDifference(image: Image, name: string, ours: Uint8Array, theirs: Uint8Array): string {
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) i++;
  const section = image.sections.find((s) => s.name === name)!;
  const address = section.address + BigInt(i);
  const line = lineAt(image, address);
  const show = (b: Uint8Array) => Buffer.from(b.subarray(i, i + 16)).toString('hex');
  return `${name} differs at ${hex(address)} (${line ? `line ${line.loc.line}: ${line.text}` : 'no line'}): ours ${show(ours)}…, GNU ${show(theirs)}… (sizes ${ours.length} and ${theirs.length})`;
}

describe('the assembler compared with GNU as', function () {
  this.timeout(60_000);
  const missing = missingTool();
  let dir = '';
  const results = new Map<string, Promise<GnuResult>>();
  const result = (path: string) => {
    if (!results.has(path)) results.set(path, gnu(path, dir));
    return results.get(path)!;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-gnu-as-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(function () {
    if (missing) {
      this.currentTest!.title += ` (skipped: GNU '${missing}' is not installed)`;
      this.skip();
    }
  });

  for (const path of SOURCES) {
    const name = relative(ROOT, path);
    describe(name, () => {
      it('gives every section the bytes, size and write/exec flags GNU as gives it', async () => {
        const { ours, sections } = await result(path);
        for (const s of ours.sections) {
          const theirs = sections.get(s.name);
          if (s.bytes.length === 0) {
            assert.ok(!theirs || theirs.size === 0, `${s.name} is empty here but ${theirs?.size} bytes in GNU's output`);
            continue;
          }
          assert.ok(theirs, `GNU's output has no section ${s.name}`);
          assert.equal(hex(theirs.address), hex(s.address), `ld did not place ${s.name} where our image has it`);
          assert.equal(theirs.size, s.bytes.length, `size of ${s.name}`);
          assert.deepEqual(
            { write: s.flags.write, exec: s.flags.exec, nobits: s.flags.nobits },
            { write: theirs.flags.includes('W'), exec: theirs.flags.includes('X'), nobits: theirs.type === 'NOBITS' },
            `flags of ${s.name}`,
          );
          if (s.flags.nobits) continue; // no file bytes to compare: ours are zero, which the front end checks
          assert.ok(Buffer.from(s.bytes).equals(theirs.bytes), firstDifference(ours, s.name, s.bytes, theirs.bytes));
        }
      });

      it("gives every named symbol GNU as's value, binding, type and size", async () => {
        const { ours, symbols } = await result(path);
        const named = ours.symbols.filter((s) => s.instance === undefined);
        assert.ok(named.length > 0, 'the source defines no named symbol to compare');
        for (const s of named) {
          const theirs = symbols.get(s.name);
          assert.ok(theirs, `GNU's symbol table has no ${s.name}`);
          assert.equal(hex(s.address), hex(theirs.value), `value of ${s.name}`);
          assert.equal(s.global, theirs.bind === 'GLOBAL', `binding of ${s.name}`);
          const type = s.type === 'function' ? 'FUNC' : s.type === 'object' ? 'OBJECT' : 'NOTYPE';
          assert.equal(type, theirs.type, `type of ${s.name}`);
          assert.equal(s.size ?? 0n, theirs.size, `size of ${s.name}`);
        }
      });

      it("maps every instruction to the source line GNU as's line table gives it", async () => {
        const { ours, rows } = await result(path);
        const instructions = ours.lines.filter((l) => l.kind === 'instruction');
        assert.ok(instructions.length > 0 && rows.length > 0, 'no instructions, or no line table from GNU as');
        for (const l of instructions) {
          // The row in force at an address is the last one at or below it in the same section.
          const section = ours.sections.find((s) => l.address >= s.address && l.address < s.address + BigInt(s.bytes.length))!;
          const row = rows.filter((r) => r.address <= l.address && r.address >= section.address).reduce((a, b) => (b.address >= a.address ? b : a));
          assert.equal(l.loc.line, row.line, `instruction '${l.text}' at ${hex(l.address)}`);
        }
      });
    });
  }
});
