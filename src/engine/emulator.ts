/**
 * One emulated x86-64 CPU and its address space, over Unicorn through koffi.
 *
 * Measured on libunicorn2 2.0.1 (pinned by test/engine/semantics.test.ts; "raw" means
 * plain Unicorn, before the corrections this class makes):
 * 1. stop() in a code hook at X: run() returns before X executes, RIP = X. Raw, a RIP
 *    write in a hook makes Unicorn resume at the new RIP and cancels a pending stop, in
 *    either order; here, write + stop returns with RIP at the written address.
 * 2. In a syscall hook RIP is the syscall itself. RAX writes stick. Raw, Unicorn adds the
 *    syscall's length to RIP after the hook even when the hook wrote RIP (writing T runs T+2);
 *    here, writing T runs T. stop() in the hook returns with RIP after the syscall. With no
 *    syscall hook, syscall does nothing (RCX untouched) and no interrupt hook fires.
 * 3. ud2 and the rseq signature `0f b9 3d 53 30 05 53` (ud1) fire UC_HOOK_INSN_INVALID with
 *    RIP at the instruction, never the interrupt hook (no interrupt 6). Without a hook,
 *    run() fails with UC_ERR_INSN_INVALID, RIP at the instruction. Whatever the hook returns,
 *    emulation ends there: true means run() returns without error (at the RIP the hook left).
 *    int3 fires interrupt 3 with RIP after it and continues; unhooked it is UC_ERR_EXCEPTION.
 * 4. Invalid-memory hooks get (access, cause, address, size, value written). Raw, RIP after a
 *    data fault is the faulting instruction only if a code hook covers it, else the last
 *    hooked instruction of the block, else the block start, though the instructions before
 *    the fault did run. Here RIP is always exact, thanks to the counting hook (UNLIMITED_COUNT).
 *    A fetch fault leaves RIP at the target; an instruction running into an unmapped page
 *    stops its whole block before any of it runs (RIP = block start). A hook that maps the
 *    page and returns true has the access retried.
 * 5. A write to a read-only page reports (write, protected) and leaves memory unchanged
 *    (UC_ERR_WRITE_PROT); a fetch from a non-executable page reports (fetch, protected,
 *    target, 1) with RIP = target (UC_ERR_FETCH_PROT). Host read()/write() ignore protections.
 * 6. `count` is exact with code hooks installed. Raw, a run without count after a counted
 *    one flushes every translation (~100 ms), and a counted run over code translated
 *    without count does not count it; both are avoided by always passing a count. A RIP
 *    write in a code hook counts the skipped instruction as executed.
 * Also: uc_ctl TB flush costs ~100 ms (the first ~750 ms) and segfaults inside a hook;
 * uc_mem_write over translated code is seen by the next execution; hooks other than code
 * hooks apply to already-translated code without any flush; uc_context_restore inside a
 * hook restores registers but execution goes on at the old RIP; hlt ends run() quietly.
 */
