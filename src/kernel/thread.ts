// A thread as the kernel model sees it: saved registers while it is not on the CPU, its CPU, its
// rseq registration and the per-thread event mask of kernel/rseq.c.
import type { Address, CpuId } from '../types.js';

export interface RseqRegistration {
  area: Address;
  length: number;
  sig: number;
}

/** RSEQ_EVENT_*: bit numbers equal the NO_RESTART_ON_* flag bits. */
export const RseqEvent = { preempt: 1, signal: 2, migrate: 4 } as const;

export type ThreadState = 'runnable' | 'exited' | 'killed';

export interface Thread {
  tid: number;
  cpu: CpuId;
  rseq: RseqRegistration | null;
  eventMask: number;
  /** TIF_NOTIFY_RESUME: the rseq work runs on the next return to user space. */
  notifyResume: boolean;
  fsBase: Address;
  stackTop: Address;
  state: ThreadState;
}
