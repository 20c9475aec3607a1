// Little-endian fields of byte arrays, read and written without a DataView: a DataView needs the
// array's `.buffer`, and asking a small array for it makes V8 move the array off its heap, which
// cost more than the rest of the rseq work on the way back to user space (measured on list.json's
// search, where every return to user space decodes struct rseq and struct rseq_cs).

export const getU32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

export const getI32 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);

export const getU64 = (b: Uint8Array, at: number): bigint => BigInt(getU32(b, at)) | (BigInt(getU32(b, at + 4)) << 32n);

export function setU32(b: Uint8Array, at: number, value: number): void {
  b[at] = value;
  b[at + 1] = value >>> 8;
  b[at + 2] = value >>> 16;
  b[at + 3] = value >>> 24;
}

/** `value` is taken modulo 2^64. */
export function setU64(b: Uint8Array, at: number, value: bigint): void {
  const v = BigInt.asUintN(64, value);
  setU32(b, at, Number(v & 0xffff_ffffn));
  setU32(b, at + 4, Number(v >> 32n));
}
