// Threads and processes: exit, exit_group, getpid, gettid, clone, fork, wait4, and write(2) to
// the captured stdout/stderr.
import { u32 } from '../../abi/rseq.js';
import { EAGAIN, EBADF, ECHILD, EFAULT, EINVAL, fail } from '../errno.js';
import { NORETURN, faultsAs, returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';
import { LIMITS } from '../../limits.js';

const code = (ctx: SyscallContext) => Number(BigInt.asIntN(32, ctx.args[0] ?? 0n)) & 0xff;

function sysWrite(ctx: SyscallContext): SyscallResult {
  const [fd = 0n, buf = 0n, count = 0n] = ctx.args;
  if (fd !== 1n && fd !== 2n) return returns(fail(EBADF));
  const n = Number(count > 1n << 20n ? 1n << 20n : count);
  // Past the capture limit only the buffer's ends are read: a write loop must not copy gigabytes.
  const kept = Math.min(n, ctx.kernel.outputRoom());
  const readable = faultsAs(() => (n > kept && (ctx.mem.read(buf + BigInt(n - 1), 1), ctx.mem.read(buf, 1)), true), false);
  const bytes = readable ? faultsAs(() => ctx.mem.read(buf, kept), null) : null;
  if (!bytes) return returns(fail(EFAULT));
  ctx.kernel.output(ctx.thread, Number(fd), bytes, n);
  return returns(BigInt(n));
}

export const CLONE_VM = 0x100n;
export const SIGCHLD = 17n;

function sysClone(ctx: SyscallContext): SyscallResult {
  const [flags = 0n, stack = 0n, parentTid = 0n, childTid = 0n, tls = 0n] = ctx.args;
  if (flags & CLONE_VM && stack === 0n) return returns(fail(EINVAL)); // a thread needs its own stack
  const tasks = ctx.kernel.tasks();
  // Past the machine's task limits clone and fork fail as Linux does at RLIMIT_NPROC, so a fork bomb
  // is a program that runs out of its budget, not a host that runs out of memory (each process
  // keeps an address space of its own for the report).
  const newProcess = !(flags & CLONE_VM);
  if (tasks.threads >= LIMITS.liveThreads || (newProcess && (tasks.processes >= LIMITS.liveProcesses || tasks.processesEver >= LIMITS.processesPerRun))) return returns(fail(EAGAIN));
  const child = ctx.kernel.clone(ctx.thread, { flags, stack, parentTid, childTid, tls });
  return returns(BigInt(child.tid));
}

const WNOHANG = 1n;
/** WNOHANG, WUNTRACED, WCONTINUED, __WNOTHREAD, __WALL, __WCLONE: anything else is EINVAL. */
const WAIT_OPTIONS = WNOHANG | 2n | 8n | 0x20000000n | 0x40000000n | 0x80000000n;

function sysWait4(ctx: SyscallContext): SyscallResult {
  const [pidArg = 0n, statusPtr = 0n, optionsArg = 0n] = ctx.args;
  const pid = Number(BigInt.asIntN(32, pidArg));
  const options = BigInt.asUintN(32, optionsArg);
  if (options & ~WAIT_OPTIONS) return returns(fail(EINVAL));
  const wanted = ctx.kernel.childrenOf(ctx.thread.process).filter((c) => pid <= 0 || c.pid === pid);
  if (wanted.length === 0) return returns(fail(ECHILD));
  const done = wanted.find((c) => c.exitStatus !== null);
  if (!done) {
    if (options & WNOHANG) return returns(0n);
    ctx.kernel.block(ctx.thread, { kind: 'child', pid, statusPtr });
    return NORETURN;
  }
  // As kernel_wait4: the child is reaped first, then a faulting status store turns the result into -EFAULT.
  ctx.kernel.reap(done);
  if (statusPtr !== 0n && !faultsAs(() => (ctx.mem.write(statusPtr, u32(done.exitStatus!)), true), false)) return returns(fail(EFAULT));
  return returns(BigInt(done.pid));
}

export const processRows: SyscallRow[] = [
  { nr: 1, name: 'write', handler: sysWrite },
  { nr: 39, name: 'getpid', handler: (ctx) => returns(BigInt(ctx.thread.process.pid)) },
  { nr: 56, name: 'clone', handler: sysClone },
  { nr: 57, name: 'fork', handler: (ctx) => sysClone({ ...ctx, args: [SIGCHLD] }) },
  { nr: 60, name: 'exit', handler: (ctx) => (ctx.kernel.exitThread(ctx.thread, code(ctx)), NORETURN) },
  { nr: 61, name: 'wait4', handler: sysWait4 },
  { nr: 186, name: 'gettid', handler: (ctx) => returns(BigInt(ctx.thread.tid)) },
  { nr: 231, name: 'exit_group', handler: (ctx) => (ctx.kernel.exitGroup(ctx.thread.process, code(ctx)), NORETURN) },
];
