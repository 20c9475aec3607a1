// Bad input is a feature: every mistake a user can make ends as exactly one line on stderr and
// exit 2, never a hang, a crash or a multi-line dump.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with exactly one stderr line matching `pattern`. */
function badInput(r: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
}

describe('bad input on the command line', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-bad-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('usage errors', () => {
    for (const command of ['run', 'check', 'explore', 'disasm', 'step']) {
      it(`names the problem in one line and points to 'rseq-emu ${command} --help' when ${command} has no file`, () => {
        badInput(cli(command), new RegExp(`missing .*\\(see 'rseq-emu ${command} --help'\\)$`));
      });
    }
    it('names an unknown option in one line', () => {
      badInput(cli('run', 'asm/counter_add.s', '--entyr', 'x'), /unknown option --entyr \(see 'rseq-emu run --help'\)/);
    });
    it('names an unknown command and the known ones in one line', () => {
      badInput(cli('frobnicate'), /unknown command 'frobnicate' \(commands: run, disasm, check, explore/);
    });
    it('prints the full usage of a command for COMMAND --help, exit 0', () => {
      const r = cli('explore', '--help');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^usage: rseq-emu explore/);
      assert.match(r.stdout, /--preemptions K/);
    });
  });

  describe('input files', () => {
    it('refuses a FIFO as a source instead of blocking on it', () => {
      const fifo = join(dir, 'pipe.s');
      spawnSync('mkfifo', [fifo]);
      badInput(cli('check', fifo), /not a regular file/);
    });
    it('refuses a directory as a source', () => {
      badInput(cli('check', dir), /is a directory/);
    });
    it('escapes a newline in a path so the error stays on one line', () => {
      badInput(cli('check', 'missing\nfile.s'), /cannot read missing\\nfile\.s: ENOENT/);
    });
    it('stops a preprocessor that includes /dev/zero with one line, within its memory bound', () => {
      const s = join(dir, 'zero.S');
      writeFileSync(s, '#include "/dev/zero"\n');
      badInput(cli('check', s), /the C preprocessor (failed|ran over|'s output is over)/);
    });
  });

  describe('scenario files', () => {
    it('refuses JSON nested deeper than 64 levels at its position instead of overflowing the stack', () => {
      const f = join(dir, 'deep.json');
      writeFileSync(f, `{"source":"x.s","threads":${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
      badInput(cli('run', f), /deep\.json:1:\d+: invalid JSON: nested deeper than 64 levels/);
    });
    it('refuses more threads than the limit before creating any', () => {
      const f = join(dir, 'many.json');
      const threads = Array.from({ length: 5000 }, () => ({ entry: 'counter_add', args: ['counters', 1] }));
      writeFileSync(f, JSON.stringify({ source: join(ROOT, 'asm/counter_add.s'), memory: { counters: { size: 16 } }, threads }));
      badInput(cli('run', f), /threads: 5000 threads, over the limit of 256/);
    });
    it('refuses regions whose total size is over the limit', () => {
      const f = join(dir, 'huge.json');
      const memory = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`r${i}`, { size: 64 << 20 }]));
      writeFileSync(f, JSON.stringify({ source: join(ROOT, 'asm/counter_add.s'), memory, threads: [{ entry: 'counter_add', args: ['r0', 1] }] }));
      badInput(cli('run', f), /memory\.r4: the regions together exceed the limit/);
    });
  });

  describe('numbers', () => {
    it('refuses an --arg past 64 bits instead of wrapping it', () => {
      badInput(cli('run', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '18446744073709551616'), /--arg 2: 18446744073709551616 does not fit in 64 bits/);
    });
    it('accepts the largest u64 and the smallest i64', () => {
      for (const v of ['18446744073709551615', '-9223372036854775808']) {
        const r = cli('run', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', v, '--json');
        assert.equal(r.code, 0, r.stderr);
      }
    });
    it('refuses a --memory init word past 64 bits', () => {
      badInput(cli('run', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16:0x10000000000000000', '--arg', 'counters', '--arg', '1'), /does not fit in 64 bits/);
    });
  });

  describe('--limit', () => {
    it('lowers a limit for one command', () => {
      badInput(cli('explore', 'examples/scenarios/counter.json', '--limit', 'threads=2'), /threads: 3 threads, over the limit of 2/);
    });
    it('refuses an unknown limit by name, listing the known ones', () => {
      badInput(cli('run', 'asm/counter_add.s', '--limit', 'bogus=3'), /unknown limit 'bogus' \(known: sourceBytes, /);
    });
    it('refuses a value above what the host can honour', () => {
      badInput(cli('check', 'asm/counter_add.s', '--limit=mappings=5000'), /--limit mappings must be 1 to 3000, not 5000/);
    });
    it('lists every limit with its value and ceiling', () => {
      const r = cli('limits', '--limit', 'traceSteps=5K');
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^traceSteps +5120 +\(at most 100000000\) instructions a trace records$/m);
      assert.match(r.stdout, /^mappings +1024 /m);
    });
  });

  describe('signals a program cannot catch', () => {
    it('kills the program when an event injects SIGKILL, with no stand-in handler', () => {
      const r = cli('run', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5', '--event', 'signal:SIGKILL@.Lcounter_add_start', '--json');
      assert.equal(r.code, 1, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.status, 'signal');
      assert.equal(j.signal, 'SIGKILL');
      assert.deepEqual(j.memory.counters.u64, ['0', '0'], 'the counter was never committed');
    });
  });
});
