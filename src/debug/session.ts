// A debug session on the emulated machine, with the semantics of ptrace on Linux: every debug stop
// (single-step trap, breakpoint trap, a stop the debugger asks for) takes the thread out of user
// mode and schedules it out — a preempt event — and the return-to-user work runs when it resumes
// (kernel/notify-resume.ts, per profile). All-stop: when one thread stops every thread is stopped.
// The session drives the machine only through schedule items (`Tn:preempt`, `cN:1`, `cN:*`), so
// `schedule()` replays the whole session with `rseq-emu run --schedule`.
import { findSymbol, type Image } from '../asm/image.js';
import { RseqField, RSEQ_CPU_ID_REGISTRATION_FAILED, readU64 } from '../abi/rseq.js';
import { readRseqTables, sectionContaining, type CriticalSection, type RseqTables } from '../abi/tables.js';
import type { RegisterFile, X86Register } from '../engine/index.js';
import { X86_REGISTERS } from '../engine/index.js';
import { RseqEmuError } from '../errors.js';
import type { Machine } from '../kernel/machine.js';
import { parseProfile, type Profile } from '../kernel/profile.js';
import type { ScheduledEvent } from '../kernel/schedule.js';
import { SIGNALS } from '../kernel/event-spec.js';
import type { Thread } from '../kernel/thread.js';
import { parseArg, type Scenario, type ScenarioRegion } from '../scenario/scenario.js';
import { instantiate } from '../scenario/setup.js';
import type { Address } from '../types.js';
import { LineTable } from './line-table.js';

export type SteppingStrategy = 'linux' | 'rseq-aware' | 'no-rseq';
export const STRATEGIES: readonly SteppingStrategy[] = ['linux', 'rseq-aware', 'no-rseq'];

/** What the return-to-user work did to one thread when it resumed from a debug stop. */
export type ResumeEffect =
  | { kind: 'none' }
  | { kind: 'cleared' }
  | { kind: 'aborted'; from: Address; to: Address }
  | { kind: 'sigsegv'; reason: string };

export interface DebugStop {
  /** The thread that stopped (the "current" thread for gdb). */
  tid: number;
  reason: 'step' | 'breakpoint' | 'entry' | 'returned' | 'exited' | 'killed' | 'limit';
  /** That thread's RIP now: the next instruction it will execute. */
  address: Address;
  /** What each resumed thread's resume work did (a line step lists every single step's). */
  resume: { tid: number; effect: ResumeEffect }[];
  exitCode?: number;
  signal?: number;
  /** Instructions executed since the previous stop, all threads together. */
  instructions: number;
  /** Critical sections the stepped thread completed since the previous stop (left through post-commit or a listed exit point). */
  commits?: number;
}

export type DebugEvent = { kind: 'preempt' } | { kind: 'migrate'; cpu: number } | { kind: 'signal'; signal: number };

export type SessionTarget =
  | { scenario: Scenario }
  /** One call of `entry`, as `rseq-emu run FILE --entry SYM --arg …` makes it. */
  | { entry: string; args: readonly string[]; memory?: readonly ScenarioRegion[]; cpu?: number; cpus?: number };

export interface SessionOptions {
  profile?: Profile;
  strategy?: SteppingStrategy;
  /** Instruction budget of the whole session (default 1,000,000). */
  maxInstructions?: number;
}

export interface ThreadRseqState {
  tid: number;
  cpu: number;
  /** cpu_id as the area holds it (-1 uninitialized, -2 registration failed). */
  cpuId: number;
  rseqCs: Address;
  /** The listed section holding the thread's IP, as `symbol` of its start, or null. */
  inside: string | null;
}

/** Bound on instructions a line step or an rseq-aware step-over may take before it gives up. */
const INNER_STEP_LIMIT = 100_000;

export class DebugSession {
  strategy: SteppingStrategy;
  readonly tables: RseqTables;
  readonly lines: LineTable;
  private readonly breakpoints = new Set<Address>();
  /** Threads that ran since their last switch-out: their debug stop still has to be recorded. */
  private readonly needsSwitchOut = new Set<number>();
  private readonly queued = new Map<number, ScheduledEvent[]>();
  private current: number;
  private lastInstructions = 0;

