// An emulated system: processes (each its own Unicorn address space), threads on N virtual CPUs,
// and the kernel under them. The machine runs one CPU's thread at a time for as many instructions
// as the schedule says, and at every point of interest — a kernel event, a system call, a fault —
// does what Linux does there, followed by the return-to-user work: signal delivery first, then the
// rseq notify-resume work of kernel/rseq.c for the modelled kernel profile.
import type { Image } from '../asm/image.js';
import { GLIBC_DEFAULTS, type GlibcRseqExports } from '../abi/glibc.js';
import { readRseqTables } from '../abi/tables.js';
import { RSEQ_AREA_SIZE, RSEQ_CPU_ID_REGISTRATION_FAILED, RSEQ_CPU_ID_UNINITIALIZED, RSEQ_SIG, RseqField, TASK_SIZE, encodeRseqArea, readU64 } from '../abi/rseq.js';
import type { Emulator, RegisterFile } from '../engine/index.js';
import { RseqEmuError } from '../errors.js';
import { hex, type Address, type CpuId } from '../types.js';
import { PAGE, SENTINEL, SHARED_MEMORY_END, inTrampoline } from './address-space.js';
import { signalName, type EventSpec } from './event-spec.js';
import type { EventRecord, RunOutcome, SyscallRecord } from './outcome.js';
import { copyMemory, emulatorFrom, trackMemory } from './memory-snapshot.js';
import { processById, restoreProcess, rewindInPlace, rewindRebuilding, sameShape } from './rewind.js';
import { loadProcessImage, copyAddressSpace, mapThreadMemory, unmapThreadMemory } from './process-memory.js';
import { DEFAULT_PROFILE, profileName, type Profile } from './profile.js';
import { EFAULT } from './errno.js';
import { insideSection, readDescriptor, validateDescriptor } from './rseq-fixup.js';
import { formatSchedule, type ScheduledEvent, type ScheduleItem } from './schedule.js';
import { DEFAULT_TIME_SLICE, DefaultPolicy, RunQueues } from './scheduler.js';
import { SIGILL, SIGSEGV, sigBit } from './signals.js';
import { unresolvedAccess } from './unresolved-access.js';
import { CLONE_VM } from './syscalls/process.js';
import { SyscallTable } from './syscalls/table.js';
import type { CloneRequest, KernelServices } from './syscalls/types.js';
import type { CallOptions, KernelState, LastStore, MachineOptions, MachineOutcome, MachineSnapshot, Registration, RunOptions, RunSummary, ThreadSpec } from './machine-types.js';
import { noteIds, startCallIds } from './call-ids.js';
import { ConcurrencyIds } from './mm-cid.js';
import { NotifyResume } from './notify-resume.js';
import { RunLog } from './run-log.js';
import { SignalDelivery } from './signal-delivery.js';
import { SpeculativeStores } from './speculation.js';
import { SpinSkip, type Round } from './spin-skip.js';
import { resumeSplit, splitLoad } from './split-rmw.js';
import { ThreadIndex } from './thread-index.js';
import { layoutRegions } from './region-layout.js';
import { RseqEvent, type Process, type SigAction, type Thread, type ThreadEnd, type WaitReason } from './thread.js';
import { copyCallIds, copyProgram, copyThreadFields } from './thread-copy.js';
import { LazyRunSummary, threadSummary } from './run-summary.js';
import type { Segment } from './run-log.js';

const NR_RT_SIGRETURN = 15;
/** Data regions the user asks for are mapped from here up. */
const REGION_BASE: Address = 0x10000000n;
const CLONE_SETTLS = 0x80000n;
const CLONE_PARENT_SETTID = 0x100000n;
const CLONE_CHILD_SETTID = 0x01000000n;
const CLONE_CHILD_CLEARTID = 0x200000n;

/** Why emulation stopped, as noted by a hook. */
type Stop =
  | { kind: 'slice' }
  | { kind: 'event'; event: EventSpec }
  | { kind: 'syscall' }
  | { kind: 'limit' }
  | { kind: 'memory'; access: string; cause: string; address: Address }
  | { kind: 'trap'; signal: number; reason: string }
  | { kind: 'breakpoint'; address: Address }
  | { kind: 'spin' };

export type { CallOptions, KernelState, LastStore, MachineOptions, MachineOutcome, MachineSnapshot, Registration, RunOptions, RunSummary, SwitchOut, ThreadReport, ThreadSpec, ThreadSummary } from './machine-types.js';

export class Machine implements KernelServices {
  readonly cpus: number;
  readonly registration: Registration;
  readonly glibc: GlibcRseqExports;
  /** The instruction budget of a run; the explorer lowers it per schedule after the default run. */
  maxInstructions: number;
  /** A wall-clock bound on a run (`--timeout`), checked every 4,096 instructions; time is an input. */
  deadline: { clock: () => number; at: number; seconds: number } | null = null;
  private timedOut = false;
  /** The time slice in instructions; 0 when slices are off. */
  readonly timeSlice: number;
  readonly profile: Profile;
  readonly processes: Process[] = [];
  readonly regions = new Map<string, { address: Address; size: number }>();
  private readonly table: SyscallTable;
  private threads: Thread[] = [];
  private readonly index = new ThreadIndex();
  private queues: RunQueues;
  private policy = new DefaultPolicy();
  private nextRegion = REGION_BASE;
  /** The thread whose registers are live in each process's emulator. */
  private readonly loaded = new Map<Process, Thread>();

  // State of the current run, read by the hooks.
  private stop: Stop | null = null;
  private executed = 0;
  private sliceLeft = Infinity;
  /** The time slice (Infinity when off), and whether the current step ended its thread's slice. */
  private readonly sliceLength: number;
  private sliceEnded = false;
  private running: Thread | null = null;
  private locationEvents: EventSpec[] = [];
  private tracing = false;
  private lastAddress: Address = 0n;
  private onSwitchOut: RunOptions['onSwitchOut'];
  /** Told before a thread's time slice starts anew, with the count it reached still set (exhaustive.ts). */
  onNewSlice: ((t: Thread) => void) | null = null;
  /** Set by services when the running thread leaves its CPU (yield, block, exit, migration). */
  private leftCpu = false;
  /** The instruction budget ran out. */
  private limited = false;
  /** Debugger breakpoints (src/debug): a thread about to execute one of these stops before it. */
  private breakpoints: ReadonlySet<Address> = new Set();
  private breakpointHit: { tid: number; address: Address } | null = null;
  /** With trackSpeculativeStores: the critical sections of the image, and the last store to each shared byte. */
  private readonly speculation: SpeculativeStores | null;
  /** Rounds of a loop that change nothing, skipped (spin-skip.ts); it needs the stores to shared memory counted. */
  private readonly spin = new SpinSkip();
  private readonly skipping: boolean;
  private sharedStores = 0;
  /** Instructions of skipped rounds so far, in this machine's life (rewinds do not undo it: a measure, not state). */
  skipped = 0;

