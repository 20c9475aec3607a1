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

/**
 * Stacks and TLS of kernel-made threads, carved from arena chunks. Unicorn 2.0.1 pays for each
 * mapping in proportion to the square of the mappings it already holds (find_ram_offset walks
 * every RAM block for every RAM block), so one mapping per stack and one per TLS block made 256
 * threads cost ~0.6 s and 1,000 threads minutes. A slot is a thread's stack with its TLS block
 * right above the stack top, where glibc puts the TCB. Chunks double in size (1, 2, 4 … slots, up
 * to THREAD_CHUNK_MAX) so a run with few threads maps no more than before while n threads need
 * about log2(n) + n / THREAD_CHUNK_MAX mappings. An unmapped gap lies below every chunk: its lowest
 * stack overflows into unmapped memory, the others into the TLS block of the slot below.
 */
export const STACK_SIZE = 0x10000n;
/** Two pages, FS base at the second, so small negative and positive offsets both fit. */
export const TLS_SIZE = 2n * PAGE;
export const THREAD_SLOT_SIZE = STACK_SIZE + TLS_SIZE;
export const THREAD_CHUNK_MAX = 64;
const CHUNK_GAP = 0x100000n;
/** The highest chunk ends here; the others lie below it. */
export const THREAD_ARENA_TOP: Address = 0x7ffe00000000n;

export interface ThreadChunk {
  /** Lowest address of the chunk's mapping. */
  readonly base: Address;
  readonly size: bigint;
  /** The thread's slot: its stack's lowest address. */
  readonly slot: Address;
}

/** Where thread `tid`'s stack and TLS are, and the chunk that holds them; tid 1 and 2 share the first chunk. */
export function threadChunk(tid: number): ThreadChunk {
  const s = tid + 1;
  const geometric = s < 2 * THREAD_CHUNK_MAX;
  const index = geometric ? Math.floor(Math.log2(s)) : Math.log2(THREAD_CHUNK_MAX) + 1 + Math.floor((s - 2 * THREAD_CHUNK_MAX) / THREAD_CHUNK_MAX);
  const first = geometric ? 2 ** index : 2 * THREAD_CHUNK_MAX + (index - Math.log2(THREAD_CHUNK_MAX) - 1) * THREAD_CHUNK_MAX;
  const count = geometric ? 2 ** index : THREAD_CHUNK_MAX;
  const base = THREAD_ARENA_TOP - BigInt(first + count) * THREAD_SLOT_SIZE - BigInt(index + 1) * CHUNK_GAP;
  return { base, size: BigInt(count) * THREAD_SLOT_SIZE, slot: base + BigInt(s - first) * THREAD_SLOT_SIZE };
}

/** Thread ids past this would place their chunk among the shared memory. */
export const MAX_THREAD_ID = 100_000;
export const stackTopOf = (tid: number): Address => threadChunk(tid).slot + STACK_SIZE;
export const tlsBlock = (tid: number): Address => stackTopOf(tid);
export const fsBaseOf = (tid: number): Address => tlsBlock(tid) + PAGE;

export const pageAlignUp = (n: bigint): bigint => ((n + PAGE - 1n) / PAGE) * PAGE;
export const pageAlignDown = (n: bigint): bigint => (n / PAGE) * PAGE;
