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
 * Whether an instruction lies in the emulator's trampoline. Its instructions stand for no user code
 * (a handler that returns at once, and sigreturn), so they use none of the thread's time slice: an
 * injected signal moves no tick, and an event in the stand-in handler equals the same event where
 * the handler returns to (deviations.ts).
 */
export const inTrampoline = (address: Address): boolean => address >= TRAMPOLINE && address < TRAMPOLINE + PAGE;

/**
 * Stacks and TLS of kernel-made threads, carved from arena chunks. Unicorn 2.0.1 pays for each
 * mapping in proportion to the square of the mappings it already holds (find_ram_offset walks
 * every RAM block for every RAM block), so one mapping per stack and one per TLS block made 256
 * threads cost ~0.6 s and 1,000 threads minutes. A slot is a thread's stack with its TLS block
 * right above the stack top, where glibc puts the TCB. Threads 1 to 8 have a chunk each, so small
 * runs map (and snapshots copy) no more than their threads use; then chunks hold 8, 16, 32 and
 * from then on 64 threads, about 11 + n/64 mappings for n threads. An unmapped gap lies below
 * every chunk: its lowest stack overflows into unmapped memory, the others into the TLS block of
 * the slot below.
 */
export const STACK_SIZE = 0x10000n;
/** Two pages, FS base at the second, so small negative and positive offsets both fit. */
export const TLS_SIZE = 2n * PAGE;
export const THREAD_SLOT_SIZE = STACK_SIZE + TLS_SIZE;
/** Threads with a chunk of their own. */
const SINGLE_SLOT_THREADS = 8;
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

/** The chunk's index, its first tid and how many threads it holds. */
function chunkOf(tid: number): { index: number; first: number; count: number } {
  if (tid <= SINGLE_SLOT_THREADS) return { index: tid - 1, first: tid, count: 1 };
  const m = tid - 1;
  const k = Math.floor(Math.log2(m));
  if (2 ** k < THREAD_CHUNK_MAX) return { index: SINGLE_SLOT_THREADS + k - 3, first: 2 ** k + 1, count: 2 ** k };
  const n = Math.floor((m - THREAD_CHUNK_MAX) / THREAD_CHUNK_MAX);
  return { index: SINGLE_SLOT_THREADS + Math.log2(THREAD_CHUNK_MAX) - 3 + n, first: THREAD_CHUNK_MAX * (n + 1) + 1, count: THREAD_CHUNK_MAX };
}

/** Where thread `tid`'s stack and TLS are, and the chunk that holds them (tids start at 1). */
export function threadChunk(tid: number): ThreadChunk {
  const { index, first, count } = chunkOf(tid);
  const base = THREAD_ARENA_TOP - BigInt(first - 1 + count) * THREAD_SLOT_SIZE - BigInt(index + 1) * CHUNK_GAP;
  return { base, size: BigInt(count) * THREAD_SLOT_SIZE, slot: base + BigInt(tid - first) * THREAD_SLOT_SIZE };
}

/** Thread ids past this would place their chunk among the shared memory. */
export const MAX_THREAD_ID = 100_000;
export const stackTopOf = (tid: number): Address => threadChunk(tid).slot + STACK_SIZE;
export const tlsBlock = (tid: number): Address => stackTopOf(tid);
export const fsBaseOf = (tid: number): Address => tlsBlock(tid) + PAGE;

export const pageAlignUp = (n: bigint): bigint => ((n + PAGE - 1n) / PAGE) * PAGE;
export const pageAlignDown = (n: bigint): bigint => (n / PAGE) * PAGE;
