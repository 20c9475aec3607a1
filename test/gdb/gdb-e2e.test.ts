// The real gdb (`gdb -batch -nx`) attached to `rseq-emu gdbserver`: the debugger experiments of
// the 2017 rseq mail, reproduced with the tool people use. Each gdb run is bounded by a timeout.
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, hasTool } from '../support/tools.js';

const COUNTER = ['asm/counter_add.s', '--entry', 'counter_add', '--memory', 'counters:16', '--arg', 'counters', '--arg', '5'];
const C_LOOP = ['examples/programs/rseq-addv-loop.s', '--entry', 'main'];
const GDB_TIMEOUT = 120_000;

let dir = '';
let elfCount = 0;

/** Runs gdb in batch mode on the stub over --stdio, with `commands` after attaching; returns stdout + stderr. */
function gdb(server: string[], commands: string[]): string {
  const elf = join(dir, `t${elfCount++}.elf`);
  const stub = ['node', 'bin/rseq-emu.js', 'gdbserver', '--stdio', ...server, '--elf', elf].join(' ');
  const args = ['-batch', '-nx', '-ex', 'set remotetimeout 30', '-ex', `target remote | ${stub}`, '-ex', `file ${elf}`, ...commands.flatMap((c) => ['-ex', c])];
  const r = spawnSync('gdb', args, { cwd: ROOT, encoding: 'utf8', timeout: GDB_TIMEOUT });
  assert.equal(r.error, undefined, `gdb did not finish: ${r.error?.message}`);
  return r.stdout + r.stderr;
}

/** The values of `p/x $pc` in gdb's output, in order. */
const pcs = (out: string) => [...out.matchAll(/^\$\d+ = (0x[0-9a-f]+)$/gm)].map((m) => m[1]);

