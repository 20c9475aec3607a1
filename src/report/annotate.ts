// What an address means for rseq: section starts, bodies, commit instructions, post-commit points,
// abort handlers and their signatures. Shared by the trace and the disassembly listing.
import type { DecodedInstruction } from '../asm/capstone.js';
import { lineAt, symbolize, type Image } from '../asm/image.js';
import type { CriticalSection } from '../abi/tables.js';
import { insideSection } from '../kernel/rseq-fixup.js';
import type { Address } from '../types.js';
import { partitionPoint } from '../sorted.js';

const TWO_64 = 1n << 64n;

export class SectionMarks {
  /** Each section's commit instruction, found once. */
  private readonly commits: (Address | null)[];
  /** Per address, the marks that name it exactly: [section index, rank within the section, mark]. */
  private readonly points = new Map<Address, [number, number, string][]>();
  /** Section indices by start address, with the furthest end among each prefix: `at` asks for
   * every address of a listing, so finding the sections around one must not scan them all. */
  private readonly byStart: number[];
  private readonly reach: bigint[];
  /** Sections whose range wraps past 2^64 (a broken descriptor): checked for every address. */
  private readonly wrapping: number[] = [];

  constructor(
    private readonly image: Image,
    readonly sections: readonly CriticalSection[],
  ) {
    this.commits = sections.map((cs) => this.commitOf(cs));
    sections.forEach((cs, i) => {
      const name = `cs${i}`;
      this.point(cs.startIp, i, 0, `${name}:start`);
      if (this.commits[i] !== null) this.point(this.commits[i]!, i, 2, `${name}:commit`);
      this.point(cs.postCommitIp, i, 3, `${name}:post-commit`);
      this.point(cs.abortIp, i, 4, `${name}:abort`);
      this.point(cs.abortIp - 7n, i, 5, `${name}:signature`);
      if (cs.startIp + cs.postCommitOffset > TWO_64) this.wrapping.push(i);
    });
    this.byStart = sections.map((_, i) => i).sort((a, b) => (sections[a]!.startIp < sections[b]!.startIp ? -1 : sections[a]!.startIp > sections[b]!.startIp ? 1 : 0));
    let far = 0n;
    this.reach = this.byStart.map((i) => (far = far > sections[i]!.startIp + sections[i]!.postCommitOffset ? far : sections[i]!.startIp + sections[i]!.postCommitOffset));
  }

  private point(address: Address, section: number, rank: number, mark: string): void {
    this.points.set(address, [...(this.points.get(address) ?? []), [section, rank, mark]]);
  }

  /** The sections whose [start_ip, post-commit) holds the address, as the kernel decides it. */
  private containing(address: Address): number[] {
    const lo = partitionPoint(this.byStart.length, (k) => this.sections[this.byStart[k]!]!.startIp <= address);
    const out = this.wrapping.filter((i) => insideSection(address, this.sections[i]!));
    for (let k = lo - 1; k >= 0 && this.reach[k]! > address; k--) {
      const i = this.byStart[k]!;
      if (!this.wrapping.includes(i) && insideSection(address, this.sections[i]!)) out.push(i);
    }
    return out;
  }

  /** The instruction that ends at the post-commit address: the commit, when the section is well formed. */
  commitOf(cs: CriticalSection): Address | null {
    const line = lineAt(this.image, cs.postCommitIp - 1n);
    return line && line.kind === 'instruction' && line.address + BigInt(line.size) === cs.postCommitIp ? line.address : null;
  }

  /** Short labels for an address, e.g. `cs0:start`, `cs0:commit`, `cs0:abort`, by section, each section's in that order. */
  at(address: Address): string[] {
    const marks: [number, number, string][] = [...(this.points.get(address) ?? [])];
    for (const i of this.containing(address)) if (address !== this.sections[i]!.startIp) marks.push([i, 1, `cs${i}`]);
    return marks.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((m) => m[2]);
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
