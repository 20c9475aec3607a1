// The state cache's table (state-cache.ts) in shared memory, so that the worker threads of one
// search skip the states any of them explored, instead of
// each repeating the others' work. Measured before it (bench:workers): with a table per worker,
// two workers ran 25–37 % more schedules than one thread and took longer on most bundled K = 3
// searches.
//
// Layout: dense entries, appended as states are remembered, and an open-addressing index of
// entry numbers (linear probing, at most half full). No lock: an entry is written before its
// number is published in the index with a compare-and-swap, and an entry updated in place (a
// visit with more deviations left) is guarded by a sequence number that readers check before and
// after (a seqlock). A reader that meets a write in progress counts a miss, which only costs work.
//
// The index is in levels, each four times the last (levelsFor): the first entries go to a small
// one, later ones to the next as each fills, and a look-up probes every level in use. One index
// sized for the whole capacity (16 MB by default) spread a search's few ten thousand states over
// every page of it, and the look-ups' cache and TLB misses were 3.5 % of the spinlock's K = 3
// search (a fifth of that with an index one sixteenth the size). The price: two threads that put
// the same new key just as the table moves to its next level can both add it, one entry in each
// level; both entries are true, and it happens at most once a level for each thread but one.
import { RseqEmuError } from '../errors.js';

/** Slots of the first index level (256 KB); each next level has four times as many. */
const FIRST_LEVEL_SLOTS = 1 << 16;

/** An index level: its slots at `offset` (a power of two of them, `mask` + 1), for entries `first` to `end` - 1. */
interface IndexLevel {
  offset: number;
  mask: number;
  first: number;
  end: number;
}

/**
 * The index levels of a table of `capacity` entries: each at most half full; the last, as large
 * as a single index for the whole capacity would be, takes the entries left.
 */
export function levelsFor(capacity: number): IndexLevel[] {
  let last = 1;
  while (last < 2 * capacity) last *= 2;
  const levels: IndexLevel[] = [];
  let offset = 0;
  let first = 0;
  for (let slots = Math.min(FIRST_LEVEL_SLOTS, last); first < capacity; slots = Math.min(4 * slots, last)) {
    const end = slots === last ? capacity : Math.min(capacity, first + slots / 2);
    levels.push({ offset, mask: slots - 1, first, end });
    offset += slots;
    first = end;
  }
  return levels;
}

const indexSlots = (levels: readonly IndexLevel[]): number => levels.reduce((n, l) => n + l.mask + 1, 0);

/** The shared memory of one table: what crosses to worker threads. */
export interface StateTableMemory {
  /** [entries allocated, full flag]. */
  header: SharedArrayBuffer;
  /** Entry number + 1 per slot (0: empty). */
  index: SharedArrayBuffer;
  /** ENTRY_WORDS words per entry; grown as entries are appended. */
  entries: GrowableSharedArrayBuffer;
  capacity: number;
}

/** A growable SharedArrayBuffer: ES2024, in Node 20's V8, missing from TypeScript's ES2022 library. */
interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly maxByteLength: number;
  grow(byteLength: number): void;
}
const GrowableSharedArrayBuffer = SharedArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => GrowableSharedArrayBuffer;

/** What an entry remembers besides its key. */
export interface StateRecord {
  /** Deviations left when the state was explored. */
  left: number;
  /** The most instructions a leaf below ran past the state. */
  span: number;
  /** A 64-bit digest of the state's slice counts (two words) and their largest. */
  slices: readonly [number, number];
  maxSlice: number;
  /** Set when the entry stands only for the state whose exact digest starts with these 64 bits. */
  exact: readonly [number, number] | null;
  /** Set when the walk from the state went round a loop of pure steps (state-cache.ts). */
  loop: LoopRecord | null;
  /**
   * Thread by thread (at most RUN_THREADS of them): its slice count at the state and how far that
   * slice ran below it, both at most RUN_CAP; null when not kept (state-cache.ts).
   */
  runs: readonly (readonly [count: number, ran: number])[] | null;
}

