// ioctl(2), for one request: KVM_RUN on any descriptor, a long blocking call into the kernel. It
// is what bug-kvm-run needs: a migration while the thread is inside it (spec section 7).
import { ENOTTY, fail } from '../errno.js';
import { NORETURN, returns, type SyscallRow } from './types.js';

/** _IO(KVMIO = 0xAE, 0x80). */
export const KVM_RUN = 0xae80n;

export const kvmRows: SyscallRow[] = [
  {
    nr: 16,
    name: 'ioctl',
    handler: (ctx) => {
      if ((ctx.args[1] ?? 0n) !== KVM_RUN) return returns(fail(ENOTTY));
      ctx.kernel.kvmRun(ctx.thread);
      return NORETURN;
    },
  },
];
