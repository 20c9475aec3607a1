// What judging a finished run reads (Machine.summary), with the schedule string made only when
// read: a leaf of a search that finds nothing never reads it.
import type { RunSummary, ThreadSummary } from './machine-types.js';
import type { RunLog } from './run-log.js';
import type { Thread } from './thread.js';

/** A thread's part of a run, its lists shared with it (the kernel model replaces them, never changes them). */
export const threadSummary = (t: Thread): ThreadSummary => ({
  tid: t.tid, pid: t.process.pid, cpu: t.cpu, end: t.end, returns: t.program?.returns ?? [], callCpus: t.program?.callCpus ?? [], callIds: t.program?.callIds ?? [], instructions: t.executed,
});

/**
 * A class, so that the lazy getter is the prototype's: an object literal with a getter of its own
 * per summary tripled what the search's scavenges promoted (35 to 103 MB on the spinlock's K = 3
 * space, measured with --trace-gc-nvp) and took longer than making the string every time.
 */
export class LazyRunSummary implements RunSummary {
  private text: string | undefined;

  constructor(
    readonly status: RunSummary['status'],
    readonly threads: readonly ThreadSummary[],
    readonly instructions: number,
    private readonly log: RunLog,
  ) {}

  get events(): RunSummary['events'] {
    return this.log.events;
  }

  get warnings(): RunSummary['warnings'] {
    return this.log.warnings;
  }

  /** Read it before the machine runs on: it is made from the run log as it stands then. */
  get schedule(): string {
    return (this.text ??= this.log.schedule());
  }
}
