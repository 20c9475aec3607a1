// Last deviations that leave a state an earlier point already left ("event twins") run once.
//
// Where the search has one deviation left, it walks the default path an instruction at a time and
// runs one schedule per deviation offered at each point. Two points of one walk whose default
// steps between them were all pure (`afterStep`: the same thread ran one instruction that entered
// no kernel, ended no slice, closed no attempt, returned from no call, and wrote no memory or only
// its own stack and TLS bytes with the values they held) differ only in that thread's registers,
// its slice count and the instruction count. The same kernel event for that thread then leaves
// equal states when its registers come out equal, which happens two ways:
// - the event aborts the thread's critical section: it resumes at abort_ip with the registers the
//   abort handler's paths overwrite before reading at fixed values (pending-abort.ts), so events
//   anywhere in one attempt leave one state. The state cache finds the same, but it does not look
//   states up here (a fingerprint cost more than the runs it saved; exhaustive.ts);
// - the thread is in a loop that wrote nothing new (a spin on a lock): a point whose address the
//   stretch already passed may hold the registers of an earlier iteration.
// Registers compare through the register API and the rest of the context byte for byte
// (context-layout.ts). The slice counts must be equal, or no tick in reach of either (the state
// cache's rule); the budget must fit the twin's run; and a twin that aborted stands for others
// only when its abort ended as predicted, as a cache entry does.
//
// A third kind of twin is one instruction apart: a preempt or migrate just after a register-only
// instruction, where the kernel's fix-up aborts nothing, leads to the leaves the same event just
// before it led to (commuting.ts). That schedule stands for this one when its leaf was judged
// clean (a violation's text may name where the event came), with one instruction fewer to run.
import { createHash } from 'node:crypto';
import { sectionContaining, type CriticalSection, type RseqTables } from '../abi/tables.js';
import { equalBesides, registerBlock } from '../engine/context-layout.js';
import { PAGE_SIZE, X86_REGISTERS, type RegisterFile } from '../engine/index.js';
import { SHARED_MEMORY_END } from '../kernel/address-space.js';
import type { Machine } from '../kernel/machine.js';
import type { MachineSnapshot } from '../kernel/machine-types.js';
import { memoryWrites, writtenSinceCopy } from '../kernel/memory-snapshot.js';
import { formatItem, type ScheduleItem } from '../kernel/schedule.js';
import type { Thread } from '../kernel/thread.js';
import type { Address } from '../types.js';
import { pendingAbort, pendingAt, type PendingAbort } from './pending-abort.js';
import { noTickWithin } from './state-cache.js';
import { commutable, fixupClears } from './commuting.js';

/** What a default step must leave as it was (besides the running thread's registers and counts). */
interface StepMark {
  writes: number;
  syscalls: number;
  events: number;
  instructions: number;
  thread: Thread;
  cpu: number;
  attempt: number;
  returns: number;
  eventMask: number;
}

/** The state an event left, as far as a twin can differ from it. */
export interface TwinState {
  key: string;
  /** The event's thread's exported context (compared outside the register block). */
  context: Uint8Array;
  /** Its slice count. */
  slice: number;
  /** The abort the event will make, when it aborts. */
  pending: PendingAbort | null;
  thread: Thread;
}

/** A commutable event's schedule at a point, standing for the same event at the next point. */
interface Commuted {
  span: number;
  resolved: boolean;
  /** The largest slice count of any thread at the point. */
  maxSlice: number;
}

interface Twin {
  /** Instructions the schedule ran after the event. */
  span: number;
  /** Whether every abort the search watched at its leaf ended as predicted. */
  resolved: boolean;
  slice: number;
  context: Uint8Array;
}


export class EventTwins {
  private readonly seen = new Map<string, Twin>();
  /** Addresses the pure stretch has passed: one met again is a loop. */
  private readonly passed = new Set<Address>();
  private mark: StepMark | null = null;
  /** The thread whose stretch this is. */
  private tid: number | null = null;
  private snapshot: MachineSnapshot | null = null;
  /**
   * The aborts decided in this stretch, by thread, event mask, section and event count: memory
   * does not change within a stretch, so an event anywhere in one section gets the same fix-up.
   */
  private readonly aborts = new Map<string, PendingAbort>();
  /** Commutable events explored (or stood for) at this point, and at the previous one when the step between touched registers only. */
  private commuting = new Map<string, Commuted>();
  private previous = new Map<string, Commuted>();
  /** This point's address and largest slice count; the address the walk's step starts from. */
  private pointRip: Address | null = null;
  private pointMaxSlice = 0;
  /** Whether the fix-up of the stretch's thread aborts nothing at this point (fixupClears), once known. */
  private pointClears: boolean | null = null;
  private stepRip: Address | null = null;
  /** The registers of a key, as bytes (cheaper than twenty hexadecimal strings). */
  private readonly words = new BigUint64Array(X86_REGISTERS.length);

