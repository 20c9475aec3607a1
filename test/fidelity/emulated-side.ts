// The emulator's side: the same op, the same memory and arguments, one event before the same
// instruction (and the harness's own stops at forks and clones), normalised as the harness
// normalises the kernel's row.
import { findSymbol, loadProgram, Machine, parseEvent, readRseqTables, type EventRecord, type Image, type MachineOutcome, type ThreadReport } from '../../src/index.js';
import { TRAMPOLINE, TRAMPOLINE_CODE } from '../../src/kernel/address-space.js';
import { SIGNALS } from '../../src/kernel/event-spec.js';
import { word, type OpCase, type Row } from './rows.js';
import type { Probe } from './native-side.js';

/** fork, vfork, clone, clone3: the harness traces the new task, so the parent stops at the call's return. */
const FORKS = new Set([56, 57, 58, 435]);

/**
 * Where the harness's ptrace stops a parent, at each fork or clone it sees (PTRACE_EVENT_FORK /
 * CLONE): the instruction after the `syscall`. The stop is a context switch of the parent alone
 * (its new child is stopped too), so the parent gets a preempt event and keeps its CPU: what
 * the machine's `ipi` event does. A probe at that address acts after it, if the thread still
 * gets there, as the harness's int3 does.
 */
function tracerStops(outcome: MachineOutcome): bigint[] {
  return [...new Set(outcome.syscalls.filter((c) => FORKS.has(c.nr) && c.ret !== null && c.ret > 0n && c.ret < 1n << 63n).map((c) => c.ip + 2n))];
}

export class EmulatedOp {
  private stops: bigint[] | null = null;

  private constructor(
    readonly image: Image,
    readonly op: OpCase,
    readonly entry: bigint,
    private readonly aborts: bigint[],
  ) {}

  static async load(file: string, op: OpCase): Promise<EmulatedOp> {
    const image = await loadProgram(file);
    const entry = findSymbol(image, op.entry);
    if (!entry) throw new Error(`${file}: no symbol ${op.entry}`);
    return new EmulatedOp(image, op, entry.address, readRseqTables(image).sections.map((s) => s.abortIp));
  }

  /**
   * Offsets from the entry of every instruction an unperturbed call executes, in first-execution
   * order, leaving out those two of its tasks both execute (a fork's parent and child right after
   * the fork): which one gets there first, and so takes the event, is the scheduler's choice.
   */
  instructions(): { offsets: number[]; shared: number } {
    const { outcome } = this.call(null, true);
    this.stops = tracerStops(outcome);
    const tasks = new Map<number, Set<number>>();
    for (const s of outcome.trace) {
      const off = s.address - this.entry;
      if (off < 0n || off >= 4096n) continue;
      const by = tasks.get(Number(off)) ?? new Set<number>();
      by.add(s.tid);
      tasks.set(Number(off), by);
    }
    const offsets = [...tasks].filter(([, by]) => by.size === 1).map(([off]) => off);
    return { offsets, shared: tasks.size - offsets.length };
  }

  row(probe: Probe): Row {
    this.stops ??= tracerStops(this.call(null, false).outcome);
    const { outcome, main, memory, base, event: ev } = this.call(probe, false);
    const end = main.end ?? { status: 'limit', reason: outcome.status };
    const status = end.status;
    const text = status === 'returned' ? 'exit 0' : status === 'exited' ? `exit ${end.exitCode}` : status === 'signal' || status === 'fault' ? `signal ${SIGNALS[end.signal ?? ''] ?? end.signal}` : `limit ${end.reason}`;
    const row: Row = { reached: ev !== undefined, end: text, memory };
    if (status === 'returned') row.rax = word(main.returns.at(-1) ?? 0n, base, this.op.memSize);
    if (status === 'signal' || status === 'fault') row.diedAt = this.diedWhere(this.culprit(outcome, main).registers.rip);
    if (!ev) return row;
    row.outcome = ev.outcome;
    if (ev.tid !== main.tid) row.eventTask = 1;
    if (ev.outcome === 'sigsegv') return row;
    row.resume = this.where(ev.resumeIp);
    // The kernel writes no ids into an area nobody registered (the harness reads glibc's, left at
    // cpu_id_start 0, cpu_id -2: not equal, so -1); the op's memory shows the area itself.
    row.cpuAfter = ev.registered === true ? ev.cpu : -1;
    return row;
  }

  /** The thread of the call's process whose fault or signal killed it (the others die of it). */
  private culprit(outcome: MachineOutcome, main: ThreadReport): ThreadReport {
    return outcome.threads.find((t) => t.pid === main.pid && (t.end?.status === 'fault' || t.end?.status === 'signal') && !t.end.reason?.startsWith('process killed')) ?? main;
  }