  // What the run produced.
  /** What the current run has produced. */
  private log = new RunLog();
  private readonly notifyResume: NotifyResume;
  private readonly signals = new SignalDelivery({
    activate: (t) => this.activate(t),
    rseqWork: (t, signo) => this.rseqWork(t, signo),
    killProcess: (t, signo, reason, status, faultAddress) => this.killProcess(t, signo, reason, status, faultAddress),
    warn: (message) => this.log.warnings.push(message),
    wake: (t) => this.wake(t),
  });

  private constructor(readonly image: Image, options: MachineOptions) {
    this.cpus = options.cpus ?? 2;
    this.registration = options.registration ?? 'glibc';
    this.glibc = options.glibc ?? GLIBC_DEFAULTS;
    this.maxInstructions = options.maxInstructions ?? 1_000_000;
    this.profile = options.profile ?? DEFAULT_PROFILE;
    this.timeSlice = options.timeSlice ?? DEFAULT_TIME_SLICE;
    if (!Number.isSafeInteger(this.timeSlice) || this.timeSlice < 0) throw new RseqEmuError('USAGE', `the time slice must be a whole number of instructions (0: no slices), not ${this.timeSlice}`);
    this.sliceLength = this.timeSlice === 0 ? Infinity : this.timeSlice;
    if (!Number.isInteger(this.cpus) || this.cpus < 1 || this.cpus > 64) throw new RseqEmuError('USAGE', `--cpus must be 1 to 64, not ${this.cpus}`);
    if (image.tls && BigInt(image.tls.bytes.length) > PAGE) {
      throw new RseqEmuError('INPUT', `${image.file}: thread-local data of ${image.tls.bytes.length} bytes is more than the ${PAGE} bytes each emulated thread has below its thread pointer`);
    }
    this.queues = new RunQueues(this.cpus);
    this.table = new SyscallTable(undefined, this.profile);
    this.skipping = options.skipRounds ?? true;
    this.speculation = options.trackSpeculativeStores ? new SpeculativeStores(readRseqTables(image).sections) : null;
    this.notifyResume = new NotifyResume(this.profile, {
      activate: (t) => this.activate(t),
      forceSigsegv: (t, signo, reason) => this.signals.forceSigsegv(t, signo, reason),
      warn: (message) => this.log.warnings.push(message),
      abortedAttempt: (t) => this.speculation?.close(t, true),
      mmCid: (t) => this.mmCid(t),
      published: noteIds,
    });
  }

  static create(image: Image, options: MachineOptions = {}): Machine {
    const m = new Machine(image, options);
    const emu = loadProcessImage(image, m.glibc, m.registration === 'glibc');
    m.addProcess(emu, null);
    return m;
  }

  close(): void {
    for (const p of this.processes) p.emu.close();
  }

  /** The first process: the one running the image. */
  get main(): Process {
    return this.processes[0]!;
  }

  /** The main process's emulator, for reading and writing its memory. */
  get emu(): Emulator {
    return this.main.emu;
  }

  private addProcess(emu: Emulator, parent: Process | null, pid = this.nextId()): Process {
    const p: Process = { pid, emu, parent, sigactions: new Map(), membarrierRseqRegistered: false, exitStatus: null, cids: new ConcurrencyIds(this.cpus) };
    this.processes.push(p);
    this.index.addProcess(p);
    this.installHooks(p);
    return p;
  }

  private nextId(): number {
    return this.index.nextId();
  }

  /** Maps a zeroed, writable data region in the main process (`--memory NAME:SIZE`, scenario memory). */
  allocate(name: string, size: number, init?: Uint8Array): Address {
    return this.allocateAll([{ name, size, ...(init ? { init } : {}) }])[0]!;
  }

  /** Maps several regions at once, so that those past the guarded ones share mappings (region-layout.ts). */
  allocateAll(regions: readonly { name: string; size: number; init?: Uint8Array }[]): Address[] {
    const names = new Set(this.regions.keys());
    for (const { name, size } of regions) {
      if (names.has(name)) throw new RseqEmuError('USAGE', `memory region '${name}' is defined twice`);
      names.add(name);
      if (!Number.isInteger(size) || size <= 0 || size > 1 << 26) throw new RseqEmuError('USAGE', `memory region '${name}': size must be 1 to 64 MiB, not ${size}`);
    }
    const layout = layoutRegions(this.nextRegion, this.regions.size, regions.map((r) => r.size));
    for (const m of layout.mappings) this.emu.map(m.begin, Number(m.end - m.begin), { read: true, write: true, exec: false });
    regions.forEach(({ name, size, init }, i) => {
      const { address } = layout.placements[i]!;
      if (init) this.emu.write(address, init.subarray(0, size));
      this.regions.set(name, { address, size });
    });
    this.nextRegion = layout.next;
    return layout.placements.map((p) => p.address);
  }

  // ---- hooks ---------------------------------------------------------------------------------

  private installHooks(p: Process): void {
    const emu = p.emu;
    trackMemory(emu); // snapshots copy and rewind only the pages written since
    emu.onCode(0n, TASK_SIZE, (address, size) => {
      if (this.stop) return;
      const t = this.running!;
      if (this.sliceLeft <= 0 || t.sliceUsed >= this.sliceLength) return this.halt({ kind: 'slice' });
      if (this.breakpoints.size && this.breakpoints.has(address)) return this.halt({ kind: 'breakpoint', address });
      const n = this.executed + 1;
      if (n > this.maxInstructions) return this.halt({ kind: 'limit' });
      if ((n & 0xfff) === 0 && this.deadline && this.deadline.clock() > this.deadline.at) {
        this.timedOut = true;
        return this.halt({ kind: 'limit' });
      }
      if (this.locationEvents.length && !this.running!.split) {
        const due = this.locationEvents.find((e) => (e.place.at === 'count' ? e.place.index === n : e.place.address === address));
        if (due) return this.halt({ kind: 'event', event: due });
      }
      if ((t.sliceUsed === this.spin.probeAt || address === this.spin.watch) && this.spin.look(t, address, this.sharedStores)) return this.halt({ kind: 'spin' });
      this.executed = n;
      this.sliceLeft--;
      this.lastAddress = address;
      t.executed++;
      if (!inTrampoline(address)) t.sliceUsed++;
      // Leaving a section without an abort commits the attempt's stores.
      this.speculation?.step(t, address);
      if (this.tracing) this.log.addTrace({ index: n, tid: t.tid, cpu: t.cpu, address, size });
    });
    emu.onSyscall(() => this.halt({ kind: 'syscall' }));
    const spec = p === this.processes[0] ? this.speculation : null;
    emu.onMemoryWrite(0n, SHARED_MEMORY_END, (address, size) => {
      this.sharedStores++;
      if (spec && this.running) spec.store(this.running, this.lastAddress, address, size);
    });
    emu.onInvalidMemory((access, cause, address) => {
      this.halt({ kind: 'memory', access, cause, address });
      return false;
    });
    emu.onInvalidInstruction(() => {
      this.halt({ kind: 'trap', signal: SIGILL, reason: 'invalid instruction' });
      return true;
    });
    emu.onInterrupt((intno) => {
      const traps: Record<number, [number, string]> = { 0: [8, 'divide error'], 1: [5, 'debug trap'], 3: [5, 'breakpoint (int3)'], 6: [SIGILL, 'invalid instruction'], 13: [SIGSEGV, 'general protection fault'] };
      const [signal, reason] = traps[intno] ?? [SIGSEGV, `CPU exception ${intno}`];
      this.halt({ kind: 'trap', signal, reason });
    });
  }

