// The three outputs of `check`: text lines, the JSON object, and a SARIF 2.1.0 log that validates
// against the official schema (vendored in test/check/schema, see its README).
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { RULES, type Finding } from '../../src/check/finding.js';
import { runChecks } from '../../src/check/run-checks.js';
import { findingsJson } from '../../src/report/findings-json.js';
import { findingLine, findingsText } from '../../src/report/findings-text.js';
import { findingsSarif } from '../../src/report/sarif.js';
import { ASM_DIR, bundled } from '../support/program.js';

const SCHEMA = JSON.parse(readFileSync(fileURLToPath(new URL('./schema/sarif-2.1.0-rtm.5.json', import.meta.url)), 'utf8'));

/**
 * The schema is draft-04, hence ajv-draft-04. Its language-tag pattern has a stray `]` that is
 * invalid as a Unicode regular expression, so patterns are compiled without the `u` flag.
 * (Both packages are CommonJS; under NodeNext their classes are the `default` export.)
 */
function sarifValidator() {
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
  ajvFormats.default(ajv);
  return ajv.compile(SCHEMA);
}

const sample: Finding[] = [
  { rule: 'descriptor/version', severity: 'error', message: 'version 1', address: 0x401000n, file: 'asm/x.s', line: 12 },
  { rule: 'table/unlisted-exit', severity: 'warning', message: 'jumps out', address: 0x400020n, file: 'asm/x.s', line: 30 },
  { rule: 'commit/try-store', severity: 'note', message: 'stores early', address: 0x400024n, file: '/tmp/abs dir/y.s', line: null },
];

describe('check reports', () => {
  describe('text', () => {
    it('prints one `file:line: severity rule-id message` line per finding', () => {
      assert.equal(findingsText(sample.slice(0, 2)), 'asm/x.s:12: error descriptor/version version 1\nasm/x.s:30: warning table/unlisted-exit jumps out\n');
    });
    it('prints `file:` alone when no source line covers the address', () => {
      assert.equal(findingLine(sample[2]!), '/tmp/abs dir/y.s: note commit/try-store stores early');
    });
    it('prints nothing when there is no finding', () => {
      assert.equal(findingsText([]), '');
    });
    it('colours the severity only when asked to, keeping the same words', () => {
      const line = findingLine(sample[0]!, true);
      assert.match(line, /\x1b\[1;31merror\x1b\[0m/);
      assert.equal(line.replace(/\x1b\[[0-9;]*m/g, ''), findingLine(sample[0]!));
    });
  });

  describe('json', () => {
    it('gives rule, severity, message, hex address, file and line for each finding', () => {
      assert.deepEqual(findingsJson(sample.slice(0, 1)), {
        findings: [{ rule: 'descriptor/version', severity: 'error', message: 'version 1', address: '0x401000', file: 'asm/x.s', line: 12 }],
      });
    });
    it('gives line null when no source line covers the address', () => {
      assert.equal(findingsJson(sample.slice(2)).findings[0]!.line, null);
    });
  });

  describe('sarif', function () {
    this.timeout(20_000);
    it('validates against the SARIF 2.1.0 schema', () => {
      const validate = sarifValidator();
      const log = JSON.parse(JSON.stringify(findingsSarif(sample)));
      assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    });
    it('validates with no findings at all', () => {
      const validate = sarifValidator();
      assert.ok(validate(JSON.parse(JSON.stringify(findingsSarif([])))), JSON.stringify(validate.errors, null, 2));
    });
    it('validates for the findings of every broken twin', async () => {
      const validate = sarifValidator();
      for (const twin of readdirSync(ASM_DIR).filter((f) => f.includes('.bug-'))) {
        const log = JSON.parse(JSON.stringify(findingsSarif(await runChecks(await bundled(twin)))));
        assert.ok(log.runs[0].results.length > 0);
        assert.ok(validate(log), `${twin}: ${JSON.stringify(validate.errors, null, 2)}`);
      }
    });
    it('rejects a log the schema forbids, so the validation is real', () => {
      const validate = sarifValidator();
      const log = JSON.parse(JSON.stringify(findingsSarif(sample)));
      log.runs[0].results[0].level = 'fatal';
      assert.equal(validate(log), false);
    });
    it('places each result at its file (relative to %SRCROOT%) and line, with its rule and level', () => {
      const result = (findingsSarif(sample) as any).runs[0].results[0];
      assert.equal(result.ruleId, 'descriptor/version');
      assert.equal(result.level, 'error');
      assert.deepEqual(result.locations[0].physicalLocation.artifactLocation, { uri: 'asm/x.s', uriBaseId: '%SRCROOT%' });
      assert.deepEqual(result.locations[0].physicalLocation.region, { startLine: 12 });
      assert.equal(result.locations[0].physicalLocation.address.absoluteAddress, 0x401000);
    });
    it('gives an absolute path as a file: URI', () => {
      const result = (findingsSarif(sample) as any).runs[0].results[2];
      assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'file:///tmp/abs%20dir/y.s');
    });
    it('describes every rule of the catalog, and points each result at its rule', () => {
      const run = (findingsSarif(sample) as any).runs[0];
      assert.deepEqual(run.tool.driver.rules.map((r: { id: string }) => r.id), Object.keys(RULES));
      for (const r of run.results) assert.equal(run.tool.driver.rules[r.ruleIndex].id, r.ruleId);
    });
  });
});
