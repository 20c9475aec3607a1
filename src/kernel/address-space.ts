// Where the emulated process keeps things besides the image. All below TASK_SIZE; the glibc data
// page sits just below the image so RIP-relative loads of `__rseq_offset` reach it.
import type { Address } from '../types.js';

export const PAGE = 0x1000n;

/** Stores below here are shared memory (image and regions); stacks and TLS live above. */
export const SHARED_MEMORY_END: Address = 0x7f0000000000n;

/** Returning here ends a call: `run` pushes it as the entry function's return address. */
export const SENTINEL: Address = 0x7ffff7fe0000n;

/** Emulator-supplied code: the default signal handler and the rt_sigreturn restorer. */
export const TRAMPOLINE: Address = 0x7ffff7ff0000n;
export const TRAMPOLINE_CODE = {
  /** `ret`: a handler that returns at once. */
  handler: { offset: 0, bytes: [0xc3] },
  /** `mov $15, %eax; syscall`: rt_sigreturn. */
  restorer: { offset: 16, bytes: [0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05] },
} as const;

/** Per-thread TLS block: two pages, FS base at the second, so small negative and positive offsets both fit. */
export const TLS_SIZE = 2n * PAGE;
export const tlsBlock = (tid: number): Address => 0x7ffff0000000n + BigInt(tid) * 0x10000n;
export const fsBaseOf = (tid: number): Address => tlsBlock(tid) + PAGE;

export const STACK_SIZE = 0x10000n;
export const stackTopOf = (tid: number): Address => 0x7ffe00000000n - BigInt(tid) * 0x100000n;

export const pageAlignUp = (n: bigint): bigint => ((n + PAGE - 1n) / PAGE) * PAGE;
export const pageAlignDown = (n: bigint): bigint => (n / PAGE) * PAGE;
