// Copying a Map in a hot path (snapshots of memory pages and of last stores).

/**
 * A copy of `m`, in its order. `new Map(m)` goes through the iterator protocol and makes an entry
 * array per element: over the spinlock's K = 3 search that was 4 % of what it allocated.
 */
export function copyOfMap<K, V>(m: ReadonlyMap<K, V>): Map<K, V> {
  const out = new Map<K, V>();
  m.forEach((v, k) => out.set(k, v));
  return out;
}
