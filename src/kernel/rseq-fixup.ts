// The return-to-user rseq work of Linux 6.1–6.18 (spec section 3; kernel/rseq.c:
// rseq_get_rseq_cs → rseq_ip_fixup → rseq_need_restart, then rseq_update_cpu_node_id).
// `decideFixup` is pure: it reads memory and returns what the kernel would do, in the kernel's
// order of checks. `applyFixup` carries the decision out. Keeping them apart lets tests name each
// check, and lets the checker and the explorer ask "what would happen here" without running.
import { RSEQ_CS_FLAG_NO_RESTART_ON_MIGRATE, RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT, RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL, RseqField, RSEQ_CS_SIZE, TASK_SIZE, decodeRseqCs, readU32, readU64, u64, type MemoryReader, type MemoryWriter, type RseqCs } from '../abi/rseq.js';
import { setU32 } from '../abi/little-endian.js';
import { hex, type Address } from '../types.js';
import type { Profile } from './profile.js';

export type FixupDecision =
  /** IP outside any section (or rseq_cs == 0): rseq_cs gets 0 stored; `wasSet` tells whether it held a descriptor. */
  | { kind: 'clear'; wasSet: boolean; descriptor: Address }
  /** Inside with no event pending: nothing changes, rseq_cs included. */
  | { kind: 'none'; descriptor: Address }
  /** Inside with an event pending: rseq_cs gets 0 and RIP becomes abort_ip; the event mask is consumed. */
  | { kind: 'abort'; descriptor: Address; abortIp: Address; cs: RseqCs }
  /** A validation failure: the thread gets SIGSEGV; nothing is written, RIP stays. */
  | { kind: 'sigsegv'; reason: string; descriptor: Address };

/** How a kernel version validates and treats flags; see fixupRules(). */
export interface FixupRules {
  /** full: every check of rseq_get_rseq_cs; reduced (6.19): pointer, abort_ip range and signature only. */
  validation: 'full' | 'reduced';
  /** reject (6.1+): non-zero flags are fatal; honour (≤ 5.19): NO_RESTART_ON_* mask events; ignore (6.19). */
  flags: 'reject' | 'honour' | 'ignore';
  /** Whether a descriptor is validated when the IP is outside it (not in 6.19's fast path). */
  validateOutside: boolean;
}

export const LEGACY_RULES: FixupRules = { validation: 'full', flags: 'reject', validateOutside: true };

export function fixupRules(p: Profile): FixupRules {
  if (p.base === 'linux-5.x') return { validation: 'full', flags: 'honour', validateOutside: true };
  if (p.base === 'linux-6.19' && !p.debug) return { validation: 'reduced', flags: 'ignore', validateOutside: false };
  return LEGACY_RULES;
}

export interface FixupInput {
  /** Address of the thread's registered struct rseq. */
  area: Address;
  /** The signature given at registration. */
  sig: number;
  ip: Address;
  /** Events (preempt/signal/migrate bits) pending since the mask was last consumed. */
  eventMask: number;
}

/** Which of the kernel's descriptor checks failed, for callers that classify failures. */
export type DescriptorCheck = 'pointer' | 'unreadable' | 'range' | 'version' | 'overflow' | 'abort-inside' | 'signature';

export type Rejected = { reason: string; check: DescriptorCheck };

/** Where a thread's struct rseq keeps its rseq_cs pointer. */
const rseqCsAt = (area: Address): Address => area + BigInt(RseqField.rseqCs);

/** Memory reads fail by throwing; every such failure is an EFAULT, hence SIGSEGV. */
function tryRead<T>(what: string, fn: () => T): T | { fault: string } {
  try {
    return fn();
  } catch {
    return { fault: `cannot read ${what}` };
  }
}
const isFault = (v: unknown): v is { fault: string } => typeof v === 'object' && v !== null && 'fault' in v;

