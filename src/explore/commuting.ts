// Events one instruction apart: a preempt or migrate of thread T just before instruction I, and
// the same event just after it, lead to equivalent leaves when
// - I touches registers only (no memory, no stack, nothing that reads the CPU, the clock or
//   thread-private bases) — then nothing another thread or the kernel does while T is off its
//   CPU can see whether I ran before or after;
// - the event's return to user space does the same either way: the kernel's rseq fix-up clears
//   rseq_cs without an abort at both addresses (`decideFixup` says 'clear');
// - and the step over I was pure (pure-step.ts: nothing else changed).
// Every schedule below the later event then has an equivalent below the earlier one, with as many
// deviations: the same items, T running I first when it next runs (I touches nothing the others
// or the kernel see; a deviation placed just before T's next instruction comes right after I
// instead, where the machine is as it was). So the earlier event's subtree stands for the later
// one's, at every level of the search (at the top, whose branches the threads divide, when the
// same thread explored both), when
// - it was explored without a violation (a violation's text may name where the event came);
// - the moved instruction decides no tick: the event resets its thread's slice count, so every
//   other count is the same either way and that thread's is one more in its next stint on a CPU.
//   That is so when no tick can come within either subtree (state-cache.ts), or when the thread
//   is in its last call and can run fewer instructions than a slice before the call returns
//   (run-bound.ts): a spinner's tick then comes where it comes in both;
// - and its deepest leaf, one instruction further along, still fits the budget.
// Signals are left out: a handler reads the frame, which holds the registers.
// I may also be a load of shared memory, while no other thread stores to the bytes it reads as T
// waits before it: load-commuting.ts, which checks that as the search goes.
import { imageInstructions } from '../asm/capstone.js';
import type { Image } from '../asm/image.js';
import { parseInstruction, type Operand } from '../asm/operands.js';
import { entersKernel } from '../asm/kernel-entries.js';
import type { Machine } from '../kernel/machine.js';
import { decideFixup, fixupRules } from '../kernel/rseq-fixup.js';
import { formatItem, type ScheduleItem } from '../kernel/schedule.js';
import type { Thread } from '../kernel/thread.js';
import type { Address } from '../types.js';
import type { RegisterFile } from '../engine/index.js';
import { noTickWithin } from './state-cache.js';
import type { RunBound } from './run-bound.js';
import { SENTINEL } from '../kernel/address-space.js';
import { loadedOperand, numericDisplacement, type LoadWait, type LoadWatch } from './load-commuting.js';

/**
 * Mnemonics (any size suffix) that read or write more than registers without a memory operand in
 * AT&T text (string instructions print theirs), read what differs between CPUs or over time or a
 * thread-private base, enter the kernel or trap.
 */
const NOT_REGISTER_ONLY = /^(lock|push|pusha|pushf|pop|popa|popf|call|ret|retf|leave|enter|in|out|xlat|xlatb|cpuid|rdtsc|rdtscp|rdpid|rdrand|rdseed|rdfsbase|rdgsbase|wrfsbase|wrgsbase|rdpkru|wrpkru|xgetbv|syscall|sysenter|int|int1|int3|into|ud0|ud1|ud2|hlt|iret|sysret|swapgs|xbegin|xend|xabort|xtest|monitor|mwait|clflush|clflushopt|clwb|cli|sti|clac|stac)[bwlq]?$/;

/** [begin, end) of memory whose bytes no instruction or kernel work can change during a run. */
export type ConstantRange = readonly [Address, Address];

/**
 * Addresses of the image's instructions that touch registers only, or besides registers only read
 * `constant` memory (constantMemory): such a load reads the same bytes before an event and after it.
 */
export function registerOnlyPoints(image: Image, constant: readonly ConstantRange[] = []): Set<Address> {
  const out = new Set<Address>();
  for (const d of imageInstructions(image)) {
    if (d.mnemonic.split(/\s+/).some((word) => NOT_REGISTER_ONLY.test(word))) continue;
    try {
      const ops = parseInstruction(`${d.mnemonic} ${d.operands}`.trim(), 'att').operands;
      // lea computes an address and a long nop names one; neither reads it.
      if (ops.every((op) => op.kind !== 'mem') || /^(lea|nop)/.test(d.mnemonic)) out.add(d.address);
      else if (constant.length && readsOnlyConstant(d.mnemonic, ops, d.address + BigInt(d.size), constant)) out.add(d.address);
    } catch {
      // unparsed: not known to be register-only
    }
  }
  return out;
}