  /** The last store to each shared byte (with trackSpeculativeStores; read-only). */
  lastStores(): ReadonlyMap<Address, LastStore> {
    return this.speculation?.entries() ?? new Map();
  }

  /** Shared-memory bytes whose last store came from a critical-section attempt that aborted (with trackSpeculativeStores). */
  abortedStores(): Set<Address> {
    return this.speculation?.aborted() ?? new Set();
  }

  private halt(s: Stop): void {
    this.stop ??= s;
    this.running?.process.emu.stop();
  }

  // ---- threads ---------------------------------------------------------------------------------

  /** Makes `t`'s registers the live ones in its process's emulator. */
  private activate(t: Thread): Emulator {
    const emu = t.process.emu;
    const cur = this.loaded.get(t.process);
    if (cur !== t) {
      if (cur) emu.saveContext(cur.context);
      emu.restoreContext(t.context);
      this.loaded.set(t.process, t);
    }
    return emu;
  }

  /** Creates a thread whose registers are `regs`, loaded and ready to run. */
  private newThread(p: Process, tid: number, regs: RegisterFile, init: Partial<Thread> & Pick<Thread, 'cpu' | 'fsBase' | 'stackTop' | 'ownsMemory'>): Thread {
    const cur = this.loaded.get(p);
    if (cur) p.emu.saveContext(cur.context);
    p.emu.writeRegisters(regs);
    const t: Thread = {
      tid, process: p, affinity: this.allCpus(), context: p.emu.saveContext(), rseq: null, eventMask: 0, notifyResume: false,
      lastIds: null, lastMmCid: null, pinnedMmCid: null, sigmask: 0n, pendingSignals: [], standInFrames: 0, state: 'runnable', wait: null, inKvmRun: false,
      program: null, end: null, executed: 0, sliceUsed: 0, sliceStart: 0, clearChildTid: null, attempt: 0, attemptStores: [], split: null, ...init,
    };
    this.loaded.set(p, t);
    this.threads.push(t);
    this.index.add(t);
    this.queues.enqueue(t);
    return t;
  }

  private allCpus(): bigint {
    return (1n << BigInt(this.cpus)) - 1n;
  }

