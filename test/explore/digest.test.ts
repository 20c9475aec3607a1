import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { base64DigestOf, digestOf } from '../../src/explore/digest.js';

describe('state digests', () => {
  it('are the SHA-1 of bytes, one character per byte', () => {
    const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) & 255);
    assert.equal(digestOf(bytes), createHash('sha1').update(bytes).digest('binary'));
    assert.equal(digestOf(bytes).length, 20);
  });

  it('hash a text as its UTF-8 bytes, so digests joined as text stay apart', () => {
    const a = digestOf('a');
    const b = digestOf('b');
    assert.equal(base64DigestOf(a + b), createHash('sha1').update(Buffer.from(a + b, 'utf8')).digest('base64'));
    assert.notEqual(digestOf(a + b), digestOf(b + a));
  });
});