  private constructor(
    readonly image: Image,
    readonly machine: Machine,
    strategy: SteppingStrategy,
    lines: LineTable,
  ) {
    this.strategy = strategy;
    this.tables = readRseqTables(image);
    this.lines = lines;
    const live = this.liveThreads();
    if (!live.length) throw new RseqEmuError('USAGE', 'the session has no thread to debug');
    this.current = live[0]!.tid;
    // The threads start stopped at their entry (a breakpoint there, as `break f; run`).
    for (const t of live) this.needsSwitchOut.add(t.tid);
  }

  static create(image: Image, target: SessionTarget, options: SessionOptions = {}): DebugSession {
    const strategy = options.strategy ?? 'linux';
    if (!STRATEGIES.includes(strategy)) throw new RseqEmuError('USAGE', `unknown stepping strategy '${strategy}' (known: ${STRATEGIES.join(', ')})`);
    let scenario: Scenario;
    if ('scenario' in target) scenario = target.scenario;
    else {
      if (!findSymbol(image, target.entry)) throw new RseqEmuError('USAGE', `no symbol '${target.entry}' in ${image.file}`);
      scenario = {
        source: image.file, cpus: target.cpus ?? 2, profile: undefined, registration: 'glibc', memory: [...(target.memory ?? [])],
        threads: [{ entry: target.entry, args: target.args.map((a, i) => parseArg(a, `--arg ${i + 1}`)), cpu: target.cpu ?? 0, repeat: 1 }],
        invariants: [], maxInstructions: undefined,
      };
    }
    // no-rseq: glibc.pthread.rseq=0 — glibc does not register, __rseq_size is 0, cpu_id says registration failed.
    if (strategy === 'no-rseq') scenario = { ...scenario, registration: 'none' };
    if (options.maxInstructions !== undefined) scenario = { ...scenario, maxInstructions: options.maxInstructions };
    const profile = options.profile ?? parseProfile(scenario.profile ?? 'linux');
    const machine = instantiate(image, scenario, profile);
    try {
      machine.begin();
      if (strategy === 'no-rseq') {
        for (const t of machine.allThreads()) machine.emu.writeU32(machine.rseqArea(t.tid) + BigInt(RseqField.cpuId), RSEQ_CPU_ID_REGISTRATION_FAILED >>> 0);
      }
      return new DebugSession(image, machine, strategy, LineTable.fromImage(image));
    } catch (e) {
      machine.close();
      throw e;
    }
  }

  close(): void {
    this.machine.close();
  }

  // ---- state ---------------------------------------------------------------------------------------

  /** Live thread ids, ascending. */
  threads(): number[] {
    return this.liveThreads().map((t) => t.tid).sort((a, b) => a - b);
  }

  /** The thread of the last stop. */
  get currentThread(): number {
    return this.current;
  }

  ended(): boolean {
    return this.liveThreads().length === 0;
  }

  registers(tid: number): RegisterFile {
    return this.machine.registersOf(this.thread(tid, true));
  }

  setRegister(tid: number, name: string, value: bigint): void {
    const t = this.thread(tid, true);
    if (!(X86_REGISTERS as readonly string[]).includes(name)) throw new RseqEmuError('USAGE', `unknown register '${name}'`);
    this.machine.registersOf(t); // makes t's registers the live ones
    t.process.emu.setReg(name as X86Register, BigInt.asUintN(64, value));
  }

  readMemory(address: Address, length: number): Uint8Array | null {
    try {
      return this.machine.emu.read(address, length);
    } catch {
      return null;
    }
  }

  writeMemory(address: Address, bytes: Uint8Array): boolean {
    try {
      this.machine.emu.write(address, bytes);
      return true;
    } catch {
      return false;
    }
  }

  addBreakpoint(address: Address): void {
    this.breakpoints.add(address);
  }

  removeBreakpoint(address: Address): void {
    this.breakpoints.delete(address);
  }

  breakpointList(): Address[] {
    return [...this.breakpoints];
  }

