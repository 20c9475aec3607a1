// Which bytes of shared memory were last written by a critical-section attempt that then aborted.
// A store made while the IP is inside a section is speculative; the attempt ends when the thread
// leaves the sections (a commit) or the kernel aborts it. The explorer's oracle excuses such bytes
// where the serial order leaves them untouched: rseq try-stores past a committed count.
import { sectionContaining, type CriticalSection } from '../abi/tables.js';
import type { Address } from '../types.js';
import type { LastStore } from './machine-types.js';
import type { Thread } from './thread.js';

export class SpeculativeStores {
  private lastStore = new Map<Address, LastStore>();

  constructor(private readonly sections: readonly CriticalSection[]) {}

  /** A store by `t`, made by the instruction at `ip`. */
  store(t: Thread, ip: Address, address: Address, size: number): void {
    const inside = sectionContaining(this.sections, ip) !== undefined;
    for (let i = 0n; i < BigInt(size); i++) {
      this.lastStore.set(address + i, { tid: t.tid, attempt: t.attempt, aborted: false });
      if (inside) t.attemptStores.push(address + i);
    }
  }

  /** `t` is about to execute the instruction at `ip`: leaving the sections without an abort commits. */
  step(t: Thread, ip: Address): void {
    if (t.attemptStores.length && !sectionContaining(this.sections, ip)) this.close(t, false);
  }

  /** Ends a thread's attempt; an aborted one marks its stores that are still the last ones. */
  close(t: Thread, aborted: boolean): void {
    if (aborted) {
      for (const a of t.attemptStores) {
        const last = this.lastStore.get(a);
        if (last && last.tid === t.tid && last.attempt === t.attempt) last.aborted = true;
      }
    }
    t.attemptStores = [];
    t.attempt++;
  }

  /** Shared-memory bytes whose last store came from an attempt that aborted. */
  aborted(): Set<Address> {
    const out = new Set<Address>();
    for (const [a, last] of this.lastStore) if (last.aborted) out.add(a);
    return out;
  }

  /** The last store to each byte, as it stands (read-only). */
  entries(): ReadonlyMap<Address, LastStore> {
    return this.lastStore;
  }

  save(): [Address, LastStore][] {
    return [...this.lastStore].map(([a, l]) => [a, { ...l }]);
  }

  load(saved: readonly [Address, LastStore][]): void {
    this.lastStore = new Map(saved.map(([a, l]) => [a, { ...l }]));
  }
}
