import assert from 'node:assert/strict';
import { CanonicalWriter } from '../../src/explore/canonical-bytes.js';

const hexOf = (value: unknown): string => Buffer.from(new CanonicalWriter().bytesOf(value)).toString('hex');

describe('canonical bytes of machine state', () => {
  it('gives equal values equal bytes, however they were built', () => {
    const holey: unknown[] = [];
    holey[1] = 2n;
    holey[0] = 'a';
    assert.equal(hexOf([new Map([[1, { x: [true, null] }]]), new Set([3n]), holey]), hexOf([new Map([[1, { x: [true, null] }]]), new Set([3n]), ['a', 2n]]));
    assert.equal(hexOf(Uint8Array.of(1, 2, 3)), hexOf(Buffer.from([1, 2, 3])));
  });

  it('tells apart values that differ only in type, size or nesting', () => {
    const values: unknown[] = [
      1, 1n, '1', true, null, undefined, 0, -0, [1, 2], [[1], 2], [1, [2]], ['ab'], ['a', 'b'],
      { a: 1, b: 2 }, { b: 2, a: 1 }, new Map([[1, 2]]), [[1, 2]], new Set([1, 2]), Uint8Array.of(1, 2),
      2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n, -1n, '\u00e9', 'e\u0301', '\u0100', '\u0001\u0001',
    ];
    const seen = new Map<string, unknown>();
    for (const v of values) {
      const h = hexOf(v);
      assert.ok(!seen.has(h), `${String(v)} encodes as ${String(seen.get(h))} does`);
      seen.set(h, v);
    }
  });

  it('keeps one encoding valid until the next, growing past its first buffer', () => {
    const w = new CanonicalWriter();
    const long = 'x'.repeat(10_000);
    const first = Buffer.from(w.bytesOf([long, 5]));
    assert.equal(Buffer.from(w.bytesOf([long, 5])).toString('hex'), first.toString('hex'));
    assert.notEqual(Buffer.from(w.bytesOf([long, 6])).toString('hex'), first.toString('hex'));
  });
});
