// What a run produces, in the order it happens: kernel events (their rseq outcome filled in when
// the thread next returns to user space), system calls, captured output, the instruction trace,
// warnings, and the executed schedule — the string that replays the run exactly.
import type { CpuId } from '../types.js';
import type { EventRecord, RunOutcome, SyscallRecord, TraceStep } from './outcome.js';
import { formatSchedule, type ScheduledEvent, type ScheduleItem } from './schedule.js';
import { LIMITS } from '../limits.js';
import { objectList } from '../object-list.js';

export interface SavedRunLog {
  events: EventRecord[];
  awaiting: [number, number[]][];
  syscalls: SyscallRecord[];
  output: RunOutcome['output'];
  trace: TraceStep[];
  traceCut: boolean;
  outputBytes: number;
  outputCut: boolean;
  warnings: string[];
  items: ScheduleItem[];
  runMeta: ({ tid: number; open: boolean } | undefined)[];
}

export class RunLog {
  /**
   * From objectList(): saved and loaded by `slice`, which keeps the elements kind, so an empty
   * literal's kind stayed with the lists and the code reading them met two.
   */
  events: EventRecord[] = objectList();
  syscalls: SyscallRecord[] = [];
  output: RunOutcome['output'] = [];
  trace: TraceStep[] = [];
  warnings: string[] = [];
  private items: ScheduleItem[] = [];
  /** For each executed item that is a run: its thread, and whether that thread kept its CPU. */
  private runMeta: ({ tid: number; open: boolean } | undefined)[] = [];
  /** Event records per thread whose rseq outcome is known only when it next returns to user space. */
  private awaiting = new Map<number, EventRecord[]>();

  /** Records a traced instruction, up to the limit; past it, one warning says the trace was cut. */
  addTrace(step: TraceStep): void {
    if (this.trace.length < LIMITS.traceSteps) this.trace.push(step);
    else if (this.trace.length === LIMITS.traceSteps && !this.traceCut) {
      this.traceCut = true;
      this.warnings.push(`trace cut after ${LIMITS.traceSteps} instructions (the limit); the run went on`);
    }
  }

  /** How many more bytes of output will be kept: a write past the limit need not be read at all. */
  outputRoom(): number {
    return Math.max(0, LIMITS.outputBytes - this.outputBytes);
  }

  /** Captures the first bytes of a write of `length` bytes, up to the limit; past it, one warning. */
  addOutput(tid: number, fd: number, bytes: Uint8Array, length = bytes.length): void {
    const kept = bytes.subarray(0, this.outputRoom());
    if (kept.length > 0) {
      this.outputBytes += kept.length;
      this.output.push({ tid, fd, text: Buffer.from(kept).toString('utf8') });
    }
    if (kept.length < length && !this.outputCut) {
      this.outputCut = true;
      this.warnings.push(`captured output cut at ${LIMITS.outputBytes} bytes (the limit); the program's writes still succeed`);
    }
  }

  private traceCut = false;
  private outputCut = false;
  private outputBytes = 0;

  /** The executed schedule so far. */
  schedule(): string {
    return formatSchedule(this.items);
  }

  get itemCount(): number {
    return this.items.length;
  }

  /**
   * Appends a run. Consecutive runs of one thread on one CPU merge into one `cN:K` only when the
   * earlier one ended with the thread still on its CPU; a slice that ended because the thread left
   * must stay separate, or the replay would end it at the same place and lose the rest. A
   * zero-length run merges with nothing: it stands for return-to-user work done after the last
   * instruction before it (or for a switch), so replays record it again.
   */
  recordRun(cpu: CpuId, tid: number, count: number, open: boolean): void {
    const last = this.items.at(-1);
    const meta = this.runMeta.at(-1);
    if (count > 0 && last?.kind === 'run' && last.cpu === cpu && meta?.tid === tid && meta.open && last.count !== null && last.count > 0 && this.runMeta.length === this.items.length) {
      last.count += count;
      meta.open = open;
      return;
    }
    this.items.push({ kind: 'run', cpu, count });
    this.runMeta.length = this.items.length - 1;
    this.runMeta.push({ tid, open });
  }

  /**
   * Records `segment` as run up to `executed` instructions, and starts the next one there.
   * `attempted` counts the instruction the budget stopped, so a replay runs out of budget there too.
   */
  recordSegment(segment: Segment, executed: number, open: boolean, attempted = 0): void {
    const n = executed - segment.start;
    // Work done after the segment's last instruction replays as a zero-length step of its own.
    if (segment.workRan && segment.workAt === executed && n > 0 && !attempted) {
      this.recordRun(segment.cpu, segment.tid, n, true);
      this.recordRun(segment.cpu, segment.tid, 0, open);
    } else this.recordRun(segment.cpu, segment.tid, n + attempted, open);
    segment.start = executed;
    segment.workRan = false;
  }

