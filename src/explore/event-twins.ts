// Last deviations that leave a state an earlier point already left ("event twins") run once.
//
// Where the search has one deviation left, it walks the default path an instruction at a time and
// runs one schedule per deviation offered at each point. Two points of one walk whose default
// steps between them were all pure (pure-step.ts) differ only in that thread's registers, its
// slice count and the instruction count. The same kernel event for that thread then leaves
// equal states when its registers come out equal, which happens two ways:
// - the event aborts the thread's critical section: it resumes at abort_ip with the registers the
//   abort handler's paths overwrite before reading at fixed values (pending-abort.ts), so events
//   anywhere in one attempt leave one state. The state cache finds the same, but it does not look
//   states up here (a fingerprint cost more than the runs it saved; exhaustive.ts);
// - the thread is in a loop that wrote nothing new (a spin on a lock): a point whose address the
//   stretch already passed may hold the registers of an earlier iteration.
// In such a loop a switch to another CPU has twins too: the thread it runs stood still all along
// the stretch, so the switch leaves the same state at two points where the stretch's thread has
// the same registers, but for that thread's slice count (which the switch leaves as it was). In
// the spinlock's K = 3 space that ran 37,039 schedules instead of 44,307, with the same verdict.
// Registers compare through the register API and the rest of the context byte for byte
// (context-layout.ts). The slice counts must be equal, or no tick in reach of either (the state
// cache's rule); the budget must fit the twin's run; and a twin that aborted stands for others
// only when its abort ended as predicted, as a cache entry does.
// A tick in reach is no obstacle when the twin's run was seen to come back to the stretch (a signal
// whose handler returns: returnAfter, watched in the twin's own run): the later event's run then
// joins the twin's before the tick (alongReturn). The one check costs a few fingerprints per twin,
// against a spin to the end of the slice per later event.
// (Events one register-only instruction apart are twins of another kind, at every level: commuting.ts.)
import { sectionContaining, type CriticalSection, type RseqTables } from '../abi/tables.js';
import { equalBesides, registerBlock, registerWords } from '../engine/context-layout.js';
import type { RegisterFile } from '../engine/index.js';
import type { Machine } from '../kernel/machine.js';
import type { MachineSnapshot } from '../kernel/machine-types.js';
import { formatItem, type ScheduleItem } from '../kernel/schedule.js';
import type { Thread } from '../kernel/thread.js';
import type { Address } from '../types.js';
import { base64DigestOf } from './digest.js';
import { pendingAbort, pendingAt, type PendingAbort } from './pending-abort.js';
import { noTickWithin } from './state-cache.js';
import type { PureStepFrom, StateFingerprint } from './state-hash.js';
import { PureStep } from './pure-step.js';

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

interface Twin {
  /** Instructions the schedule ran after the event. */
  span: number;
  /** Whether every abort the search watched at its leaf ended as predicted. */
  resolved: boolean;
  slice: number;
  context: Uint8Array;
  /**
   * Set when the twin's run brought its thread back to a state an earlier point of the stretch had,
   * with its slice count this much higher and nothing else changed (a signal whose handler
   * returns; returnAfter): see alongReturn().
   */
  returnsAfter: number | null;
}


export class EventTwins {
  private readonly seen = new Map<string, Twin>();
  /** Addresses the pure stretch has passed: one met again is a loop. */
  private readonly passed = new Set<Address>();
  /** The thread whose stretch this is. */
  private tid: number | null = null;
  /**
   * The aborts decided in this stretch, by thread, event mask, section and event count: memory
   * does not change within a stretch, so an event anywhere in one section gets the same fix-up.
   */
  private readonly aborts = new Map<string, PendingAbort>();

  constructor(private readonly machine: Machine, private readonly tables: RseqTables, private readonly sliceLength: number) {}

  /** A new walk begins (a new frame, or after an impure step): earlier points are no twins of later ones. */
  reset(): void {
    // Map.clear() allocates a new table even for an empty map, and most resets find these empty.
    if (this.seen.size) this.seen.clear();
    if (this.passed.size) this.passed.clear();
    if (this.aborts.size) this.aborts.clear();
    this.tid = null;
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
    if (this.passed.has(rip)) return true;
    this.passed.add(rip);
    return false;
  }

  /** Whether the stretch passed `rip` (a point of it was there). */
  passedAt(rip: Address): boolean {
    return this.passed.has(rip);
  }

  /** After the walk's default step: what the stretch saw holds on only when the step was pure (pure-step.ts). */
  stepped(pure: boolean): void {
    if (!pure) this.reset();
  }

