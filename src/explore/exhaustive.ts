// Exhaustive search with a deviation bound (CHESS-style preemption bounding): every schedule that
// differs from the default policy in at most K places, a place being a kernel event or a CPU
// switch before any instruction a thread executes. Depth-first; the machine is rewound with
// snapshots at each branching point instead of re-running the prefix.
import type { Machine } from '../kernel/machine.js';
import { deviationsAt, type DeviationSpace } from './deviations.js';

export interface SearchControl {
  /** Called at the end of every schedule with the machine in its final state; return false to stop. */
  leaf(): boolean;
}

export function exhaustiveSearch(machine: Machine, bound: number, space: DeviationSpace, control: SearchControl): boolean {
  let go = true;
  const dfs = (left: number): void => {
    if (left === 0) {
      while (machine.step(null));
      go = control.leaf();
      return;
    }
    for (;;) {
      const cpu = machine.defaultCpu();
      if (cpu === null) {
        machine.step(null); // let the run finish its bookkeeping (budget, deadlock)
        go = control.leaf();
        return;
      }
      const tid = machine.runningOn(cpu)!.tid;
      const here = machine.capture();
      for (const d of deviationsAt(machine, cpu, tid, space)) {
        machine.step(d);
        dfs(left - 1);
        machine.restore(here);
        if (!go) return;
      }
      if (!machine.step({ kind: 'run', cpu, count: 1 })) {
        go = control.leaf();
        return;
      }
    }
  };
  dfs(bound);
  return go;
}
