// Per-CPU run queues and the default scheduling policy. The head of a CPU's queue is the thread
// running there; the others wait their turn on that CPU. Threads on different CPUs run in
// parallel: the machine interleaves them by stepping one CPU at a time.
//
// Default policy (what runs when the schedule says nothing): visit CPUs round-robin from CPU 0;
// the visited CPU runs its thread until that thread leaves the CPU (exits, blocks, yields, is
// preempted or migrated) or has used up its time slice, then the next CPU with a runnable thread
// gets its turn.
//
// Time slices, as the scheduler tick gives them: a thread that has run a slice of instructions
// since it got its CPU is preempted if another thread waits on that CPU (an involuntary switch,
// so an rseq preempt event), and starts a new slice either way. Explicit schedule steps count
// towards the slice too, so a spinning thread always lets the others run: a run that cannot
// finish is one no fair schedule finishes.
import type { CpuId } from '../types.js';
import type { Thread } from './thread.js';

/**
 * The default slice, in instructions. Linux's slices (0.75-3 ms) are millions of instructions;
 * emulated operations are tens to hundreds, so this keeps many whole operations in one slice
 * while a spin-wait gives way long before the instruction budget (1,000,000) runs out.
 */
export const DEFAULT_TIME_SLICE = 1000;

/**
 * A queue made from this one literal, in the constructor and in load() alike: V8 gives every queue
 * the same hidden class after the first holds a thread. Where `map` made the loaded ones, queues of
 * four element kinds met in the queues' methods, and each new kind cost their optimized code a
 * deopt and a compile again: 21 of the 100 deopts of the spinlock's K = 3 search on one thread.
 * (save() builds its lists the same way, for load() and the state hash.)
 */
const emptyQueue = (): Thread[] => [];

export class RunQueues {
  private queues: Thread[][];

  constructor(readonly cpus: number) {
    this.queues = [];
    for (let cpu = 0; cpu < cpus; cpu++) this.queues.push(emptyQueue());
  }

  head(cpu: CpuId): Thread | undefined {
    return this.queues[cpu]?.[0];
  }

  length(cpu: CpuId): number {
    return this.queues[cpu]?.length ?? 0;
  }

  /** Adds a runnable thread at the back of its CPU's queue. */
  enqueue(t: Thread): void {
    this.queues[t.cpu]!.push(t);
  }

  remove(t: Thread): void {
    for (const q of this.queues) {
      const i = q.indexOf(t);
      if (i >= 0) q.splice(i, 1);
    }
  }

  /** Moves a thread to the back of its CPU's queue; true when another thread now runs there. */
  rotate(t: Thread): boolean {
    const q = this.queues[t.cpu]!;
    const i = q.indexOf(t);
    if (i < 0) return false;
    q.splice(i, 1);
    q.push(t);
    return q[0] !== t;
  }

  /** The next CPU after `from` (round-robin, `from` itself last) whose queue is not empty. */
  nextBusyCpu(from: CpuId): CpuId | null {
    for (let k = 1; k <= this.cpus; k++) {
      const cpu = (from + k) % this.cpus;
      if (this.queues[cpu]!.length) return cpu;
    }
    return null;
  }

  /** The queues as tid lists, for snapshots. */
  save(): number[][] {
    const saved: number[][] = [];
    for (const q of this.queues) {
      const tids: number[] = [];
      for (const t of q) tids.push(t.tid);
      saved.push(tids);
    }
    return saved;
  }

  load(saved: number[][], byTid: (tid: number) => Thread): void {
    const queues: Thread[][] = [];
    for (const tids of saved) {
      const q = emptyQueue();
      for (const tid of tids) q.push(byTid(tid));
      queues.push(q);
    }
    this.queues = queues;
  }
}

/** Chooses the CPU to step next when the schedule has no more explicit items. */
export class DefaultPolicy {
  /** The CPU being visited and the thread it was running. */
  private cpu: CpuId = -1;
  private running: Thread | null = null;

  next(queues: RunQueues): CpuId | null {
    if (this.cpu >= 0 && this.running && queues.head(this.cpu) === this.running) return this.cpu;
    const cpu = queues.nextBusyCpu(this.cpu < 0 ? queues.cpus - 1 : this.cpu);
    this.cpu = cpu ?? this.cpu;
    this.running = cpu === null ? null : queues.head(cpu) ?? null;
    return cpu;
  }

  /** The running thread left its CPU (a yield or sleep can leave it at the head of its queue): the turn passes on. */
  left(): void {
    this.running = null;
  }

  /** Explicit schedule steps move the policy's attention too, so it resumes from where they left off. */
  visited(cpu: CpuId, t: Thread): void {
    this.cpu = cpu;
    this.running = t;
  }

  save(): { cpu: CpuId; running: number | null } {
    return { cpu: this.cpu, running: this.running?.tid ?? null };
  }

  load(s: { cpu: CpuId; running: number | null }, byTid: (tid: number) => Thread): void {
    this.cpu = s.cpu;
    this.running = s.running === null ? null : byTid(s.running);
  }
}