  recordEvent(tid: number, event: ScheduledEvent): void {
    this.items.push({ kind: 'event', tid, event });
  }

  /** A `Tn:load` item: the load half of thread n's next instruction. */
  recordLoad(tid: number): void {
    this.items.push({ kind: 'load', tid });
  }

  /** An event for `tid` whose outcome its next return to user space decides. */
  addEvent(tid: number, record: EventRecord): void {
    this.events.push(record);
    const records = this.awaiting.get(tid)?.slice() ?? [];
    records.push(record);
    this.awaiting.set(tid, records);
  }

  /** The events waiting for `tid`'s return to user space; they are no longer waiting after this. */
  takeAwaiting(tid: number): EventRecord[] {
    const records = this.awaiting.get(tid) ?? [];
    this.awaiting.delete(tid);
    return records;
  }

  /** The events still waiting for their thread's return to user space, by thread. */
  /** The events of thread `tid` waiting for its return to user space. */
  awaitingOf(tid: number): readonly EventRecord[] {
    return this.awaiting.get(tid) ?? [];
  }

  awaitingRecords(): [number, readonly EventRecord[]][] {
    return [...this.awaiting];
  }

  // Lists are copied with slice(), which keeps the list's element kind (part of its hidden class in
  // V8); a spread may give the copy another, and optimized code that meets a new kind is thrown
  // away. With the run queues' save(), this took the spinlock's K = 3 search from 79 deopts to 72.
  save(): SavedRunLog {
    const awaiting = [...this.awaiting].map(([tid, rs]): [number, number[]] => [tid, rs.map((r) => this.events.indexOf(r))]);
    return {
      events: copyAwaiting(this.events, awaiting),
      awaiting,
      syscalls: this.syscalls.slice(), // a record is complete when its call returns, and never changed after
      output: this.output.slice(), // entries are never changed once written
      trace: this.trace.slice(),
      traceCut: this.traceCut,
      outputBytes: this.outputBytes,
      outputCut: this.outputCut,
      warnings: this.warnings.slice(),
      items: copyLast(this.items, copyItem),
      runMeta: copyLast(this.runMeta, copyMeta),
    };
  }

  static load(s: SavedRunLog): RunLog {
    const log = new RunLog();
    log.events = copyAwaiting(s.events, s.awaiting);
    for (const [tid, idx] of s.awaiting) log.awaiting.set(tid, idx.map((i) => log.events[i]!));
    log.syscalls = s.syscalls.slice();
    log.output = s.output.slice();
    log.trace = s.trace.slice();
    log.traceCut = s.traceCut;
    log.outputBytes = s.outputBytes;
    log.outputCut = s.outputCut;
    log.warnings = s.warnings.slice();
    log.items = copyLast(s.items, copyItem);
    log.runMeta = copyLast(s.runMeta, copyMeta);
    return log;
  }
}

/** The part of a thread's turn being recorded (Machine.runSlice): where it started, and whether (and when) it did the return-to-user work. */
export interface Segment {
  cpu: CpuId;
  tid: number;
  start: number;
  workRan: boolean;
  workAt: number;
}

// Copies share what can no longer change: an event record is settled once its thread returns to
// user space (only the records still awaiting that are copied), and only the last schedule item
// and its meta grow in place (recordRun).

/** The records, with those still awaiting their fix-up (indices in `awaiting`) copied. */
function copyAwaiting(events: readonly EventRecord[], awaiting: readonly (readonly [number, readonly number[]])[]): EventRecord[] {
  const out = events.slice();
  for (const [, idx] of awaiting) for (const i of idx) out[i] = copyRecord(events[i]!);
  return out;
}

/** The list, with its last element copied. */
function copyLast<T>(list: readonly T[], copy: (x: T) => T): T[] {
  const out = list.slice();
  if (out.length) out[out.length - 1] = copy(out[out.length - 1]!);
  return out;
}

/** Event records hold only primitive fields: a spread copies one, for less than structuredClone. */
const copyRecord = (r: EventRecord): EventRecord => ({ ...r });

/** recordRun extends the last run item and its meta in place: copies of both, not shared objects (events are never changed). */
const copyItem = (i: ScheduleItem): ScheduleItem => ({ ...i });
const copyMeta = (m: { tid: number; open: boolean } | undefined) => m && { ...m };
