// Look-ups over the machine's threads that the kernel makes on every spawn, clone, exit and
// schedule: threads of a process, live counts, the next free id. A scan of every thread each time
// made 1,024 threads cost seconds (quadratic); these stay constant-time per question.
import type { Process, Thread } from './thread.js';

export class ThreadIndex {
  private byProcess = new Map<Process, Thread[]>();
  private byId = new Map<number, Thread>();
  private liveOf = new Map<Process, number>();
  private live = 0;
  private maxId = 0;

  /** Forgets everything and indexes `threads` (after a restore or when the machine forgets its threads). */
  reset(threads: readonly Thread[], processes: readonly Process[]): void {
    this.byProcess.clear();
    this.byId.clear();
    this.liveOf.clear();
    this.live = 0;
    this.maxId = 0;
    for (const p of processes) this.maxId = Math.max(this.maxId, p.pid);
    for (const t of threads) this.add(t);
  }

  /**
   * Indexes `threads` in place of the threads they replace, one for one (the same ids in the same
   * processes, in the same order): a rewind that keeps every thread, without rebuilding the maps.
   */
  replace(threads: readonly Thread[]): void {
    for (const list of this.byProcess.values()) list.length = 0;
    for (const p of this.liveOf.keys()) this.liveOf.set(p, 0);
    this.live = 0;
    for (const t of threads) this.add(t);
  }

  add(t: Thread): void {
    this.byId.set(t.tid, t);
    const list = this.byProcess.get(t.process);
    if (list) list.push(t);
    else this.byProcess.set(t.process, [t]);
    this.maxId = Math.max(this.maxId, t.tid);
    if (t.state !== 'exited') {
      this.liveOf.set(t.process, (this.liveOf.get(t.process) ?? 0) + 1);
      this.live++;
    }
  }

  addProcess(p: Process): void {
    this.maxId = Math.max(this.maxId, p.pid);
  }

  /** Call once when `t` changes to exited. */
  exited(t: Thread): void {
    this.liveOf.set(t.process, (this.liveOf.get(t.process) ?? 1) - 1);
    this.live--;
  }

  /** The thread with id `tid`, ended or not. */
  byTid(tid: number): Thread | undefined {
    return this.byId.get(tid);
  }

  /** The threads of `p`, ended ones included, in creation order. */
  threadsOf(p: Process): readonly Thread[] {
    return this.byProcess.get(p) ?? [];
  }

  liveThreadsOf(p: Process): number {
    return this.liveOf.get(p) ?? 0;
  }

  liveThreads(): number {
    return this.live;
  }

  /** One more than every tid and pid used so far, as Linux hands out ids in order. */
  nextId(): number {
    return this.maxId + 1;
  }
}