/**
 * A loop the walk from an entry's state went round: the running thread came back to the same key
 * after `period` pure steps. `first`: its slice count at the state; `others`: a digest of the
 * slice counts with the running thread's (at index `runner`) left out.
 */
export interface LoopRecord {
  runner: number;
  first: number;
  period: number;
  others: readonly [number, number];
}

// Entry words: sequence (even: stable, odd: being rewritten), key (96 bits), exact (64), slices
// (64), maxSlice, span, left, flags (with how many threads' runs follow), a loop's runner, first
// count, period and other counts (64), and each thread's slice count and run (16 bits each).
const SEQ = 0;
const KEY = 1;
const EXACT = 4;
const SLICES = 6;
const MAX_SLICE = 8;
const SPAN = 9;
const LEFT = 10;
const FLAGS = 11;
const LOOP_RUNNER = 12;
const LOOP_FIRST = 13;
const LOOP_PERIOD = 14;
const LOOP_OTHERS = 15;
const RUNS = 17;
/** An entry keeps the runs of at most this many threads (a state with more keeps none). */
export const RUN_THREADS = 8;
/** Slice counts and runs above this are kept as it. */
export const RUN_CAP = 0xffff;
const ENTRY_WORDS = RUNS + RUN_THREADS;
const ENTRY_BYTES = ENTRY_WORDS * 4;
const HAS_EXACT = 1;
const HAS_LOOP = 2;
const RUN_COUNT_SHIFT = 2;
/** The entries grow by this many at a time. */
const GROWTH = 1 << 14;
/** A growable SharedArrayBuffer may not exceed this (V8). */
const MAX_BUFFER_BYTES = 2 ** 32 - 2 ** 16;
/** The largest capacity a table can hold. */
export const MAX_TABLE_CAPACITY = Math.floor(MAX_BUFFER_BYTES / ENTRY_BYTES);

/** Key bits a table compares: 96 bits of a SHA-1 digest leave no collision among 50 million states worth counting (n² / 2⁹⁷ < 10⁻¹³). */
export const KEY_BYTES = 12;

export function createStateTableMemory(capacity: number): StateTableMemory {
  if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= MAX_TABLE_CAPACITY)) throw new RseqEmuError('USAGE', `a state table holds 1 to ${MAX_TABLE_CAPACITY} entries, not ${capacity}`);
  const maxBytes = capacity * ENTRY_BYTES;
  return {
    header: new SharedArrayBuffer(8),
    // Pages of shared memory are mapped zeroed and cost nothing until touched.
    index: new SharedArrayBuffer(indexSlots(levelsFor(capacity)) * 4),
    entries: new GrowableSharedArrayBuffer(Math.min(maxBytes, GROWTH * ENTRY_BYTES), { maxByteLength: maxBytes }),
    capacity,
  };
}

export class StateTable {
  private readonly header: Int32Array;
  private readonly index: Int32Array;
  private readonly words: Int32Array;
  private readonly levels: readonly IndexLevel[];

  constructor(readonly memory: StateTableMemory = createStateTableMemory(1 << 16)) {
    this.header = new Int32Array(memory.header);
    this.index = new Int32Array(memory.index);
    // Without a length the view tracks the buffer as it grows (in every thread).
    this.words = new Int32Array(memory.entries);
    this.levels = levelsFor(memory.capacity);
  }

  /** The level that indexes entry `entry` (below the capacity). */
  private levelOf(entry: number): number {
    let i = 0;
    while (entry >= this.levels[i]!.end) i++;
    return i;
  }

  /** Whether the entry at word offset `at` has the key whose words are k0, k1, k2. */
  private holdsKey(at: number, k0: number, k1: number, k2: number): boolean {
    return this.words[at + KEY] === k0 && this.words[at + KEY + 1] === k1 && this.words[at + KEY + 2] === k2;
  }

