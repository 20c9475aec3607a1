// Memory whose content the checker may take as known: the machine loads the very image the
// checker reads, so a word of it is known at run time when nothing can have changed it. That holds
// for any word of a read-only section, and for a word of a writable one that holds the address of
// a symbol (a GOT slot, a pointer table) when no instruction stores to it by a constant address.
// Stores through registers are not followed: a program that rewrites its own pointer table that way
// is read as if it did not.
import type { Image } from '../asm/image.js';
import { sectionAt } from '../asm/image.js';
import type { Address } from '../types.js';
import { ripTarget, storeTarget, constant, type Instruction } from './instruction.js';

const WORD = 8;

export class ConstantMemory {
  private readonly symbolAddresses: ReadonlySet<Address>;
  /** First bytes of the constant-address stores of the program, with their widths (at most 8 assumed). */
  private readonly stored: readonly Address[];

  constructor(
    private readonly image: Image,
    instructions: readonly Instruction[],
  ) {
    this.symbolAddresses = new Set(image.symbols.filter((s) => s.kind !== 'constant').map((s) => s.address));
    const stored: Address[] = [];
    for (const ins of instructions) {
      const t = storeTarget(ins);
      if (t === null || t.seg !== null) continue;
      const at = t.base === 'rip' ? ripTarget(ins, t) : t.base === null && t.index === null ? constant(t.disp) : null;
      if (at !== null) stored.push(BigInt.asUintN(64, at));
    }
    this.stored = stored;
  }

  /** The 64-bit word at `address` when it is known at run time, else null. */
  word(address: Address): bigint | null {
    const s = sectionAt(this.image, address);
    if (!s || s.flags.tls || s.flags.nobits) return null; // a TLS template is not the memory at its address
    const off = Number(address - s.address);
    if (off + WORD > s.bytes.length) return null;
    const value = new DataView(s.bytes.buffer, s.bytes.byteOffset + off, WORD).getBigUint64(0, true);
    if (!s.flags.write) return value;
    if (!this.symbolAddresses.has(value)) return null;
    return this.stored.some((a) => a > address - BigInt(WORD) && a < address + BigInt(WORD)) ? null : value;
  }
}
