// A thread that will abort when it next returns to user space: preempted, migrated or signalled
// inside a critical section, its notify-resume work still to run. What it does next is fixed — the
// kernel moves it to abort_ip — so where in the section the event came, and the registers the
// abort handler's path overwrites before reading (dead-registers.ts), cannot change the future.
// The state hash leaves them out (state-hash.ts).
//
// That holds while the fix-up the thread will get is the one decided now. Memory can still change
// before it runs (another thread rewriting the descriptor or this thread's rseq_cs): the search
// therefore checks, at every leaf below a state hashed this way, that the thread's waiting events
// did end as aborts through the same descriptor to the same abort_ip (`resolvedAsPredicted`), and a
// state for which one did not may stand only for states equal in every bit (exhaustive.ts).
//
// Only the plain case is taken: a registered thread, runnable, not inside a split instruction, no
// signal pending and no handler installed in its process (a handler would see the registers in
// its frame), and an abort the judge finds nothing wrong with (its findings name the address).
import type { RseqTables } from '../abi/tables.js';
import type { Machine } from '../kernel/machine.js';
import type { EventRecord } from '../kernel/outcome.js';
import { decideFixup, fixupRules, type FixupDecision } from '../kernel/rseq-fixup.js';
import type { Thread } from '../kernel/thread.js';
import type { RegisterFile } from '../engine/index.js';
import type { Address } from '../types.js';
import { deadValues, STATUS_FLAGS } from './dead-registers.js';

export interface PendingAbort {
  tid: number;
  /** Indices in machine.events() of the thread's events waiting for the fix-up. */
  records: number[];
  descriptor: Address;
  abortIp: Address;
  /** Where the thread stands now (left out of the hash). */
  ip: Address;
  /** Registers the abort handler's paths write before reading, with the values to hash them as. */
  canonical: Record<string, bigint>;
}

/** The fix-up the thread's next return to user space will make at `rip` for its waiting events; null when none waits. */
export function waitingFixup(machine: Machine, t: Thread, rip: Address): FixupDecision | null {
  // With no event pending the kernel aborts nothing (and 6.19 does no fix-up at all).
  if (!t.rseq || !t.notifyResume || t.eventMask === 0 || t.state !== 'runnable' || t.split) return null;
  return decideFixup(t.process.emu, { area: t.rseq.area, sig: t.rseq.sig, ip: rip, eventMask: t.eventMask }, fixupRules(machine.profile));
}

/** A fix-up decision when it is an abort. */
const abortOf = (d: FixupDecision | null) => (d?.kind === 'abort' ? d : null);

/** The fix-up the thread's next return to user space will make, when it is an abort. */
function predictedAbort(machine: Machine, t: Thread, rip: Address): { descriptor: Address; abortIp: Address } | null {
  return abortOf(waitingFixup(machine, t, rip));
}

/**
 * Where the thread's next instruction is: abort_ip when its pending fix-up will abort it, else its
 * RIP. The search offers deviations by the instruction a thread will really run (deviations.ts).
 */
export function resumeIp(machine: Machine, t: Thread, rip: Address): Address {
  return predictedAbort(machine, t, rip)?.abortIp ?? rip;
}

/**
 * The thread as the hash treats it when it is about to abort (see the file comment), or null.
 * `regs`: the thread's registers (machine.registersOf), read once by the caller; `fixup`: the
 * thread's waiting fix-up (waitingFixup at its RIP), when the caller keeps it for other uses too.
 */
export function pendingAbort(machine: Machine, tables: RseqTables, t: Thread, regs: RegisterFile, awaiting: readonly EventRecord[], fixup?: () => FixupDecision | null): PendingAbort | null {
  if (t.pendingSignals.length || t.process.sigactions.size) return null;
  const d = fixup ? abortOf(fixup()) : predictedAbort(machine, t, regs.rip);
  // An abort the judge would report (an unlisted descriptor, or an abort_ip not the table's) names
  // the address the event came at: such a thread is hashed as it stands.
  if (!d || !tables.sections.some((s) => s.descriptor === d.descriptor && s.abortIp === d.abortIp)) return null;
  const events = machine.events();
  const canonical: Record<string, bigint> = { rip: d.abortIp, ...deadValues(machine.image, d.abortIp, regs.eflags) };
  return { tid: t.tid, records: awaiting.map((r) => events.indexOf(r)), descriptor: d.descriptor, abortIp: d.abortIp, ip: regs.rip, canonical };
}

/**
 * `p` for its thread standing elsewhere in the same attempt with registers `regs`, when nothing
 * else changed (event-twins.ts: the fix-up decided, the dead registers and the waiting events are
 * the same; only where it stands and its flags differ).
 */
export function pendingAt(p: PendingAbort, regs: RegisterFile): PendingAbort {
  const canonical = { ...p.canonical };
  if (canonical.eflags !== undefined) canonical.eflags = regs.eflags & ~STATUS_FLAGS;
  return { ...p, ip: regs.rip, canonical };
}

/** Whether each waiting event of `p` has ended as the abort the hash assumed. */
export function resolvedAsPredicted(machine: Machine, p: PendingAbort): boolean {
  const events = machine.events();
  return p.records.every((i) => {
    const r = events[i];
    return r !== undefined && r.outcome === 'aborted' && r.descriptor === p.descriptor && r.resumeIp === p.abortIp;
  });
}
