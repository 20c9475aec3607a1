// An emulated process and the kernel under it: loads an image into Unicorn, gives threads a stack,
// TLS and (optionally) a glibc-style rseq registration, runs code until a point of interest, and
// then does what Linux does there — a kernel event, a system call, a fault — followed by the
// return-to-user rseq work of kernel/rseq.c.
import type { Image } from '../asm/image.js';
import { GLIBC_DEFAULTS, glibcDataBytes, type GlibcRseqExports } from '../abi/glibc.js';
import { RSEQ_CPU_ID_UNINITIALIZED, RSEQ_AREA_SIZE, RSEQ_SIG, RseqField, TASK_SIZE, encodeRseqArea, readU64 } from '../abi/rseq.js';
import { Emulator, Prot, type Protection, type RegisterFile } from '../engine/index.js';
import { RseqEmuError } from '../errors.js';
import { hex, type Address, type CpuId } from '../types.js';
import { PAGE, SENTINEL, STACK_SIZE, TLS_SIZE, TRAMPOLINE, TRAMPOLINE_CODE, fsBaseOf, pageAlignDown, pageAlignUp, stackTopOf, tlsBlock } from './address-space.js';
import { signalName, type EventAction, type EventSpec } from './event-spec.js';
import type { EventOutcome, EventRecord, RunOutcome, SyscallRecord, TraceStep } from './outcome.js';
import { applyFixup, cpuIdFields, decideFixup, insideSection, validateDescriptor } from './rseq-fixup.js';
import { SyscallTable } from './syscalls/table.js';
import { RseqEvent, type Thread } from './thread.js';

export type Registration = 'glibc' | 'none';

export interface MachineOptions {
  cpus?: number;
  registration?: Registration;
  glibc?: GlibcRseqExports;
  /** Instruction budget per run; a run that exceeds it ends with status `limit`. */
  maxInstructions?: number;
}

export interface CallOptions {
  cpu?: CpuId;
  events?: EventSpec[];
  trace?: boolean;
  /**
   * Runs after a preempt or migrate event is applied, while the thread is off its CPU: the place
   * where another thread would run. Tests use it to write shared memory as that thread would.
   */
  onSwitchOut?: (event: SwitchOut, machine: Machine) => void;
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

const NR_RT_SIGRETURN = 15;
/** Data regions the user asks for are mapped from here up. */
const REGION_BASE: Address = 0x10000000n;

/** Why emulation stopped, as noted by a hook. */
type Stop =
  | { kind: 'event'; event: EventSpec }
  | { kind: 'syscall' }
  | { kind: 'limit' }
  | { kind: 'memory'; access: string; cause: string; address: Address }
  | { kind: 'trap'; signal: number; reason: string };

type Ended = Pick<RunOutcome, 'status' | 'signal' | 'reason' | 'faultAddress' | 'exitCode'>;

export class Machine {
  readonly cpus: number;
  readonly registration: Registration;
  readonly glibc: GlibcRseqExports;
  readonly maxInstructions: number;
  private readonly syscalls = new SyscallTable();
  private nextTid = 1;

  // State of the current run, read by the hooks.
  private stop: Stop | null = null;
  private executed = 0;
  private pending: EventSpec[] = [];
  private tracing = false;
  private trace: TraceStep[] = [];
  private current: Thread | null = null;
  /** Address of the instruction that began executing last (the `syscall` when a syscall stops us). */
  private lastAddress: Address = 0n;
  /** The last call's thread, reaped when the next call starts. */
  private finished: Thread | null = null;
  /** Registers saved by signal delivery, restored by rt_sigreturn (the frame lives kernel-side for now). */
  private readonly sigframes = new Map<number, RegisterFile[]>();

  private constructor(
    readonly emu: Emulator,
    readonly image: Image,
    options: MachineOptions,
  ) {
    this.cpus = options.cpus ?? 2;
    this.registration = options.registration ?? 'glibc';
    this.glibc = options.glibc ?? GLIBC_DEFAULTS;
    this.maxInstructions = options.maxInstructions ?? 1_000_000;
    if (!Number.isInteger(this.cpus) || this.cpus < 1 || this.cpus > 4096) throw new RseqEmuError('USAGE', `--cpus must be 1 to 4096, not ${this.cpus}`);
  }

