// A fingerprint of everything that decides what an explored schedule can still do and how its leaf
// is judged: two machine states with the same fingerprint reach the same leaves, with the same
// violations, under the same remaining deviations (state-cache.ts).
//
// Covered, besides what obviously decides the future (every page of every address space, every
// live thread's whole register file with SSE — an exited thread's is never read again —, its CPU,
// affinity, rseq registration and event mask, signal mask and pending signals, blocking state, the
// run queues, the default policy's position, each process's signal actions and mm_cid state), is
// the history the judge reads at a leaf (judge.ts):
// - each call's return value and the ids it observed (the serial oracle replays calls with them),
//   and how ended threads ended (the `signal` kind);
// - the findings checkAborts makes of the aborts so far, and the events whose outcome is still
//   open (the `table` kind);
// - which shared bytes were last stored by an aborted attempt, or by the thread's current attempt
//   that may still abort (the oracle excuses those bytes).
// Left out of the key: instruction counts (the cache compares the instructions left with the
// budget instead), the part of its time slice each thread has used (returned beside the key: the
// cache compares them, see state-cache.ts; none for an exited thread, or for the last live one
// where the code makes no system call), stack bytes below the red zone (deadStack, an exited
// thread's too), the parts of a thread about to abort that cannot decide anything
// (pending-abort.ts) and the registers a runnable thread writes before reading them on every path
// from where it stands, aborts included (deadAtNext, dead-registers.ts), an event mask left
// over outside a section where no later fix-up can tell it from a fresh bit (leftoverMaskIsDead),
// and, with a ScratchBytes rule, shared bytes an aborted try-store left, hashed at their starting
// value with no mark (scratch-bytes.ts, which checks that no run tells them apart);
// and, because neither the future nor the judge reads them, the CPUs each call ran on (only reported), the
// executed schedule, system call and output logs, the trace, and attempt numbers
// (only whether a store belongs to the current attempt matters). A run with user invariant
// functions (`checks`, which may read anything) does not use the cache.
import type { RseqTables } from '../abi/tables.js';
import { checkAborts } from '../check/runtime.js';
import { entersKernel } from '../asm/kernel-entries.js';
import { fixupRules, type FixupDecision } from '../kernel/rseq-fixup.js';
import { hasCpuIdBug } from '../kernel/profile.js';
import { CanonicalWriter } from './canonical-bytes.js';
import type { Machine } from '../kernel/machine.js';
import { STACK_SIZE } from '../kernel/address-space.js';
import { copyMemory, type MemoryCopy, type PageCopy } from '../kernel/memory-snapshot.js';
import { PAGE_SIZE, type RegisterFile } from '../engine/index.js';
import type { Thread } from '../kernel/thread.js';
import type { Address } from '../types.js';
import { pendingAbort, waitingFixup, type PendingAbort } from './pending-abort.js';
import { deadValues } from './dead-registers.js';
import { registerBlock, registerWords } from '../engine/context-layout.js';
import type { ScratchBytes } from './scratch-bytes.js';
import { base64DigestOf, digestOf, type Digest } from './digest.js';
import { objectList } from '../object-list.js';

/**
 * Digests of whole address spaces, kept with the (immutable) copy they describe, for the dead
 * ranges they were made with: consecutive states often share both (an instruction that stores
 * nothing and moves no stack pointer).
 */
const memoryDigests = new WeakMap<MemoryCopy, { garbage: readonly Pair[]; fills: Fills; digest: Digest }>();
/** The same for pages partly inside a dead range (a stack's page), whose digest leaves bytes out. */
const maskedDigests = new WeakMap<PageCopy, { gaps: readonly Gap[]; fills: readonly Pair[]; digest: Digest }>();

const pageDigest = (page: PageCopy): Digest => (page.digest ??= digestOf(page.bytes));

/** A whole page's part of a memory digest's text: made once per page (copies share pages), not per digest. */
function pageEntry(page: PageCopy, address: Address): string {
  if (page.entryAt !== address) {
    page.entry = `${address.toString(16)}:${pageDigest(page)}`;
    page.entryAt = address;
  }
  return page.entry!;
}

