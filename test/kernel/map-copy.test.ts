// Map copies for snapshots: the same entries in the same order (memory digests iterate pages in it).
import { strict as assert } from 'node:assert';
import { copyOfMap } from '../../src/kernel/map-copy.js';

describe('map copies', () => {
  it('hold the same entries in the same order, in a map of their own', () => {
    const m = new Map<bigint, string>([[0x3000n, 'c'], [0x1000n, 'a'], [0x2000n, 'b']]);
    const copy = copyOfMap(m);
    assert.deepEqual([...copy], [...m]);
    copy.set(0x4000n, 'd');
    assert.equal(m.size, 3);
  });
});
