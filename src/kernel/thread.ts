// Processes and threads as the kernel model sees them. A process owns an address space (one
// Unicorn instance, so a fork child really has its own memory); a thread owns its saved CPU
// context, its CPU and affinity, its rseq registration and the per-thread event mask of
// kernel/rseq.c, its signal mask and pending signals.
import type { Emulator, SavedContext } from '../engine/index.js';
import type { Address, CpuId } from '../types.js';
import type { ConcurrencyIds } from './mm-cid.js';
import type { SplitLoad } from './split-rmw.js';

export interface RseqRegistration {
  area: Address;
  length: number;
  sig: number;
}

/** The ids the kernel publishes in struct rseq: cpu_id (and cpu_id_start), node_id, mm_cid. */
export interface RseqIds {
  cpu: CpuId;
  node: number;
  mmCid: number;
}

/** RSEQ_EVENT_*: bit numbers equal the NO_RESTART_ON_* flag bits. */
export const RseqEvent = { preempt: 1, signal: 2, migrate: 4 } as const;

export interface SigAction {
  handler: Address;
  flags: bigint;
  restorer: Address;
  mask: bigint;
}

export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

/** A SysV function the thread calls `repeat` times, then exits (scenario and `--threads` threads). */
export interface ThreadProgram {
  entry: Address;
  args: readonly bigint[];
  repeat: number;
  /** rax of each completed call. */
  returns: readonly bigint[];
  /** For each completed call, a bit mask of the CPUs the thread was on during it. */
  callCpus: readonly bigint[];
  /** The CPUs of the call in progress. */
  cpusThisCall: bigint;
  /** For each completed call, the distinct ids it could observe (see Machine.noteIds). */
  callIds: readonly (readonly Readonly<RseqIds>[])[];
  /** The ids of the call in progress. */
  idsThisCall: readonly Readonly<RseqIds>[];
}

export type ThreadState = 'runnable' | 'blocked' | 'exited';

/** Why a blocked thread waits. */
export type WaitReason = { kind: 'child'; pid: number; statusPtr: Address } | { kind: 'sleep' };

export interface ThreadEnd {
  status: 'returned' | 'exited' | 'signal' | 'fault' | 'limit';
  signal?: string;
  reason?: string;
  faultAddress?: Address;
  exitCode?: number;
}

export interface Process {
  pid: number;
  emu: Emulator;
  parent: Process | null;
  sigactions: Map<number, SigAction>;
  membarrierRseqRegistered: boolean;
  /** Set when every thread has ended: the exit status wait4 reports. */
  exitStatus: number | null;
  /** The mm's concurrency ids (mm_cid). */
  cids: ConcurrencyIds;
}

export interface Thread {
  tid: number;
  process: Process;
  cpu: CpuId;
  /** Bit N set: may run on CPU N. */
  affinity: bigint;
  context: SavedContext;
  rseq: Readonly<RseqRegistration> | null;
  eventMask: number;
  /** TIF_NOTIFY_RESUME: the rseq work runs on the next return to user space. */
  notifyResume: boolean;
  /** Values last written to cpu_id_start/cpu_id/node_id/mm_cid, for profiles that compare. */
  lastIds: Readonly<RseqIds> | null;
  /** task->last_mm_cid: the concurrency id it had when it last got a CPU. */
  lastMmCid: number | null;
  /** A concurrency id fixed by whoever spawned the thread (the oracle's serial replays), or null. */
  pinnedMmCid: number | null;
  sigmask: bigint;
  pendingSignals: readonly number[];
  /** Frames of handlers supplied by the emulator (no user handler installed): registers to restore. */
  standInFrames: number;
  fsBase: Address;
  stackTop: Address;
  /** Stack and TLS mapped by the kernel model (not by user code), unmapped when the thread ends. */
  ownsMemory: boolean;
  state: ThreadState;
  wait: Readonly<WaitReason> | null;
  /** Blocked in KVM_RUN: a migration now is the one bug-kvm-run loses. */
  inKvmRun: boolean;
  program: ThreadProgram | null;
  end: Readonly<ThreadEnd> | null;
  /** Instructions this thread has executed. */
  executed: number;
  /** Instructions run since it last got its CPU: the part of its time slice used up. */
  sliceUsed: number;
  /** Its `executed` count when that slice began: which slice it is (exhaustive.ts). */
  sliceStart: number;
  /** CLONE_CHILD_CLEARTID: zeroed when the thread exits. */
  clearChildTid: Address | null;
  /** Critical-section attempts so far (a new one starts after each abort or commit). */
  attempt: number;
  /** Shared-memory bytes stored by the current attempt inside its section (speculative stores). */
  attemptStores: readonly Address[];
  /** Between the load and the store of its next instruction (a `Tn:load` schedule item, split-rmw.ts). */
  split: Readonly<SplitLoad> | null;
}
