// What a run produced: how it ended, the kernel events and their rseq outcomes, system calls,
// captured output and (optionally) the executed instructions. Reports are made from this alone.
import type { Address, CpuId } from '../types.js';

export type RunStatus = 'returned' | 'exited' | 'signal' | 'fault' | 'limit';
export type EventOutcome = 'none' | 'cleared' | 'aborted' | 'sigsegv';

export interface EventRecord {
  kind: 'preempt' | 'migrate' | 'signal';
  /** The event as the user wrote it. */
  spec: string;
  /** RIP when the event happened: the instruction about to execute. */
  ip: Address;
  /** The CPU after the event. */
  cpu: CpuId;
  tid: number;
  /** Whether the thread had an rseq registration when the event came (a new clone thread has none yet). */
  registered?: boolean;
  /** Number of instructions executed before the event. */
  before: number;
  outcome: EventOutcome;
  /** Where the thread resumes (abort_ip after an abort). */
  resumeIp: Address;
  descriptor: Address;
  reason?: string;
}

export interface SyscallRecord {
  tid: number;
  nr: number;
  name: string;
  args: bigint[];
  ret: bigint | null;
  /** Address of the `syscall` instruction. */
  ip: Address;
  implemented: boolean;
  /** Made with the IP inside a registered, valid critical section: never allowed. */
  insideCriticalSection: boolean;
}

export interface TraceStep {
  index: number;
  tid: number;
  cpu: CpuId;
  address: Address;
  size: number;
}

export interface RunOutcome {
  status: RunStatus;
  signal?: string;
  reason?: string;
  /** The faulting data address for memory faults. */
  faultAddress?: Address;
  /** RIP when the run ended. */
  ip: Address;
  rax: bigint;
  exitCode?: number;
  instructions: number;
  events: EventRecord[];
  syscalls: SyscallRecord[];
  output: { tid: number; fd: number; text: string }[];
  trace: TraceStep[];
  /** What ran, as a schedule string that replays the run (kernel/schedule.ts). */
  schedule: string;
  warnings: string[];
}