/** Bytes to hash at another value than they hold (scratch bytes at their starting value; scratch-bytes.ts), ascending. */
type Fills = readonly (readonly [Address, number])[];

/** Lists of pairs here start from objectList(), so that the digests meet one hidden class. */
const NO_FILLS: Fills = objectList();

/**
 * The digest of an address space with the bytes in `garbage` (disjoint [begin, end) ranges) left
 * out and those in `fills` hashed at their fill value: a page wholly inside a garbage range counts
 * as absent, a page partly inside or holding a fill is hashed as its other bytes, the fills and
 * the lengths of the gaps.
 */
function memoryDigest(copy: MemoryCopy, garbage: readonly [Address, Address][], fills: Fills = NO_FILLS): Digest {
  const known = memoryDigests.get(copy);
  if (known && samePairs(known.garbage, garbage) && samePairs(known.fills, fills)) return known.digest;
  // Each page present as its address, a colon and its digest (20 characters).
  let text = `${copy.layout}|`;
  for (const [address, page] of copy.pages) {
    const end = address + PAGE;
    let digest: Digest | null = null;
    let whole = false;
    for (const [b, e] of garbage) {
      if (b >= end || e <= address) continue;
      if (b <= address && e >= end) whole = true;
      else digest = maskedDigest(page, address, garbage, fills);
      break;
    }
    if (!whole && !digest && fills.some(([x]) => x >= address && x < end)) digest = maskedDigest(page, address, garbage, fills);
    if (whole) continue;
    text += digest ? `${address.toString(16)}:${digest}` : pageEntry(page, address);
  }
  const digest = digestOf(text);
  memoryDigests.set(copy, { garbage, fills, digest });
  return digest;
}

/** Ranges or fills, as the digests above were made for. */
type Pair = readonly [Address, Address | number];
/** A page's bytes left out, as offsets [begin, end) in the page. */
type Gap = readonly [number, number];

/** Compared pair by pair: a key text built for every look-up cost more than the look-up. */
const samePairs = (a: readonly Pair[], b: readonly Pair[]): boolean => a.length === b.length && a.every((x, i) => x[0] === b[i]![0] && x[1] === b[i]![1]);
/** The same for gaps, whose pairs hold small integers (another elements kind than addresses): a function of its own keeps each one's feedback to one kind. */
const sameGaps = (a: readonly Gap[], b: readonly Gap[]): boolean => a.length === b.length && a.every((x, i) => x[0] === b[i]![0] && x[1] === b[i]![1]);

/** A page's digest with the bytes of `garbage` left out (each gap counted by its length) and `fills` written. */
function maskedDigest(page: PageCopy, address: Address, garbage: readonly [Address, Address][], fills: Fills): Digest {
  const gaps = objectList<Gap>();
  for (const [b, e] of garbage) {
    if (b < address + PAGE && e > address) gaps.push([Number((b > address ? b : address) - address), Number((e < address + PAGE ? e : address + PAGE) - address)]);
  }
  gaps.sort((x, y) => x[0] - y[0]);
  const mine = fills.filter(([x]) => x >= address && x < address + PAGE);
  const known = maskedDigests.get(page);
  if (known && sameGaps(known.gaps, gaps) && samePairs(known.fills, mine)) return known.digest;
  let bytes = page.bytes;
  if (mine.length) {
    bytes = Uint8Array.from(bytes);
    for (const [x, v] of mine) bytes[Number(x - address)] = v;
  }
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const [b, e] of gaps) {
    parts.push(bytes.subarray(from, b), Buffer.from(`<${e - b}>`));
    from = e;
  }
  parts.push(bytes.subarray(from));
  const digest = digestOf(Buffer.concat(parts));
  maskedDigests.set(page, { gaps, fills: mine, digest });
  return digest;
}

/** Encodes the kernel's part and what `exact` adds (one buffer, reused: each encoding is hashed at once). */
const canonical = new CanonicalWriter();

/** The x86-64 ABI's red zone: below the stack pointer, only these bytes are the code's own. */
const RED_ZONE = 128n;

/**
 * Each thread's stack below its red zone, where signal frames and returned calls leave bytes that
 * no correct program reads (Linux may overwrite them at any instruction, by delivering a signal;
 * an exited thread's stack is gone): states that differ only there are one state. Stacks the
 * machine did not allocate (a clone child's, in user memory) are kept whole.
 */
