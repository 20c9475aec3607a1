// The generic correctness oracle: a concurrent run is correct when its final shared memory and
// every operation's return value equal those of *some* serial order of the same operations, each
// run alone and uninterrupted — the per-CPU atomicity rseq exists to give. An operation is one call
// of a thread's entry function; serial orders keep each thread's calls in program order, and run
// each call with one of the sets of ids (cpu_id, node_id, mm_cid) it observed in the concurrent
// run: per-CPU data is indexed by whichever id the operation read.
import type { Image } from '../asm/image.js';
import type { Machine, MachineSnapshot } from '../kernel/machine.js';
import type { Profile } from '../kernel/profile.js';
import type { RseqIds } from '../kernel/thread.js';
import type { Scenario } from '../scenario/scenario.js';
import { instantiate, resolveArg } from '../scenario/setup.js';
import { findSymbol } from '../asm/image.js';
import type { Address, CpuId } from '../types.js';
import { DeadByteProbe } from './dead-bytes.js';
import { Observability, unionMasks, type ObserveSpec } from './observable.js';

/** The memory a correctness check compares: scenario regions and the image's writable sections. */
export interface SharedMemory {
  name: string;
  address: Address;
  bytes: Uint8Array;
}

export interface SerialOutcome {
  /** Thread index and call number of each operation, in the serial order, and the ids it ran with. */
  order: { thread: number; call: number; cpu: CpuId; mmCid: number }[];
  memory: SharedMemory[];
  /** returns[thread][call]. */
  returns: bigint[][];
}

export interface Verdict {
  ok: boolean;
  /** When not ok: the serial outcome closest to the concurrent one (fewest differing bytes). */
  closest: SerialOutcome | null;
}

interface Op {
  entry: Address;
  args: bigint[];
}

/** For each thread and call, the ids it may be replayed with. */
export type CallPlacements = readonly (readonly (readonly RseqIds[])[])[];

/** Placements from CPU masks (per thread, per call), each with the mm_cid a lone thread gets (0). */
export function onCpus(masks: readonly (readonly bigint[])[], cpus = 64): RseqIds[][][] {
  return masks.map((calls) => calls.map((mask) => {
    const out: RseqIds[] = [];
    for (let cpu = 0; cpu < cpus; cpu++) if ((mask >> BigInt(cpu)) & 1n) out.push({ cpu, node: 0, mmCid: 0 });
    return out;
  }));
}

const ON_CPU0: readonly RseqIds[] = [{ cpu: 0, node: 0, mmCid: 0 }];

export function sharedMemory(machine: Machine): SharedMemory[] {
  const out: SharedMemory[] = [];
  for (const [name, r] of machine.regions) out.push({ name, address: r.address, bytes: machine.emu.read(r.address, r.size) });
  for (const s of machine.image.sections) {
    if (s.flags.write && s.bytes.length && !s.name.startsWith('__rseq_')) out.push({ name: s.name, address: s.address, bytes: machine.emu.read(s.address, s.bytes.length) });
  }
  return out;
}

/**
 * Bytes where a concurrent state differs from a serial one. Where a region's observable bytes are
 * declared (`masks`), only those count. Elsewhere the default rule applies to bytes whose last store
 * was a try-store of an aborted section attempt (`excused`): at places the serial order leaves as
 * they started they do not count (data past a committed count); at others they are `leftovers`,
 * which count unless DeadByteProbe proves them unobservable. Any other difference is `strict`.
 */
function differences(concurrent: SharedMemory[], serial: SharedMemory[], initial: SharedMemory[], excused: ReadonlySet<Address>, masks: readonly (Uint8Array | null)[]): { strict: number; leftovers: Address[] } {
  let strict = 0;
  const leftovers: Address[] = [];
  concurrent.forEach((m, i) => {
    const s = serial[i]!.bytes;
    // Most regions are equal whole: one comparison instead of a call per byte.
    if (Buffer.compare(m.bytes, s) === 0) return;
    const init = initial[i]!.bytes;
    const mask = masks[i];
    m.bytes.forEach((x, j) => {
      if (x === s[j]) return;
      const at = m.address + BigInt(j);
      if (mask) strict += mask[j]!;
      else if (!excused.has(at)) strict++;
      else if (s[j] !== init[j]) leftovers.push(at);
    });
  });
  return { strict, leftovers };
}
const key = (m: SharedMemory[]) => m.map((r) => Buffer.from(r.bytes).toString('base64')).join('|');

/**
 * Serial executions on a machine of their own: the scenario's memory, no threads; each operation
 * is a `call` on it, rewound with snapshots so every order starts where its prefix left off.
 */
