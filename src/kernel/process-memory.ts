// Building address spaces: the image, the emulated glibc's data page, the sentinel and the signal
// trampoline for a new process; a page-for-page copy for a fork child; stacks and TLS for threads.
import type { Image, TlsTemplate } from '../asm/image.js';
import { glibcDataBytes, type GlibcRseqExports } from '../abi/glibc.js';
import { Emulator, Prot, type Protection } from '../engine/index.js';
import type { Address } from '../types.js';
import { RseqEmuError } from '../errors.js';
import { MAX_THREAD_ID, PAGE, SENTINEL, THREAD_SLOT_SIZE, TRAMPOLINE, TRAMPOLINE_CODE, fsBaseOf, pageAlignDown, pageAlignUp, stackTopOf, threadChunk } from './address-space.js';

function mapWith(emu: Emulator, page: Address, size: bigint, prot: Protection, at: Address, bytes: Uint8Array): void {
  emu.map(page, Number(size), Prot.RW);
  emu.write(at, bytes);
  emu.protect(page, Number(size), prot);
}

/** A new address space holding the image and the emulator's own pages. */
export function loadProcessImage(image: Image, glibc: GlibcRseqExports, registered: boolean): Emulator {
  const emu = Emulator.create();
  try {
    for (const s of image.sections) {
      if (s.bytes.length === 0 || !s.flags.alloc) continue;
      const begin = pageAlignDown(s.address);
      const size = pageAlignUp(s.address + BigInt(s.bytes.length)) - begin;
      mapWith(emu, begin, size, { read: true, write: s.flags.write, exec: s.flags.exec }, s.address, s.bytes);
    }
    mapWith(emu, pageAlignDown(glibc.dataAddress), PAGE, Prot.R, glibc.dataAddress, glibcDataBytes(glibc, registered));
    // The sentinel page holds ud2 so a stray jump there faults; a return there ends the call first.
    mapWith(emu, SENTINEL, PAGE, Prot.RX, SENTINEL, Uint8Array.of(0x0f, 0x0b));
    emu.map(TRAMPOLINE, Number(PAGE), Prot.RWX);
    for (const part of Object.values(TRAMPOLINE_CODE)) emu.write(TRAMPOLINE + BigInt(part.offset), Uint8Array.from(part.bytes));
    emu.protect(TRAMPOLINE, Number(PAGE), Prot.RX);
    return emu;
  } catch (e) {
    emu.close();
    throw e;
  }
}

/** fork: a new address space with a copy of every mapped page. */
export function copyAddressSpace(from: Emulator): Emulator {
  const emu = Emulator.create();
  try {
    for (const r of from.regions()) {
      const size = r.end - r.begin;
      mapWith(emu, r.begin, size, r.prot, r.begin, from.read(r.begin, Number(size)));
    }
    return emu;
  } catch (e) {
    emu.close();
    throw e;
  }
}

/**
 * Stack and TLS for a kernel-made thread: %fs:0 holds the thread pointer itself, as on x86-64, and
 * the program's TLS template is copied to end at the thread pointer (variant II). The slot lives in
 * its arena chunk (address-space.ts), mapped by the chunk's first thread; a reused slot is zeroed.
 */
export function mapThreadMemory(emu: Emulator, tid: number, tls: TlsTemplate | null): { fsBase: Address; stackTop: Address } {
  if (!(tid >= 1 && tid <= MAX_THREAD_ID)) throw new RseqEmuError('MEMORY', `thread ${tid}: no room for its stack and TLS (thread ids 1 to ${MAX_THREAD_ID})`);
  const chunk = threadChunk(tid);
  const fsBase = fsBaseOf(tid);
  const stackTop = stackTopOf(tid);
  if (emu.regionAt(chunk.base) === undefined) emu.map(chunk.base, Number(chunk.size), Prot.RW);
  else emu.write(chunk.slot, new Uint8Array(Number(THREAD_SLOT_SIZE)));
  emu.writeU64(fsBase, fsBase);
  if (tls) emu.write(fsBase - BigInt(tls.bytes.length), tls.bytes);
  return { fsBase, stackTop };
}

/** Unmaps the arena chunks holding these threads' stacks and TLS (all of them: the machine forgets every thread at once). */
export function unmapThreadMemory(emu: Emulator, tids: readonly number[]): void {
  const chunks = new Map(tids.map((tid) => threadChunk(tid)).map((c) => [c.base, c]));
  for (const c of chunks.values()) if (emu.regionAt(c.base) !== undefined) emu.unmap(c.base, Number(c.size));
}
