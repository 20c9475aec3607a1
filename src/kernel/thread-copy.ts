// Copies of a thread's own fields (all but its process and saved context), for snapshots: every
// capture and every rewind copies each thread once. Written out field by field because
// structuredClone, which did this before, was a fifth of a rewind's cost (measured on list.json's
// states: it serializes and parses every field). The nested values (registration, ids, pending
// signals, the attempt's stores, the program's call lists, the end, the split load) are readonly
// in Thread's type: the kernel model replaces them rather than changing them, so a copy shares
// them; only the program object, whose cpusThisCall and idsThisCall change in place, is copied.
// (Copying every nested array on every capture and rewind was 13 % of what the spinlock's K = 3
// search allocated.)
import type { SavedContext } from '../engine/index.js';
import type { Process, RseqIds, ThreadProgram, Thread } from './thread.js';

export type ThreadFields = Omit<Thread, 'process' | 'context'>;

/** Each completed call's observed ids, as new arrays (for results handed out of the machine). */
export const copyCallIds = (ids: readonly (readonly RseqIds[])[]): RseqIds[][] => ids.map((call) => call.map((i) => ({ ...i })));

/** The program's own copy; its lists are shared (replaced, never changed, by the kernel model). */
export const copyProgram = (p: ThreadProgram): ThreadProgram => ({
  entry: p.entry,
  args: p.args,
  repeat: p.repeat,
  returns: p.returns,
  callCpus: p.callCpus,
  cpusThisCall: p.cpusThisCall,
  callIds: p.callIds,
  idsThisCall: p.idsThisCall,
});

/** A copy of `t`'s own fields that nothing the kernel model does to `t` changes. */
export function copyThreadFields(t: ThreadFields): ThreadFields {
  return {
    tid: t.tid,
    cpu: t.cpu,
    affinity: t.affinity,
    rseq: t.rseq,
    eventMask: t.eventMask,
    notifyResume: t.notifyResume,
    lastIds: t.lastIds,
    lastMmCid: t.lastMmCid,
    pinnedMmCid: t.pinnedMmCid,
    sigmask: t.sigmask,
    pendingSignals: t.pendingSignals,
    standInFrames: t.standInFrames,
    fsBase: t.fsBase,
    stackTop: t.stackTop,
    ownsMemory: t.ownsMemory,
    state: t.state,
    wait: t.wait,
    inKvmRun: t.inKvmRun,
    program: t.program && copyProgram(t.program),
    end: t.end,
    executed: t.executed,
    sliceUsed: t.sliceUsed,
    sliceStart: t.sliceStart,
    clearChildTid: t.clearChildTid,
    attempt: t.attempt,
    attemptStores: t.attemptStores,
    split: t.split,
  };
}

/**
 * Puts copied fields back into thread `t`, which keeps its identity (a rewind that keeps every
 * thread; a new Thread object for each thread on each rewind was 4.5 % of what the spinlock's
 * K = 3 search allocated).
 */
export function assignThreadFields(t: Thread, f: ThreadFields): void {
  t.tid = f.tid;
  t.cpu = f.cpu;
  t.affinity = f.affinity;
  t.rseq = f.rseq;
  t.eventMask = f.eventMask;
  t.notifyResume = f.notifyResume;
  t.lastIds = f.lastIds;
  t.lastMmCid = f.lastMmCid;
  t.pinnedMmCid = f.pinnedMmCid;
  t.sigmask = f.sigmask;
  t.pendingSignals = f.pendingSignals;
  t.standInFrames = f.standInFrames;
  t.fsBase = f.fsBase;
  t.stackTop = f.stackTop;
  t.ownsMemory = f.ownsMemory;
  t.state = f.state;
  t.wait = f.wait;
  t.inKvmRun = f.inKvmRun;
  t.program = f.program && copyProgram(f.program);
  t.end = f.end;
  t.executed = f.executed;
  t.sliceUsed = f.sliceUsed;
  t.sliceStart = f.sliceStart;
  t.clearChildTid = f.clearChildTid;
  t.attempt = f.attempt;
  t.attemptStores = f.attemptStores;
  t.split = f.split;
}

/** A thread rebuilt from copied fields (a spread of the copy into a new object cost as much again). */
export function threadFrom(fields: ThreadFields, process: Process, context: SavedContext): Thread {
  const t = copyThreadFields(fields) as Thread;
  t.process = process;
  t.context = context;
  return t;
}