function deadStack(threads: readonly Thread[], process: Machine['processes'][number], rsps: readonly (Address | null)[]): [Address, Address][] {
  const out = objectList<[Address, Address]>();
  for (const [i, t] of threads.entries()) {
    if (t.process !== process || !t.ownsMemory || rsps[i] === null) continue;
    const bottom = t.stackTop - STACK_SIZE;
    const below = rsps[i]! - RED_ZONE;
    if (below > bottom && below <= t.stackTop) out.push([bottom, below]);
  }
  return out;
}

const PAGE = BigInt(PAGE_SIZE);

/** A thread's stack pointer, or null when its registers cannot be read (its process is gone). */
function stackPointer(t: Thread, regs: RegisterReads): Address | null {
  if (t.state !== 'exited') return regs.of(t).rsp;
  try {
    return regs.of(t).rsp;
  } catch {
    return null;
  }
}

/**
 * Whether a thread's event mask left over from an earlier event (its notify-resume pass cleared the
 * section pointer outside a section without consuming the mask, as the kernel does) decides
 * nothing: every later pass then comes with an event that sets a bit of its own, so the fix-up
 * sees a non-zero mask either way, unless the descriptor's flags pick bits apart (linux-5.x) or a
 * pass can come with no event: from a system call (rseq registration, KVM_RUN, a clone), which the
 * code cannot make when it has no kernel entry, or from a profile's cpu_id bug or cpu_opv.
 */
export function leftoverMaskIsDead(machine: Machine): boolean {
  const p = machine.profile;
  return fixupRules(p).flags !== 'honour' && !hasCpuIdBug(p) && !p.cpuOpv && !entersKernel(machine.image);
}

/** A thread's fields that matter, in a fixed order (see the file comment for what is left out). */
function threadFields(t: Thread, leftoverDead: boolean, scratch: ReadonlySet<Address>): unknown[] {
  const p = t.program;
  return [
    t.tid, t.process.pid, t.cpu, t.affinity, t.rseq, leftoverDead && !t.notifyResume ? 0 : t.eventMask, t.notifyResume, t.lastIds, t.lastMmCid, t.pinnedMmCid,
    t.sigmask, t.pendingSignals, t.standInFrames, t.fsBase, t.stackTop, t.ownsMemory, t.state, t.wait, t.inKvmRun,
    p && [p.entry, p.args, p.repeat, p.returns, p.callIds, p.idsThisCall],
    t.end, t.clearChildTid, [...new Set(t.attemptStores)].filter((x) => !scratch.has(x)).sort(), t.split ?? null,
  ];
}

export interface StateFingerprint {
  /** A SHA-1 digest (base64) of the state, with the parts of pending aborts left out. */
  key: string;
  /** The kernel's part of the state, as hashed (a fingerprint one pure step later reuses it). */
  kernel: KernelPart;
  /** Each thread's context as hashed (a fingerprint one pure step later reuses the others'). */
  contexts: readonly ContextDigest[];
  /** The address spaces as hashed (a fingerprint one pure step later reuses them when the stack pointers stayed). */
  memory: MemoryPart;
  /** When `pending` is not empty: the digest of the state with those parts too. */
  exact: string | null;
  /** Threads hashed as about to abort (pending-abort.ts). */
  pending: PendingAbort[];
  /** The part of its time slice each thread has used (left out of `key`; state-cache.ts compares them). */
  slices: string;
  /** The same counts, thread by thread. */
  counts: readonly number[];
  /** The largest of them. */
  maxSlice: number;
}

/**
 * A thread's context: its digest as the key hashes it (dead registers at fixed values; as it will
 * resume, when about to abort) and, for a thread about to abort or one hashed as it stands, the
 * digest of its bytes as they stand (for `exact`). Null for an exited thread.
 */
type ContextDigest = { key: Digest; raw: Digest | null } | null;

/** The fingerprint of the state one pure step before, and the thread that took the step (pure-step.ts). */
export interface PureStepFrom {
  state: StateFingerprint;
  tid: number;
}

