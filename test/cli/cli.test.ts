// The command line as a user meets it: output shapes, exit codes, and one-line errors for bad input.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { progressLine } from '../../src/cli/explore-command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function cli(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const COUNTER = ['run', 'asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5'];

describe('the rseq-emu command', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'rseq-emu-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string | Buffer) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  describe('run --json', () => {
    it('prints status, rax as an unsigned decimal string, the instruction count and each event with its outcome', () => {
      const r = cli(...COUNTER, '--event', 'preempt@.Lcounter_add_start', '--json');
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.status, 'returned');
      assert.equal(j.rax, '0');
      assert.equal(typeof j.instructions, 'number');
      assert.deepEqual(j.events.map((e: Record<string, unknown>) => [e.kind, e.ip, e.cpu, e.outcome]), [['preempt', '0x400017', 0, 'aborted']]);
      assert.deepEqual(j.memory.counters.u64, ['5', '0']);
    });
    it('prints the signal and the reason, and exits 1, when the kernel kills the program', () => {
      const r = cli('run', 'asm/counter_add.bug-version-1.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '1', '--event', 'preempt@.Lcounter_add_start', '--json');
      assert.equal(r.code, 1);
      const j = JSON.parse(r.stdout);
      assert.equal(j.status, 'signal');
      assert.equal(j.signal, 'SIGSEGV');
      assert.match(j.reason, /version 1/);
      assert.equal(j.events[0].outcome, 'sigsegv');
    });
    it('prints a negative return value as its unsigned 64-bit decimal', () => {
      const src = file('neg.s', 'f: movq $-1, %rax\n ret\n');
      assert.equal(JSON.parse(cli('run', src, '--entry', 'f', '--json').stdout).rax, '18446744073709551615');
    });
    it('reports a runaway loop as status limit and exits 1', () => {
      const src = file('loop.s', 'f: jmp f\n');
      const r = cli('run', src, '--entry', 'f', '--max-insns', '1000', '--json');
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.stdout).status, 'limit');
    });
    it('lists a system call repeated in a loop by its first and last call, with where and how often in syscallRepeats', () => {
      const src = file('yield.s', 'f: movl $24, %eax\n syscall\n jmp f\n');
      const r = cli('run', src, '--entry', 'f', '--max-insns', '30000', '--json');
      const j = JSON.parse(r.stdout);
      assert.equal(r.code, 1);
      assert.equal(j.syscallCount, 10000);
      assert.equal(j.syscalls.length, 2);
      assert.deepEqual(j.syscalls.map((s: { name: string; ret: string }) => [s.name, s.ret]), [['sched_yield', '0'], ['sched_yield', '0']]);
      assert.deepEqual(j.syscallRepeats, [{ first: 0, last: 1, period: 1, times: 10000 }]);
    });
    it('reports an unmapped access as status fault with the address', () => {
      const r = cli(...COUNTER.slice(0, 6), '--arg', '0x1234', '--arg', '1', '--json');
      const j = JSON.parse(r.stdout);
      assert.equal(r.code, 1);
      assert.deepEqual([j.status, j.signal, j.faultAddress], ['fault', 'SIGSEGV', '0x1234']);
    });
  });

  describe('run --trace', () => {
    it('prints each executed instruction with its address, bytes, text and section marks, and the event in between', () => {
      const r = cli(...COUNTER, '--event', 'preempt@.Lcounter_add_start', '--trace');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /#1 +T1 cpu0 +0x400000 <counter_add> +48 8b 0d f9 ff ef ff +movq -0x100007\(%rip\), %rcx {2}# __rseq_offset/);
      assert.match(r.stdout, /-- preempt@\.Lcounter_add_start: preempt of T1 at 0x400017 <\.Lcounter_add_start>, now on cpu0: aborted → resumes at 0x403007/);
      assert.match(r.stdout, /cmpl %fs:4\(%rcx\), %r8d {2}\[cs0:start\]/);
      assert.match(r.stdout, /\[cs0 cs0:commit\]/);
    });
  });

  describe('disasm', () => {
    it('marks each critical section\'s start, commit, post-commit point, abort handler and signature', () => {
      const r = cli('disasm', 'asm/counter_add.s');
      assert.equal(r.code, 0, r.stderr);
      for (const mark of ['cs0:start', 'cs0:commit', 'cs0:post-commit', 'cs0:abort', 'cs0:signature']) assert.match(r.stdout, new RegExp(`\\[[^\\]]*${mark}`));
      assert.match(r.stdout, /signature 0x53053053 \(ud1 form\)/);
    });
    it('shows a wrong signature with the value the kernel expects', () => {
      assert.match(cli('disasm', 'asm/counter_add.bug-wrong-signature.s').stdout, /signature 0x53053054 \(expected 0x53053053\)/);
    });
  });

  describe('real files: inline asm and undefined functions', () => {
    // The broken counter_add as gcc -S would carry it: inside #APP markers, after C code.
    const inlineAsm = () => {
      const body = readFileSync(join(ROOT, 'asm/counter_add.bug-version-1.s'), 'utf8');
      return file('gcc-style.s', ['\t.text', 'helper:', '\tret', '#APP', '# 12 "op.c" 1', body, '# 0 "" 2', '#NO_APP', '\tret', ''].join('\n'));
    };
    it('check names the .s file and its own line for a finding inside inline asm', () => {
      const src = inlineAsm();
      const r = cli('check', src, '--format', 'json');
      assert.equal(r.code, 1, r.stderr);
      const version = JSON.parse(r.stdout).findings.find((f: { rule: string }) => f.rule === 'descriptor/version');
      // The descriptor's `.long 1, 0` is line 33 of the original file, after 5 lines in front of it here.
      assert.deepEqual([version.file, version.line], [src, 38]);
    });
    it('check --format sarif gives a finding inside inline asm its file uri', () => {
      const sarif = JSON.parse(cli('check', inlineAsm(), '--format', 'sarif').stdout);
      const uris = sarif.runs[0].results.map((x: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }) => x.locations[0]!.physicalLocation.artifactLocation.uri);
      assert.ok(uris.length > 0 && uris.every((u: string) => u.endsWith('gcc-style.s')), JSON.stringify(uris));
    });
    const caller = () => file('caller.s', 'f: testq %rdi, %rdi\n jz 1f\n call printf@PLT\n1: movl $7, %eax\n ret\n');
    it('check accepts a file that calls a function it does not define', () => {
      const r = cli('check', caller());
      assert.equal(r.code, 0, r.stderr);
    });
    it('run returns normally when the undefined function is not called', () => {
      const r = cli('run', caller(), '--entry', 'f', '--arg', '0', '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).rax, '7');
    });
    it('run kills the program naming the undefined function when it is called, and exits 1', () => {
      const r = cli('run', caller(), '--entry', 'f', '--arg', '1', '--json');
      assert.equal(r.code, 1, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.status, 'fault');
      assert.match(j.reason, /called undefined function 'printf'/);
    });
    it('run --event accepts a numeric label as the location', () => {
      const src = file('numeric.s', 'f: nop\n5 : movl $1, %eax\n ret\n');
      const r = cli('run', src, '--entry', 'f', '--event', 'preempt@5', '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).events[0].ip, '0x400001');
    });
  });

  describe('bad input', () => {
    const oneLine = (r: { code: number; stderr: string }, pattern: RegExp) => {
      assert.equal(r.code, 2);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    };
    it('names file, line and column of malformed assembly', () => {
      oneLine(cli('run', file('bad.s', 'f:\n  movq %rax, %rbx\n  bogus %rax\n'), '--entry', 'f'), /bad\.s:3:3: .*bogus %rax/);
    });
    it('refuses a binary file with one line', () => {
      oneLine(cli('run', file('bin.s', Buffer.from([1, 2, 0, 3, 4])), '--entry', 'f'), /not a text assembly file/);
    });
    it('refuses an ELF file with one line', () => {
      oneLine(cli('run', file('a.out', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0])), '--entry', 'f'), /is an ELF file/);
    });
    it('refuses a missing file', () => {
      oneLine(cli('disasm', join(dir, 'missing.s')), /cannot read .*missing\.s: ENOENT/);
    });
    it('refuses an entry symbol that does not exist', () => {
      oneLine(cli('run', 'asm/counter_add.s', '--entry', 'nope'), /no symbol 'nope'/);
    });
    it('refuses an event whose location names nothing', () => {
      oneLine(cli(...COUNTER, '--event', 'preempt@nowhere'), /bad event 'preempt@nowhere': no label 'nowhere'/);
    });
    it('refuses an unknown option', () => {
      oneLine(cli('run', 'asm/counter_add.s', '--entry', 'counter_add', '--bogus'), /unknown option --bogus/);
    });
    it('refuses an unknown command', () => {
      const r = cli('frobnicate');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command 'frobnicate'/);
    });
  });
});