  /** A kernel event for `tid`, applied when it next resumes (after its debug stop's switch-out). */
  queueEvent(tid: number, event: DebugEvent): void {
    this.thread(tid, true);
    if (event.kind === 'migrate' && (event.cpu < 0 || event.cpu >= this.machine.cpus)) throw new RseqEmuError('USAGE', `CPU ${event.cpu} does not exist (${this.machine.cpus} CPUs)`);
    this.queued.set(tid, [...(this.queued.get(tid) ?? []), event]);
  }

  rseqState(): ThreadRseqState[] {
    return this.liveThreads().map((t) => {
      const rip = this.machine.registersOf(t).rip;
      const cs = sectionContaining(this.tables.sections, rip);
      let cpuId = -1;
      let rseqCs = 0n;
      try {
        const area = this.machine.rseqArea(t.tid);
        cpuId = t.process.emu.readU32(area + BigInt(RseqField.cpuId)) | 0;
        rseqCs = readU64(t.process.emu, area + BigInt(RseqField.rseqCs));
      } catch {
        // an unmapped area reads as unregistered
      }
      return { tid: t.tid, cpu: t.cpu, cpuId, rseqCs, inside: cs ? this.sectionName(cs) : null };
    });
  }

  /** The executed schedule, replayable with `rseq-emu run --schedule`. */
  schedule(): string {
    return this.machine.schedule();
  }

  lineOf(address: Address): { file: string; line: number } | null {
    const e = this.lines.at(address);
    return e ? { file: e.file, line: e.line } : null;
  }

  /** The critical section (listed in the image's tables) whose range holds `address`. */
  sectionAt(address: Address): CriticalSection | undefined {
    return sectionContaining(this.tables.sections, address);
  }

  /** rax of each completed call of the thread's entry function. */
  returnValues(tid: number): bigint[] {
    return [...(this.thread(tid, false)?.program?.returns ?? [])];
  }

  /** The stop the session starts in: every thread at its entry (`tid`'s, or the first thread's). */
  entryStop(tid = this.current): DebugStop {
    return { tid, reason: 'entry', address: this.registers(tid).rip, resume: [], instructions: 0 };
  }

  // ---- execution ------------------------------------------------------------------------------------

  /** One instruction of `tid` after its resume work (all other threads stay stopped). */
  stepi(tid: number): DebugStop {
    const stop = this.rawStepi(tid);
    if (this.strategy !== 'rseq-aware' || stop.reason !== 'step') return stop;
    const cs = this.sectionAt(stop.address);
    if (!cs || (stop.address === cs.startIp && this.rseqCsOf(tid) !== cs.descriptor)) return stop;
    return this.runSectionToExit(tid, cs, stop);
  }

  /** Line step into calls: single steps while the IP stays within the current line (gdb's `step`). */
  step(tid: number): DebugStop {
    return this.lineStep(tid, false);
  }

  /** Line step over calls: a call runs to its return address without stops (gdb's `next`). */
  next(tid: number): DebugStop {
    return this.lineStep(tid, true);
  }

  /** All threads run under the default schedule until one reaches a breakpoint, or every thread ends. */
  continue(): DebugStop {
    const resume: DebugStop['resume'] = [];
    // gdb first steps the current thread off a breakpoint it sits on (a real single-step stop).
    const cur = this.thread(this.current, false);
    if (cur && cur.state === 'runnable' && this.breakpoints.has(this.machine.registersOf(cur).rip)) {
      const first = this.stepi(cur.tid);
      resume.push(...first.resume);
      if (first.reason !== 'step') return { ...first, resume };
    }
    return this.runFree(this.breakpoints, resume);
  }

  // ---- internals ------------------------------------------------------------------------------------

  private liveThreads(): Thread[] {
    return this.machine.allThreads().filter((t) => t.state !== 'exited');
  }

  private thread(tid: number, live: true): Thread;
  private thread(tid: number, live: false): Thread | undefined;
  private thread(tid: number, live: boolean): Thread | undefined {
    const t = this.machine.thread(tid);
    if (live && (!t || t.state === 'exited')) throw new RseqEmuError('USAGE', `thread T${tid} ${t ? 'has ended' : 'does not exist'}`);
    return t;
  }

