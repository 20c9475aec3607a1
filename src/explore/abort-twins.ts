// Last deviations that abort the same attempt into the same state ("abort twins") run once.
//
// Where the search has one deviation left, it walks the default path an instruction at a time and
// runs one schedule per deviation offered at each point. A kernel event that aborts the running
// thread's critical section leaves the same state wherever in the section it came, when in between
// the thread only changed registers the abort handler's paths overwrite before reading
// (pending-abort.ts): the state cache would find the second state in its table, but it does not
// look states up there (a fingerprint cost more than the runs it saved; exhaustive.ts).
//
// This finds those twins at a fraction of a fingerprint's cost. Two points of one walk whose
// default steps between them were all pure (`pureStep`: the same thread ran one instruction that
// wrote no memory, entered no kernel, ended no slice, closed no attempt and returned from no call)
// differ only in that thread's registers, its slice count and the instruction count. An event for
// it then leaves states that differ only in its context with the abort's canonical registers
// written (equal registers through the register API and equal bytes elsewhere: equal states,
// context-layout.ts) and in its slice count (equal, or no tick in reach of either, the state
// cache's rule). As in the cache, a twin may stand for another only when its own abort
// ended as predicted, and only when the other has the budget left for the instructions it ran.
import { createHash } from 'node:crypto';
import { sectionContaining, type RseqTables } from '../abi/tables.js';
import { equalBesides, registerBlock } from '../engine/context-layout.js';
import { X86_REGISTERS } from '../engine/index.js';
import type { Machine } from '../kernel/machine.js';
import { memoryWrites } from '../kernel/memory-snapshot.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { Thread } from '../kernel/thread.js';
import { pendingAbort, type PendingAbort } from './pending-abort.js';

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
  /** The aborting thread's exported context (compared outside the register block). */
  context: Uint8Array;
  /** Its slice count. */
  slice: number;
  pending: PendingAbort;
  thread: Thread;
}

interface Twin {
  /** Instructions the schedule ran after the event. */
  span: number;
  slice: number;
  context: Uint8Array;
}

/** A deviation's identity (a schedule item's fields): only the same event makes twins. */
const identity = (item: ScheduleItem): string | null => (item.kind === 'event' ? `${item.tid}:${item.event.kind}:${'cpu' in item.event ? item.event.cpu : ''}` : null);

export class AbortTwins {
  private readonly seen = new Map<string, Twin>();
  private mark: StepMark | null = null;

  constructor(private readonly machine: Machine, private readonly tables: RseqTables, private readonly sliceLength: number) {}

  /** A new walk begins (a new frame, or after an impure step): earlier points are no twins of later ones. */
  reset(): void {
    this.seen.clear();
    this.mark = null;
  }

  /** Before the walk's default step: `t` is about to run one instruction on `cpu`. */
  beforeStep(t: Thread, cpu: number): void {
    // Work waiting for the return to user space, or a signal to deliver, makes the step impure.
    this.mark = t.notifyResume || t.pendingSignals.length || t.split ? null : this.markOf(t, cpu);
  }

  /** After it: keeps the twins seen so far only when the step was pure. */
  afterStep(): void {
    const before = this.mark;
    const t = before?.thread;
    const after = t ? this.markOf(t, t.cpu) : null;
    const pure = before !== null && after !== null && !this.machine.stepEndedSlice && t!.state === 'runnable' && !t!.notifyResume && !t!.pendingSignals.length && !t!.split && this.machine.runningOn(before.cpu) === t
      && after.instructions === before.instructions + 1
      && after.writes === before.writes && after.syscalls === before.syscalls && after.events === before.events && after.cpu === before.cpu
      && after.attempt === before.attempt && after.returns === before.returns && after.eventMask === before.eventMask;
    if (!pure) this.seen.clear();
    this.mark = null;
  }

  /**
   * After deviation `item` was applied: the key of the state it left when it aborts a thread's
   * section as the hash would (pending-abort.ts), with that prediction; null otherwise.
   */
  keyAfter(item: ScheduleItem): TwinState | null {
    const id = identity(item);
    if (id === null || item.kind !== 'event') return null;
    const t = this.machine.thread(item.tid);
    if (!t) return null;
    // pendingAbort takes only aborts through a listed descriptor, whose section holds the thread.
    if (!t.notifyResume || t.eventMask === 0) return null;
    const regs = this.machine.registersOf(t);
    if (!sectionContaining(this.tables.sections, regs.rip)) return null;
    const pending = pendingAbort(this.machine, this.tables, t, regs, this.machine.awaitingOf(t));
    if (!pending) return null;
    const context = this.machine.contextOf(t);
    const edited = X86_REGISTERS.map((name) => (pending.canonical[name] ?? regs[name]).toString(16)).join(',');
    // Without the block's place, the whole context with the edits written is the key (slower).
    const whole = registerBlock(t.process.emu) ? '' : `:${createHash('sha1').update(t.process.emu.editedContext(context, pending.canonical)).digest('base64')}`;
    return { key: `${id}:${edited}${whole}`, context, slice: t.sliceUsed, pending, thread: t };
  }

  /**
   * When a twin of `state` ran: the instructions that schedule ran, which this one need not run
   * again. Null when there is none.
   */
  covering(state: TwinState): number | null {
    const twin = this.seen.get(state.key);
    if (!twin || this.machine.instructions + twin.span > this.machine.maxInstructions) return null;
    if (twin.slice !== state.slice && !(twin.slice + twin.span < this.sliceLength && state.slice + twin.span < this.sliceLength)) return null;
    const block = registerBlock(state.thread.process.emu);
    if (block && !equalBesides(twin.context, state.context, block)) return null;
    return twin.span;
  }

  /** The schedule below `state` ran to its end, `span` instructions, and its abort ended as predicted. */
  remember(state: TwinState, span: number): void {
    if (!this.seen.has(state.key)) this.seen.set(state.key, { span, slice: state.slice, context: state.context });
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