import koffi from 'koffi';
import { RseqEmuError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { hex, type Address } from '../types.js';
import { rangeAt } from '../sorted.js';
import { StoreListeners, type StoreListener } from './store-listeners.js';
import {
  UC_ARCH_X86, UC_MODE_64, UC_X86_INS_SYSCALL, UC_CTL_WRITE_TB_FLUSH,
  UcErr, UcHook, UcMem, UcProt, UcX86Reg,
} from './unicorn-constants.js';
import {
  registerCallback, unicorn, unregisterCallback,
  type CallbackKind, type NativeCallback, type NativePointer, type OutParam, type UcHookId, type UnicornLibrary,
} from './unicorn-library.js';

export const PAGE_SIZE = 0x1000;

const SCRATCH_BYTES = 64;

/**
 * uc_emu_start's `until` when the caller gives none: the last byte of the address
 * space, which no instruction of ours starts at.
 */
export const NEVER_REACHED: Address = 0xffff_ffff_ffff_ffffn;

/**
 * uc_emu_start's `count` when the caller gives none (about a year of emulation). Never 0:
 * with count 0 Unicorn 2.0.1 deletes its instruction-counting code hook and flushes every
 * translation (~100 ms), and a later count > 0 re-adds the hook without a flush, so code
 * translated in between is not counted. Keeping the hook from the first run on also makes
 * RIP exact at every memory fault (see the measurements above). The price, with the
 * constructor's second code hook: hook-free code runs at ~110 M instructions/s, not ~1000 M.
 */
const UNLIMITED_COUNT = Number.MAX_SAFE_INTEGER;

export type X86Register =
  | 'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi' | 'rbp' | 'rsp'
  | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15'
  | 'rip' | 'eflags' | 'fs_base' | 'gs_base';

const REGISTER_IDS: Readonly<Record<X86Register, number>> = {
  rax: UcX86Reg.RAX, rbx: UcX86Reg.RBX, rcx: UcX86Reg.RCX, rdx: UcX86Reg.RDX,
  rsi: UcX86Reg.RSI, rdi: UcX86Reg.RDI, rbp: UcX86Reg.RBP, rsp: UcX86Reg.RSP,
  r8: UcX86Reg.R8, r9: UcX86Reg.R9, r10: UcX86Reg.R10, r11: UcX86Reg.R11,
  r12: UcX86Reg.R12, r13: UcX86Reg.R13, r14: UcX86Reg.R14, r15: UcX86Reg.R15,
  rip: UcX86Reg.RIP, eflags: UcX86Reg.EFLAGS, fs_base: UcX86Reg.FS_BASE, gs_base: UcX86Reg.GS_BASE,
};

/** Every register the engine exposes, in a stable order. */
export const X86_REGISTERS = Object.keys(REGISTER_IDS) as readonly X86Register[];

/** All exposed registers at once; values are unsigned 64-bit. */
export type RegisterFile = Record<X86Register, bigint>;

export interface Protection {
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
}

/** The protections code usually needs. */
export const Prot = {
  NONE: { read: false, write: false, exec: false },
  R: { read: true, write: false, exec: false },
  RW: { read: true, write: true, exec: false },
  RX: { read: true, write: false, exec: true },
  RWX: { read: true, write: true, exec: true },
} as const satisfies Record<string, Protection>;

/** A mapped range, [begin, end) with end exclusive. */
export interface MemoryRegion {
  readonly begin: Address;
  readonly end: Address;
  readonly prot: Protection;
}

export type MemoryAccess = 'read' | 'write' | 'fetch';
export type MemoryFaultCause = 'unmapped' | 'protected';

export interface RunOptions {
  /** Stop before executing the instruction at this address. */
  until?: Address;
  /** Stop after this many instructions (a positive integer). */
  count?: number;
}

export type CodeHook = (address: Address, size: number) => void;
export type SyscallHook = () => void;
export type InterruptHook = (intno: number) => void;
/** Return true to end run() quietly, false to make it fail; emulation does not continue either way. */
export type InvalidInstructionHook = () => boolean;
/**
 * Return true to retry the access (after mapping or unprotecting the page), false to make
 * run() fail. `value` is the value being written, 0 for reads and fetches.
 */
export type InvalidMemoryHook = (
  access: MemoryAccess, cause: MemoryFaultCause, address: Address, size: number, value: bigint,
) => boolean;

export type HookKind = CallbackKind;

declare const hookBrand: unique symbol;
/** Returned by the on* methods; pass it to removeHook(). */
export interface HookHandle {
  readonly kind: HookKind;
  readonly [hookBrand]: true;
}

declare const contextBrand: unique symbol;
/** A saved copy of the CPU registers (not memory). */
export interface SavedContext {
  readonly [contextBrand]: true;
}

interface InstalledHook {
  readonly id: UcHookId;
  readonly userData: NativePointer;
}

/** The last invalid access Unicorn reported, kept so that run() errors can name the address. */
interface Fault {
  readonly access: MemoryAccess;
  readonly cause: MemoryFaultCause;
  readonly address: Address;
  readonly size: number;
}

const FAULT_KINDS: Readonly<Record<number, { access: MemoryAccess; cause: MemoryFaultCause }>> = {
  [UcMem.READ_UNMAPPED]: { access: 'read', cause: 'unmapped' },
  [UcMem.WRITE_UNMAPPED]: { access: 'write', cause: 'unmapped' },
  [UcMem.FETCH_UNMAPPED]: { access: 'fetch', cause: 'unmapped' },
  [UcMem.READ_PROT]: { access: 'read', cause: 'protected' },
  [UcMem.WRITE_PROT]: { access: 'write', cause: 'protected' },
  [UcMem.FETCH_PROT]: { access: 'fetch', cause: 'protected' },
};

/** Unicorn's hook range for "all addresses": begin > end. */
const EVERYWHERE = { begin: 1n, end: 0n } as const;

const MEMORY_FAULT_ERRORS: ReadonlySet<number> = new Set([
  UcErr.READ_UNMAPPED, UcErr.WRITE_UNMAPPED, UcErr.FETCH_UNMAPPED,
  UcErr.READ_PROT, UcErr.WRITE_PROT, UcErr.FETCH_PROT,
]);

/** Bytes that may precede `0f 05`: operand/address size, segment, lock, rep, REX. */
const SYSCALL_PREFIXES: ReadonlySet<number> = new Set([
  0x66, 0x67, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf0, 0xf2, 0xf3,
  ...Array.from({ length: 16 }, (_, i) => 0x40 + i),
]);

export class Emulator {
  private readonly lib: UnicornLibrary;
  private uc: NativePointer | undefined;
  private readonly hooks = new Map<HookHandle, InstalledHook>();
  /** The store listeners (onMemoryWrite), all called from one native hook once there is one. */
  private readonly stores = new StoreListeners();
  private readonly storeListeners = new Map<HookHandle, object>();
  private storeHooked = false;
  private readonly contexts = new Map<SavedContext, NativePointer>();
  /** A view of each saved context's bytes, made once: a koffi view per export cost more than the copy. */
  private readonly contextViews = new Map<SavedContext, Uint8Array>();
  /** The same views as DataViews, for reading single registers (contextU64). */
  private readonly contextWords = new Map<SavedContext, DataView>();
  /** The bytes each context was last exported as, or written from (exportContext). */
  private readonly exported = new Map<SavedContext, Uint8Array>();
  private contextBytes?: number;
  private regions_: { begin: Address; end: Address; prot: Protection }[] = [];
  /** user_data of the hooks the emulator installs for itself. */
  private readonly internalCallbacks: NativePointer[] = [];
  private lastFault: Fault | undefined;
  // State of the current run(). All JS code that executes while `running` is a hook callback.
  private running = false;

  /** Whether a run is under way: the caller is a hook callback. */
  get inRun(): boolean {
    return this.running;
  }
  private stopRequested = false;
  /** The first exception thrown by a JS callback during the current run(). */
  private callbackError: { error: unknown } | undefined;
  /** RIP written by the current callback, or kept until run() returns when the callback also stopped. */
  private pendingRip: Address | undefined;
  private readonly regBuffer = new Uint8Array(8);
  private readonly regView = new DataView(this.regBuffer.buffer);
  /** For small reads and writes (see read()). */
  private readonly scratch = new Uint8Array(SCRATCH_BYTES);
  private readonly scratchView = new DataView(this.scratch.buffer);
  /** Native buffers for readRegisters, made on first use and freed by close(). */
  private batch: RegisterBatch | undefined;
  /** Counts map/unmap/protect calls, so a page tracker knows when the layout it copied is stale. */
  layoutVersion = 0;
  /** Told of every host write (write(), writeU64 …) and new mapping, which Unicorn's write hooks never see (page-tracker.ts). */
  hostWriteListener: ((address: Address, length: number) => void) | null = null;

  private constructor(lib: UnicornLibrary, uc: NativePointer) {
    this.lib = lib;
    this.uc = uc;
    // Records every invalid access, so that run() can report the faulting address when
    // no user hook handles it. Returning false leaves the decision to later hooks, or to
    // Unicorn's default (stop with an error).
    this.addInternalHook('invalidMemory', UcHook.MEM_INVALID, EVERYWHERE.begin, EVERYWHERE.end,
      (_uc: unknown, type: number, address: number | bigint, size: number) => {
        const kind = FAULT_KINDS[type];
        if (kind) this.lastFault = { ...kind, address: u64(address), size };
        return false;
      });
    // A code hook over an address no code runs at, never called. With exactly one code
    // hook (Unicorn's own instruction counter, see UNLIMITED_COUNT) Unicorn 2.0.1 compiles
    // a direct call to it into translated code; with two or more, a call to a dispatcher
    // that walks the hook list at run time. That walk is what lets code hooks added or
    // removed at any time, even inside a callback, apply at once to translated code.
    this.addInternalHook('code', UcHook.CODE, NEVER_REACHED, NEVER_REACHED, () => {});
  }

  /** Opens a fresh x86-64 CPU with an empty address space. */
  static create(): Emulator {
    const lib = unicorn();
    const out: OutParam<NativePointer | null> = [null];
    const err = lib.uc_open(UC_ARCH_X86, UC_MODE_64, out);
    if (err !== UcErr.OK || out[0] === null) {
      throw new RseqEmuError('ENGINE', `uc_open: ${lib.uc_strerror(err)}`);
    }
    return new Emulator(lib, out[0]);
  }

  /** Frees the CPU, its hooks' callbacks and its saved contexts. Safe to call twice; not from inside a hook. */
  close(): void {
    if (this.uc === undefined) return;
    if (this.running) throw new RseqEmuError('ENGINE', 'close() called from inside a hook');
    for (const context of this.contexts.values()) this.lib.uc_context_free(context);
    this.contexts.clear();
    this.contextViews.clear();
    this.contextWords.clear();
    this.exported.clear();
    this.lib.uc_close(this.uc);
    if (this.batch) koffi.free(this.batch.native);
    this.batch = undefined;
    this.uc = undefined;
    for (const hook of this.hooks.values()) unregisterCallback(hook.userData);
    this.hooks.clear();
    this.storeListeners.clear();
    for (const userData of this.internalCallbacks) unregisterCallback(userData);
  }

  get closed(): boolean {
    return this.uc === undefined;
  }

  // ---- memory -------------------------------------------------------------------------

  map(address: Address, size: number, prot: Protection): void {
    checkPageRange('map', address, size);
    this.checkMappingRoom(address, 1);
    const err = this.lib.uc_mem_map(this.handle(), address, size, protBits(prot));
    if (err !== UcErr.OK) throw this.memoryError('uc_mem_map', err, address, `cannot map ${size} bytes`);
    this.regions_.push({ begin: address, end: address + BigInt(size), prot: { ...prot } });
    this.layoutVersion++;
    this.hostWriteListener?.(address, size); // fresh pages hold zeros, whatever a copy says
    this.regions_.sort((a, b) => (a.begin < b.begin ? -1 : 1));
  }

  unmap(address: Address, size: number): void {
    checkPageRange('unmap', address, size);
    const err = this.lib.uc_mem_unmap(this.handle(), address, size);
    if (err !== UcErr.OK) throw this.memoryError('uc_mem_unmap', err, address, `cannot unmap ${size} bytes`);
    const end = address + BigInt(size);
    this.splitRegionsAt(address, end);
    this.regions_ = this.regions_.filter((r) => r.end <= address || r.begin >= end);
    this.layoutVersion++;
  }

  protect(address: Address, size: number, prot: Protection): void {
    checkPageRange('protect', address, size);
    this.checkMappingRoom(address, 2); // a protect can split a mapping in three
    const err = this.lib.uc_mem_protect(this.handle(), address, size, protBits(prot));
    if (err !== UcErr.OK) throw this.memoryError('uc_mem_protect', err, address, `cannot protect ${size} bytes`);
    const end = address + BigInt(size);
    this.splitRegionsAt(address, end);
    for (const r of this.regions_) if (r.begin >= address && r.end <= end) r.prot = { ...prot };
    this.layoutVersion++;
  }

  /** Unicorn 2.0.1 aborts the whole process (an assertion in phys_section_add) near 4,096 mappings. */
  private checkMappingRoom(address: Address, more: number): void {
    if (this.regions_.length + more > LIMITS.mappings) {
      throw new RseqEmuError('MEMORY', `cannot map at ${hex(address)}: the address space already holds ${this.regions_.length} mappings (the limit is ${LIMITS.mappings})`, undefined, address);
    }
  }

  /** Mapped regions in address order. Ranges split by partial unmap/protect stay split, as in Unicorn. */
  regions(): MemoryRegion[] {
    return this.regions_.map((r) => ({ ...r, prot: { ...r.prot } }));
  }

  /** The mapped region holding `address`, if any (logarithmic: threads and regions ask once each). */
  regionAt(address: Address): MemoryRegion | undefined {
    const r = rangeAt(this.regions_, address, (x) => x.begin, (x) => x.end);
    return r && { ...r, prot: { ...r.prot } };
  }

  /** Reads guest memory; host access ignores the page protections. */
  read(address: Address, length: number): Uint8Array {
    // A fresh small typed array handed to native code makes V8 move it off the heap, which cost
    // more than the read itself (the rseq_cs load at every system call): small reads go through
    // a scratch buffer and are copied out.
    if (length <= SCRATCH_BYTES) {
      this.readInto(this.scratch, address, length);
      return this.scratch.slice(0, length);
    }
    const bytes = new Uint8Array(length);
    this.readInto(bytes, address, length);
    return bytes;
  }

  private readInto(bytes: Uint8Array, address: Address, length: number): void {
    const err = this.lib.uc_mem_read(this.handle(), address, bytes, length);
    if (err !== UcErr.OK) throw this.memoryError('uc_mem_read', err, address, `cannot read ${length} bytes`);
  }

  /** Writes guest memory; host access ignores the page protections. Translations of overwritten code are dropped. */
  write(address: Address, bytes: Uint8Array): void {
    const length = bytes.length;
    if (length <= SCRATCH_BYTES) this.scratch.set(bytes);
    const err = this.lib.uc_mem_write(this.handle(), address, length <= SCRATCH_BYTES ? this.scratch : bytes, length);
    if (err !== UcErr.OK) throw this.memoryError('uc_mem_write', err, address, `cannot write ${bytes.length} bytes`);
    this.hostWriteListener?.(address, bytes.length);
  }

  readU32(address: Address): number {
    this.readInto(this.scratch, address, 4);
    return this.scratchView.getUint32(0, true);
  }

  readU64(address: Address): bigint {
    this.readInto(this.scratch, address, 8);
    return this.scratchView.getBigUint64(0, true);
  }

  // Through the scratch buffer, as readU32/readU64 are: a DataView over a fresh small array makes
  // V8 move the array off its heap (the trap src/abi/little-endian.ts explains).
  writeU32(address: Address, value: number): void {
    this.scratchView.setUint32(0, value, true);
    this.write(address, this.scratch.subarray(0, 4));
  }

  writeU64(address: Address, value: bigint): void {
    this.scratchView.setBigUint64(0, toU64('writeU64', value), true);
    this.write(address, this.scratch.subarray(0, 8));
  }

  // ---- registers ----------------------------------------------------------------------

  reg(name: X86Register): bigint {
    if (name === 'rip' && this.pendingRip !== undefined) return this.pendingRip;
    return this.readRaw(name);
  }

  /**
   * Accepts -2^63 .. 2^64-1; negative values are stored as two's complement.
   * Inside a hook, a RIP write takes effect when the callback returns: execution continues
   * at the new RIP, or, if the callback also called stop(), run() returns with RIP there.
   */
  setReg(name: X86Register, value: bigint): void {
    const u64 = toU64(`setReg(${name})`, value);
    if (name === 'rip' && this.running) this.pendingRip = u64;
    else this.writeRaw(name, u64);
  }

  /** Every register in one native call: a system call reads them all, and one call each cost ~60% of a getpid. */
  readRegisters(): RegisterFile {
    const batch = (this.batch ??= registerBatch());
    batch.values.fill(0n);
    const err = this.lib.uc_reg_read_batch(this.handle(), batch.ids, batch.pointers, batch.ids.length);
    if (err !== UcErr.OK) throw this.engineError('uc_reg_read_batch', err);
    const file = registerFileOf(batch.values);
    if (this.pendingRip !== undefined) file.rip = this.pendingRip;
    return file;
  }

  writeRegisters(file: RegisterFile): void {
    for (const name of X86_REGISTERS) this.setReg(name, file[name]);
  }

  // ---- execution ----------------------------------------------------------------------

  /**
   * Runs from `begin` until `opts.until` is reached, `opts.count` instructions have run,
   * a hook calls stop(), `hlt` executes, or an error occurs. Rethrows the first exception
   * thrown by a hook callback; otherwise Unicorn errors become RseqEmuError ('MEMORY' with
   * the faulting address for memory faults, 'ENGINE' with RIP for the rest).
   */
  run(begin: Address, opts: RunOptions = {}): void {
    const uc = this.handle();
    if (this.running) throw new RseqEmuError('ENGINE', 'run() called from inside a hook');
    const count = opts.count ?? UNLIMITED_COUNT;
    if (!(Number.isSafeInteger(count) && count > 0)) {
      throw new RseqEmuError('USAGE', `run: count must be a positive integer, got ${opts.count}`);
    }
    this.callbackError = undefined;
    this.lastFault = undefined;
    this.stopRequested = false;
    this.running = true;
    let err: number;
    try {
      err = this.lib.uc_emu_start(uc, begin, opts.until ?? NEVER_REACHED, 0, count);
    } finally {
      this.running = false;
      if (this.pendingRip !== undefined) this.writeRaw('rip', this.pendingRip);
      this.pendingRip = undefined;
    }
    // Set by callbacks during uc_emu_start, which TypeScript's narrowing cannot see.
    const failure = this.callbackError as { error: unknown } | undefined;
    if (failure) throw failure.error;
    if (err !== UcErr.OK) throw this.runError(err);
  }

  /**
   * Asks a running emulation to stop (meant for hooks); harmless when nothing runs. From a
   * code hook at X, run() returns before X executes, with RIP = X (or the RIP the hook wrote).
   */
  stop(): void {
    const err = this.lib.uc_emu_stop(this.handle());
    if (err !== UcErr.OK) throw this.engineError('uc_emu_stop', err);
    if (this.running) this.stopRequested = true;
  }

  // ---- hooks --------------------------------------------------------------------------

  /** Calls `cb` before each instruction whose address is in [begin, end) (end exclusive). */
  onCode(begin: Address, end: Address, cb: CodeHook): HookHandle {
    if (!(begin < end)) throw new RseqEmuError('USAGE', `onCode: empty range ${hex(begin)}..${hex(end)}`);
    const fn = this.guard((_uc: unknown, address: number | bigint, size: number) => cb(u64(address), size), undefined);
    // Unicorn's range is inclusive on both ends.
    return this.addHook('code', UcHook.CODE, fn, begin, end - 1n);
  }

  /**
   * Calls `cb` on every `syscall` instruction, with RIP at the syscall. Returning normally
   * continues after the syscall; a RIP write continues there instead.
   */
  onSyscall(cb: SyscallHook): HookHandle {
    // Unicorn adds the syscall's length to RIP after the callback, even when the callback
    // wrote RIP: pre-subtract it so that the written address is where execution goes on.
    const fn = this.guard(() => cb(), undefined, (rip) => rip - this.syscallLength());
    return this.addHook('syscall', UcHook.INSN, fn, EVERYWHERE.begin, EVERYWHERE.end, 'int', UC_X86_INS_SYSCALL);
  }

  /** Calls `cb` for `int n`, `int3` and CPU exceptions other than invalid opcodes. */
  onInterrupt(cb: InterruptHook): HookHandle {
    const fn = this.guard((_uc: unknown, intno: number) => cb(intno), undefined);
    return this.addHook('interrupt', UcHook.INTR, fn, EVERYWHERE.begin, EVERYWHERE.end);
  }

  /**
   * Calls `cb` when the CPU meets an undefined opcode (UC_HOOK_INSN_INVALID), with RIP at
   * that instruction. Either way run() then ends: with an error if `cb` returns false.
   */
  onInvalidInstruction(cb: InvalidInstructionHook): HookHandle {
    const fn = this.guard(() => cb(), false);
    return this.addHook('invalidInstruction', UcHook.INSN_INVALID, fn, EVERYWHERE.begin, EVERYWHERE.end);
  }

  /** Calls `cb` on a read, write or fetch of unmapped or protected memory. */
  onInvalidMemory(cb: InvalidMemoryHook): HookHandle {
    const fn = this.guard(
      (_uc: unknown, type: number, address: number | bigint, size: number, value: number | bigint) => {
        const kind = FAULT_KINDS[type];
        if (!kind) throw new RseqEmuError('ENGINE', `unknown uc_mem_type ${type} in invalid-memory hook`);
        return cb(kind.access, kind.cause, u64(address), size, u64(value));
      },
      false,
    );
    return this.addHook('invalidMemory', UcHook.MEM_INVALID, fn, EVERYWHERE.begin, EVERYWHERE.end);
  }

  /**
   * Calls `cb` for every store to [begin, end) (UC_HOOK_MEM_WRITE), before memory changes, with the
   * address, size and value written. All of them are called from one native hook (store-listeners.ts).
   */
  onMemoryWrite(begin: Address, end: Address, cb: StoreListener): HookHandle {
    if (!this.storeHooked) {
      // One native hook for every store listener (store-listeners.ts), installed with the first.
      const fn = this.guard((_uc: unknown, _type: number, address: number | bigint, size: number, value: number | bigint) => this.stores.dispatch(u64(address), size, u64(value)), undefined);
      this.addInternalHook('memoryWrite', UcHook.MEM_WRITE, EVERYWHERE.begin, EVERYWHERE.end, fn);
      this.storeHooked = true;
    }
    const handle = { kind: 'memoryWrite' } as HookHandle;
    this.storeListeners.set(handle, this.stores.add(begin, end, cb));
    return handle;
  }

  /** Calls `cb` for every load from [begin, end) (UC_HOOK_MEM_READ). Add it before the first run. */
  onMemoryRead(begin: Address, end: Address, cb: (address: Address, size: number) => void): HookHandle {
    const fn = this.guard((_uc: unknown, _type: number, address: number | bigint, size: number) => cb(u64(address), size), undefined);
    // Same C prototype (uc_cb_hookmem_t) as the write hook, so the same trampoline.
    return this.addHook('memoryWrite', UcHook.MEM_READ, fn, begin, end - 1n);
  }

  /**
   * Calls `cb` for every load from and store to [begin, end) (UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE),
   * stores before memory changes. Instruction fetches are not loads. Add it before the first run.
   */
  onMemoryAccess(begin: Address, end: Address, cb: (access: 'read' | 'write', address: Address, size: number) => void): HookHandle {
    const fn = this.guard((_uc: unknown, type: number, address: number | bigint, size: number) => cb(type === UcMem.READ ? 'read' : 'write', u64(address), size), undefined);
    // Same C prototype (uc_cb_hookmem_t) as the write hook, so the same trampoline.
    return this.addHook('memoryWrite', UcHook.MEM_READ | UcHook.MEM_WRITE, fn, begin, end - 1n);
  }

  /** Removes a hook; from inside a callback, it is not called again in the current run either. */
  removeHook(handle: HookHandle): void {
    const listener = this.storeListeners.get(handle);
    if (listener) {
      this.stores.remove(listener);
      this.storeListeners.delete(handle);
      return;
    }
    const hook = this.hooks.get(handle);
    if (!hook) throw new RseqEmuError('USAGE', 'removeHook: not a hook of this emulator (or already removed)');
    const err = this.lib.uc_hook_del(this.handle(), hook.id);
    if (err !== UcErr.OK) throw this.engineError('uc_hook_del', err, handle.kind);
    this.hooks.delete(handle);
    unregisterCallback(hook.userData);
  }

  /**
   * Drops every cached translation. Hooks never need it (see the constructor), and it is
   * slow: about 100 ms per call on 2.0.1. Not allowed inside a hook: flushing there
   * crashes Unicorn 2.0.1 (segfault).
   */
  flushTranslations(): void {
    if (this.running) throw new RseqEmuError('ENGINE', 'flushTranslations() called from inside a hook');
    const err = this.lib.uc_ctl(this.handle(), UC_CTL_WRITE_TB_FLUSH);
    if (err !== UcErr.OK) throw this.engineError('uc_ctl(UC_CTL_TB_FLUSH)', err);
  }

  // ---- contexts -----------------------------------------------------------------------

  /**
   * Saves the CPU registers. On Unicorn 2.0.1 a context holds registers only, never
   * memory: rewinding memory is the caller's job. Pass `into` to overwrite an earlier
   * context instead of allocating a new one.
   */
  saveContext(into?: SavedContext): SavedContext {
    const uc = this.handle();
    let context = into && this.contextPointer(into);
    const handle = into ?? ({} as SavedContext);
    if (context === undefined) {
      const out: OutParam<NativePointer | null> = [null];
      const err = this.lib.uc_context_alloc(uc, out);
      if (err !== UcErr.OK || out[0] === null) throw this.engineError('uc_context_alloc', err);
      context = out[0];
      this.contexts.set(handle, context);
    }
    const err = this.lib.uc_context_save(uc, context);
    if (err !== UcErr.OK) throw this.engineError('uc_context_save', err);
    return handle;
  }

  /**
   * Restores the registers saved in `context` (memory is untouched). Inside a hook the
   * saved RIP is treated like setReg('rip'): uc_context_restore alone does not redirect
   * the running code.
   */
  restoreContext(context: SavedContext): void {
    const err = this.lib.uc_context_restore(this.handle(), this.contextPointer(context));
    if (err !== UcErr.OK) throw this.engineError('uc_context_restore', err);
    if (this.running) this.pendingRip = this.readRaw('rip');
  }

  /**
   * The bytes of a saved context (Unicorn's uc_context: its header and the whole CPU state, SSE
   * included), so a snapshot can outlive the context or move it to another emulator.
   */
  exportContext(context: SavedContext): Uint8Array {
    // Most contexts are exported again unchanged (a thread that did not run since): the last copy
    // is handed out again instead of a new 5.5 KB one. Exported bytes are never changed, by contract.
    const view = this.contextView(context);
    const last = this.exported.get(context);
    if (last !== undefined && Buffer.compare(view, last) === 0) return last;
    const copy = view.slice();
    this.exported.set(context, copy);
    return copy;
  }

  /** The eight bytes of saved context `context` at `offset`, little-endian, read where they lie (no copy). */
  contextU64(context: SavedContext, offset: number): bigint {
    let words = this.contextWords.get(context);
    if (words === undefined) {
      const view = this.contextView(context);
      words = new DataView(view.buffer, view.byteOffset, view.byteLength);
      this.contextWords.set(context, words);
    }
    return words.getBigUint64(offset, true);
  }

  /**
   * The bytes of context `bytes` with some registers set, as exportContext would give them: loaded
   * into the CPU, written through the register API (which also puts the flags' lazy state in one
   * form), saved and exported. The CPU's own state is put back afterwards.
   */
  editedContext(bytes: Uint8Array, edits: Partial<Record<X86Register, bigint>>): Uint8Array {
    const live = this.saveContext();
    const scratch = this.importContext(bytes);
    try {
      this.restoreContext(scratch);
      for (const [name, value] of Object.entries(edits) as [X86Register, bigint][]) this.writeRaw(name, toU64(`editedContext(${name})`, value));
      this.saveContext(scratch);
      return this.exportContext(scratch);
    } finally {
      this.restoreContext(live);
      this.freeContext(scratch);
      this.freeContext(live);
    }
  }

  /** Overwrites saved context `context` with bytes from exportContext (no allocation). */
  writeContext(context: SavedContext, bytes: Uint8Array): void {
    if (bytes.length !== this.contextSize()) throw new RseqEmuError('USAGE', `a context is ${this.contextSize()} bytes, not ${bytes.length}`);
    this.contextView(context).set(bytes);
    this.exported.set(context, bytes);
  }

  /** A new context of this emulator holding bytes from exportContext (of any x86-64 emulator). */
  importContext(bytes: Uint8Array): SavedContext {
    if (bytes.length !== this.contextSize()) throw new RseqEmuError('USAGE', `a context is ${this.contextSize()} bytes, not ${bytes.length}`);
    const context = this.saveContext();
    this.contextView(context).set(bytes);
    return context;
  }

  private contextSize(): number {
    return (this.contextBytes ??= Number(this.lib.uc_context_size(this.handle())));
  }

  private contextView(context: SavedContext): Uint8Array {
    let view = this.contextViews.get(context);
    if (view === undefined) {
      view = new Uint8Array(koffi.view(this.contextPointer(context), this.contextSize()));
      this.contextViews.set(context, view);
    }
    return view;
  }

  /** Frees a context before close() would. */
  freeContext(context: SavedContext): void {
    this.lib.uc_context_free(this.contextPointer(context));
    this.contexts.delete(context);
    this.contextViews.delete(context);
    this.contextWords.delete(context);
    this.exported.delete(context);
  }

  // ---- internals ----------------------------------------------------------------------

  private handle(): NativePointer {
    if (this.uc === undefined) throw new RseqEmuError('ENGINE', 'emulator is closed');
    return this.uc;
  }

  private contextPointer(context: SavedContext): NativePointer {
    const pointer = this.contexts.get(context);
    if (pointer === undefined) throw new RseqEmuError('USAGE', 'not a saved context of this emulator (or already freed)');
    return pointer;
  }

  /** Installs a hook for the emulator's own use, removed only by close(). */
  private addInternalHook(kind: HookKind, type: number, begin: Address, end: Address, fn: NativeCallback): void {
    const uc = this.handle();
    const { callback, userData } = registerCallback(kind, fn);
    this.internalCallbacks.push(userData);
    const err = this.lib.uc_hook_add(uc, [0], type, callback, userData, begin, end);
    if (err !== UcErr.OK) {
      this.close();
      throw this.engineError('uc_hook_add', err, `internal ${kind} hook`);
    }
  }

  /** Installs a hook on [begin, end], inclusive as Unicorn has it. */
  private addHook(
    kind: HookKind, type: number, fn: NativeCallback, begin: Address, end: Address, ...variadic: unknown[]
  ): HookHandle {
    const uc = this.handle();
    const { callback, userData } = registerCallback(kind, fn);
    const id: OutParam<UcHookId> = [0];
    const err = this.lib.uc_hook_add(uc, id, type, callback, userData, begin, end, ...variadic);
    if (err !== UcErr.OK) {
      unregisterCallback(userData);
      throw this.engineError('uc_hook_add', err, kind);
    }
    const handle = { kind } as HookHandle;
    this.hooks.set(handle, { id: id[0], userData });
    return handle;
  }

  /**
   * Wraps a hook's JS function for native code.
   * - An exception must not unwind through Unicorn: it is kept, emulation is stopped, and
   *   run() rethrows it. Callbacks Unicorn still makes before the stop takes effect are
   *   skipped and return `onError`.
   * - A RIP write is handed to Unicorn only when the callback returns, and only if it did
   *   not stop: Unicorn treats a RIP write as "resume there" and cancels a pending
   *   uc_emu_stop, so a stopping callback's RIP is applied after uc_emu_start returns.
   *   `nativeRip` maps the wanted RIP to the value Unicorn must be given.
   */
  private guard<A extends unknown[], R>(
    fn: (...args: A) => R, onError: R, nativeRip: (rip: Address) => Address = (rip) => rip,
  ): (...args: A) => R {
    // Up to six arguments (the most a Unicorn callback has) passed on as they are, not by rest and
    // spread: this wraps the hook that runs before every instruction.
    const call = fn as unknown as (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown) => R;
    const guarded = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown): R => {
      if (this.callbackError) return onError;
      try {
        return call(a, b, c, d, e, f);
      } catch (error) {
        this.callbackError = { error };
        this.stop();
        return onError;
      } finally {
        if (this.pendingRip !== undefined && !this.stopRequested) {
          this.writeRaw('rip', nativeRip(this.pendingRip));
          this.pendingRip = undefined;
        }
      }
    };
    return guarded as unknown as (...args: A) => R;
  }

  /** Length of the syscall instruction at RIP: legacy and REX prefixes, then 0f 05. */
  private syscallLength(): bigint {
    const start = this.readRaw('rip');
    let at = start;
    while (SYSCALL_PREFIXES.has(this.read(at, 1)[0]!)) at++;
    return at - start + 2n;
  }

  private readRaw(name: X86Register): bigint {
    this.regBuffer.fill(0);
    const err = this.lib.uc_reg_read(this.handle(), registerId(name), this.regBuffer);
    if (err !== UcErr.OK) throw this.engineError('uc_reg_read', err, name);
    return this.regView.getBigUint64(0, true);
  }

  private writeRaw(name: X86Register, value: bigint): void {
    this.regView.setBigUint64(0, value, true);
    const err = this.lib.uc_reg_write(this.handle(), registerId(name), this.regBuffer);
    if (err !== UcErr.OK) throw this.engineError('uc_reg_write', err, name);
  }

  /** Makes [begin, end) a union of whole tracked regions by splitting the regions that straddle either bound. */
  private splitRegionsAt(begin: Address, end: Address): void {
    this.regions_ = this.regions_.flatMap((r) => {
      const cuts = [begin, end].filter((at) => at > r.begin && at < r.end);
      const bounds = [r.begin, ...cuts, r.end];
      return bounds.slice(1).map((e, i) => ({ begin: bounds[i]!, end: e, prot: r.prot }));
    });
  }

  private runError(err: number): RseqEmuError {
    const rip = this.reg('rip');
    const fault = this.lastFault;
    if (MEMORY_FAULT_ERRORS.has(err) && fault) {
      return new RseqEmuError('MEMORY',
        `uc_emu_start: ${this.lib.uc_strerror(err)}: ${fault.access} of ${fault.size} bytes at ` +
        `${hex(fault.address)} (${fault.cause}), rip=${hex(rip)}`,
        undefined, fault.address);
    }
    return new RseqEmuError('ENGINE', `uc_emu_start: ${this.lib.uc_strerror(err)} at rip=${hex(rip)}`, undefined, rip);
  }

  private engineError(fn: string, err: number, what?: string): RseqEmuError {
    return new RseqEmuError('ENGINE', `${fn}${what ? ` (${what})` : ''}: ${this.lib.uc_strerror(err)}`);
  }

  private memoryError(fn: string, err: number, address: Address, what: string): RseqEmuError {
    return new RseqEmuError('MEMORY', `${fn}: ${what} at ${hex(address)}: ${this.lib.uc_strerror(err)}`, undefined, address);
  }
}