  static create(image: Image, options: MachineOptions = {}): Machine {
    const m = new Machine(Emulator.create(), image, options);
    try {
      m.load();
      m.installHooks();
    } catch (e) {
      m.close();
      throw e;
    }
    return m;
  }

  close(): void {
    this.emu.close();
  }

  private load(): void {
    for (const s of this.image.sections) {
      if (s.bytes.length === 0) continue;
      const begin = pageAlignDown(s.address);
      const size = pageAlignUp(s.address + BigInt(s.bytes.length)) - begin;
      const prot: Protection = { read: true, write: s.flags.write, exec: s.flags.exec };
      this.emu.map(begin, Number(size), { read: true, write: true, exec: s.flags.exec });
      this.emu.write(s.address, s.bytes);
      this.emu.protect(begin, Number(size), prot);
    }
    this.mapWith(pageAlignDown(this.glibc.dataAddress), PAGE, Prot.R, this.glibc.dataAddress, glibcDataBytes(this.glibc, this.registration === 'glibc'));
    // The sentinel page holds ud2 so a stray jump there faults; a return there ends the run first.
    this.mapWith(SENTINEL, PAGE, Prot.RX, SENTINEL, Uint8Array.of(0x0f, 0x0b));
    this.emu.map(TRAMPOLINE, Number(PAGE), Prot.RWX);
    for (const part of Object.values(TRAMPOLINE_CODE)) this.emu.write(TRAMPOLINE + BigInt(part.offset), Uint8Array.from(part.bytes));
    this.emu.protect(TRAMPOLINE, Number(PAGE), Prot.RX);
  }

  private mapWith(page: Address, size: bigint, prot: Protection, at: Address, bytes: Uint8Array): void {
    this.emu.map(page, Number(size), Prot.RW);
    this.emu.write(at, bytes);
    this.emu.protect(page, Number(size), prot);
  }

  private installHooks(): void {
    this.emu.onCode(0n, TASK_SIZE, (address, size) => {
      if (this.stop) return;
      const n = this.executed + 1;
      if (n > this.maxInstructions) return this.halt({ kind: 'limit' });
      const due = this.pending.find((e) => (e.place.at === 'count' ? e.place.index === n : e.place.address === address));
      if (due) return this.halt({ kind: 'event', event: due });
      this.executed = n;
      this.lastAddress = address;
      if (this.tracing && this.current) this.trace.push({ index: n, tid: this.current.tid, cpu: this.current.cpu, address, size });
    });
    this.emu.onSyscall(() => this.halt({ kind: 'syscall' }));
    this.emu.onInvalidMemory((access, cause, address) => {
      this.halt({ kind: 'memory', access, cause, address });
      return false;
    });
    this.emu.onInvalidInstruction(() => {
      this.halt({ kind: 'trap', signal: 4, reason: 'invalid instruction' });
      return true;
    });
    this.emu.onInterrupt((intno) => {
      const traps: Record<number, [number, string]> = { 0: [8, 'divide error'], 1: [5, 'debug trap'], 3: [5, 'breakpoint (int3)'], 6: [4, 'invalid instruction'], 13: [11, 'general protection fault'] };
      const [signal, reason] = traps[intno] ?? [11, `CPU exception ${intno}`];
      this.halt({ kind: 'trap', signal, reason });
    });
  }

  private halt(s: Stop): void {
    this.stop ??= s;
    this.emu.stop();
  }

  /** Creates a thread on `cpu` with its stack, TLS and (with glibc registration) a registered rseq area. */
  private createThread(cpu: CpuId): Thread {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) throw new RseqEmuError('USAGE', `CPU ${cpu} does not exist (--cpus ${this.cpus})`);
    const tid = this.nextTid++;
    const fsBase = fsBaseOf(tid);
    const stackTop = stackTopOf(tid);
    this.emu.map(tlsBlock(tid), Number(TLS_SIZE), Prot.RW);
    this.emu.write(fsBase, new Uint8Array(new BigUint64Array([fsBase]).buffer)); // %fs:0 is the thread pointer itself
    this.emu.map(stackTop - STACK_SIZE, Number(STACK_SIZE), Prot.RW);
    const area = fsBase + this.glibc.rseqOffset;
    this.emu.write(area, encodeRseqArea({ cpuIdStart: 0, cpuId: RSEQ_CPU_ID_UNINITIALIZED, rseqCs: 0n, flags: 0, nodeId: 0, mmCid: 0 }));
    const registered = this.registration === 'glibc';
    return {
      tid, cpu, fsBase, stackTop, state: 'runnable', eventMask: 0,
      rseq: registered ? { area, length: RSEQ_AREA_SIZE, sig: RSEQ_SIG } : null,
      notifyResume: registered,
    };
  }

