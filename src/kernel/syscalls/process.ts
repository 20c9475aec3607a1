// Process-level calls: exit, exit_group, getcpu, write to the captured stdout/stderr.
import { u32 } from '../../abi/rseq.js';
import { EBADF, EFAULT, fail } from '../errno.js';
import { returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

const code = (ctx: SyscallContext) => Number(BigInt.asIntN(32, ctx.args[0] ?? 0n)) & 0xff;

function sysGetcpu(ctx: SyscallContext): SyscallResult {
  const [cpuPtr = 0n, nodePtr = 0n] = ctx.args;
  try {
    if (cpuPtr !== 0n) ctx.mem.write(cpuPtr, u32(ctx.thread.cpu));
    if (nodePtr !== 0n) ctx.mem.write(nodePtr, u32(0));
  } catch {
    return returns(fail(EFAULT));
  }
  return returns(0n);
}

function sysWrite(ctx: SyscallContext): SyscallResult {
  const [fd = 0n, buf = 0n, count = 0n] = ctx.args;
  if (fd !== 1n && fd !== 2n) return returns(fail(EBADF));
  const n = Number(count > 1n << 20n ? 1n << 20n : count);
  let bytes: Uint8Array;
  try {
    bytes = ctx.mem.read(buf, n);
  } catch {
    return returns(fail(EFAULT));
  }
  ctx.output(Number(fd), bytes);
  return returns(BigInt(n));
}

export const processRows: SyscallRow[] = [
  { nr: 1, name: 'write', handler: sysWrite },
  { nr: 60, name: 'exit', handler: (ctx) => ({ kind: 'exit', code: code(ctx), group: false }) },
  { nr: 231, name: 'exit_group', handler: (ctx) => ({ kind: 'exit', code: code(ctx), group: true }) },
  { nr: 309, name: 'getcpu', handler: sysGetcpu },
];
