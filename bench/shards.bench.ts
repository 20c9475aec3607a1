// One search run whole and as 1, 2 and 4 shard processes started at once (each shard on one worker
// thread), then merged: wall time, and CPU time per process (user + system, from /usr/bin/time),
// which load on the machine does not change much. The longest shard's CPU time is what a shard
// costs on a machine of its own; the sum against the whole's is what sharding adds (each shard
// starts the engine and runs the default schedule again). Checks that every merge reports the
// whole run's verdict, violations and schedule count.
// `npm run bench:shards [SCENARIO] [K]` (default examples/scenarios/list.json, K = 2).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rseq-emu-bench-shards-'));
let runs = 0;

/** The CLI under /usr/bin/time: its output and its CPU seconds. */
function cli(args: string[]): Promise<{ stdout: string; cpu: number }> {
  const times = join(dir, `time-${runs++}`);
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-f', '%U %S', '-o', times, process.execPath, 'bin/rseq-emu.js', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 }, (e, stdout, stderr) => {
      if (e && (e as { code?: number }).code !== 1) return reject(new Error(`${args.join(' ')}: ${stderr}`));
      const [user, system] = readFileSync(times, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
      resolve({ stdout, cpu: user! + system! });
    });
  });
}

const scenario = process.argv[2] ?? 'examples/scenarios/list.json';
const bound = process.argv[3] ?? '2';
// Without the state cache, so every split runs the same schedules and the figures compare.
const search = ['explore', scenario, '--preemptions', bound, '--workers', '1', '--no-state-cache', '--json'];
try {
  let t = performance.now();
  const w = await cli(search);
  const whole = JSON.parse(w.stdout);
  const wholeSeconds = (performance.now() - t) / 1000;
  console.log(`${scenario} K = ${bound}: ${whole.schedules} schedules, ${whole.violationCount} violations; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`whole, one process: wall ${wholeSeconds.toFixed(1)} s, CPU ${w.cpu.toFixed(1)} s`);
  for (const n of [1, 2, 4]) {
    t = performance.now();
    const outs = await Promise.all(Array.from({ length: n }, (_, i) => cli([...search, '--shard', `${i + 1}/${n}`])));
    const files = outs.map((o, i) => {
      const file = join(dir, `shard-${i + 1}-of-${n}.json`);
      writeFileSync(file, o.stdout);
      return file;
    });
    const m = await cli(['merge', ...files, '--json']);
    const merged = JSON.parse(m.stdout);
    const seconds = (performance.now() - t) / 1000;
    const same = merged.verdict === whole.verdict && JSON.stringify(merged.violations) === JSON.stringify(whole.violations) && merged.schedules === whole.schedules;
    const cpus = outs.map((o) => o.cpu);
    const longest = Math.max(...cpus);
    const sum = cpus.reduce((a, b) => a + b, 0);
    console.log(
      `${n} shard${n === 1 ? ' ' : 's'}: wall ${seconds.toFixed(1)} s (ratio ${(seconds / wholeSeconds).toFixed(2)}); CPU longest shard ${longest.toFixed(1)} s (ratio ${(longest / w.cpu).toFixed(2)}), ` +
        `all shards ${sum.toFixed(1)} s (ratio ${(sum / w.cpu).toFixed(2)}), merge ${m.cpu.toFixed(1)} s${same ? '; merge = whole run' : '; MERGE DIFFERS FROM THE WHOLE RUN'}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
