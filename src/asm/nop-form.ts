// Keystone encodes `nop` with a memory operand (`nopw 0(%rax,%rax,1)`, `nopl 0x53053053(%rip)`)
// as the reserved-NOP hint 0f 18 /4; GNU as, every disassembler's listing and our NOP padding use
// the architectural NOP 0f 1f /0. Same length, same effect: the bytes are made GNU as's.

const LEGACY_PREFIXES = new Set([0x66, 0x67, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);

/** GNU as's bytes for a Keystone `nop m`: 0f 18 with ModRM.reg 4–7 becomes 0f 1f with reg 0. */
export function repairNop(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length && LEGACY_PREFIXES.has(bytes[i]!)) i++;
  if (i < bytes.length && (bytes[i]! & 0xf0) === 0x40) i++; // REX
  if (bytes[i] !== 0x0f || bytes[i + 1] !== 0x18 || i + 2 >= bytes.length || ((bytes[i + 2]! >> 3) & 7) < 4) return bytes;
  const out = Uint8Array.from(bytes);
  out[i + 1] = 0x1f;
  out[i + 2] = bytes[i + 2]! & 0xc7;
  return out;
}
