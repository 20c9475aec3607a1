// The gdb target of a debug session: gdb's register names onto the machine's register file, each
// gdb step a session stepi (a debug stop = a preemption of every stopped thread), each continue a
// session continue, and the end of the program as gdb's exit and signal replies.
import type { DebugSession, DebugStop } from '../debug/session.js';
import { X86_REGISTERS, type RegisterFile } from '../engine/index.js';
import type { Address } from '../types.js';
import { monitorCommand } from './monitor.js';
import type { GdbTarget, TargetStop } from './target.js';

const SIGTRAP = 5;
/** An instruction budget ran out: reported as SIGXCPU ("CPU time limit exceeded"). */
const SIGXCPU = 24;
/** The selectors a Linux x86-64 user thread runs with (__USER_CS, __USER_DS); the machine has no segments to change. */
const LINUX_USER_SELECTORS: Record<string, bigint> = { cs: 0x33n, ss: 0x2bn, ds: 0n, es: 0n, fs: 0n, gs: 0n };
const MODELLED = new Set<string>(X86_REGISTERS);
/** A debug stop is never inside a system call, so orig_rax is -1 (gdb writes it when it moves the PC). */
const NO_SYSCALL = 0xffff_ffff_ffff_ffffn;

export class SessionTarget implements GdbTarget {
  /** Register files read since the last change, per thread (a `g` packet reads ~60 registers). */
  private readonly cache = new Map<number, RegisterFile>();
  private stop: TargetStop;

  constructor(private readonly session: DebugSession) {
    const entry = session.entryStop();
    this.stop = { kind: 'stopped', tid: entry.tid, signal: SIGTRAP, breakpoint: false };
  }

  threads(): number[] {
    return this.session.ended() ? [] : this.session.threads();
  }

  private registers(tid: number): RegisterFile {
    let r = this.cache.get(tid);
    if (!r) this.cache.set(tid, (r = this.session.registers(tid)));
    return r;
  }

  readRegister(tid: number, name: string): bigint | null {
    if (MODELLED.has(name)) return this.registers(tid)[name as keyof RegisterFile];
    if (name === 'orig_rax') return NO_SYSCALL;
    return LINUX_USER_SELECTORS[name] ?? null;
  }

  writeRegister(tid: number, name: string, value: bigint): boolean {
    if (name === 'orig_rax') return true;
    if (!MODELLED.has(name)) return LINUX_USER_SELECTORS[name] === value;
    this.cache.clear();
    this.session.setRegister(tid, name, value);
    return true;
  }

  readMemory(address: Address, length: number): Uint8Array | null {
    return this.session.readMemory(address, length);
  }

  writeMemory(address: Address, bytes: Uint8Array): boolean {
    this.cache.clear();
    return this.session.writeMemory(address, bytes);
  }

  insertBreakpoint(address: Address): void {
    this.session.addBreakpoint(address);
  }

  removeBreakpoint(address: Address): void {
    this.session.removeBreakpoint(address);
  }

  step(tid: number): TargetStop {
    return this.stopped(this.session.stepi(tid));
  }

  resume(): TargetStop {
    return this.stopped(this.session.continue());
  }

  currentStop(): TargetStop {
    return this.stop;
  }

  monitor(command: string, tid: number | null): string {
    this.cache.clear();
    return monitorCommand(this.session, command, tid);
  }

  threadName(tid: number): string {
    return `T${tid}`;
  }

  core(tid: number): number {
    return this.session.rseqState().find((t) => t.tid === tid)?.cpu ?? 0;
  }

  /**
   * A session stop as gdb sees it: a trap while any thread lives; when none does, the exit status
   * (an entry's return value is its exit status, as `exit(main())` makes it) or the fatal signal.
   */
  private stopped(stop: DebugStop): TargetStop {
    this.cache.clear();
    const live = this.threads();
    if (live.length === 0) {
      if (stop.reason === 'killed') this.stop = { kind: 'killed', signal: stop.signal ?? 9 };
      else if (stop.reason === 'exited') this.stop = { kind: 'exited', code: (stop.exitCode ?? 0) & 0xff };
      else this.stop = { kind: 'exited', code: Number((this.session.returnValues(stop.tid).at(-1) ?? 0n) & 0xffn) };
      return this.stop;
    }
    // The thread that stopped has ended while others live: report another, with no signal (gdb
    // shows the switch, not a trap that never happened).
    const tid = live.includes(stop.tid) ? stop.tid : live[0]!;
    const signal = stop.reason === 'limit' ? SIGXCPU : tid !== stop.tid ? 0 : stop.reason === 'killed' ? stop.signal ?? SIGTRAP : SIGTRAP;
    this.stop = { kind: 'stopped', tid, signal, breakpoint: stop.reason === 'breakpoint' };
    return this.stop;
  }
}
