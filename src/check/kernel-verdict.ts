// The checks the kernel makes on a descriptor are the kernel model's own (`validateDescriptor`),
// run here on the image's bytes, so `check` and `run` cannot disagree about what is valid. The
// model reports the first check that failed, in the kernel's order, as a sentence; the patterns
// below say which check that was. A sentence none of them matches is a bug in this table, so it
// throws rather than guessing.
import { imageBytes, type Image } from '../asm/image.js';
import type { MemoryReader } from '../abi/rseq.js';
import { validateDescriptor } from '../kernel/rseq-fixup.js';
import { hex, type Address } from '../types.js';
import type { RuleId } from './finding.js';

const CHECKS: [RegExp, RuleId][] = [
  [/^cannot read struct rseq_cs/, 'descriptor/unreadable'],
  [/TASK_SIZE|overflows/, 'descriptor/range'],
  [/^descriptor version/, 'descriptor/version'],
  [/is inside the critical section/, 'abort/inside'],
  [/signature/, 'abort/signature'],
];

/** The image as the kernel would read it: bytes outside every section fault. */
export function imageMemory(image: Image): MemoryReader {
  return {
    read(address, length) {
      const bytes = imageBytes(image, address, length);
      if (!bytes) throw new Error(`${hex(address)} is not in the image`);
      return bytes;
    },
  };
}

export interface Rejection {
  rule: RuleId;
  reason: string;
}

/** Why the kernel would kill a thread whose rseq_cs points at `descriptor`, or null if it accepts it. */
export function kernelRejection(image: Image, descriptor: Address, sig: number): Rejection | null {
  const v = validateDescriptor(imageMemory(image), descriptor, sig);
  if (!('reason' in v)) return null;
  const check = CHECKS.find(([re]) => re.test(v.reason));
  if (!check) throw new Error(`unclassified kernel validation failure: ${v.reason}`);
  return { rule: check[1], reason: v.reason };
}
