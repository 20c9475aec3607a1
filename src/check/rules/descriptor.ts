// descriptor/*: what is wrong with a struct rseq_cs itself. The kernel's own checks come from the
// kernel model (kernel-verdict.ts); alignment, flags, emptiness, executable memory, instruction
// boundaries and overlaps are checked here because the kernel does not look at them (or, for
// flags, only once an event arrives inside the section).
import { sectionAt, type Image } from '../../asm/image.js';
import { RseqCsField, RSEQ_CS_FLAG_NO_RESTART_ON_MIGRATE, RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT, RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL, RSEQ_CS_SIZE } from '../../abi/rseq.js';
import type { CriticalSection } from '../../abi/tables.js';
import { partitionPoint } from '../../sorted.js';
import { hex, type Address } from '../../types.js';
import type { ArmingStore } from '../dataflow.js';
import { finding, place, type Finding, type RuleId } from '../finding.js';
import { kernelRejection } from '../kernel-verdict.js';
import type { ProgramGraph } from '../program-graph.js';

const FLAG_NAMES: [number, string][] = [
  [RSEQ_CS_FLAG_NO_RESTART_ON_PREEMPT, 'NO_RESTART_ON_PREEMPT'],
  [RSEQ_CS_FLAG_NO_RESTART_ON_SIGNAL, 'NO_RESTART_ON_SIGNAL'],
  [RSEQ_CS_FLAG_NO_RESTART_ON_MIGRATE, 'NO_RESTART_ON_MIGRATE'],
];

/** Whether [start, end) lies inside one executable section of the image. */
export function insideExecutable(image: Image, start: Address, end: Address): boolean {
  const s = sectionAt(image, start);
  return s !== undefined && s.flags.exec && end > start && end <= s.address + BigInt(s.bytes.length);
}

/** Sections whose code the other rule families can look at: non-empty and inside executable memory. */
export const analysable = (image: Image, cs: CriticalSection): boolean => insideExecutable(image, cs.startIp, cs.postCommitIp);

const field = (cs: CriticalSection, f: keyof typeof RseqCsField): Address => cs.descriptor + BigInt(RseqCsField[f]);

/** Where a kernel rejection points: the field the failed check read, or the signature bytes themselves. */
function rejectionAt(image: Image, cs: CriticalSection, rule: RuleId): Address {
  switch (rule) {
    case 'descriptor/version':
      return field(cs, 'version');
    case 'abort/inside':
      return field(cs, 'abortIp');
    case 'abort/signature':
      return sectionAt(image, cs.abortIp - 4n) ? cs.abortIp - 4n : field(cs, 'abortIp');
    default:
      return field(cs, 'startIp');
  }
}

export function descriptorRules(image: Image, graph: ProgramGraph, sections: readonly CriticalSection[], arming: readonly ArmingStore[], sig: number): Finding[] {
  const out: Finding[] = [];
  const at = (cs: CriticalSection) => `descriptor ${place(image, cs.descriptor)}`;
  for (const cs of sections) {
    if (cs.descriptor % BigInt(RSEQ_CS_SIZE) !== 0n) {
      out.push(finding(image, 'descriptor/misaligned', cs.descriptor, `${at(cs)} is not 32-byte aligned (struct rseq_cs is declared aligned(32))`));
    }
    if (cs.flags !== 0) {
      const names = FLAG_NAMES.filter(([bit]) => cs.flags & bit).map(([, n]) => n);
      const what = names.length ? names.join(' | ') : 'unknown bits';
      out.push(finding(image, 'descriptor/flags', field(cs, 'flags'), `${at(cs)} has flags 0x${cs.flags.toString(16)} (${what}): deprecated, and since Linux 6.1 an event inside the section kills the thread (SIGSEGV)`));
    }
    const rejected = kernelRejection(image, cs.descriptor, sig);
    if (rejected) {
      out.push(finding(image, rejected.rule, rejectionAt(image, cs, rejected.rule), `${at(cs)}: ${rejected.reason}; the kernel kills the thread (SIGSEGV) at the first event after rseq_cs points to it`));
    }
    if (cs.postCommitOffset === 0n) {
      out.push(finding(image, 'descriptor/empty', field(cs, 'postCommitOffset'), `${at(cs)} has post_commit_offset 0: no IP is ever inside the section, so it is never restarted`));
    } else if (!analysable(image, cs)) {
      out.push(finding(image, 'descriptor/not-executable', field(cs, 'startIp'), `${at(cs)}: the section [${hex(cs.startIp)}, ${hex(cs.postCommitIp)}) is not inside one executable section`));
    } else {
      if (graph.at(cs.startIp) === undefined) {
        out.push(finding(image, 'descriptor/boundary', field(cs, 'startIp'), `${at(cs)}: start_ip ${place(image, cs.startIp)} is not the start of an instruction`));
      }
      const last = graph.containing(cs.postCommitIp - 1n);
      if (last === undefined || last.next !== cs.postCommitIp) {
        out.push(finding(image, 'descriptor/boundary', field(cs, 'postCommitOffset'), `${at(cs)}: the post-commit address ${place(image, cs.postCommitIp)} is not the end of an instruction`));
      }
    }
  }
  // A section is reported once, at its descriptor, when it overlaps a section whose descriptor
  // comes earlier (every pair, as before, was n^2/2 findings for a filled table). Candidates are
  // scanned in start order from the first that reaches past the start, and the scan stops at the
  // first section that qualifies.
  const ranged = sections.filter((cs) => cs.postCommitOffset > 0n && cs.postCommitIp > cs.startIp);
  const byStart = [...ranged].sort((a, b) => (a.startIp < b.startIp ? -1 : a.startIp > b.startIp ? 1 : a.descriptor < b.descriptor ? -1 : 1));
  // reach[i]: the furthest end among byStart[0..i]; sections before the first reach past a start end before it.
  const reach: Address[] = [];
  byStart.forEach((cs, i) => reach.push(i > 0 && reach[i - 1]! > cs.postCommitIp ? reach[i - 1]! : cs.postCommitIp));
  for (const later of byStart) {
    for (let j = partitionPoint(byStart.length, (k) => reach[k]! <= later.startIp); j < byStart.length; j++) {
      const other = byStart[j]!;
      if (other.startIp >= later.postCommitIp) break;
      if (other.descriptor < later.descriptor && later.startIp < other.postCommitIp) {
        out.push(finding(image, 'descriptor/overlap', field(later, 'startIp'), `${at(later)}: its section [${hex(later.startIp)}, ${hex(later.postCommitIp)}) overlaps that of descriptor ${place(image, other.descriptor)} [${hex(other.startIp)}, ${hex(other.postCommitIp)})`));
        break;
      }
    }
  }
  // A store of an address that holds no descriptor at all: the kernel faults reading it.
  const known = new Set(sections.map((cs) => cs.descriptor));
  for (const a of arming) {
    if (known.has(a.descriptor)) continue;
    const rejected = kernelRejection(image, a.descriptor, sig);
    if (rejected) out.push(finding(image, rejected.rule, a.store.address, `\`${a.store.text}\` stores ${place(image, a.descriptor)} into rseq_cs: ${rejected.reason}; the kernel kills the thread (SIGSEGV) at the next event`));
  }
  return out;
}
