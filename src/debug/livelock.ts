// Livelock under a debugger: a cycle of debug stops that repeats with no progress. A stop's state
// is the registers of every live thread (memory is left out on purpose: a retry loop that counts
// its attempts in memory still livelocks). A cycle is reported when the last P states equal the P
// before them, at least one resume in it aborted a critical section, and no section committed in
// it — a loop that commits each time round is progress, not livelock.

export interface ObservedStop {
  /** Registers of every live thread, as one comparable string. */
  state: string;
  /** The resume before this stop aborted a critical section. */
  aborted: boolean;
  /** A critical section completed before this stop. */
  committed: boolean;
}

export interface Cycle {
  /** Index (in observation order) of the cycle's first stop. */
  start: number;
  length: number;
  /** Index of the last stop in the cycle whose resume aborted. */
  abortAt: number;
}

export class LivelockDetector {
  private readonly history: ObservedStop[] = [];
  private readonly lastSeen = new Map<string, number>();
  /** Stops before this index are before the last progress and never part of a cycle. */
  private base = 0;

  /** Records the next stop; returns the cycle it closes, if any. */
  observe(stop: ObservedStop): Cycle | null {
    const i = this.history.length;
    this.history.push(stop);
    if (stop.committed) {
      this.base = i + 1;
      this.lastSeen.clear();
    }
    const j = this.lastSeen.get(stop.state);
    this.lastSeen.set(stop.state, i);
    if (j === undefined) return null;
    const p = i - j;
    if (j - p + 1 < this.base) return null;
    for (let k = 0; k < p; k++) if (this.history[i - k]!.state !== this.history[j - k]!.state) return null;
    let abortAt = -1;
    for (let k = j + 1; k <= i; k++) {
      if (this.history[k]!.committed) return null;
      if (this.history[k]!.aborted) abortAt = k;
    }
    return abortAt < 0 ? null : { start: j + 1, length: p, abortAt };
  }
}
