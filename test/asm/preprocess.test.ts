// `.S` files: the C preprocessor runs first, and locations stay in the .S file through its line markers.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineAt, findSymbol } from '../../src/asm/image.js';
import { preprocess } from '../../src/asm/preprocess.js';
import { RseqEmuError } from '../../src/errors.js';
import { loadProgram } from '../../src/program.js';
import { inline } from '../support/program.js';

const COUNTER = fileURLToPath(new URL('./fixtures/cpp/counter.S', import.meta.url));
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

describe('C preprocessor line markers', () => {
  it('move the location of the statements that follow, as GNU as honours them', async () => {
    const image = await inline('nop\n# 40 "orig.S"\nnop\nnop\n');
    assert.deepEqual(image.lines.map((l) => `${l.loc.file}:${l.loc.line}`), ['test.s:1', 'orig.S:40', 'orig.S:41']);
  });
  it('leave an ordinary # comment alone', async () => {
    const image = await inline('nop # 40 "orig.S"\nnop\n');
    assert.deepEqual(image.lines.map((l) => l.loc.line), [1, 2]);
  });
});

describe("gcc's inline asm markers in -S output", () => {
  // gcc -S writes `#APP`, `# LINE "file.c" 1` before each asm statement's text, `# 0 "" 2` after it.
  const gccStyle = ['nop', '#APP', '# 7 "op.c" 1', '\tnop', '\tnop', '', '# 0 "" 2', '#NO_APP', 'nop', ''].join('\n');

  it('keep the inline asm at its own line of the .s file, not at the C line', async () => {
    const image = await inline(gccStyle);
    assert.deepEqual(image.lines.map((l) => `${l.loc.file}:${l.loc.line}`), ['test.s:1', 'test.s:4', 'test.s:5', 'test.s:9']);
  });
  it('return to the input file at its own line after `# 0 "" 2`, as GNU as does, even after a plain marker', async () => {
    const image = await inline('nop\n# 40 "orig.S"\nnop\n# 0 "" 2\nnop\n');
    assert.deepEqual(image.lines.map((l) => `${l.loc.file}:${l.loc.line}`), ['test.s:1', 'orig.S:40', 'test.s:5']);
  });
  it('report an error after the inline asm with the file name and its line', async () => {
    const e = await inline(gccStyle + 'bogus\n').then(() => null, (err: unknown) => err);
    assert.ok(e instanceof RseqEmuError);
    assert.deepEqual([e.location?.file, e.location?.line], ['test.s', 10]);
  });
  it('still honour an include marker with flag 1 outside #APP (C preprocessor output)', async () => {
    const image = await inline('nop\n# 1 "inc.h" 1\nnop\n# 3 "top.S" 2\nnop\n');
    assert.deepEqual(image.lines.map((l) => `${l.loc.file}:${l.loc.line}`), ['test.s:1', 'inc.h:1', 'top.S:3']);
  });
});

describe('.S files', function () {
  before(function () {
    if (!hasGcc) this.skip();
  });
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-cpp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('go through the C preprocessor, with includes from their own directory', async () => {
    const image = await loadProgram(COUNTER);
    assert.ok(findSymbol(image, 'counter_add'));
    assert.ok(image.sections.some((s) => s.name === '__rseq_failure'));
  });
  it('keep line records in the .S file', async () => {
    const image = await loadProgram(COUNTER);
    const start = lineAt(image, findSymbol(image, 'start')!.address)!;
    assert.equal(start.loc.file, COUNTER);
    assert.equal(start.loc.line, 13);
    assert.match(start.text, /cmpl %fs:4\(%rcx\), %r8d/);
  });
  it('report an assembly error at the .S line that holds it', async () => {
    const f = join(dir, 'bad.S');
    writeFileSync(f, '#define X 1\n\n\tnop\n\tbogus X\n');
    await assert.rejects(loadProgram(f), (e: unknown) => e instanceof RseqEmuError && e.oneLine().startsWith(`${f}:4:`));
  });
  it('report a preprocessor failure in one line', async () => {
    const f = join(dir, 'missing.S');
    writeFileSync(f, '#include "nowhere.h"\n');
    await assert.rejects(loadProgram(f), /the C preprocessor failed: .*nowhere\.h/);
  });
  it('take extra preprocessor flags from CPPFLAGS', () => {
    const f = join(dir, 'flags.S');
    writeFileSync(f, 'movl $VALUE, %eax\n');
    assert.match(preprocess(f, { CPPFLAGS: '-DVALUE=42' }), /movl \$42, %eax/);
  });
});
