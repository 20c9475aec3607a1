// abort/*: the abort handler. Whether abort_ip is inside the section and whether the signature
// matches are the kernel's checks (reported by descriptor.ts through the kernel model); here: the
// form of the signature, abort_ip pointing at code, and the handler's way back into the section.
import { describeCarrier, signatureCarrier } from '../../abi/signature-form.js';
import { imageBytes, sectionAt, type Image } from '../../asm/image.js';
import { RseqCsField } from '../../abi/rseq.js';
import type { CriticalSection } from '../../abi/tables.js';
import type { SectionEntry } from '../entries.js';
import { finding, place, type Finding } from '../finding.js';
import type { ProgramGraph } from '../program-graph.js';

/** Whether the 4 bytes before abort_ip are the signature (the form is judged only then). */
function signatureMatches(image: Image, cs: CriticalSection, sig: number): boolean {
  const four = imageBytes(image, cs.abortIp - 4n, 4);
  return four !== null && new DataView(four.buffer, four.byteOffset, 4).getUint32(0, true) === sig >>> 0;
}

export function abortRules(image: Image, graph: ProgramGraph, sections: readonly CriticalSection[], entries: readonly SectionEntry[], sig: number): Finding[] {
  const out: Finding[] = [];
  for (const cs of sections) {
    const abortField = cs.descriptor + BigInt(RseqCsField.abortIp);
    if (!sectionAt(image, cs.abortIp)?.flags.exec) {
      out.push(finding(image, 'abort/not-executable', abortField, `descriptor ${place(image, cs.descriptor)}: abort_ip ${place(image, cs.abortIp)} is not in executable memory`));
    } else if (graph.at(cs.abortIp) === undefined) {
      out.push(finding(image, 'abort/not-executable', abortField, `descriptor ${place(image, cs.descriptor)}: abort_ip ${place(image, cs.abortIp)} is not the start of an instruction`));
    }
    const carrier = signatureMatches(image, cs, sig) ? signatureCarrier(image, cs.abortIp - 4n) : null;
    const sigAt = cs.abortIp - 7n;
    if (carrier !== null && carrier.kind !== 'ud1') {
      out.push(finding(image, 'abort/signature-form', sigAt, `the signature before abort_ip ${place(image, cs.abortIp)} is ${describeCarrier(carrier)}`, carrier.kind === 'nop' ? 'note' : undefined));
    }
  }
  for (const e of entries) {
    if (e.kind !== 'from-abort' || e.from === null) continue;
    out.push(finding(image, 'abort/fall-through', e.from.address, `the abort handler at ${place(image, e.section.abortIp)} reaches the section at ${place(image, e.to.address)} through \`${e.from.text}\` without storing descriptor ${place(image, e.section.descriptor)} into rseq_cs again (the kernel cleared it at the abort): that pass is unprotected`));
  }
  return out;
}