  /** Unmaps a finished thread's stack and TLS. */
  private reap(t: Thread): void {
    this.emu.unmap(tlsBlock(t.tid), Number(TLS_SIZE));
    this.emu.unmap(t.stackTop - STACK_SIZE, Number(STACK_SIZE));
    this.sigframes.delete(t.tid);
  }

  /**
   * Calls `entry(args…)` (SysV) on a new thread and runs it until it returns, exits, dies or runs
   * out of budget. The previous call's thread stays inspectable until this one starts; data
   * regions and the image's writable sections keep their contents across calls.
   */
  call(entry: Address, args: readonly bigint[], options: CallOptions = {}): RunOutcome {
    if (args.length > 6) throw new RseqEmuError('USAGE', `at most 6 arguments are passed in registers, not ${args.length}`);
    if (this.finished) this.reap(this.finished);
    this.finished = null;
    this.nextTid = 1;
    const t = this.createThread(options.cpu ?? 0);
    const regs = this.emu.readRegisters();
    for (const k of Object.keys(regs) as (keyof RegisterFile)[]) regs[k] = 0n;
    ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'].forEach((r, i) => (regs[r as keyof RegisterFile] = BigInt.asUintN(64, args[i] ?? 0n)));
    regs.rsp = t.stackTop - 8n; // SysV: (rsp + 8) is 16-aligned at entry
    regs.rip = entry;
    regs.fs_base = t.fsBase;
    regs.eflags = 0x202n;
    this.emu.writeRegisters(regs);
    this.emu.write(regs.rsp, new Uint8Array(new BigUint64Array([SENTINEL]).buffer));

    this.executed = 0;
    this.pending = [...(options.events ?? [])];
    this.tracing = options.trace ?? false;
    this.trace = [];
    this.current = t;
    const events: EventRecord[] = [];
    const syscalls: SyscallRecord[] = [];
    const output: RunOutcome['output'] = [];

    // The thread was just created: its first return to user space runs the rseq work.
    let ended: Ended | null = this.returnToUser(t, null);
    while (!ended) {
      this.stop = null;
      const rip = this.emu.reg('rip');
      try {
        this.emu.run(rip, { until: SENTINEL });
      } catch (e) {
        if (!(e instanceof RseqEmuError) || !this.stop) throw e;
      }
      const s = this.stop as Stop | null;
      if (!s) {
        if (this.emu.reg('rip') === SENTINEL) break;
        ended = { status: 'fault', signal: 'SIGSEGV', reason: `emulation stopped unexpectedly at ${hex(this.emu.reg('rip'))}` };
      } else if (s.kind === 'limit') {
        ended = { status: 'limit', reason: `instruction budget of ${this.maxInstructions} exhausted` };
      } else if (s.kind === 'memory') {
        ended = { status: 'fault', signal: 'SIGSEGV', reason: `${s.access} of ${s.cause} address ${hex(s.address)}`, faultAddress: s.address };
      } else if (s.kind === 'trap') {
        const ip = this.emu.reg('rip');
        ended = { status: 'fault', signal: signalName(s.signal), reason: `${s.reason} at ${hex(ip)}` };
      } else if (s.kind === 'event') {
        this.pending.splice(this.pending.indexOf(s.event), 1);
        const r = this.injectEvent(t, s.event, options.onSwitchOut);
        events.push(r.record);
        ended = r.ended;
      } else {
        ended = this.syscall(t, syscalls, output);
      }
    }
    this.current = null;
    this.finished = t;
    t.state = ended && ended.status !== 'exited' && ended.status !== 'returned' ? 'killed' : 'exited';
    return {
      status: ended?.status ?? 'returned',
      ...(ended?.signal !== undefined ? { signal: ended.signal } : {}),
      ...(ended?.reason !== undefined ? { reason: ended.reason } : {}),
      ...(ended?.faultAddress !== undefined ? { faultAddress: ended.faultAddress } : {}),
      ...(ended?.exitCode !== undefined ? { exitCode: ended.exitCode } : {}),
      ip: this.emu.reg('rip'),
      rax: this.emu.reg('rax'),
      instructions: this.executed,
      events,
      syscalls,
      output,
      trace: this.trace,
    };
  }