/** Everything but memory and registers, digested, and the threads about to abort. */
export interface KernelPart {
  digest: Digest;
  pending: PendingAbort[];
  /** The scratch bytes of the first address space, at the values they are hashed as (scratch-bytes.ts). */
  fills: Fills;
}

/** The digest of every address space, and each thread's stack pointer its dead stack was cut at (null: none known). */
export interface MemoryPart {
  digest: Digest;
  rsps: readonly (Address | null)[];
}

/**
 * The fingerprint of the machine's state. A thread about to abort (pending-abort.ts) is hashed as
 * it will resume: at abort_ip, with its dead registers at fixed values, and its waiting events
 * without the addresses they came at (the search offers deviations by the instruction it resumes at).
 * `from`: the fingerprint of the state one pure step ago and the thread that stepped. A pure step
 * changes that thread's registers and counts only: this state shares the earlier one's kernel part,
 * every other thread's context (contexts are 5.5 KB each; exporting and hashing them was a quarter
 * of a fingerprint's cost) and, unless its stack pointer moved, the memory digest.
 */
export function stateFingerprint(machine: Machine, tables: RseqTables, from?: PureStepFrom | null, scratch: ScratchBytes | null = null): StateFingerprint {
  const threads = machine.allThreads();
  const k = from ? null : machine.kernelState();
  const regs = new RegisterReads(machine);
  const kernel = from?.state.kernel ?? kernelPart(machine, tables, k!, regs, scratch);
  const { pending } = kernel;
  const normal = new Map(pending.map((p) => [p.tid, p]));
  const rsps = threads.map((t, i) => (kept(from, t, threads.length) ? from!.state.memory.rsps[i]! : stackPointer(t, regs)));
  const memory = from && rsps.every((r, i) => r === from.state.memory.rsps[i]) ? from.state.memory : memoryPart(machine, rsps, kernel.fills);
  const contexts = threads.map((t, i): ContextDigest => {
    if (kept(from, t, threads.length)) return from!.state.contexts[i]!;
    // An exited thread's registers are never read again (the judge reads what its calls returned).
    if (t.state === 'exited') return null;
    const bytes = k ? k.contexts[i]! : machine.contextOf(t);
    const edits = normal.get(t.tid)?.canonical ?? deadAtNext(machine, t, regs);
    // The bytes as they stand go into `exact`, which only pending threads enter.
    const raw = !edits || normal.has(t.tid) ? rawDigest(t, bytes) : null;
    return { key: edits ? editedDigest(t, bytes, edits, regs.of(t)) : raw!, raw };
  });
  let text = kernel.digest + memory.digest;
  for (const c of contexts) text += c ? `c${c.key}` : 'x';
  const key = base64DigestOf(text);
  // An exited thread never runs again: the count it left does not decide anything. Nor does the
  // count of the last live thread when its code enters no kernel (no clone can start another):
  // nothing can come to share its CPU, so its ticks switch nothing.
  const alone = threads.filter((t) => t.state !== 'exited').length === 1 && !entersKernel(machine.image);
  const counts = threads.map((t) => (t.state === 'exited' || alone ? 0 : t.sliceUsed));
  const slices = counts.join(',');
  const maxSlice = Math.max(0, ...counts);
  if (!pending.length) return { key, kernel, contexts, memory, exact: null, pending, slices, counts, maxSlice };
  // What the key left out: where each pending thread stands, its whole context and its events' addresses.
  let e = key;
  threads.forEach((t, i) => normal.has(t.tid) && (e += contexts[i]!.raw!));
  const standing = [
    pending.map((p) => [p.ip, ...p.records.map((r) => machine.events()[r]!.ip)]),
    // And the scratch bytes as they stand (an abort not made as predicted leaves them committed).
    kernel.fills.map(([x]) => [x, machine.processes[0]!.emu.read(x, 1)[0], machine.lastStores().get(x)?.aborted ?? null]),
  ];
  e += digestOf(canonical.bytesOf(standing));
  return { key, kernel, contexts, memory, exact: base64DigestOf(e), pending, slices, counts, maxSlice };
}

