// The line table a line step follows: C lines from .loc in gcc -g output (through the cpp line
// markers gcc puts around inline asm), or each source line of hand-written assembly.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { LineTable } from '../../src/debug/line-table.js';
import { inline } from '../support/program.js';
import { loadProgram } from '../../src/program.js';
import { findSymbol } from '../../src/asm/image.js';
import { bundled } from '../support/program.js';

describe('the line table', () => {
  it('gives each line of hand-written assembly a line of its own', async () => {
    const image = await bundled('counter_add.s');
    const t = LineTable.fromImage(image);
    const retry = findSymbol(image, '.Lcounter_add_retry')!.address;
    assert.deepEqual(t.at(retry), { start: retry, end: retry + 4n, file: 'asm/counter_add.s', line: 36 });
  });
  it('maps gcc -g output to the C lines its .loc directives name', async () => {
    const image = await loadProgram('examples/programs/rseq-addv-loop.s');
    const t = LineTable.fromImage(image);
    const loop = findSymbol(image, '.L2')!.address;
    assert.equal(t.at(loop)?.line, 65);
    assert.equal(t.at(loop)?.file, 'rseq-addv-loop.c');
  });
  it('puts the inline asm (behind cpp line markers) and its abort handler on the line of the statement', async () => {
    const image = await loadProgram('examples/programs/rseq-addv-loop.s');
    const t = LineTable.fromImage(image);
    const abort = image.sections.find((s) => s.name === '__rseq_failure')!.address + 7n;
    assert.equal(t.at(abort)?.line, 66);
  });
  it('ignores .loc rows marked is_stmt 0, where a line step never stops', async () => {
    const t = LineTable.fromImage(await inline('\t.file 1 "a.c"\n\t.loc 1 5 1\n\tnop\n\t.loc 1 9 1 is_stmt 0\n\tnop\n', 'a.s'));
    assert.deepEqual(t.at(0x400001n), { start: 0x400000n, end: 0x400002n, file: 'a.c', line: 5 });
  });
  it('joins the directory and the file name of a DWARF 5 .file with two strings', async () => {
    const t = LineTable.fromImage(await inline('\t.file 0 "/src" "x.c"\n\t.loc 0 3 1\n\tnop\n', 'x.s'));
    assert.deepEqual(t.at(0x400000n), { start: 0x400000n, end: 0x400001n, file: '/src/x.c', line: 3 });
  });
  it('finds the first address of FILE:LINE for a breakpoint', async () => {
    const image = await loadProgram('examples/programs/rseq-addv-loop.s');
    const t = LineTable.fromImage(image);
    assert.equal(t.firstAddress('rseq-addv-loop.c', 65), findSymbol(image, '.L2')!.address);
    assert.equal(t.firstAddress('rseq-addv-loop.c', 1), null);
  });
});
