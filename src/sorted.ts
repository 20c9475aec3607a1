// Searches over arrays sorted by address: listings, traces and stepping ask about every address,
// so each look-up must be logarithmic.

/** The first index in [0, n) where `before` is false, for a `before` that holds on a prefix. */
export function partitionPoint(n: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The item whose [start, end) holds `key`, among items sorted by start that do not overlap. */
export function rangeAt<T>(items: readonly T[], key: bigint, start: (t: T) => bigint, end: (t: T) => bigint): T | undefined {
  const i = partitionPoint(items.length, (k) => end(items[k]!) <= key);
  const item = items[i];
  return item !== undefined && start(item) <= key ? item : undefined;
}
