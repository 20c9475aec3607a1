// Shared set-up for the engine tests: one fresh Emulator per test, a code page and a data
// page at fixed addresses, and the raw x86-64 encodings the tests run.
import { Emulator, Prot } from '../../src/engine/index.js';

export const CODE = 0x10000n;
export const DATA = 0x20000n;
export const PAGE = 0x1000;

/** Raw encodings, each checked with `objdump -D -b binary -m i386:x86-64`. */
export const X86 = {
  INC_RAX: [0x48, 0xff, 0xc0],
  DEC_RCX: [0x48, 0xff, 0xc9],
  JNZ_MINUS_5: [0x75, 0xfb], // jnz to the instruction 3 bytes before this one (dec rcx; jnz)
  ADD_RAX_16: [0x48, 0x83, 0xc0, 0x10],
  LOAD_RAX_FROM_RBX: [0x48, 0x8b, 0x03], // mov rax, [rbx]
  STORE_RCX_TO_RBX: [0x48, 0x89, 0x0b], // mov [rbx], rcx
  JMP_RBX: [0xff, 0xe3],
  LOAD_RAX_FS8: [0x64, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00], // mov rax, %fs:8
  LOAD_RAX_GS8: [0x65, 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00], // mov rax, %gs:8
  SYSCALL: [0x0f, 0x05],
  UD2: [0x0f, 0x0b],
  RSEQ_SIGNATURE_UD1: [0x0f, 0xb9, 0x3d, 0x53, 0x30, 0x05, 0x53], // ud1 0x53053053(%rip), %edi
  INT3: [0xcc],
  HLT: [0xf4],
  NOP: [0x90],
} as const;

export const incs = (n: number): number[] => Array.from({ length: n }, () => X86.INC_RAX).flat();

/** `bytes` padded with nops up to `length`. */
export function padTo(length: number, bytes: readonly number[]): number[] {
  return [...bytes, ...Array<number>(length - bytes.length).fill(X86.NOP[0])];
}

/**
 * Registers beforeEach/afterEach hooks that open an emulator with CODE mapped rwx and
 * DATA mapped rw, and close it after the test so long runs leak no Unicorn handles.
 * Returns a getter for the current test's emulator.
 */
export function useEmulator(): () => Emulator {
  let emu: Emulator | undefined;
  beforeEach(() => {
    emu = Emulator.create();
    emu.map(CODE, PAGE, Prot.RWX);
    emu.map(DATA, PAGE, Prot.RW);
  });
  afterEach(() => {
    emu?.close();
    emu = undefined;
  });
  return () => {
    if (!emu) throw new Error('useEmulator: no emulator outside a test');
    return emu;
  };
}

/** Writes `bytes` at CODE and returns the address just past them. */
export function loadCode(emu: Emulator, bytes: readonly number[]): bigint {
  emu.write(CODE, Uint8Array.from(bytes));
  return CODE + BigInt(bytes.length);
}

/** Runs and returns the error run() threw, failing if it did not throw. */
export function runError(emu: Emulator, begin: bigint, opts?: Parameters<Emulator['run']>[1]): unknown {
  try {
    emu.run(begin, opts);
  } catch (error) {
    return error;
  }
  throw new Error('expected run() to throw');
}
