// The event space exploration draws from: before the next instruction of the thread a CPU is about
// to run, a kernel event for that thread (preempt, migrate to each other CPU, signal) or a switch
// to another CPU whose thread then runs instead (a preemption between parallel CPUs).
//
// A split (split-rmw.ts) lets another CPU run between the load and the store of a read-modify-write
// without LOCK: offered only before such an instruction on shared memory, when another CPU has a
// thread to run, as the pair `Tn:load cM:0`.
//
// These reductions keep the space to deviations that can change an outcome:
// - a switch only before an instruction that may touch shared memory or enter the kernel: moving it
//   past register-only, stack or %fs (thread-private) accesses commutes with the other CPUs;
// - no preempt or signal for a thread alone on its CPU whose rseq_cs is 0: the kernel would only
//   rewrite the same cpu_id (kept on linux-5.x, where a stale event bit combines with
//   NO_RESTART flags later);
// - no signal where it equals a preempt: the thread alone on its CPU, no handler of its own (the
//   emulator's stand-in returns at once) and a kernel without NO_RESTART flags;
// - no signal where it changes nothing: no handler of its own, rseq_cs 0 and a kernel without
//   NO_RESTART flags (the thread keeps its CPU; the kernel rewrites the same cpu_id);
// - no second SIGUSR1 while one is pending: Linux queues a standard signal once;
// - no preempt or migrate while an injected signal waits for the stand-in handler (a kernel
//   without NO_RESTART flags): the delivery makes the fix-up the event's return makes anyway,
//   then runs a handler that returns at once, so it equals the same event without the signal;
// - nothing inside the stand-in handler once rseq_cs is 0: its instructions touch only the
//   thread's registers and its own signal frame and use none of its slice, so an event there
//   equals the same event where rt_sigreturn returns to (a signal there is blocked until then).
// test/explore/stand-in-signal.test.ts runs each pair and requires the same run.
import { imageInstructions } from '../asm/capstone.js';
import { imageBytes, type Image } from '../asm/image.js';
import { parseInstruction } from '../asm/operands.js';
import type { Machine } from '../kernel/machine.js';
import { decodeRmw, splitTarget, type RmwShape } from '../kernel/split-rmw.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { Address, CpuId } from '../types.js';
import { resumeIp } from './pending-abort.js';
import { inTrampoline } from '../kernel/address-space.js';

export type DeviationKind = 'preempt' | 'migrate' | 'signal' | 'switch' | 'split';
export const ALL_DEVIATIONS: readonly DeviationKind[] = ['preempt', 'migrate', 'signal', 'switch', 'split'];

/** One deviation: a schedule item, or the items of a split (`Tn:load`, then the switch). */
export type Deviation = ScheduleItem | readonly ScheduleItem[];

const SIGUSR1 = 10;
/** Memory instructions without an explicit memory operand in AT&T text. */
const IMPLICIT_SHARED = /^(rep|repe|repne|repz|repnz)?\s*(movs|stos|lods|cmps|scas)|^(syscall|int|sysenter|cpuid|rdtscp|xbegin|xend|lock)/;

/** Instruction addresses of the image where a CPU switch can matter. */
export function sharedAccessPoints(image: Image): Set<Address> {
  const out = new Set<Address>();
  for (const d of imageInstructions(image)) {
    const text = `${d.mnemonic} ${d.operands}`.trim();
    if (IMPLICIT_SHARED.test(text)) {
      out.add(d.address);
      continue;
    }
    try {
      const ops = parseInstruction(text, 'att').operands;
      const shared = ops.some((op) => op.kind === 'mem' && op.seg !== 'fs' && op.base !== 'rsp' && !(op.base === 'rip' && op.seg === null && /^lea/.test(d.mnemonic)));
      if (shared && !/^lea/.test(d.mnemonic)) out.add(d.address);
    } catch {
      out.add(d.address); // when in doubt, keep the switch point
    }
  }
  return out;
}