  /** The entry offset (in words) of `key`'s entry in level `l`, or -1. */
  private find(l: IndexLevel, k0: number, k1: number, k2: number): number {
    for (let slot = k0 & l.mask; ; slot = (slot + 1) & l.mask) {
      const n = Atomics.load(this.index, l.offset + slot);
      if (n === 0) return -1;
      const at = (n - 1) * ENTRY_WORDS;
      if (this.holdsKey(at, k0, k1, k2)) return at;
    }
  }

  /** The entry offset (in words) of `key`'s entry in any level in use, or -1. */
  private lookUp(k0: number, k1: number, k2: number): number {
    const count = this.size;
    if (count === 0) return -1;
    for (let i = this.levelOf(count - 1); i >= 0; i--) {
      const at = this.find(this.levels[i]!, k0, k1, k2);
      if (at >= 0) return at;
    }
    return -1;
  }

  /** Entries remembered so far (by every thread). */
  get size(): number {
    return Math.min(Atomics.load(this.header, 0), this.memory.capacity);
  }

  /** Whether an entry was refused because the table was at its capacity. */
  get full(): boolean {
    return Atomics.load(this.header, 1) !== 0;
  }

  /** The record of `key` (at least KEY_BYTES of a digest), or null; null also when it is being rewritten. */
  get(key: Uint8Array): StateRecord | null {
    const [k0, k1, k2] = keyWords(key);
    const at = this.lookUp(k0, k1, k2);
    return at < 0 ? null : this.read(at);
  }

  /**
   * Remembers `record` for `key` unless an entry for it has at least as many deviations left;
   * returns whether a new entry was added. Silently drops the record when another thread is
   * rewriting the same entry, or when the table is full (then `full` says so).
   */
  put(key: Uint8Array, record: StateRecord): boolean {
    const [k0, k1, k2] = keyWords(key);
    const known = this.lookUp(k0, k1, k2);
    if (known >= 0) {
      this.update(known, record);
      return false;
    }
    if (this.full) return false;
    const entry = Atomics.add(this.header, 0, 1);
    if (entry >= this.memory.capacity) {
      Atomics.store(this.header, 1, 1);
      return false;
    }
    this.reserve(entry + 1);
    const at = entry * ENTRY_WORDS;
    this.words[at + KEY] = k0;
    this.words[at + KEY + 1] = k1;
    this.words[at + KEY + 2] = k2;
    this.write(at, record);
    this.words[at + SEQ] = 2;
    const l = this.levels[this.levelOf(entry)]!;
    for (let slot = k0 & l.mask; ; slot = (slot + 1) & l.mask) {
      const n = Atomics.load(this.index, l.offset + slot);
      if (n !== 0) {
        const other = (n - 1) * ENTRY_WORDS;
        if (!this.holdsKey(other, k0, k1, k2)) continue;
        // Another thread added the key first, in this level: this entry stays unused.
        this.update(other, record);
        return false;
      }
      // Publishing the number makes the entry's words visible to any thread that reads it.
      if (Atomics.compareExchange(this.index, l.offset + slot, 0, entry + 1) === 0) return true;
      slot = (slot - 1) & l.mask; // another thread took the slot first: look at what it put there
    }
  }

  private read(at: number): StateRecord | null {
    const seq = Atomics.load(this.words, at + SEQ);
    if (seq & 1) return null;
    const w = this.words;
    const record: StateRecord = {
      left: w[at + LEFT]!,
      span: w[at + SPAN]!,
      slices: [w[at + SLICES]!, w[at + SLICES + 1]!],
      maxSlice: w[at + MAX_SLICE]!,
      exact: w[at + FLAGS]! & HAS_EXACT ? [w[at + EXACT]!, w[at + EXACT + 1]!] : null,
      loop: w[at + FLAGS]! & HAS_LOOP ? { runner: w[at + LOOP_RUNNER]!, first: w[at + LOOP_FIRST]!, period: w[at + LOOP_PERIOD]!, others: [w[at + LOOP_OTHERS]!, w[at + LOOP_OTHERS + 1]!] } : null,
      runs: readRuns(w, at),
    };
    return Atomics.load(this.words, at + SEQ) === seq ? record : null;
  }

