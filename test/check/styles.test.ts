// `check` on rseq code written the way other projects write it, from fixtures written for these
// tests: gcc's output of librseq-style inline asm (compiled here with the installed gcc), kernel-
// selftest-style code on the TLS __rseq_abi, and a TCMalloc-style .S with GOT-loaded descriptors and
// a nopl-carried signature. Correct code gets no error and no warning (and the K = 2 exploration
// passes); each planted bug is an error at the instruction that has it.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSymbol, lineAt, type Image } from '../../src/asm/image.js';
import { preprocess } from '../../src/asm/preprocess.js';
import { readRseqTables, type CriticalSection } from '../../src/abi/tables.js';
import { runChecks } from '../../src/check/run-checks.js';
import type { Finding } from '../../src/check/finding.js';
import { explore } from '../../src/explore/explorer.js';
import { assembleSource } from '../../src/program.js';
import { parseMemorySpec, parseThreadSpecs, type Scenario } from '../../src/scenario/scenario.js';
import { serious } from './support.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rseq-emu-styles-'));

/** `gcc FLAGS -S` of a C fixture with the installed gcc, assembled; the .s stays in a temporary directory. */
async function gccOutput(c: string, flags: string[]): Promise<Image> {
  const out = join(work, `${basename(c, '.c')}${flags.join('')}.s`);
  execFileSync('gcc', [...flags, '-S', '-o', out, FIXTURES + c]);
  return assembleSource(readFileSync(out, 'utf8'), out);
}

/** The critical sections of a function (by its symbol and .size). */
function sectionsOf(image: Image, fn: string): CriticalSection[] {
  const s = findSymbol(image, fn);
  assert.ok(s?.size, `no sized function ${fn}`);
  return readRseqTables(image).sections.filter((cs) => cs.startIp >= s.address && cs.startIp < s.address + s.size!);
}

/** The findings of `rule` inside one function's code. */
function inFunction(image: Image, findings: readonly Finding[], fn: string, rule: string): Finding[] {
  const s = findSymbol(image, fn)!;
  return findings.filter((f) => f.rule === rule && f.address >= s.address && f.address < s.address + s.size!);
}

/** Asserts one error of `rule` in `fn`, at `where(section)`, on the source line the assembler gives that address. */
function oneErrorAt(image: Image, findings: readonly Finding[], fn: string, rule: string, where: (cs: CriticalSection) => bigint): void {
  const [cs] = sectionsOf(image, fn);
  const hits = inFunction(image, findings, fn, rule);
  assert.equal(hits.length, 1, `${fn}: ${JSON.stringify(findings.map((f) => `${f.line}: ${f.rule}`))}`);
  assert.equal(hits[0]!.severity, 'error');
  assert.equal(hits[0]!.address, where(cs!));
  assert.equal(hits[0]!.line, lineAt(image, where(cs!))!.loc.line);
}

// Each level, and with -DOWN_RSEQ_OFFSET the offset read from the code's own copy of __rseq_offset, as librseq does.
const OPTIMISATIONS = [['-O2'], ['-O2', '-fPIC'], ['-Os'], ['-O3'], ['-O1'], ['-O2', '-DOWN_RSEQ_OFFSET'], ['-O2', '-fPIC', '-DOWN_RSEQ_OFFSET'], ['-Os', '-DOWN_RSEQ_OFFSET']];
const LIBRSEQ_OPS = ['percpu_counter_add', 'percpu_counter_add_once', 'percpu_list_push', 'percpu_buffer_push'];