/**
 * Each thread's registers, and the fix-up waiting for it, read once per fingerprint: reading the
 * registers loads the thread's context into the CPU, and a fix-up is decided from memory reads. A class, not a closure made per fingerprint: run through tsx, each named closure is
 * given its name when made, which showed in profiles.
 */
class RegisterReads {
  private readonly read = new Map<Thread, RegisterFile>();
  private readonly fixups = new Map<Thread, FixupDecision | null>();
  constructor(private readonly machine: Machine) {}

  of(t: Thread): RegisterFile {
    let regs = this.read.get(t);
    if (!regs) this.read.set(t, (regs = this.machine.registersOf(t)));
    return regs;
  }

  /** The thread's waiting fix-up (waitingFixup), decided once: the kernel's part and the dead registers both ask. */
  fixupOf(t: Thread): FixupDecision | null {
    let d = this.fixups.get(t);
    if (d === undefined) this.fixups.set(t, (d = waitingFixup(this.machine, t, this.of(t).rip)));
    return d;
  }
}

/** Whether thread `t`'s part of the state is the one `from` (one pure step before, `count` threads now) hashed. */
const kept = (from: PureStepFrom | null | undefined, t: Thread, count: number): boolean => !!from && t.tid !== from.tid && from.state.contexts.length === count;

/**
 * The registers dead at the instruction a thread runs next (dead-registers.ts, which follows the
 * aborts of listed sections too), to hash as fixed values; null when none are, or when something
 * besides its own code may read them or it may not run that instruction next: a handler of the
 * process (in the signal frame), the kernel (a thread blocked in a call, or between the halves of
 * a split instruction), or an event waiting for its return to user space whose abort was not
 * predicted (pending-abort.ts predicts the ones through listed descriptors).
 */
function deadAtNext(machine: Machine, t: Thread, reads: RegisterReads): Record<string, bigint> | null {
  if (t.state !== 'runnable' || t.wait || t.split || t.inKvmRun || t.process.sigactions.size) return null;
  const regs = reads.of(t);
  const fixup = reads.fixupOf(t);
  if (fixup?.kind === 'abort' || fixup?.kind === 'sigsegv') return null;
  const edits = deadValues(machine.image, regs.rip, regs.eflags);
  return Object.keys(edits).length ? edits : null;
}

/**
 * The digest of a thread's context with some registers set: its bytes outside the register block
 * and its registers through the register API (context-layout.ts; the lazy flag state in the block
 * makes equal flags differ in raw bytes); without the block's place, the context loaded, edited
 * and saved again (slower).
 */
function editedDigest(t: Thread, bytes: Uint8Array, edits: Record<string, bigint>, regs: RegisterFile): Digest {
  const block = registerBlock(t.process.emu);
  if (!block) return digestOf(t.process.emu.editedContext(bytes, edits));
  return digestAfter(restDigest(t, bytes, block), registerWords(regs, edits));
}

/** The digest of a context as it stands: its bytes outside the register block (by digest), then the block's. */
function rawDigest(t: Thread, bytes: Uint8Array): Digest {
  const block = registerBlock(t.process.emu);
  if (!block) return digestOf(bytes);
  return digestAfter(restDigest(t, bytes, block), bytes.subarray(block.begin, block.end));
}

/** Room for a digest and the bytes after it, reused: hashing them as one buffer allocates nothing. */
let joined = Buffer.alloc(256);

/** The digest of digest `first` (20 bytes) followed by `bytes`. */
function digestAfter(first: Digest, bytes: Uint8Array): Digest {
  const length = 20 + bytes.length;
  if (joined.length < length) joined = Buffer.alloc(length);
  joined.write(first, 0, 'latin1');
  joined.set(bytes, 20);
  return digestOf(joined.subarray(0, length));
}

/**
 * The last context bytes outside the register block hashed for each thread (by tid, in 256
 * slots: a slot shared by two threads only misses) and their digest. Those 5 KB (segments,
 * control and FPU state) rarely change while the registers do: comparing them with the last ones
 * costs far less than hashing them again. A rewind across a thread's start or end makes new Thread
 * objects, hence the tid.
 */
const restDigests: ({ bytes: Uint8Array; digest: Digest } | undefined)[] = new Array(256);

