// Rewinding processes and threads to a snapshot (Machine.restore): memory, kernel state and saved
// contexts. Nearly every rewind of a search keeps every process and thread; that one reuses each
// emulator, context and Thread object in place and builds no maps, which made a rewind after a
// tried event about a quarter of its cost (bench:snapshot figures in the README).
import { RseqEmuError } from '../errors.js';
import type { MachineSnapshot } from './machine-types.js';
import { restoreMemory } from './memory-snapshot.js';
import type { Process, Thread } from './thread.js';
import { assignThreadFields, threadFrom } from './thread-copy.js';

type SavedProcess = MachineSnapshot['processes'][number];

/** Whether `s` holds the same processes and threads (ids, and each thread's process) in the same order. */
export function sameShape(processes: readonly Process[], threads: readonly Thread[], s: MachineSnapshot): boolean {
  if (processes.length !== s.processes.length || threads.length !== s.threads.length) return false;
  for (let i = 0; i < processes.length; i++) if (processes[i]!.pid !== s.processes[i]!.pid) return false;
  for (let i = 0; i < threads.length; i++) {
    const st = s.threads[i]!;
    if (threads[i]!.tid !== st.fields.tid || threads[i]!.process.pid !== st.pid) return false;
  }
  return true;
}

export function processById(processes: readonly Process[], pid: number): Process {
  for (const p of processes) if (p.pid === pid) return p;
  throw new RseqEmuError('ENGINE', `no process ${pid}`);
}

/**
 * Puts `processes` and their threads back as `s` holds them when every one lives on (sameShape):
 * each keeps its emulator, its saved context (overwritten) and its Thread object (its fields put back).
 */
export function rewindInPlace(processes: Process[], threads: readonly Thread[], s: MachineSnapshot): void {
  s.processes.forEach((sp, i) => restoreProcess(processes[i]!, sp));
  setParents(processes, s);
  for (let i = 0; i < s.threads.length; i++) {
    const st = s.threads[i]!;
    const t = threads[i]!;
    t.process.emu.writeContext(t.context, st.context);
    assignThreadFields(t, st.fields);
  }
}

/**
 * The same across the start or end of processes or threads: `processes` is rewritten in place,
 * `newProcess` makes one that no longer exists (its memory filled from the snapshot).
 */
export function rewindRebuilding(processes: Process[], threads: readonly Thread[], s: MachineSnapshot, newProcess: (sp: SavedProcess) => Process): Thread[] {
  const live = new Map(processes.map((p) => [p.pid, p]));
  // A thread's saved context is overwritten in place when the thread lives on in the same
  // process; the others are freed (allocating contexts was a fifth of a rewind's cost).
  const contexts = new Map<number, Thread>();
  // Each snapshot thread's process, by tid (tids are unique, as Linux's): no key strings per rewind.
  const stays = new Map(s.threads.map((st) => [st.fields.tid, st.pid]));
  for (const t of threads) {
    if (stays.get(t.tid) === t.process.pid) contexts.set(t.tid, t);
    else t.process.emu.freeContext(t.context);
  }
  for (const p of processes) if (!s.processes.some((x) => x.pid === p.pid)) p.emu.close();
  const now = s.processes.map((sp) => {
    const p = live.get(sp.pid);
    if (!p) return newProcess(sp);
    restoreProcess(p, sp);
    return p;
  });
  processes.splice(0, processes.length, ...now);
  setParents(processes, s);
  return s.threads.map((st) => {
    const process = processById(processes, st.pid);
    const kept = contexts.get(st.fields.tid)?.context;
    if (kept) process.emu.writeContext(kept, st.context);
    return threadFrom(st.fields, process, kept ?? process.emu.importContext(st.context));
  });
}

/** A process's memory and kernel state as captured (its memory first unless `fresh`: made from the snapshot just now). */
export function restoreProcess(p: Process, sp: SavedProcess, fresh = false): void {
  if (!fresh) restoreMemory(p.emu, sp.memory);
  p.cids.load(sp.cids);
  // Most programs install no handler: then there is nothing to copy.
  p.sigactions = sp.sigactions.length || p.sigactions.size ? new Map(sp.sigactions.map(([k, v]) => [k, { ...v }])) : p.sigactions;
  p.membarrierRseqRegistered = sp.membarrier;
  p.exitStatus = sp.exitStatus;
}

function setParents(processes: readonly Process[], s: MachineSnapshot): void {
  s.processes.forEach((sp, i) => (processes[i]!.parent = sp.parentPid === null ? null : processById(processes, sp.parentPid)));
}
