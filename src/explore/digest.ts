// SHA-1 digests for state hashing, made in one call and returned as strings. A Hash object
// (createHash, update, digest) cost about 1.9 µs for 176 bytes, of which the Buffer it returns
// was most; crypto.hash into a string, 0.3 µs (Node 20.20, this machine). A fingerprint makes
// several, so its parts are joined as strings and hashed once.
import * as crypto from 'node:crypto';

/** A SHA-1 digest as a 20-character string, one character per byte ('binary', that is latin1). */
export type Digest = string;

type OneShot = (algorithm: string, data: string | Uint8Array, encoding: 'binary' | 'base64') => string;

// crypto.hash came in Node 20.12; the package runs on 20.6 too.
const oneShot: OneShot = (crypto as { hash?: OneShot }).hash ?? ((algorithm, data, encoding) => crypto.createHash(algorithm).update(data).digest(encoding));

/**
 * The SHA-1 digest of `data`. A string is hashed as its UTF-8 bytes, which tell any two strings
 * apart (digests joined as text included: each character stays one code point).
 */
export const digestOf = (data: string | Uint8Array): Digest => oneShot('sha1', data, 'binary');

/** The same digest in base64 (fingerprint keys). */
export const base64DigestOf = (data: string | Uint8Array): string => oneShot('sha1', data, 'base64');