/** Reads the descriptor rseq_cs points to: the checks every kernel makes before anything else. */
export function readDescriptor(mem: MemoryReader, ptr: Address): { cs: RseqCs } | Rejected {
  if (ptr >= TASK_SIZE) return { reason: `rseq_cs ${hex(ptr)} is not a user-space address (>= TASK_SIZE)`, check: 'pointer' };
  const bytes = tryRead(`struct rseq_cs at ${hex(ptr)}`, () => mem.read(ptr, RSEQ_CS_SIZE));
  if (isFault(bytes)) return { reason: bytes.fault, check: 'unreadable' };
  return { cs: decodeRseqCs(bytes) };
}

function checkSignature(mem: MemoryReader, cs: RseqCs, sig: number): { cs: RseqCs } | Rejected {
  const got = tryRead(`the signature at abort_ip - 4 (${hex(cs.abortIp - 4n)})`, () => readU32(mem, cs.abortIp - 4n));
  if (isFault(got)) return { reason: got.fault, check: 'signature' };
  if (got !== sig >>> 0) {
    return { reason: `signature mismatch: 0x${got.toString(16).padStart(8, '0')} at abort_ip - 4, expected 0x${(sig >>> 0).toString(16)}`, check: 'signature' };
  }
  return { cs };
}

/** 6.19's reduced checks: pointer, 4 <= abort_ip < TASK_SIZE, and the signature. */
function validateReduced(mem: MemoryReader, cs: RseqCs, sig: number): { cs: RseqCs } | Rejected {
  if (cs.abortIp < 4n || cs.abortIp >= TASK_SIZE) return { reason: `abort_ip ${hex(cs.abortIp)} is outside [4, TASK_SIZE)`, check: 'range' };
  return checkSignature(mem, cs, sig);
}

/** rseq_get_rseq_cs (≤ 6.18): the descriptor is validated even when the IP is outside it. */
export function validateDescriptor(mem: MemoryReader, ptr: Address, sig: number): { cs: RseqCs } | Rejected {
  const read = readDescriptor(mem, ptr);
  return 'reason' in read ? read : validateFull(mem, read.cs, sig);
}

/** The full checks of a descriptor already read (the kernel copies it from user memory once). */
function validateFull(mem: MemoryReader, cs: RseqCs, sig: number): { cs: RseqCs } | Rejected {
  const end = cs.startIp + cs.postCommitOffset;
  if (cs.startIp >= TASK_SIZE) return { reason: `start_ip ${hex(cs.startIp)} >= TASK_SIZE`, check: 'range' };
  if (BigInt.asUintN(64, end) >= TASK_SIZE) return { reason: `start_ip + post_commit_offset ${hex(end)} >= TASK_SIZE`, check: 'range' };
  if (cs.abortIp >= TASK_SIZE) return { reason: `abort_ip ${hex(cs.abortIp)} >= TASK_SIZE`, check: 'range' };
  if (cs.version > 0) return { reason: `descriptor version ${cs.version}, expected 0`, check: 'version' };
  if (BigInt.asUintN(64, end) < cs.startIp) return { reason: 'start_ip + post_commit_offset overflows', check: 'overflow' };
  if (BigInt.asUintN(64, cs.abortIp - cs.startIp) < cs.postCommitOffset) {
    return { reason: `abort_ip ${hex(cs.abortIp)} is inside the critical section [${hex(cs.startIp)}, ${hex(end)})`, check: 'abort-inside' };
  }
  return checkSignature(mem, cs, sig);
}

/** The kernel's unsigned "inside" test: start_ip is inside, start_ip + post_commit_offset is not. */
export const insideSection = (ip: Address, cs: RseqCs): boolean => BigInt.asUintN(64, ip - cs.startIp) < cs.postCommitOffset;

