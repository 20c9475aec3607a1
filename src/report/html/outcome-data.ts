// The outcome map's data: for each instruction of each critical section, what the kernel model does
// when a preemption, a migration or a signal comes before it. Every cell comes from the model — a
// run with that one event (`run --event`), or, where nothing can run (check), the model's own fix-up
// decision for a thread stopped there with the section's descriptor in rseq_cs.
import { sectionAt, type Image } from '../../asm/image.js';
import { RseqField, RSEQ_AREA_SIZE, RSEQ_SIG, type MemoryReader } from '../../abi/rseq.js';
import type { CriticalSection, RseqTables } from '../../abi/tables.js';
import { imageMemory } from '../../check/kernel-verdict.js';
import type { EventAction, EventSpec } from '../../kernel/event-spec.js';
import type { Machine } from '../../kernel/machine.js';
import type { EventOutcome, EventRecord } from '../../kernel/outcome.js';
import type { Profile } from '../../kernel/profile.js';
import { decideFixup, fixupRules, insideSection } from '../../kernel/rseq-fixup.js';
import { RseqEvent } from '../../kernel/thread.js';
import { hex, type Address } from '../../types.js';
import { SectionMarks } from '../annotate.js';
import { describeSignature, listingRows, type ListingRow } from '../listing.js';

