// The ELF writer: declared headers round-trip, and the real tools (readelf, objdump, gdb) accept
// the file and see what the emulator runs: the same bytes, the source's labels, its line table.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageBytes, type Image } from '../../src/asm/image.js';
import { encodeLineProgram, lineTableOf } from '../../src/elf/dwarf-line.js';
import { FILE_HEADER, PROGRAM_HEADER, SECTION_HEADER, SYMBOL } from '../../src/elf/headers.js';
import { readElf } from '../../src/elf/reader.js';
import { layoutSize, readStruct, writeStruct, type Fields, type Layout } from '../../src/elf/struct.js';
import { writeElf } from '../../src/elf/writer.js';
import { loadProgram } from '../../src/program.js';
import { ROOT, hasTool } from '../support/tools.js';
import { bundled } from '../support/program.js';

const C_SOURCE = `long total;
static inline long twice(long x) { return 2 * x; }
long accumulate(long n)
{
  long sum = 0;
  for (long i = 0; i < n; i++)
    sum += twice(i);
  total = sum;
  return sum;
}
`;

function run(cmd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

describe('ELF output', function () {
  this.timeout(60_000);
  let dir = '';
  let counter: Image;
  let counterElf = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-elf-'));
    counter = await bundled('counter_add.s');
    counterElf = join(dir, 'counter.elf');
    writeFileSync(counterElf, writeElf(counter, { compDir: ROOT, entry: 0x400000n }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('declared headers', () => {
    const cases: [string, Layout<string>, number][] = [['file header', FILE_HEADER, 64], ['program header', PROGRAM_HEADER, 56], ['section header', SECTION_HEADER, 64], ['symbol', SYMBOL, 24]];
    for (const [name, layout, size] of cases) {
      it(`lays out the ${name} in the ${size} bytes the gABI gives it`, () => assert.equal(layoutSize(layout), size));
      it(`reads back the ${name} it writes, field for field`, () => {
        const value = Object.fromEntries(layout.map(([f, sz], i) => [f, BigInt.asUintN(sz * 8, 0x0102030405060708n * BigInt(i + 1))])) as Fields<string>;
        const bytes = new Uint8Array(size + 3);
        writeStruct(layout, value, bytes, 3);
        assert.deepEqual(readStruct(layout, bytes, 3), value);
      });
    }
    it('refuses to read a header that runs past the end', () => assert.throws(() => readStruct(SYMBOL, new Uint8Array(20), 0), RangeError));
  });

  describe('a hand-written source (asm/counter_add.s)', () => {
    it('puts every loaded section at its image address with the image bytes, in a PT_LOAD of its own', () => {
      const elf = readElf(writeElf(counter, { compDir: ROOT }));
      for (const s of counter.sections.filter((x) => x.flags.alloc && x.bytes.length > 0)) {
        const out = elf.sections.find((x) => x.name === s.name)!;
        assert.equal(out.header.addr, s.address, s.name);
        assert.ok(Buffer.from(out.bytes).equals(Buffer.from(s.bytes)), `bytes of ${s.name}`);
        assert.ok(elf.segments.some((p) => p.vaddr === s.address && p.memsz === BigInt(s.bytes.length) && p.offset === out.header.offset), `segment of ${s.name}`);
      }
    });

    it('lists the function, the local labels and the libc externals in its symbol table, locals before globals', () => {
      const elf = readElf(writeElf(counter, { compDir: ROOT }));
      const byName = new Map(elf.symbols.map((s) => [s.nameText, s]));
      assert.equal(byName.get('counter_add')?.value, 0x400000n);
      assert.equal(byName.get('counter_add')?.size, 49n);
      assert.equal(byName.get('.Lcounter_add_start')?.value, 0x400017n);
      assert.equal(byName.get('.Lcounter_add_abort')?.value, 0x403007n);
      assert.equal(byName.get('__rseq_offset')?.value, 0x300000n);
      const symtab = elf.sections.find((s) => s.name === '.symtab')!;
      const firstGlobal = Number(symtab.header.info);
      assert.ok(elf.symbols.slice(0, firstGlobal).every((s) => s.info >> 4n === 0n) && elf.symbols.slice(firstGlobal).every((s) => s.info >> 4n === 1n));
    });

    it('gives one line row per source line of the .s, with the instructions of two sections in two sequences', () => {
      const table = lineTableOf(counter, ROOT);
      assert.equal(table.fromLoc, false);
      assert.deepEqual(table.sequences.map((s) => s.rows[0]!.address), [0x400000n, 0x403007n]);
      assert.deepEqual(table.sequences[0]!.rows.map((r) => r.line), [34, 36, 37, 38, 40, 41, 42, 43, 44, 46, 47]);
    });

    it('is accepted by readelf -a without a warning', function () {
      if (!hasTool('readelf')) this.skip();
      const r = run('readelf', ['-a', '-W', counterElf]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /EXEC \(Executable file\)/);
    });

    it('decodes in readelf to the same line rows we encoded', function () {
      if (!hasTool('readelf')) this.skip();
      const r = run('readelf', ['--debug-dump=decodedline', counterElf]);
      const rows = [...r.stdout.matchAll(/^\S*counter_add\.s\s+(\d+)\s+0x([0-9a-f]+)/gm)].map((m) => [Number(m[1]), BigInt('0x' + m[2])]);
      const ours = lineTableOf(counter, ROOT).sequences.flatMap((s) => s.rows.map((row) => [row.line, row.address]));
      assert.deepEqual(rows, ours);
    });

    it('disassembles in objdump -d to exactly the bytes the emulator runs', function () {
      if (!hasTool('objdump')) this.skip();
      const r = run('objdump', ['-d', counterElf]);
      const lines = [...r.stdout.matchAll(/^\s+([0-9a-f]+):\t((?:[0-9a-f]{2} )+)/gm)];
      assert.ok(lines.length >= 12, r.stdout);
      for (const [, at, bytes] of lines) {
        const theirs = Buffer.from(bytes!.trim().split(' ').map((b) => parseInt(b, 16)));
        assert.ok(theirs.equals(Buffer.from(imageBytes(counter, BigInt('0x' + at), theirs.length)!)), `bytes at 0x${at}`);
      }
      assert.match(r.stdout, /<\.Lcounter_add_start>:/);
    });

    it('lets gdb place a breakpoint on a .s line and show instructions as label+offset', function () {
      if (!hasTool('gdb')) this.skip();
      const r = run('gdb', ['-batch', '-nx', counterElf, '-ex', 'break counter_add.s:40', '-ex', 'x/2i 0x40000b', '-ex', 'info line *0x403007']);
      assert.match(r.stdout, /Breakpoint 1 at 0x400017: file .*counter_add\.s, line 40\./);
      assert.match(r.stdout, /0x40000b <\.Lcounter_add_retry\+4>:\s+lea/);
      assert.match(r.stdout, /Line 54 of ".*counter_add\.s" starts at address 0x403007 <\.Lcounter_add_abort>/);
    });
  });

  describe('gcc -g output', () => {
    let image: Image;
    let elfPath = '';
    before(async function () {
      if (!hasTool('gcc')) this.skip();
      writeFileSync(join(dir, 'acc.c'), C_SOURCE);
      const r = spawnSync('gcc', ['-g', '-O0', '-S', 'acc.c', '-o', 'acc.s'], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      image = await loadProgram(join(dir, 'acc.s'));
      elfPath = join(dir, 'acc.elf');
      writeFileSync(elfPath, writeElf(image, { compDir: dir }));
    });

    it('takes its line rows from .loc, in the C file the .file directives name', () => {
      const table = lineTableOf(image, dir);
      assert.equal(table.fromLoc, true);
      assert.deepEqual(table.files, [join(dir, 'acc.c')]);
      const lines = new Set(table.sequences.flatMap((s) => s.rows.map((r) => r.line)));
      for (const l of [2, 4, 5, 6, 7, 8, 9, 10]) assert.ok(lines.has(l), `line ${l} has a row`);
    });

    it('keeps DW_AT_decl_file pointing at the C file, so gdb lists a function and breaks on a C line', function () {
      if (!hasTool('gdb')) this.skip();
      const r = run('gdb', ['-batch', '-nx', elfPath, '-ex', 'list accumulate', '-ex', 'break acc.c:8', '-ex', 'info scope accumulate', '-ex', 'ptype twice']);
      assert.match(r.stdout, /4\s+\{\n5\s+long sum = 0;/);
      assert.match(r.stdout, /Breakpoint 1 at 0x[0-9a-f]+: file .*acc\.c, line 8\./);
      assert.match(r.stdout, /Symbol sum is/);
      assert.match(r.stdout, /type = long \(long\)/);
    });

    it('passes readelf --debug-dump=info with no warning (DWARF offsets are section offsets)', function () {
      if (!hasTool('readelf')) this.skip();
      const r = run('readelf', ['--debug-dump=info,abbrev,line,str', '-W', elfPath]);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /DW_AT_name\s+: .*accumulate/);
    });
  });

  describe('gcc -g -O2 output (is_stmt 0 rows)', () => {
    it("gives every instruction the line and is_stmt GNU as's line table gives it", async function () {
      if (!hasTool('gcc') || !hasTool('as') || !hasTool('readelf')) this.skip();
      writeFileSync(join(dir, 'acc2.c'), C_SOURCE);
      const cc = spawnSync('gcc', ['-g', '-O2', '-S', 'acc2.c', '-o', 'acc2.s'], { cwd: dir, encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      assert.equal(spawnSync('as', ['-o', 'acc2.o', 'acc2.s'], { cwd: dir }).status, 0);
      const image = await loadProgram(join(dir, 'acc2.s'));
      const text = image.sections.find((x) => x.name === '.text')!;
      const parse = (out: string, base: bigint) =>
        [...out.matchAll(/^\S+\s+(\d+)\s+(0x[0-9a-f]+|\d+)(?:\s+\d+)?(\s+x)?\s*$/gm)].map((m) => ({ line: Number(m[1]), address: BigInt(m[2]!) + base, stmt: m[3] !== undefined }));
      const gnu = parse(run('readelf', ['--debug-dump=decodedline', join(dir, 'acc2.o')]).stdout, text.address);
      const elf = join(dir, 'acc2.elf');
      writeFileSync(elf, writeElf(image, { compDir: dir }));
      const ours = parse(run('readelf', ['--debug-dump=decodedline', elf]).stdout, 0n);
      assert.ok(gnu.some((r) => !r.stmt), 'gcc -O2 output has is_stmt 0 rows');
      // The row in force at an address is the last at or below it; GNU as may repeat a line, we merge repeats.
      const inForce = (rows: typeof gnu, a: bigint) => rows.filter((r) => r.address <= a).at(-1);
      for (const l of image.lines.filter((x) => x.kind === 'instruction' && x.address < text.address + BigInt(text.bytes.length))) {
        const g = inForce(gnu, l.address);
        const o = inForce(ours, l.address);
        assert.deepEqual(o && { line: o.line, stmt: o.stmt }, g && { line: g.line, stmt: g.stmt }, `instruction '${l.text}' at 0x${l.address.toString(16)}`);
      }
    });
  });

  it('encodes an empty line table as a header alone', () => {
    const bytes = encodeLineProgram({ files: [], sequences: [], fromLoc: false });
    assert.equal(new DataView(bytes.buffer).getUint32(0, true), bytes.length - 4);
  });
});