describe('check on code in the styles of librseq, the kernel selftests and TCMalloc', function () {
  this.timeout(60_000);

  describe('gcc output of librseq-style inline asm (fixtures/gcc/librseq_ops.c)', () => {
    for (const flags of OPTIMISATIONS) {
      it(`reports no error and no warning in the ${flags.join(' ')} output of the correct ops`, async () => {
        assert.deepEqual(serious(await runChecks(await gccOutput('gcc/librseq_ops.c', flags))), []);
      });
    }
    for (const flags of OPTIMISATIONS) {
      it(`reports the dropped cpu compare of every op in the ${flags.join(' ')} output, at the section's first instruction`, async () => {
        const image = await gccOutput('gcc/librseq_ops.c', [...flags, '-DBUG_NO_CPU_COMPARE']);
        const findings = await runChecks(image);
        for (const fn of LIBRSEQ_OPS) oneErrorAt(image, findings, fn, 'setup/no-cpu-compare', (cs) => cs.startIp);
      });
    }
    for (const flags of OPTIMISATIONS) {
      it(`reports the RMW commit after the post-commit label in the ${flags.join(' ')} output as commit/outside, at the addq`, async () => {
        const image = await gccOutput('gcc/librseq_ops.c', [...flags, '-DBUG_COMMIT_OUTSIDE']);
        const findings = await runChecks(image);
        for (const fn of ['percpu_counter_add', 'percpu_counter_add_once']) oneErrorAt(image, findings, fn, 'commit/outside', (cs) => cs.postCommitIp);
      });
    }
    it('reports no commit/outside for the cmpxchg-style ops, whose stores after the section index nothing by cpu', async () => {
      const image = await gccOutput('gcc/librseq_ops.c', ['-O2', '-DBUG_COMMIT_OUTSIDE']);
      const findings = await runChecks(image);
      for (const fn of ['percpu_list_push', 'percpu_buffer_push']) assert.deepEqual(inFunction(image, findings, fn, 'commit/outside'), []);
    });
    it('passes the K = 2 exploration of the -O2 percpu_counter_add', async () => {
      const image = await gccOutput('gcc/librseq_ops.c', ['-O2']);
      const r = explore(image, scenario(image.file, 'percpu_counter_add(counts,1)@0;percpu_counter_add(counts,10)@0;percpu_counter_add(counts,100)@1', 'counts:16'));
      assert.equal(r.verdict, 'pass', r.violations.map((v) => v.message).join('\n'));
    });
    for (const bug of ['-DBUG_COMMIT_OUTSIDE', '-DBUG_NO_CPU_COMPARE']) {
      it(`finds a lost update in the -O2 percpu_counter_add built with ${bug} by exploring it`, async () => {
        const image = await gccOutput('gcc/librseq_ops.c', ['-O2', bug]);
        const r = explore(image, scenario(image.file, 'percpu_counter_add(counts,1)@0;percpu_counter_add(counts,10)@0;percpu_counter_add(counts,100)@1', 'counts:16'), { stopAtFirst: true });
        assert.equal(r.verdict, 'fail');
        assert.equal(r.violations[0]!.kind, 'not-serializable');
      });
    }
  });

  describe('gcc output of selftest-style code on the TLS __rseq_abi (fixtures/gcc/selftest_ops.c)', () => {
    it('reports no error and no warning in the -O2 output of the correct op', async () => {
      assert.deepEqual(serious(await runChecks(await gccOutput('gcc/selftest_ops.c', ['-O2']))), []);
    });
    it('reports the dropped cpu compare, at the section\'s first instruction', async () => {
      const image = await gccOutput('gcc/selftest_ops.c', ['-O2', '-DBUG_NO_CPU_COMPARE']);
      oneErrorAt(image, await runChecks(image), 'percpu_counter_add', 'setup/no-cpu-compare', (cs) => cs.startIp);
    });
  });

  describe('a TCMalloc-style .S (fixtures/tcmalloc/percpu_ops.S)', () => {
    const FILE = `${FIXTURES}tcmalloc/percpu_ops.S`;
    const build = (define?: string) => assembleSource(preprocess(FILE, { CPPFLAGS: define ?? '' }), FILE);
    /** The line of the first line containing `text` after the line containing `marker`. */
    const lineAfter = (marker: string, text: string) => {
      const lines = readFileSync(FILE, 'utf8').split('\n');
      const from = lines.findIndex((l) => l.includes(marker));
      return lines.findIndex((l, i) => i > from && l.includes(text)) + 1;
    };
    it('follows the GOT-loaded descriptors into rseq_cs: no error, no warning', async () => {
      const findings = await runChecks(await build());
      assert.deepEqual(serious(findings), []);
      assert.deepEqual(findings.map((f) => f.rule), ['abort/signature-form', 'abort/signature-form']);
    });
    it('reports a cpu read before arming and never compared, at the addq that uses it', async () => {
      const hits = (await runChecks(await build('-DBUG_CPU_READ_EARLY'))).filter((f) => f.severity === 'error');
      assert.deepEqual(hits.map((f) => [f.rule, f.line]), [['setup/no-cpu-compare', lineAfter('#else', 'addq %rsi')]]);
    });
    it('reports the RMW commit after the commit label as commit/outside, at the addq', async () => {
      const hits = (await runChecks(await build('-DBUG_COMMIT_OUTSIDE'))).filter((f) => f.severity === 'error');
      assert.deepEqual(hits.map((f) => [f.rule, f.line]), [['commit/outside', lineAfter('#ifdef BUG_COMMIT_OUTSIDE', 'addq %rsi')]]);
    });
    it('passes the K = 2 exploration of percpu_add', async () => {
      const image = await build();
      const r = explore(image, scenario(FILE, 'percpu_add(slots,1)@0;percpu_add(slots,10)@0;percpu_add(slots,100)@1', 'slots:16'));
      assert.equal(r.verdict, 'pass', r.violations.map((v) => v.message).join('\n'));
    });
    for (const bug of ['-DBUG_CPU_READ_EARLY', '-DBUG_COMMIT_OUTSIDE']) {
      it(`finds a lost update in percpu_add built with ${bug} by exploring it`, async () => {
        const r = explore(await build(bug), scenario(FILE, 'percpu_add(slots,1)@0;percpu_add(slots,10)@0;percpu_add(slots,100)@1', 'slots:16'), { stopAtFirst: true });
        assert.equal(r.verdict, 'fail');
        assert.equal(r.violations[0]!.kind, 'not-serializable');
      });
    }
  });
});

function scenario(source: string, threads: string, memory: string): Scenario {
  return {
    source, cpus: 2, profile: undefined, registration: 'glibc', memory: [parseMemorySpec(memory)],
    threads: parseThreadSpecs(threads, 2), invariants: [], maxInstructions: undefined,
  };
}
