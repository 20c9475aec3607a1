// How the threads of one search divide its top-level branches among themselves (work stealing).
//
// Branches next to each other share most of their states (an event before one instruction and the
// same event before the next), and the state cache only lets a thread skip a state once another
// has finished exploring it. Threads that took the next free branch in turn explored neighbours at
// the same time and so explored their shared states twice: two threads ran 27 % more schedules
// than one on memcpy-buffer at K = 3, and 38 % more on the spinlock. So each thread takes a run of
// consecutive branches; when it meets one another thread took, it starts again in the middle of
// the longest run nobody has taken (the half the thread working along it would reach last). The
// top level's one-instruction rules (commuting.ts) hold within a run, too, so a run begins where no
// such rule joins a branch to the one before: begun one instruction after a load, a second thread
// explored in the spinlock's K = 3 space 8,172 schedules the first would have stood for by the
// branches before.
//
// A stop-at-first search still takes branches strictly in order (`claim`): it must report the
// first failing branch of the sequential order, and a thread that stops leaves every branch
// before its own taken.

/** The most branches a share splits into runs (one bit each); a larger share takes them in order. */
export const RUN_CLAIM_CAPACITY = 1 << 20;

/**
 * The claims of one search's threads, in shared memory: element 0 counts the branches taken in
 * order (`claim`), the rest is one bit per branch taken by runs (`BranchRuns`).
 */
export function createClaims(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 + RUN_CLAIM_CAPACITY / 8));
}

/**
 * The first thread to reach the share's `ordinal`-th branch takes it. Every thread walks the same
 * branches in the same order and settles each before the next, so when one reaches a branch the
 * counter stands at it (nobody took it yet) or past it (another thread did).
 */
export function claim(claims: Int32Array, ordinal: number): boolean {
  return Atomics.load(claims, 0) === ordinal && Atomics.compareExchange(claims, 0, ordinal, ordinal + 1) === ordinal;
}

/** Whether a share of `count` branches can be taken in runs with these claims. */
export const runsFit = (claims: Int32Array, count: number): boolean => count <= (claims.length - 1) * 32;

/** The branches of one share (numbered 0 to count - 1), taken in runs. */
export class BranchRuns {
  /**
   * `starts`: for each branch, whether a run may begin there; a branch whose event the same event
   * one point earlier stands for (commuting.ts) begins none: only the thread that explored that
   * one knows it, and another beginning there would explore it again. All, when not given.
   */
  constructor(
    private readonly claims: Int32Array,
    readonly count: number,
    readonly starts: readonly boolean[] | null = null,
  ) {}

  /** Takes branch `ordinal`: true unless another thread took it first. */
  take(ordinal: number): boolean {
    const bit = 1 << (ordinal & 31);
    return (Atomics.or(this.claims, 1 + (ordinal >>> 5), bit) & bit) === 0;
  }

  taken(ordinal: number): boolean {
    return (Atomics.load(this.claims, 1 + (ordinal >>> 5)) & (1 << (ordinal & 31))) !== 0;
  }

  /**
   * Where this thread's next run starts, or null when every branch is taken: the first branch when
   * nobody took it, else the middle of the longest run of branches nobody took (a thread working
   * along it from its start reaches that half last), moved back to a branch a run may begin at.
   */
  next(): number | null {
    let best: [number, number] | null = null;
    let from = -1;
    for (let i = 0; i <= this.count; i++) {
      const free = i < this.count && !this.taken(i);
      if (free && from < 0) from = i;
      if (!free && from >= 0) {
        if (!best || i - from > best[1] - best[0]) best = [from, i];
        from = -1;
      }
    }
    if (!best) return null;
    if (best[0] === 0) return 0;
    const middle = best[0] + ((best[1] - best[0]) >> 1);
    for (let i = middle; i > best[0]; i--) if (this.starts?.[i] ?? true) return i;
    return best[0];
  }
}
