// CHESS-style state caching for the bounded exhaustive search: a state (state-hash.ts) that was
// explored to the end with at least as many deviations left needs no second visit, because the
// leaves below it — and so the violations, which the hash makes depend on nothing else — are a
// subset of those already judged. One caveat is the per-schedule instruction budget, which the hash
// leaves out: an entry remembers how many more instructions its deepest leaf ran (`span`), and a
// visit that has used more of the budget than that leaves room for is explored again.
// The cache holds at most `capacity` entries; once full it stops adding (the search stays sound,
// it only repeats more).
//
// A key may leave out the parts of a pending abort (pending-abort.ts). An entry whose subtree saw
// such an abort end otherwise than predicted keeps its exact fingerprint and covers only visits
// with the same one.
import type { Machine } from '../kernel/machine.js';
import type { StateFingerprint } from './state-hash.js';

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
  /** key → the exact fingerprint an entry may only cover. */
  private readonly exactOnly = new Map<string, string>();
  hits = 0;
  full = false;

  /** `key` fingerprints a machine's state (state-hash.ts). */
  constructor(readonly capacity: number, readonly fingerprint: (machine: Machine) => StateFingerprint) {}

  /**
   * The entry that explored `state` with at least `left` deviations to spare: its span, and whether
   * it stands for every state with this key (not only the exact one). Null when there is none.
   */
  covering(state: StateFingerprint, left: number): { span: number; anyPending: boolean } | null {
    const v = this.map.get(state.key);
    if (v === undefined || v % MAX_CACHED_BOUND < left) return null;
    const exact = this.exactOnly.get(state.key);
    if (exact !== undefined && exact !== (state.exact ?? state.key)) return null;
    return { span: Math.floor(v / MAX_CACHED_BOUND), anyPending: exact === undefined };
  }

  /**
   * `state` was explored to the end with `left` deviations; its leaves ran at most `span` more
   * instructions. `exactOnly`: its pending aborts did not all end as predicted.
   */
  add(state: StateFingerprint, left: number, span: number, exactOnly: boolean): void {
    const v = this.map.get(state.key);
    if (v !== undefined && v % MAX_CACHED_BOUND >= left) return;
    if (v === undefined && this.map.size >= this.capacity) {
      this.full = true;
      return;
    }
    this.map.set(state.key, span * MAX_CACHED_BOUND + left);
    if (exactOnly) this.exactOnly.set(state.key, state.exact ?? state.key);
    else this.exactOnly.delete(state.key);
  }

  stats(): StateCacheStats {
    return { hits: this.hits, entries: this.map.size, full: this.full };
  }
}
