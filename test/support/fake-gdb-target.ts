// A gdb target with no emulator behind it: two threads whose rip advances one byte per step,
// 256 bytes of memory at 0x1000, and a program that ends when T1's rip reaches `end`.
import type { GdbTarget, TargetStop } from '../../src/gdb/target.js';

export class FakeTarget implements GdbTarget {
  regs = new Map<number, Map<string, bigint>>([
    [1, new Map([['rip', 0x1000n], ['rax', 0x1122334455667788n], ['rsp', 0x7ff0n], ['eflags', 0x202n], ['fs_base', 0x5000n]])],
    [2, new Map([['rip', 0x1080n], ['rax', 2n], ['rsp', 0x6ff0n], ['eflags', 0x202n], ['fs_base', 0x6000n]])],
  ]);
  memory = new Uint8Array(256).map((_, i) => i);
  breakpoints = new Set<bigint>();
  steps: number[] = [];
  resumes = 0;
  monitorCalls: [string, number | null][] = [];
  private stop: TargetStop = { kind: 'stopped', tid: 1, signal: 5, breakpoint: false };
  constructor(private readonly end = 0x1040n) {}

  threads(): number[] {
    return this.stop.kind === 'stopped' ? [...this.regs.keys()] : [];
  }
  readRegister(tid: number, name: string): bigint | null {
    return this.regs.get(tid)?.get(name) ?? null;
  }
  writeRegister(tid: number, name: string, value: bigint): boolean {
    const r = this.regs.get(tid);
    if (!r || !r.has(name)) return false;
    r.set(name, value);
    return true;
  }
  readMemory(address: bigint, length: number): Uint8Array | null {
    const at = Number(address - 0x1000n);
    return at >= 0 && at + length <= this.memory.length ? this.memory.slice(at, at + length) : null;
  }
  writeMemory(address: bigint, bytes: Uint8Array): boolean {
    const at = Number(address - 0x1000n);
    if (at < 0 || at + bytes.length > this.memory.length) return false;
    this.memory.set(bytes, at);
    return true;
  }
  insertBreakpoint(address: bigint): void {
    this.breakpoints.add(address);
  }
  removeBreakpoint(address: bigint): void {
    this.breakpoints.delete(address);
  }
  step(tid: number): TargetStop {
    this.steps.push(tid);
    const r = this.regs.get(tid)!;
    r.set('rip', r.get('rip')! + 1n);
    return this.after(tid, false);
  }
  resume(): TargetStop {
    this.resumes++;
    const r = this.regs.get(1)!;
    for (;;) {
      r.set('rip', r.get('rip')! + 1n);
      if (this.breakpoints.has(r.get('rip')!)) return this.after(1, true);
      if (r.get('rip')! >= this.end) return this.after(1, false);
    }
  }
  private after(tid: number, breakpoint: boolean): TargetStop {
    this.stop = this.regs.get(1)!.get('rip')! >= this.end ? { kind: 'exited', code: 3 } : { kind: 'stopped', tid, signal: 5, breakpoint };
    return this.stop;
  }
  currentStop(): TargetStop {
    return this.stop;
  }
  monitor(command: string, tid: number | null): string {
    this.monitorCalls.push([command, tid]);
    if (command === 'fail') throw new Error('no such thing');
    return command === 'quiet' ? '' : `ran ${command}\n`;
  }
  threadName(tid: number): string {
    return `T${tid}`;
  }
  core(tid: number): number {
    return tid - 1;
  }
}
