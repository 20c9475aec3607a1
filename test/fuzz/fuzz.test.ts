// The fast, seeded part of the fuzz suite (the long run: `npm run fuzz`). Each case runs the real
// command in a child runner; it must end within its cap with exit 0, 1 or 2, one stderr line for 2,
// no internal error, and RSS under 2 GiB.
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FAMILIES, fuzzCase, prepareElfSeeds } from './generators.js';
import { fuzz, fuzzKept, judgeCase } from './harness.js';

const REGRESSIONS = fileURLToPath(new URL('./regressions/', import.meta.url));

const describeFailures = (seed: number, failures: { index: number; why: string }[]) =>
  failures.map((f) => `case ${f.index} (seed ${seed}): ${f.why}\n  ${fuzzCase(seed, f.index).argv.join(' ')}`).join('\n');

describe('fuzzing', function () {
  this.timeout(300_000);
  before(prepareElfSeeds); // describeFailures regenerates cases

  for (const family of FAMILIES) {
    it(`ends every one of 30 seeded ${family} cases cleanly`, async () => {
      const r = await fuzz(1, 0, 30, { families: [family], capSeconds: 60 });
      assert.equal(r.cases, 30);
      assert.deepEqual(r.failures, [], describeFailures(1, r.failures));
    });
  }

  it('ends every kept regression case cleanly (each named for what it once hit)', async () => {
    const names = readdirSync(REGRESSIONS).filter((f) => f.endsWith('.json')).sort();
    const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-regressions-'));
    try {
      const file = join(dir, 'cases.json');
      writeFileSync(file, JSON.stringify(names.map((n) => JSON.parse(readFileSync(REGRESSIONS + n, 'utf8')))));
      const r = await fuzzKept(file, names.length, { capSeconds: 60 });
      assert.equal(r.cases, names.length);
      assert.deepEqual(r.failures.map((f) => `${names[f.index]}: ${f.why}`), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('the judge', () => {
    const ok = { index: 0, code: 2, stderr: 'rseq-emu: x.s:1: bad\n', rssMiB: 100, ms: 5 };
    it('accepts exit 2 with one stderr line', () => assert.equal(judgeCase(ok), null));
    it('refuses exit 2 with two stderr lines', () => assert.match(judgeCase({ ...ok, stderr: 'a\nb\n' })!, /2 stderr lines/));
    it('refuses an internal error', () => assert.match(judgeCase({ ...ok, stderr: 'rseq-emu: internal error: boom\n' })!, /internal error/));
    it('refuses an exit status other than 0, 1 and 2', () => assert.match(judgeCase({ ...ok, code: 134 })!, /exit status 134/));
    it('refuses RSS over 2 GiB', () => assert.match(judgeCase({ ...ok, code: 0, stderr: '', rssMiB: 3000 })!, /RSS/));
  });

  it('reports a case that hangs and goes on with the next one', async () => {
    const r = await fuzz(1, 0, 3, { families: ['cli'], capSeconds: 3, env: { FUZZ_HANG_AT: '1' } });
    assert.equal(r.cases, 3);
    assert.deepEqual(r.failures.map((f) => f.index), [1]);
    assert.match(r.failures[0]!.why, /no result within 3 s/);
  });
});
