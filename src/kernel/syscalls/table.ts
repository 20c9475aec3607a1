// The system call table: one row per implemented call. Anything else returns -ENOSYS and is
// logged by number and name, never a crash.
import { ENOSYS, fail } from '../errno.js';
import { DEFAULT_PROFILE, type Profile } from '../profile.js';
import { cpuOpvRows } from './cpu-opv.js';
import { kvmRows } from './kvm.js';
import { membarrierRows } from './membarrier.js';
import { processRows } from './process.js';
import { rseqRows } from './rseq.js';
import { schedRows } from './sched.js';
import { signalRows } from './signal.js';
import { returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

// x86-64 numbers of calls rseq code and its tests commonly make, so unknown ones are named.
const KNOWN_NAMES: Record<number, string> = {
  0: 'read', 1: 'write', 2: 'open', 3: 'close', 9: 'mmap', 10: 'mprotect', 11: 'munmap', 12: 'brk', 13: 'rt_sigaction',
  14: 'rt_sigprocmask', 15: 'rt_sigreturn', 16: 'ioctl', 24: 'sched_yield', 35: 'nanosleep', 39: 'getpid', 56: 'clone',
  57: 'fork', 58: 'vfork', 59: 'execve', 60: 'exit', 61: 'wait4', 62: 'kill', 158: 'arch_prctl', 186: 'gettid', 202: 'futex',
  203: 'sched_setaffinity', 204: 'sched_getaffinity', 218: 'set_tid_address', 228: 'clock_gettime', 230: 'clock_nanosleep',
  231: 'exit_group', 234: 'tgkill', 273: 'set_robust_list', 309: 'getcpu', 324: 'membarrier', 334: 'rseq', 335: 'cpu_opv', 435: 'clone3',
};

export class SyscallTable {
  private readonly rows = new Map<number, SyscallRow>();

  /** Rows a profile gates (`available`) are in the table only under a profile that has them. */
  constructor(rows: SyscallRow[] = [...rseqRows, ...processRows, ...schedRows, ...signalRows, ...membarrierRows, ...kvmRows, ...cpuOpvRows], profile: Profile = DEFAULT_PROFILE) {
    for (const r of rows) if (!r.available || r.available(profile)) this.rows.set(r.nr, r);
  }

  name(nr: number): string {
    return this.rows.get(nr)?.name ?? KNOWN_NAMES[nr] ?? `syscall_${nr}`;
  }

  implemented(nr: number): boolean {
    return this.rows.has(nr);
  }

  dispatch(nr: number, ctx: SyscallContext): SyscallResult {
    const row = this.rows.get(nr);
    return row ? row.handler(ctx) : returns(fail(ENOSYS));
  }
}
