// Differential test: every shipped example and every fixture is assembled by our front end and by
// GNU as + ld with each section placed at the address our image gave it. The sections' bytes,
// flags and sizes, the symbol table and the instruction line table must agree.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { glibcSymbols } from '../../src/abi/glibc.js';
import { assemble } from '../../src/asm/assembler.js';
import { hex } from '../../src/types.js';
import { firstDifference, gnu, missingTool, type GnuResult } from './gnu-as-compare.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = [
  ...[join(ROOT, 'asm'), join(ROOT, 'test/asm/fixtures')].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.s')).sort().map((f) => join(dir, f))),
  join(ROOT, 'src/abi/libc-model.s'),
];
describe('the assembler compared with GNU as', function () {
  this.timeout(60_000);
  const missing = missingTool();
  let dir = '';
  const results = new Map<string, Promise<GnuResult>>();
  const result = (path: string) => {
    if (!results.has(path)) results.set(path, assemble(readFileSync(path, 'utf8'), { file: path, externals: glibcSymbols() }).then((ours) => gnu(ours, path, dir, glibcSymbols())));
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
