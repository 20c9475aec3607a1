// The x86-64 rt_sigframe as Linux builds it on the user stack (arch/x86/kernel/signal_64.c),
// layout checked against a native handler on this machine: the return address (sa_restorer) at
// the frame, the ucontext 8 bytes above it (uc_mcontext at +40, uc_sigmask at +296), the siginfo
// at ucontext + 304; the frame address is 8 mod 16, as after a call. No FPU state is saved:
// uc_mcontext.fpstate is NULL, which rt_sigreturn accepts.
import type { RegisterFile } from '../engine/index.js';
import type { Address } from '../types.js';
import { sigBit } from './signals.js';

const UC_OFFSET = 8;
const MCONTEXT = 40;
const SIGMASK = 296;
const SIGINFO = 304;
const SIGINFO_SIZE = 128;
export const FRAME_SIZE = UC_OFFSET + SIGINFO + SIGINFO_SIZE;
const RED_ZONE = 128n;
const FIX_EFLAGS = 0x50dd5n;

/** struct sigcontext order of the general registers. */
const GREGS = ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'eflags'] as const;
/** setup_rt_frame clears DF (the ABI wants it clear at function entry), TF and RF for the handler. */
const HANDLER_CLEARS = 0x400n | 0x100n | 0x10000n;
/** SIGKILL and SIGSTOP: rt_sigreturn cannot block them either (set_current_blocked). */
const UNBLOCKABLE = sigBit(9) | sigBit(19);
/** UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS: what Linux sets without FP state. */
const UC_FLAGS = 6n;

export interface SignalFrame {
  /** Where the frame starts: the handler's rsp. */
  address: Address;
  bytes: Uint8Array;
  /** Addresses of the siginfo and ucontext, the handler's second and third arguments. */
  info: Address;
  ucontext: Address;
}

export interface SignalInfo {
  signo: number;
  code: number;
  pid: number;
  uid: number;
}

/** Lays out the frame below `regs.rsp`, past the red zone. */
export function buildFrame(regs: RegisterFile, blockedMask: bigint, restorer: Address, info: SignalInfo): SignalFrame {
  const address = ((regs.rsp - RED_ZONE - BigInt(FRAME_SIZE)) & ~15n) - 8n;
  const bytes = new Uint8Array(FRAME_SIZE);
  const v = new DataView(bytes.buffer);
  v.setBigUint64(0, restorer, true);
  v.setBigUint64(UC_OFFSET, UC_FLAGS, true);
  GREGS.forEach((r, i) => v.setBigUint64(UC_OFFSET + MCONTEXT + i * 8, BigInt.asUintN(64, regs[r]), true));
  // cs, gs, fs, ss as the kernel saves them for a 64-bit user thread.
  v.setUint16(UC_OFFSET + MCONTEXT + 18 * 8, 0x33, true);
  v.setUint16(UC_OFFSET + MCONTEXT + 18 * 8 + 6, 0x2b, true);
  v.setBigUint64(UC_OFFSET + MCONTEXT + 21 * 8, blockedMask & 0xffffffffn, true); // oldmask
  v.setBigUint64(UC_OFFSET + SIGMASK, BigInt.asUintN(64, blockedMask), true);
  const si = UC_OFFSET + SIGINFO;
  v.setInt32(si, info.signo, true);
  v.setInt32(si + 8, info.code, true);
  v.setInt32(si + 16, info.pid, true);
  v.setInt32(si + 20, info.uid, true);
  return { address, bytes, info: address + BigInt(si), ucontext: address + BigInt(UC_OFFSET) };
}

/**
 * rt_sigreturn: the handler returned through the restorer, so rsp is 8 above the frame. Returns the
 * registers and signal mask saved in the ucontext (fs_base and gs_base are not in the frame).
 */
export function readFrame(ucontextBytes: Uint8Array, current: RegisterFile): { regs: RegisterFile; sigmask: bigint } {
  const v = new DataView(ucontextBytes.buffer, ucontextBytes.byteOffset, ucontextBytes.byteLength);
  const regs = { ...current };
  GREGS.forEach((r, i) => (regs[r] = v.getBigUint64(MCONTEXT + i * 8, true)));
  // Only the user-changeable flags (FIX_EFLAGS: AC OF DF TF SF ZF AF PF CF RF) come from the frame.
  regs.eflags = (current.eflags & ~FIX_EFLAGS) | (regs.eflags & FIX_EFLAGS);
  return { regs, sigmask: v.getBigUint64(SIGMASK, true) & ~UNBLOCKABLE };
}

/** The flags the handler starts with. */
export const handlerEflags = (interrupted: bigint): bigint => interrupted & ~HANDLER_CLEARS;

export const UCONTEXT_SIZE = SIGINFO;
export const ucontextOfReturn = (rsp: Address): Address => rsp - 8n + BigInt(UC_OFFSET);
