// Where a search placed its deviations: per instruction address, how many explored schedules put a
// deviation (an event, a switch or a split) before that instruction, and how many of those ended in
// a violation. Counts merge across shares by addition, so the threads of a search add up exactly.
import type { Address } from '../types.js';

export interface HeatCell {
  address: Address;
  /** Schedules with at least one deviation before this instruction. */
  schedules: number;
  /** Of those, the ones judged a violation. */
  violations: number;
}

export class HeatCounter {
  private readonly cells = new Map<Address, HeatCell>();

  /** One finished schedule: each address counts once, however many deviations it had there. */
  add(placed: readonly Address[], violated: boolean): void {
    for (const address of new Set(placed)) {
      const c = this.cells.get(address) ?? { address, schedules: 0, violations: 0 };
      c.schedules++;
      if (violated) c.violations++;
      this.cells.set(address, c);
    }
  }

  merge(cells: readonly HeatCell[]): void {
    for (const x of cells) {
      const c = this.cells.get(x.address) ?? { address: x.address, schedules: 0, violations: 0 };
      c.schedules += x.schedules;
      c.violations += x.violations;
      this.cells.set(x.address, c);
    }
  }

  /** By address: plain data that crosses to and from worker threads. */
  cellsByAddress(): HeatCell[] {
    return [...this.cells.values()].map((c) => ({ ...c })).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }
}

export function mergeHeat(parts: readonly (readonly HeatCell[])[]): HeatCell[] {
  const all = new HeatCounter();
  for (const p of parts) all.merge(p);
  return all.cellsByAddress();
}
