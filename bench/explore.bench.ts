// Exploration speed per bundled op, next to what the same instructions cost on bare Unicorn, and
// memory over a long run (it must stay flat: nothing may be kept per schedule).
import { fileURLToPath } from 'node:url';
import { exploreShare } from '../src/explore/explorer.js';
import { instantiate } from '../src/scenario/setup.js';
import { loadScenario } from '../src/scenario/scenario.js';
import { loadProgram } from '../src/program.js';

const SCENARIOS = fileURLToPath(new URL('../examples/scenarios/', import.meta.url));
const now = () => Number(process.hrtime.bigint()) / 1e9;

export async function benchExplore(bareInstructionsPerSecond: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of ['counter', 'cmpeqv', 'list', 'buffer', 'memcpy-buffer']) {
    const scenario = await loadScenario(`${SCENARIOS}${name}.json`);
    const image = await loadProgram(scenario.source);
    // Instructions in one schedule: the default run's.
    const m = instantiate(image, scenario);
    const instructions = m.run().instructions;
    m.close();
    const t0 = now();
    // Without the state cache (on by default from K = 2): this figure is the cost of one schedule.
    const r = exploreShare(image, scenario, { preemptions: 2, maxSchedules: 3000, stateCache: false }, { part: 0, of: 1 });
    const perSecond = r.schedules / (now() - t0);
    out[`${name}: schedules/s (K=2, one thread)`] = perSecond;
    out[`${name}: instructions per schedule`] = instructions;
    out[`${name}: cost of a schedule / bare Unicorn for its instructions`] = bareInstructionsPerSecond / (perSecond * instructions);
  }
  return out;
}

/** RSS and heap after every 10,000 schedules of a long exploration. */
export async function benchMemory(schedules = 60_000): Promise<Record<string, number>> {
  const scenario = await loadScenario(`${SCENARIOS}memcpy-buffer.json`);
  const image = await loadProgram(scenario.source);
  const samples: { rss: number; heap: number }[] = [];
  exploreShare(image, scenario, {
    maxSchedules: schedules,
    onProgress: (n) => {
      if (n % 10_000 === 0) {
        globalThis.gc?.();
        const u = process.memoryUsage();
        samples.push({ rss: u.rss / 2 ** 20, heap: u.heapUsed / 2 ** 20 });
      }
    },
  }, { part: 0, of: 1 });
  const out: Record<string, number> = {};
  samples.forEach((s, i) => {
    out[`memory after ${(i + 1) * 10}k schedules: RSS MiB`] = s.rss;
    out[`memory after ${(i + 1) * 10}k schedules: heap MiB`] = s.heap;
  });
  return out;
}

/**
 * The whole K = 2 space of every bundled scenario, on one thread: how many schedules and how long.
 * Deviations that enlarge the space (such as the non-atomic RMW split) are held to these counts.
 */
export async function benchExploreSpace(only: readonly string[] = []): Promise<Record<string, number>> {
  const { readdirSync } = await import('node:fs');
  const { explore } = await import('../src/explore/explorer.js');
  const out: Record<string, number> = {};
  for (const file of readdirSync(SCENARIOS).filter((f) => f.endsWith('.json') && (!only.length || only.includes(f))).sort()) {
    const scenario = await loadScenario(`${SCENARIOS}${file}`);
    const image = await loadProgram(scenario.source);
    const cpu0 = process.cpuUsage();
    const r = explore(image, scenario, { preemptions: 2, keepViolations: 1, stateCache: false }); // every schedule of the space, as this table always counted
    const cpu = process.cpuUsage(cpu0);
    out[`${file}: K=2 schedules (${r.verdict})`] = r.schedules;
    out[`${file}: K=2 seconds, one thread`] = r.seconds;
    // On a shared machine wall time follows the load; CPU time much less so.
    out[`${file}: K=2 CPU seconds`] = (cpu.user + cpu.system) / 1e6;
  }
  return out;
}

/**
 * The rules the search checks as it goes, each on a whole K = 3 space on one thread, with the
 * state cache, with the rule and without it: the scratch rule (src/explore/scratch-bytes.ts) on
 * memcpy-buffer, which it was built for; the load rule (src/explore/load-commuting.ts) on the
 * spinlock, which it was built for, and on buffer, where its first round fails. And quiet rounds
 * (src/explore/quiet-rounds.ts) on the spinlock: the same schedules, fewer points walked. The
 * rule's run goes first, on colder code, so the ratio does not flatter it.
 */
export async function benchCheckedRules(): Promise<Record<string, number>> {
  const { explore } = await import('../src/explore/explorer.js');
  const out: Record<string, number> = {};
  const cases = [
    ['memcpy-buffer.json', 'the scratch rule', { scratchExcluded: false }],
    ['spinlock.json', 'the load rule', { loadsExcluded: false }],
    ['buffer.json', 'the load rule', { loadsExcluded: false }],
    ['spinlock.json', 'quiet rounds gone over', { quietRounds: false }],
  ] as const;
  for (const [file, rule, off] of cases) {
    const scenario = await loadScenario(`${SCENARIOS}${file}`);
    const image = await loadProgram(scenario.source);
    for (const [label, options] of [[`with ${rule}`, {}], [`without ${rule}`, off]] as const) {
      const cpu0 = process.cpuUsage();
      const r = explore(image, scenario, { preemptions: 3, keepViolations: 1, ...options });
      const cpu = process.cpuUsage(cpu0);
      out[`${file} K=3, ${label}: schedules`] = r.schedules;
      out[`${file} K=3, ${label}: CPU seconds`] = (cpu.user + cpu.system) / 1e6;
      if (r.scratchRounds) out[`${file} K=3, ${label}: rounds`] = r.scratchRounds;
    }
  }
  return out;
}

/**
 * Two threads against one on whole K = 3 spaces with the state cache (wall time, since the two
 * threads run at once): the schedules two threads run beyond one thread's are the work they redo
 * (branch-claims.ts: threads take branches in runs so that neighbours, which share most states,
 * are not explored at once). memcpy-buffer and buffer ran 28–35 % and 23–27 % more when threads
 * took the next branch in turn; the spinlock 25 % more when a run could begin one instruction
 * after a load, where the branches before stand for the next ones (commuting.ts). The one-thread search goes first, on colder code (in a warm
 * process the ratio of seconds is the fairer one; the two threads' includes the worker's start).
 */
export async function benchTwoThreads(): Promise<Record<string, number>> {
  const { explore } = await import('../src/explore/explorer.js');
  const { exploreParallel } = await import('../src/explore/explore-workers.js');
  const out: Record<string, number> = {};
  for (const file of ['memcpy-buffer.json', 'buffer.json', 'spinlock.json']) {
    const scenario = await loadScenario(`${SCENARIOS}${file}`);
    const image = await loadProgram(scenario.source);
    let t0 = now();
    const one = explore(image, scenario, { preemptions: 3, keepViolations: 1 });
    out[`${file} K=3, one thread: schedules`] = one.schedules;
    out[`${file} K=3, one thread: seconds`] = now() - t0;
    t0 = now();
    const two = await exploreParallel(scenario, { preemptions: 3, keepViolations: 1, workers: 2 }, image);
    out[`${file} K=3, two threads: schedules`] = two.schedules;
    out[`${file} K=3, two threads: seconds`] = now() - t0;
    out[`${file} K=3, two threads: schedules beyond one thread's (%)`] = (100 * (two.schedules - one.schedules)) / one.schedules;
  }
  return out;
}
