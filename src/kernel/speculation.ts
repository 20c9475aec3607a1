// Which bytes of shared memory were last written by a critical-section attempt that then aborted.
// A store made while the IP is inside a section is speculative; the attempt ends when the thread
// leaves the sections (a commit) or the kernel aborts it. The explorer's oracle excuses such bytes
// where the serial order leaves them untouched: rseq try-stores past a committed count.
import { sectionContaining, type CriticalSection } from '../abi/tables.js';
import type { Address } from '../types.js';
import type { LastStore } from './machine-types.js';
import type { Thread } from './thread.js';
import { copyOfMap } from './map-copy.js';

/** The last stores as a snapshot holds them: shared with the machine until either changes (copy on write). */
export type SavedStores = ReadonlyMap<Address, LastStore>;

export class SpeculativeStores {
  // Records are never changed in place; the map is shared with snapshots until its next change.
  // (Copying it on every capture and rewind was 4 % of the spinlock search's profile.)
  private lastStore = new Map<Address, LastStore>();
  private shared = false;

  constructor(private readonly sections: readonly CriticalSection[]) {}

  /** A store by `t`, made by the instruction at `ip`. */
  store(t: Thread, ip: Address, address: Address, size: number): void {
    const inside = sectionContaining(this.sections, ip) !== undefined;
    const stores = this.own();
    const record: LastStore = { tid: t.tid, attempt: t.attempt, aborted: false };
    // The attempt's bytes, for a store inside a section: a new list, not pushes, as snapshots share the thread's.
    const bytes: Address[] | null = inside ? [] : null;
    for (let i = 0; i < size; i++) {
      const at = address + BigInt(i);
      stores.set(at, record);
      bytes?.push(at);
    }
    if (bytes) t.attemptStores = t.attemptStores.concat(bytes);
  }

  /** `t` is about to execute the instruction at `ip`: leaving the sections without an abort commits. */
  step(t: Thread, ip: Address): void {
    if (t.attemptStores.length && !sectionContaining(this.sections, ip)) this.close(t, false);
  }

  /** Ends a thread's attempt; an aborted one marks its stores that are still the last ones. */
  close(t: Thread, aborted: boolean): void {
    if (aborted && t.attemptStores.length) {
      const stores = this.own();
      const record: LastStore = { tid: t.tid, attempt: t.attempt, aborted: true };
      for (const a of t.attemptStores) {
        const last = stores.get(a);
        if (last && last.tid === t.tid && last.attempt === t.attempt) stores.set(a, record);
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

  save(): SavedStores {
    this.shared = true;
    return this.lastStore;
  }

  load(saved: SavedStores): void {
    this.lastStore = saved as Map<Address, LastStore>;
    this.shared = true;
  }

  /** The map, made this object's own before a change. */
  private own(): Map<Address, LastStore> {
    if (this.shared) {
      this.lastStore = copyOfMap(this.lastStore);
      this.shared = false;
    }
    return this.lastStore;
  }
}
