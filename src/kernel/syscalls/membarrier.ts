// membarrier(2), the RSEQ commands (spec section 5; kernel/sched/membarrier.c).
import { EINVAL, EPERM, fail } from '../errno.js';
import { returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

export const MEMBARRIER_CMD_QUERY = 0;
export const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ = 128;
export const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ = 256;
export const MEMBARRIER_CMD_FLAG_CPU = 1;

function sysMembarrier(ctx: SyscallContext): SyscallResult {
  const cmd = Number(BigInt.asIntN(32, ctx.args[0] ?? 0n));
  const flags = Number(BigInt.asUintN(32, ctx.args[1] ?? 0n));
  const cpuArg = Number(BigInt.asIntN(32, ctx.args[2] ?? 0n));
  const p = ctx.thread.process;
  if (cmd === MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags !== 0 && flags !== MEMBARRIER_CMD_FLAG_CPU : flags !== 0) return returns(fail(EINVAL));
  switch (cmd) {
    case MEMBARRIER_CMD_QUERY:
      // Only the RSEQ commands are modelled, so only they are advertised.
      return returns(BigInt(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ));
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ:
      p.membarrierRseqRegistered = true;
      return returns(0n);
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ:
      break;
    default:
      return returns(fail(EINVAL));
  }
  if (!p.membarrierRseqRegistered) return returns(fail(EPERM));
  const live = ctx.kernel.threadsOf(p).filter((t) => t.state !== 'exited');
  if (live.length === 1 || ctx.kernel.cpus === 1) return returns(0n);
  // Without FLAG_CPU the kernel sets cpu_id = -1; a negative cpu_id with it means all CPUs too.
  if (flags & MEMBARRIER_CMD_FLAG_CPU && cpuArg >= 0) {
    // Only the thread running on that CPU, the caller included; a CPU that does not exist is no error.
    if (cpuArg >= ctx.kernel.cpus) return returns(0n);
    const t = ctx.kernel.runningOn(cpuArg);
    if (t && t.process === p) ctx.kernel.rseqIpi(t);
    return returns(0n);
  }
  for (let cpu = 0; cpu < ctx.kernel.cpus; cpu++) {
    const t = ctx.kernel.runningOn(cpu);
    if (t && t.process === p && t !== ctx.thread && cpu !== ctx.thread.cpu) ctx.kernel.rseqIpi(t);
  }
  return returns(0n);
}

export const membarrierRows: SyscallRow[] = [{ nr: 324, name: 'membarrier', handler: sysMembarrier }];
