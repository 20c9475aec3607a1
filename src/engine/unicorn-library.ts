// Raw bindings to libunicorn.so.2 through koffi. Nothing here knows about x86 or
// about our types: emulator.ts turns these C calls into a typed API.
//
// koffi 3 conventions the prototypes rely on: C pointers (uc_engine *, uc_context *,
// registered callbacks) are passed and returned as bigint addresses; `_Out_` scalar
// parameters take a one-element array that koffi fills; 64-bit callback arguments arrive
// as a number or a bigint, and uint64_t ones as signed (see u64() in emulator.ts).
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { RseqEmuError } from '../errors.js';

export const LIBRARY_NAME = 'libunicorn.so.2';

/** An opaque native pointer (uc_engine *, uc_context *, registered callback). */
export type NativePointer = bigint;

/** `uc_hook` is a size_t; koffi returns it as number or bigint depending on magnitude. */
export type UcHookId = number | bigint;

/** An `_Out_` parameter: koffi writes the result into element 0. */
export type OutParam<T> = [T];

/**
 * The C functions we call. Every one returning `number` returns a uc_err code.
 * uc_hook_add and uc_ctl are variadic: extra C arguments are passed as (type, value)
 * pairs, e.g. `'int', UC_X86_INS_SYSCALL`.
 */
export interface UnicornLibrary {
  uc_version(major: OutParam<number>, minor: OutParam<number>): number;
  uc_open(arch: number, mode: number, uc: OutParam<NativePointer | null>): number;
  uc_close(uc: NativePointer): number;
  uc_errno(uc: NativePointer): number;
  uc_strerror(code: number): string;
  uc_mem_map(uc: NativePointer, address: bigint, size: number, perms: number): number;
  uc_mem_unmap(uc: NativePointer, address: bigint, size: number): number;
  uc_mem_protect(uc: NativePointer, address: bigint, size: number, perms: number): number;
  uc_mem_read(uc: NativePointer, address: bigint, bytes: Uint8Array, size: number): number;
  uc_mem_write(uc: NativePointer, address: bigint, bytes: Uint8Array, size: number): number;
  uc_reg_read(uc: NativePointer, regid: number, value: Uint8Array): number;
  uc_reg_write(uc: NativePointer, regid: number, value: Uint8Array): number;
  /** `values` holds `count` pointers, each to 8 bytes (see Emulator.readRegisters). */
  uc_reg_read_batch(uc: NativePointer, regids: Int32Array, values: BigUint64Array, count: number): number;
  uc_emu_start(uc: NativePointer, begin: bigint, until: bigint, timeout: number, count: number): number;
  uc_emu_stop(uc: NativePointer): number;
  uc_hook_add(
    uc: NativePointer, hh: OutParam<UcHookId>, type: number, callback: NativePointer,
    userData: NativePointer, begin: bigint, end: bigint, ...variadic: unknown[]
  ): number;
  uc_hook_del(uc: NativePointer, hh: UcHookId): number;
  uc_context_alloc(uc: NativePointer, context: OutParam<NativePointer | null>): number;
  uc_context_save(uc: NativePointer, context: NativePointer): number;
  uc_context_restore(uc: NativePointer, context: NativePointer): number;
  uc_context_free(context: NativePointer): number;
  uc_context_size(uc: NativePointer): number | bigint;
  uc_ctl(uc: NativePointer, control: number, ...variadic: unknown[]): number;
}

/** Callback prototypes from unicorn.h. The leading `uc` argument is declared void * because we never use it. */
const CallbackProto = {
  /** uc_cb_hookcode_t */
  code: koffi.proto('void rseq_uc_cb_hookcode(void *uc, uint64_t address, uint32_t size, void *user)'),
  /** uc_cb_insn_syscall_t (x86.h) */
  syscall: koffi.proto('void rseq_uc_cb_insn_syscall(void *uc, void *user)'),
  /** uc_cb_hookintr_t */
  interrupt: koffi.proto('void rseq_uc_cb_hookintr(void *uc, uint32_t intno, void *user)'),
  /** uc_cb_hookinsn_invalid_t */
  invalidInstruction: koffi.proto('bool rseq_uc_cb_hookinsn_invalid(void *uc, void *user)'),
  /** uc_cb_eventmem_t */
  invalidMemory: koffi.proto(
    'bool rseq_uc_cb_eventmem(void *uc, int type, uint64_t address, int size, int64_t value, void *user)',
  ),
  /** uc_cb_hookmem_t */
  memoryWrite: koffi.proto(
    'void rseq_uc_cb_hookmem(void *uc, int type, uint64_t address, int size, int64_t value, void *user)',
  ),
} as const;

