// CHESS-style state caching for the bounded exhaustive search: a state (state-hash.ts) that was
// explored to the end with at least as many deviations left needs no second visit, because the
// leaves below it — and so the violations, which the hash makes depend on nothing else — are a
// subset of those already judged. One caveat is the per-schedule instruction budget, which the hash
// leaves out: an entry remembers how many more instructions its deepest leaf ran (`span`), and a
// visit that has used more of the budget than that leaves room for is explored again.
// The cache holds at most `capacity` entries; once full it stops adding (the search stays sound,
// it only repeats more).
//
// Keys leave out how much of its time slice each thread has used: that decides only where the next
// tick comes. An entry covers a visit with other slice counts when no tick can come in the span of
// either (every count plus the span stays below the slice): then the runs below both are the same.
//
// A key may leave out the parts of a pending abort (pending-abort.ts). An entry whose subtree saw
// such an abort end otherwise than predicted keeps its exact fingerprint and covers only visits
// with the same one.
import type { Machine } from '../kernel/machine.js';
import type { StateFingerprint } from './state-hash.js';

/**
 * Whether states whose largest slice counts are `a` and `b` run alike for `span` instructions:
 * no tick can come within the span of either (every count plus the span stays below the slice).
 */
export const noTickWithin = (a: number, b: number, span: number, sliceLength: number): boolean => a + span < sliceLength && b + span < sliceLength;

/** Searches with more deviations than this do not use the cache (deep bounds are never finished). */
export const MAX_CACHED_BOUND = 256;

export interface StateCacheStats {
  /** Visits skipped because an explored state covered them. */
  hits: number;
  entries: number;
  /** The cap was reached and later states were not remembered. */
  full: boolean;
}

interface Entry {
  /** Deviations left when the state was explored. */
  left: number;
  /** The most instructions a leaf below ran past the state. */
  span: number;
  /** The state's slice counts (StateFingerprint.slices) and their largest. */
  slices: string;
  maxSlice: number;
  /** Set when the entry stands only for the state with this exact fingerprint. */
  exact?: string;
}

export class StateCache {
  private readonly map = new Map<string, Entry>();
  hits = 0;
  full = false;

  /** `sliceLength`: the machine's time slice in instructions (Infinity when slices are off). */
  constructor(readonly capacity: number, readonly fingerprint: (machine: Machine) => StateFingerprint, readonly sliceLength = Infinity) {}

  /**
   * The entry that explored `state` with at least `left` deviations to spare: its span, and whether
   * it stands for every state with this key (not only the exact one). Null when there is none.
   */
  covering(state: StateFingerprint, left: number): { span: number; anyPending: boolean } | null {
    const e = this.map.get(state.key);
    if (e === undefined || e.left < left) return null;
    if (e.exact !== undefined && e.exact !== (state.exact ?? state.key)) return null;
    if (e.slices !== state.slices && !noTickWithin(e.maxSlice, state.maxSlice, e.span, this.sliceLength)) return null;
    return { span: e.span, anyPending: e.exact === undefined };
  }

  /**
   * `state` was explored to the end with `left` deviations; its leaves ran at most `span` more
   * instructions. `exactOnly`: its pending aborts did not all end as predicted.
   */
  add(state: StateFingerprint, left: number, span: number, exactOnly: boolean): void {
    const e = this.map.get(state.key);
    if (e !== undefined && e.left >= left) return;
    if (e === undefined && this.map.size >= this.capacity) {
      this.full = true;
      return;
    }
    this.map.set(state.key, { left, span, slices: state.slices, maxSlice: state.maxSlice, ...(exactOnly ? { exact: state.exact ?? state.key } : {}) });
  }

  stats(): StateCacheStats {
    return { hits: this.hits, entries: this.map.size, full: this.full };
  }
}
