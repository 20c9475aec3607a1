// rseq(2): `rseq(struct rseq *p, u32 len, int flags, u32 sig)` with the checks of the modelled
// kernel in its order (spec section 2; kernel/rseq.c SYSCALL_DEFINE4(rseq)).
import { RSEQ_AREA_ALIGN, RSEQ_AREA_SIZE, RSEQ_CPU_ID_UNINITIALIZED, RSEQ_FLAG_UNREGISTER, RseqField, TASK_SIZE, readU64, u64 } from '../../abi/rseq.js';
import { EBUSY, EFAULT, EINVAL, EPERM, fail } from '../errno.js';
import { hasCpuIdBug } from '../profile.js';
import { faultsAs, returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

/** offsetof(struct rseq, end) in 6.3+: the feature size (mm_cid included). */
const RSEQ_FEATURE_END = 28;
/** The 2020 proposal's flags (spec section 6). */
export const RSEQ_FLAG_REGISTER = 1 << 1;
export const RSEQ_FLAG_RELIABLE_CPU_ID = 1 << 2;

/** cpu_id_start = 0, cpu_id = -1 (uninitialized), and node_id = mm_cid = 0 where the kernel has them. */
function resetIds(ctx: SyscallContext, p: bigint, withNodeAndCid: boolean): void {
  const ids = new Uint8Array(8);
  new DataView(ids.buffer).setInt32(RseqField.cpuId, RSEQ_CPU_ID_UNINITIALIZED, true);
  ctx.mem.write(p + BigInt(RseqField.cpuIdStart), ids);
  if (withNodeAndCid) ctx.mem.write(p + BigInt(RseqField.nodeId), new Uint8Array(8));
}

export function sysRseq(ctx: SyscallContext): SyscallResult {
  const [p = 0n, lenArg = 0n, flagsArg = 0n, sigArg = 0n] = ctx.args;
  const len = Number(BigInt.asUintN(32, lenArg));
  let flags = Number(BigInt.asIntN(32, flagsArg));
  const sig = Number(BigInt.asUintN(32, sigArg));
  const t = ctx.thread;
  const profile = ctx.kernel.profile;
  const v5 = profile.base === 'linux-5.x';

  if (flags & RSEQ_FLAG_UNREGISTER) {
    if (flags & ~RSEQ_FLAG_UNREGISTER) return returns(fail(EINVAL));
    if (!t.rseq || t.rseq.area !== p) return returns(fail(EINVAL));
    if (len !== t.rseq.length) return returns(fail(EINVAL));
    if (sig !== t.rseq.sig) return returns(fail(EPERM));
    if (!faultsAs(() => (resetIds(ctx, p, !v5), true), false)) return returns(fail(EFAULT));
    t.rseq = null;
    t.lastIds = null;
    return returns(0n);
  }
  if (profile.reliableCpuIdFlag && flags & RSEQ_FLAG_RELIABLE_CPU_ID) {
    // rseq(NULL, 0, RELIABLE_CPU_ID, 0) == 0 tells user space the flag is known.
    if (p === 0n && len === 0 && !(flags & RSEQ_FLAG_REGISTER)) return returns(0n);
    if (flags !== (RSEQ_FLAG_REGISTER | RSEQ_FLAG_RELIABLE_CPU_ID) || hasCpuIdBug(profile)) return returns(fail(EINVAL));
    flags = 0;
  }
  if (flags !== 0) return returns(fail(EINVAL));
  if (t.rseq) {
    if (t.rseq.area !== p || t.rseq.length !== len) return returns(fail(EINVAL));
    if (t.rseq.sig !== sig) return returns(fail(EPERM));
    return returns(fail(EBUSY));
  }
  const aligned = p % BigInt(RSEQ_AREA_ALIGN) === 0n;
  const badLength = v5
    ? len !== RSEQ_AREA_SIZE || !aligned
    : len < RSEQ_AREA_SIZE || (len === RSEQ_AREA_SIZE && !aligned) || (len !== RSEQ_AREA_SIZE && (!aligned || len < RSEQ_FEATURE_END));
  if (badLength) return returns(fail(EINVAL));
  // access_ok: the range must lie in user space; whether it is mapped shows only later.
  if (p + BigInt(len) > TASK_SIZE) return returns(fail(EFAULT));
  if (profile.base === 'linux-6.19') {
    // The rewrite initialises the area at registration: rseq_cs, flags, ids.
    const ok = faultsAs(() => {
      ctx.mem.write(p + BigInt(RseqField.rseqCs), new Uint8Array(12));
      resetIds(ctx, p, true);
      ctx.mem.write(p + BigInt(RseqField.cpuIdStart), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
      return true;
    }, false);
    if (!ok) return returns(fail(EFAULT));
  } else if (!v5) {
    // Since 6.15 (fd881d0a085f): a stale rseq_cs left in the area is read and cleared.
    const ok = faultsAs(() => {
      if (readU64(ctx.mem, p + BigInt(RseqField.rseqCs)) !== 0n) ctx.mem.write(p + BigInt(RseqField.rseqCs), u64(0n));
      return true;
    }, false);
    if (!ok) return returns(fail(EFAULT));
  }
  t.rseq = { area: p, length: len, sig };
  t.lastIds = null;
  t.notifyResume = true; // cpu_id is written on the way back to user space, not here
  return returns(0n);
}

export const rseqRows: SyscallRow[] = [{ nr: 334, name: 'rseq', handler: sysRseq }];
