// The machine's public vocabulary: options, thread specs, run options, and what runs produce.
import type { GlibcRseqExports } from '../abi/glibc.js';
import type { RegisterFile } from '../engine/index.js';
import type { Address, CpuId } from '../types.js';
import type { EventSpec } from './event-spec.js';
import type { MemoryCopy } from './memory-snapshot.js';
import type { EventRecord, RunOutcome, SyscallRecord, TraceStep } from './outcome.js';
import type { Profile } from './profile.js';
import type { SavedRunLog } from './run-log.js';
import type { Schedule } from './schedule.js';
import type { RseqIds, SigAction, Thread, ThreadEnd } from './thread.js';
import type { SavedConcurrencyIds } from './mm-cid.js';
import type { Machine } from './machine.js';
import type { DefaultPolicy } from './scheduler.js';

export type Registration = 'glibc' | 'none';

export interface MachineOptions {
  cpus?: number;
  registration?: Registration;
  glibc?: GlibcRseqExports;
  /** Instruction budget per run, all threads together; beyond it the run ends with status `limit`. */
  maxInstructions?: number;
  profile?: Profile;
  /**
   * The time slice in instructions: a thread that has run this many since it got its CPU is
   * preempted when another thread waits there, and the default policy moves on to the next CPU.
   * 0 turns slices off (a thread runs until it leaves its CPU). Default DEFAULT_TIME_SLICE.
   */
  timeSlice?: number;
  /**
   * Record, for every byte of shared memory (the image and data regions), whether its last store
   * was made inside a critical section whose attempt then aborted: the try-stores a correctness
   * check may excuse. Costs one JS call per store.
   */
  trackSpeculativeStores?: boolean;
  /**
   * Skip whole rounds of a loop that changes nothing (spin-skip.ts): the run is the same, counts
   * included. Default true; false emulates every round (to compare, or to trace them).
   */
  skipRounds?: boolean;
}

/** Who stored a byte last: the thread, its section attempt, and whether that attempt aborted. */
export interface LastStore {
  readonly tid: number;
  readonly attempt: number;
  readonly aborted: boolean;
}


/** A thread the machine starts: it calls `entry(args…)` `repeat` times, then exits. */
export interface ThreadSpec {
  entry: Address;
  args: readonly bigint[];
  cpu?: CpuId;
  repeat?: number;
  /** Fixes the thread's mm_cid instead of letting the kernel assign one (serial replays). */
  mmCid?: number;
}

/** A thread leaving its CPU because of a preempt or migrate event. */
export interface SwitchOut {
  tid: number;
  kind: 'preempt' | 'migrate';
  ip: Address;
  /** The CPU it left, and the one it comes back on. */
  from: CpuId;
  to: CpuId;
}

export interface RunOptions {
  /** Explicit steps and events first; the default policy finishes the run. */
  schedule?: Schedule;
  /** Events at locations (`preempt@LABEL`), each firing once, the first time any thread gets there. */
  events?: EventSpec[];
  trace?: boolean;
  /** Runs after a preempt or migrate event, while the thread is off its CPU (tests write shared memory here). */
  onSwitchOut?: (event: SwitchOut, machine: Machine) => void;
}

export interface CallOptions extends RunOptions {
  cpu?: CpuId;
  /** The mm_cid the call sees (default: the one the kernel gives a lone thread, 0). */
  mmCid?: number;
}

export interface ThreadReport {
  tid: number;
  pid: number;
  cpu: CpuId;
  end: ThreadEnd | null;
  /** rax of each completed call of the thread's entry function. */
  returns: bigint[];
  /** For each completed call, a bit mask of the CPUs the thread was on during it. */
  callCpus: bigint[];
  /** For each completed call, the distinct (cpu_id, node_id, mm_cid) it could observe. */
  callIds: RseqIds[][];
  instructions: number;
  registers: RegisterFile;
}

/** Machine.kernelState(): state the public accessors do not show, for hashing (explore/state-hash.ts). */
export interface KernelState {
  executed: number;
  queues: number[][];
  policy: { cpu: CpuId; running: number | null };
  /** Each thread's exported uc_context, in Machine.allThreads() order. */
  contexts: Uint8Array[];
  /** Per thread, its events whose rseq outcome its next return to user space decides. */
  awaiting: [number, readonly EventRecord[]][];
  lastStores: ReadonlyMap<Address, LastStore>;
}

/** Everything a run can change: memory of every process, every thread, the kernel and the logs. */
export interface MachineSnapshot {
  processes: { pid: number; parentPid: number | null; sigactions: [number, SigAction][]; membarrier: boolean; exitStatus: number | null; memory: MemoryCopy; cids: SavedConcurrencyIds }[];
  threads: { fields: Omit<Thread, 'process' | 'context'>; pid: number; context: Uint8Array }[];
  loaded: [number, number][];
  queues: number[][];
  policy: ReturnType<DefaultPolicy['save']>;
  run: {
    executed: number;
    limited: boolean;
    locationEvents: EventSpec[];
    log: SavedRunLog;
    lastStore: ReadonlyMap<Address, LastStore>;
  };
}

/**
 * A thread's part of a run as a leaf's judge reads it (Machine.summary): its report without
 * registers, the lists shared with the thread, which the kernel model replaces and never changes.
 */
export type ThreadSummary = Omit<ThreadReport, 'registers' | 'returns' | 'callCpus' | 'callIds'> & {
  returns: readonly bigint[];
  callCpus: readonly bigint[];
  callIds: readonly (readonly Readonly<RseqIds>[])[];
};

/**
 * What judging a finished run reads (Machine.summary; a MachineOutcome has all of it): the outcome
 * without registers, logs and profile name.
 */
export interface RunSummary {
  status: MachineOutcome['status'];
  threads: readonly ThreadSummary[];
  instructions: number;
  events: readonly EventRecord[];
  warnings: readonly string[];
  /** What ran, as a schedule string (Machine.summary makes it when first read). */
  readonly schedule: string;
}

export interface MachineOutcome {
  /** completed: no thread left to run; deadlock: threads left, all blocked; limit: budget exhausted. */
  status: 'completed' | 'deadlock' | 'limit';
  threads: ThreadReport[];
  instructions: number;
  events: EventRecord[];
  syscalls: SyscallRecord[];
  output: RunOutcome['output'];
  trace: TraceStep[];
  warnings: string[];
  /** What actually ran, as a schedule string that replays this run exactly. */
  schedule: string;
  profile: string;
}

