// Two Keystone mistakes with EVEX (AVX-512) encodings, repaired to what GNU as writes:
// - some AVX instructions (scalar `vmulsd mem, %xmm0, %xmm0`, FMA forms) get an EVEX prefix where
//   GNU as uses the shorter VEX one, as it does whenever no AVX-512 feature is needed;
// - an 8-bit displacement is written unscaled, though EVEX reads it as disp8*N (N the memory
//   operand's size), so `vaddpd 64(%rax), %zmm2, %zmm3` would address 4096(%rax).
import { disassembleSync } from './capstone.js';

/** Keystone's encoding with both mistakes repaired (unchanged when it has neither). */
export function repairEvex(bytes: Uint8Array): Uint8Array {
  return evexToVex(bytes) ?? scaledDisp8(bytes) ?? bytes;
}

const SEGMENT_OR_ADDRESS_PREFIX = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x67]);

/**
 * The VEX form of an EVEX encoding that uses nothing only EVEX has (no mask, zeroing, broadcast,
 * rounding, 512-bit length or register above 15) and means the same instruction, else null.
 */
function evexToVex(bytes: Uint8Array): Uint8Array | null {
  let i = 0;
  while (i < bytes.length && SEGMENT_OR_ADDRESS_PREFIX.has(bytes[i]!)) i++;
  if (bytes[i] !== 0x62 || bytes.length < i + 6) return null;
  const [p0, p1, p2, opcode, modrm] = [bytes[i + 1]!, bytes[i + 2]!, bytes[i + 3]!, bytes[i + 4]!, bytes[i + 5]!];
  const [R, X, B, Rhigh, map] = [p0 >> 7, (p0 >> 6) & 1, (p0 >> 5) & 1, (p0 >> 4) & 1, p0 & 3];
  const [W, vvvv, pp] = [p1 >> 7, (p1 >> 3) & 15, p1 & 3];
  const [z, LL, broadcast, Vhigh, mask] = [p2 >> 7, (p2 >> 5) & 3, (p2 >> 4) & 1, (p2 >> 3) & 1, p2 & 7];
  const mod = modrm >> 6;
  // The inverted high-register bits must say "low"; in register form X extends the r/m register.
  if ((p0 & 0x0c) !== 0 || map === 0 || z || LL > 1 || broadcast || mask || !Rhigh || !Vhigh || (mod === 3 && !X)) return null;
  // An 8-bit displacement is kept as Keystone wrote it: Keystone does not apply EVEX's disp8*N
  // scaling, so the byte is the displacement meant, which VEX reads unscaled (the round-trip check
  // against the source confirms it).
  const rest = Array.from(bytes.subarray(i + 5)); // modrm, sib, displacement, immediate
  const [evex] = disassembleSync(bytes, 0x400000n, 1);
  if (!evex) return null;
  // VEX ignores W for many instructions (GNU as writes 0, which also allows the 2-byte form) where
  // EVEX sets it; where W selects the instruction (vfmadd132sd vs ss) only the original W keeps it.
  for (const w of W ? [0, 1] : [0]) {
    const tail = (w << 7) | (vvvv << 3) | (LL << 2) | pp;
    const vex = X && B && !w && map === 1 ? [0xc5, (R << 7) | (tail & 0x7f)] : [0xc4, (R << 7) | (X << 6) | (B << 5) | map, tail];
    const out = Uint8Array.from([...bytes.subarray(0, i), ...vex, opcode, ...rest]);
    // Only if the VEX bytes are the same instruction (EVEX-only instructions have no VEX twin).
    const [decoded] = disassembleSync(out, 0x400000n, 1);
    if (decoded && decoded.size === out.length && decoded.mnemonic === evex.mnemonic) return out;
  }
  return null;
}

/**
 * An EVEX encoding with an 8-bit displacement meant unscaled, rewritten as GNU as writes it: the
 * displacement divided by N when it divides and fits, else as a 32-bit displacement. Null when
 * there is nothing to repair.
 */
function scaledDisp8(bytes: Uint8Array): Uint8Array | null {
  let i = 0;
  while (i < bytes.length && SEGMENT_OR_ADDRESS_PREFIX.has(bytes[i]!)) i++;
  if (bytes[i] !== 0x62 || bytes.length < i + 7) return null;
  const modrm = bytes[i + 5]!;
  if (modrm >> 6 !== 1) return null;
  const at = i + 5 + ((modrm & 7) === 4 ? 2 : 1); // the displacement byte, after modrm and any SIB
  const meant = (bytes[at]! << 24) >> 24;
  if (meant === 0) return null;
  const [d] = disassembleSync(bytes, 0x400000n, 1);
  const decoded = d ? decodedDisplacement(d.operands) : null;
  if (decoded === null || decoded === meant || decoded % meant !== 0) return null;
  const n = decoded / meant; // what EVEX multiplies the byte by
  if (meant % n === 0 && meant / n >= -128 && meant / n <= 127) {
    return Uint8Array.from([...bytes.subarray(0, at), (meant / n) & 0xff, ...bytes.subarray(at + 1)]);
  }
  const wide = [meant & 0xff, (meant >> 8) & 0xff, (meant >> 16) & 0xff, (meant >>> 24) & 0xff];
  return Uint8Array.from([...bytes.subarray(0, i + 5), (modrm & 0x3f) | 0x80, ...bytes.subarray(i + 6, at), ...wide, ...bytes.subarray(at + 1)]);
}

/** The displacement of the memory operand in Capstone's AT&T text (`-0x40(%rax)`), or null. */
function decodedDisplacement(operands: string): number | null {
  const m = /(-?)(0x[0-9a-f]+|[0-9]+)?\(%/.exec(operands);
  if (!m) return null;
  const v = m[2] === undefined ? 0 : Number(m[2]);
  return m[1] === '-' ? -v : v;
}