  /**
   * After deviation `item` was applied at a point (`looping`: see looping(); `here`: the machine
   * before it): the state it left, when it can have twins; null otherwise.
   */
  keyAfter(item: ScheduleItem, looping: boolean, here: MachineSnapshot): TwinState | null {
    if (this.tid === null) return null;
    // Only the stretch's own thread changed between its points (the search offers it the events).
    // A switch to another CPU runs a thread the stretch left as it was; in a loop, where the
    // stretch's thread may stand with the same registers again, it leaves the same state but for
    // that thread's slice count, as an event does.
    const switched = item.kind === 'run' && item.count === 0 && looping;
    if (!switched && (item.kind !== 'event' || item.tid !== this.tid)) return null;
    // Only the same event makes twins (its schedule text names all of it, a signal's number too).
    const id = formatItem(item);
    const t = this.machine.thread(this.tid);
    if (!t || (item.kind === 'run' && t.cpu === item.cpu)) return null;
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
    // The registers as bytes (cheaper than twenty hexadecimal strings).
    const words = registerWords(regs, edits);
    const registers = Buffer.from(words.buffer, words.byteOffset, words.byteLength).toString('latin1');
    // Without the block's place, the whole context with the edits written is the key (slower).
    const whole = registerBlock(t.process.emu) ? '' : `:${base64DigestOf(t.process.emu.editedContext(context, edits))}`;
    return { key: `${id}:${pending ? 'abort' : 'on'}:${registers}${whole}`, context, slice: t.sliceUsed, pending, thread: t };
  }

  /**
   * When a twin of `state` ran: the instructions that schedule ran, which this one need not run
   * again, whether the aborts watched at its leaf ended as predicted, and how much higher the
   * event's thread stands in its slice here. Null when there is none.
   */
  covering(state: TwinState): { span: number; resolved: boolean; ahead: number } | null {
    const twin = this.seen.get(state.key);
    if (!twin) return null;
    // Only the event's thread ran in the stretch: the other threads' slice counts are equal.
    const span = twin.slice === state.slice || noTickWithin(twin.slice, state.slice, twin.span, this.sliceLength) ? twin.span : this.alongReturn(twin, state);
    if (span === null || this.machine.instructions + span > this.machine.maxInstructions) return null;
    const block = registerBlock(state.thread.process.emu);
    if (block && !equalBesides(twin.context, state.context, block)) return null;
    return { span, resolved: twin.resolved, ahead: state.slice - twin.slice };
  }

  /**
   * A twin whose run came back to the stretch stands for the same event `ahead` instructions further
   * along, with a tick in reach. The two events' states differ only in the thread's slice count
   * (by `ahead`), and the stretch is pure. The twin's run came back to the state of an earlier
   * point P of the stretch with its count `returnsAfter` higher; from there it walks the stretch
   * again, with counts that much higher. This event's run comes back the same way, `ahead` higher,
   * to P's state and walks the same stretch: it meets the twin's run where the twin's run passes
   * this event's point, as long as no tick comes first (this count plus `returnsAfter` stays below
   * the slice). From there the two runs are one: this one's leaf is the twin's, `ahead`
   * instructions shorter.
   */
  private alongReturn(twin: Twin, state: TwinState): number | null {
    const ahead = state.slice - twin.slice;
    if (twin.returnsAfter === null || ahead <= 0 || state.slice + twin.returnsAfter >= this.sliceLength) return null;
    return twin.span - ahead;
  }

  /**
   * The schedule below `state` ran to its end, `span` instructions (and its abort, if any, ended as
   * predicted); `resolved`: so did every other abort watched at its leaf.
   */
  remember(state: TwinState, span: number, resolved = true, returnsAfter: number | null = null): void {
    if (!this.seen.has(state.key)) this.seen.set(state.key, { span, resolved, slice: state.slice, context: state.context, returnsAfter });
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
}

/** The most instructions an event's thread may run before it counts as not coming back (a signal handler's). */
export const MAX_RETURN = 64;

/**
 * Runs the default policy from just after an event for thread `t` until `t` comes back to the
 * stretch the event interrupted: to the state of an earlier point of it (`earlier`, by key; only
 * points at an address the stretch passed, `passed`, are fingerprinted) with only its slice count
 * higher. Returns by how much, or null when it ran alone for MAX_RETURN instructions without that,
 * or anything else ran, or its slice ended. Leaves the machine further along the same default run.
 */
export function returnAfter(machine: Machine, fingerprint: (m: Machine, from: PureStepFrom | null) => StateFingerprint, t: Thread, earlier: (key: string) => StateFingerprint | undefined, passed: (rip: Address) => boolean): number | null {
  const index = machine.allThreads().indexOf(t);
  const pure = new PureStep(machine);
  // The fingerprint of the state one step back, if it was made: a fingerprint one pure step later
  // reuses all of it but the thread's context (a spin loop's rounds are mostly pure steps).
  let last: StateFingerprint | null = null;
  for (let steps = 0; steps < MAX_RETURN; steps++) {
    const cpu = machine.defaultCpu();
    if (cpu === null || machine.runningOn(cpu) !== t) return null;
    // No snapshot to compare pages with: a step that stores counts as impure.
    if (last) pure.before(t, cpu, null);
    if (!machine.step({ kind: 'run', cpu, count: 1 }) || machine.stepEndedSlice) return null;
    const from = last && pure.after() ? { state: last, tid: t.tid } : null;
    last = null;
    if (t.state !== 'runnable' || !passed(machine.ripOf(t))) continue;
    const now = fingerprint(machine, from);
    last = now;
    const before = earlier(now.key);
    if (!before) continue;
    const ahead = now.counts[index]! - before.counts[index]!;
    const othersAlike = now.counts.every((c, i) => i === index || c === before.counts[i]);
    return ahead > 0 && othersAlike ? ahead : null;
  }
  return null;
}
