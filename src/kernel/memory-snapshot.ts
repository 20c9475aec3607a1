// Copies of an address space, page by page. A copy shares every page that did not change with the
// copy before it, and a rewind rewrites only the pages that differ from the target: those written
// since the last copy or rewind (engine/page-tracker.ts) and those where the two copies hold
// different pages. When mappings differ, restoring reconciles them (unmaps what is new, maps what
// is gone) and rewrites every writable page, as a full copy would.
import { Emulator, PAGE_SIZE, type MemoryRegion } from '../engine/index.js';
import { PageTracker } from '../engine/page-tracker.js';
import type { Address } from '../types.js';
import { copyOfMap } from './map-copy.js';

/** One page's bytes at copy time; never changed afterwards. `digest` is filled by state hashing (a SHA-1 digest, one character per byte). */
export interface PageCopy {
  readonly bytes: Uint8Array;
  digest?: string;
  /** The page's address and digest as a state's memory text holds them (state-hash.ts), and the address they were made for. */
  entry?: string;
  entryAt?: Address;
}

/** An address space's mappings and every mapped page. Immutable: copies share pages. */
export interface MemoryCopy {
  readonly regions: readonly MemoryRegion[];
  readonly layout: string;
  readonly pages: ReadonlyMap<Address, PageCopy>;
}

const PAGE = BigInt(PAGE_SIZE);
const keyOf = (r: MemoryRegion) => `${r.begin}:${r.end}:${+r.prot.read}${+r.prot.write}${+r.prot.exec}`;
const layoutOf = (regions: readonly MemoryRegion[]) => regions.map(keyOf).join(',');

/** A region's bytes cut into page copies. */
function readPages(emu: Emulator, r: MemoryRegion, into: Map<Address, PageCopy>): void {
  const bytes = emu.read(r.begin, Number(r.end - r.begin));
  for (let at = r.begin; at < r.end; at += PAGE) into.set(at, { bytes: bytes.subarray(Number(at - r.begin), Number(at - r.begin + PAGE)) });
}

/** Reads every mapped page. */
function fullCopy(emu: Emulator): MemoryCopy {
  const regions = emu.regions();
  const pages = new Map<Address, PageCopy>();
  for (const r of regions) readPages(emu, r, pages);
  return { regions, layout: layoutOf(regions), pages };
}

/** Writes a region's pages from a copy in one call. */
function writeRegion(emu: Emulator, r: MemoryRegion, copy: MemoryCopy): void {
  const bytes = new Uint8Array(Number(r.end - r.begin));
  for (let at = r.begin; at < r.end; at += PAGE) bytes.set(copy.pages.get(at)!.bytes, Number(at - r.begin));
  emu.write(r.begin, bytes);
}

/**
 * Makes the mappings those of `copy`: unmaps what it lacks, maps (and fills) what it has that is
 * not mapped. Returns the regions that were mapped already.
 */
function reconcile(emu: Emulator, copy: MemoryCopy): MemoryRegion[] {
  const wanted = new Set(copy.regions.map(keyOf));
  const live = new Set(emu.regions().map(keyOf));
  for (const r of emu.regions()) if (!wanted.has(keyOf(r))) emu.unmap(r.begin, Number(r.end - r.begin));
  const kept: MemoryRegion[] = [];
  for (const r of copy.regions) {
    if (live.has(keyOf(r))) kept.push(r);
    else {
      emu.map(r.begin, Number(r.end - r.begin), r.prot);
      writeRegion(emu, r, copy);
    }
  }
  return kept;
}

/** Makes the mappings those of `copy` and rewrites every page that can differ. */
function fullRestore(emu: Emulator, copy: MemoryCopy): void {
  for (const r of reconcile(emu, copy)) if (r.prot.write) writeRegion(emu, r, copy);
}

/** An emulator's memory as of its last copy or rewind, and the pages written since. */
class TrackedMemory {
  readonly tracker: PageTracker;
  private current: MemoryCopy | null = null;
  /** Pages written by the last rewind: the measure of what it cost (tests and benches read it). */
  lastRestoredPages = 0;

  constructor(private readonly emu: Emulator) {
    this.tracker = new PageTracker(emu);
  }

  copy(): MemoryCopy {
    const { pages, layoutChanged } = this.tracker.take();
    const now = this.current;
    if (!now) return (this.current = fullCopy(this.emu));
    if (!layoutChanged) {
      if (pages.size === 0) return now;
      const next = copyOfMap(now.pages);
      for (const p of pages) if (next.has(p)) next.set(p, { bytes: this.emu.read(p, PAGE_SIZE) });
      return (this.current = { regions: now.regions, layout: now.layout, pages: next });
    }
    // New mappings were reported as written (their pages hold zeros), so the rule is the same.
    const regions = this.emu.regions();
    const known = new Set(now.regions.map(keyOf));
    const next = new Map<Address, PageCopy>();
    for (const r of regions) {
      if (!known.has(keyOf(r))) {
        readPages(this.emu, r, next);
        continue;
      }
      for (let at = r.begin; at < r.end; at += PAGE) {
        const kept = pages.has(at) ? undefined : now.pages.get(at);
        next.set(at, kept ?? { bytes: this.emu.read(at, PAGE_SIZE) });
      }
    }
    return (this.current = { regions, layout: layoutOf(regions), pages: next });
  }

