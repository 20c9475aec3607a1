// `rseq-emu check` as a user or CI meets it: formats, colour, exit codes, one-line errors; and the
// findings `rseq-emu run` now prints.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { variant } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = '/usr/bin/script';

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the command on a pseudo-terminal (util-linux `script`), as a person at a terminal would. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): string {
  const command = [process.execPath, 'bin/rseq-emu.js', ...args].join(' ');
  return spawnSync(SCRIPT, ['-q', '-c', command, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env }).stdout;
}

describe('rseq-emu check', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-check-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('exits 0 and prints nothing for a correct file', () => {
    assert.deepEqual(cli(['check', 'asm/counter_add.s']), { code: 0, stdout: '', stderr: '' });
  });
  it('exits 0 when the findings are only notes, and prints them', () => {
    const r = cli(['check', 'asm/buffer_push.s']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^asm\/buffer_push\.s:\d+: note commit\/try-store /);
  });
  it('exits 0 when the worst finding is a warning', () => {
    const r = cli(['check', 'test/check/fixtures/tcmalloc_style.s']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /: warning table\/missing-descriptor /);
  });
  it('exits 1 and prints `file:line: severity rule-id message` for an error', () => {
    const r = cli(['check', 'asm/counter_add.bug-version-1.s']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^asm\/counter_add\.bug-version-1\.s:33: error descriptor\/version descriptor 0x401000 <\.Lcounter_add_cs>: descriptor version 1, expected 0/);
  });
  it('prints JSON with rule, severity, message, address, file and line for --format json', () => {
    const r = cli(['check', 'asm/counter_add.bug-no-cpu-compare.s', '--format', 'json']);
    assert.equal(r.code, 1);
    const [f] = JSON.parse(r.stdout).findings;
    assert.deepEqual(Object.keys(f), ['rule', 'severity', 'message', 'address', 'file', 'line']);
    assert.equal(f.rule, 'setup/no-cpu-compare');
    assert.match(f.address, /^0x[0-9a-f]+$/);
  });
  it('prints a SARIF 2.1.0 log for --format sarif, with the same exit code', () => {
    const r = cli(['check', 'asm/counter_add.bug-wrong-signature.s', '--format=sarif']);
    assert.equal(r.code, 1);
    const log = JSON.parse(r.stdout);
    assert.equal(log.version, '2.1.0');
    assert.deepEqual(log.runs[0].results.map((x: { ruleId: string }) => x.ruleId), ['abort/signature']);
  });
  it('checks the signature given with --sig', () => {
    assert.equal(cli(['check', 'asm/counter_add.bug-wrong-signature.s', '--sig', '0x53053054']).code, 0);
    assert.match(cli(['check', 'asm/counter_add.s', '--sig', '0x53053054']).stdout, /error abort\/signature .*expected 0x53053054/);
  });
  it('prints no colour codes when stdout is not a terminal', () => {
    assert.doesNotMatch(cli(['check', 'asm/counter_add.bug-version-1.s']).stdout, /\x1b\[/);
  });
  it('colours the output on a terminal, and not when NO_COLOR is set', function () {
    if (!existsSync(SCRIPT)) this.skip();
    const env = { ...process.env };
    delete env.NO_COLOR;
    assert.match(onTerminal(['check', 'asm/counter_add.bug-version-1.s'], env), /\x1b\[1;31merror\x1b\[0m/);
    assert.doesNotMatch(onTerminal(['check', 'asm/counter_add.bug-version-1.s'], { ...env, NO_COLOR: '1' }), /\x1b\[/);
  });

  for (const [what, args, message] of [
    ['a missing file', ['check', 'no/such/file.s'], /^rseq-emu: cannot read no\/such\/file\.s: ENOENT\n$/],
    ['no file', ['check'], /^rseq-emu: missing FILE \(see 'rseq-emu check --help'\)\n$/],
    ['an unknown format', ['check', 'asm/counter_add.s', '--format', 'xml'], /^rseq-emu: --format must be text, json or sarif, not 'xml' \(see 'rseq-emu check --help'\)\n$/],
    ['a signature that is not a 32-bit number', ['check', 'asm/counter_add.s', '--sig', '0x123456789'], /^rseq-emu: --sig must be a 32-bit number/],
    ['an unknown option', ['check', 'asm/counter_add.s', '--fix'], /^rseq-emu: unknown option --fix \(see 'rseq-emu check --help'\)\n$/],
  ] as const) {
    it(`exits 2 with one line on stderr for ${what}`, () => {
      const r = cli([...args]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
    });
  }
  it('exits 2 with the location of malformed assembly', () => {
    const r = cli(['check', file('bad.s', 'f:\n  movq %rax,\n')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad\.s:2(:\d+)?: /);
  });
  it('lists check in the usage', () => {
    assert.match(cli(['help']).stdout, /rseq-emu check FILE \[--sig 0xHEX\] \[--format text\|json\|sarif\]/);
  });

  describe('and rseq-emu run', () => {
    const UNLISTED = variant(['\t.pushsection __rseq_cs, "aw"', '\t.pushsection .data, "aw"'], ['\t.quad .Lcs\n', '']);
    const RUN = ['--entry', 'f', '--memory', 'counters:16', '--arg', 'counters', '--arg', '1', '--event', 'preempt@.Lstart'];
    it('adds an empty findings array to the JSON of a run whose aborts all match the tables', () => {
      const r = cli(['run', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '1', '--event', 'preempt@.Lcounter_add_start', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).findings, []);
    });
    it('reports an abort through an unlisted descriptor in the JSON findings', () => {
      const r = cli(['run', file('unlisted.s', UNLISTED), ...RUN, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout).findings.map((f: { rule: string }) => f.rule), ['runtime/unlisted-descriptor']);
    });
    it('prints that finding as one line after the run report', () => {
      const r = cli(['run', file('unlisted.s', UNLISTED), ...RUN]);
      assert.match(r.stdout, /unlisted\.s:\d+: error runtime\/unlisted-descriptor /);
    });
  });
});
