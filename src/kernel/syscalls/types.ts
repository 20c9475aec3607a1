// The contract between the kernel's dispatcher and one system call's handler.
import type { MemoryReader, MemoryWriter } from '../../abi/rseq.js';
import type { Thread } from '../thread.js';

export interface SyscallContext {
  thread: Thread;
  mem: MemoryReader & MemoryWriter;
  /** rdi, rsi, rdx, r10, r8, r9. */
  args: readonly bigint[];
  /** Number of online CPUs. */
  cpus: number;
  /** Appends captured output from write(2) to fd 1 or 2. */
  output(fd: number, bytes: Uint8Array): void;
}

export type SyscallResult =
  | { kind: 'return'; value: bigint }
  | { kind: 'exit'; code: number; group: boolean };

export interface SyscallRow {
  nr: number;
  name: string;
  handler: (ctx: SyscallContext) => SyscallResult;
}

export const returns = (value: bigint): SyscallResult => ({ kind: 'return', value });