export const EVENT_KINDS = ['preempt', 'migrate', 'signal'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** What the model did; `unreached`: no thread got there; `n/a`: the event cannot happen (one CPU). */
export type CellOutcome = EventOutcome | 'unreached' | 'n/a';

export interface OutcomeCell {
  outcome: CellOutcome;
  /** Where the thread resumed, after an abort. */
  resumeIp?: Address;
  reason?: string;
  /** The event that was run (`migrate:1@0x40001c`), when the cell comes from a run. */
  spec?: string;
}

export interface MapRow extends ListingRow {
  cells: Record<EventKind, OutcomeCell>;
}

export interface SectionMap {
  index: number;
  cs: CriticalSection;
  commit: Address | null;
  signature: string;
  rows: MapRow[];
  /** The instruction at the post-commit address, outside the section: where a misplaced commit shows. */
  after: MapRow | null;
}

/** What the kernel model does for an event of `kind` before the instruction at `address`. */
export type EventProbe = (kind: EventKind, address: Address) => OutcomeCell;

const SIGUSR1 = 10;

/** The section's instructions, and the one at its post-commit address. */
function sectionRows(image: Image, cs: CriticalSection, marks: SectionMarks): { inside: ListingRow[]; after: ListingRow | null } {
  const s = sectionAt(image, cs.startIp);
  if (!s || !s.flags.exec) return { inside: [], after: null };
  const rows = listingRows(image, s, marks).filter((r) => r.kind === 'instruction');
  return { inside: rows.filter((r) => insideSection(r.address, cs)), after: rows.find((r) => r.address === cs.postCommitIp) ?? null };
}

/** Every section's map, asking `probeFor(section)` about each of its instructions. */
export function sectionMaps(image: Image, tables: RseqTables, probeFor: (cs: CriticalSection) => EventProbe): SectionMap[] {
  const marks = new SectionMarks(image, tables.sections);
  return tables.sections.map((cs, index) => {
    const ask = probeFor(cs);
    const probed = (r: ListingRow): MapRow => ({ ...r, cells: Object.fromEntries(EVENT_KINDS.map((k) => [k, ask(k, r.address)])) as Record<EventKind, OutcomeCell> });
    const { inside, after } = sectionRows(image, cs, marks);
    return {
      index,
      cs,
      commit: marks.commitOf(cs),
      signature: describeSignature(image, cs),
      rows: inside.map(probed),
      after: after && probed(after),
    };
  });
}

const cellOf = (spec: string, e: EventRecord | undefined): OutcomeCell =>
  e === undefined ? { outcome: 'unreached', spec } : { outcome: e.outcome, spec, ...(e.outcome === 'aborted' ? { resumeIp: e.resumeIp } : {}), ...(e.reason !== undefined ? { reason: e.reason } : {}) };

/**
 * Cells from runs: `run` builds a fresh machine and runs it with the given events. A migration
 * goes to the CPU after the one the thread is on there (found by the preemption's run).
 */
export function runProbe(cpus: number, run: (events: EventSpec[]) => { events: readonly EventRecord[] }): EventProbe {
  const cpuAt = new Map<Address, number>();
  const specOf = (action: EventAction, address: Address) => `${action.kind === 'migrate' ? `migrate:${action.cpu}` : action.kind}@${hex(address)}`;
  const fire = (action: EventAction, address: Address): OutcomeCell => {
    const text = specOf(action, address);
    const e = run([{ action, place: { at: 'address', address }, text }]).events.find((x) => x.spec === text);
    if (e && action.kind === 'preempt') cpuAt.set(address, e.cpu); // a preemption leaves the thread where it was
    return cellOf(text, e);
  };
  const cpuOf = (address: Address): number | undefined => {
    if (!cpuAt.has(address)) fire({ kind: 'preempt' }, address);
    return cpuAt.get(address);
  };
  return (kind, address) => {
    if (kind === 'preempt') return fire({ kind: 'preempt' }, address);
    if (kind === 'signal') return fire({ kind: 'signal', signal: SIGUSR1 }, address);
    if (cpus < 2) return { outcome: 'n/a', reason: 'one CPU: nowhere to migrate' };
    const from = cpuOf(address);
    if (from === undefined) return { outcome: 'unreached' };
    return fire({ kind: 'migrate', cpu: (from + 1) % cpus }, address);
  };
}

/** A probe that runs a fresh machine from `make` for each event; `go` runs it. */
export function machineProbe<T extends { events: readonly EventRecord[] }>(cpus: number, make: () => Machine, go: (m: Machine, events: EventSpec[]) => T): EventProbe {
  return runProbe(cpus, (events) => {
    const m = make();
    try {
      return go(m, events);
    } finally {
      m.close();
    }
  });
}

/** Where the static probe's stand-in rseq area lives: above every image, below TASK_SIZE. */
const AREA: Address = 0x7ffe_0000_0000n;

/**
 * Cells without running: the model's fix-up decision for a thread whose rseq_cs holds the section's
 * descriptor, stopped before the instruction with the event pending (what `check` can show).
 */
export function armedProbe(image: Image, cs: CriticalSection, profile: Profile, sig = RSEQ_SIG): EventProbe {
  const area = new Uint8Array(RSEQ_AREA_SIZE);
  new DataView(area.buffer).setBigUint64(RseqField.rseqCs, cs.descriptor, true);
  const backing = imageMemory(image);
  const mem: MemoryReader = {
    read: (address, length) => (address >= AREA && address + BigInt(length) <= AREA + BigInt(RSEQ_AREA_SIZE) ? area.subarray(Number(address - AREA), Number(address - AREA) + length) : backing.read(address, length)),
  };
  return (kind, ip) => {
    const d = decideFixup(mem, { area: AREA, sig, ip, eventMask: RseqEvent[kind] }, fixupRules(profile));
    switch (d.kind) {
      case 'clear':
        return { outcome: 'cleared' };
      case 'none':
        return { outcome: 'none' };
      case 'abort':
        return { outcome: 'aborted', resumeIp: d.abortIp };
      case 'sigsegv':
        return { outcome: 'sigsegv', reason: d.reason };
    }
  };
}

/** Static maps: each section probed with its own descriptor armed. */
export function armedSectionMaps(image: Image, tables: RseqTables, profile: Profile, sig = RSEQ_SIG): SectionMap[] {
  return sectionMaps(image, tables, (cs) => armedProbe(image, cs, profile, sig));
}