export class SerialOracle {
  private readonly machine: Machine;
  private readonly start: MachineSnapshot;
  /** Shared memory before any operation, for excusing leftover try-stores. */
  private readonly initial: SharedMemory[];
  private readonly ops: Op[][];
  /** Serial outcomes already computed, by the id choices they allow. */
  private readonly cache = new Map<string, { found: SerialOutcome[]; complete: boolean }>();
  /** What one operation does from a state (operations run so far and shared memory), by placement. */
  private readonly transitions = new Map<string, { returned: boolean; rax: bigint; memory: SharedMemory[] }>();
  private readonly observability: Observability;
  private readonly serialMasks = new WeakMap<SerialOutcome, (Uint8Array | null)[]>();
  private readonly probe: DeadByteProbe;
  /** The serial outcome the last judged run matched; null when it matched none (scratch-bytes.ts reads it). */
  lastMatched: SerialOutcome | null = null;

  /** `observe` (the TS API's declarations) overrides the scenario's `observe` region by region. */
  constructor(image: Image, scenario: Scenario, profile: Profile, observe: Record<string, ObserveSpec> = {}) {
    this.machine = instantiate(image, { ...scenario, threads: [] }, profile);
    this.ops = scenario.threads.map((t) => {
      const entry = findSymbol(image, t.entry)!.address;
      const args = t.args.map((a) => resolveArg(a, this.machine, image));
      return Array.from({ length: t.repeat }, () => ({ entry, args }));
    });
    this.start = this.machine.capture();
    this.initial = sharedMemory(this.machine);
    this.observability = new Observability({ ...scenario.observe, ...observe }, scenario.cpus, this.initial.map((m) => m.name));
    const distinct = new Map(this.ops.flat().map((op) => [`${op.entry}(${op.args.join(',')})`, op]));
    this.probe = new DeadByteProbe(image, scenario, profile, [...distinct.values()]);
  }

  close(): void {
    this.machine.close();
    this.probe.close();
  }

  private masksOf(s: SerialOutcome): (Uint8Array | null)[] {
    let m = this.serialMasks.get(s);
    if (!m) this.serialMasks.set(s, (m = this.observability.masks(s.memory)));
    return m;
  }

  /**
   * Every distinct outcome of a serial order in which call c of thread t runs with one of the ids
   * in placements[t][c] (on that CPU, with that mm_cid). Outcomes reached by several orders are kept once.
   */
  outcomes(placements: CallPlacements): SerialOutcome[] {
    return [...this.serialOutcomes(placements)];
  }

  /**
   * The same outcomes, computed only as far as the first caller reads: a judge that finds a match
   * early leaves the other orders unrun (a small search may judge one schedule). What was computed
   * is kept. An abandoned enumeration is not kept suspended (it would hold a snapshot per level for
   * every placement seen): a later caller that needs more runs it to its end at once, skipping what
   * is known, as the order is fixed.
   */
  private *serialOutcomes(placements: CallPlacements): Generator<SerialOutcome> {
    const cacheKey = placements.map((t) => t.map((c) => c.map((p) => `${p.cpu}/${p.mmCid}`).join(',')).join(';')).join('|');
    let entry = this.cache.get(cacheKey);
    if (!entry) this.cache.set(cacheKey, (entry = { found: [], complete: false }));
    const known = entry.found.length;
    for (let i = 0; i < known; i++) yield entry.found[i]!;
    if (entry.complete) return;
    if (known > 0) {
      // A second caller needing more than the first: the rest is enumerated whole now, so no later
      // leaf runs the orders again (re-enumerating from the start took most of a judge's time).
      let skip = known;
      for (const s of this.enumerate(placements)) if (skip-- <= 0) entry.found.push(s);
      entry.complete = true;
      for (let i = known; i < entry.found.length; i++) yield entry.found[i]!;
      return;
    }
    for (const s of this.enumerate(placements)) {
      entry.found.push(s);
      yield s;
    }
    entry.complete = true;
  }