  /** As the harness names it: an executed signature (ud1 bytes 0f b9) from its abort_ip. */
  private diedWhere(a: bigint): string {
    // The stand-in handler for an injected signal plays the harness's own SIGUSR1 handler.
    if (a === TRAMPOLINE + BigInt(TRAMPOLINE_CODE.handler.offset)) return 'usr1-handler';
    const sig = this.aborts.filter((x) => a < x && a + 16n >= x && this.byteAt(a) === 0x0f && this.byteAt(a + 1n) === 0xb9).sort((x, y) => (x < y ? -1 : 1))[0];
    return sig === undefined ? this.where(a) : `abort-${sig - a}`;
  }

  private byteAt(a: bigint): number | undefined {
    const sec = this.image.sections.find((s) => a >= s.address && a < s.address + BigInt(s.bytes.length));
    return sec?.bytes[Number(a - sec.address)];
  }

  private where(a: bigint): string {
    // The nearest abort_ip at or below: several handlers may lie within 64 bytes of each other.
    const abort = this.aborts.filter((x) => a >= x && a < x + 64n).sort((x, y) => (x > y ? -1 : 1))[0];
    if (abort !== undefined) return `abort+${a - abort}`;
    if (a >= this.entry && a < this.entry + 4096n) return `entry+${a - this.entry}`;
    return `0x${a.toString(16)}`;
  }

  /**
   * One call on a thread pinned to CPU 0, as the harness pins its child (tasks it makes inherit
   * that); a migration re-pins the moved task to CPU 1, as the harness's sched_setaffinity does.
   * Time slices are off: natively the tick never lands in these few instructions.
   */
  private call(probe: Probe | null, trace: boolean): { outcome: MachineOutcome; main: ThreadReport; memory: string[]; base: bigint; event: EventRecord | undefined } {
    const m = Machine.create(this.image, { cpus: 2, maxInstructions: 100_000, registration: this.op.registration ?? 'glibc', timeSlice: 0 });
    try {
      const base = m.allocate('m', this.op.memSize);
      const value = (t: string): bigint => (t.startsWith('m+') ? base + BigInt(t.slice(2)) : BigInt(t));
      const init = new Uint8Array(this.op.memSize);
      const view = new DataView(init.buffer);
      this.op.init.forEach((t, i) => view.setBigUint64(8 * i, BigInt.asUintN(64, value(t)), true));
      m.emu.write(base, init);
      // preempt is a location event. migrate and signal stop the thread before the instruction
      // (a breakpoint) and act then: migrate moves it to the CPU it is not pinned to, as the
      // harness's sched_setaffinity does; signal is the harness's stop (a preempt that keeps the
      // CPU: `ipi`) and then SIGUSR1, so when the signal is blocked the stop alone decides where
      // the thread resumes.
      const address = this.entry + BigInt(probe?.offset ?? 0);
      const spec = probe?.kind === 'preempt' ? `preempt@0x${address.toString(16)}` : null;
      const events = spec ? [parseEvent(spec, this.image, 2)] : [];
      const thread = m.spawn({ entry: this.entry, args: this.op.args.map(value), cpu: 0 });
      thread.affinity = 1n;
      m.begin({ events, trace, onSwitchOut: (e, machine) => {
        const t = machine.thread(e.tid);
        if (t && e.kind === 'migrate') t.affinity = 1n << BigInt(e.to);
      } });
      // The tracer's stops each act once; the probe's stays armed until a thread gets there (the
      // harness's int3 at the address after a fork is reached after the fork's stop, if at all).
      const tracer = new Set(probe ? this.stops ?? [] : []);
      let armed = probe && probe.kind !== 'preempt' ? address : null;
      const arm = () => m.setBreakpoints(new Set([...tracer, ...(armed === null ? [] : [armed])]));
      arm();
      let stop: EventRecord | undefined;
      while (m.step(null)) {
        const hit = m.takeBreakpointHit();
        if (!hit) continue;
        const first = m.events().length;
        if (tracer.delete(hit.address)) {
          arm();
          m.step({ kind: 'event', tid: hit.tid, event: { kind: 'ipi' } });
          continue;
        }
        armed = null;
        arm();
        if (probe?.kind === 'migrate') {
          const pinnedTo0 = (m.thread(hit.tid)!.affinity & 1n) !== 0n;
          m.step({ kind: 'event', tid: hit.tid, event: { kind: 'migrate', cpu: pinnedTo0 ? 1 : 0 } });
          stop = m.events()[first];
          continue;
        }
        m.step({ kind: 'event', tid: hit.tid, event: { kind: 'ipi' } });
        stop = m.events()[first];
        m.step({ kind: 'event', tid: hit.tid, event: { kind: 'signal', signal: SIGNALS.SIGUSR1! } });
      }
      const outcome = m.result();
      const main = outcome.threads.find((r) => r.tid === thread.tid)!;
      const bytes = m.emu.read(base, this.op.memSize);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const memory = Array.from({ length: this.op.memSize / 8 }, (_, i) => word(dv.getBigUint64(8 * i, true), base, this.op.memSize));
      return { outcome, main, memory, base, event: stop ?? outcome.events.find((e) => e.spec === spec) };
    } finally {
      m.close();
    }
  }
}
