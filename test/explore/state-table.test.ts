import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { createStateTableMemory, KEY_BYTES, levelsFor, StateTable, textDigest, type StateRecord } from '../../src/explore/state-table.js';
import { keyOf } from './fixtures/state-table-keys.js';

/** A worker's messages, taken one at a time in order; an error in the worker rejects. */
function inbox(w: Worker): () => Promise<unknown> {
  const queue: unknown[] = [];
  const waiting: { resolve: (m: unknown) => void; reject: (e: Error) => void }[] = [];
  let failed: Error | null = null;
  w.on('message', (m) => (waiting.length ? waiting.shift()!.resolve(m) : queue.push(m)));
  w.on('error', (e) => {
    failed = e;
    for (const p of waiting.splice(0)) p.reject(e);
  });
  return () => (queue.length ? Promise.resolve(queue.shift()) : failed ? Promise.reject(failed) : new Promise((resolve, reject) => waiting.push({ resolve, reject })));
}

const record = (left: number, span = 10): StateRecord => ({ left, span, slices: textDigest('0,0'), maxSlice: 0, exact: null, loop: null, runs: null });

describe('the shared state table', () => {
  it('gives back the record put for a key, and nothing for a key never put', () => {
    const t = new StateTable(createStateTableMemory(100));
    const r: StateRecord = { left: 2, span: 345, slices: textDigest('3,0,17'), maxSlice: 17, exact: [0x12345678, -5], loop: null, runs: [[3, 40], [0, 0], [17, 65535]] };
    assert.equal(t.put(keyOf(1), r), true);
    assert.deepEqual(t.get(keyOf(1)), r);
    assert.equal(t.get(keyOf(2)), null);
  });

  it('replaces an entry with one explored with more deviations left, never with fewer', () => {
    const t = new StateTable(createStateTableMemory(100));
    t.put(keyOf(1), record(1, 40));
    assert.equal(t.put(keyOf(1), record(2, 55)), false, 'an update adds no entry');
    t.put(keyOf(1), record(1, 10));
    assert.deepEqual(t.get(keyOf(1)), record(2, 55));
    assert.equal(t.size, 1);
  });

  it('holds more entries than its first allocation, all found again', () => {
    const t = new StateTable(createStateTableMemory(50_000));
    for (let i = 0; i < 40_000; i++) t.put(keyOf(i), record(i % 5, i));
    for (let i = 0; i < 40_000; i += 997) assert.deepEqual(t.get(keyOf(i)), record(i % 5, i));
    assert.equal(t.size, 40_000);
  });

  it('stops adding at its capacity and says it is full', () => {
    const t = new StateTable(createStateTableMemory(3));
    for (let i = 0; i < 5; i++) t.put(keyOf(i), record(1));
    assert.equal(t.size, 3);
    assert.equal(t.full, true);
    assert.equal(t.get(keyOf(4)), null);
    assert.deepEqual(t.get(keyOf(0)), record(1));
  });

  it('refuses a key shorter than the bits it compares', () => {
    const t = new StateTable(createStateTableMemory(3));
    assert.throws(() => t.get(new Uint8Array(KEY_BYTES - 1)), /fewer than 12/);
  });

  it('indexes its first entries in a small level and each later level in one four times larger, none more than half full', () => {
    const levels = levelsFor(2_000_000);
    assert.deepEqual(levels.map((l) => l.mask + 1), [1 << 16, 1 << 18, 1 << 20, 1 << 22]);
    assert.deepEqual(levels.map((l) => [l.first, l.end]), [[0, 32_768], [32_768, 163_840], [163_840, 688_128], [688_128, 2_000_000]]);
    for (const l of levels) assert.ok(2 * (l.end - l.first) <= l.mask + 1);
    assert.deepEqual(levelsFor(100).map((l) => [l.mask + 1, l.first, l.end]), [[256, 0, 100]]);
  });

  it('finds entries of every level again, past the first', () => {
    const t = new StateTable(createStateTableMemory(200_000));
    for (let i = 0; i < 170_000; i++) t.put(keyOf(i), record(i % 5, i));
    for (let i = 0; i < 170_000; i += 331) assert.deepEqual(t.get(keyOf(i)), record(i % 5, i), `key ${i}`);
    assert.equal(t.put(keyOf(169_999), record(4, 1)), false, 'a key of the last level is not added again');
    assert.equal(t.size, 170_000);
  });

  it('is one table for every thread: what two workers put at the same time is all there, once each but at a change of level', async function () {
    this.timeout(60_000);
    const memory = createStateTableMemory(100_000);
    // The same keys in the same order, so both threads race to insert each.
    const ranges = [[0, 50_000], [0, 50_000]];
    const url = new URL('./fixtures/state-table-writer.mjs', import.meta.url);
    const start = new Int32Array(new SharedArrayBuffer(4));
    const writers = ranges.map(([from, to]) => inbox(new Worker(url, { workerData: { memory, from, to, start } })));
    await Promise.all(writers.map((next) => next())); // both say 'ready'
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    const added = (await Promise.all(writers.map((next) => next()))) as number[];
    const t = new StateTable(memory);
    for (let i = 0; i < 50_000; i++) assert.equal(t.get(keyOf(i))?.span, i, `key ${i}`);
    // Exactly once, but for a key both put just as the table moved to its next level (state-table.ts).
    const boundaries = levelsFor(100_000).length - 1;
    assert.ok(added[0]! + added[1]! >= 50_000 && added[0]! + added[1]! <= 50_000 + boundaries, `added ${added[0]! + added[1]!}`);
  });
});
