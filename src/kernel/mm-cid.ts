// mm_cid, the per-process concurrency id the kernel publishes in struct rseq (offset 24), as
// Linux 6.13–6.18 assigns it (kernel/sched/sched.h: mm_cid_get, __mm_cid_try_get; core.c:
// sched_mm_cid_migrate_to, sched_mm_cid_exit_signals). Each CPU holds at most one id per process
// (mm->pcpu_cid) and keeps it while threads of the process run there, so a thread's id is stable
// while it stays on its CPU, and threads running at the same time never share one:
// - switch-in (mm_cid_get): the CPU's id if it holds one; else, below max_nr_cid = min(allowed
//   CPUs, users), the CPU's recent id if free, then the next id that grows max_nr_cid, then the
//   lowest free id;
// - migration (migrate_to): the id moves with the thread when the source CPU is not running
//   another thread of the process and the id is the one the thread last had; it is dropped
//   instead when the destination already holds one and the process has fewer users than CPUs;
// - exit (exit_signals): the exiting thread's CPU gives its id back.
// Not modelled: the periodic compaction (task_mm_cid_work reclaims ids of CPUs idle for the
// process for 100 ms, which no emulated run lasts) and the lazy-put flag it sets.
import type { CpuId } from '../types.js';

export interface SavedConcurrencyIds {
  held: (number | null)[];
  recent: (number | null)[];
  maxNrCid: number;
}

export class ConcurrencyIds {
  /** pcpu_cid->cid: the id each CPU holds for this process. */
  private held: (number | null)[];
  /** pcpu_cid->recent_cid: the id each CPU held last, reused for cache locality. */
  private recent: (number | null)[];
  /** mm->max_nr_cid. */
  private maxNrCid = 0;

  /** `cpus`: mm->nr_cpus_allowed. It only grows, and threads start allowed on every CPU. */
  constructor(private readonly cpus: number) {
    this.held = Array<number | null>(cpus).fill(null);
    this.recent = Array<number | null>(cpus).fill(null);
  }

  /** mm_cid_get at switch-in on `cpu`; `users` is mm_users, the live threads of the process. */
  schedIn(cpu: CpuId, users: number): number {
    const mine = this.held[cpu];
    if (mine !== null && mine !== undefined) return mine;
    const cid = this.allocate(cpu, users);
    this.held[cpu] = cid;
    this.recent[cpu] = cid;
    return cid;
  }

  private allocate(cpu: CpuId, users: number): number {
    const inUse = new Set(this.held.filter((c): c is number => c !== null));
    this.maxNrCid = Math.min(this.maxNrCid, this.cpus, users);
    const recent = this.recent[cpu];
    if (recent !== null && recent !== undefined && recent < this.maxNrCid && !inUse.has(recent)) return recent;
    for (let cid = this.maxNrCid; cid < this.cpus && cid < users; cid++) {
      this.maxNrCid = cid + 1;
      if (!inUse.has(cid)) return cid;
    }
    for (let cid = 0; cid < this.cpus; cid++) if (!inUse.has(cid)) return cid;
    // Each CPU holds at most one id and this one holds none, so one of `cpus` ids is free.
    throw new Error(`mm_cid: no free concurrency id on CPU ${cpu}`);
  }

  /**
   * sched_mm_cid_migrate_to for a thread moving `from` → `to`; `last` is its last_mm_cid and
   * `sourceBusy` whether the source CPU now runs another thread of the process. Returns the
   * thread's last_mm_cid afterwards.
   */
  migrate(from: CpuId, to: CpuId, last: number | null, users: number, sourceBusy: boolean): number | null {
    const dst = this.held[to] ?? null;
    if (dst !== null && users >= this.cpus) return last;
    if (last === null || this.held[from] !== last) return last;
    if (sourceBusy) return null;
    this.held[from] = null;
    if (dst === null) {
      this.held[to] = last;
      this.recent[to] = last;
    }
    return last;
  }

  /** sched_mm_cid_exit_signals: the CPU the thread exits on gives its id back. */
  exit(cpu: CpuId): void {
    this.held[cpu] = null;
  }

  save(): SavedConcurrencyIds {
    return { held: [...this.held], recent: [...this.recent], maxNrCid: this.maxNrCid };
  }

  load(s: SavedConcurrencyIds): void {
    this.held = [...s.held];
    this.recent = [...s.recent];
    this.maxNrCid = s.maxNrCid;
  }
}
