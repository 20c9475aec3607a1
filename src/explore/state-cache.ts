// CHESS-style state caching for the bounded exhaustive search: a state (state-hash.ts) that was
// explored to the end with at least as many deviations left needs no second visit, because the
// leaves below it — and so the violations, which the hash makes depend on nothing else — are a
// subset of those already judged. One caveat is the per-schedule instruction budget, which the hash
// leaves out: an entry remembers how many more instructions its deepest leaf ran (`span`), and a
// visit that has used more of the budget than that leaves room for is explored again.
// The cache holds at most its table's capacity of entries; once full it stops adding (the search
// stays sound, it only repeats more). The worker threads of one search share the table
// (state-table.ts): a state one of them explored to the end is skipped by all.
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
import { createStateTableMemory, StateTable, textDigest, type StateRecord } from './state-table.js';

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

/** A fingerprint's key (a base64 digest) as the bytes a table compares. */
const keyBytes = (key: string): Buffer => Buffer.from(key, 'base64');

/** The first 64 bits of a base64 digest, as two words. */
function digestWords(digest: string): [number, number] {
  const b = keyBytes(digest);
  return [b.readInt32LE(0), b.readInt32LE(4)];
}

export class StateCache {
  readonly table: StateTable;
  hits = 0;
  /** Entries this search added (the table may be shared with other threads). */
  private added = 0;

  /**
   * `table`: a capacity for a table of its own, or one shared with the other threads of the search.
   * `sliceLength`: the machine's time slice in instructions (Infinity when slices are off).
   */
  /** `fingerprint`: stateFingerprint, given the fingerprint of the state one pure step before when there is one. */
  constructor(table: number | StateTable, readonly fingerprint: (machine: Machine, before?: StateFingerprint | null) => StateFingerprint, readonly sliceLength = Infinity) {
    this.table = typeof table === 'number' ? new StateTable(createStateTableMemory(table)) : table;
  }

  /**
   * The entry that explored `state` with at least `left` deviations to spare: its span, and whether
   * it stands for every state with this key (not only the exact one). Null when there is none.
   */
  covering(state: StateFingerprint, left: number): { span: number; anyPending: boolean } | null {
    const e = this.table.get(keyBytes(state.key));
    if (e === null || e.left < left) return null;
    if (e.exact !== null) {
      const [a, b] = digestWords(state.exact ?? state.key);
      if (e.exact[0] !== a || e.exact[1] !== b) return null;
    }
    if (!sameWords(e.slices, textDigest(state.slices)) && !noTickWithin(e.maxSlice, state.maxSlice, e.span, this.sliceLength)) return null;
    return { span: e.span, anyPending: e.exact === null };
  }

  /**
   * `state` was explored to the end with `left` deviations; its leaves ran at most `span` more
   * instructions. `exactOnly`: its pending aborts did not all end as predicted.
   */
  add(state: StateFingerprint, left: number, span: number, exactOnly: boolean): void {
    const record: StateRecord = { left, span, slices: textDigest(state.slices), maxSlice: state.maxSlice, exact: exactOnly ? digestWords(state.exact ?? state.key) : null };
    if (this.table.put(keyBytes(state.key), record)) this.added++;
  }

  stats(): StateCacheStats {
    return { hits: this.hits, entries: this.added, full: this.table.full };
  }
}

const sameWords = (a: readonly [number, number], b: readonly [number, number]): boolean => a[0] === b[0] && a[1] === b[1];
