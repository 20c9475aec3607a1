// Which 4 KiB pages of an emulator's memory changed since the last time someone looked: guest
// stores through a UC_HOOK_MEM_WRITE over the whole address space, host writes through the
// emulator's write listener (uc_mem_write fires no hook). A snapshot then copies, and a rewind
// rewrites, only these pages instead of every mapped byte.
import type { Address } from '../types.js';
import { PAGE_SIZE, type Emulator } from './emulator.js';

const PAGE_MASK = ~BigInt(PAGE_SIZE - 1);

export class PageTracker {
  private dirty = new Set<Address>();
  /** Writes seen so far, guest and host (never reset): equal counts mean nothing was written between. */
  writes = 0;
  /** The layout version of the emulator when the dirty set was last taken. */
  private layout: number;

  /** Install before the emulator first runs: stores made before it are not tracked. */
  constructor(private readonly emu: Emulator) {
    this.layout = emu.layoutVersion;
    const note = (address: Address, length: number): void => {
      this.writes++;
      const first = address & PAGE_MASK;
      this.dirty.add(first);
      const last = (address + BigInt(Math.max(1, length) - 1)) & PAGE_MASK;
      for (let p = first + BigInt(PAGE_SIZE); p <= last; p += BigInt(PAGE_SIZE)) this.dirty.add(p);
    };
    emu.onMemoryWrite(0n, 1n << 64n, note);
    emu.hostWriteListener = note;
  }

  /** The pages written since the last take(), without clearing them. */
  peek(): { pages: ReadonlySet<Address>; layoutChanged: boolean } {
    return { pages: this.dirty, layoutChanged: this.emu.layoutVersion !== this.layout };
  }

  /**
   * The pages written since the last call, and whether mappings changed meanwhile (then the
   * caller must not trust its copy of the layout). Clears both.
   */
  take(): { pages: Set<Address>; layoutChanged: boolean } {
    const pages = this.dirty;
    const layoutChanged = this.emu.layoutVersion !== this.layout;
    this.dirty = new Set();
    this.layout = this.emu.layoutVersion;
    return { pages, layoutChanged };
  }
}
