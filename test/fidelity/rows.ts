// One fidelity row, as both sides report it after normalisation: addresses relative to the op's
// entry or its abort handler, pointers into the op's memory as `m+OFF`, so a kernel row and an
// emulator row compare field by field.
export type EventKind = 'preempt' | 'migrate' | 'signal';

export interface OpCase {
  /** File under asm/ or test/fidelity/edge/. */
  file: string;
  entry: string;
  /** Size of the op's memory region in bytes (a multiple of 8). */
  memSize: number;
  /** Initial u64 words: numbers or `m+OFF`. */
  init: string[];
  /** Arguments: numbers or `m+OFF`. */
  args: string[];
  /** `none`: glibc's registration disabled (GLIBC_TUNABLES=glibc.pthread.rseq=0 natively). */
  registration?: 'glibc' | 'none';
}

export interface Row {
  reached: boolean;
  /** 1 when the event hit a task the call made (a fork child or thread), not the calling thread. */
  eventTask?: number;
  /** Times the harness stepped another task over a planted int3: a context switch the emulator has not. */
  perturbed?: number;
  outcome?: 'none' | 'cleared' | 'aborted' | 'sigsegv';
  resume?: string;
  /** cpu_id_start/cpu_id after the kernel's resume work. */
  cpuAfter?: number;
  /** `exit` or `signal N`. */
  end: string;
  /** Where a process killed by a synchronous signal was (the instruction about to run). */
  diedAt?: string;
  rax?: string;
  memory: string[];
}

/** A u64 word as the test compares it: a pointer into the region becomes `m+OFF`. */
export function word(v: bigint, base: bigint, size: number): string {
  return v >= base && v < base + BigInt(size) ? `m+${v - base}` : v.toString();
}

const ORDER: (keyof Row)[] = ['reached', 'eventTask', 'perturbed', 'outcome', 'resume', 'cpuAfter', 'end', 'diedAt', 'rax', 'memory'];

/** The row in one fixed field order, so equal rows give equal strings. */
export function describe(r: Row): string {
  return JSON.stringify(Object.fromEntries(ORDER.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])));
}
