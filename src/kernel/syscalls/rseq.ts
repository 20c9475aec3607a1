// rseq(2): `rseq(struct rseq *p, u32 len, int flags, u32 sig)` with the checks of Linux 6.3–6.18
// in the kernel's order (spec section 2; kernel/rseq.c SYSCALL_DEFINE4(rseq)).
import { RSEQ_AREA_ALIGN, RSEQ_AREA_SIZE, RSEQ_CPU_ID_UNINITIALIZED, RSEQ_FLAG_UNREGISTER, RseqField, TASK_SIZE, readU64, u64 } from '../../abi/rseq.js';
import { EBUSY, EFAULT, EINVAL, EPERM, fail } from '../errno.js';
import { returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

/** offsetof(struct rseq, end) in 6.3+: the feature size (mm_cid included). */
const RSEQ_FEATURE_END = 28;

export function sysRseq(ctx: SyscallContext): SyscallResult {
  const [p = 0n, lenArg = 0n, flagsArg = 0n, sigArg = 0n] = ctx.args;
  const len = Number(BigInt.asUintN(32, lenArg));
  const flags = Number(BigInt.asIntN(32, flagsArg));
  const sig = Number(BigInt.asUintN(32, sigArg));
  const t = ctx.thread;

  if (flags & RSEQ_FLAG_UNREGISTER) {
    if (flags & ~RSEQ_FLAG_UNREGISTER) return returns(fail(EINVAL));
    if (!t.rseq || t.rseq.area !== p) return returns(fail(EINVAL));
    if (len !== t.rseq.length) return returns(fail(EINVAL));
    if (sig !== t.rseq.sig) return returns(fail(EPERM));
    // cpu_id_start = 0, cpu_id = -1 (uninitialized), node_id = mm_cid = 0.
    const ids = new Uint8Array(8);
    new DataView(ids.buffer).setInt32(RseqField.cpuId, RSEQ_CPU_ID_UNINITIALIZED, true);
    try {
      ctx.mem.write(p + BigInt(RseqField.cpuIdStart), ids);
      ctx.mem.write(p + BigInt(RseqField.nodeId), new Uint8Array(8));
    } catch {
      return returns(fail(EFAULT));
    }
    t.rseq = null;
    return returns(0n);
  }
  if (flags !== 0) return returns(fail(EINVAL));
  if (t.rseq) {
    if (t.rseq.area !== p || t.rseq.length !== len) return returns(fail(EINVAL));
    if (t.rseq.sig !== sig) return returns(fail(EPERM));
    return returns(fail(EBUSY));
  }
  const aligned = p % BigInt(RSEQ_AREA_ALIGN) === 0n;
  if (len < RSEQ_AREA_SIZE || (len === RSEQ_AREA_SIZE && !aligned) || (len !== RSEQ_AREA_SIZE && (!aligned || len < RSEQ_FEATURE_END))) {
    return returns(fail(EINVAL));
  }
  // access_ok: the range must lie in user space; whether it is mapped shows only later.
  if (p + BigInt(len) > TASK_SIZE) return returns(fail(EFAULT));
  // Since 6.15 (fd881d0a085f): a stale rseq_cs left in the area is read and cleared.
  try {
    if (readU64(ctx.mem, p + BigInt(RseqField.rseqCs)) !== 0n) ctx.mem.write(p + BigInt(RseqField.rseqCs), u64(0n));
  } catch {
    return returns(fail(EFAULT));
  }
  t.rseq = { area: p, length: len, sig };
  t.notifyResume = true; // cpu_id is written on the way back to user space, not here
  return returns(0n);
}

export const rseqRows: SyscallRow[] = [{ nr: 334, name: 'rseq', handler: sysRseq }];
