// Where named memory regions go and which Unicorn mappings hold them. Every region starts on a
// page and a page is left between regions, so addresses never depend on how regions are mapped.
// The first GUARDED_REGIONS regions each get their own mapping, so the page after each is
// unmapped and catches an overrun. Past those, regions share mappings: Unicorn 2.0.1 pays for
// each mapping in proportion to the square of the mappings it holds (1,000 regions cost 7 s),
// so later regions are packed in chunks that double in count (32, 64, 128 … regions), and the
// pages between the regions of one chunk are mapped (an overrun there does not fault).
import type { Address } from '../types.js';
import { PAGE, pageAlignUp } from './address-space.js';

export const GUARDED_REGIONS = 32;

export interface RegionPlacement {
  readonly address: Address;
  /** Bytes the region covers, rounded up to pages. */
  readonly mapped: bigint;
}

export interface RegionLayout {
  readonly placements: readonly RegionPlacement[];
  /** The mappings to create, [begin, end), in address order. */
  readonly mappings: readonly { begin: Address; end: Address }[];
  /** Where the next region would start. */
  readonly next: Address;
}

/** Which mapping group the `index`-th region of the machine (from 0) falls in. */
function groupOf(index: number): number {
  if (index < GUARDED_REGIONS) return index;
  return GUARDED_REGIONS + Math.floor(Math.log2(index / GUARDED_REGIONS));
}

/** Lays out `sizes` after `existing` regions, the first starting at `start`. */
export function layoutRegions(start: Address, existing: number, sizes: readonly number[]): RegionLayout {
  const placements: RegionPlacement[] = [];
  const mappings: { begin: Address; end: Address }[] = [];
  let at = start;
  let lastGroup = -1;
  sizes.forEach((size, i) => {
    const mapped = pageAlignUp(BigInt(size));
    const group = groupOf(existing + i);
    const last = mappings[mappings.length - 1];
    if (group === lastGroup && last) last.end = at + mapped;
    else mappings.push({ begin: at, end: at + mapped });
    lastGroup = group;
    placements.push({ address: at, mapped });
    at += mapped + PAGE;
  });
  return { placements, mappings, next: at };
}
