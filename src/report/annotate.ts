// What an address means for rseq: section starts, bodies, commit instructions, post-commit points,
// abort handlers and their signatures. Shared by the trace and the disassembly listing.
import type { DecodedInstruction } from '../asm/capstone.js';
import { lineAt, symbolize, type Image } from '../asm/image.js';
import type { CriticalSection } from '../abi/tables.js';
import { insideSection } from '../kernel/rseq-fixup.js';
import type { Address } from '../types.js';

export class SectionMarks {
  /** Each section's commit instruction, found once: `at` asks for every address of a listing. */
  private readonly commits: (Address | null)[];

  constructor(
    private readonly image: Image,
    readonly sections: readonly CriticalSection[],
  ) {
    this.commits = sections.map((cs) => this.commitOf(cs));
  }

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
      if (address === this.commits[i]) out.push(`${name}:commit`);
      if (address === cs.postCommitIp) out.push(`${name}:post-commit`);
      if (address === cs.abortIp) out.push(`${name}:abort`);
      if (address === cs.abortIp - 7n) out.push(`${name}:signature`);
    });
    return out;
  }
}

/** Capstone's text with the symbol behind a RIP-relative operand or a direct branch target. */
export function instructionText(image: Image, d: DecodedInstruction): string {
  const text = `${d.mnemonic} ${d.operands}`.trim();
  const rip = /(-?0x[0-9a-f]+|-?[0-9]+)\(%rip\)/.exec(d.operands);
  if (rip && d.mnemonic !== 'ud1') {
    const disp = rip[1]!.startsWith('-') ? -BigInt(rip[1]!.slice(1)) : BigInt(rip[1]!);
    return `${text}  # ${symbolize(image, d.address + BigInt(d.size) + disp)}`;
  }
  if (/^(j|call|loop)/.test(d.mnemonic) && /^0x[0-9a-f]+$/.test(d.operands)) return `${text} <${symbolize(image, BigInt(d.operands))}>`;
  return text;
}
