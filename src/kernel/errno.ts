// Linux errno values returned (negated) by system calls.
export const EPERM = 1;
export const ESRCH = 3;
export const EINTR = 4;
export const EBADF = 9;
export const ECHILD = 10;
export const EAGAIN = 11;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOSYS = 38;

export const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 3: 'ESRCH', 4: 'EINTR', 9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 14: 'EFAULT', 16: 'EBUSY', 22: 'EINVAL', 25: 'ENOTTY', 38: 'ENOSYS' };

/** `-EINVAL` as the unsigned 64-bit value a syscall leaves in rax. */
export const fail = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));

/** Describes a raw return value: `0`, `-EINVAL`, … */
export function describeReturn(ret: bigint): string {
  const s = BigInt.asIntN(64, ret);
  if (s < 0n && s >= -4095n) return `-${ERRNO_NAMES[Number(-s)] ?? String(-s)}`;
  return s.toString();
}