  /** `registerOnly`: addresses of instructions an event commutes with (commuting.ts; none: no such twins). */
  constructor(private readonly machine: Machine, private readonly tables: RseqTables, private readonly sliceLength: number, private readonly registerOnly: ReadonlySet<Address> = new Set()) {}

  /** A new walk begins (a new frame, or after an impure step): earlier points are no twins of later ones. */
  reset(): void {
    this.seen.clear();
    this.passed.clear();
    this.aborts.clear();
    this.commuting.clear();
    this.previous.clear();
    this.pointRip = null;
    this.tid = null;
    this.mark = null;
    this.snapshot = null;
  }

  /**
   * A point of the walk, where thread `tid` is about to run the instruction at `rip`: whether the
   * stretch passed it before (then events that do not abort may have twins too).
   */
  looping(rip: Address, tid: number): boolean {
    // A stretch is one thread's: purity holds everything else still.
    if (this.tid !== tid) {
      this.reset();
      this.tid = tid;
    }
    this.pointRip = rip;
    this.pointClears = null;
    this.pointMaxSlice = this.machine.allThreads().reduce((m, t) => Math.max(m, t.sliceUsed), 0);
    if (this.passed.has(rip)) return true;
    this.passed.add(rip);
    return false;
  }

  /** Before the walk's default step: `t` is about to run one instruction on `cpu`; `here` is the machine now. */
  beforeStep(t: Thread, cpu: number, here: MachineSnapshot): void {
    // Work waiting for the return to user space, or a signal to deliver, makes the step impure.
    this.mark = t.notifyResume || t.pendingSignals.length || t.split ? null : this.markOf(t, cpu);
    this.snapshot = here;
    this.stepRip = this.pointRip;
  }

  /** After it: keeps what the stretch saw only when the step was pure. */
  afterStep(): void {
    const before = this.mark;
    const t = before?.thread;
    const after = t ? this.markOf(t, t.cpu) : null;
    const pure = before !== null && after !== null && !this.machine.stepEndedSlice && t!.state === 'runnable' && !t!.notifyResume && !t!.pendingSignals.length && !t!.split && this.machine.runningOn(before.cpu) === t
      && after.instructions === before.instructions + 1
      && after.syscalls === before.syscalls && after.events === before.events && after.cpu === before.cpu
      && after.attempt === before.attempt && after.returns === before.returns && after.eventMask === before.eventMask
      && (after.writes === before.writes || this.wroteOnlySameValues());
    if (!pure) this.reset();
    else {
      // Events at the next point commute with this step only when it touched registers alone.
      this.previous = this.stepRip !== null && this.registerOnly.has(this.stepRip) ? this.commuting : new Map();
      this.commuting = new Map();
    }
    this.mark = null;
    this.snapshot = null;
    this.pointRip = null;
  }

  /**
   * After commutable event `item` was applied at this point: when the same event at the previous
   * point stands for it (see the file comment), the instructions its schedule would run and whether
   * the aborts watched at that leaf ended as predicted; null otherwise.
   */
  commuted(item: ScheduleItem): { span: number; resolved: boolean } | null {
    const id = formatItem(item);
    const before = this.previous.get(id);
    if (!before || !this.commutesHere(item)) return null;
    const span = before.span - 1;
    if (this.machine.instructions + span > this.machine.maxInstructions) return null;
    // No tick in either run: slice counts, which differ by the moved instruction, decide nothing.
    if (!noTickWithin(before.maxSlice, this.pointMaxSlice, before.span, this.sliceLength)) return null;
    this.commuting.set(id, { span, resolved: before.resolved, maxSlice: this.pointMaxSlice });
    return { span, resolved: before.resolved };
  }

  /**
   * The schedule after commutable event `item` at this point ran `span` instructions; `resolved`:
   * every abort watched at its leaf ended as predicted; `clean`: its leaf was judged without a
   * violation. Called with the machine back at the point.
   */
  explored(item: ScheduleItem, span: number, resolved: boolean, clean: boolean): void {
    if (clean && this.commutesHere(item)) this.commuting.set(formatItem(item), { span, resolved, maxSlice: this.pointMaxSlice });
  }

  /** Whether `item` is a commutable event of the stretch's thread whose fix-up here aborts nothing. */
  private commutesHere(item: ScheduleItem): boolean {
    if (!commutable(item) || item.kind !== 'event' || item.tid !== this.tid || this.pointRip === null) return false;
    // Every event here meets the same memory (an event writes none; explored() runs after the rewind).
    if (this.pointClears === null) {
      const t = this.machine.thread(item.tid);
      this.pointClears = t !== undefined && fixupClears(this.machine, t, this.pointRip);
    }
    return this.pointClears;
  }

