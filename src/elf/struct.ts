// A binary header as a declared layout: named little-endian fields in order. One layout gives one
// reader and one writer, so the two can never disagree about an offset (Go's debug/elf style).

import { leb128 } from '../asm/layout.js';

export type FieldSize = 1 | 2 | 4 | 8;
export type Layout<K extends string> = readonly (readonly [K, FieldSize])[];
/** Every field as a bigint, so 64-bit addresses and small counts read and write the same way. */
export type Fields<K extends string> = Record<K, bigint>;

export function layoutSize<K extends string>(layout: Layout<K>): number {
  return layout.reduce((n, [, size]) => n + size, 0);
}

export function writeStruct<K extends string>(layout: Layout<K>, value: Fields<K>, out: Uint8Array, at: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let off = at;
  for (const [name, size] of layout) {
    const v = BigInt.asUintN(size * 8, value[name]);
    if (size === 8) view.setBigUint64(off, v, true);
    else if (size === 4) view.setUint32(off, Number(v), true);
    else if (size === 2) view.setUint16(off, Number(v), true);
    else view.setUint8(off, Number(v));
    off += size;
  }
}

export function readStruct<K extends string>(layout: Layout<K>, bytes: Uint8Array, at: number): Fields<K> {
  if (at < 0 || at + layoutSize(layout) > bytes.length) throw new RangeError(`a ${layoutSize(layout)}-byte header at ${at} runs past the end (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = {} as Fields<K>;
  let off = at;
  for (const [name, size] of layout) {
    out[name] = size === 8 ? view.getBigUint64(off, true) : BigInt(size === 4 ? view.getUint32(off, true) : size === 2 ? view.getUint16(off, true) : view.getUint8(off));
    off += size;
  }
  return out;
}

/** Grows as bytes are appended; the writers of string tables and DWARF programs build on it. */
export class ByteSink {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  bytes(b: ArrayLike<number>): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }

  u(value: bigint | number, size: FieldSize): this {
    const v = BigInt.asUintN(size * 8, BigInt(value));
    const b: number[] = [];
    for (let k = 0; k < size; k++) b.push(Number((v >> BigInt(8 * k)) & 0xffn));
    return this.bytes(b);
  }

  uleb(value: bigint | number): this {
    return this.bytes(leb128(BigInt(value), false));
  }

  sleb(value: bigint | number): this {
    return this.bytes(leb128(BigInt(value), true));
  }

  cstring(s: string): this {
    return this.bytes([...Buffer.from(s, 'utf8'), 0]);
  }

  /** Overwrites `size` bytes at `at` (a length field written once its value is known). */
  patch(at: number, value: bigint | number, size: FieldSize): void {
    const v = BigInt.asUintN(size * 8, BigInt(value));
    for (let k = 0; k < size; k++) this.buf[at + k] = Number((v >> BigInt(8 * k)) & 0xffn);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
