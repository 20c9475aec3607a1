// The checks the kernel makes on a descriptor are the kernel model's own (`validateDescriptor`),
// run here on the image's bytes, so `check` and `run` cannot disagree about what is valid. The
// model reports the first check that failed, in the kernel's order, with its name.
import { imageBytes, type Image } from '../asm/image.js';
import type { MemoryReader } from '../abi/rseq.js';
import { validateDescriptor, type DescriptorCheck } from '../kernel/rseq-fixup.js';
import { hex, type Address } from '../types.js';
import type { RuleId } from './finding.js';

const RULE_OF: Record<DescriptorCheck, RuleId> = {
  pointer: 'descriptor/range',
  unreadable: 'descriptor/unreadable',
  range: 'descriptor/range',
  overflow: 'descriptor/range',
  version: 'descriptor/version',
  'abort-inside': 'abort/inside',
  signature: 'abort/signature',
};

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
  return { rule: RULE_OF[v.check], reason: v.reason };
}
