// The runtime half of the check: every abort the kernel model performed in a run is held against
// the image's tables. A debugger finds sections only through the tables, so an abort through a
// descriptor no table lists, or to anywhere but that descriptor's abort_ip, is a finding.
import type { Image } from '../asm/image.js';
import type { RseqTables } from '../abi/tables.js';
import type { EventRecord } from '../kernel/outcome.js';

import { finding, place, type Finding } from './finding.js';

/** `outcome` is a single call's RunOutcome or a whole machine's MachineOutcome: both carry the events. */
export function checkAborts(outcome: { events: readonly EventRecord[] }, tables: RseqTables, image: Image): Finding[] {
  const out: Finding[] = [];
  for (const e of outcome.events) {
    if (e.outcome !== 'aborted') continue;
    const cs = tables.sections.find((s) => s.descriptor === e.descriptor);
    if (!cs) {
      out.push(finding(image, 'runtime/unlisted-descriptor', e.ip, `${e.spec}: the kernel aborted T${e.tid} at ${place(image, e.ip)} through descriptor ${place(image, e.descriptor)}, which no rseq table lists`));
    } else if (e.resumeIp !== cs.abortIp) {
      out.push(finding(image, 'runtime/abort-target', e.ip, `${e.spec}: the abort at ${place(image, e.ip)} resumed at ${place(image, e.resumeIp)}, not at abort_ip ${place(image, cs.abortIp)} of descriptor ${place(image, cs.descriptor)}`));
    }
  }
  return out;
}
