// Whether a default step of the search's walk was pure: the same thread ran one instruction (or
// as many as asked, going over rounds of a loop: quiet-rounds.ts) that entered no kernel, ended no
// slice, closed no attempt, returned from no call, and wrote no memory or only its own stack and
// TLS bytes with the values they held. Two points of a walk joined by
// pure steps differ only in that thread's registers, its slice count and the instruction count
// (event-twins.ts and commuting.ts build on that).
import { SHARED_MEMORY_END } from '../kernel/address-space.js';
import type { Machine } from '../kernel/machine.js';
import type { MachineSnapshot } from '../kernel/machine-types.js';
import { memoryWrites, writtenSinceCopy } from '../kernel/memory-snapshot.js';
import type { Thread } from '../kernel/thread.js';
import { PAGE_SIZE } from '../engine/index.js';

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

export class PureStep {
  private mark: StepMark | null = null;
  private snapshot: MachineSnapshot | null = null;

  constructor(private readonly machine: Machine) {}

  /** Before the step: `t` is about to run on `cpu`; `here` is the machine now (null: a step that writes memory counts as impure). */
  before(t: Thread, cpu: number, here: MachineSnapshot | null): void {
    // Work waiting for the return to user space, or a signal to deliver, makes the step impure.
    this.mark = t.notifyResume || t.pendingSignals.length || t.split ? null : this.markOf(t, cpu);
    this.snapshot = here;
  }

  /** After it (`count` instructions, when more than one): whether it was pure. */
  after(count = 1): boolean {
    const before = this.mark;
    const t = before?.thread;
    const after = t ? this.markOf(t, t.cpu) : null;
    const pure = before !== null && after !== null && !this.machine.stepEndedSlice && t!.state === 'runnable' && !t!.notifyResume && !t!.pendingSignals.length && !t!.split && this.machine.runningOn(before.cpu) === t
      && after.instructions === before.instructions + count
      && after.syscalls === before.syscalls && after.events === before.events && after.cpu === before.cpu
      && after.attempt === before.attempt && after.returns === before.returns && after.eventMask === before.eventMask
      && (after.writes === before.writes || this.wroteOnlySameValues());
    this.mark = null;
    this.snapshot = null;
    return pure;
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