  /** A kernel event before the instruction at RIP, then the return to user space. */
  private injectEvent(t: Thread, spec: EventSpec, onSwitchOut: CallOptions['onSwitchOut']): { record: EventRecord; ended: Ended | null } {
    const ip = this.emu.reg('rip');
    const action: EventAction = spec.action;
    const base = { kind: action.kind, spec: spec.text, ip, tid: t.tid, before: this.executed };
    if (action.kind === 'signal') return this.deliverSignal(t, action.signal, base);
    // A preempted or migrated thread is switched out first: a preempt event either way.
    t.eventMask |= RseqEvent.preempt;
    const from = t.cpu;
    if (action.kind === 'migrate' && action.cpu !== t.cpu) {
      t.eventMask |= RseqEvent.migrate;
      t.cpu = action.cpu;
    }
    t.notifyResume = true;
    onSwitchOut?.({ tid: t.tid, kind: action.kind, ip, from, to: t.cpu }, this);
    const fix = this.fixup(t);
    const ended = fix.ended ?? this.writeCpuIds(t);
    return { record: { ...base, cpu: t.cpu, outcome: fix.outcome, resumeIp: this.emu.reg('rip'), descriptor: fix.descriptor, ...(fix.reason ? { reason: fix.reason } : {}) }, ended };
  }

  /**
   * Signal delivery (x86 setup_rt_frame): rseq_signal_deliver runs the fix-up on the interrupted
   * registers first, so the saved RIP is abort_ip; then the handler runs and rt_sigreturn resumes.
   * Until rt_sigaction is modelled, the handler is the emulator's own, which returns at once.
   */
  private deliverSignal(t: Thread, signal: number, base: Omit<EventRecord, 'cpu' | 'outcome' | 'resumeIp' | 'descriptor'>): { record: EventRecord; ended: Ended | null } {
    t.eventMask |= RseqEvent.signal;
    const fix = this.fixup(t);
    const record: EventRecord = { ...base, cpu: t.cpu, outcome: fix.outcome, resumeIp: this.emu.reg('rip'), descriptor: fix.descriptor, ...(fix.reason ? { reason: fix.reason } : {}) };
    if (fix.ended) return { record, ended: fix.ended };
    const saved = this.emu.readRegisters();
    const frames = this.sigframes.get(t.tid) ?? [];
    frames.push(saved);
    this.sigframes.set(t.tid, frames);
    // Skip the red zone, align, and push the restorer as the handler's return address.
    const rsp = ((saved.rsp - 128n) & ~15n) - 8n;
    try {
      this.emu.write(rsp, new Uint8Array(new BigUint64Array([TRAMPOLINE + BigInt(TRAMPOLINE_CODE.restorer.offset)]).buffer));
    } catch {
      return { record, ended: { status: 'signal', signal: 'SIGSEGV', reason: `cannot build the ${signalName(signal)} frame: stack at ${hex(rsp)} is not writable` } };
    }
    this.emu.writeRegisters({ ...saved, rsp, rip: TRAMPOLINE + BigInt(TRAMPOLINE_CODE.handler.offset), rdi: BigInt(signal), rsi: 0n, rdx: 0n });
    t.notifyResume = true;
    return { record, ended: this.returnToUser(t, null) };
  }

  private syscall(t: Thread, log: SyscallRecord[], output: RunOutcome['output']): Ended | null {
    const r = this.emu.readRegisters();
    const nr = Number(r.rax);
    const args = [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9];
    const ip = this.lastAddress;
    const record: SyscallRecord = { tid: t.tid, nr, name: this.syscalls.name(nr), args, ret: null, ip, implemented: this.syscalls.implemented(nr) || nr === NR_RT_SIGRETURN, insideCriticalSection: this.inCriticalSection(t, ip) };
    log.push(record);
    if (nr === NR_RT_SIGRETURN) {
      const frame = this.sigframes.get(t.tid)?.pop();
      if (!frame) return { status: 'signal', signal: 'SIGSEGV', reason: 'rt_sigreturn without a signal frame' };
      this.emu.writeRegisters(frame);
      return this.returnToUser(t, null);
    }
    const result = this.syscalls.dispatch(nr, {
      thread: t,
      mem: this.emu,
      args,
      cpus: this.cpus,
      output: (fd, bytes) => output.push({ tid: t.tid, fd, text: Buffer.from(bytes).toString('utf8') }),
    });
    if (result.kind === 'exit') return { status: 'exited', exitCode: result.code };
    record.ret = result.value;
    this.emu.setReg('rax', result.value);
    return this.returnToUser(t, null);
  }