  /**
   * Depth-first over serial orders; states already explored with the same remaining work are
   * skipped. A state is the operations run so far and the shared memory, and what one operation
   * does from a state is kept across enumerations (`transitions`): placements differ from leaf to
   * leaf, but they share most steps, and running each step once instead of once per placement
   * took the judge's cost down by most of it. The machine is only brought to a state when a step
   * from it is not known yet: from the deepest snapshot on the current path, replaying the steps
   * after it. Enumerations of different placements may interleave on the one machine, which is
   * safe because every step starts by restoring a snapshot.
   */
  private *enumerate(placements: CallPlacements): Generator<SerialOutcome> {
    const seen = new Set<string>();
    const next = this.ops.map(() => 0);
    const order: SerialOutcome['order'] = [];
    const returns: bigint[][] = this.ops.map(() => []);
    const visited = new Set<string>();
    const machine = this.machine;
    const ops = this.ops;
    const transitions = this.transitions;
    // The steps taken to the current state, and snapshots of the states along them (sparse).
    const path: { op: Op; cpu: CpuId; mmCid: number }[] = [];
    const snapshots: (MachineSnapshot | undefined)[] = [this.start];
    const bring = (depth: number): void => {
      let d = depth;
      while (snapshots[d] === undefined) d--;
      machine.restore(snapshots[d]!);
      for (; d < depth; d++) machine.call(path[d]!.op.entry, path[d]!.op.args, { cpu: path[d]!.cpu, mmCid: path[d]!.mmCid });
      snapshots[depth] = machine.capture();
    };
    function* dfs(memory: SharedMemory[], depth: number): Generator<SerialOutcome> {
      const memoryKey = key(memory);
      const stateKey = `${next.join(',')}#${memoryKey}#${returns.map((r) => r.join(',')).join(';')}`;
      if (visited.has(stateKey)) return;
      visited.add(stateKey);
      if (next.every((n, t) => n === ops[t]!.length)) {
        const k = `${memoryKey}#${returns.map((r) => r.join(',')).join(';')}`;
        if (!seen.has(k)) {
          seen.add(k);
          yield { order: [...order], memory, returns: returns.map((r) => [...r]) };
        }
        return;
      }
      for (let t = 0; t < ops.length; t++) {
        const c = next[t]!;
        if (c === ops[t]!.length) continue;
        for (const { cpu, mmCid } of placements[t]?.[c] ?? ON_CPU0) {
          if (cpu >= machine.cpus) continue;
          const op = ops[t]![c]!;
          const stepKey = `${next.join(',')}#${memoryKey}#${t}#${cpu}#${mmCid}`;
          let step = transitions.get(stepKey);
          if (!step) {
            bring(depth);
            const out = machine.call(op.entry, op.args, { cpu, mmCid });
            step = { returned: out.status === 'returned', rax: out.rax, memory: sharedMemory(machine) };
            transitions.set(stepKey, step);
          }
          if (!step.returned) continue; // an operation that cannot complete alone gives no serial outcome
          path[depth] = { op, cpu, mmCid };
          snapshots.length = depth + 1; // states below were reached by another step
          next[t]!++;
          order.push({ thread: t, call: c, cpu, mmCid });
          returns[t]!.push(step.rax);
          yield* dfs(step.memory, depth + 1);
          returns[t]!.pop();
          order.pop();
          next[t]!--;
        }
      }
    }
    yield* dfs(this.initial, 0);
  }

  /** How `memory` differs from serial outcome `s`'s, bytes in `excused` aside; `own`: `memory`'s observability masks. */
  private differencesFrom(s: SerialOutcome, memory: SharedMemory[], excused: ReadonlySet<Address>, own: ReturnType<Observability['masks']>) {
    return differences(memory, s.memory, this.initial, excused, unionMasks(own, this.masksOf(s)));
  }

  /** Checks a concurrent outcome against every serial one; `excused` are bytes last stored by aborted attempts. */
  judge(memory: SharedMemory[], returns: readonly (readonly bigint[])[], placements: CallPlacements, excused: ReadonlySet<Address> = new Set()): Verdict {
    const own = this.observability.masks(memory);
    this.lastMatched = null;
    for (const s of this.serialOutcomes(placements)) {
      if (!sameReturns(s, returns)) continue;
      const d = this.differencesFrom(s, memory, excused, own);
      if (d.strict === 0 && (d.leftovers.length === 0 || this.probe.unobservable(s.memory, d.leftovers))) {
        this.lastMatched = s;
        return { ok: true, closest: null };
      }
    }
    // No match: every serial outcome is known now.
    let closest: SerialOutcome | null = null;
    let best = Infinity;
    for (const s of this.outcomes(placements)) {
      const d = this.differencesFrom(s, memory, excused, own);
      const n = d.strict + d.leftovers.length + (sameReturns(s, returns) ? 0 : 1);
      if (n < best) {
        best = n;
        closest = s;
      }
    }
    return { ok: false, closest };
  }
}

/** Whether serial outcome `s` returned `returns`, call by call. */
const sameReturns = (s: SerialOutcome, returns: readonly (readonly bigint[])[]): boolean => s.returns.every((r, t) => r.length === returns[t]!.length && r.every((v, c) => v === returns[t]![c]));
