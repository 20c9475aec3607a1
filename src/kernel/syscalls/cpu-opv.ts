// cpu_opv (the 2017 proposal, x86-64 number 335; spec section 6): `int cpu_opv(struct cpu_op *ops,
// int cnt, int cpu, int flags)` runs up to 16 operations on `cpu` with preemption off — the
// fallback librseq took after repeated aborts, e.g. under a single-stepping debugger. Present only
// under the `proposal-cpu-opv` profile. Order of checks as the RFC's SYSCALL_DEFINE4: flags, cpu,
// count, copy of the vector, per-op check and total length, access check of every operand (all
// before any operation runs), then the move to `cpu` and the operations. A system call is atomic
// in this model (nothing interleaves with it), which is what "preemption off on that CPU" gives;
// the thread that CPU was running is switched out for it, with the preempt event that brings.
import type { MemoryReader, MemoryWriter } from '../../abi/rseq.js';
import { Emulator } from '../../engine/index.js';
import type { Address } from '../../types.js';
import { EAGAIN, EFAULT, EINVAL, fail } from '../errno.js';
import { returns, type SyscallContext, type SyscallResult, type SyscallRow } from './types.js';

export const NR_CPU_OPV = 335;
export const CPU_OP_VEC_LEN_MAX = 16;
export const CPU_OP_SIZE = 32;
/** Compare and memcpy lengths. */
export const CPU_OP_DATA_LEN_MAX = 4096;
/** Sum of all lengths: one 4096-byte copy and 15 operations of 8 bytes. */
export const CPU_OP_VEC_DATA_LEN_MAX = 4096 + 15 * 8;

export const CpuOp = { compareEq: 0, compareNe: 1, memcpy: 2, add: 3, or: 4, and: 5, xor: 6, lshift: 7, rshift: 8, mb: 9 } as const;

/** One decoded `struct cpu_op`: s32 op, u32 len, then a 24-byte union. */
export interface CpuOpEntry {
  op: number;
  len: number;
  /** compare: a, b; memcpy: dst, src; arithmetic/bitwise/shift: p. */
  first: Address;
  second: Address;
  /** count (add), mask (bitwise) or bits (shift, a u32). */
  value: bigint;
  expectFaultFirst: boolean;
  expectFaultSecond: boolean;
}

export function decodeCpuOp(b: Uint8Array): CpuOpEntry {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const op = v.getInt32(0, true);
  const shift = op === CpuOp.lshift || op === CpuOp.rshift;
  return {
    op,
    len: v.getUint32(4, true),
    first: v.getBigUint64(8, true),
    second: v.getBigUint64(16, true),
    value: shift ? BigInt(v.getUint32(16, true)) : v.getBigUint64(16, true),
    // shift_op's expect_fault_p follows its u32 bits; the others' follow two u64 fields.
    expectFaultFirst: (shift ? b[20] : b[24]) !== 0,
    expectFaultSecond: !shift && b[25] !== 0,
  };
}

const ARITH_LENGTHS = [1, 2, 4, 8];
const isCompare = (op: number) => op === CpuOp.compareEq || op === CpuOp.compareNe;
const isArith = (op: number) => op === CpuOp.add || op === CpuOp.or || op === CpuOp.and || op === CpuOp.xor;
const isShift = (op: number) => op === CpuOp.lshift || op === CpuOp.rshift;

/** cpu_opv_check: known op, lengths within their limits, shift counts below the width, total length. */
function checkOps(ops: readonly CpuOpEntry[]): boolean {
  let sum = 0;
  for (const o of ops) {
    if (o.op !== CpuOp.mb) sum += o.len;
    if (isCompare(o.op) || o.op === CpuOp.memcpy) {
      if (o.len > CPU_OP_DATA_LEN_MAX) return false;
    } else if (isArith(o.op)) {
      if (!ARITH_LENGTHS.includes(o.len)) return false;
    } else if (isShift(o.op)) {
      if (!ARITH_LENGTHS.includes(o.len) || o.value > BigInt(o.len * 8 - 1)) return false;
    } else if (o.op !== CpuOp.mb) return false;
  }
  return sum <= CPU_OP_VEC_DATA_LEN_MAX;
}

type Memory = MemoryReader & MemoryWriter;

/** access_ok + get_user_pages: mapped, and writable when the op writes there. */
function accessible(mem: Memory, address: Address, len: number, write: boolean): boolean {
  if (len === 0) return true;
  if (mem instanceof Emulator) {
    // Host reads ignore page protections, so the mapping itself is consulted.
    const end = address + BigInt(len);
    let at = address;
    for (const r of mem.regions().sort((a, b) => (a.begin < b.begin ? -1 : 1))) {
      if (r.end <= at || r.begin > at) continue;
      if (!r.prot.read || (write && !r.prot.write)) return false;
      at = r.end;
      if (at >= end) return true;
    }
    return false;
  }
  try {
    mem.read(address, len);
    return true;
  } catch {
    return false;
  }
}

