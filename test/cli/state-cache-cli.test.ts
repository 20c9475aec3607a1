// `explore --state-cache`, `--no-state-cache` and `--state-cache-entries N` (issue 14).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { counterScenarioJson, writePeekScenario } from '../explore/fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const EXPLORE = ['explore', 'examples/scenarios/counter-commit-outside.json', '--preemptions', '1', '--workers', '1', '--json'];

describe('explore and the state cache', function () {
  this.timeout(240_000);

  it('reports the cache in --json with --state-cache, and none with --no-state-cache, with the same verdict and violations', () => {
    const on = JSON.parse(cli(...EXPLORE, '--state-cache').stdout);
    const off = JSON.parse(cli(...EXPLORE, '--no-state-cache').stdout);
    assert.equal(typeof on.stateCache.hits, 'number');
    assert.equal(typeof on.stateCache.entries, 'number');
    assert.equal(off.stateCache, undefined);
    assert.equal(on.verdict, off.verdict);
    const found = (j: { violations: { kind: string; message: string }[] }) => [...new Set(j.violations.map((v) => `${v.kind}: ${v.message}`))].sort();
    assert.deepEqual(found(on), found(off));
  });

  it('says in --json and in its text when runs read bytes an aborted attempt left, so the search ran again', () => {
    const peek = writePeekScenario();
    const args = ['explore', peek, '--preemptions', '2', '--kinds', 'preempt', '--workers', '1'];
    const json = JSON.parse(cli(...args, '--json').stdout);
    assert.equal(json.verdict, 'fail');
    assert.ok(json.scratchRounds >= 2, JSON.stringify(json.scratchRounds));
    assert.match(cli(...args).stdout, /searched \d times \(runs read bytes an aborted attempt left\)/);
  });

  it('says in --json and in its text when a thread stored to bytes a load the search had moved would read, so the search ran again', () => {
    // counter_add's twin that loads the counter before it arms its section, in the three-thread scenario.
    const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-late-'));
    writeFileSync(join(dir, 'late.json'), JSON.stringify(counterScenarioJson('counter_add.bug-late-rseq-cs.s')));
    const args = ['explore', join(dir, 'late.json'), '--preemptions', '2', '--workers', '1'];
    const json = JSON.parse(cli(...args, '--json').stdout);
    assert.equal(json.verdict, 'fail');
    assert.ok(json.scratchRounds >= 2 && json.roundReasons.includes('loads'), JSON.stringify([json.scratchRounds, json.roundReasons]));
    assert.match(cli(...args).stdout, /searched \d times \(another thread stored to bytes a load it had moved would read\)/);
  });

  it('says nothing of rounds when no run read such a byte', () => {
    const json = JSON.parse(cli('explore', 'examples/scenarios/memcpy-buffer.json', '--preemptions', '2', '--kinds', 'preempt', '--workers', '1', '--json').stdout);
    assert.equal(json.scratchRounds, undefined);
    assert.equal(json.verdict, 'pass');
  });

  it('--cross-check searches without the cache too and says the two agree, exiting with the verdict', () => {
    const r = cli('explore', 'examples/scenarios/counter-commit-outside.json', '--workers', '1', '--cross-check');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /\ncross-check: the search without the state cache agrees: fail, the same \d+ distinct violations \(\d+ schedules in [\d.]+ s with the state cache, \d+ schedules in [\d.]+ s without\)\n$/);
  });

  it('--cross-check puts both searches and their comparison in --json', () => {
    const r = cli('explore', 'examples/scenarios/counter.json', '--workers', '1', '--cross-check', '--json');
    assert.equal(r.code, 0, r.stderr);
    const { crossCheck } = JSON.parse(r.stdout);
    assert.equal(crossCheck.outcome, 'agree');
    assert.equal(crossCheck.without.verdict, 'pass');
    assert.ok(crossCheck.without.schedules > crossCheck.withCache.schedules, JSON.stringify(crossCheck));
  });

  it('--cross-check refuses, in one line, what would leave the two searches nothing to compare', () => {
    for (const [flags, said] of [[['--no-state-cache'], /leave out --state-cache and --no-state-cache/], [['--mode', 'pct'], /applies to --mode exhaustive/], [['--shard', '1/2'], /leave out --shard/], [['--stop-at-first'], /leave out --stop-at-first/]] as const) {
      const r = cli('explore', 'examples/scenarios/counter.json', '--cross-check', ...flags);
      assert.equal(r.code, 2, flags.join(' '));
      assert.match(r.stderr, said);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('uses the cache by default from K = 2 on, and not below', () => {
    const at = (k: string) => JSON.parse(cli('explore', 'examples/scenarios/counter-commit-outside.json', '--preemptions', k, '--workers', '1', '--stop-at-first', '--json').stdout);
    assert.equal(typeof at('2').stateCache?.hits, 'number');
    assert.equal(at('1').stateCache, undefined);
  });

  it('refuses --state-cache with --no-state-cache, with one line and exit 2', () => {
    const r = cli('explore', 'examples/scenarios/counter.json', '--state-cache', '--no-state-cache');
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('says so in the text report when --state-cache-entries caps the cache', () => {
    const r = cli('explore', 'examples/scenarios/counter-two-threads.json', '--preemptions', '2', '--workers', '1', '--state-cache', '--state-cache-entries', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pass: .*; \d+ explored states? skipped \(state cache full\)$/m);
  });

  it('refuses a cap of 0 with one line and exit 2', () => {
    const r = cli('explore', 'examples/scenarios/counter.json', '--state-cache-entries', '0');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /state-cache-entries/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
