// How the 4 signature bytes before an abort handler are carried, described once for `disasm` and
// `check`: as the displacement of `ud1 SIG(%rip), %edi` (librseq, the kernel selftests: code that
// falls into it traps), of a 7-byte nop such as TCMalloc's `nopl SIG(%rip)` (falling into it runs
// the handler), or as bare data (falling into it executes whatever the bytes decode to).
import { disassembleSync, signatureAt } from '../asm/capstone.js';
import { imageBytes, type Image } from '../asm/image.js';
import type { Address } from '../types.js';

/** The bytes of `ud1`/`nopl disp32(%rip)` before the displacement. */
const CARRIER_SIZE = 7;

export type SignatureCarrier =
  | { kind: 'ud1'; text: string }
  | { kind: 'nop'; text: string }
  | { kind: 'data' };

/** What carries the 4 bytes at `address` (the signature of the handler at address + 4); null when the 7 bytes are not in the image. */
export function signatureCarrier(image: Image, address: Address): SignatureCarrier | null {
  const seven = imageBytes(image, address - BigInt(CARRIER_SIZE - 4), CARRIER_SIZE);
  return seven ? carrierOf(seven, address - BigInt(CARRIER_SIZE - 4)) : null;
}

/** What the 7 bytes `seven` (at `at`) are, as a carrier of their last 4. */
export function carrierOf(seven: Uint8Array, at: Address): SignatureCarrier {
  const sig = signatureAt(seven, 0);
  if (sig !== null) return { kind: 'ud1', text: `ud1 0x${sig.toString(16)}(%rip), %edi` };
  const [d] = disassembleSync(seven, at, 1);
  if (d && d.size === CARRIER_SIZE && /^nop/.test(d.mnemonic) && /\(%rip\)/.test(d.operands)) return { kind: 'nop', text: `${d.mnemonic} ${d.operands.replace(/^[^(]*/, `0x${new DataView(seven.buffer, seven.byteOffset + 3, 4).getUint32(0, true).toString(16)}`)}` };
  return { kind: 'data' };
}

/** `ud1 form`, `carried by nopl 0x53053053(%rip): …`, `bare .long: …` — the one wording both commands use. */
export function describeCarrier(c: SignatureCarrier): string {
  switch (c.kind) {
    case 'ud1':
      return 'ud1 form';
    case 'nop':
      return `carried by \`${c.text}\`, not ud1: code falling into it runs the abort handler instead of trapping`;
    case 'data':
      return 'bare .long, not preceded by 0f b9 3d (ud1): code falling into it executes data instead of trapping';
  }
}
