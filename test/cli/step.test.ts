// `rseq-emu step` as a user meets it: the stop lines, the verdict, the JSON shape, exit codes, and
// one-line errors for bad input.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const COUNTER = ['step', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5'];
const C_LOOP = ['step', 'examples/programs/rseq-addv-loop.s', '--entry', 'main', '--by', 'next'];

describe('rseq-emu step', function () {
  this.timeout(120_000);

  it('prints each stop with its source line, instruction and resume effect, then the livelock once, and exits 1', () => {
    const r = cli(...COUNTER);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^#4 +T1 +0x400017 <\.Lcounter_add_start> +asm\/counter_add\.s:40 +cmpl %fs:4\(%rcx\), %r8d +none$/m);
    assert.match(r.stdout, /^#5 +T1 +0x400007 <\.Lcounter_add_retry> .* aborted → 0x403007 <\.Lcounter_add_abort>$/m);
    assert.match(r.stdout, /^livelock: a cycle of 4 stops repeats with no progress, closed by the abort at 0x400017 <\.Lcounter_add_start> → 0x403007 <\.Lcounter_add_abort>:$/m);
    assert.equal(r.stdout.match(/^livelock/gm)!.length, 1);
  });
  it('--json gives the verdict, the cycle and every stop', () => {
    const j = JSON.parse(cli(...COUNTER, '--json').stdout);
    assert.equal(j.verdict, 'livelock');
    assert.equal(j.rax, null);
    assert.deepEqual(j.cycle.map((c: { symbol: string }) => c.symbol), ['.Lcounter_add_retry', '.Lcounter_add_retry+4', '.Lcounter_add_retry+11', '.Lcounter_add_start']);
    assert.deepEqual(Object.keys(j.cycle[0]), ['address', 'symbol', 'line', 'text']);
    assert.equal(j.stops.length, j.steps + 1);
    assert.equal(j.aborts, 2);
  });
  it('completes under rseq-aware with the return value and exits 0', () => {
    const r = cli(...COUNTER, '--strategy', 'rseq-aware', '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.verdict, 'completed');
    assert.equal(j.rax, '0');
    assert.equal(j.aborts, 0);
    assert.deepEqual(j.memory.counters.u64, ['5', '0']);
  });
  it('completes the cpu_opv fallback op under proposal-cpu-opv, and livelocks it under linux', () => {
    const opv = ['step', 'asm/counter_add.cpu-opv.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5', '--json'];
    const done = JSON.parse(cli(...opv, '--profile', 'proposal-cpu-opv').stdout);
    assert.deepEqual([done.verdict, done.rax, done.aborts, done.memory.counters.u64], ['completed', '0', 2, ['5', '0']]);
    assert.equal(JSON.parse(cli(...opv).stdout).verdict, 'livelock');
  });
  it('starts at the first --break a thread reaches: one stepi from inside the section lands back on the retry path', () => {
    const j = JSON.parse(cli(...COUNTER, '--break', '.Lcounter_add_start+5', '--max-steps', '1', '--json').stdout);
    assert.equal(j.stops[0].symbol, '.Lcounter_add_start+5');
    assert.deepEqual([j.stops[1].symbol, j.stops[1].resume, j.stops[1].abortTo], ['.Lcounter_add_retry', 'aborted', '0x403007']);
    assert.equal(j.verdict, 'limit');
  });
  it('steps the C loop by next: the four lines cycle; rseq-aware completes', () => {
    const r = cli(...C_LOOP);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /livelock: a cycle of 4 stops/);
    for (const line of [65, 66, 67, 68]) assert.match(r.stdout, new RegExp(`^  0x[0-9a-f]+ <[^>]+> +rseq-addv-loop\\.c:${line} `, 'm'));
    const aware = cli(...C_LOOP, '--strategy', 'rseq-aware');
    assert.equal(aware.code, 0);
    assert.match(aware.stdout, /^completed: returned 1 after \d+ steps, 0 aborts seen$/m);
  });
  it('breaks at FILE:LINE of the C source', () => {
    const j = JSON.parse(cli(...C_LOOP, '--break', 'rseq-addv-loop.c:66', '--strategy', 'rseq-aware', '--json').stdout);
    assert.equal(j.stops[0].line, 'rseq-addv-loop.c:66');
  });
  it('steps a chosen thread of a scenario', () => {
    const j = JSON.parse(cli('step', 'examples/scenarios/list.json', '--thread', '3', '--strategy', 'rseq-aware', '--json').stdout);
    assert.equal(j.tid, 3);
    assert.equal(j.verdict, 'completed');
    assert.equal(j.stops[0].symbol, 'list_pop');
  });

  describe('bad input', () => {
    const oneLine = (r: { code: number; stderr: string }, pattern: RegExp) => {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    };
    it('refuses an unknown --break location', () => {
      oneLine(cli(...COUNTER, '--break', 'nowhere'), /--break nowhere: no label 'nowhere'/);
    });
    it('refuses a --break line with no code', () => {
      oneLine(cli(...C_LOOP, '--break', 'rseq-addv-loop.c:2'), /--break rseq-addv-loop\.c:2: no code for line 2/);
    });
    it('refuses --max-steps 0', () => {
      oneLine(cli(...COUNTER, '--max-steps', '0'), /--max-steps must be 1 to/);
    });
    it('refuses a scenario thread that does not exist', () => {
      oneLine(cli('step', 'examples/scenarios/counter.json', '--thread', '9'), /--thread 9: the scenario has no thread T9 \(threads: T1, T2, T3\)/);
    });
    it('refuses an unknown strategy', () => {
      oneLine(cli(...COUNTER, '--strategy', 'magic'), /--strategy must be linux, rseq-aware, no-rseq/);
    });
    it('refuses --thread without a scenario', () => {
      oneLine(cli(...COUNTER, '--thread', '2'), /--thread goes with a scenario file/);
    });
  });
});
