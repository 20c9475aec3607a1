// abort/*: the abort handler. Whether abort_ip is inside the section and whether the signature
// matches are the kernel's checks (reported by descriptor.ts through the kernel model); here: the
// form of the signature, abort_ip pointing at code, and the handler's way back into the section.
import { disassembleSync, signatureAt } from '../../asm/capstone.js';
import { imageBytes, sectionAt, type Image } from '../../asm/image.js';
import { RseqCsField } from '../../abi/rseq.js';
import type { CriticalSection } from '../../abi/tables.js';
import type { SectionEntry } from '../entries.js';
import { finding, place, type Finding } from '../finding.js';
import type { ProgramGraph } from '../program-graph.js';

const SIGNATURE_FORM_SIZE = 7;

/** What the 7 bytes before abort_ip are, when their last 4 are the signature: the ud1 form, a nop carrying it, or data. */
function signatureForm(image: Image, cs: CriticalSection, sig: number): 'ud1' | 'nop' | 'data' | null {
  const seven = imageBytes(image, cs.abortIp - BigInt(SIGNATURE_FORM_SIZE), SIGNATURE_FORM_SIZE);
  if (!seven || new DataView(seven.buffer, seven.byteOffset + 3, 4).getUint32(0, true) !== sig >>> 0) return null;
  if (signatureAt(seven, 0) !== null) return 'ud1';
  const [d] = disassembleSync(seven, cs.abortIp - BigInt(SIGNATURE_FORM_SIZE), 1);
  return d && d.size === SIGNATURE_FORM_SIZE && /^nop/.test(d.mnemonic) ? 'nop' : 'data';
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
    const form = signatureForm(image, cs, sig);
    const sigAt = cs.abortIp - BigInt(SIGNATURE_FORM_SIZE);
    if (form === 'data') {
      out.push(finding(image, 'abort/signature-form', sigAt, `the signature before abort_ip ${place(image, cs.abortIp)} is not preceded by 0f b9 3d (ud1 0x${(sig >>> 0).toString(16)}(%rip), %edi): code falling into it executes data instead of trapping`));
    } else if (form === 'nop') {
      out.push(finding(image, 'abort/signature-form', sigAt, `the signature before abort_ip ${place(image, cs.abortIp)} is carried by a nop, not ud1: code falling into it runs the handler instead of trapping`, 'note'));
    }
  }
  for (const e of entries) {
    if (e.kind !== 'from-abort' || e.from === null) continue;
    out.push(finding(image, 'abort/fall-through', e.from.address, `the abort handler at ${place(image, e.section.abortIp)} reaches the section at ${place(image, e.to.address)} through \`${e.from.text}\` without storing descriptor ${place(image, e.section.descriptor)} into rseq_cs again (the kernel cleared it at the abort): that pass is unprotected`));
  }
  return out;
}