  /** Memory as it stands: the last copy, and the pages written since as they are now. Null before the first copy. */
  mark(): MemoryMark | null {
    const { pages, layoutChanged } = this.tracker.peek();
    if (!this.current || layoutChanged) return null;
    const written = new Map<Address, Uint8Array>();
    for (const p of pages) written.set(p, this.emu.read(p, PAGE_SIZE));
    return { copy: this.current, written, writes: this.tracker.writes };
  }

  /** Whether every byte is what it was at `mark`. */
  unchangedSince(mark: MemoryMark): boolean {
    if (this.tracker.writes === mark.writes) return this.current === mark.copy;
    const { pages, layoutChanged } = this.tracker.peek();
    if (this.current !== mark.copy || layoutChanged) return false;
    for (const p of pages) {
      const then = mark.written.get(p) ?? mark.copy.pages.get(p)?.bytes;
      if (!then || !Buffer.from(this.emu.read(p, PAGE_SIZE)).equals(then)) return false;
    }
    return true;
  }

  restore(copy: MemoryCopy): void {
    const { pages, layoutChanged } = this.tracker.take();
    const now = this.current;
    let written = 0;
    if (!now) {
      fullRestore(this.emu, copy);
      written = copy.pages.size;
    } else {
      // A page differs from the copy's when written since the last copy or rewind, or when the
      // last copy held another page there; pages of regions mapped just now are filled already.
      if (layoutChanged || now.layout !== copy.layout) {
        const kept = reconcile(this.emu, copy);
        for (const r of kept) {
          for (let at = r.begin; at < r.end; at += PAGE) {
            const page = copy.pages.get(at)!;
            if (pages.has(at) || now.pages.get(at) !== page) {
              this.emu.write(at, page.bytes);
              written++;
            }
          }
        }
        written += copy.pages.size - kept.reduce((n, r) => n + Number((r.end - r.begin) / PAGE), 0);
      } else if (pages.size || now !== copy) {
        // The same mappings: the two copies list the same pages in the same order (each copy keeps
        // its parent's order, and a new layout lists its regions' pages in address order), so
        // they are walked side by side rather than looked up by address.
        const theirAddresses = now.pages.keys();
        const theirPages = now.pages.values();
        copy.pages.forEach((page, at) => {
          const theirAt = theirAddresses.next().value;
          const theirs = theirPages.next().value;
          const differs = theirAt === at ? theirs !== page : now.pages.get(at) !== page;
          if (differs || (pages.size !== 0 && pages.has(at))) {
            this.emu.write(at, page.bytes);
            written++;
          }
        });
      }
    }
    this.tracker.take(); // the rewind's own writes
    this.current = copy;
    this.lastRestoredPages = written;
  }
}

const tracked = new WeakMap<Emulator, TrackedMemory>();

/** Starts tracking writes to `emu` (before its first run), so copies and rewinds touch only changed pages. */
export function trackMemory(emu: Emulator): void {
  if (!tracked.has(emu)) tracked.set(emu, new TrackedMemory(emu));
}

/** Pages the last restoreMemory of `emu` wrote (every page of the copy when untracked). */
export function lastRestoredPages(emu: Emulator): number {
  return tracked.get(emu)?.lastRestoredPages ?? 0;
}

/** Writes to `emu` seen so far (guest stores and host writes, rewinds included); null when untracked. */
export function memoryWrites(emu: Emulator): number | null {
  return tracked.get(emu)?.tracker.writes ?? null;
}

/** An address space as it stands, to tell later whether anything changed (`unchangedSince`). */
export interface MemoryMark {
  readonly copy: MemoryCopy;
  readonly written: ReadonlyMap<Address, Uint8Array>;
  readonly writes: number;
}

/** A mark of `emu`'s memory now; null when untracked or never copied. */
export function markMemory(emu: Emulator): MemoryMark | null {
  return tracked.get(emu)?.mark() ?? null;
}

/** Whether `emu`'s memory holds exactly what it held at `mark` (a write of the same bytes changes nothing). */
export function unchangedSince(emu: Emulator, mark: MemoryMark): boolean {
  return tracked.get(emu)?.unchangedSince(mark) ?? false;
}

/** Pages of `emu` written since its last copy or rewind (null when untracked). */
export function writtenSinceCopy(emu: Emulator): { pages: ReadonlySet<Address>; layoutChanged: boolean } | null {
  return tracked.get(emu)?.tracker.peek() ?? null;
}

export function copyMemory(emu: Emulator): MemoryCopy {
  return tracked.get(emu)?.copy() ?? fullCopy(emu);
}

export function restoreMemory(emu: Emulator, copy: MemoryCopy): void {
  const t = tracked.get(emu);
  if (t) t.restore(copy);
  else fullRestore(emu, copy);
}

/** Bytes of every mapped page of a copy. */
export function copySize(copy: MemoryCopy): number {
  return copy.pages.size * PAGE_SIZE;
}

/** A new emulator holding a copied address space (a process that no longer exists). */
export function emulatorFrom(copy: MemoryCopy): Emulator {
  const emu = Emulator.create();
  try {
    fullRestore(emu, copy);
    return emu;
  } catch (e) {
    emu.close();
    throw e;
  }
}
