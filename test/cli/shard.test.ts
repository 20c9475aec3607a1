// `explore --shard I/N` in N processes, then `rseq-emu merge`: the merge reports what the unsharded
// run reports — verdict, violations (kind, message, schedule) in the same order, schedule count —
// and refuses results that are not the N shards of one search with one line and exit 2.
import { strict as assert } from 'node:assert';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process, without blocking the others running at the same time. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: child.exitCode ?? (error ? -1 : 0), stdout, stderr });
    });
  });
}

function cliSync(...args: string[]): Run {
  const r = spawnSync(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The searches compared: a bundled correct scenario, its broken twin (exhaustive, the shards on two
 * workers each), and PCT, all without the state cache, whose skips depend on what each process met
 * (so they must equal the unsharded run exactly); and the twin with the cache (the default), where
 * the verdict and the violations found must be the same but which schedule finds one may differ.
 */
const SEARCHES = {
  correct: ['examples/scenarios/counter.json', '--preemptions', '1', '--no-state-cache'],
  twin: ['examples/scenarios/counter-commit-outside.json', '--preemptions', '2', '--no-state-cache'],
  pct: ['examples/scenarios/counter-commit-outside.json', '--mode', 'pct', '--runs', '60', '--seed', '3'],
  cached: ['examples/scenarios/counter-commit-outside.json', '--preemptions', '2'],
} as const;
const EXACT: readonly string[] = ['correct', 'twin', 'pct'];
type Name = keyof typeof SEARCHES;
const N = 3;

describe('explore --shard and merge', function () {
  this.timeout(600_000);
  let dir: string;
  const whole = {} as Record<Name, Record<string, unknown> & { violations: { kind: string; message: string; schedule: string }[] }>;
  const shardFiles = {} as Record<Name, string[]>;
  const shardCodes = {} as Record<Name, number[]>;
  const path = (name: string) => join(dir, name);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-shard-'));
    const jobs: Promise<void>[] = [];
    for (const name of Object.keys(SEARCHES) as Name[]) {
      const args = [...SEARCHES[name]];
      const workers = name === 'twin' ? '2' : '1';
      jobs.push(cli('explore', ...args, '--workers', '1', '--json').then((r) => {
        assert.equal(r.stderr, '');
        whole[name] = JSON.parse(r.stdout);
      }));
      shardFiles[name] = [];
      shardCodes[name] = [];
      for (let i = 1; i <= N; i++) {
        const file = path(`${name}-${i}.json`);
        shardFiles[name].push(file);
        jobs.push(cli('explore', ...args, '--shard', `${i}/${N}`, '--workers', workers, '--json').then((r) => {
          assert.equal(r.stderr, '');
          writeFileSync(file, r.stdout);
          shardCodes[name][i - 1] = r.code;
        }));
      }
    }
    await Promise.all(jobs);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of Object.keys(SEARCHES) as Name[]) {
    describe(`${name}: ${SEARCHES[name].join(' ')}`, () => {
      if (!EXACT.includes(name)) {
        it('merges its 3 shards into the verdict and the set of violations (kind and message) of the unsharded run', async () => {
          const r = await cli('merge', ...shardFiles[name], '--json');
          const m = JSON.parse(r.stdout) as { verdict: string; violations: { kind: string; message: string }[] };
          const found = (vs: { kind: string; message: string }[]) => [...new Set(vs.map((v) => `${v.kind}: ${v.message}`))].sort();
          assert.equal(m.verdict, whole[name].verdict);
          assert.deepEqual(found(m.violations), found(whole[name].violations));
        });
        return;
      }
      it('merges its 3 shards into the verdict, violations and schedule count of the unsharded run', async () => {
        const r = await cli('merge', ...shardFiles[name], '--json');
        const m = JSON.parse(r.stdout);
        assert.equal(m.verdict, whole[name].verdict);
        assert.equal(r.code, whole[name].verdict === 'pass' ? 0 : 1);
        assert.deepEqual(m.violations, whole[name].violations);
        assert.equal(m.violationCount, whole[name].violationCount);
        assert.equal(m.schedules, whole[name].schedules);
        assert.equal(m.complete, true);
        assert.equal(m.shards, N);
      });
      it('exits like explore in every shard: 1 for a shard that found a violation, else 0', () => {
        assert.deepEqual(shardCodes[name], shardFiles[name].map((f) => (JSON.parse(readFileSync(f, 'utf8')).violationCount > 0 ? 1 : 0)));
      });
    });
  }

  it('finds violations in the broken twin and none in the correct scenario', () => {
    assert.equal(whole.correct.verdict, 'pass');
    assert.ok(whole.twin.violations.length > 50, `${whole.twin.violations.length} violations`);
    assert.ok(whole.pct.violations.length > 0);
  });

  it('prints in text each violation with its replay schedule, in order, and the verdict with the shard count', async () => {
    const r = await cli('merge', ...shardFiles.twin);
    const lines = r.stdout.split('\n');
    const expected = whole.twin.violations.slice(0, 20).flatMap((v) => [`${v.kind}: ${v.message}`, `  replay: --schedule '${v.schedule}'`]);
    assert.deepEqual(lines.slice(0, expected.length), expected);
    assert.match(r.stdout, new RegExp(`^fail: ${whole.twin.schedules} schedules \\(every schedule within 2 deviations\\) in 3 shards, .*, ${whole.twin.violationCount} violations, profile linux$`, 'm'));
  });

  describe('refusals, each one line on stderr and exit 2', () => {
    const refused = (r: Run, pattern: RegExp) => {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    };
    it('refuses a missing shard, naming it', () => refused(cliSync('merge', shardFiles.twin[0]!, shardFiles.twin[2]!), /^rseq-emu: shard 2 of 3 missing/));
    it('refuses a shard given twice, naming both files', () => refused(cliSync('merge', ...shardFiles.twin, shardFiles.twin[1]!), /shard 2\/3 given twice/));
    it('refuses shards of different scenarios', () => refused(cliSync('merge', shardFiles.twin[0]!, shardFiles.correct[1]!, shardFiles.twin[2]!), /correct-2\.json: a shard of another scenario/));
    it('refuses shards of the same scenario searched with other options', () => refused(cliSync('merge', shardFiles.twin[0]!, shardFiles.pct[1]!, shardFiles.twin[2]!), /pct-2\.json: searched with mode "pct", but .*twin-1\.json with "exhaustive"/));
    it('refuses an explore result written without --shard', () => {
      writeFileSync(path('plain.json'), JSON.stringify(whole.correct));
      refused(cliSync('merge', path('plain.json')), /plain\.json: no "format" key/);
    });
    it('refuses a file that does not exist', () => refused(cliSync('merge', path('nothing.json')), /cannot read .*nothing\.json: ENOENT/));
    it('refuses merge without files', () => refused(cliSync('merge'), /missing RESULT\.json/));
    for (const bad of ['0/3', '4/3', '1/0', '3', 'x/y']) {
      it(`refuses --shard ${bad}`, () => refused(cliSync('explore', 'examples/scenarios/counter.json', '--shard', bad), /^rseq-emu: --shard .*\(see 'rseq-emu explore --help'\)$/m));
    }
  });

  it('lists merge in the usage and --shard in explore --help', () => {
    assert.match(cliSync('--help').stdout, /rseq-emu merge RESULT\.json\.\.\. \[--json\]/);
    assert.match(cliSync('explore', '--help').stdout, /\[--shard I\/N\]/);
  });
});
