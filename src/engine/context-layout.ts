// Where a saved context (exportContext's bytes: Unicorn's copy of QEMU's CPUX86State) keeps the
// general registers, RIP and the flags. QEMU lays them out first and together: regs[16], eip,
// eflags, then the lazy flag state (cc_dst, cc_src, cc_src2, cc_op) and df, 176 bytes in all.
// Two contexts equal outside that block differ only in what the register API reads and writes
// there, so comparing that API's values and the rest of the bytes compares the whole state without
// loading either context (the lazy flag state makes equal flags differ in raw bytes).
//
// The block's place is found by probing, not assumed: RAX and RIP are written with marker values
// and looked for. A build whose layout does not match gets null, and its callers fall back.
import { RseqEmuError } from '../errors.js';
import { X86_REGISTERS, type Emulator, type RegisterFile, type SavedContext } from './emulator.js';

/** regs[16], eip, eflags, cc_dst, cc_src, cc_src2 (8 bytes each), cc_op and df (4 each). */
const BLOCK_BYTES = 16 * 8 + 8 + 8 + 3 * 8 + 4 + 4;
const RAX_MARK = 0x1122_3344_5566_7788n;
const RIP_MARK = 0x0a0b_0c0d_0e0f_1011n;

let probed: { begin: number; end: number } | null | undefined;

function offsetOf(bytes: Uint8Array, value: bigint): number {
  const mark = Buffer.alloc(8);
  mark.writeBigUInt64LE(value);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(mark);
}

/** The [begin, end) of the register block in `emu`'s exported contexts (probed once), or null when the probe fails. */
export function registerBlock(emu: Emulator): { begin: number; end: number } | null {
  if (probed === undefined) {
    // Inside a hook a RIP write waits for the callback's return, and putting the live context back
    // moves the CPU to the instruction being run: it would run again (seen: a store run twice).
    if (emu.inRun) throw new RseqEmuError('ENGINE', 'the register block is probed outside a run: call registerBlock before installing a hook that reads saved contexts');
    probed = probeRegisterBlock(emu);
  }
  return probed;
}

/** Probes `emu` for the register block; its registers are put back afterwards. */
export function probeRegisterBlock(emu: Emulator): { begin: number; end: number } | null {
  const live = emu.saveContext();
  try {
    emu.setReg('rax', RAX_MARK);
    emu.setReg('rip', RIP_MARK);
    const probe = emu.saveContext();
    const bytes = emu.exportContext(probe);
    emu.freeContext(probe);
    const rax = offsetOf(bytes, RAX_MARK);
    return rax >= 0 && offsetOf(bytes, RIP_MARK) === rax + 16 * 8 && rax + BLOCK_BYTES <= bytes.length ? { begin: rax, end: rax + BLOCK_BYTES } : null;
  } finally {
    emu.restoreContext(live);
    emu.freeContext(live);
  }
}

/** Whether contexts `a` and `b` are equal in every byte outside `block`. */
export function equalBesides(a: Uint8Array, b: Uint8Array, block: { begin: number; end: number }): boolean {
  if (a.length !== b.length) return false;
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return x.compare(y, 0, block.begin, 0, block.begin) === 0 && x.compare(y, block.end, a.length, block.end, a.length) === 0;
}

const words = new BigUint64Array(X86_REGISTERS.length);

/**
 * A register file as the register API gives it (X86_REGISTERS order, eight bytes each), `edits`
 * written over: with the bytes outside the block, the whole state. The bytes are overwritten by
 * the next call.
 */
export function registerWords(regs: RegisterFile, edits: Readonly<Record<string, bigint>> = {}): Uint8Array {
  X86_REGISTERS.forEach((name, i) => (words[i] = edits[name] ?? regs[name]));
  return new Uint8Array(words.buffer);
}

/** The general registers in the block's order (QEMU's regs[16]); RIP follows them. */
const BLOCK_REGISTERS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rip'] as const;

/** A 64-bit general register or RIP, as savedRegister reads it. */
export type BlockRegister = (typeof BLOCK_REGISTERS)[number];

export const isBlockRegister = (name: string): name is BlockRegister => (BLOCK_REGISTERS as readonly string[]).includes(name);

/** Register `name` of saved context `context`, read in place; null when the block's place is unknown. */
export function savedRegister(emu: Emulator, context: SavedContext, name: BlockRegister): bigint | null {
  const block = registerBlock(emu);
  return block ? emu.contextU64(context, block.begin + 8 * BLOCK_REGISTERS.indexOf(name)) : null;
}