  /** Whether `ip` is inside the section the thread's rseq_cs currently names (a valid one). */
  private inCriticalSection(t: Thread, ip: Address): boolean {
    if (!t.rseq) return false;
    try {
      const ptr = readU64(this.emu, t.rseq.area + BigInt(RseqField.rseqCs));
      if (ptr === 0n) return false;
      const v = validateDescriptor(this.emu, ptr, t.rseq.sig);
      return 'cs' in v && insideSection(ip, v.cs);
    } catch {
      return false;
    }
  }

  /** rseq_ip_fixup on the current registers; redirects RIP on abort. */
  private fixup(t: Thread): { outcome: EventOutcome; descriptor: Address; reason?: string; ended: Ended | null } {
    if (!t.rseq) return { outcome: 'none', descriptor: 0n, ended: null };
    const d = decideFixup(this.emu, { area: t.rseq.area, sig: t.rseq.sig, ip: this.emu.reg('rip'), eventMask: t.eventMask });
    if (d.kind === 'sigsegv') return { outcome: 'sigsegv', descriptor: d.descriptor, reason: d.reason, ended: { status: 'signal', signal: 'SIGSEGV', reason: `rseq: ${d.reason}` } };
    const effects = applyFixup(this.emu, t.rseq.area, d);
    if (effects.consumedEvents) t.eventMask = 0;
    if (effects.fault) return { outcome: 'sigsegv', descriptor: d.descriptor, reason: effects.fault, ended: { status: 'signal', signal: 'SIGSEGV', reason: `rseq: ${effects.fault}` } };
    if (effects.ip !== null) this.emu.setReg('rip', effects.ip);
    const outcome: EventOutcome = d.kind === 'abort' ? 'aborted' : d.kind === 'clear' && d.wasSet ? 'cleared' : 'none';
    return { outcome, descriptor: d.descriptor, ended: null };
  }

  /** rseq_update_cpu_node_id. */
  private writeCpuIds(t: Thread): Ended | null {
    t.notifyResume = false;
    if (!t.rseq) return null;
    try {
      for (const f of cpuIdFields(t.cpu, 0, 0)) this.emu.write(t.rseq.area + BigInt(f.offset), f.bytes);
    } catch {
      return { status: 'signal', signal: 'SIGSEGV', reason: `rseq: cannot write cpu_id to the area at ${hex(t.rseq.area)}` };
    }
    return null;
  }

  /** The notify-resume work on the way back to user space, when something requested it. */
  private returnToUser(t: Thread, _unused: null): Ended | null {
    if (!t.notifyResume) return null;
    const fix = this.fixup(t);
    return fix.ended ?? this.writeCpuIds(t);
  }

  private nextRegion = REGION_BASE;
  readonly regions = new Map<string, { address: Address; size: number }>();

  /** Maps a zeroed, writable data region for arguments (`--memory NAME:SIZE`, scenario memory). */
  allocate(name: string, size: number, init?: Uint8Array): Address {
    if (this.regions.has(name)) throw new RseqEmuError('USAGE', `memory region '${name}' is defined twice`);
    if (!Number.isInteger(size) || size <= 0 || size > 1 << 26) throw new RseqEmuError('USAGE', `memory region '${name}': size must be 1 to 64 MiB, not ${size}`);
    const address = this.nextRegion;
    const mapped = pageAlignUp(BigInt(size));
    this.emu.map(address, Number(mapped), Prot.RW);
    if (init) this.emu.write(address, init.subarray(0, size));
    this.nextRegion += mapped + PAGE; // a guard page between regions catches overruns
    this.regions.set(name, { address, size });
    return address;
  }

  /** The address of the thread's rseq area. */
  rseqArea(tid = 1): Address {
    return fsBaseOf(tid) + this.glibc.rseqOffset;
  }
}