  /** Starts a thread in the main process that calls spec.entry; registered with rseq as glibc does unless --registration none. */
  spawn(spec: ThreadSpec): Thread {
    const cpu = spec.cpu ?? 0;
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) throw new RseqEmuError('USAGE', `CPU ${cpu} does not exist (--cpus ${this.cpus})`);
    if (spec.args.length > 6) throw new RseqEmuError('USAGE', `at most 6 arguments are passed in registers, not ${spec.args.length}`);
    const repeat = spec.repeat ?? 1;
    if (!Number.isInteger(repeat) || repeat < 1) throw new RseqEmuError('USAGE', `repeat must be a whole number of at least 1, not ${repeat}`);
    const p = this.main;
    // The process's first thread has tid == pid, as in Linux.
    const tid = this.index.threadsOf(p).length === 0 ? p.pid : this.nextId();
    const { fsBase, stackTop } = mapThreadMemory(p.emu, tid, this.image.tls);
    const area = fsBase + this.glibc.rseqOffset;
    const registered = this.registration === 'glibc';
    // glibc marks an area it did not register with cpu_id = RSEQ_CPU_ID_REGISTRATION_FAILED (-2).
    p.emu.write(area, encodeRseqArea({ cpuIdStart: 0, cpuId: registered ? RSEQ_CPU_ID_UNINITIALIZED : RSEQ_CPU_ID_REGISTRATION_FAILED, rseqCs: 0n, flags: 0, nodeId: 0, mmCid: 0 }));
    const t = this.newThread(p, tid, this.callRegisters(spec.entry, spec.args, stackTop, fsBase), {
      cpu, fsBase, stackTop, ownsMemory: true,
      rseq: registered ? { area, length: RSEQ_AREA_SIZE, sig: RSEQ_SIG } : null,
      // glibc registers at thread start: the first return to user space writes cpu_id.
      notifyResume: registered,
      program: { entry: spec.entry, args: [...spec.args], repeat, returns: [], callCpus: [], cpusThisCall: 1n << BigInt(cpu), callIds: [], idsThisCall: [] },
      pinnedMmCid: spec.mmCid ?? null,
    });
    startCallIds(t);
    t.process.emu.writeU64(stackTop - 8n, SENTINEL);
    return t;
  }

  /** Registers for a SysV call of `entry(args…)` returning to the sentinel. */
  private callRegisters(entry: Address, args: readonly bigint[], stackTop: Address, fsBase: Address): RegisterFile {
    const regs = this.main.emu.readRegisters();
    for (const k of Object.keys(regs) as (keyof RegisterFile)[]) regs[k] = 0n;
    (['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const).forEach((r, i) => (regs[r] = BigInt.asUintN(64, args[i] ?? 0n)));
    regs.rsp = stackTop - 8n; // SysV: (rsp + 8) is 16-aligned at entry
    regs.rip = entry;
    regs.fs_base = fsBase;
    regs.eflags = 0x202n;
    return regs;
  }

  /** Forgets every thread of earlier runs and unmaps their stacks and TLS. */
  private clearThreads(): void {
    unmapThreadMemory(this.main.emu, this.threads.filter((t) => t.ownsMemory && t.process === this.main).map((t) => t.tid));
    for (const p of this.processes.splice(1)) p.emu.close();
    this.threads = [];
    this.index.reset([], this.processes);
    this.loaded.clear();
    this.queues = new RunQueues(this.cpus);
    this.policy = new DefaultPolicy();
  }


  thread(tid: number): Thread | undefined {
    return this.index.byTid(tid);
  }

  /** The address of a thread's glibc-style rseq area. */
  rseqArea(tid = 1): Address {
    const t = this.thread(tid);
    return (t?.fsBase ?? 0n) + this.glibc.rseqOffset;
  }

  // ---- snapshots -----------------------------------------------------------------------------------

  /** Captures the whole state between two steps, so exploration can rewind instead of re-running. */
  capture(): MachineSnapshot {
    for (const [p, t] of this.loaded) p.emu.saveContext(t.context);
    return {
      processes: this.processes.map((p) => ({
        pid: p.pid, parentPid: p.parent?.pid ?? null, sigactions: [...p.sigactions].map(([k, v]) => [k, { ...v }]),
        membarrier: p.membarrierRseqRegistered, exitStatus: p.exitStatus, memory: copyMemory(p.emu), cids: p.cids.save(),
      })),
      threads: this.threads.map((t) => ({ fields: copyThreadFields(t), pid: t.process.pid, context: t.process.emu.exportContext(t.context) })),
      loaded: [...this.loaded].map(([p, t]) => [p.pid, t.tid]),
      queues: this.queues.save(),
      policy: this.policy.save(),
      run: {
        executed: this.executed,
        limited: this.limited,
        locationEvents: [...this.locationEvents],
        log: this.log.save(),
        lastStore: this.speculation?.save() ?? new Map(),
      },
    };
  }

  /** Puts the machine back exactly as it was when `s` was captured; `s` can be restored again later. */
  restore(s: MachineSnapshot): void {
    if (sameShape(this.processes, this.threads, s)) {
      rewindInPlace(this.processes, this.threads, s);
      // The same Thread objects, whose states (live or exited) may have changed back.
      this.index.replace(this.threads);
    } else {
      this.threads = rewindRebuilding(this.processes, this.threads, s, (sp) => {
        const p: Process = { pid: sp.pid, emu: emulatorFrom(sp.memory), parent: null, sigactions: new Map(), membarrierRseqRegistered: false, exitStatus: null, cids: new ConcurrencyIds(this.cpus) };
        this.installHooks(p);
        restoreProcess(p, sp, true);
        return p;
      });
      this.index.reset(this.threads, this.processes);
    }
    for (const [pid, tid] of s.loaded) {
      const t = this.index.byTid(tid)!;
      const p = processById(this.processes, pid);
      p.emu.restoreContext(t.context);
      this.loaded.set(p, t);
    }
    // Processes the snapshot loaded no thread in, or gone: a rewind nearly always loads the same
    // ones, and Map.clear() (which allocates a new table) was a sixth of a rewind's own time.
    if (this.loaded.size > s.loaded.length) {
      for (const p of [...this.loaded.keys()]) if (!s.loaded.some(([pid]) => pid === p.pid && processById(this.processes, pid) === p)) this.loaded.delete(p);
    }
    this.queues.load(s.queues, this.threadByTid);
    this.policy.load(s.policy, this.threadByTid);
    this.executed = s.run.executed;
    this.limited = s.run.limited;
    this.locationEvents = [...s.run.locationEvents];
    this.log = RunLog.load(s.run.log);
    this.speculation?.load(s.run.lastStore);
  }

  private readonly threadByTid = (tid: number): Thread => this.index.byTid(tid)!;

  /**
   * What a state hash (explore/state-hash.ts) must cover besides the processes and threads: the
   * budget used, the run queues, the default policy, each thread's registers (the whole uc_context,
   * SSE included), events whose rseq outcome is still open, and the last store to each shared byte.
   */
  kernelState(): KernelState {
    for (const [p, t] of this.loaded) p.emu.saveContext(t.context);
    return {
      executed: this.executed,
      queues: this.queues.save(),
      policy: this.policy.save(),
      contexts: this.threads.map((t) => t.process.emu.exportContext(t.context)),
      awaiting: this.log.awaitingRecords(),
      lastStores: this.speculation?.entries() ?? new Map(),
    };
  }

  // ---- running -----------------------------------------------------------------------------------

  /** Calls `entry(args…)` on a new thread (earlier threads are cleared) and runs it to its end. */
  call(entry: Address, args: readonly bigint[], options: CallOptions = {}): RunOutcome {
    this.clearThreads();
    const t = this.spawn({ entry, args, ...(options.cpu !== undefined ? { cpu: options.cpu } : {}), ...(options.mmCid !== undefined ? { mmCid: options.mmCid } : {}) });
    const out = this.run(options);
    const report = out.threads.find((r) => r.tid === t.tid)!;
    const end: ThreadEnd = report.end ?? { status: out.status === 'limit' ? 'limit' : 'signal', reason: out.status };
    return {
      status: end.status,
      ...(end.signal !== undefined ? { signal: end.signal } : {}),
      ...(end.reason !== undefined ? { reason: end.reason } : {}),
      ...(end.faultAddress !== undefined ? { faultAddress: end.faultAddress } : {}),
      ...(end.exitCode !== undefined ? { exitCode: end.exitCode } : {}),
      ip: report.registers.rip,
      rax: end.status === 'returned' ? report.returns.at(-1) ?? 0n : report.registers.rax,
      instructions: out.instructions,
      events: out.events,
      syscalls: out.syscalls,
      output: out.output,
      trace: out.trace,
      schedule: out.schedule,
      warnings: out.warnings,
    };
  }

  /** Runs the spawned threads under `schedule`, then the default policy, until none can run. */
  run(options: RunOptions = {}): MachineOutcome {
    this.begin(options);
    for (const item of options.schedule ?? []) if (!this.step(item)) break;
    while (this.step(null));
    return this.result();
  }

  /** Starts a run: clears the logs; then call step() until it returns false, and result(). */
  begin(options: Omit<RunOptions, 'schedule'> = {}): void {
    this.executed = 0;
    this.locationEvents = [...(options.events ?? [])];
    this.tracing = options.trace ?? false;
    this.onSwitchOut = options.onSwitchOut;
    this.log = new RunLog();
    this.limited = false;
  }

  /**
   * Carries out one schedule item, or (null) one slice of the default policy. Returns false when
   * the run is over: nothing can run, or the instruction budget is exhausted.
   */
  step(item: ScheduleItem | null): boolean {
    if (this.limited) return false;
    const n = this.log.itemCount + 1;
    if (item?.kind === 'event') {
      this.scheduledEvent(item.tid, item.event, `schedule item ${n}`);
      return true;
    }
    if (item?.kind === 'load') {
      this.loadHalf(item.tid, `schedule item ${n} 'T${item.tid}:load'`);
      return true;
    }
    let cpu: CpuId | null;
    if (item) {
      cpu = item.cpu;
      if (cpu >= this.cpus || !this.queues.head(cpu)) throw new RseqEmuError('USAGE', `schedule item '${formatSchedule([item])}': CPU ${cpu} has no thread to run`);
    } else cpu = this.policy.next(this.queues);
    if (cpu === null) return false;
    const t = this.queues.head(cpu)!;
    this.policy.visited(cpu, t);
    this.limited = this.runSlice(t, item ? item.count : null);
    if (this.leftCpu || this.sliceEnded) this.policy.left();
    return !this.limited;
  }

  /** The outcome of the run so far; ends every live thread with `limit` if the budget ran out. */
  result(): MachineOutcome {
    return {
      status: this.finish(),
      threads: this.threads.map((t) => {
        const s = threadSummary(t);
        return { ...s, returns: [...s.returns], callCpus: [...s.callCpus], callIds: copyCallIds(s.callIds), registers: this.registersOf(t) };
      }),
      instructions: this.executed,
      events: this.log.events,
      syscalls: this.log.syscalls,
      output: this.log.output,
      trace: this.log.trace,
      warnings: this.log.warnings,
      schedule: this.log.schedule(),
      profile: profileName(this.profile),
    };
  }

  /**
   * What judging the run so far reads, as result() gives it but for the registers (a read of every
   * thread's, which the explorer's judge never looks at), the logs, and lists shared instead of
   * copied. The schedule string is made when first read: read it before the machine runs on.
   */
  summary(): RunSummary {
    const status = this.finish();
    return new LazyRunSummary(status, this.threads.map(threadSummary), this.executed, this.log);
  }

  /** How the run so far ended; ends every live thread with `limit` if the budget ran out. */
  private finish(): MachineOutcome['status'] {
    const live = this.threads.filter((t) => t.state !== 'exited');
    const why = this.timedOut ? `time limit of ${this.deadline!.seconds} s reached` : `instruction budget of ${this.maxInstructions} exhausted`;
    if (this.limited) for (const t of live) this.endThread(t, { status: 'limit', reason: why });
    const status = this.limited ? 'limit' : live.length ? 'deadlock' : 'completed';
    if (status === 'deadlock') this.log.warnings.push(`deadlock: ${live.map((t) => `T${t.tid}`).join(', ')} blocked with nothing left to run`);
    return status;
  }

  /** Instructions executed so far in this run. */
  get instructions(): number {
    return this.executed;
  }

  /** Whether the last step ended its thread's time slice (the tick came, preempting it or not). */
  get stepEndedSlice(): boolean {
    return this.sliceEnded;
  }

  /** The CPU the default policy runs next (advancing the policy as step(null) would), or null when nothing can run. */
  defaultCpu(): CpuId | null {
    return this.limited ? null : this.policy.next(this.queues);
  }

  /** How many runnable threads share CPU `cpu`. */
  threadsOn(cpu: CpuId): number {
    return this.queues.length(cpu);
  }

  /** Threads that can run now, by CPU: what a scheduler could pick next. */
  runnableCpus(): CpuId[] {
    const out: CpuId[] = [];
    for (let cpu = 0; cpu < this.cpus; cpu++) if (this.queues.head(cpu)) out.push(cpu);
    return out;
  }

  // ---- for a debugger (src/debug): breakpoints and the run so far, between steps ------------------

  /** Threads stop before executing an instruction at one of these addresses (the slice ends there). */
  setBreakpoints(addresses: ReadonlySet<Address>): void {
    this.breakpoints = new Set(addresses);
  }

  /** The breakpoint the last step stopped at, if any; cleared by reading it. */
  takeBreakpointHit(): { tid: number; address: Address } | null {
    const hit = this.breakpointHit;
    this.breakpointHit = null;
    return hit;
  }

  /** Every thread of this run, ended ones included. */
  allThreads(): readonly Thread[] {
    return this.threads;
  }

  /** The kernel events of the run so far, each with its rseq outcome once its thread returned to user space. */
  events(): readonly EventRecord[] {
    return this.log.events;
  }

  /** The system calls of the run so far. */
  syscalls(): readonly SyscallRecord[] {
    return this.log.syscalls;
  }

  /** The executed schedule so far, replayable with `run --schedule`. */
  schedule(): string {
    return this.log.schedule();
  }

  /** The bytes of `t`'s saved context as it stands (exportContext), without the other threads'. */
  contextOf(t: Thread): Uint8Array {
    if (this.loaded.get(t.process) === t) t.process.emu.saveContext(t.context);
    return t.process.emu.exportContext(t.context);
  }

  /** The events of `t` waiting for its return to user space. */
  awaitingOf(t: Thread): readonly EventRecord[] {
    return this.log.awaitingOf(t.tid);
  }

  registersOf(t: Thread): RegisterFile {
    return this.activate(t).readRegisters();
  }

  /** Where `t` stands (one register read, not the whole file). */
  ripOf(t: Thread): Address {
    return this.activate(t).reg('rip');
  }

  private onCpu(t: Thread): boolean {
    return t.state === 'runnable' && this.queues.head(t.cpu) === t && !this.leftCpu;
  }

  /** Runs `t` for up to `count` instructions (all it can while it keeps its CPU when null). Returns true when the budget ran out. */
  private runSlice(t: Thread, count: number | null): boolean {
    const emu = this.activate(t);
    this.running = t;
    this.leftCpu = false;
    this.sliceEnded = false;
    this.sliceLeft = count ?? Infinity;
    // The executed schedule lists what ran, so the run replays without the --event options.
    const segment: Segment = { cpu: t.cpu, tid: t.tid, start: this.executed, workRan: false, workAt: this.executed };
    if (t.inKvmRun) this.finishKvmRun(t);
    let limited = false;
    // A zero-length step (`cN:0`) still returns the thread to user space: its pending work, no instruction.
    let first = true;
    // Whether the last stop was only to look for rounds to skip (the thread never left user space).
    let spun = false;
    while (this.onCpu(t) && (this.sliceLeft > 0 || first)) {
      first = false;
      if (!spun) {
        segment.workRan = true;
        segment.workAt = this.executed;
        // Anything but the look itself (a call, an event, a fault) may have changed what a round does.
        this.spin.begin(t, this.skipping && !this.tracing && !this.breakpoints.size && !this.locationEvents.length, this.sliceLeft);
      }
      spun = false;
      // Mid-instruction (after `Tn:load`) the store half runs first, alone: no kernel entry before it.
      const split = t.split;
      if (split ? this.sliceLeft <= 0 : !this.returnToUser(t) || !this.onCpu(t) || this.sliceLeft <= 0) break;
      this.stop = null;
      const endSplit = split ? resumeSplit(emu, split) : null;
      const before = this.executed;
      try {
        emu.run(emu.reg('rip'), { until: SENTINEL, ...(split ? { count: 1 } : {}) });
      } catch (e) {
        if (!(e instanceof RseqEmuError) || !this.stop) throw e;
      }
      if (endSplit) {
        endSplit(this.executed > before);
        t.split = null;
      }
      const s = this.stop as Stop | null;
      if (!s) {
        if (split && emu.reg('rip') !== SENTINEL) continue;
        if (emu.reg('rip') === SENTINEL) this.callReturned(t);
        else this.killProcess(t, SIGSEGV, `emulation stopped unexpectedly at ${hex(emu.reg('rip'))}`, 'fault');
      } else if (s.kind === 'slice') {
        // the step's count or the time slice ran out: the loop's condition and the tick below decide
      } else if (s.kind === 'spin') {
        spun = true;
        const round = this.spin.stopped(t, { emu, rip: emu.reg('rip'), context: () => this.contextOf(t), sharedStores: this.sharedStores });
        if (round) this.skipRounds(t, round);
      } else if (s.kind === 'breakpoint') {
        this.breakpointHit = { tid: t.tid, address: s.address };
        break;
      } else if (s.kind === 'limit') {
        limited = true;
        break;
      } else if (s.kind === 'memory') {
        const undefinedUse = unresolvedAccess(this.image, s.access, s.address, s.access === 'fetch' ? this.returnAddressOf(t) : null);
        if (undefinedUse) this.killProcess(t, SIGSEGV, undefinedUse, 'fault', s.address);
        else this.signals.fault(t, SIGSEGV, `${s.access} of ${s.cause} address ${hex(s.address)}`, s.address);
      }
      else if (s.kind === 'trap') this.signals.fault(t, s.signal, `${s.reason} at ${hex(emu.reg('rip'))}`);
      else if (s.kind === 'event') {
        this.locationEvents.splice(this.locationEvents.indexOf(s.event), 1);
        this.log.recordSegment(segment, this.executed, true);
        this.applyEvent(t, s.event.action, s.event.text);
        this.log.recordEvent(t.tid, s.event.action);
      } else this.syscall(t);
      // The tick ends the slice after its last instruction, in the same step, so a replay of the
      // step's count ends it at the same place. A default-policy turn ends with the slice.
      if (t.sliceUsed >= this.sliceLength && this.onCpu(t)) {
        this.endSlice(t);
        if (count === null) break;
      }
    }
    this.running = null;
    this.spin.end();
    // An attempt whose thread stands outside the sections is over: no fix-up aborts there, so it
    // commits now rather than at the next instruction (the state between is the committed one).
    if (t.attemptStores.length && t.state !== 'exited' && !t.split) this.speculation?.step(t, emu.reg('rip'));
    // A segment is recorded when it ran instructions or returned the thread to user space (`cN:0` is
    // a switch to CPU N doing only that); not when its thread left the CPU before either.
    if (this.executed > segment.start || segment.workRan) this.log.recordSegment(segment, this.executed, this.onCpu(t), limited ? 1 : 0);
    return limited;
  }

  /**
   * Skips whole rounds of `t`'s fixed loop, short of the tick (a slice count that reaches it exactly
   * would end the turn at the round's start, recorded apart from the run), the budget and the
   * step's count: only the counts move.
   */
  private skipRounds(t: Thread, round: Round): void {
    const rounds = Math.min(
      Math.floor((this.sliceLength - 1 - t.sliceUsed) / round.slice),
      Math.floor((this.maxInstructions - this.executed) / round.instructions),
      Math.floor(this.sliceLeft / round.instructions),
    );
    if (!(rounds > 0 && Number.isSafeInteger(rounds))) return;
    const n = rounds * round.instructions;
    this.executed += n;
    this.sliceLeft -= n;
    t.executed += n;
    t.sliceUsed += rounds * round.slice;
    this.skipped += n;
  }

  /** The word at the thread's stack pointer (the return address at a `ret`), or null when it cannot be read. */
  returnAddressOf(t: Thread): Address | null {
    const emu = this.activate(t);
    try {
      return emu.readU64(emu.reg('rsp'));
    } catch {
      return null;
    }
  }

  /** The thread returned to the sentinel: one call done; start the next or end the thread. */
  private callReturned(t: Thread): void {
    const emu = t.process.emu;
    const prog = t.program;
    if (!prog) return this.killProcess(t, SIGSEGV, 'returned to the sentinel without a call in progress', 'fault');
    prog.returns = [...prog.returns, emu.reg('rax')];
    prog.callCpus = [...prog.callCpus, prog.cpusThisCall];
    prog.cpusThisCall = 1n << BigInt(t.cpu);
    prog.callIds = [...prog.callIds, prog.idsThisCall];
    startCallIds(t);
    if (prog.returns.length < prog.repeat) {
      emu.writeRegisters(this.callRegisters(prog.entry, prog.args, t.stackTop, t.fsBase));
      emu.writeU64(t.stackTop - 8n, SENTINEL);
      return;
    }
    this.endThread(t, { status: 'returned' });
  }

  // ---- events --------------------------------------------------------------------------------------

  private scheduledEvent(tid: number, event: ScheduledEvent, where: string): void {
    const t = this.thread(tid);
    if (!t || t.state === 'exited') throw new RseqEmuError('USAGE', `${where} 'T${tid}:${event.kind}': thread T${tid} ${t ? 'has ended' : 'does not exist'}`);
    if (t.split) throw new RseqEmuError('USAGE', `${where} 'T${tid}:${event.kind}': T${tid} is between the load and the store of an instruction (T${tid}:load); run it first`);
    if (event.kind === 'migrate' && (event.cpu < 0 || event.cpu >= this.cpus)) throw new RseqEmuError('USAGE', `${where}: CPU ${event.cpu} does not exist (--cpus ${this.cpus})`);
    this.activate(t);
    const spec = event.kind === 'migrate' ? `T${tid}:migrate:${event.cpu}` : event.kind === 'signal' ? `T${tid}:signal:${signalName(event.signal)}` : `T${tid}:${event.kind}`;
    this.applyEvent(t, event, spec);
    this.log.recordEvent(tid, event);
  }

  /** `Tn:load`: the load half of the thread's next instruction; its CPU's turn ends (split-rmw.ts). */
  private loadHalf(tid: number, where: string): void {
    const t = this.thread(tid);
    if (!t || this.queues.head(t.cpu) !== t || t.split) throw new RseqEmuError('USAGE', `${where}: thread T${tid} ${!t ? 'does not exist' : t.split ? 'has loaded already' : 'is not running on its CPU'}`);
    const emu = this.activate(t);
    const load = splitLoad(emu, emu.reg('rip'), emu.readRegisters());
    if (typeof load === 'string') throw new RseqEmuError('USAGE', `${where}: T${tid} cannot split: ${load}`);
    t.split = load;
    this.log.recordLoad(tid);
    this.policy.visited(t.cpu, t);
    this.policy.left();
  }

  /** A kernel event for `t` before its next instruction; the rseq outcome is filled in when it next returns to user space. */
  private applyEvent(t: Thread, event: ScheduledEvent, spec: string): void {
    const ip = this.ripOf(t);
    const record: EventRecord = { kind: event.kind === 'ipi' ? 'preempt' : event.kind, spec, ip, tid: t.tid, cpu: t.cpu, registered: t.rseq !== null, before: this.executed, outcome: 'none', resumeIp: ip, descriptor: 0n };
    this.log.addEvent(t.tid, record);
    switch (event.kind) {
      case 'ipi':
        t.eventMask |= RseqEvent.preempt;
        t.notifyResume = true;
        break;
      case 'signal':
        this.signals.queue(t, event.signal, true);
        break;
      case 'preempt': {
        t.eventMask |= RseqEvent.preempt;
        t.notifyResume = true;
        this.newSlice(t);
        this.onSwitchOut?.({ tid: t.tid, kind: 'preempt', ip, from: t.cpu, to: t.cpu }, this);
        if (this.queues.rotate(t) && t === this.running) this.leftCpu = true;
        break;
      }
      case 'migrate': {
        const from = t.cpu;
        this.moveThread(t, event.cpu);
        this.onSwitchOut?.({ tid: t.tid, kind: 'migrate', ip, from, to: t.cpu }, this);
        break;
      }
    }
    record.cpu = t.cpu;
  }

  /**
   * The scheduler tick at the end of `t`'s time slice: an involuntary switch (a preempt event,
   * recorded as `Tn:slice`, not a schedule item: replays reach it by themselves) when another
   * thread waits on its CPU; a new slice either way.
   */
  private endSlice(t: Thread): void {
    this.newSlice(t);
    this.sliceEnded = true;
    if (this.queues.length(t.cpu) > 1) this.applyEvent(t, { kind: 'preempt' }, `T${t.tid}:slice`);
  }

  /** A new time slice for `t` (the observer sees the count the last one reached). */
  private newSlice(t: Thread): void {
    this.onNewSlice?.(t);
    t.sliceUsed = 0;
    t.sliceStart = t.executed;
  }

  /** Switch-out and set_task_cpu: preempt and migrate events, and the move to the other CPU's queue. */
  private moveThread(t: Thread, cpu: CpuId): void {
    t.eventMask |= RseqEvent.preempt;
    t.notifyResume = true;
    this.newSlice(t);
    if (cpu === t.cpu) {
      if (this.queues.rotate(t) && t === this.running) this.leftCpu = true;
      return;
    }
    t.eventMask |= RseqEvent.migrate;
    const queued = t.state === 'runnable';
    if (queued) this.queues.remove(t);
    const from = t.cpu;
    t.cpu = cpu;
    t.lastMmCid = t.process.cids.migrate(from, cpu, t.lastMmCid, this.liveThreads(t.process), this.queues.head(from)?.process === t.process);
    if (t.program) t.program.cpusThisCall |= 1n << BigInt(cpu);
    // A registered thread sees the move when its next return to user space writes the new ids
    // (noted then), unless bug-kvm-run drops that work; getcpu and unregistered threads see it now.
    if (!t.rseq || this.profile.bugKvmRun) noteIds(t, { cpu, node: 0, mmCid: t.lastIds?.mmCid ?? 0 });
    if (queued) this.queues.enqueue(t);
    if (t === this.running) this.leftCpu = true;
  }

  // ---- concurrency ids ------------------------------------------------------------------------------

  /** The mm_cid `t` gets on its CPU (mm_cid_get at switch-in), unless its spawner pinned one. */
  private mmCid(t: Thread): number {
    if (t.pinnedMmCid !== null) return t.pinnedMmCid;
    t.lastMmCid = t.process.cids.schedIn(t.cpu, this.liveThreads(t.process));
    return t.lastMmCid;
  }

  private liveThreads(p: Process): number {
    return this.index.liveThreadsOf(p);
  }

  // ---- return to user space ---------------------------------------------------------------------

  /**
   * Signals, then the rseq notify-resume work, until neither is left: like exit_to_user_mode_loop,
   * which re-reads the work flags, so the SIGSEGV a failed fix-up queues is delivered (re-running
   * the fix-up) before user space runs. Returns false when the thread did not survive.
   */
  private returnToUser(t: Thread): boolean {
    for (;;) {
      const i = t.pendingSignals.findIndex((s) => !(t.sigmask & sigBit(s)));
      if (i >= 0) {
        const signo = t.pendingSignals[i]!;
        t.pendingSignals = t.pendingSignals.filter((_, j) => j !== i);
        if (!this.signals.deliver(t, signo)) return false;
        continue;
      }
      if (!t.notifyResume) return true;
      t.notifyResume = false;
      if (this.rseqWork(t, null) === false) return false;
    }
  }

  /** __rseq_handle_notify_resume for the modelled kernel; `signo` when called from signal delivery. */
  private rseqWork(t: Thread, signo: number | null): boolean | string {
    return this.notifyResume.run(t, signo, this.log.takeAwaiting(t.tid));
  }

  // ---- signals (signal-delivery.ts does the work) ---------------------------------------------------

  sendSignal(target: Thread, signo: number): void {
    this.signals.queue(target, signo, false);
  }

  sigreturn(t: Thread): boolean {
    return this.signals.sigreturn(t);
  }

  setSigaction(p: Process, signo: number, act: SigAction): void {
    this.signals.setSigaction(p, signo, act);
  }

  // ---- system calls ------------------------------------------------------------------------------------

  private syscall(t: Thread): void {
    const emu = t.process.emu;
    const r = emu.readRegisters();
    // What the syscall instruction itself does on the way in: rcx = return address, r11 = rflags.
    emu.setReg('rcx', r.rip);
    emu.setReg('r11', r.eflags);
    const nr = Number(r.rax);
    const args = [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9];
    const ip = this.lastAddress;
    const record: SyscallRecord = { tid: t.tid, nr, name: this.table.name(nr), args, ret: null, ip, implemented: this.table.implemented(nr), insideCriticalSection: this.inCriticalSection(t, ip) };
    this.log.syscalls.push(record);
    const result = this.table.dispatch(nr, { thread: t, mem: emu, args, kernel: this });
    if (result.kind === 'return') {
      record.ret = result.value;
      emu.setReg('rax', result.value);
    }
    if (nr !== NR_RT_SIGRETURN && this.profile.debug && t.state !== 'exited') this.debugSyscallExit(t);
  }

  /** CONFIG_DEBUG_RSEQ's rseq_syscall(): SIGSEGV at the exit of a syscall made inside a section, or with an invalid rseq_cs. */
  private debugSyscallExit(t: Thread): void {
    const ptr = this.rseqCsPointer(t);
    if (ptr === 0n) return;
    const emu = this.activate(t);
    // force_sig(SIGSEGV): a handler that is installed and not blocked gets it; otherwise the process dies.
    if (ptr === null) return void this.signals.forceSigsegv(t, null, 'rseq (debug): cannot read rseq->rseq_cs at syscall exit');
    const v = validateDescriptor(emu, ptr, t.rseq!.sig);
    if ('reason' in v) this.signals.forceSigsegv(t, null, `rseq (debug): invalid rseq_cs at syscall exit: ${v.reason}`);
    else if (insideSection(emu.reg('rip'), v.cs)) this.signals.forceSigsegv(t, null, `rseq (debug): system call inside the critical section at ${hex(this.lastAddress)}`);
  }

  /** Whether `ip` is inside the range of the descriptor the thread's rseq_cs names, valid or not (any profile may take it). */
  private inCriticalSection(t: Thread, ip: Address): boolean {
    const ptr = this.rseqCsPointer(t);
    if (!ptr) return false;
    const v = readDescriptor(t.process.emu, ptr);
    return 'cs' in v && insideSection(ip, v.cs);
  }

  /** The thread's rseq->rseq_cs: 0 when it is not registered, null when the area cannot be read. */
  rseqCsPointer(t: Thread): Address | null {
    if (!t.rseq) return 0n;
    try {
      return readU64(t.process.emu, t.rseq.area + BigInt(RseqField.rseqCs));
    } catch {
      return null;
    }
  }

  // ---- kernel services for system calls ------------------------------------------------------------------

  findThread(tid: number): Thread | undefined {
    return this.thread(tid);
  }

  threadsOf(p: Process): Thread[] {
    return [...this.index.threadsOf(p)];
  }

  childrenOf(p: Process): Process[] {
    return this.processes.filter((c) => c.parent === p);
  }

  reap(child: Process): void {
    child.parent = null;
  }

  runningOn(cpu: CpuId): Thread | undefined {
    return this.queues.head(cpu);
  }

  /** The thread whose instructions run now (in a hook), or null between steps. */
  get runningThread(): Thread | null {
    return this.running;
  }

  /**
   * sched_yield (`sleeps` false) and the sleeps: a voluntary switch-out. A sleeping thread always
   * leaves its CPU; a yielding one only when another can run. 6.19 records no event for either.
   */
  yieldCpu(t: Thread, sleeps: boolean): void {
    const switched = this.queues.rotate(t) || sleeps;
    if (switched) this.newSlice(t);
    if (switched && this.profile.base !== 'linux-6.19') {
      t.eventMask |= RseqEvent.preempt;
      t.notifyResume = true;
    }
    if (t === this.running) this.leftCpu = true;
  }

  migrate(t: Thread, cpu: CpuId): void {
    if (t.inKvmRun) t.notifyResume = true; // the work bug-kvm-run loses
    this.moveThread(t, cpu);
  }

  block(t: Thread, why: WaitReason): void {
    t.state = 'blocked';
    t.wait = why;
    this.newSlice(t);
    this.queues.remove(t);
    // Blocking is a voluntary switch-out: a preempt event, except on 6.19 (as in yieldCpu).
    if (this.profile.base !== 'linux-6.19') {
      t.eventMask |= RseqEvent.preempt;
      t.notifyResume = true;
    }
    if (t === this.running) this.leftCpu = true;
  }

  private wake(t: Thread): void {
    if (t.state !== 'blocked') return;
    t.state = 'runnable';
    t.wait = null;
    this.queues.enqueue(t);
  }

  kvmRun(t: Thread): void {
    t.inKvmRun = true;
    this.yieldCpu(t, true);
  }

  /** Back from KVM_RUN: returns 0; with bug-kvm-run the transfer-to-guest work has dropped the notify-resume request. */
  private finishKvmRun(t: Thread): void {
    t.inKvmRun = false;
    this.activate(t).setReg('rax', 0n);
    if (this.profile.bugKvmRun && t.notifyResume) {
      t.notifyResume = false;
      this.log.warnings.push(`T${t.tid}: bug-kvm-run dropped the rseq notify-resume work on return from KVM_RUN`);
    }
  }

  rseqIpi(t: Thread): void {
    t.eventMask |= RseqEvent.preempt;
    t.notifyResume = true;
  }

  output(t: Thread, fd: number, bytes: Uint8Array, length: number): void {
    this.log.addOutput(t.tid, fd, bytes, length);
  }

  outputRoom(): number {
    return this.log.outputRoom();
  }

  exitThread(t: Thread, code: number): void {
    this.endThread(t, { status: 'exited', exitCode: code });
  }

  exitGroup(p: Process, code: number): void {
    for (const t of this.index.threadsOf(p)) if (t.state !== 'exited') this.endThread(t, { status: 'exited', exitCode: code });
  }

  /** A fatal signal ends every thread of the process. */
  private killProcess(culprit: Thread, signo: number, reason: string, status: 'fault' | 'signal', faultAddress?: Address): void {
    const signal = signalName(signo);
    for (const t of this.index.threadsOf(culprit.process)) {
      if (t.state === 'exited') continue;
      this.endThread(t, t === culprit
        ? { status, signal, reason, ...(faultAddress !== undefined ? { faultAddress } : {}) }
        : { status: 'signal', signal, reason: `process killed: T${culprit.tid}: ${reason}` }, signo);
    }
  }

  private endThread(t: Thread, end: ThreadEnd, killedBy?: number): void {
    if (t.state === 'exited') return;
    if (t === this.running) this.leftCpu = true;
    t.state = 'exited';
    this.index.exited(t);
    t.end = end;
    this.queues.remove(t);
    // sched_mm_cid_exit_signals: the exit runs on the thread's CPU, which gives its id back.
    if (this.queues.head(t.cpu)?.process !== t.process) t.process.cids.exit(t.cpu);
    if (this.loaded.get(t.process) === t) t.process.emu.saveContext(t.context);
    if (t.clearChildTid !== null) this.tryWrite32(t.process.emu, t.clearChildTid, 0); // Linux ignores a fault here
    const p = t.process;
    if (this.index.liveThreadsOf(p) === 0) {
      p.exitStatus = killedBy !== undefined ? killedBy : ((end.exitCode ?? 0) & 0xff) << 8;
      for (const w of this.threads) {
        if (w.state === 'blocked' && w.wait?.kind === 'child' && w.process === p.parent && (w.wait.pid <= 0 || w.wait.pid === p.pid)) {
          const statusPtr = w.wait.statusPtr;
          this.wake(w);
          const emu = this.activate(w);
          // The child is reaped either way; a status pointer that faults makes wait4 return -EFAULT.
          const stored = statusPtr === 0n || this.tryWrite32(emu, statusPtr, p.exitStatus);
          emu.setReg('rax', stored ? BigInt(p.pid) : BigInt.asUintN(64, -BigInt(EFAULT)));
          p.parent = null;
          break;
        }
      }
    }
  }

  tasks(): { threads: number; processes: number; processesEver: number } {
    return {
      threads: this.index.liveThreads(),
      // Zombies count until reaped, as they do against RLIMIT_NPROC.
      processes: this.processes.filter((p) => p.exitStatus === null || p.parent !== null).length,
      processesEver: this.processes.length,
    };
  }

  clone(parent: Thread, req: CloneRequest): Thread {
    const regs = { ...this.registersOf(parent), rax: 0n };
    const thread = (req.flags & CLONE_VM) !== 0n;
    const tid = this.nextId();
    const process = thread ? parent.process : this.addProcess(copyAddressSpace(parent.process.emu), parent.process, tid);
    if (!thread) process.sigactions = new Map(parent.process.sigactions);
    if (thread) regs.rsp = req.stack;
    if (req.flags & CLONE_SETTLS) regs.fs_base = req.tls;
    const cpu = this.placeNewTask(parent);
    const inherited = !thread && parent.rseq ? { ...parent.rseq } : null;
    // sched_fork/wake_up_new_task: rseq_migrate marks the child, so its first return writes cpu_id (ce3614daabea);
    // bug-new-task-cpu-id leaves it with the ids copied from the parent's area.
    const fixed = !this.profile.bugNewTaskCpuId;
    const child = this.newThread(process, tid, regs, {
      cpu, affinity: parent.affinity, fsBase: regs.fs_base, ownsMemory: false, rseq: inherited,
      // A fork child is a copy of the whole process: it goes on with the parent's calls of the entry function.
      stackTop: thread ? regs.rsp : parent.stackTop, program: !thread && parent.program ? copyProgram(parent.program) : null,
      eventMask: inherited ? parent.eventMask | (fixed ? RseqEvent.migrate : 0) : 0, // rseq_migrate is unconditional there
      notifyResume: inherited !== null && fixed, lastIds: inherited ? parent.lastIds : null, sigmask: parent.sigmask,
    });
    if (child.program) child.program.cpusThisCall |= 1n << BigInt(cpu); // the fork child goes on with the call on its own CPU
    noteIds(child, { cpu, node: 0, mmCid: child.lastIds?.mmCid ?? 0 });
    if (req.flags & CLONE_PARENT_SETTID) this.tryWrite32(parent.process.emu, req.parentTid, tid);
    if (req.flags & CLONE_CHILD_SETTID) this.tryWrite32(process.emu, req.childTid, tid);
    if (req.flags & CLONE_CHILD_CLEARTID) child.clearChildTid = req.childTid;
    this.activate(parent);
    return child;
  }

  /** A user-memory store that may fault; false when it did. */
  private tryWrite32(emu: Emulator, at: Address, v: number): boolean {
    try {
      emu.writeU32(at, v);
      return true;
    } catch {
      return false;
    }
  }

  /** wake_up_new_task's choice: the lowest allowed CPU with nothing queued, else the parent's CPU. */
  private placeNewTask(parent: Thread): CpuId {
    for (let cpu = 0; cpu < this.cpus; cpu++) if ((parent.affinity >> BigInt(cpu)) & 1n && !this.queues.head(cpu)) return cpu;
    return parent.cpu;
  }
}
