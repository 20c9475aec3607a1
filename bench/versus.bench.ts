// `npm run bench:versus -- OTHER_CHECKOUT [K] [--no-state-cache] [scenario ...]`: the whole exhaustive
// space of each bundled scenario, searched by this checkout and by another (an earlier commit in a
// `git worktree`, its node_modules linked), one after the other in child processes, alternating
// which goes first, three pairs each; prints schedules and median CPU seconds of each, and the
// ratio. With the default options of each side (the state cache where that side has one), so the
// figure is the time to cover the same space — what a user waits for (`explore`, with every round
// a search runs: scratch-bytes.ts). Issue 14's "2× today's".
// `--no-state-cache` turns this side's cache off: the same schedules, so the ratio is one of
// schedules per CPU second.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('..', import.meta.url));
const [other, k = '2', ...rest] = process.argv.slice(2);
if (!other) throw new Error('usage: versus.bench.ts OTHER_CHECKOUT [K] [--no-state-cache] [scenario ...]');
const noCache = rest.includes('--no-state-cache');
const names = rest.filter((a) => a !== '--no-state-cache');
const SCENARIOS = names.length ? names : ['counter', 'cmpeqv', 'list', 'buffer', 'counter-two-threads', 'slab-stack', 'mm-cid-counter', 'counter-addv'];

/** One search in a child process of `tree`: its schedule count and CPU seconds. */
function search(tree: string, scenario: string): { schedules: number; cpu: number } {
  const code = `
    const { explore } = await import(${JSON.stringify(`${tree}/src/explore/explorer.ts`)});
    const { loadScenario } = await import(${JSON.stringify(`${tree}/src/scenario/scenario.ts`)});
    const { loadProgram } = await import(${JSON.stringify(`${tree}/src/program.ts`)});
    const scenario = await loadScenario(${JSON.stringify(`${HERE}examples/scenarios/${scenario}.json`)});
    const image = await loadProgram(scenario.source);
    const c0 = process.cpuUsage();
    const r = explore(image, scenario, { preemptions: ${Number(k)}${noCache && tree === HERE ? ', stateCache: false' : ''} });
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ schedules: r.schedules, cpu: (c.user + c.system) / 1e6 }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: tree, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tree}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

console.log(`| scenario (K = ${k}${noCache ? ', this without the state cache' : ''}) | other: schedules | other: CPU s | this: schedules | this: CPU s | CPU time, other / this |`);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const name of SCENARIOS) {
  const mine: number[] = [];
  const theirs: number[] = [];
  let counts = { mine: 0, theirs: 0 };
  for (let pair = 0; pair < 3; pair++) {
    const order = pair % 2 ? [HERE, other] : [other, HERE];
    for (const tree of order) {
      const r = search(tree, name);
      (tree === HERE ? mine : theirs).push(r.cpu);
      counts = tree === HERE ? { ...counts, mine: r.schedules } : { ...counts, theirs: r.schedules };
    }
  }
  const [a, b] = [median(theirs), median(mine)];
  console.log(`| ${name} | ${counts.theirs.toLocaleString('en-US')} | ${a.toFixed(2)} | ${counts.mine.toLocaleString('en-US')} | ${b.toFixed(2)} | ${(a / b).toFixed(2)} |`);
}
