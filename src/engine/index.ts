// Public API of the engine: one emulated x86-64 CPU over Unicorn.
export {
  Emulator, NEVER_REACHED, PAGE_SIZE, Prot, X86_REGISTERS,
  type CodeHook, type HookHandle, type HookKind, type InterruptHook, type InvalidInstructionHook,
  type InvalidMemoryHook, type MemoryAccess, type MemoryFaultCause, type MemoryRegion, type Protection,
  type RegisterFile, type RunOptions, type SavedContext, type SyscallHook, type X86Register,
} from './emulator.js';
export { LIBRARY_NAME, unicornVersion } from './unicorn-library.js';