  private rseqCsOf(tid: number): Address {
    try {
      return readU64(this.machine.emu, this.machine.rseqArea(tid) + BigInt(RseqField.rseqCs));
    } catch {
      return 0n;
    }
  }

  private sectionName(cs: CriticalSection): string {
    const label = this.image.symbols.find((s) => s.kind === 'label' && s.address === cs.startIp && s.instance === undefined);
    return label?.name ?? `0x${cs.startIp.toString(16)}`;
  }

  /**
   * The resume: each stopped thread that ran since its last switch-out gets it now (`Tn:preempt`),
   * `first` first so that it ends at the head of its CPU's queue; then the events queued for the
   * threads that resume. Returns the index of the first event record of this resume.
   */
  private resumeWork(first: number | null): number {
    const before = this.machine.events().length;
    const preempt = (tid: number) => {
      this.needsSwitchOut.delete(tid);
      this.machine.step({ kind: 'event', tid, event: { kind: 'preempt' } });
    };
    const live = this.liveThreads().filter((t) => t.state === 'runnable');
    if (first !== null && this.needsSwitchOut.has(first)) preempt(first);
    for (const t of live) if (this.needsSwitchOut.has(t.tid)) preempt(t.tid);
    // Events queued for the threads that resume now (all of them when `first` is null).
    for (const [tid, events] of [...this.queued]) {
      if (first !== null && tid !== first) continue;
      this.queued.delete(tid);
      const t = this.thread(tid, false);
      if (t && t.state !== 'exited') for (const event of events) this.machine.step({ kind: 'event', tid, event });
    }
    if (first !== null) {
      // Threads ahead of `first` on its CPU are stopped too; rotating them is one more switch-out each.
      const t = this.thread(first, true);
      for (let guard = 0; t.state === 'runnable' && this.machine.runningOn(t.cpu) !== t && guard < 64; guard++) preempt(this.machine.runningOn(t.cpu)!.tid);
    }
    return before;
  }

  /** What the resume work did to each of `tids`, from the event records since `before`. */
  private effects(before: number, tids: readonly number[]): DebugStop['resume'] {
    const records = this.machine.events().slice(before);
    return tids.map((tid) => {
      const mine = records.filter((r) => r.tid === tid);
      const aborted = mine.find((r) => r.outcome === 'aborted');
      const segv = mine.find((r) => r.outcome === 'sigsegv');
      const effect: ResumeEffect = aborted
        ? { kind: 'aborted', from: aborted.ip, to: aborted.resumeIp }
        : segv
          ? { kind: 'sigsegv', reason: segv.reason ?? 'rseq' }
          : mine.some((r) => r.outcome === 'cleared')
            ? { kind: 'cleared' }
            : { kind: 'none' };
      return { tid, effect };
    });
  }

  /** A stop of `tid` after a resume: why, where, and the debug stop recorded for the threads that ran. */
  private stopOf(tid: number, ran: readonly number[], resume: DebugStop['resume'], breakpoint: boolean, limited: boolean): DebugStop {
    for (const r of ran) {
      const t = this.thread(r, false);
      if (t && t.state === 'runnable') this.needsSwitchOut.add(r);
    }
    this.current = tid;
    const t = this.thread(tid, false)!;
    const executed = this.machine.allThreads().reduce((n, x) => n + x.executed, 0);
    const instructions = executed - this.lastInstructions;
    this.lastInstructions = executed;
    const address = this.machine.registersOf(t).rip;
    const base = { tid, address, resume, instructions };
    if (limited) return { ...base, reason: 'limit' };
    if (t.state === 'exited' && t.end) {
      const end = t.end;
      if (end.status === 'returned') return { ...base, reason: 'returned' };
      if (end.status === 'exited') return { ...base, reason: 'exited', exitCode: end.exitCode ?? 0 };
      if (end.status === 'limit') return { ...base, reason: 'limit' };
      return { ...base, reason: 'killed', ...(end.signal && SIGNALS[end.signal] !== undefined ? { signal: SIGNALS[end.signal] } : {}) };
    }
    return { ...base, reason: breakpoint ? 'breakpoint' : 'step' };
  }

