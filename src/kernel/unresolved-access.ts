// A program that uses a symbol nothing defines (a libc function rseq-emu does not model) runs
// until it actually calls or accesses it: the symbol's address is unmapped, and the fault there is
// reported by the symbol's name instead of as a bare SIGSEGV.
import { symbolize, unresolvedAt, type Image } from '../asm/image.js';
import { hex, type Address } from '../types.js';

/**
 * Why a fault at `address` kills the thread, when that address belongs to an unresolved symbol;
 * null otherwise. `returnAddress` is the word at the stack pointer (the caller, after a call).
 */
export function unresolvedAccess(image: Image, access: string, address: Address, returnAddress: Address | null): string | null {
  const u = unresolvedAt(image, address);
  if (!u) return null;
  if (access === 'fetch') {
    const from = returnAddress === null ? '' : `, called from ${hex(returnAddress)} <${symbolize(image, returnAddress)}>`;
    return `called undefined function '${u.name}'${from}: the program does not define it and rseq-emu does not model it (first used at ${u.loc.file}:${u.loc.line})`;
  }
  return `${access} of undefined symbol '${u.name}' at ${hex(address)}: the program does not define it (first used at ${u.loc.file}:${u.loc.line})`;
}