export type CallbackKind = keyof typeof CallbackProto;

/** What a trampoline returns when its target is gone (a hook removed while its code runs). */
const ORPHAN_RESULT: Readonly<Record<CallbackKind, boolean | undefined>> = {
  code: undefined, syscall: undefined, interrupt: undefined, invalidInstruction: false, invalidMemory: false, memoryWrite: undefined,
};

/**
 * A JS function called by Unicorn. It receives the C arguments as koffi decodes them,
 * `uc` first and `user_data` last.
 */
export type NativeCallback = (...args: never[]) => unknown;

// Every hook shares one koffi-registered trampoline per callback kind; the trampoline
// finds the hook's JS function through the user_data pointer, which carries a key into
// `targets`. Registering one koffi callback per hook does not work: a callback that is
// registered while another koffi callback is running (a hook added from inside a hook)
// throws "RangeError: Maximum call stack size exceeded" whenever it is called later
// (measured with koffi 3.3.4).
const targets = new Map<number, (...args: unknown[]) => unknown>();
let nextKey = 1;
let trampolines: Record<CallbackKind, NativePointer> | undefined;

function makeTrampolines(): Record<CallbackKind, NativePointer> {
  const make = (kind: CallbackKind, fn: (...args: never[]) => unknown): NativePointer => koffi.register(fn, koffi.pointer(CallbackProto[kind]));
  const route = (user: unknown) => targets.get(Number(user));
  // One per arity, not rest and spread: the code hook runs before every instruction, and an
  // array per call showed in profiles.
  // All at once, on the first registration: that one cannot happen inside a callback,
  // while a later lazy registration could.
  return {
    code: make('code', (uc: unknown, address: unknown, size: unknown, user: unknown) => {
      const target = route(user);
      return target ? target(uc, address, size, user) : ORPHAN_RESULT.code;
    }),
    syscall: make('syscall', (uc: unknown, user: unknown) => {
      const target = route(user);
      return target ? target(uc, user) : ORPHAN_RESULT.syscall;
    }),
    interrupt: make('interrupt', (uc: unknown, intno: unknown, user: unknown) => {
      const target = route(user);
      return target ? target(uc, intno, user) : ORPHAN_RESULT.interrupt;
    }),
    invalidInstruction: make('invalidInstruction', (uc: unknown, user: unknown) => {
      const target = route(user);
      return target ? target(uc, user) : ORPHAN_RESULT.invalidInstruction;
    }),
    invalidMemory: make('invalidMemory', (uc: unknown, type: unknown, address: unknown, size: unknown, value: unknown, user: unknown) => {
      const target = route(user);
      return target ? target(uc, type, address, size, value, user) : ORPHAN_RESULT.invalidMemory;
    }),
    memoryWrite: make('memoryWrite', (uc: unknown, type: unknown, address: unknown, size: unknown, value: unknown, user: unknown) => {
      const target = route(user);
      return target ? target(uc, type, address, size, value, user) : ORPHAN_RESULT.memoryWrite;
    }),
  };
}

/**
 * Routes Unicorn callbacks of `kind` to `fn`. Pass `callback` and `userData` to
 * uc_hook_add, and `userData` to unregisterCallback once the hook is deleted.
 */
export function registerCallback(kind: CallbackKind, fn: NativeCallback): { callback: NativePointer; userData: NativePointer } {
  trampolines ??= makeTrampolines();
  const key = nextKey++;
  targets.set(key, fn as (...args: unknown[]) => unknown);
  return { callback: trampolines[kind], userData: BigInt(key) };
}

/** Stops routing calls for `userData`; calls that still arrive get a neutral result. Idempotent. */
export function unregisterCallback(userData: NativePointer): void {
  targets.delete(Number(userData));
}

/** How many callbacks are registered, for leak tests. */
export function registeredCallbackCount(): number {
  return targets.size;
}