describe('the rseq-emu command with threads', function () {
  this.timeout(60_000);
  const TWO = ['run', 'asm/counter_add.s', '--threads', 'counter_add(counters,1)@0;counter_add(counters,10)@0', '--memory', 'counters:16'];

  it('runs --threads specs and prints every thread\'s return values and the executed schedule', () => {
    const r = cli(...TWO, '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.status, 'completed');
    assert.deepEqual(j.threads.map((t: { tid: number; returns: string[] }) => [t.tid, t.returns]), [[1, ['0']], [2, ['0']]]);
    assert.deepEqual(j.memory.counters.u64, ['11', '0']);
    assert.match(j.schedule, /^c0:\d+ c0:\d+$/);
  });
  it('replays a schedule string exactly, events included', () => {
    const first = JSON.parse(cli(...TWO, '--schedule', 'c0:7 T1:preempt', '--json').stdout);
    const again = JSON.parse(cli(...TWO, '--schedule', first.schedule, '--json').stdout);
    assert.equal(first.events[0].outcome, 'aborted');
    assert.deepEqual(again, first);
  });
  it('runs a scenario file with its source relative to the file', () => {
    const r = cli('run', 'examples/scenarios/counter-two-threads.json', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).memory.counters.u64, ['11', '0']);
  });
  it('applies --time-slice: without slices a spinner keeps the CPU its preempted lock holder needs', () => {
    const spin = ['run', 'examples/scenarios/spinlock.json', '--schedule', 'c0:9 T1:preempt', '--max-insns', '20000', '--json'];
    const sliced = JSON.parse(cli(...spin, '--time-slice', '100').stdout);
    assert.equal(sliced.status, 'completed');
    assert.ok(sliced.events.some((e: { spec: string }) => e.spec === 'T2:slice'));
    const r = cli(...spin, '--time-slice', '0');
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.stdout).status, 'limit');
  });
  it('applies --profile and reports it', () => {
    const j = JSON.parse(cli(...TWO, '--profile', 'linux,debug-rseq', '--json').stdout);
    assert.equal(j.profile, 'linux,debug-rseq');
  });
  it('refuses an impossible profile combination with one line', () => {
    const r = cli(...TWO, '--profile', 'linux-6.19,bug-kvm-run');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bug-kvm-run \(fixed in v5\.15\) cannot be combined with linux-6\.19/);
  });
  it('refuses a schedule step for a CPU with nothing to run', () => {
    const r = cli(...TWO, '--schedule', 'c1:3');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /schedule item 'c1:3': CPU 1 has no thread to run/);
  });
  it('names the line and column of a scenario with broken JSON', () => {
    const bad = join(ROOT, 'test', 'cli', 'broken.scenario.json');
    writeFileSync(bad, '{\n  "source": "x.s",\n  "threads": [ }\n');
    try {
      const r = cli('run', bad);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /broken\.scenario\.json:3:\d+: invalid JSON/);
    } finally {
      rmSync(bad);
    }
  });
  it('names the key of a scenario field with a wrong value', () => {
    const bad = join(ROOT, 'test', 'cli', 'bad-cpu.scenario.json');
    writeFileSync(bad, JSON.stringify({ source: '../../asm/counter_add.s', cpus: 2, threads: [{ entry: 'counter_add', cpu: 5 }] }));
    try {
      const r = cli('run', bad);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /threads\[0\]\.cpu: must be 0 to 1, not 5/);
    } finally {
      rmSync(bad);
    }
  });
});

