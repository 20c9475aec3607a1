// Little-endian fields read and written byte by byte agree with DataView's.
import { strict as assert } from 'node:assert';
import { getI32, getU32, getU64, setU32, setU64 } from '../../src/abi/little-endian.js';

const bytes = Uint8Array.from([0xef, 0xbe, 0xad, 0xde, 0x78, 0x56, 0x34, 0x92, 0x01]);
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('little-endian fields', () => {
  it('reads unsigned and signed 32-bit and unsigned 64-bit fields at any offset as DataView does', () => {
    for (const at of [0, 1]) {
      assert.equal(getU32(bytes, at), view(bytes).getUint32(at, true));
      assert.equal(getI32(bytes, at + 4), view(bytes).getInt32(at + 4, true));
      assert.equal(getU64(bytes, at), view(bytes).getBigUint64(at, true));
    }
  });

  it('writes 32-bit values, negative ones as two\'s complement, and 64-bit values modulo 2^64', () => {
    const b = new Uint8Array(12);
    setU32(b, 0, -2);
    setU64(b, 4, (1n << 70n) + 0x1234_5678_9abc_def0n);
    assert.equal(view(b).getInt32(0, true), -2);
    assert.equal(view(b).getBigUint64(4, true), 0x1234_5678_9abc_def0n);
  });
});
