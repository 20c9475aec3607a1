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
// Thread by thread it covers more: a thread's count rises by one per instruction it runs and
// only falls when it starts anew, so one that ran fewer instructions below the entry than its
// slice leaves after either count never met its tick from there, and its count decided nothing.
// An entry keeps each thread's count and how far that slice ran below it (`runs`: the highest
// count the slice reached, which the search sees at leaves and as slices start anew); a visit
// whose counts differ only in threads that stayed short of the tick runs alike (a spinner with its
// tick in reach beside threads preempted at different points of theirs).
//
// A loop covers more. When the walk from an entry's state went round a loop — the running thread
// came back to the same key after `period` pure steps (pure-step.ts), with only its own slice count
// grown — the state is a function of the key and that count, so the walk goes on meeting the key
// every `period` instructions until the tick: it passes through the same state with the running
// thread's count first + period, first + 2·period, … up to the slice's last instruction. A visit
// with one of those counts (and every other count the entry's) lies on the entry's own default
// path, with as many deviations left, so its leaves are among the entry's: a spin loop met again
// after another thread ran (a CPU switch at each iteration of it) is explored once, not once per
// iteration. Its span is the entry's less the instructions between. A loop entered at another
// phase (the thread came to it with another count) passes the key at other counts: each phase
// (the count modulo the period) has an entry of its own, under a key of its own.
//
// A key may leave out the parts of a pending abort (pending-abort.ts). An entry whose subtree saw
// such an abort end otherwise than predicted keeps its exact fingerprint and covers only visits
// with the same one.
import type { Machine } from '../kernel/machine.js';
import type { PureStepFrom, StateFingerprint } from './state-hash.js';
import { base64DigestOf } from './digest.js';
import { createStateTableMemory, RUN_CAP, RUN_THREADS, StateTable, textDigest, type LoopRecord, type StateRecord } from './state-table.js';

/**
 * Whether states whose largest slice counts are `a` and `b` run alike for `span` instructions:
 * no tick can come within the span of either (every count plus the span stays below the slice).
 */
export const noTickWithin = (a: number, b: number, span: number, sliceLength: number): boolean => a + span < sliceLength && b + span < sliceLength;

/**
 * Whether a state with slice counts `counts` runs as the entry whose `runs` (count, how far that
 * slice ran below) are these: every thread whose count differs ran too few instructions of its
 * slice below the entry to meet its tick from either count.
 */
export function runsAlike(runs: StateRecord['runs'], counts: readonly number[], sliceLength: number): boolean {
  if (runs === null || runs.length !== counts.length) return false;
  return runs.every(([a, ran], i) => a === counts[i] || Math.max(a, counts[i]!) + ran < sliceLength);
}

/** Searches with more deviations than this do not use the cache (deep bounds are never finished). */
export const MAX_CACHED_BOUND = 256;

/** A loop the walk from a state went round: the running thread (its index among the threads) and the steps between two visits of the key. */
export interface Loop {
  runner: number;
  period: number;
}

/** The table key of one phase of a loop through the state with key `key`. */
const phaseKey = (key: string, phase: number): Buffer => keyBytes(base64DigestOf(`${key}@${phase}`));

/** A digest of slice counts with the runner's left out. */
const otherCounts = (counts: readonly number[], runner: number): [number, number] => textDigest(counts.map((c, i) => (i === runner ? '*' : c)).join(','));

/** An entry covering a visit: see StateCache.covering. */
export interface Covering {
  span: number;
  anyPending: boolean;
  /** When the visit lies on a loop of the entry's walk: how many instructions after the entry's state. */
  ahead?: number;
  /** Thread by thread, how far its slice ran below the entry, when kept (else at most `span`). */
  ran?: readonly number[];
}

export interface StateCacheStats {
  /** Visits skipped because an explored state covered them. */
  hits: number;
  /** Rounds of loops gone over whole, their events stood for by twins (quiet-rounds.ts). */
  rounds: number;
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
  /** Rounds of loops gone over (quiet-rounds.ts). */
  rounds = 0;
  /** Entries this search added (the table may be shared with other threads). */
  private added = 0;

