// Signals: rt_sigaction, rt_sigprocmask, rt_sigreturn, kill, tgkill. Delivery itself (frame on the
// user stack, the rseq fix-up first) is the machine's return-to-user work.
import { u64 } from '../../abi/rseq.js';
import { EFAULT, EINVAL, ESRCH, fail } from '../errno.js';
import type { SigAction } from '../thread.js';
import { NORETURN, faultsAs, returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

export const SIGKILL = 9;
export const SIGSTOP = 19;
const SIGSET_BYTES = 8n;
/** SIGKILL and SIGSTOP can be neither caught nor blocked. */
export const UNBLOCKABLE = (1n << BigInt(SIGKILL - 1)) | (1n << BigInt(SIGSTOP - 1));

const validSignal = (n: number) => n >= 1 && n <= 64;

function sysSigaction(ctx: SyscallContext): SyscallResult {
  const [signoArg = 0n, actPtr = 0n, oldPtr = 0n, setsize = 0n] = ctx.args;
  const signo = Number(BigInt.asIntN(32, signoArg));
  if (setsize !== SIGSET_BYTES || !validSignal(signo)) return returns(fail(EINVAL));
  if (actPtr !== 0n && (signo === SIGKILL || signo === SIGSTOP)) return returns(fail(EINVAL));
  const p = ctx.thread.process;
  const old = p.sigactions.get(signo) ?? { handler: 0n, flags: 0n, restorer: 0n, mask: 0n };
  let act: SigAction | null = null;
  if (actPtr !== 0n) {
    const b = faultsAs(() => ctx.mem.read(actPtr, 32), null);
    if (!b) return returns(fail(EFAULT));
    const v = new DataView(b.buffer);
    act = { handler: v.getBigUint64(0, true), flags: v.getBigUint64(8, true), restorer: v.getBigUint64(16, true), mask: v.getBigUint64(24, true) & ~UNBLOCKABLE };
  }
  if (oldPtr !== 0n) {
    const out = new Uint8Array(32);
    [old.handler, old.flags, old.restorer, old.mask].forEach((x, i) => out.set(u64(x), i * 8));
    if (!faultsAs(() => (ctx.mem.write(oldPtr, out), true), false)) return returns(fail(EFAULT));
  }
  if (act) ctx.kernel.setSigaction(p, signo, act);
  return returns(0n);
}

const SIG_BLOCK = 0n;
const SIG_UNBLOCK = 1n;
const SIG_SETMASK = 2n;

function sysSigprocmask(ctx: SyscallContext): SyscallResult {
  const [how = 0n, setPtr = 0n, oldPtr = 0n, setsize = 0n] = ctx.args;
  if (setsize !== SIGSET_BYTES) return returns(fail(EINVAL));
  const t = ctx.thread;
  const old = t.sigmask;
  if (setPtr !== 0n) {
    const b = faultsAs(() => ctx.mem.read(setPtr, 8), null);
    if (!b) return returns(fail(EFAULT));
    const set = new DataView(b.buffer).getBigUint64(0, true) & ~UNBLOCKABLE;
    if (how === SIG_BLOCK) t.sigmask |= set;
    else if (how === SIG_UNBLOCK) t.sigmask &= ~set;
    else if (how === SIG_SETMASK) t.sigmask = set;
    else return returns(fail(EINVAL));
  }
  if (oldPtr !== 0n && !faultsAs(() => (ctx.mem.write(oldPtr, u64(old)), true), false)) return returns(fail(EFAULT));
  return returns(0n);
}

function sysKill(ctx: SyscallContext): SyscallResult {
  const pid = Number(BigInt.asIntN(32, ctx.args[0] ?? 0n));
  const signo = Number(BigInt.asIntN(32, ctx.args[1] ?? 0n));
  if (signo < 0 || signo > 64) return returns(fail(EINVAL));
  // pid 0 and -1 mean the caller's own process here: the model has no other process groups.
  const target = pid <= 0 ? ctx.thread : ctx.kernel.findThread(pid);
  if (!target || target.state === 'exited' || (pid > 0 && target.process.pid !== pid)) return returns(fail(ESRCH));
  if (signo !== 0) ctx.kernel.sendSignal(target, signo, ctx.thread);
  return returns(0n);
}

function sysTgkill(ctx: SyscallContext): SyscallResult {
  const tgid = Number(BigInt.asIntN(32, ctx.args[0] ?? 0n));
  const tid = Number(BigInt.asIntN(32, ctx.args[1] ?? 0n));
  const signo = Number(BigInt.asIntN(32, ctx.args[2] ?? 0n));
  if (tgid <= 0 || tid <= 0 || signo < 0 || signo > 64) return returns(fail(EINVAL));
  const target = ctx.kernel.findThread(tid);
  if (!target || target.state === 'exited' || target.process.pid !== tgid) return returns(fail(ESRCH));
  if (signo !== 0) ctx.kernel.sendSignal(target, signo, ctx.thread);
  return returns(0n);
}

export const signalRows: SyscallRow[] = [
  { nr: 13, name: 'rt_sigaction', handler: sysSigaction },
  { nr: 14, name: 'rt_sigprocmask', handler: sysSigprocmask },
  { nr: 15, name: 'rt_sigreturn', handler: (ctx) => (ctx.kernel.sigreturn(ctx.thread), NORETURN) },
  { nr: 62, name: 'kill', handler: sysKill },
  { nr: 234, name: 'tgkill', handler: sysTgkill },
];