interface RegisterBatch {
  readonly ids: Int32Array;
  /** Native memory the values are read into, and a view of it. */
  readonly native: unknown;
  readonly values: BigUint64Array;
  /** The address of each value's 8 bytes, as uc_reg_read_batch wants them. */
  readonly pointers: BigUint64Array;
}

/** A literal of one fixed shape: filling an empty object key by key made V8 fall back to a slow dictionary. */
function registerFileOf(v: BigUint64Array): RegisterFile {
  return { rax: v[0]!, rbx: v[1]!, rcx: v[2]!, rdx: v[3]!, rsi: v[4]!, rdi: v[5]!, rbp: v[6]!, rsp: v[7]!, r8: v[8]!, r9: v[9]!, r10: v[10]!, r11: v[11]!, r12: v[12]!, r13: v[13]!, r14: v[14]!, r15: v[15]!, rip: v[16]!, eflags: v[17]!, fs_base: v[18]!, gs_base: v[19]! };
}

function registerBatch(): RegisterBatch {
  const n = X86_REGISTERS.length;
  const native = koffi.alloc('uint64_t', n);
  const base = BigInt(koffi.address(native));
  return {
    ids: Int32Array.from(X86_REGISTERS, (name) => REGISTER_IDS[name]),
    native,
    values: new BigUint64Array(koffi.view(native, n * 8)),
    pointers: BigUint64Array.from(X86_REGISTERS, (_, i) => base + BigInt(i * 8)),
  };
}

