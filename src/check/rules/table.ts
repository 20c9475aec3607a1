// table/*: what a debugger finding critical sections through the tables would miss or misread —
// descriptors the code arms but no table lists, table entries that describe nothing, and jumps
// out of a section that `__rseq_exit_point_array` does not announce.
import { sectionNamed, type Image } from '../../asm/image.js';
import type { CriticalSection, RseqTables } from '../../abi/tables.js';
import { insideSection } from '../../kernel/rseq-fixup.js';
import type { Address } from '../../types.js';
import type { ArmingStore } from '../dataflow.js';
import { finding, place, type Finding } from '../finding.js';
import { control } from '../instruction.js';
import type { ProgramGraph } from '../program-graph.js';

const EXIT_POINT_SIZE = 16n;

export function tableRules(image: Image, graph: ProgramGraph, tables: RseqTables, sections: readonly CriticalSection[], analysed: readonly CriticalSection[], arming: readonly ArmingStore[]): Finding[] {
  const out: Finding[] = [];
  const hasList = tables.present.includes('__rseq_cs_ptr_array') || tables.present.includes('__rseq_table');
  const reported = new Set<Address>();
  for (const a of arming) {
    const cs = sections.find((s) => s.descriptor === a.descriptor);
    if (!cs || reported.has(cs.descriptor) || cs.listedIn.includes('__rseq_cs_ptr_array') || cs.listedIn.includes('__rseq_table')) continue;
    reported.add(cs.descriptor);
    out.push(
      hasList
        ? finding(image, 'table/missing-descriptor', a.store.address, `descriptor ${place(image, cs.descriptor)}, stored into rseq_cs here, is not in __rseq_cs_ptr_array or __rseq_table although the image has them: debuggers will not see this critical section`)
        : finding(image, 'table/missing-descriptor', a.store.address, `descriptor ${place(image, cs.descriptor)}, stored into rseq_cs here, is listed nowhere: the image has neither __rseq_cs_ptr_array nor __rseq_table, so debuggers cannot find its critical section`, 'warning'),
    );
  }
  for (const p of tables.problems) out.push(finding(image, 'table/invalid-entry', p.address, p.message));
  const exits = sectionNamed(image, '__rseq_exit_point_array');
  tables.exitPoints.forEach((e, i) => {
    if (sections.some((cs) => cs.startIp === e.startIp)) return;
    out.push(finding(image, 'table/invalid-entry', exits!.address + BigInt(i) * EXIT_POINT_SIZE, `__rseq_exit_point_array entry (${place(image, e.startIp)}, ${place(image, e.exitIp)}) names no critical section: no descriptor starts at ${place(image, e.startIp)}`));
  });
  for (const cs of analysed) {
    const announced = new Set(tables.exitPoints.filter((e) => e.startIp === cs.startIp).map((e) => e.exitIp));
    for (const ins of graph.between(cs.startIp, cs.postCommitIp)) {
      const c = control(ins);
      if (c.kind === 'indirect-jump') {
        out.push(finding(image, 'table/unlisted-exit', ins.address, `\`${ins.text}\` may leave the section for a target that cannot be checked against __rseq_exit_point_array`));
      }
      if (c.kind !== 'jump' && c.kind !== 'branch') continue;
      if (insideSection(c.target, cs) || c.target === cs.postCommitIp || c.target === cs.abortIp || announced.has(c.target)) continue;
      out.push(finding(image, 'table/unlisted-exit', ins.address, `\`${ins.text}\` leaves the section for a target that is not the post-commit address, abort_ip or an exit listed in __rseq_exit_point_array`));
    }
  }
  return out;
}