/** cpu_opv_pin_pages: every operand of every op, in order; EAGAIN instead of EFAULT where the op expected a fault. */
function pinOperands(mem: Memory, ops: readonly CpuOpEntry[]): number {
  for (const o of ops) {
    const operands: [Address, boolean, boolean][] = isCompare(o.op)
      ? [[o.first, false, o.expectFaultFirst], [o.second, false, o.expectFaultSecond]]
      : o.op === CpuOp.memcpy
        ? [[o.first, true, o.expectFaultFirst], [o.second, false, o.expectFaultSecond]]
        : o.op === CpuOp.mb
          ? []
          : [[o.first, true, o.expectFaultFirst]];
    for (const [address, write, expectFault] of operands) {
      if (!accessible(mem, address, o.len, write)) return expectFault ? EAGAIN : EFAULT;
    }
  }
  return 0;
}

const toBigInt = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const fromBigInt = (v: bigint, len: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));

/** __do_cpu_opv: runs the ops in order; a compare that fails stops there with index + 1. */
export function runCpuOps(mem: Memory, ops: readonly CpuOpEntry[]): number {
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    const bits = BigInt(o.len * 8);
    if (isCompare(o.op)) {
      const a = mem.read(o.first, o.len);
      const b = mem.read(o.second, o.len);
      const same = a.every((x, k) => x === b[k]);
      if (same !== (o.op === CpuOp.compareEq)) return i + 1;
    } else if (o.op === CpuOp.memcpy) {
      if (o.len) mem.write(o.first, Uint8Array.from(mem.read(o.second, o.len)));
    } else if (o.op !== CpuOp.mb) {
      const old = toBigInt(mem.read(o.first, o.len));
      const v = o.value;
      const next =
        o.op === CpuOp.add ? old + v : o.op === CpuOp.or ? old | v : o.op === CpuOp.and ? old & v : o.op === CpuOp.xor ? old ^ v : o.op === CpuOp.lshift ? old << v : old >> v;
      mem.write(o.first, fromBigInt(BigInt.asUintN(Number(bits), next), o.len));
    }
  }
  return 0;
}

function sysCpuOpv(ctx: SyscallContext): SyscallResult {
  const [opsPtr = 0n, cntArg = 0n, cpuArg = 0n, flags = 0n] = ctx.args;
  const cnt = Number(BigInt.asIntN(32, cntArg));
  const cpu = Number(BigInt.asIntN(32, cpuArg));
  if (BigInt.asUintN(32, flags) !== 0n) return returns(fail(EINVAL));
  if (cpu < 0) return returns(fail(EINVAL));
  if (cnt < 0 || cnt > CPU_OP_VEC_LEN_MAX) return returns(fail(EINVAL));
  let raw: Uint8Array;
  try {
    raw = cnt ? ctx.mem.read(opsPtr, cnt * CPU_OP_SIZE) : new Uint8Array();
  } catch {
    return returns(fail(EFAULT));
  }
  const ops = Array.from({ length: cnt }, (_, i) => decodeCpuOp(raw.subarray(i * CPU_OP_SIZE, (i + 1) * CPU_OP_SIZE)));
  if (!checkOps(ops)) return returns(fail(EINVAL));
  const pinned = pinOperands(ctx.mem, ops);
  if (pinned) return returns(fail(pinned));
  const t = ctx.thread;
  if (cpu !== t.cpu) {
    // push_task_to_cpu: a CPU that does not exist is EINVAL; one outside the affinity mask cannot take the task: EAGAIN.
    if (cpu >= ctx.kernel.cpus) return returns(fail(EINVAL));
    if (!((t.affinity >> BigInt(cpu)) & 1n)) return returns(fail(EAGAIN));
    ctx.kernel.migrate(t, cpu);
  }
  // Running the ops on `cpu` with preemption off means that CPU runs the caller: the thread it was
  // running is switched out (rseq_preempt in the context switch), so a critical section it is in
  // aborts instead of committing over what the ops stored. (Found by explore at K = 3: without it,
  // counter-cpu-opv.json lost an update to a section interrupted on the CPU the ops ran on.)
  const current = ctx.kernel.runningOn(cpu);
  if (current && current !== t) ctx.kernel.rseqIpi(current);
  return returns(BigInt(runCpuOps(ctx.mem, ops)));
}

export const cpuOpvRows: SyscallRow[] = [{ nr: NR_CPU_OPV, name: 'cpu_opv', handler: sysCpuOpv, available: (p) => p.cpuOpv }];