  /**
   * After deviation `item` was applied at a point (`looping`: see looping(); `here`: the machine
   * before it): the state it left, when it can have twins; null otherwise.
   */
  keyAfter(item: ScheduleItem, looping: boolean, here: MachineSnapshot): TwinState | null {
    // Only the stretch's own thread changed between its points (the search offers it the events).
    if (item.kind !== 'event' || item.tid !== this.tid) return null;
    // Only the same event makes twins (its schedule text names all of it, a signal's number too).
    const id = formatItem(item);
    const t = this.machine.thread(item.tid);
    if (!t) return null;
    // pendingAbort takes only aborts through a listed descriptor, whose section holds the thread.
    const mayAbort = t.notifyResume && t.eventMask !== 0;
    if (!mayAbort && !looping) return null;
    const regs = this.machine.registersOf(t);
    const section = mayAbort ? sectionContaining(this.tables.sections, regs.rip) : undefined;
    const pending = section ? this.abortOf(t, regs, section) : null;
    if (!pending && !looping) return null;
    const edits: Record<string, bigint> = pending?.canonical ?? {};
    // A kernel event writes no register of its thread (the fix-up comes at its return to user
    // space), so its context outside the register block is the one captured before it.
    const context = here.threads.find((s) => s.fields.tid === t.tid && s.pid === t.process.pid)?.context ?? this.machine.contextOf(t);
    X86_REGISTERS.forEach((name, i) => (this.words[i] = edits[name] ?? regs[name]));
    const registers = Buffer.from(this.words.buffer).toString('latin1');
    // Without the block's place, the whole context with the edits written is the key (slower).
    const whole = registerBlock(t.process.emu) ? '' : `:${createHash('sha1').update(t.process.emu.editedContext(context, edits)).digest('base64')}`;
    return { key: `${id}:${pending ? 'abort' : 'on'}:${registers}${whole}`, context, slice: t.sliceUsed, pending, thread: t };
  }

  /**
   * When a twin of `state` ran: the instructions that schedule ran, which this one need not run
   * again, and whether the aborts watched at its leaf ended as predicted. Null when there is none.
   */
  covering(state: TwinState): { span: number; resolved: boolean } | null {
    const twin = this.seen.get(state.key);
    if (!twin || this.machine.instructions + twin.span > this.machine.maxInstructions) return null;
    // Only the event's thread ran in the stretch: the other threads' slice counts are equal.
    if (twin.slice !== state.slice && !noTickWithin(twin.slice, state.slice, twin.span, this.sliceLength)) return null;
    const block = registerBlock(state.thread.process.emu);
    if (block && !equalBesides(twin.context, state.context, block)) return null;
    return { span: twin.span, resolved: twin.resolved };
  }

  /**
   * The schedule below `state` ran to its end, `span` instructions (and its abort, if any, ended as
   * predicted); `resolved`: so did every other abort watched at its leaf.
   */
  remember(state: TwinState, span: number, resolved = true): void {
    if (!this.seen.has(state.key)) this.seen.set(state.key, { span, resolved, slice: state.slice, context: state.context });
  }

  /** pendingAbort, decided once per section in a stretch when the abort goes through that section's descriptor. */
  private abortOf(t: Thread, regs: RegisterFile, section: CriticalSection): PendingAbort | null {
    const memo = `${t.tid}:${t.eventMask}:${section.startIp}:${this.machine.events().length}`;
    const known = this.aborts.get(memo);
    if (known) return pendingAt(known, regs);
    const p = pendingAbort(this.machine, this.tables, t, regs, this.machine.awaitingOf(t));
    // Another descriptor's range may hold some of the section's addresses and not others.
    if (p && p.descriptor === section.descriptor) this.aborts.set(memo, p);
    return p;
  }

  /**
   * Whether the step's writes all went to thread-private memory (stacks and TLS, above shared
   * memory: no store record there) and left every byte as it was: a spin loop's store of its
   * rseq_cs pointer, again and again.
   */
  private wroteOnlySameValues(): boolean {
    const snapshot = this.snapshot;
    if (!snapshot) return false;
    return this.machine.processes.every((p, i) => {
      const written = writtenSinceCopy(p.emu);
      const copy = snapshot.processes[i]?.pid === p.pid ? snapshot.processes[i]!.memory : null;
      if (!written || written.layoutChanged || !copy) return false;
      for (const page of written.pages) {
        const old = copy.pages.get(page);
        if (page < SHARED_MEMORY_END || !old || !Buffer.from(p.emu.read(page, PAGE_SIZE)).equals(old.bytes)) return false;
      }
      return true;
    });
  }

  private markOf(t: Thread, cpu: number): StepMark | null {
    let writes = 0;
    for (const p of this.machine.processes) {
      const n = memoryWrites(p.emu);
      if (n === null) return null;
      writes += n;
    }
    return {
      writes, syscalls: this.machine.syscalls().length, events: this.machine.events().length, instructions: this.machine.instructions,
      thread: t, cpu, attempt: t.attempt, returns: t.program?.returns.length ?? 0, eventMask: t.eventMask,
    };
  }
}
