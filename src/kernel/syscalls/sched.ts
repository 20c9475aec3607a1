// CPU placement: getcpu, sched_yield, sched_getaffinity/sched_setaffinity, and the sleeps, which
// are voluntary switch-outs in a model without time.
import { u32, u64 } from '../../abi/rseq.js';
import { EFAULT, EINVAL, ESRCH, fail } from '../errno.js';
import { faultsAs, returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

/** cpumask_size(): one unsigned long for up to 64 CPUs. */
const MASK_BYTES = 8;

function sysGetcpu(ctx: SyscallContext): SyscallResult {
  const [cpuPtr = 0n, nodePtr = 0n] = ctx.args;
  const ok = faultsAs(() => {
    if (cpuPtr !== 0n) ctx.mem.write(cpuPtr, u32(ctx.thread.cpu));
    if (nodePtr !== 0n) ctx.mem.write(nodePtr, u32(0));
    return true;
  }, false);
  return returns(ok ? 0n : fail(EFAULT));
}

/** pid 0 is the caller; otherwise a thread id. */
function target(ctx: SyscallContext) {
  const pid = Number(BigInt.asIntN(32, ctx.args[0] ?? 0n));
  return pid === 0 ? ctx.thread : ctx.kernel.findThread(pid);
}

const allCpus = (cpus: number) => (cpus >= 64 ? (1n << 64n) - 1n : (1n << BigInt(cpus)) - 1n);

function sysGetaffinity(ctx: SyscallContext): SyscallResult {
  const [, len = 0n, maskPtr = 0n] = ctx.args;
  // The length is checked before the thread is looked up (kernel/sched/core.c).
  if (len < BigInt(MASK_BYTES) || len % 8n !== 0n) return returns(fail(EINVAL));
  const t = target(ctx);
  if (!t || t.state === 'exited') return returns(fail(ESRCH));
  return returns(faultsAs(() => (ctx.mem.write(maskPtr, u64(t.affinity)), BigInt(MASK_BYTES)), fail(EFAULT)));
}

function sysSetaffinity(ctx: SyscallContext): SyscallResult {
  const [, len = 0n, maskPtr = 0n] = ctx.args;
  // The mask is copied in before the thread is looked up (kernel/sched/core.c).
  const n = Number(len < 8n ? len : 8n);
  const bytes = faultsAs(() => ctx.mem.read(maskPtr, n), null);
  if (!bytes) return returns(fail(EFAULT));
  const t = target(ctx);
  if (!t || t.state === 'exited') return returns(fail(ESRCH));
  let mask = 0n;
  bytes.forEach((b, i) => (mask |= BigInt(b) << BigInt(8 * i)));
  mask &= allCpus(ctx.kernel.cpus);
  if (mask === 0n) return returns(fail(EINVAL));
  t.affinity = mask;
  // A mask without the current CPU moves the thread before the call returns.
  if (!((mask >> BigInt(t.cpu)) & 1n)) {
    let cpu = 0;
    while (!((mask >> BigInt(cpu)) & 1n)) cpu++;
    ctx.kernel.migrate(t, cpu);
  }
  return returns(0n);
}

const NSEC_PER_SEC = 1_000_000_000n;
/** Clocks clock_nanosleep can sleep on: REALTIME, MONOTONIC, PROCESS_CPUTIME, BOOTTIME, the two ALARM clocks, TAI. */
const SLEEP_CLOCKS = new Set([0, 1, 2, 7, 8, 9, 11]);
/** Clocks that exist but cannot be slept on (MONOTONIC_RAW and the COARSE ones): -EOPNOTSUPP. */
const NO_SLEEP_CLOCKS = new Set([4, 5, 6]);
const EOPNOTSUPP = 95;

/**
 * The duration is read and checked first (get_timespec64, timespec64_valid): a bad one returns at
 * once, without sleeping. Otherwise the thread leaves its CPU and comes back at its next turn.
 */
function sleepFor(ctx: SyscallContext, tsPtr: bigint): SyscallResult {
  const ts = faultsAs(() => ctx.mem.read(tsPtr, 16), null);
  if (!ts) return returns(fail(EFAULT));
  const v = new DataView(ts.buffer, ts.byteOffset, ts.byteLength);
  const sec = v.getBigInt64(0, true);
  const nsec = v.getBigInt64(8, true);
  if (sec < 0n || nsec < 0n || nsec >= NSEC_PER_SEC) return returns(fail(EINVAL));
  ctx.kernel.yieldCpu(ctx.thread, true);
  return returns(0n);
}

function sysNanosleep(ctx: SyscallContext): SyscallResult {
  return sleepFor(ctx, ctx.args[0] ?? 0n);
}

/** clock_nanosleep(clockid, flags, rqtp, rmtp): the clock is checked before the duration. */
function sysClockNanosleep(ctx: SyscallContext): SyscallResult {
  const clock = Number(BigInt.asIntN(32, ctx.args[0] ?? 0n));
  if (NO_SLEEP_CLOCKS.has(clock)) return returns(fail(EOPNOTSUPP));
  if (!SLEEP_CLOCKS.has(clock)) return returns(fail(EINVAL)); // THREAD_CPUTIME, unknown and dynamic clocks
  return sleepFor(ctx, ctx.args[2] ?? 0n);
}

export const schedRows: SyscallRow[] = [
  { nr: 24, name: 'sched_yield', handler: (ctx) => (ctx.kernel.yieldCpu(ctx.thread, false), returns(0n)) },
  { nr: 35, name: 'nanosleep', handler: sysNanosleep },
  { nr: 203, name: 'sched_setaffinity', handler: sysSetaffinity },
  { nr: 204, name: 'sched_getaffinity', handler: sysGetaffinity },
  { nr: 230, name: 'clock_nanosleep', handler: sysClockNanosleep },
  { nr: 309, name: 'getcpu', handler: sysGetcpu },
];
