// Building address spaces: the image, the emulated glibc's data page, the sentinel and the signal
// trampoline for a new process; a page-for-page copy for a fork child; stacks and TLS for threads.
import type { Image, TlsTemplate } from '../asm/image.js';
import { glibcDataBytes, type GlibcRseqExports } from '../abi/glibc.js';
import { Emulator, Prot, type Protection } from '../engine/index.js';
import type { Address } from '../types.js';
import { PAGE, SENTINEL, STACK_SIZE, TLS_SIZE, TRAMPOLINE, TRAMPOLINE_CODE, fsBaseOf, pageAlignDown, pageAlignUp, stackTopOf, tlsBlock } from './address-space.js';

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
 * the program's TLS template is copied to end at the thread pointer (variant II).
 */
export function mapThreadMemory(emu: Emulator, tid: number, tls: TlsTemplate | null): { fsBase: Address; stackTop: Address } {
  const fsBase = fsBaseOf(tid);
  const stackTop = stackTopOf(tid);
  emu.map(tlsBlock(tid), Number(TLS_SIZE), Prot.RW);
  emu.writeU64(fsBase, fsBase);
  if (tls) emu.write(fsBase - BigInt(tls.bytes.length), tls.bytes);
  emu.map(stackTop - STACK_SIZE, Number(STACK_SIZE), Prot.RW);
  return { fsBase, stackTop };
}

export function unmapThreadMemory(emu: Emulator, tid: number): void {
  emu.unmap(tlsBlock(tid), Number(TLS_SIZE));
  emu.unmap(stackTopOf(tid) - STACK_SIZE, Number(STACK_SIZE));
}
