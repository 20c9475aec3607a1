// The JS listeners of an emulator's stores, called from one native UC_HOOK_MEM_WRITE. Each native
// hook costs a native-to-JS call per store with its own 64-bit conversions; the page tracker, the
// machine and the load-commuting rule all listen to stores, so one hook per listener paid that
// three times for every store of the search.
import type { Address } from '../types.js';

export type StoreListener = (address: Address, size: number, value: bigint) => void;

interface Entry {
  readonly begin: Address;
  readonly end: Address;
  readonly cb: StoreListener;
  /** Cleared on removal: a store being dispatched when its listener goes no longer reaches it. */
  live: boolean;
}

export class StoreListeners {
  /** Replaced, never changed in place: a listener added or removed inside a dispatch leaves it alone. */
  private entries: readonly Entry[] = [];

  /** Adds `cb` for stores whose first byte is in [begin, end); returns what remove() takes. */
  add(begin: Address, end: Address, cb: StoreListener): object {
    const entry: Entry = { begin, end, cb, live: true };
    this.entries = [...this.entries, entry];
    return entry;
  }

  /** Removes the listener add() returned `token` for. */
  remove(token: object): void {
    const entry = this.entries.find((e) => e === token);
    if (!entry) return;
    entry.live = false;
    this.entries = this.entries.filter((e) => e !== entry);
  }

  /** Calls, in the order they were added, each listener whose range holds `address`. */
  dispatch(address: Address, size: number, value: bigint): void {
    for (const e of this.entries) if (e.live && address >= e.begin && address < e.end) e.cb(address, size, value);
  }
}