describe('real gdb on rseq-emu gdbserver', function () {
  this.timeout(GDB_TIMEOUT + 10_000);
  before(function () {
    if (!hasTool('gdb')) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'rseq-emu-gdb-e2e-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('stepi from counter_add+0 cycles through the arm store and the section start forever (+7, +11, +18, +23, +7 …)', () => {
    const out = gdb(COUNTER, Array.from({ length: 12 }, () => ['stepi', 'p/x $pc']).flat());
    assert.deepEqual(pcs(out), ['0x400007', '0x40000b', '0x400012', '0x400017', '0x400007', '0x40000b', '0x400012', '0x400017', '0x400007', '0x40000b', '0x400012', '0x400017']);
  });

  it('with monitor stepping rseq-aware the steps pass the section and reach the ret, and the program exits', () => {
    const out = gdb(COUNTER, ['monitor stepping rseq-aware', ...Array.from({ length: 5 }, () => ['stepi', 'p/x $pc']).flat(), 'x/i $pc', 'continue']);
    assert.deepEqual(pcs(out), ['0x400007', '0x40000b', '0x400012', '0x40002d', '0x400030']);
    assert.match(out, /=> 0x400030 <\.Lcounter_add_post_commit\+3>:\s+ret/);
    assert.match(out, /\[Inferior 1 \(Remote target\) exited normally\]/);
  });

  it('a breakpoint inside the section, delete, stepi: the stop was a preemption, so the step lands on the retry path', () => {
    const out = gdb(COUNTER, ['break *0x400022', 'continue', 'p/x $pc', 'delete', 'stepi', 'p/x $pc', 'x/i $pc']);
    assert.match(out, /Breakpoint 1, \.Lcounter_add_start \(\) at asm\/counter_add\.s:42/);
    assert.deepEqual(pcs(out), ['0x400022', '0x400007']);
    assert.match(out, /=> 0x400007 <\.Lcounter_add_retry>:/);
  });

  it('shows registers, instructions with label+offset and both threads of a two-thread scenario', () => {
    const out = gdb(['examples/scenarios/counter-two-threads.json'], ['info threads', 'info registers rip rsi fs_base', 'x/8i $pc']);
    assert.match(out, /\* 1\s+Thread 1 "T1"/);
    assert.match(out, /\s2\s+Thread 2 "T2"/);
    assert.match(out, /rip\s+0x400000\s+0x400000 <counter_add>/);
    assert.match(out, /rsi\s+0x1\s+1/);
    assert.match(out, /fs_base\s+0x[0-9a-f]+/);
    assert.match(out, /=> 0x400000 <counter_add>:\s+mov\s+-0x100007\(%rip\),%rcx/);
    assert.match(out, /0x400017 <\.Lcounter_add_start>:\s+cmp\s+%fs:0x4\(%rcx\),%r8d/);
  });

  it('when the stepped thread returns, gdb switches to the other thread without a trap, and --memory regions are symbols', () => {
    const steps = Array.from({ length: 6 }, () => 'stepi');
    const out = gdb(['examples/scenarios/counter-two-threads.json'], ['monitor stepping rseq-aware', ...steps, 'info threads', 'x/2gx &counters', 'continue']);
    assert.match(out, /Thread 2 "T2" stopped\.\n\[Switching to Thread 2\]/);
    assert.doesNotMatch(out, /received signal SIGTRAP/);
    assert.match(out, /\* 2\s+Thread 2 "T2"\s+counter_add \(\)/);
    assert.match(out, /^0x10000000:\s+0x0000000000000001\s+0x0000000000000000$/m);
    assert.match(out, /exited normally/);
  });

  it('monitor migrate 1 takes effect at the next resume: cpu_id read through the rseq area says 1', () => {
    const cpuId = 'p *(unsigned int *)($fs_base + *(long *)&__rseq_offset + 4)';
    const out = gdb(COUNTER, [cpuId, 'monitor migrate 1', 'stepi', cpuId, 'monitor rseq']);
    // Before the first resume the area holds what registration left (-1: the kernel writes cpu_id on the way back to user mode).
    assert.deepEqual([...out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => m[1]), ['4294967295', '1']);
    assert.match(out, /T1 cpu1 cpu_id=1 rseq_cs=0/);
  });

  it('monitor signal SIGUSR1 is delivered at the next resume, as run --event signal delivers it (a stand-in handler that returns)', () => {
    const out = gdb(COUNTER, ['monitor signal SIGUSR1', 'stepi', 'x/2i $pc', 'continue']);
    assert.match(out, /T1: signal 10 queued for its next resume/);
    assert.match(out, /=> 0x7ffff7ff0010:\s+mov\s+\$0xf,%eax\n\s+0x7ffff7ff0015:\s+syscall/);
    assert.match(out, /exited normally/);
  });

  it('a fatal signal ends the session with X: gdb says the program terminated with SIGSEGV', () => {
    const out = gdb(['asm/counter_add.s', '--entry', 'counter_add', '--arg', '0', '--arg', '5'], ['continue']);
    assert.match(out, /Program terminated with signal SIGSEGV, Segmentation fault\./);
  });

  it('monitor schedule prints the executed schedule; monitor help lists the commands', () => {
    const out = gdb(COUNTER, ['stepi', 'stepi', 'monitor schedule', 'monitor help']);
    assert.match(out, /T1:preempt c0:1 T1:preempt c0:1/);
    assert.match(out, /migrate N\s+queue a migration/);
  });

  // gdb 13.1 on Linux 6.18 with the C example built natively (gcc -g -O0): from line 65, next,
  // next, stepi, stepi, then next five times; `info line *$pc` after each (null: no line, the abort
  // handler in __rseq_failure, which no symbol covers, so gdb shows `?? ()`).
  const LOOP_COMMANDS = ['next', 'next', 'stepi', 'stepi', 'next', 'next', 'next', 'next', 'next'];
  const NATIVE_LOOP_LINES = [66, null, 66, 66, 67, 68, 65, 66, null];
  const stopLines = (out: string) => [...out.matchAll(/^(?:Line (\d+) of|No line number information)/gm)].map((m) => (m[1] ? Number(m[1]) : null));

  it('next over the inlined rseq_addv loop stops where native gdb does: into the abort handler at every pass, never out of the loop', () => {
    const out = gdb(C_LOOP, ['break 65', 'continue', ...LOOP_COMMANDS.flatMap((c) => [c, 'info line *$pc'])]);
    assert.deepEqual(stopLines(out), NATIVE_LOOP_LINES);
    assert.match(out, /in \?\? \(\)/);
  });

  it('the native run of the C example under gdb on this machine gives the same stops (skipped without gcc or rseq)', function () {
    if (!hasTool('gcc')) this.skip();
    const exe = join(dir, 'loop');
    const cc = spawnSync('gcc', ['-g', '-O0', '-o', exe, join(ROOT, 'examples/programs/rseq-addv-loop.c')], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    // Exit status 1 = one attempt on the rseq path; 0 means glibc did not register rseq here.
    if (spawnSync(exe, { timeout: 10_000 }).status !== 1) this.skip();
    const r = spawnSync('gdb', ['-batch', '-nx', exe, '-ex', 'break 65', '-ex', 'run', ...LOOP_COMMANDS.flatMap((c) => ['-ex', c, '-ex', 'info line *$pc'])], { encoding: 'utf8', timeout: GDB_TIMEOUT });
    if (/ptrace|Operation not permitted/.test(r.stderr)) this.skip();
    assert.deepEqual(stopLines(r.stdout), NATIVE_LOOP_LINES);
  });

  it('with monitor stepping rseq-aware, next goes round the loop once and leaves it', () => {
    const lines = (out: string) => [...out.matchAll(/^(6[0-9])\t/gm)].map((m) => Number(m[1]));
    const aware = gdb(C_LOOP, ['monitor stepping rseq-aware', 'break 65', 'continue', 'next', 'next', 'next', 'next']);
    assert.deepEqual(lines(aware), [65, 66, 67, 68, 69]);
  });

  it('reports the end of the program with its exit code (the entry returns its attempts: 1)', () => {
    const out = gdb(C_LOOP, ['continue']);
    assert.match(out, /\[Inferior 1 \(Remote target\) exited with code 01\]/);
  });

  it('listens on 127.0.0.1, port 0 picking a free port, and prints the gdb command that attaches', async () => {
    const elf = join(dir, 'tcp.elf');
    const server = spawn(process.execPath, ['bin/rseq-emu.js', 'gdbserver', ...COUNTER, '--listen', '0', '--elf', elf], { cwd: ROOT });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let err = '';
        server.stderr.on('data', (c: Buffer) => {
          err += c.toString();
          const m = /listening on 127\.0\.0\.1:(\d+); attach with: gdb (\S+) -ex 'target remote 127\.0\.0\.1:\d+'/.exec(err);
          if (m) resolve(Number(m[1]));
        });
        server.once('exit', () => reject(new Error(`server exited: ${err}`)));
        setTimeout(() => reject(new Error(`no port announced: ${err}`)), 60_000);
      });
      const r = spawnSync('gdb', ['-batch', '-nx', elf, '-ex', `target remote 127.0.0.1:${port}`, '-ex', 'stepi', '-ex', 'p/x $pc', '-ex', 'kill'], { encoding: 'utf8', timeout: 60_000 });
      assert.deepEqual(pcs(r.stdout), ['0x400007']);
      const code = await new Promise<number | null>((resolve) => (server.exitCode !== null ? resolve(server.exitCode) : server.once('exit', resolve)));
      assert.equal(code, 0);
    } finally {
      server.kill();
    }
  });

  it('refuses to listen on any other host, with one line and exit status 2', () => {
    const r = spawnSync(process.execPath, ['bin/rseq-emu.js', 'gdbserver', ...COUNTER, '--listen', '0.0.0.0:0'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^rseq-emu: --listen: the stub listens on 127\.0\.0\.1 only/);
  });
});