  /** One instruction of `tid` after the resume work, whatever the strategy. */
  private rawStepi(tid: number): DebugStop {
    const t = this.thread(tid, true);
    this.machine.setBreakpoints(new Set());
    // A thread blocked in the kernel cannot step: the others run (as after PTRACE_CONT) until it wakes.
    while (t.state === 'blocked') {
      this.resumeWork(null);
      if (!this.machine.step(null)) break;
    }
    if (t.state !== 'runnable') return this.stopOf(tid, [], [], false, t.state !== 'exited');
    const before = this.resumeWork(tid);
    const from = this.machine.registersOf(t).rip;
    let limited = false;
    if (t.state === 'runnable') limited = !this.machine.step({ kind: 'run', cpu: t.cpu, count: 1 });
    const stop = this.stopOf(tid, [tid], this.effects(before, [tid]), false, limited);
    return this.completed(from, stop) ? { ...stop, commits: 1 } : stop;
  }

  /** Whether a step from `from` (after its resume work) left a section through its post-commit address or a listed exit. */
  private completed(from: Address, stop: DebugStop): boolean {
    if (stop.reason !== 'step' || stop.resume.some((r) => r.tid === stop.tid && r.effect.kind === 'aborted')) return false;
    const cs = this.sectionAt(from);
    if (!cs || this.sectionAt(stop.address) === cs) return false;
    return stop.address === cs.postCommitIp || this.tables.exitPoints.some((e) => e.startIp === cs.startIp && e.exitIp === stop.address);
  }

  /**
   * rseq-aware: the step stopped inside a listed section (or at its start, armed). Run the thread
   * on, without debug stops, until its IP leaves the section (post-commit, abort_ip, an exit point,
   * anywhere outside), and report one stop there — gdb's step over an LL/SC sequence.
   */
  private runSectionToExit(tid: number, cs: CriticalSection, entered: DebugStop): DebugStop {
    const t = this.thread(tid, true);
    let limited = false;
    for (let i = 0; i < INNER_STEP_LIMIT && t.state === 'runnable'; i++) {
      const rip = this.machine.registersOf(t).rip;
      if (BigInt.asUintN(64, rip - cs.startIp) >= cs.postCommitOffset) break;
      if (this.machine.runningOn(t.cpu) !== t) break; // left its CPU (a system call inside): stop here
      if (!this.machine.step({ kind: 'run', cpu: t.cpu, count: 1 })) {
        limited = true;
        break;
      }
    }
    const stop = this.stopOf(tid, [tid], entered.resume, false, limited);
    const done = { ...stop, instructions: stop.instructions + entered.instructions };
    return this.completed(cs.startIp, done) ? { ...done, commits: 1 } : done;
  }

  private lineStep(tid: number, over: boolean): DebugStop {
    const t = this.thread(tid, true);
    const startRip = this.machine.registersOf(t).rip;
    const origin = this.lines.at(startRip);
    if (!origin) return this.stepi(tid);
    const total = new StopTotals();
    for (let i = 0; i < INNER_STEP_LIMIT; i++) {
      const regs = this.machine.registersOf(t);
      let stop = total.add(this.stepi(tid));
      if (stop.reason !== 'step') return total.of(stop);
      if (over) {
        const ret = this.calledFrom(tid, regs);
        if (ret !== null) {
          // `next`: the callee runs free to the return address in this frame (a breakpoint there).
          stop = total.add(this.runToReturn(tid, ret, regs.rsp));
          if (stop.reason !== 'step') return total.of(stop);
        }
      }
      const here = this.lines.at(stop.address);
      if (!here) continue;
      const sameLine = here.file === origin.file && here.line === origin.line;
      // At the start of another line, or back at the start of ours (a loop): stop, as gdb does;
      // in the middle of a line, keep stepping through it.
      if (stop.address === here.start && (!sameLine || stop.address === startRip)) return total.of(stop);
    }
    return total.of(total.add(this.stopOf(tid, [], [], false, true)));
  }

