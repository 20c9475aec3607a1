// setup/*: what has to happen before and at the start of a section. The descriptor must be stored
// into rseq_cs by the instruction right before the section (entries.ts says why), never inside
// one; and whatever the section relies on that was read before it — the cpu number, per-CPU data —
// must be compared again inside it, because an event between that read and the section is not an
// abort (the IP was outside).
import type { Image } from '../../asm/image.js';
import type { Operand } from '../../asm/operands.js';
import type { CriticalSection } from '../../abi/tables.js';
import { RseqField } from '../../abi/rseq.js';
import { insideSection } from '../../kernel/rseq-fixup.js';
import { hex, type Address } from '../../types.js';
import { CPU_FIELDS, siteKey, type ArmingStore, type Dataflow } from '../dataflow.js';
import type { SectionEntry } from '../entries.js';
import { finding, place, type Finding } from '../finding.js';
import { registersRead, storeSource, storeTarget, type Instruction } from '../instruction.js';
import type { ProgramGraph } from '../program-graph.js';

const isCompare = (ins: Instruction) => /^cmp(?!xchg)/.test(ins.mnemonic) && ins.operands?.length === 2;

/** The first of a value's read sites that lies outside the section: it was read before the section. */
const before = (sites: readonly Address[], inside: (a: Address) => boolean): Address | undefined => sites.find((s) => !inside(s));

/** Whether an operand reads a cpu number now: from the rseq area, or through a register loaded from it inside the section. */
function freshCpu(flow: Dataflow, ins: Instruction, op: Operand, inside: (a: Address) => boolean): boolean {
  if (op.kind === 'mem') {
    const c = flow.classify(ins, op);
    return c.kind === 'rseq' && CPU_FIELDS.has(c.field);
  }
  const v = op.kind === 'reg' ? flow.value(ins, op.reg) : null;
  return v?.kind === 'cpu' && v.sites.every(inside);
}

/** Whether an operand reads memory now: directly, or through a register loaded from per-CPU memory inside the section. */
function freshData(flow: Dataflow, ins: Instruction, op: Operand, inside: (a: Address) => boolean): boolean {
  if (op.kind === 'mem') return flow.classify(ins, op).kind !== 'rseq';
  const v = op.kind === 'reg' ? flow.value(ins, op.reg) : null;
  return v?.kind === 'per-cpu' && v.sites.every(inside);
}

/**
 * The read sites (of a cpu number, or of per-CPU data) that `ins`, a compare inside the section,
 * checks against a fresh read: the cpu against the rseq area, the data against memory.
 */
function comparedSites(flow: Dataflow, ins: Instruction, inside: (a: Address) => boolean): string[] {
  if (!isCompare(ins)) return [];
  const [x, y] = ins.operands as [Operand, Operand];
  const out: string[] = [];
  for (const [a, b] of [[x, y], [y, x]] as const) {
    if (a.kind !== 'reg') continue;
    const v = flow.value(ins, a.reg);
    if (v.kind === 'cpu' && before(v.sites, inside) !== undefined && freshCpu(flow, ins, b, inside)) out.push(siteKey(v));
    if (v.kind === 'per-cpu' && before(v.sites, inside) !== undefined && freshData(flow, ins, b, inside)) out.push(siteKey(v));
  }
  return out;
}

/** For each instruction of the section, the read sites compared on every path from the section's entry up to and including it. */
function comparedOnEveryPath(graph: ProgramGraph, flow: Dataflow, cs: CriticalSection): Map<Address, Set<string>> {
  const inside = (a: Address) => insideSection(a, cs);
  const body = graph.between(cs.startIp, cs.postCommitIp);
  const after = new Map<Address, Set<string>>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const ins of body) {
      const preds = graph.predecessors(ins.address);
      let acc: Set<string> | null = graph.roots.has(ins.address) || preds.some((p) => !inside(p)) ? new Set() : null;
      for (const p of preds) {
        const o = after.get(p);
        if (!inside(p) || o === undefined) continue; // a predecessor not reached yet adds no constraint
        acc = acc === null ? new Set(o) : new Set([...acc].filter((s) => o.has(s)));
      }
      if (acc === null) continue;
      for (const s of comparedSites(flow, ins, inside)) acc.add(s);
      const old = after.get(ins.address);
      if (old === undefined || old.size !== acc.size) {
        after.set(ins.address, acc);
        changed = true;
      }
    }
  }
  return after;
}

const fieldName = (field: number) => CPU_FIELDS.get(field) ?? `offset ${field}`;

/** What the section must compare a value read early with, and what goes unnoticed without it. */
const staleBy = (field: number): string =>
  field === RseqField.mmCid
    ? 'mm_cid: a migration or a change of concurrency id between that read and the section goes unnoticed'
    : field === RseqField.nodeId
      ? 'node_id: a migration to another node between that read and the section goes unnoticed'
      : 'cpu_id: a migration between that read and the section goes unnoticed';