  /**
   * `table`: a capacity for a table of its own, or one shared with the other threads of the search.
   * `fingerprint`: stateFingerprint, given the state one pure step before and the thread that
   * stepped, when there is one.
   * `sliceLength`: the machine's time slice in instructions (Infinity when slices are off).
   */
  constructor(table: number | StateTable, readonly fingerprint: (machine: Machine, from?: PureStepFrom | null) => StateFingerprint, readonly sliceLength = Infinity) {
    this.table = typeof table === 'number' ? new StateTable(createStateTableMemory(table)) : table;
  }

  /**
   * The entry that explored `state` with at least `left` deviations to spare: its span, and whether
   * it stands for every state with this key (not only the exact one). Null when there is none.
   * `runner`: the index of the thread about to run, for loops; then `ahead` says how far along the
   * entry's walk the visit lies.
   */
  covering(state: StateFingerprint, left: number, runner: number | null = null): Covering | null {
    const e = this.table.get(keyBytes(state.key));
    if (!admits(e, state, left)) return null;
    if (sameWords(e.slices, textDigest(state.slices)) || noTickWithin(e.maxSlice, state.maxSlice, e.span, this.sliceLength) || runsAlike(e.runs, state.counts, this.sliceLength)) {
      return e.runs ? { span: e.span, anyPending: e.exact === null, ran: e.runs.map(([, ran]) => ran) } : { span: e.span, anyPending: e.exact === null };
    }
    if (!e.loop || runner !== e.loop.runner) return null;
    let r = e;
    let ahead = this.alongLoop(e, e.loop, state.counts);
    if (ahead === null) {
      // Another phase of the same loop, under an entry of its own.
      const p = this.table.get(phaseKey(state.key, state.counts[runner]! % e.loop.period));
      if (!admits(p, state, left) || !p.loop || p.loop.runner !== runner) return null;
      r = p;
      ahead = this.alongLoop(p, p.loop, state.counts);
    }
    if (ahead === null) return null;
    // The visit's slices are the entry's, the runner's `ahead` further on.
    const ran = r.runs?.map(([, n], i) => (i === runner ? Math.max(0, n - ahead!) : n));
    return { span: r.span - ahead, anyPending: r.exact === null, ahead, ...(ran ? { ran } : {}) };
  }

  /** How many instructions after entry `r`'s state its walk round `loop` met a state whose slice counts are `counts` (see the file comment), or null. */
  private alongLoop(r: StateRecord, loop: LoopRecord, counts: readonly number[]): number | null {
    const ahead = (counts[loop.runner] ?? -1) - loop.first;
    if (ahead <= 0 || ahead % loop.period !== 0 || ahead > r.span || loop.first + ahead >= this.sliceLength) return null;
    return sameWords(loop.others, otherCounts(counts, loop.runner)) ? ahead : null;
  }

  /**
   * `state` was explored to the end with `left` deviations; its leaves ran at most `span` more
   * instructions, and each thread's slice ran at most `ran` further (when known). `exactOnly`: its pending aborts
   * did not all end as predicted. `loop`: the walk from it went round that loop.
   */
  add(state: StateFingerprint, left: number, span: number, exactOnly: boolean, loop: Loop | null = null, ran: readonly number[] | null = null): void {
    const around: LoopRecord | null = loop && { runner: loop.runner, first: state.counts[loop.runner]!, period: loop.period, others: otherCounts(state.counts, loop.runner) };
    // Counts of RUN_CAP or more would be kept short: such slices keep no runs.
    const runs = ran && state.counts.length <= RUN_THREADS && this.sliceLength <= RUN_CAP ? state.counts.map((c, i) => [c, ran[i] ?? span] as const) : null;
    const record: StateRecord = { left, span, slices: textDigest(state.slices), maxSlice: state.maxSlice, exact: exactOnly ? digestWords(state.exact ?? state.key) : null, loop: around, runs };
    if (this.table.put(keyBytes(state.key), record)) this.added++;
    if (around && this.table.put(phaseKey(state.key, around.first % around.period), record)) this.added++;
  }

  stats(): StateCacheStats {
    return { hits: this.hits, rounds: this.rounds, entries: this.added, full: this.table.full };
  }
}

const sameWords = (a: readonly [number, number], b: readonly [number, number]): boolean => a[0] === b[0] && a[1] === b[1];

/** Whether entry `r` was explored with at least `left` deviations to spare and, if it stands only for its exact state, that is `state`. */
function admits(r: StateRecord | null, state: StateFingerprint, left: number): r is StateRecord {
  return r !== null && r.left >= left && (r.exact === null || sameWords(r.exact, digestWords(state.exact ?? state.key)));
}
