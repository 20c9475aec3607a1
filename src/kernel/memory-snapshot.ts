// Copies of an address space: every mapped region with its protection and bytes. Restoring into
// the same emulator reconciles mappings (unmaps what is new, maps what is gone) and rewrites only
// writable regions and regions it had to map; read-only pages cannot have changed.
import { Emulator, type MemoryRegion } from '../engine/index.js';

export interface RegionCopy {
  region: MemoryRegion;
  bytes: Uint8Array;
}

const key = (r: MemoryRegion) => `${r.begin}:${r.end}:${+r.prot.read}${+r.prot.write}${+r.prot.exec}`;

export function copyMemory(emu: Emulator): RegionCopy[] {
  return emu.regions().map((region) => ({ region, bytes: emu.read(region.begin, Number(region.end - region.begin)) }));
}

export function restoreMemory(emu: Emulator, copy: readonly RegionCopy[]): void {
  const wanted = new Map(copy.map((c) => [key(c.region), c]));
  const live = new Set(emu.regions().map(key));
  for (const r of emu.regions()) if (!wanted.has(key(r))) emu.unmap(r.begin, Number(r.end - r.begin));
  for (const c of copy) {
    const size = Number(c.region.end - c.region.begin);
    if (!live.has(key(c.region))) {
      emu.map(c.region.begin, size, c.region.prot);
      emu.write(c.region.begin, c.bytes);
    } else if (c.region.prot.write) emu.write(c.region.begin, c.bytes);
  }
}

/** A new emulator holding a copied address space (a process that no longer exists). */
export function emulatorFrom(copy: readonly RegionCopy[]): Emulator {
  const emu = Emulator.create();
  try {
    restoreMemory(emu, copy);
    return emu;
  } catch (e) {
    emu.close();
    throw e;
  }
}
