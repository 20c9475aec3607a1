// What an address means for rseq: section starts, bodies, commit instructions, post-commit points,
// abort handlers and their signatures. Shared by the trace and the disassembly listing.
import { lineAt, type Image } from '../asm/image.js';
import type { CriticalSection } from '../abi/tables.js';
import { insideSection } from '../kernel/rseq-fixup.js';
import type { Address } from '../types.js';

export class SectionMarks {
  constructor(
    private readonly image: Image,
    readonly sections: readonly CriticalSection[],
  ) {}

  /** The instruction that ends at the post-commit address: the commit, when the section is well formed. */
  commitOf(cs: CriticalSection): Address | null {
    const line = lineAt(this.image, cs.postCommitIp - 1n);
    return line && line.kind === 'instruction' && line.address + BigInt(line.size) === cs.postCommitIp ? line.address : null;
  }

  /** Short labels for an address, e.g. `cs0:start`, `cs0:commit`, `cs0:abort`. */
  at(address: Address): string[] {
    const out: string[] = [];
    this.sections.forEach((cs, i) => {
      const name = `cs${i}`;
      if (address === cs.startIp) out.push(`${name}:start`);
      else if (insideSection(address, cs)) out.push(name);
      if (address === this.commitOf(cs)) out.push(`${name}:commit`);
      if (address === cs.postCommitIp) out.push(`${name}:post-commit`);
      if (address === cs.abortIp) out.push(`${name}:abort`);
      if (address === cs.abortIp - 7n) out.push(`${name}:signature`);
    });
    return out;
  }
}
