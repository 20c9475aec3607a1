// The contract between the dispatcher and one system call's handler. Handlers see the calling
// thread, its process's memory and a narrow set of kernel services; they never touch the
// scheduler or the emulator directly.
import type { MemoryReader, MemoryWriter } from '../../abi/rseq.js';
import type { Address, CpuId } from '../../types.js';
import type { Profile } from '../profile.js';
import type { Process, SigAction, Thread, WaitReason } from '../thread.js';

export interface CloneRequest {
  flags: bigint;
  stack: Address;
  parentTid: Address;
  childTid: Address;
  tls: Address;
}

export interface KernelServices {
  readonly cpus: number;
  readonly profile: Profile;
  findThread(tid: number): Thread | undefined;
  threadsOf(p: Process): Thread[];
  /** Child processes not yet reaped by wait4. */
  childrenOf(p: Process): Process[];
  reap(child: Process): void;
  /** The thread at the head of CPU n's run queue. */
  runningOn(cpu: CpuId): Thread | undefined;
  /** Voluntary switch-out: sched_yield (`sleeps` false) or nanosleep; to the back of the CPU's queue. */
  yieldCpu(t: Thread, sleeps: boolean): void;
  /** Moves a thread to another CPU (sched_setaffinity): a switch-out and a migration. */
  migrate(t: Thread, cpu: CpuId): void;
  block(t: Thread, why: WaitReason): void;
  /** Queues a signal; it is delivered when the target next returns to user space. */
  sendSignal(target: Thread, signo: number, from: Thread): void;
  exitThread(t: Thread, code: number): void;
  exitGroup(p: Process, code: number): void;
  clone(parent: Thread, req: CloneRequest): Thread;
  /** Live threads and the processes they belong to (clone and fork refuse past the limits). */
  tasks(): { threads: number; processes: number; processesEver: number };
  /** A preempt event for a running thread (membarrier's RSEQ IPI; the switch cpu_opv forces). */
  rseqIpi(t: Thread): void;
  /** rt_sigreturn: restores the frame at the thread's stack; false when it cannot be read. */
  sigreturn(t: Thread): boolean;
  setSigaction(p: Process, signo: number, act: SigAction): void;
  /** Captures the first bytes of a write of `length` bytes (fewer past the capture limit). */
  output(t: Thread, fd: number, bytes: Uint8Array, length: number): void;
  /** Bytes of output still captured; past the limit a write is checked, not copied. */
  outputRoom(): number;
  /** KVM_RUN: blocks in the kernel for a while. */
  kvmRun(t: Thread): void;
}

export interface SyscallContext {
  thread: Thread;
  mem: MemoryReader & MemoryWriter;
  /** rdi, rsi, rdx, r10, r8, r9. */
  args: readonly bigint[];
  kernel: KernelServices;
}

export type SyscallResult =
  | { kind: 'return'; value: bigint }
  /** The handler set the registers itself (rt_sigreturn) or the thread is gone (exit). */
  | { kind: 'noreturn' };

export interface SyscallRow {
  nr: number;
  name: string;
  handler: (ctx: SyscallContext) => SyscallResult;
  /** Only under profiles for which this holds (an unmerged proposal's call); else -ENOSYS. */
  available?: (profile: Profile) => boolean;
}

export const returns = (value: bigint): SyscallResult => ({ kind: 'return', value });
export const NORETURN: SyscallResult = { kind: 'noreturn' };

/** Runs a memory access that may fault, giving -EFAULT's value instead. */
export function faultsAs<T>(fn: () => T, onFault: T): T {
  try {
    return fn();
  } catch {
    return onFault;
  }
}