function registerId(name: X86Register): number {
  // Guards JS callers and names read from user input, which the type cannot.
  if (!Object.hasOwn(REGISTER_IDS, name)) throw new RseqEmuError('USAGE', `unknown x86 register '${String(name)}'`);
  return REGISTER_IDS[name];
}

function protBits(prot: Protection): number {
  return (prot.read ? UcProt.READ : 0) | (prot.write ? UcProt.WRITE : 0) | (prot.exec ? UcProt.EXEC : 0);
}

function checkPageRange(fn: string, address: Address, size: number): void {
  const page = BigInt(PAGE_SIZE);
  if (address < 0n || address % page !== 0n || !Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0) {
    throw new RseqEmuError('USAGE',
      `${fn}: address and size must be 4 KiB aligned and size positive, got ${hex(address)} + 0x${size.toString(16)}`,
      undefined, address);
  }
}

function toU64(what: string, value: bigint): bigint {
  if (value < -(1n << 63n) || value >= 1n << 64n) {
    throw new RseqEmuError('USAGE', `${what}: ${value} does not fit in 64 bits`);
  }
  return BigInt.asUintN(64, value);
}

/**
 * A 64-bit callback argument as an unsigned bigint. koffi 3.3.4 hands uint64_t arguments
 * over as signed numbers when they fit: address 0xffff_ffff_ffff_0000 arrives as -65536.
 */
function u64(value: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(value));
}

