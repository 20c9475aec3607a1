// CHESS-style state caching for the bounded exhaustive search: a state (state-hash.ts) that was
// explored to the end with at least as many deviations left needs no second visit, because the
// leaves below it — and so the violations, which the hash makes depend on nothing else — are a
// subset of those already judged. One caveat is the per-schedule instruction budget, which the hash
// leaves out: an entry remembers how many more instructions its deepest leaf ran (`span`), and a
// visit that has used more of the budget than that leaves room for is explored again.
// The cache holds at most `capacity` entries; once full it stops adding (the search stays sound,
// it only repeats more).
import type { Machine } from '../kernel/machine.js';

/** `left` must stay below this: it is packed with the span into one number per entry. */
export const MAX_CACHED_BOUND = 256;

export interface StateCacheStats {
  /** Visits skipped because an explored state covered them. */
  hits: number;
  entries: number;
  /** The cap was reached and later states were not remembered. */
  full: boolean;
}

export class StateCache {
  /** key → span * MAX_CACHED_BOUND + left: 77 bytes of heap an entry with its key (measured over 10^6). */
  private readonly map = new Map<string, number>();
  hits = 0;
  full = false;

  /** `key` fingerprints a machine's state (state-hash.ts). */
  constructor(readonly capacity: number, readonly key: (machine: Machine) => string) {}

  /** The span of an entry that explored `key` with at least `left` deviations to spare, or null. */
  covering(key: string, left: number): number | null {
    const v = this.map.get(key);
    if (v === undefined || v % MAX_CACHED_BOUND < left) return null;
    return Math.floor(v / MAX_CACHED_BOUND);
  }

  /** `key` was explored to the end with `left` deviations; its leaves ran at most `span` more instructions. */
  add(key: string, left: number, span: number): void {
    const v = this.map.get(key);
    if (v !== undefined && v % MAX_CACHED_BOUND >= left) return;
    if (v === undefined && this.map.size >= this.capacity) {
      this.full = true;
      return;
    }
    this.map.set(key, span * MAX_CACHED_BOUND + left);
  }

  stats(): StateCacheStats {
    return { hits: this.hits, entries: this.map.size, full: this.full };
  }
}
