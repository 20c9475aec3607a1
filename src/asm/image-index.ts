// Address look-ups on an image in logarithmic time: listings and traces ask for the line and the
// symbol of every address, so a linear scan per question made `disasm` quadratic in the size of
// the program (1,500 critical sections took minutes). Built once per image, on first use.
import type { Image, ImageSymbol, LineRecord } from './image.js';
import type { Address } from '../types.js';
import { partitionPoint } from '../sorted.js';

interface Index {
  /** Per section name: its labels sorted by address, ties in the image's order. */
  labels: Map<string | null, ImageSymbol[]>;
}

const indexes = new WeakMap<Image, Index>();

function indexOf(image: Image): Index {
  let index = indexes.get(image);
  if (!index) {
    const labels = new Map<string | null, ImageSymbol[]>();
    for (const s of image.symbols) {
      if (s.kind !== 'label') continue;
      const list = labels.get(s.section) ?? [];
      list.push(s);
      labels.set(s.section, list);
    }
    for (const list of labels.values()) list.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)); // stable
    index = { labels };
    indexes.set(image, index);
  }
  return index;
}

/** The first index whose item's address is >= `address` (items sorted by address). */
const lowerBound = <T extends { address: Address }>(items: readonly T[], address: Address): number => partitionPoint(items.length, (i) => items[i]!.address < address);

/**
 * The first line (in the image's order, which is by address) whose range holds `address`, a line
 * of size 0 holding its own address. Lines with bytes never overlap, so only the nearest such line
 * below `address` and the lines starting at it can hold it.
 */
export function lineIndexAt(image: Image, address: Address): LineRecord | undefined {
  const lines = image.lines;
  const at = lowerBound(lines, address);
  for (let i = at - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.size === 0) continue;
    if (address < l.address + BigInt(l.size)) return l;
    break;
  }
  return at < lines.length && lines[at]!.address === address ? lines[at] : undefined;
}

/** The label of `section` nearest at or below `address`, preferring `rank`'s lowest among equals. */
export function nearestLabel(image: Image, section: string | null, address: Address, rank: (s: ImageSymbol) => number): ImageSymbol | undefined {
  const list = indexOf(image).labels.get(section);
  if (!list) return undefined;
  const end = lowerBound(list, address + 1n);
  if (end === 0) return undefined;
  const top = list[end - 1]!.address;
  let best: ImageSymbol | undefined;
  for (let i = end - 1; i >= 0 && list[i]!.address === top; i--) if (!best || rank(list[i]!) <= rank(best)) best = list[i];
  return best;
}