describe('rseq-emu explore', function () {
  this.timeout(120_000);
  it('prints verdict, schedules, seconds and violations as JSON and exits 1 on a violation', () => {
    const r = cli('explore', 'asm/counter_add.bug-late-rseq-cs.s', '--threads', 'counter_add(counters,1)@0;counter_add(counters,10)@0', '--memory', 'counters:16', '--preemptions', '1', '--json', '--workers', '1');
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.verdict, 'fail');
    assert.equal(typeof j.schedules, 'number');
    assert.equal(typeof j.seconds, 'number');
    assert.deepEqual(Object.keys(j.violations[0]).sort(), ['kind', 'message', 'schedule']);
    assert.equal(j.violations[0].kind, 'not-serializable');
  });
  it('exits 0 on a correct scenario', () => {
    const r = cli('explore', 'examples/scenarios/counter-two-threads.json', '--preemptions', '1', '--workers', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pass: \d+ schedules \(every schedule within 1 deviation\)/m);
  });
  it('runs the one schedule of --preemptions 0, and says so in the singular', () => {
    const r = cli('explore', 'examples/scenarios/counter-two-threads.json', '--preemptions', '0');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pass: 1 schedule \(every schedule within 0 deviations\)/m);
  });
  it('replays a reported schedule with run --schedule to the same lost update', () => {
    const j = JSON.parse(cli('explore', 'examples/scenarios/counter-commit-outside.json', '--preemptions', '1', '--stop-at-first', '--json', '--workers', '1').stdout);
    const run = JSON.parse(cli('run', 'examples/scenarios/counter-commit-outside.json', '--schedule', j.violations[0].schedule, '--json').stdout);
    assert.equal(run.schedule, j.violations[0].schedule);
    const sum = run.memory.counters.u64.reduce((a: bigint, b: string) => a + BigInt(b), 0n);
    assert.notEqual(sum, 111n);
  });
  it('refuses options of the other mode and unknown deviation kinds with one line', () => {
    const pct = cli('explore', 'examples/scenarios/counter.json', '--mode', 'pct', '--preemptions', '1');
    assert.equal(pct.code, 2);
    assert.match(pct.stderr, /--preemptions does not apply to --mode pct/);
    const kinds = cli('explore', 'examples/scenarios/counter.json', '--kinds', 'preempt,teleport');
    assert.equal(kinds.code, 2);
    assert.match(kinds.stderr, /--kinds: unknown kind 'teleport'/);
  });
});

describe('the explore progress line', () => {
  it('draws a bar with the share of PCT runs done', () => {
    assert.equal(progressLine(500, 2, 1000), `[${'#'.repeat(15)}${'.'.repeat(15)}] 500/1000 runs, 2.0 s (250 schedules/s)`);
  });
  it('counts schedules when the total is not known in advance', () => {
    assert.equal(progressLine(3000, 1.5, null), 'explored 3000 schedules in 1.5 s (2000 schedules/s)');
  });
});
