// What the gdb stub needs from a machine to debug (rp2040js's gdb-target idea): registers by
// gdb's names, memory, breakpoints, one step of a thread, a resume of all of them, and a stop
// report. The protocol handlers know nothing else of the emulator.
import type { Address } from '../types.js';

export type TargetStop =
  /** All threads stopped; `tid` is the one gdb should show. signal 5 is SIGTRAP. */
  | { kind: 'stopped'; tid: number; signal: number; breakpoint: boolean }
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number };

export interface GdbTarget {
  /** Live thread ids, ascending; gdb's thread ids are these numbers. */
  threads(): number[];
  /** A register by gdb's amd64 name (`rax`, `rip`, `eflags`, `fs_base`, `xmm0`…), or null when the target does not model it. */
  readRegister(tid: number, name: string): bigint | null;
  /** False when the register cannot be written. */
  writeRegister(tid: number, name: string, value: bigint): boolean;
  /** Null when any byte is unmapped. */
  readMemory(address: Address, length: number): Uint8Array | null;
  writeMemory(address: Address, bytes: Uint8Array): boolean;
  insertBreakpoint(address: Address): void;
  removeBreakpoint(address: Address): void;
  /** One instruction of `tid`; the other threads stay stopped. */
  step(tid: number): TargetStop;
  /** Every thread runs until a breakpoint, a fatal signal or the end. */
  resume(): TargetStop;
  /** The stop the target is in (before any resume: every thread at its entry). */
  currentStop(): TargetStop;
  /** The text `monitor COMMAND` prints (`tid`: the thread gdb has selected); throws an Error whose message gdb shows for a bad command. */
  monitor(command: string, tid: number | null): string;
  /** Shown by `info threads`. */
  threadName(tid: number): string;
  /** The CPU a thread runs on. */
  core(tid: number): number;
}
