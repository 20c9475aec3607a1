// The control-flow graph of an image. Instructions are decoded exactly where the assembler put
// them (its instruction and padding line records), so data in code sections — the signature
// before an abort handler — is never mistaken for code. Edges are fall-throughs and direct
// branches; a call continues at the next instruction (analyses treat its effects themselves).
// Alignment padding is decoded as the NOPs it is, and reached only by falling into it.
import { disassembleSync } from '../asm/capstone.js';
import { imageBytes, sectionAt, type Image } from '../asm/image.js';
import { partitionPoint, rangeAt } from '../sorted.js';
import type { Address } from '../types.js';
import { control, toInstruction, type Instruction } from './instruction.js';

export class ProgramGraph {
  /** In address order. */
  readonly instructions: readonly Instruction[];
  /** Where other code may come in: call targets and global or function symbols. */
  readonly entryPoints: ReadonlySet<Address>;
  /** Where analysis starts knowing nothing: the entry points and every instruction without a predecessor. */
  readonly roots: ReadonlySet<Address>;
  private readonly byAddress = new Map<Address, Instruction>();
  private readonly succ = new Map<Address, Address[]>();
  private readonly pred = new Map<Address, Address[]>();

  constructor(image: Image) {
    const list: Instruction[] = [];
    const padding = new Set<Address>();
    for (const line of image.lines) {
      if (line.kind === 'data' || line.size === 0 || !sectionAt(image, line.address)?.flags.exec) continue;
      const bytes = imageBytes(image, line.address, line.size);
      if (!bytes) continue;
      for (const d of disassembleSync(bytes, line.address)) {
        list.push(toInstruction(image, d));
        if (line.kind === 'padding') padding.add(d.address);
      }
    }
    this.instructions = list;
    for (const ins of list) {
      this.byAddress.set(ins.address, ins);
      this.succ.set(ins.address, []);
      this.pred.set(ins.address, []);
    }
    const entryPoints = new Set<Address>();
    const edge = (from: Address, to: Address) => {
      if (!this.byAddress.has(to)) return;
      this.succ.get(from)!.push(to);
      this.pred.get(to)!.push(from);
    };
    for (const ins of list) {
      const c = control(ins);
      if (c.kind === 'jump' || c.kind === 'branch') edge(ins.address, c.target);
      if (c.kind === 'plain' || c.kind === 'branch' || c.kind === 'call') edge(ins.address, ins.next);
      if (c.kind === 'call' && c.target !== null && this.byAddress.has(c.target)) entryPoints.add(c.target);
    }
    for (const s of image.symbols) {
      if (s.kind === 'label' && (s.global || s.type === 'function') && this.byAddress.has(s.address)) entryPoints.add(s.address);
    }
    this.entryPoints = entryPoints;
    // Alignment padding after a jump or return is reached by nothing: it is no root, or the state it
    // starts with (nothing known) would erase what the code before the label it pads to established.
    const unreached = list.filter((i) => this.pred.get(i.address)!.length === 0 && !padding.has(i.address));
    this.roots = new Set([...entryPoints, ...unreached.map((i) => i.address)]);
  }

  at(address: Address): Instruction | undefined {
    return this.byAddress.get(address);
  }

  successors(address: Address): readonly Address[] {
    return this.succ.get(address) ?? [];
  }

  predecessors(address: Address): readonly Address[] {
    return this.pred.get(address) ?? [];
  }

  /** The instruction whose bytes include `address`. */
  containing(address: Address): Instruction | undefined {
    return rangeAt(this.instructions, address, (i) => i.address, (i) => i.next);
  }

  /** Instructions whose start lies in [from, to), in address order. */
  between(from: Address, to: Address): Instruction[] {
    const out: Instruction[] = [];
    for (let i = partitionPoint(this.instructions.length, (k) => this.instructions[k]!.address < from); i < this.instructions.length && this.instructions[i]!.address < to; i++) out.push(this.instructions[i]!);
    return out;
  }
}
