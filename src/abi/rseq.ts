// The rseq user/kernel ABI: constants and the two structs (include/uapi/linux/rseq.h), read and
// written through a small memory interface so the same code serves images and live memory.
import type { Address } from '../types.js';

export const RSEQ_SIG = 0x53053053;
export const NR_RSEQ = 334;
export const TASK_SIZE = 0x00007ffffffff000n;

export const RSEQ_FLAG_UNREGISTER = 1;
export const RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT = 1;
export const RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL = 2;
export const RSEQ_CS_FLAG_NO_RESTART_ON_MIGRATE = 4;

export const RSEQ_CPU_ID_UNINITIALIZED = -1;
export const RSEQ_CPU_ID_REGISTRATION_FAILED = -2;

/** struct rseq: 32 bytes, 32-aligned. */
export const RSEQ_AREA_SIZE = 32;
export const RSEQ_AREA_ALIGN = 32;
export const RseqField = { cpuIdStart: 0, cpuId: 4, rseqCs: 8, flags: 16, nodeId: 20, mmCid: 24 } as const;

/** struct rseq_cs: 32 bytes, 32-aligned. */
export const RSEQ_CS_SIZE = 32;
export const RseqCsField = { version: 0, flags: 4, startIp: 8, postCommitOffset: 16, abortIp: 24 } as const;

/** The 7 bytes before an abort handler: `ud1 0x53053053(%rip), %edi`, whose last 4 bytes are the signature. */
export const SIGNATURE_PREFIX = [0x0f, 0xb9, 0x3d] as const;

export interface MemoryReader {
  read(address: Address, length: number): Uint8Array;
}
export interface MemoryWriter {
  write(address: Address, bytes: Uint8Array): void;
}

export interface RseqCs {
  version: number;
  flags: number;
  startIp: Address;
  postCommitOffset: bigint;
  abortIp: Address;
}

export interface RseqArea {
  cpuIdStart: number;
  cpuId: number;
  rseqCs: Address;
  flags: number;
  nodeId: number;
  mmCid: number;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function decodeRseqCs(bytes: Uint8Array): RseqCs {
  const v = view(bytes);
  return {
    version: v.getUint32(RseqCsField.version, true),
    flags: v.getUint32(RseqCsField.flags, true),
    startIp: v.getBigUint64(RseqCsField.startIp, true),
    postCommitOffset: v.getBigUint64(RseqCsField.postCommitOffset, true),
    abortIp: v.getBigUint64(RseqCsField.abortIp, true),
  };
}

export function encodeRseqCs(cs: RseqCs): Uint8Array {
  const out = new Uint8Array(RSEQ_CS_SIZE);
  const v = view(out);
  v.setUint32(RseqCsField.version, cs.version, true);
  v.setUint32(RseqCsField.flags, cs.flags, true);
  v.setBigUint64(RseqCsField.startIp, cs.startIp, true);
  v.setBigUint64(RseqCsField.postCommitOffset, cs.postCommitOffset, true);
  v.setBigUint64(RseqCsField.abortIp, cs.abortIp, true);
  return out;
}

export function readRseqArea(mem: MemoryReader, address: Address): RseqArea {
  const v = view(mem.read(address, RSEQ_AREA_SIZE));
  return {
    cpuIdStart: v.getUint32(RseqField.cpuIdStart, true),
    cpuId: v.getInt32(RseqField.cpuId, true),
    rseqCs: v.getBigUint64(RseqField.rseqCs, true),
    flags: v.getUint32(RseqField.flags, true),
    nodeId: v.getUint32(RseqField.nodeId, true),
    mmCid: v.getUint32(RseqField.mmCid, true),
  };
}

export function encodeRseqArea(a: RseqArea): Uint8Array {
  const out = new Uint8Array(RSEQ_AREA_SIZE);
  const v = view(out);
  v.setUint32(RseqField.cpuIdStart, a.cpuIdStart, true);
  v.setInt32(RseqField.cpuId, a.cpuId, true);
  v.setBigUint64(RseqField.rseqCs, a.rseqCs, true);
  v.setUint32(RseqField.flags, a.flags, true);
  v.setUint32(RseqField.nodeId, a.nodeId, true);
  v.setUint32(RseqField.mmCid, a.mmCid, true);
  return out;
}

export const u32 = (value: number): Uint8Array => {
  const b = new Uint8Array(4);
  view(b).setUint32(0, value >>> 0, true);
  return b;
};
export const u64 = (value: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  view(b).setBigUint64(0, BigInt.asUintN(64, value), true);
  return b;
};
/** The little-endian u64 words of a byte array (a trailing partial word is ignored). */
export function u64Words(bytes: Uint8Array): bigint[] {
  const v = view(bytes);
  return Array.from({ length: bytes.length >> 3 }, (_, i) => v.getBigUint64(i * 8, true));
}

export const readU32 = (mem: MemoryReader, address: Address): number => view(mem.read(address, 4)).getUint32(0, true);
export const readU64 = (mem: MemoryReader, address: Address): bigint => view(mem.read(address, 8)).getBigUint64(0, true);