/** Whether the instruction (ending at `next`) is a load or compare whose one memory operand lies in `constant`. */
function readsOnlyConstant(mnemonic: string, ops: readonly Operand[], next: Address, constant: readonly ConstantRange[]): boolean {
  const m = loadedOperand(mnemonic, ops);
  if (m === null || m.seg !== null || m.index !== null || (m.base !== null && m.base !== 'rip')) return false;
  const disp = numericDisplacement(m.disp);
  if (disp === null) return false;
  const at = BigInt.asUintN(64, (m.base === 'rip' ? next : 0n) + disp);
  // Eight bytes cover any of these operands.
  return constant.some(([begin, end]) => at >= begin && at + 8n <= end);
}

/**
 * Memory no run can change: the read-only pages of the main process, when its code enters no kernel
 * (user stores to them fault; the model's system calls could write them, and fork and clone make new ones).
 */
export function constantMemory(machine: Machine): ConstantRange[] {
  if (entersKernel(machine.image) || machine.processes.length !== 1) return [];
  return machine.processes[0]!.emu.regions().filter((r) => !r.prot.write).map((r) => [r.begin, r.end] as const);
}

/** Whether `item` is an event that can commute with an instruction before it. */
export const commutable = (item: ScheduleItem): boolean => item.kind === 'event' && (item.event.kind === 'preempt' || item.event.kind === 'migrate');

/** Whether the kernel's fix-up for `t` at `ip` would clear rseq_cs and abort nothing. */
export function fixupClears(machine: Machine, t: Thread, ip: Address): boolean {
  if (!t.rseq) return true;
  return decideFixup(t.process.emu, { area: t.rseq.area, sig: t.rseq.sig, ip, eventMask: 1 }, fixupRules(machine.profile)).kind === 'clear';
}

/** A commutable event's subtree at a point, standing for the same event at the next point. */
interface Commuted {
  span: number;
  resolved: boolean;
  /** The largest slice count of any thread at the point. */
  maxSlice: number;
  /**
   * Whether the subtree was explored at this very point, not stood for by one at an earlier point:
   * only those stand for an event after a load (load-commuting.ts checks the runs in which the
   * thread waits before the load itself).
   */
  explored: boolean;
}

/** One walk of the search along the default path (one frame), and the events it explored at its last two points. */
export class CommutingWalk {
  /** Commutable events explored (or stood for) at this point, and at the previous one when the step between touched registers only. */
  private commuting = new Map<string, Commuted>();
  private previous = new Map<string, Commuted>();
  /** The thread at this point, its address and the largest slice count. */
  private tid: number | null = null;
  private rip: Address | null = null;
  private maxSlice = 0;
  /** The wait before a load at this point, when the load rule may use it (load-commuting.ts). */
  private loadHere: LoadWait | null = null;
  /** The wait before the load stepped over from the previous point, when the events there stand for this point's through it. */
  private loadBefore: LoadWait | null = null;
  /** Whether the fix-up of the point's thread aborts nothing there (fixupClears), once known. */
  private clears: boolean | null = null;

  /**
   * `registerOnly`: addresses of instructions events commute with (registerOnlyPoints); `bound`: how
   * many instructions a thread can still run in its call (none known without it).
   */
  constructor(private readonly machine: Machine, private readonly sliceLength: number, private readonly registerOnly: ReadonlySet<Address>, private readonly bound: RunBound | null = null, private readonly loads: LoadWatch | null = null) {}

  /**
   * Whether events at the point after the instruction at `rip` (its thread's next) may be stood for
   * by the same events before it: it touches registers only, or it is a load the load rule watches.
   */
  carriesOver(rip: Address): boolean {
    return this.registerOnly.has(rip) || (this.loads?.watches(rip) ?? false);
  }