  private update(at: number, record: StateRecord): void {
    const seq = Atomics.load(this.words, at + SEQ);
    if (seq & 1 || this.words[at + LEFT]! >= record.left) return;
    if (Atomics.compareExchange(this.words, at + SEQ, seq, seq + 1) !== seq) return;
    this.write(at, record);
    Atomics.store(this.words, at + SEQ, seq + 2);
  }

  private write(at: number, r: StateRecord): void {
    const w = this.words;
    w[at + LEFT] = r.left;
    w[at + SPAN] = r.span;
    w[at + SLICES] = r.slices[0];
    w[at + SLICES + 1] = r.slices[1];
    w[at + MAX_SLICE] = r.maxSlice;
    w[at + EXACT] = r.exact?.[0] ?? 0;
    w[at + EXACT + 1] = r.exact?.[1] ?? 0;
    w[at + LOOP_RUNNER] = r.loop?.runner ?? 0;
    w[at + LOOP_FIRST] = r.loop?.first ?? 0;
    w[at + LOOP_PERIOD] = r.loop?.period ?? 0;
    w[at + LOOP_OTHERS] = r.loop?.others[0] ?? 0;
    w[at + LOOP_OTHERS + 1] = r.loop?.others[1] ?? 0;
    const runs = r.runs && r.runs.length <= RUN_THREADS ? r.runs : null;
    runs?.forEach(([count, ran], i) => (w[at + RUNS + i] = Math.min(count, RUN_CAP) | (Math.min(ran, RUN_CAP) << 16)));
    // One more than the threads, so that a state with none (every thread exited) still has runs.
    w[at + FLAGS] = (r.exact ? HAS_EXACT : 0) | (r.loop ? HAS_LOOP : 0) | ((runs ? runs.length + 1 : 0) << RUN_COUNT_SHIFT);
  }

  /** Grows the entries to hold `count` of them (several threads may grow it at once). */
  private reserve(count: number): void {
    const buffer = this.memory.entries;
    const need = count * ENTRY_BYTES;
    while (buffer.byteLength < need) {
      const want = Math.min(buffer.maxByteLength, Math.ceil(count / GROWTH) * GROWTH * ENTRY_BYTES);
      try {
        buffer.grow(want);
      } catch {
        // Another thread grew it past `want` meanwhile (a grow never shrinks); anything else is a bug.
        if (buffer.byteLength < need) throw new RseqEmuError('ENGINE', `state table could not grow to ${need} bytes`);
      }
    }
  }
}

function readRuns(w: Int32Array, at: number): [number, number][] | null {
  const n = (w[at + FLAGS]! >>> RUN_COUNT_SHIFT) - 1;
  if (n < 0) return null;
  const runs: [number, number][] = [];
  for (let i = 0; i < n; i++) runs.push([w[at + RUNS + i]! & RUN_CAP, w[at + RUNS + i]! >>> 16]);
  return runs;
}

function keyWords(key: Uint8Array): [number, number, number] {
  if (key.length < KEY_BYTES) throw new RseqEmuError('ENGINE', `state key of ${key.length} bytes, fewer than ${KEY_BYTES}`);
  const v = new DataView(key.buffer, key.byteOffset, KEY_BYTES);
  return [v.getInt32(0, true), v.getInt32(4, true), v.getInt32(8, true)];
}

/** A 64-bit digest of a short text as two words (FNV-1a with two offsets): for slice counts. */
export function textDigest(text: string): [number, number] {
  let a = 0x811c9dc5 | 0;
  let b = 0x050c5d1f | 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000197) ^ (b >>> 15);
  }
  return [a, b];
}