export function setupRules(image: Image, graph: ProgramGraph, flow: Dataflow, sections: readonly CriticalSection[], entries: readonly SectionEntry[], arming: readonly ArmingStore[]): Finding[] {
  const out: Finding[] = [];
  for (const e of entries) {
    const d = place(image, e.section.descriptor);
    if (e.kind === 'gap' && e.from) {
      out.push(finding(image, 'setup/arm-gap', e.from.address, `\`${e.from.text}\` runs after descriptor ${d} is stored into rseq_cs and before the section at ${place(image, e.to.address)}: a preemption here makes the kernel clear rseq_cs (the IP is outside), and the section then runs unprotected`));
    } else if (e.kind === 'unarmed') {
      out.push(
        e.from
          ? finding(image, 'setup/unarmed-entry', e.from.address, `\`${e.from.text}\` enters the section at ${place(image, e.to.address)} without storing descriptor ${d} into rseq_cs first: that pass is unprotected`)
          : finding(image, 'setup/unarmed-entry', e.to.address, `${place(image, e.to.address)}, inside the section of descriptor ${d}, is a function entry or call target: entering there skips the store into rseq_cs`),
      );
    }
  }
  for (const a of arming) {
    for (const cs of sections.filter((s) => insideSection(a.store.address, s))) {
      out.push(finding(image, 'setup/store-inside', a.store.address, `\`${a.store.text}\` stores descriptor ${place(image, a.descriptor)} into rseq_cs inside the section [${hex(cs.startIp)}, ${hex(cs.postCommitIp)}): it must be stored before the section starts`));
    }
  }
  for (const cs of sections) out.push(...readsBeforeSection(image, graph, flow, cs));
  return out;
}

/**
 * What the section relies on from before it: a cpu number that reaches a store without a compare
 * (a compare before the first store is enough: nothing is wrong until something is written), per-CPU
 * data stored without being compared again, and compares against cpu_id_start.
 */
function readsBeforeSection(image: Image, graph: ProgramGraph, flow: Dataflow, cs: CriticalSection): Finding[] {
  const out: Finding[] = [];
  const inside = (a: Address) => insideSection(a, cs);
  const body = graph.between(cs.startIp, cs.postCommitIp);
  const compared = comparedOnEveryPath(graph, flow, cs);
  const storesUnchecked = (key: string) => body.some((i) => storeTarget(i) !== null && compared.get(i.address)?.has(key) === false);
  const reported = new Set<string>();
  for (const ins of body) {
    const done = compared.get(ins.address);
    if (done === undefined) continue;
    for (const reg of registersRead(ins)) {
      const v = flow.value(ins, reg);
      const site = v.kind === 'cpu' ? before(v.sites, inside) : undefined;
      if (v.kind !== 'cpu' || site === undefined || done.has(siteKey(v)) || reported.has(siteKey(v)) || !storesUnchecked(siteKey(v))) continue;
      reported.add(siteKey(v));
      out.push(finding(image, 'setup/no-cpu-compare', ins.address, `\`${ins.text}\` uses %${reg}, computed from ${fieldName(v.field)} read at ${place(image, site)} before the section, and the section stores without first comparing it with ${staleBy(v.field)}`));
    }
    const src = storeSource(ins);
    const v = src === null || storeTarget(ins) === null ? null : flow.value(ins, src);
    const stale = v?.kind === 'per-cpu' ? before(v.sites, inside) : undefined;
    if (v?.kind === 'per-cpu' && stale !== undefined && !done.has(siteKey(v)) && !reported.has(siteKey(v))) {
      reported.add(siteKey(v));
      out.push(finding(image, 'setup/stale-load', stale, `\`${graph.at(stale)!.text}\` reads per-CPU memory before the section, and \`${ins.text}\` at ${place(image, ins.address)} stores a value computed from it inside the section without comparing it again: a preemption between the read and the section is not an abort, so another thread's update is lost`));
    }
    if (isCompare(ins) && readsCpuIdStart(flow, ins, inside)) {
      out.push(finding(image, 'setup/cpu-id-start', ins.address, `\`${ins.text}\` compares with cpu_id_start; compare with cpu_id (offset 4): cpu_id_start never says "not registered" (-1), so the check passes even when rseq is not registered`));
    }
  }
  return out;
}

/** Whether a compare reads cpu_id_start now: from the area, or through a register loaded from it inside the section. */
function readsCpuIdStart(flow: Dataflow, ins: Instruction, inside: (a: Address) => boolean): boolean {
  return (ins.operands ?? []).some((op) => {
    if (op.kind === 'mem') {
      const c = flow.classify(ins, op);
      return c.kind === 'rseq' && c.field === RseqField.cpuIdStart;
    }
    if (op.kind !== 'reg') return false;
    const v = flow.value(ins, op.reg);
    return v.kind === 'cpu' && v.field === RseqField.cpuIdStart && v.sites.every(inside);
  });
}
