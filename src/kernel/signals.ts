// Signal dispositions: what a signal does when no handler is installed, and the sa_flags bits the
// model honours.
export const SA_SIGINFO = 0x4n;
export const SA_RESTORER = 0x04000000n;
export const SA_NODEFER = 0x40000000n;
export const SA_RESETHAND = 0x80000000n;

export const SIGILL = 4;
/** SIGKILL and SIGSTOP: no handler, no mask, no stand-in. */
export const UNCATCHABLE: ReadonlySet<number> = new Set([9, 19]);
export const SIGSEGV = 11;

/** Signals whose default action is to do nothing (SIGCHLD, SIGCONT, SIGURG, SIGWINCH). Stops are not modelled and are ignored too. */
const IGNORED_BY_DEFAULT = new Set([17, 18, 19, 20, 21, 22, 23, 28]);

export const defaultIsIgnore = (signo: number): boolean => IGNORED_BY_DEFAULT.has(signo);

export const sigBit = (signo: number): bigint => 1n << BigInt(signo - 1);
