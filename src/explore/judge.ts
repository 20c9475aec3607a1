// What is wrong with one finished run, if anything: a thread killed by a signal, an abort the
// tables do not explain, a livelock, a result no serial order gives, a failed invariant.
import type { Image } from '../asm/image.js';
import { u64Words } from '../abi/rseq.js';
import type { RseqTables } from '../abi/tables.js';
import { checkAborts } from '../check/runtime.js';
import type { Machine, RunSummary } from '../kernel/machine.js';
import type { Invariant } from '../scenario/scenario.js';
import { sharedMemory, type SerialOracle, type SerialOutcome, type SharedMemory } from './oracle.js';

export type ViolationKind = 'not-serializable' | 'signal' | 'table' | 'livelock' | 'invariant';

export interface Violation {
  kind: ViolationKind;
  /** Replays the run: `rseq-emu run SCENARIO --schedule '…'`. */
  schedule: string;
  message: string;
  /** For not-serializable: the serial outcome whose memory is closest. */
  closest?: SerialOutcome;
}

/** A user invariant over the final state (TS API); returns a message when it fails. */
export type InvariantFn = (state: { memory: SharedMemory[]; returns: bigint[][]; machine: Machine }) => string | null;

function scenarioInvariant(inv: Invariant, memory: SharedMemory[]): string | null {
  const region = memory.find((m) => m.name === inv.region);
  if (!region) return `invariant on '${inv.region}': no such region`;
  const words = u64Words(region.bytes);
  if ('sum64' in inv) {
    const sum = BigInt.asUintN(64, words.reduce((a, b) => a + b, 0n));
    return sum === BigInt.asUintN(64, inv.sum64) ? null : `sum of ${inv.region} is ${sum}, expected ${inv.sum64}`;
  }
  const differs = inv.equals64.findIndex((w, i) => BigInt.asUintN(64, w) !== words[i]);
  return differs < 0 ? null : `${inv.region}[${differs}] is ${words[differs]}, expected ${inv.equals64[differs]}`;
}

export interface JudgeInput {
  machine: Machine;
  /** The run (Machine.summary; a MachineOutcome has all it needs too). */
  outcome: RunSummary;
  oracle: SerialOracle;
  image: Image;
  tables: RseqTables;
  invariants: readonly Invariant[];
  checks: readonly InvariantFn[];
}

export function judgeRun({ machine, outcome, oracle, image, tables, invariants, checks }: JudgeInput): Violation[] {
  const found: Violation[] = [];
  for (const t of outcome.threads) {
    if (t.end && (t.end.status === 'signal' || t.end.status === 'fault') && !t.end.reason?.startsWith('process killed:')) {
      found.push({ kind: 'signal', schedule: outcome.schedule, message: `T${t.tid} ${t.end.signal}: ${t.end.reason}` });
    }
  }
  if (outcome.status !== 'completed') {
    found.push({ kind: 'livelock', schedule: outcome.schedule, message: outcome.status === 'limit' ? `instruction budget exhausted (${outcome.instructions} instructions)` : outcome.warnings.find((w) => w.startsWith('deadlock')) ?? 'deadlock' });
  }
  // The runtime half of `check`: every abort must go through a listed descriptor to its abort_ip.
  for (const f of checkAborts(outcome, tables, image)) found.push({ kind: 'table', schedule: outcome.schedule, message: f.message });
  if (found.length) return found; // a killed or stuck run has no serial counterpart to compare with
  const memory = sharedMemory(machine);
  const returns = outcome.threads.map((t) => t.returns);
  const placements = outcome.threads.map((t) => t.callIds);
  const verdict = oracle.judge(memory, returns, placements, machine.abortedStores());
  if (!verdict.ok) {
    const closest = verdict.closest;
    found.push({
      kind: 'not-serializable',
      schedule: outcome.schedule,
      message: closest ? `final state matches no serial order; closest: ${describeOrder(closest)}; ${describeDiff(memory, closest, returns)}` : 'no serial order of these operations completes',
      ...(closest ? { closest } : {}),
    });
  }
  for (const inv of invariants) {
    const problem = scenarioInvariant(inv, memory);
    if (problem) found.push({ kind: 'invariant', schedule: outcome.schedule, message: problem });
  }
  for (const check of checks) {
    const problem = check({ memory, returns: returns.map((r) => [...r]), machine });
    if (problem) found.push({ kind: 'invariant', schedule: outcome.schedule, message: problem });
  }
  return found;
}

/** `T1#1@cpu0 → …`, with each call's mm_cid (`@cpu0/cid1`) when some call ran with a nonzero one. */
export function describeOrder(s: SerialOutcome): string {
  const cids = s.order.some((o) => o.mmCid !== 0);
  return s.order.map((o) => `T${o.thread + 1}#${o.call + 1}@cpu${o.cpu}${cids ? `/cid${o.mmCid}` : ''}`).join(' → ');
}

/** The words of shared memory, and the return values, that differ from a serial outcome. */
export function describeDiff(memory: SharedMemory[], serial: SerialOutcome, returns: readonly (readonly bigint[])[]): string {
  const parts: string[] = [];
  memory.forEach((m, i) => {
    const want = u64Words(serial.memory[i]!.bytes);
    u64Words(m.bytes).forEach((w, k) => {
      if (w !== want[k]) parts.push(`${m.name}[${k}] = ${w}, serially ${want[k]}`);
    });
  });
  returns.forEach((r, t) => r.forEach((v, c) => {
    if (serial.returns[t]?.[c] !== v) parts.push(`T${t + 1} call ${c + 1} returned ${BigInt.asIntN(64, v)}, serially ${BigInt.asIntN(64, serial.returns[t]?.[c] ?? 0n)}`);
  }));
  return parts.join(', ') || 'no difference in words or returns';
}
