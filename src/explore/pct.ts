// PCT (Burckhardt et al., ASPLOS 2010) over the same event space: threads get random distinct
// priorities and the highest-priority runnable thread runs, one instruction at a time; at d - 1
// random steps a change point either drops the running thread to the lowest priority (a switch)
// or hands it a random kernel event. A thread whose time slice ends drops to the lowest priority
// too, as a yield does in PCT: strict priorities would otherwise let a spinning thread starve the
// thread it waits for on another CPU. Each run is reproducible from the seed.
import type { Machine, MachineSnapshot } from '../kernel/machine.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { Address } from '../types.js';
import { deviationsAt, type Deviation, type DeviationSpace } from './deviations.js';
import { Rng } from './rng.js';
import type { SearchControl, Share } from './exhaustive.js';
import { claim } from './branch-claims.js';

export interface PctOptions {
  depth: number;
  runs: number;
  /** Expected steps per run (from the default run), where change points are drawn. */
  steps: number;
}

/** Each run has its own generator, seeded from (seed, run), so runs can be split among workers. */
export function pctSearch(machine: Machine, start: MachineSnapshot, opts: PctOptions, space: DeviationSpace, seed: number, control: SearchControl, share: Share = { part: 0, of: 1 }): boolean {
  let ordinal = 0;
  for (let run = share.part; run < opts.runs; run += share.of) {
    if (share.claims && !claim(share.claims, ordinal++)) continue;
    const rng = Rng.forRun(seed, run);
    control.unit?.(run);
    machine.restore(start);
    const tids = start.threads.map((t) => t.fields.tid);
    const priority = new Map(rng.shuffle([...tids]).map((tid, i) => [tid, opts.depth + i]));
    const changes = new Set<number>();
    while (changes.size < Math.min(opts.depth - 1, opts.steps)) changes.add(1 + rng.below(opts.steps));
    let lowest = opts.depth - 1;
    const placed: Address[] = [];
    for (let step = 1; ; step++) {
      const heads = machine.runnableCpus().map((cpu) => ({ cpu, t: machine.runningOn(cpu)! }));
      if (!heads.length) break;
      heads.sort((a, b) => (priority.get(b.t.tid) ?? 0) - (priority.get(a.t.tid) ?? 0));
      const { cpu, t } = heads[0]!;
      if (changes.has(step)) {
        placed.push(machine.ripOf(t));
        const options: (Deviation | 'lower')[] = ['lower', ...deviationsAt(machine, cpu, t.tid, { ...space, kinds: space.kinds.filter((k) => k !== 'switch') })];
        const pick = options[rng.below(options.length)]!;
        if (pick === 'lower') priority.set(t.tid, lowest--);
        else if (Array.isArray(pick)) {
          // A split: the load now, the store once the priorities let the thread run again.
          machine.step(pick[0]!);
          priority.set(t.tid, lowest--);
        } else machine.step(pick as ScheduleItem);
        continue;
      }
      if (!machine.step({ kind: 'run', cpu, count: 1 })) break;
      if (machine.stepEndedSlice) priority.set(t.tid, lowest--);
    }
    machine.step(null);
    if (!control.leaf(placed)) return false;
  }
  return true;
}