  /**
   * Whether the instruction just stepped was a call: the stack grew by one word holding an address
   * just past the old IP, and the IP went elsewhere. Returns the return address.
   */
  private calledFrom(tid: number, before: RegisterFile): Address | null {
    const t = this.thread(tid, false);
    if (!t || t.state !== 'runnable') return null;
    const now = this.machine.registersOf(t);
    if (now.rsp !== before.rsp - 8n) return null;
    let ret: bigint;
    try {
      ret = t.process.emu.readU64(now.rsp);
    } catch {
      return null;
    }
    const after = ret - before.rip;
    return after > 0n && after <= 15n && now.rip !== ret ? ret : null;
  }

  /** Runs every thread with a breakpoint at `ret` until `tid` gets there with its frame popped. */
  private runToReturn(tid: number, ret: Address, frameSp: Address): DebugStop {
    const total = new StopTotals();
    for (let i = 0; i < INNER_STEP_LIMIT; i++) {
      const stop = total.add(this.runFree(new Set([...this.breakpoints, ret]), []));
      if (stop.reason !== 'breakpoint') return total.of(stop);
      const regs = this.machine.registersOf(this.thread(stop.tid, true));
      if (stop.tid === tid && stop.address === ret && regs.rsp >= frameSp) return total.of({ ...stop, reason: 'step' });
      if (this.breakpoints.has(stop.address)) return total.of(stop);
      // A recursive call or another thread at the return address: step off it and go on.
      const off = total.add(this.rawStepi(stop.tid));
      if (off.reason !== 'step') return total.of(off);
    }
    return total.of(total.add(this.stopOf(tid, [], [], false, true)));
  }

  /** All threads run (the default policy) until a breakpoint in `at` or the end of every thread. */
  private runFree(at: ReadonlySet<Address>, resume: DebugStop['resume']): DebugStop {
    const ran = this.liveThreads().filter((t) => t.state !== 'exited').map((t) => t.tid);
    const before = this.resumeWork(null);
    this.machine.setBreakpoints(at);
    let hit: { tid: number; address: Address } | null = null;
    let limited = false;
    try {
      for (;;) {
        const more = this.machine.step(null);
        hit = this.machine.takeBreakpointHit();
        if (hit) break;
        if (!more) {
          // Threads left but none can run: the budget ran out, or they all wait (a deadlock).
          limited = this.liveThreads().length > 0;
          break;
        }
        // A thread killed by a signal stops everything, as gdb reports it.
        if (this.machine.allThreads().some((t) => t.state === 'exited' && ran.includes(t.tid) && t.end && (t.end.status === 'signal' || t.end.status === 'fault'))) break;
      }
    } finally {
      this.machine.setBreakpoints(new Set());
    }
    const effects = [...resume, ...this.effects(before, ran)];
    const tid = hit?.tid ?? this.lastEnded(ran) ?? this.current;
    return this.stopOf(tid, ran, effects, hit !== null, limited);
  }

  /** The thread to report when a free run ended with no breakpoint: the current one if it ended, else the last to end. */
  private lastEnded(ran: readonly number[]): number | null {
    const cur = this.thread(this.current, false);
    if (cur && cur.state === 'exited') return cur.tid;
    const ended = ran.filter((tid) => this.thread(tid, false)?.state === 'exited');
    return ended.at(-1) ?? null;
  }
}

/** Sums the resume effects, instructions and commits of the stops one command is made of. */
class StopTotals {
  private resume: DebugStop['resume'] = [];
  private instructions = 0;
  private commits = 0;

  add(stop: DebugStop): DebugStop {
    this.resume.push(...stop.resume);
    this.instructions += stop.instructions;
    this.commits += stop.commits ?? 0;
    return stop;
  }

  /** `last` with everything summed so far. */
  of(last: DebugStop): DebugStop {
    return { ...last, resume: this.resume, instructions: this.instructions, ...(this.commits ? { commits: this.commits } : {}) };
  }
}