  /** A point of the walk: thread `tid`, with registers `regs`, is about to run the instruction at `rip`. */
  point(rip: Address, tid: number, regs: RegisterFile): void {
    // Events commute only with their own thread's instruction.
    if (tid !== this.tid && this.previous.size) this.previous.clear();
    this.tid = tid;
    this.rip = rip;
    this.clears = null;
    this.maxSlice = this.machine.allThreads().reduce((m, t) => Math.max(m, t.sliceUsed), 0);
    this.loadHere = this.loads?.waitAt(rip, regs) ?? null;
  }

  /** After the walk's default step from the point: `pure` as pure-step.ts decides. */
  stepped(pure: boolean): void {
    // Events at the next point commute with this step only when it touched registers alone, or loaded (load-commuting.ts).
    const load = pure ? this.loadHere : null;
    if (pure && this.rip !== null && this.registerOnly.has(this.rip)) this.previous = this.commuting;
    else if (load !== null) this.previous = new Map([...this.commuting].filter(([, c]) => c.explored));
    else this.previous = new Map();
    this.loadBefore = load;
    this.loadHere = null;
    this.commuting = new Map();
    this.rip = null;
  }

  /**
   * After commutable event `item` was applied at this point: when the same event at the previous
   * point stands for it (see the file comment), the instructions its deepest leaf would run and
   * whether the aborts watched at its leaves ended as predicted; null otherwise.
   */
  commuted(item: ScheduleItem): { span: number; resolved: boolean; ahead: number } | null {
    const id = formatItem(item);
    const before = this.previous.get(id);
    if (!before || !this.commutesHere(item)) return null;
    const span = before.span - 1;
    if (this.machine.instructions + span > this.machine.maxInstructions) return null;
    if (!noTickWithin(before.maxSlice, this.maxSlice, before.span, this.sliceLength) && !this.cannotTick(item)) return null;
    if (this.loadBefore !== null) {
      // Known conflicted since the step: the load's bytes may change while the thread waits.
      if (!this.loads!.usable(this.loadBefore)) return null;
      this.loads!.use(this.loadBefore);
    }
    this.commuting.set(id, { span, resolved: before.resolved, maxSlice: this.maxSlice, explored: false });
    // The event's thread ran one instruction more of its slice here.
    return { span, resolved: before.resolved, ahead: 1 };
  }

  /**
   * The subtree after commutable event `item` at this point ran at most `span` instructions;
   * `resolved`: every abort watched at its leaves ended as predicted; `clean`: no violation was
   * found in it. Called with the machine back at the point.
   */
  explored(item: ScheduleItem, span: number, resolved: boolean, clean: boolean): void {
    if (clean && this.commutesHere(item)) this.commuting.set(formatItem(item), { span, resolved, maxSlice: this.maxSlice, explored: true });
  }

  /**
   * Whether the event's thread, its slice count reset by the event, cannot reach the end of a slice
   * with the moved instruction run first: in its last call, no handler of its process's own (a
   * handler's instructions count; the stand-in's do not), and fewer than a slice less one
   * instructions to run until the call returns, which the word at its stack pointer says ends it.
   */
  private cannotTick(item: ScheduleItem): boolean {
    const t = item.kind === 'event' ? this.machine.thread(item.tid) : undefined;
    const prog = t?.program;
    if (!this.bound || !t || !prog || prog.returns.length + 1 < prog.repeat || t.process.sigactions.size) return false;
    if (this.machine.returnAddressOf(t) !== SENTINEL) return false;
    const n = this.bound.from(this.machine.ripOf(t));
    return n !== null && n + 1 < this.sliceLength;
  }

  /** Whether `item` is a commutable event of the point's thread whose fix-up here aborts nothing. */
  private commutesHere(item: ScheduleItem): boolean {
    if (!commutable(item) || item.kind !== 'event' || item.tid !== this.tid || this.rip === null) return false;
    // Every event here meets the same memory (an event writes none; explored() runs after the rewind).
    if (this.clears === null) {
      const t = this.machine.thread(item.tid);
      this.clears = t !== undefined && fixupClears(this.machine, t, this.rip);
    }
    return this.clears;
  }
}
