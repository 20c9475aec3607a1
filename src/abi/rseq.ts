// The rseq user/kernel ABI: constants and the two structs (include/uapi/linux/rseq.h), read and
// written through a small memory interface so the same code serves images and live memory.
import type { Address } from '../types.js';
import { getI32, getU32, getU64, setU32, setU64 } from './little-endian.js';

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

export function decodeRseqCs(bytes: Uint8Array): RseqCs {
  return {
    version: getU32(bytes, RseqCsField.version),
    flags: getU32(bytes, RseqCsField.flags),
    startIp: getU64(bytes, RseqCsField.startIp),
    postCommitOffset: getU64(bytes, RseqCsField.postCommitOffset),
    abortIp: getU64(bytes, RseqCsField.abortIp),
  };
}

export function encodeRseqCs(cs: RseqCs): Uint8Array {
  const out = new Uint8Array(RSEQ_CS_SIZE);
  setU32(out, RseqCsField.version, cs.version);
  setU32(out, RseqCsField.flags, cs.flags);
  setU64(out, RseqCsField.startIp, cs.startIp);
  setU64(out, RseqCsField.postCommitOffset, cs.postCommitOffset);
  setU64(out, RseqCsField.abortIp, cs.abortIp);
  return out;
}

export function readRseqArea(mem: MemoryReader, address: Address): RseqArea {
  const b = mem.read(address, RSEQ_AREA_SIZE);
  return {
    cpuIdStart: getU32(b, RseqField.cpuIdStart),
    cpuId: getI32(b, RseqField.cpuId),
    rseqCs: getU64(b, RseqField.rseqCs),
    flags: getU32(b, RseqField.flags),
    nodeId: getU32(b, RseqField.nodeId),
    mmCid: getU32(b, RseqField.mmCid),
  };
}

export function encodeRseqArea(a: RseqArea): Uint8Array {
  const out = new Uint8Array(RSEQ_AREA_SIZE);
  setU32(out, RseqField.cpuIdStart, a.cpuIdStart);
  setU32(out, RseqField.cpuId, a.cpuId);
  setU64(out, RseqField.rseqCs, a.rseqCs);
  setU32(out, RseqField.flags, a.flags);
  setU32(out, RseqField.nodeId, a.nodeId);
  setU32(out, RseqField.mmCid, a.mmCid);
  return out;
}

export const u32 = (value: number): Uint8Array => {
  const b = new Uint8Array(4);
  setU32(b, 0, value);
  return b;
};
export const u64 = (value: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  setU64(b, 0, value);
  return b;
};
/** The little-endian u64 words of a byte array (a trailing partial word is ignored). */
export function u64Words(bytes: Uint8Array): bigint[] {
  // A loop: Array.from with a callback took 52 ms of a search's profile where this takes 1 (a leaf's invariants read these).
  const words = new Array<bigint>(bytes.length >> 3);
  for (let i = 0; i < words.length; i++) words[i] = getU64(bytes, i * 8);
  return words;
}

export const readU32 = (mem: MemoryReader, address: Address): number => getU32(mem.read(address, 4), 0);
export const readU64 = (mem: MemoryReader, address: Address): bigint => getU64(mem.read(address, 8), 0);
