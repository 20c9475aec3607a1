// Unicorn enum values used by the engine, copied from the libunicorn 2.0.1 headers
// (/usr/include/unicorn/unicorn.h and x86.h, Debian package libunicorn-dev 2.0.1).
// The x86 enums are implicit (`UC_X86_REG_RAX,` with no `= n`), so their values shift
// between releases and a wrong id fails silently: test/engine/constants.test.ts
// re-derives every value below from the installed headers.

/** uc_arch (unicorn.h). */
export const UC_ARCH_X86 = 4;

/** uc_mode (unicorn.h). */
export const UC_MODE_64 = 8;

/** uc_err (unicorn.h). */
export const UcErr = {
  OK: 0,
  NOMEM: 1,
  ARCH: 2,
  HANDLE: 3,
  MODE: 4,
  VERSION: 5,
  READ_UNMAPPED: 6,
  WRITE_UNMAPPED: 7,
  FETCH_UNMAPPED: 8,
  HOOK: 9,
  INSN_INVALID: 10,
  MAP: 11,
  WRITE_PROT: 12,
  READ_PROT: 13,
  FETCH_PROT: 14,
  ARG: 15,
  READ_UNALIGNED: 16,
  WRITE_UNALIGNED: 17,
  FETCH_UNALIGNED: 18,
  HOOK_EXIST: 19,
  RESOURCE: 20,
  EXCEPTION: 21,
} as const;

/** uc_hook_type (unicorn.h); MEM_INVALID is the header's UC_HOOK_MEM_INVALID macro. */
export const UcHook = {
  INTR: 1 << 0,
  INSN: 1 << 1,
  CODE: 1 << 2,
  MEM_READ_UNMAPPED: 1 << 4,
  MEM_WRITE_UNMAPPED: 1 << 5,
  MEM_FETCH_UNMAPPED: 1 << 6,
  MEM_READ_PROT: 1 << 7,
  MEM_WRITE_PROT: 1 << 8,
  MEM_FETCH_PROT: 1 << 9,
  MEM_INVALID: (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9),
  MEM_READ: 1 << 10,
  MEM_WRITE: 1 << 11,
  INSN_INVALID: 1 << 14,
} as const;

/** uc_mem_type (unicorn.h): the `type` argument of invalid-memory callbacks. */
export const UcMem = {
  READ: 16,
  WRITE: 17,
  READ_UNMAPPED: 19,
  WRITE_UNMAPPED: 20,
  FETCH_UNMAPPED: 21,
  WRITE_PROT: 22,
  READ_PROT: 23,
  FETCH_PROT: 24,
} as const;

/** uc_prot (unicorn.h). */
export const UcProt = {
  NONE: 0,
  READ: 1,
  WRITE: 2,
  EXEC: 4,
} as const;

/**
 * uc_ctl control word, built like the header's UC_CTL_WRITE(type, nr) macro:
 * type | (number of arguments << 26) | (UC_CTL_IO_WRITE << 30).
 */
export const UC_CTL_IO_WRITE = 1;
export const UC_CTL_TB_FLUSH = 10;
/** uc_ctl(uc, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0)) */
export const UC_CTL_WRITE_TB_FLUSH = UC_CTL_TB_FLUSH | (0 << 26) | (UC_CTL_IO_WRITE << 30);

/** uc_x86_reg (x86.h) for the registers the engine exposes. */
export const UcX86Reg = {
  EFLAGS: 25,
  RAX: 35,
  RBP: 36,
  RBX: 37,
  RCX: 38,
  RDI: 39,
  RDX: 40,
  RIP: 41,
  RSI: 43,
  RSP: 44,
  R8: 106,
  R9: 107,
  R10: 108,
  R11: 109,
  R12: 110,
  R13: 111,
  R14: 112,
  R15: 113,
  FS_BASE: 250,
  GS_BASE: 251,
} as const;

/** uc_x86_insn (x86.h): the instruction id passed to uc_hook_add for UC_HOOK_INSN. */
export const UC_X86_INS_SYSCALL = 699;
