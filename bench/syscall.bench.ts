// What a system call costs against a plain instruction (README, "Limits"): a thread that loops in
// sched_yield, or in getpid, until the instruction budget runs out, next to a loop of plain
// instructions under the same per-instruction hook; then the whole CLI on the sched_yield loop,
// text and --json. CPU time (user + system) of this process, so other load matters less.
// `npm run bench:syscall`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, assembleSource, findSymbol } from '../src/index.js';
import { runCli } from '../src/cli/main.js';

const BUDGET = 1_000_000;
const cpuSeconds = (fn: () => void): number => {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

const programs = {
  'sched_yield loop': 'f: movl $24, %eax\n syscall\n jmp f\n',
  'getpid loop': 'f: movl $39, %eax\n syscall\n jmp f\n',
  'plain loop (add, jmp)': 'f: addq $1, %rax\n jmp f\n',
};

console.log(`| ${BUDGET.toLocaleString('en-US')}-instruction budget | CPU s | system calls/s | instructions/s | µs per call or instruction |`);
console.log('| --- | --- | --- | --- | --- |');
let perInstruction = 0;
const rows: [string, number, number, number][] = [];
for (const [name, src] of Object.entries(programs)) {
  const image = await assembleSource(src, 'f.s');
  const once = () => {
    const m = Machine.create(image, { cpus: 1, maxInstructions: BUDGET });
    m.spawn({ entry: findSymbol(image, 'f')!.address, args: [], cpu: 0 });
    let calls = 0;
    const s = cpuSeconds(() => {
      m.begin();
      while (m.step(null));
      calls = m.result().syscalls.length;
    });
    m.close();
    return { s, calls };
  };
  once(); // warm-up: JIT, translation
  const { s, calls } = once();
  rows.push([name, s, calls, BUDGET]);
  if (calls === 0) perInstruction = (s / BUDGET) * 1e6;
}
for (const [name, s, calls, insns] of rows) {
  const per = calls ? (s / calls) * 1e6 : (s / insns) * 1e6;
  const ratio = calls ? ` (${(per / perInstruction).toFixed(0)} × an instruction)` : '';
  console.log(`| ${name} | ${s.toFixed(2)} | ${calls ? Math.round(calls / s).toLocaleString('en-US') : '-'} | ${Math.round(insns / s).toLocaleString('en-US')} | ${per.toFixed(2)}${ratio} |`);
}

const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-syscall-'));
writeFileSync(join(dir, 'yield.s'), programs['sched_yield loop']);
for (const json of [false, true]) {
  let bytes = 0;
  const io = { out: (s: string) => void (bytes += s.length), err: () => {}, progress: () => {} };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await runCli(['run', join(dir, 'yield.s'), '--entry', 'f', '--max-insns', String(BUDGET), ...(json ? ['--json'] : [])], io);
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6;
  console.log(`CLI run${json ? ' --json' : ''} of the sched_yield loop: ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${s.toFixed(2)} s CPU, ${bytes.toLocaleString('en-US')} characters of output, heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);
}
