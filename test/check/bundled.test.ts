// `check` on real sources: silent on every correct op in asm/ and on correct code written the way
// other projects write it (test/check/fixtures), and catching each broken twin of counter_add with
// the rule for its bug, at the line its `# BUG here` comment points to.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChecks } from '../../src/check/run-checks.js';
import type { Finding, RuleId, Severity } from '../../src/check/finding.js';
import { loadProgram } from '../../src/program.js';
import { ASM_DIR, bundled, inline } from '../support/program.js';
import { serious } from './support.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const correct = readdirSync(ASM_DIR).filter((f) => f.endsWith('.s') && !f.includes('.bug-'));

/** The first line at or after the `# BUG here` comment that contains `text`. */
function bugLine(file: string, text: string): number {
  const lines = readFileSync(ASM_DIR + file, 'utf8').split('\n');
  const marker = lines.findIndex((l) => l.includes('# BUG here'));
  const at = lines.findIndex((l, i) => i >= marker && l.includes(text));
  assert.ok(marker >= 0 && at >= 0, `${file}: no '${text}' after its BUG comment`);
  return at + 1;
}

describe('check on the bundled ops and their broken twins', function () {
  this.timeout(30_000);

  it('finds the correct ops in asm/ and their broken twins', () => {
    assert.ok(correct.length >= 5, correct.join());
  });
  for (const file of correct) {
    it(`reports no error and no warning in asm/${file}`, async () => {
      assert.deepEqual(serious(await runChecks(await bundled(file))), []);
    });
  }

  const TWINS: { file: string; rule: RuleId; severity: Severity; at: string }[] = [
    { file: 'counter_add.bug-no-cpu-compare.s', rule: 'setup/no-cpu-compare', severity: 'error', at: 'movq (%rdi,%r8,8), %r9' },
    { file: 'counter_add.bug-late-rseq-cs.s', rule: 'setup/stale-load', severity: 'error', at: 'movq (%rdi,%r8,8), %r9' },
    { file: 'counter_add.bug-commit-outside.s', rule: 'commit/outside', severity: 'error', at: 'movq %r9, (%rdi,%r8,8)' },
    { file: 'slab_stack.bug-pop-after-commit.s', rule: 'commit/read-after', severity: 'warning', at: 'movq 0(%r9,%r10,8), %rax' },
    { file: 'counter_add.bug-wrong-signature.s', rule: 'abort/signature', severity: 'error', at: '.long 0x53053054' },
    { file: 'counter_add.bug-no-signature.s', rule: 'abort/signature', severity: 'error', at: '.byte 0xcc' },
    { file: 'counter_add.bug-abort-inside.s', rule: 'abort/inside', severity: 'error', at: '.quad .Lcounter_add_start' },
    { file: 'counter_add.bug-version-1.s', rule: 'descriptor/version', severity: 'error', at: '.long 1, 0' },
    { file: 'counter_addv.bug-no-cpu-compare.s', rule: 'setup/no-cpu-compare', severity: 'error', at: 'addq %rsi, (%rdi,%r8,8)' },
    { file: 'mm_cid_counter.bug-no-cid-compare.s', rule: 'setup/no-cpu-compare', severity: 'error', at: 'movq (%rdi,%r8,8), %r9' },
  ];
  it('also warns that the section of counter_add.bug-commit-outside.s does not end with a store', async () => {
    const findings = await runChecks(await bundled('counter_add.bug-commit-outside.s'));
    assert.ok(findings.some((f) => f.rule === 'commit/not-last-store' && f.severity === 'warning'));
  });
  for (const t of TWINS) {
    it(`reports ${t.rule} (${t.severity}) in ${t.file} at its broken line`, async () => {
      const findings = await runChecks(await bundled(t.file));
      const hit = findings.find((f) => f.rule === t.rule);
      assert.ok(hit, `${t.rule} not among ${findings.map((f) => f.rule).join(', ')}`);
      assert.equal(hit.severity, t.severity);
      assert.equal(hit.line, bugLine(t.file, t.at));
      assert.equal(hit.file, `asm/${t.file}`);
    });
  }
  it('tells an op that reads mm_cid early to compare it with mm_cid, not cpu_id', async () => {
    const hit = (await runChecks(await bundled('mm_cid_counter.bug-no-cid-compare.s'))).find((f) => f.rule === 'setup/no-cpu-compare');
    assert.match(hit?.message ?? '', /comparing it with mm_cid: a migration or a change of concurrency id/);
  });
  it('tells an op that reads cpu_id early to compare it with cpu_id', async () => {
    const hit = (await runChecks(await bundled('counter_add.bug-no-cpu-compare.s'))).find((f) => f.rule === 'setup/no-cpu-compare');
    assert.match(hit?.message ?? '', /comparing it with cpu_id: a migration between/);
  });
});

describe('check on code in the styles of other projects', function () {
  this.timeout(30_000);
  const source = (name: string) => readFileSync(FIXTURES + name, 'utf8');
  const check = async (name: string) => runChecks(await loadProgram(FIXTURES + name));
  /** The fixture with one piece of it replaced, assembled under its own name. */
  const broken = async (name: string, from: string, to: string) => {
    assert.ok(source(name).includes(from), `${name} has no '${from}'`);
    return runChecks(await inline(source(name).replace(from, to), name));
  };
  const rules = (findings: Finding[]) => serious(findings).map((s) => s.replace(/^.*: /, ''));

  it('reports nothing in Intel syntax reaching the area as fs:0 + __rseq_offset', async () => {
    assert.deepEqual(await check('intel_counter_add.s'), []);
  });
  it('sees the missing cpu compare when the same Intel code drops it', async () => {
    assert.deepEqual(rules(await broken('intel_counter_add.s', '\tcmp r8d, dword ptr [rcx + 4]\n\tjne .Labort\n', '')), ['setup/no-cpu-compare']);
  });
  it('reports nothing in glibc-style code reaching the area as %fs:16 + __rseq_offset through lea', async () => {
    assert.deepEqual(await check('glibc_style.s'), []);
  });
  it('sees the missing cpu compare when the same glibc-style code drops it', async () => {
    assert.deepEqual(rules(await broken('glibc_style.s', '\tcmpl 4(%r11), %r8d\n\tjne .Lpush_abort\n', '')), ['setup/no-cpu-compare']);
  });
  it('reports nothing in librseq-style code that receives the cpu and __rseq_offset in registers', async () => {
    assert.deepEqual(await check('librseq_style.s'), []);
  });
  it('sees that librseq-style code storing the descriptor into rseq->flags instead never arms the section', async () => {
    assert.deepEqual(rules(await broken('librseq_style.s', 'movq %rax, %fs:8(%rcx)', 'movq %rax, %fs:16(%rcx)')), ['setup/unarmed-entry']);
  });
  it('gives tcmalloc-style code (absolute %fs: stores, nopl signature, no pointer array) only the missing-table warning and a note', async () => {
    assert.deepEqual((await check('tcmalloc_style.s')).map((f) => `${f.severity} ${f.rule}`), ['warning table/missing-descriptor', 'note abort/signature-form']);
  });
  it('learns the area offset from an absolute %fs: store of a listed descriptor and checks cpu reads there', async () => {
    assert.deepEqual(rules(await check('tcmalloc_tpoff.bug-no-cpu-compare.s')), ['setup/no-cpu-compare']);
  });
});