export function decideFixup(mem: MemoryReader, input: FixupInput, rules: FixupRules = LEGACY_RULES): FixupDecision {
  const ptr = tryRead('rseq->rseq_cs', () => readU64(mem, rseqCsAt(input.area)));
  if (isFault(ptr)) return { kind: 'sigsegv', reason: ptr.fault, descriptor: 0n };
  if (ptr === 0n) return { kind: 'clear', wasSet: false, descriptor: 0n };
  const read = readDescriptor(mem, ptr);
  if ('reason' in read) return { kind: 'sigsegv', reason: read.reason, descriptor: ptr };
  if (!rules.validateOutside && !insideSection(input.ip, read.cs)) return { kind: 'clear', wasSet: true, descriptor: ptr };
  const v = rules.validation === 'full' ? validateFull(mem, read.cs, input.sig) : validateReduced(mem, read.cs, input.sig);
  if ('reason' in v) return { kind: 'sigsegv', reason: v.reason, descriptor: ptr };
  if (!insideSection(input.ip, v.cs)) return { kind: 'clear', wasSet: true, descriptor: ptr };
  let pending = input.eventMask;
  if (rules.flags !== 'ignore') {
    // rseq_need_restart: the descriptor's flags are looked at before the thread's are read.
    if (rules.flags === 'reject' && v.cs.flags !== 0) return { kind: 'sigsegv', reason: `rseq_cs.flags is 0x${v.cs.flags.toString(16)}; non-zero flags are rejected since Linux 6.1`, descriptor: ptr };
    const flags = tryRead('rseq->flags', () => readU32(mem, input.area + BigInt(RseqField.flags)));
    if (isFault(flags)) return { kind: 'sigsegv', reason: flags.fault, descriptor: ptr };
    if (rules.flags === 'reject' && flags !== 0) return { kind: 'sigsegv', reason: `rseq->flags is 0x${flags.toString(16)}; non-zero flags are rejected since Linux 6.1`, descriptor: ptr };
    if (rules.flags === 'honour') {
      const all = flags | v.cs.flags;
      const preemptMigrate = RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT | RSEQ_CS_FLAG_NO_RESTART_ON_MIGRATE;
      if (all & RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL && (all & preemptMigrate) !== preemptMigrate) {
        return { kind: 'sigsegv', reason: 'NO_RESTART_ON_SIGNAL without NO_RESTART_ON_PREEMPT and NO_RESTART_ON_MIGRATE', descriptor: ptr };
      }
      pending &= ~all;
    }
  }
  if (pending === 0) return { kind: 'none', descriptor: ptr };
  return { kind: 'abort', descriptor: ptr, abortIp: v.cs.abortIp, cs: v.cs };
}

export interface FixupEffects {
  /** The new RIP when the decision redirects the thread. */
  ip: Address | null;
  /** Whether the event mask was read-and-cleared (only when the IP was inside a valid section). */
  consumedEvents: boolean;
  /** A write that faulted (the area became unwritable): the thread gets SIGSEGV. */
  fault: string | null;
}

/** Performs the decision's stores. The caller sets RIP and handles SIGSEGV. */
export function applyFixup(mem: MemoryWriter, area: Address, d: FixupDecision): FixupEffects {
  try {
    switch (d.kind) {
      case 'clear':
        mem.write(rseqCsAt(area), u64(0n));
        return { ip: null, consumedEvents: false, fault: null };
      case 'none':
        return { ip: null, consumedEvents: true, fault: null };
      case 'abort':
        mem.write(rseqCsAt(area), u64(0n));
        return { ip: d.abortIp, consumedEvents: true, fault: null };
      case 'sigsegv':
        return { ip: null, consumedEvents: false, fault: null };
    }
  } catch {
    return { ip: null, consumedEvents: d.kind !== 'clear', fault: `cannot write rseq->rseq_cs at ${hex(rseqCsAt(area))}` };
  }
}

/** rseq_update_cpu_node_id: written on every pass, even when unchanged. */
export function cpuIdFields(cpu: number, nodeId: number, mmCid: number): { offset: number; bytes: Uint8Array }[] {
  const b = new Uint8Array(8);
  setU32(b, 0, cpu);
  setU32(b, 4, cpu);
  const tail = new Uint8Array(8);
  setU32(tail, 0, nodeId);
  setU32(tail, 4, mmCid);
  return [
    { offset: RseqField.cpuIdStart, bytes: b },
    { offset: RseqField.nodeId, bytes: tail },
  ];
}

