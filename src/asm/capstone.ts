// Capstone (wasm) disassembly in AT&T syntax. Capstone 5 decodes the rseq signature
// `0f b9 3d <sig32>` as a 2-byte `ud1` followed by a `cmp`, so the 7-byte RIP-relative form is
// recognised here (for any register) and shown the way GNU objdump shows it: `ud1 0x53053053(%rip), %edi`.
import { createRequire } from 'node:module';
import type { Address } from '../types.js';
import { imageBytes, type Image } from './image.js';

const require = createRequire(import.meta.url);

export interface DecodedInstruction {
  address: Address;
  size: number;
  bytes: Uint8Array;
  mnemonic: string;
  operands: string;
}

interface CapstoneModule {
  Capstone: new (arch: number, mode: number) => CapstoneHandle;
  ARCH_X86: number;
  MODE_64: number;
  OPT_SYNTAX: number;
  OPT_SYNTAX_ATT: number;
}
interface CapstoneHandle {
  option(opt: number, value: number | boolean): void;
  disasm(bytes: number[] | Uint8Array, address: number | bigint, count?: number): { address: bigint | number; size: number; mnemonic: string; op_str: string }[];
  close(): void;
}

let shared: Promise<CapstoneHandle> | undefined;

async function handle(): Promise<CapstoneHandle> {
  shared ??= (async () => {
    const cs = await (require('@alexaltea/capstone-js') as () => Promise<CapstoneModule>)();
    const h = new cs.Capstone(cs.ARCH_X86, cs.MODE_64);
    h.option(cs.OPT_SYNTAX, cs.OPT_SYNTAX_ATT);
    return h;
  })();
  return shared;
}

/** Loads Capstone once; later calls to `disassembleSync` need it loaded. */
export async function loadCapstone(): Promise<void> {
  loaded = await handle();
}
let loaded: CapstoneHandle | undefined;

/** The 7-byte `ud1 disp32(%rip), %edi` form that carries an rseq signature. */
export function signatureAt(bytes: Uint8Array, offset: number): number | null {
  if (offset + 7 > bytes.length || bytes[offset] !== 0x0f || bytes[offset + 1] !== 0xb9 || bytes[offset + 2] !== 0x3d) return null;
  return new DataView(bytes.buffer, bytes.byteOffset + offset + 3, 4).getUint32(0, true);
}

const REG32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** `ud1 disp32(%rip), %r32` (0F B9, ModRM mod 00 rm 101) with any register; the signature is the %edi one. */
function ud1RipAt(bytes: Uint8Array, offset: number): { disp: number; reg: string } | null {
  const modrm = bytes[offset + 2];
  if (offset + 7 > bytes.length || bytes[offset] !== 0x0f || bytes[offset + 1] !== 0xb9 || modrm === undefined || (modrm & 0xc7) !== 0x05) return null;
  return { disp: new DataView(bytes.buffer, bytes.byteOffset + offset + 3, 4).getUint32(0, true), reg: REG32[(modrm >> 3) & 7]! };
}

/**
 * Decodes up to `count` instructions starting at `address`. Stops at the first byte Capstone
 * cannot decode, which is reported as a one-byte `.byte` pseudo-instruction.
 */
export function disassembleSync(bytes: Uint8Array, address: Address, count = Infinity): DecodedInstruction[] {
  if (!loaded) throw new Error('Capstone not loaded: await loadCapstone() first');
  const out: DecodedInstruction[] = [];
  let off = 0;
  while (off < bytes.length && out.length < count) {
    const at = address + BigInt(off);
    const ud1 = ud1RipAt(bytes, off);
    if (ud1 !== null) {
      out.push({ address: at, size: 7, bytes: bytes.slice(off, off + 7), mnemonic: 'ud1', operands: `0x${ud1.disp.toString(16)}(%rip), %${ud1.reg}` });
      off += 7;
      continue;
    }
    const ins = decodeOne(loaded, bytes.subarray(off, Math.min(bytes.length, off + 15)), at);
    if (!ins) {
      out.push({ address: at, size: 1, bytes: bytes.slice(off, off + 1), mnemonic: '.byte', operands: '0x' + bytes[off]!.toString(16).padStart(2, '0') });
      off += 1;
      continue;
    }
    out.push({ address: at, size: ins.size, bytes: bytes.slice(off, off + ins.size), mnemonic: ins.mnemonic, operands: ins.op_str });
    off += ins.size;
  }
  return out;
}

/** capstone-js throws (a string, not an Error) instead of returning [] when nothing decodes, e.g. a lone prefix byte. */
function decodeOne(h: CapstoneHandle, bytes: Uint8Array, at: Address): ReturnType<CapstoneHandle['disasm']>[number] | undefined {
  try {
    return h.disasm(bytes, at, 1)[0];
  } catch (e) {
    if (typeof e === 'string') return undefined;
    throw e;
  }
}

/** Each instruction line of `image`, decoded (a line whose bytes cannot be read is left out). */
export function* imageInstructions(image: Image): Generator<DecodedInstruction> {
  for (const line of image.lines) {
    if (line.kind !== 'instruction') continue;
    const bytes = imageBytes(image, line.address, line.size);
    const [d] = bytes ? disassembleSync(bytes, line.address, 1) : [];
    if (d) yield d;
  }
}