function restDigest(t: Thread, bytes: Uint8Array, block: { begin: number; end: number }): Digest {
  const last = restDigests[t.tid & 255];
  if (last && (last.bytes === bytes || (sameRange(last.bytes, bytes, 0, block.begin) && sameRange(last.bytes, bytes, block.end, bytes.length)))) return last.digest;
  const digest = digestOf(Buffer.concat([bytes.subarray(0, block.begin), bytes.subarray(block.end)]));
  // Exported context bytes are never changed (Emulator.exportContext): keeping them is safe.
  restDigests[t.tid & 255] = { bytes, digest };
  return digest;
}

const sameRange = (a: Uint8Array, b: Uint8Array, from: number, to: number): boolean => a.length === b.length && Buffer.compare(a.subarray(from, to), b.subarray(from, to)) === 0;

function memoryPart(machine: Machine, rsps: readonly (Address | null)[], fills: Fills): MemoryPart {
  let text = '';
  for (const p of machine.processes) text += memoryDigest(copyMemory(p.emu), deadStack(machine.allThreads(), p, rsps), p === machine.processes[0] ? fills : NO_FILLS);
  return { digest: digestOf(text), rsps };
}

/** Entries keyed by distinct addresses, in address order. */
const byAddress = (a: readonly [Address, unknown], b: readonly [Address, unknown]): number => (a[0] < b[0] ? -1 : 1);

function kernelPart(machine: Machine, tables: RseqTables, k: ReturnType<Machine['kernelState']>, regs: RegisterReads, rule: ScratchBytes | null): KernelPart {
  const threads = machine.allThreads();
  const attempts = new Map(threads.map((t) => [t.tid, t.attempt]));
  const awaiting = new Map(k.awaiting);
  // Only a thread with an event waiting for its return to user space can be about to abort.
  const pending = threads.flatMap((t) => (t.notifyResume && t.eventMask !== 0 ? [pendingAbort(machine, tables, t, regs.of(t), awaiting.get(t.tid) ?? [], () => regs.fixupOf(t))] : [])).filter((p): p is PendingAbort => p !== null);
  const scratch = rule ? rule.scratch(k.lastStores, new Set(pending.map((p) => p.tid))) : [];
  const fills = objectList<readonly [Address, number]>();
  for (const x of scratch) fills.push([x, rule!.initial(x)!]);
  const unmarked = new Set(scratch);
  // The last store to each shared byte, reduced to what can still change a verdict: aborted, or
  // belonging to its thread's open attempt (which an abort would mark). Others count as no store;
  // so do scratch bytes.
  // Each as its address and -1 (aborted) or the thread's tid, in address order.
  const stores: [Address, number][] = [];
  for (const [address, last] of k.lastStores) {
    if (unmarked.has(address)) continue;
    if (last.aborted) stores.push([address, -1]);
    else if (attempts.get(last.tid) === last.attempt) stores.push([address, last.tid]);
  }
  stores.sort(byAddress);
  // Aborts count only by the findings the judge would make of them (checkAborts, the `table` kind).
  const open = new Set(k.awaiting.flatMap(([, rs]) => rs));
  const decided = machine.events().filter((e) => !open.has(e) && e.outcome === 'aborted');
  const aborts = new Set(decided.length ? checkAborts({ events: decided }, tables, machine.image).map((f) => f.message) : []);
  const normal = new Map(pending.map((p) => [p.tid, p]));
  const leftoverDead = leftoverMaskIsDead(machine);
  const parts = [
    k.queues, k.policy,
    k.awaiting.map(([tid, rs]) => [tid, rs.map((r) => [r.kind, r.spec, normal.has(tid) ? 'abort' : r.ip])]),
    pending.map((p) => [p.tid, p.descriptor, p.abortIp]),
    [...aborts].sort(), stores,
    machine.processes.map((p) => [p.pid, p.parent?.pid ?? null, [...p.sigactions].sort((a, b) => a[0] - b[0]), p.membarrierRseqRegistered, p.exitStatus, p.cids.save()]),
    threads.map((t) => threadFields(t, leftoverDead, unmarked)),
  ];
  return { digest: digestOf(canonical.bytesOf(parts)), pending, fills };
}