/** Instruction addresses of the image that a split can divide, with what they load and store. */
export function splitPoints(image: Image): Map<Address, RmwShape> {
  const out = new Map<Address, RmwShape>();
  for (const line of image.lines) {
    if (line.kind !== 'instruction') continue;
    const bytes = imageBytes(image, line.address, line.size);
    const shape = bytes ? decodeRmw(bytes, line.address) : null;
    if (shape) out.set(line.address, shape);
  }
  return out;
}

export interface DeviationSpace {
  kinds: readonly DeviationKind[];
  /** From splitPoints(); omitted: no split anywhere. */
  splitPoints?: ReadonlyMap<Address, RmwShape>;
  /** From sharedAccessPoints(); null to switch before every instruction. */
  switchPoints: Set<Address> | null;
  /** The kernel honours NO_RESTART flags (linux-5.x): no event is a no-op there. */
  flagsMatter: boolean;
}


/** Schedule items that deviate from the default policy when `cpu` is about to run `tid`. */
export function deviationsAt(machine: Machine, cpu: CpuId, tid: number, space: DeviationSpace): Deviation[] {
  const out: Deviation[] = [];
  const t = machine.thread(tid);
  if (!t) return out;
  // Between the load and the store of an instruction, the thread's CPU can only let others run.
  if (t.split) return space.kinds.includes('switch') ? machine.runnableCpus().filter((c) => c !== cpu).map((c) => ({ kind: 'run', cpu: c, count: 0 })) : out;
  const rip = machine.ripOf(t);
  const unarmed = machine.rseqCsPointer(t) === 0n;
  // In the stand-in handler with rseq_cs 0, every event equals the same event where it returns to.
  if (inTrampoline(rip) && unarmed) return out;
  const alone = machine.runnableCpus().includes(cpu) && machine.threadsOn(cpu) === 1;
  const inert = alone && !space.flagsMatter && unarmed;
  // A blocked signal stays pending until it is unblocked, wherever that is: never a no-op.
  const noHandler = !t.process.sigactions.has(SIGUSR1) && ((t.sigmask >> BigInt(SIGUSR1 - 1)) & 1n) === 0n;
  // A signal just injected, still to be delivered to the stand-in handler: a preempt or migrate now
  // equals the same event without it, which this point offers too.
  const standInPending = noHandler && !space.flagsMatter && t.standInFrames > 0 && t.pendingSignals.length === 1 && t.pendingSignals[0] === SIGUSR1;
  if (space.kinds.includes('preempt') && !inert && !standInPending) out.push({ kind: 'event', tid, event: { kind: 'preempt' } });
  if (space.kinds.includes('migrate') && !standInPending) {
    for (let c = 0; c < machine.cpus; c++) if (c !== cpu && (t.affinity >> BigInt(c)) & 1n) out.push({ kind: 'event', tid, event: { kind: 'migrate', cpu: c } });
  }
  const sameAsPreempt = alone && !space.flagsMatter && noHandler;
  // With no handler and rseq_cs 0, a signal changes nothing: no thread switch, no fix-up to make.
  const signalInert = noHandler && !space.flagsMatter && unarmed;
  // A second SIGUSR1 while one is pending is not queued (a standard signal): it changes nothing.
  const coalesces = t.pendingSignals.includes(SIGUSR1);
  if (space.kinds.includes('signal') && !inert && !signalInert && !coalesces && !(sameAsPreempt && space.kinds.includes('preempt'))) out.push({ kind: 'event', tid, event: { kind: 'signal', signal: SIGUSR1 } });
  // A thread about to abort runs abort_ip's instruction next, not the one at its RIP.
  const next = resumeIp(machine, t, rip);
  if (space.kinds.includes('switch') && (space.switchPoints === null || space.switchPoints.has(next))) {
    for (const c of machine.runnableCpus()) if (c !== cpu) out.push({ kind: 'run', cpu: c, count: 0 });
  }
  if (space.kinds.includes('split') && space.splitPoints?.size && next === rip) {
    const shape = space.splitPoints.get(rip);
    const others = shape ? machine.runnableCpus().filter((c) => c !== cpu) : [];
    if (others.length && splitTarget(shape!, rip, machine.registersOf(t))) for (const c of others) out.push([{ kind: 'load', tid }, { kind: 'run', cpu: c, count: 0 }]);
  }
  return out;
}
