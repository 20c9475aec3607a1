// Copies of a thread's own fields (all but its process and saved context), for snapshots: every
// capture and every rewind copies each thread once. Written out field by field because
// structuredClone, which did this before, was a fifth of a rewind's cost (measured on list.json's
// states: it serializes and parses every field). Nested objects the kernel model changes in place
// (the program's call lists, pending signals, the attempt's stores) are copied; the rest are
// immutable values or replaced whole.
import type { SavedContext } from '../engine/index.js';
import type { Process, RseqIds, ThreadProgram, Thread } from './thread.js';

export type ThreadFields = Omit<Thread, 'process' | 'context'>;

/** Each completed call's observed ids. */
export const copyCallIds = (ids: readonly (readonly RseqIds[])[]): RseqIds[][] => ids.map((call) => call.map((i) => ({ ...i })));

export const copyProgram = (p: ThreadProgram): ThreadProgram => ({
  entry: p.entry,
  args: [...p.args],
  repeat: p.repeat,
  returns: [...p.returns],
  callCpus: [...p.callCpus],
  cpusThisCall: p.cpusThisCall,
  callIds: copyCallIds(p.callIds),
  idsThisCall: p.idsThisCall.map((i) => ({ ...i })),
});

/** A deep copy of `t`'s own fields, sharing nothing mutable with it. */
export function copyThreadFields(t: ThreadFields): ThreadFields {
  return {
    tid: t.tid,
    cpu: t.cpu,
    affinity: t.affinity,
    rseq: t.rseq && { ...t.rseq },
    eventMask: t.eventMask,
    notifyResume: t.notifyResume,
    lastIds: t.lastIds && { ...t.lastIds },
    lastMmCid: t.lastMmCid,
    pinnedMmCid: t.pinnedMmCid,
    sigmask: t.sigmask,
    pendingSignals: [...t.pendingSignals],
    standInFrames: t.standInFrames,
    fsBase: t.fsBase,
    stackTop: t.stackTop,
    ownsMemory: t.ownsMemory,
    state: t.state,
    wait: t.wait && { ...t.wait },
    inKvmRun: t.inKvmRun,
    program: t.program && copyProgram(t.program),
    end: t.end && { ...t.end },
    executed: t.executed,
    sliceUsed: t.sliceUsed,
    sliceStart: t.sliceStart,
    clearChildTid: t.clearChildTid,
    attempt: t.attempt,
    attemptStores: [...t.attemptStores],
    ...(t.split !== undefined ? { split: t.split && { ...t.split, bytes: t.split.bytes.slice() } } : {}),
  };
}

/** A thread rebuilt from copied fields (a spread of the copy into a new object cost as much again). */
export function threadFrom(fields: ThreadFields, process: Process, context: SavedContext): Thread {
  const t = copyThreadFields(fields) as Thread;
  t.process = process;
  t.context = context;
  return t;
}