function bind(lib: LibraryHandle): UnicornLibrary {
  const engine = 'void *';
  const f = (name: string, result: string, args: (string | TypeObject | ReturnType<typeof koffi.out>)[]) =>
    lib.func(name, result, args);
  const out = (type: string) => koffi.out(koffi.pointer(type));
  return {
    uc_version: f('uc_version', 'uint', [out('uint'), out('uint')]),
    uc_open: f('uc_open', 'int', ['int', 'int', out('void *')]),
    uc_close: f('uc_close', 'int', [engine]),
    uc_errno: f('uc_errno', 'int', [engine]),
    uc_strerror: f('uc_strerror', 'const char *', ['int']),
    uc_mem_map: f('uc_mem_map', 'int', [engine, 'uint64_t', 'size_t', 'uint32_t']),
    uc_mem_unmap: f('uc_mem_unmap', 'int', [engine, 'uint64_t', 'size_t']),
    uc_mem_protect: f('uc_mem_protect', 'int', [engine, 'uint64_t', 'size_t', 'uint32_t']),
    uc_mem_read: f('uc_mem_read', 'int', [engine, 'uint64_t', 'void *', 'size_t']),
    uc_mem_write: f('uc_mem_write', 'int', [engine, 'uint64_t', 'void *', 'size_t']),
    uc_reg_read: f('uc_reg_read', 'int', [engine, 'int', 'void *']),
    uc_reg_write: f('uc_reg_write', 'int', [engine, 'int', 'void *']),
    uc_reg_read_batch: f('uc_reg_read_batch', 'int', [engine, 'void *', 'void *', 'int']),
    uc_emu_start: f('uc_emu_start', 'int', [engine, 'uint64_t', 'uint64_t', 'uint64_t', 'size_t']),
    uc_emu_stop: f('uc_emu_stop', 'int', [engine]),
    uc_hook_add: f('uc_hook_add', 'int',
      [engine, out('size_t'), 'int', 'void *', 'void *', 'uint64_t', 'uint64_t', '...']),
    uc_hook_del: f('uc_hook_del', 'int', [engine, 'size_t']),
    uc_context_alloc: f('uc_context_alloc', 'int', [engine, out('void *')]),
    uc_context_save: f('uc_context_save', 'int', [engine, 'void *']),
    uc_context_restore: f('uc_context_restore', 'int', [engine, 'void *']),
    uc_context_free: f('uc_context_free', 'int', ['void *']),
    uc_context_size: f('uc_context_size', 'size_t', [engine]),
    uc_ctl: f('uc_ctl', 'int', [engine, 'int', '...']),
  } as UnicornLibrary;
}

// The outcome of the single load attempt: either the bound library or the error to
// rethrow on every later call (retrying would fail the same way).
let loaded: { lib: UnicornLibrary } | { error: unknown } | undefined;

/** The bound libunicorn.so.2, loaded on first use (see loadUnicorn for the errors). */
export function unicorn(): UnicornLibrary {
  if (!loaded) {
    try {
      loaded = { lib: loadUnicorn(LIBRARY_NAME) };
    } catch (error) {
      loaded = { error };
    }
  }
  if ('error' in loaded) throw loaded.error;
  return loaded.lib;
}

/**
 * Loads and binds the Unicorn library at `path` (a soname or a file). Throws
 * RseqEmuError('ENGINE_LOAD') when it cannot be loaded or is not a 2.x release (our enum
 * ids are 2.x ones). Exported so that tests can exercise the failure with a bad path.
 */
export function loadUnicorn(path: string): UnicornLibrary {
  let lib: UnicornLibrary;
  try {
    lib = bind(koffi.load(path));
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new RseqEmuError('ENGINE_LOAD',
      `${LIBRARY_NAME} not found — install it with \`apt-get install -y libunicorn2\` (Debian 12). ` +
      `Loading ${path} failed: ${reason}`);
  }
  const { major, minor } = versionOf(lib);
  if (major !== 2) {
    throw new RseqEmuError('ENGINE_LOAD',
      `${path} is Unicorn ${major}.${minor}, but rseq-emu needs Unicorn 2 ` +
      '— install it with `apt-get install -y libunicorn2` (Debian 12)');
  }
  return lib;
}

function versionOf(lib: UnicornLibrary): { major: number; minor: number } {
  const major: OutParam<number> = [0];
  const minor: OutParam<number> = [0];
  lib.uc_version(major, minor);
  return { major: major[0], minor: minor[0] };
}

/** The loaded library's version as "major.minor" (uc_version does not report the patch level). */
export function unicornVersion(): string {
  const { major, minor } = versionOf(unicorn());
  return `${major}.${minor}`;
}
