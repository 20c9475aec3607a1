// `npm run bench:workers -- OTHER_CHECKOUT [K] [--runs N] [scenario ...]`: the whole exhaustive
// space of each bundled scenario, searched from the command line (`explore --preemptions K`) on one
// thread and with two workers, by this checkout and by another (an earlier commit in a
// `git worktree`, its node_modules linked), alternating which goes first; prints each one's
// schedules and median wall seconds (N runs each, default 2). Wall time is what the workers are
// for, and what issue 14's "within 10 s" is about. Both sides run their TypeScript sources.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 2;
const [other, k = '3', ...names] = args;
if (!other || !(runs >= 1)) throw new Error('usage: workers.bench.ts OTHER_CHECKOUT [K] [--runs N] [scenario ...]');
const SCENARIOS = names.length ? names : ['counter', 'cmpeqv', 'list', 'counter-two-threads', 'counter-addv', 'mm-cid-counter', 'slab-stack'];

/** One search from `tree`'s command line: schedules and wall seconds. */
function search(tree: string, scenario: string, workers: number): { schedules: number; seconds: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [`${tree}/bin/rseq-emu.js`, 'explore', `${HERE}examples/scenarios/${scenario}.json`, '--preemptions', k, '--workers', String(workers), '--json'], { cwd: tree, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${tree}: ${r.stderr}`);
  return { schedules: (JSON.parse(r.stdout) as { schedules: number }).schedules, seconds };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
const cell = (r: { schedules: number; seconds: number[] }) => `${r.schedules.toLocaleString('en-US')} in ${median(r.seconds).toFixed(2)} s`;

console.log(`| scenario (K = ${k}, wall time, median of ${runs}) | other, 1 thread | other, 2 workers | this, 1 thread | this, 2 workers |`);
console.log('| --- | --- | --- | --- | --- |');
for (const name of SCENARIOS) {
  const cells = new Map<string, { schedules: number; seconds: number[] }>();
  for (let run = 0; run < runs; run++) {
    for (const workers of [1, 2]) {
      for (const tree of run % 2 ? [HERE, other] : [other, HERE]) {
        const r = search(tree, name, workers);
        const key = `${tree === HERE}${workers}`;
        const c = cells.get(key) ?? { schedules: r.schedules, seconds: [] };
        c.seconds.push(r.seconds);
        c.schedules = r.schedules;
        cells.set(key, c);
      }
    }
  }
  console.log(`| ${name} | ${['false1', 'false2', 'true1', 'true2'].map((key) => cell(cells.get(key)!)).join(' | ')} |`);
}
