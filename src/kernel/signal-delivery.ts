// Signal delivery on the way back to user space: the disposition (a handler, the emulator's stand-in
// handler for scheduled signals, ignore, or the default action), the rseq fix-up before the frame
// is built (rseq_signal_deliver), the x86-64 rt_sigframe on the thread's stack, force_sigsegv, and
// rt_sigreturn.
import type { Emulator } from '../engine/index.js';
import { hex, type Address } from '../types.js';
import { TRAMPOLINE, TRAMPOLINE_CODE } from './address-space.js';
import { signalName } from './event-spec.js';
import { buildFrame, handlerEflags, readFrame, ucontextOfReturn, UCONTEXT_SIZE } from './signal-frame.js';
import { SA_NODEFER, SA_RESETHAND, SA_RESTORER, SIGSEGV, UNCATCHABLE, defaultIsIgnore, sigBit } from './signals.js';
import { RseqEvent, SIG_DFL, SIG_IGN, type Process, type SigAction, type Thread } from './thread.js';

/** What delivery needs from the machine. */
export interface SignalHost {
  /** Makes the thread's registers live and returns its address space. */
  activate(t: Thread): Emulator;
  /** The rseq notify-resume work for a signal being delivered; false when the thread died, the reason when the fix-up failed. */
  rseqWork(t: Thread, signo: number): boolean | string;
  killProcess(t: Thread, signo: number, reason: string, status: 'fault' | 'signal', faultAddress?: Address): void;
  warn(message: string): void;
  wake(t: Thread): void;
}

export class SignalDelivery {
  constructor(private readonly host: SignalHost) {}

  /** Queues a signal; `injected` ones (kernel events from a schedule) get the stand-in handler when the program has none. */
  queue(t: Thread, signo: number, injected: boolean): void {
    // A standard signal already pending is not queued again (Linux keeps one): one delivery, one frame.
    if (!t.pendingSignals.includes(signo)) {
      // An emulator-supplied handler takes an injected signal the program has no handler for; never
      // SIGKILL or SIGSTOP, which no handler can catch.
      if (injected && !UNCATCHABLE.has(signo) && !t.process.sigactions.has(signo)) t.standInFrames++;
      t.pendingSignals = [...t.pendingSignals, signo];
    }
    // A blocked thread wakes for a signal it will handle.
    if (t.state === 'blocked' && t.wait?.kind === 'sleep') this.host.wake(t);
  }

  /** A synchronous fault: SIGSEGV/SIGILL to a handler if one is installed and not blocked, else the process dies. */
  fault(t: Thread, signo: number, reason: string, faultAddress?: Address): void {
    const act = t.process.sigactions.get(signo);
    if (act && act.handler > SIG_IGN && !(t.sigmask & sigBit(signo))) {
      t.pendingSignals = [signo, ...t.pendingSignals];
      return;
    }
    this.host.killProcess(t, signo, reason, 'fault', faultAddress);
  }

  /** force_sigsegv: catchable, unless the fix-up failed while delivering SIGSEGV itself. */
  forceSigsegv(t: Thread, delivering: number | null, reason: string): boolean {
    const act = t.process.sigactions.get(SIGSEGV);
    if (delivering === SIGSEGV || !act || act.handler <= SIG_IGN || t.sigmask & sigBit(SIGSEGV)) {
      this.host.killProcess(t, SIGSEGV, reason, 'signal');
      return false;
    }
    this.host.warn(`T${t.tid}: ${reason} (SIGSEGV sent to its handler)`);
    t.pendingSignals = [SIGSEGV, ...t.pendingSignals];
    return true;
  }

  /** Delivers one signal; false when the thread died. */
  deliver(t: Thread, signo: number): boolean {
    const emu = this.host.activate(t);
    const stdIn = t.standInFrames > 0 && !t.process.sigactions.has(signo);
    const act: SigAction | undefined = stdIn
      ? { handler: TRAMPOLINE + BigInt(TRAMPOLINE_CODE.handler.offset), flags: SA_RESTORER, restorer: TRAMPOLINE + BigInt(TRAMPOLINE_CODE.restorer.offset), mask: 0n }
      : t.process.sigactions.get(signo);
    if (stdIn) t.standInFrames--;
    if (!act || act.handler === SIG_DFL) {
      if (defaultIsIgnore(signo)) return true;
      this.host.killProcess(t, signo, `killed by ${signalName(signo)}`, 'signal');
      return false;
    }
    if (act.handler === SIG_IGN) return true;
    // rseq_signal_deliver: the fix-up runs on the interrupted registers before the frame is built.
    // When it fails, handle_signal still builds the frame; the SIGSEGV force_sigsegv queues then
    // acts with the thread at the handler (measured on Linux 6.18, test/fidelity).
    let rseqFailure: string | null = null;
    if (t.rseq) t.eventMask |= RseqEvent.signal;
    // Unregistered, the pass only settles the thread's waiting events here: a registration the
    // thread makes later must not decide this return's outcome.
    const work = this.host.rseqWork(t, signo);
    if (work === false) return false;
    if (typeof work === 'string') rseqFailure = work;
    if (!(act.flags & SA_RESTORER)) return this.forceSigsegv(t, signo, `${signalName(signo)} handler has no SA_RESTORER: x86-64 cannot return from it`);
    const regs = emu.readRegisters();
    const frame = buildFrame(regs, t.sigmask, act.restorer, { signo, code: 0, pid: t.process.pid, uid: 0 });
    try {
      emu.write(frame.address, frame.bytes);
    } catch {
      return this.forceSigsegv(t, signo, `cannot build the ${signalName(signo)} frame: stack at ${hex(frame.address)} is not writable`);
    }
    emu.writeRegisters({ ...regs, rsp: frame.address, rip: act.handler, rdi: BigInt(signo), rsi: frame.info, rdx: frame.ucontext, rax: 0n, eflags: handlerEflags(regs.eflags) });
    t.sigmask |= act.mask | (act.flags & SA_NODEFER ? 0n : sigBit(signo));
    if (act.flags & SA_RESETHAND) t.process.sigactions.delete(signo);
    return rseqFailure === null || this.forceSigsegv(t, signo, rseqFailure);
  }

  sigreturn(t: Thread): boolean {
    const emu = this.host.activate(t);
    const regs = emu.readRegisters();
    let uc: Uint8Array;
    try {
      uc = emu.read(ucontextOfReturn(regs.rsp), UCONTEXT_SIZE);
    } catch {
      this.host.killProcess(t, SIGSEGV, `rt_sigreturn: no signal frame at ${hex(ucontextOfReturn(regs.rsp))}`, 'signal');
      return false;
    }
    const restored = readFrame(uc, regs);
    emu.writeRegisters(restored.regs);
    t.sigmask = restored.sigmask;
    return true;
  }

  setSigaction(p: Process, signo: number, act: SigAction): void {
    if (act.handler === SIG_DFL) p.sigactions.delete(signo);
    else p.sigactions.set(signo, act);
  }
}
