// The rseq work on the way back to user space (__rseq_handle_notify_resume), for the modelled
// kernel profile: the fix-up decision of rseq-fixup.ts applied, then cpu_id_start/cpu_id/node_id/
// mm_cid written (6.19: only when they change, and before the fix-up), and CONFIG_DEBUG_RSEQ's
// check of the kernel-owned fields.
import { readRseqArea } from '../abi/rseq.js';
import type { Emulator } from '../engine/index.js';
import { hex, type Address } from '../types.js';
import type { EventRecord } from './outcome.js';
import type { Profile } from './profile.js';
import { applyFixup, cpuIdFields, decideFixup, fixupRules, type FixupDecision } from './rseq-fixup.js';
import type { RseqIds, Thread } from './thread.js';

/** What the notify-resume work needs from the machine. */
export interface NotifyResumeHost {
  activate(t: Thread): Emulator;
  /** force_sigsegv; false when the thread died. */
  forceSigsegv(t: Thread, delivering: number | null, reason: string): boolean;
  warn(message: string): void;
  /** The kernel aborted the thread's critical section. */
  abortedAttempt(t: Thread): void;
  /** The thread's mm_cid on its CPU (mm-cid.ts). */
  mmCid(t: Thread): number;
  /** The ids were written to the thread's area. */
  published(t: Thread, ids: RseqIds): void;
}

export class NotifyResume {
  constructor(
    private readonly profile: Profile,
    private readonly host: NotifyResumeHost,
  ) {}

  /**
   * __rseq_handle_notify_resume for the modelled kernel; `signo` when called from signal delivery.
   * `records` are the thread's events waiting for this pass: they get its outcome.
   * Returns false when the thread died; from signal delivery, a failed fix-up returns its reason
   * instead, because the kernel still builds the signal's frame before force_sigsegv takes effect.
   */
  run(t: Thread, signo: number | null, records: EventRecord[]): boolean | string {
    if (!t.rseq) return true;
    const emu = this.host.activate(t);
    const optimized = this.profile.base === 'linux-6.19';
    if (!this.checkKernelFields(t)) return false;
    if (optimized && !this.writeIds(t, true)) return false;
    if (!optimized || t.eventMask !== 0 || signo !== null) {
      const ip = emu.reg('rip');
      const d = decideFixup(emu, { area: t.rseq.area, sig: t.rseq.sig, ip, eventMask: t.eventMask }, fixupRules(this.profile));
      if (d.kind === 'sigsegv') {
        settle(records, d, emu.reg('rip'), 'sigsegv', d.reason);
        return signo !== null ? `rseq: ${d.reason}` : this.host.forceSigsegv(t, signo, `rseq: ${d.reason}`);
      }
      const fx = applyFixup(emu, t.rseq.area, d);
      if (fx.consumedEvents || optimized) t.eventMask = 0;
      if (fx.fault) {
        settle(records, d, emu.reg('rip'), 'sigsegv', fx.fault);
        return signo !== null ? `rseq: ${fx.fault}` : this.host.forceSigsegv(t, signo, `rseq: ${fx.fault}`);
      }
      if (fx.ip !== null) emu.setReg('rip', fx.ip);
      if (d.kind === 'abort') this.host.abortedAttempt(t);
      settle(records, d, emu.reg('rip'), d.kind === 'abort' ? 'aborted' : d.kind === 'clear' && d.wasSet ? 'cleared' : 'none');
    }
    return optimized || this.writeIds(t, false);
  }

  /** rseq_update_cpu_node_id; `onlyIfChanged` for 6.19, which writes ids only when they change. */
  private writeIds(t: Thread, onlyIfChanged: boolean): boolean {
    const ids = { cpu: t.cpu, node: 0, mmCid: this.host.mmCid(t) };
    if (onlyIfChanged && t.lastIds && t.lastIds.cpu === ids.cpu && t.lastIds.mmCid === ids.mmCid) return true;
    const fields = cpuIdFields(ids.cpu, ids.node, ids.mmCid);
    try {
      // Before 6.3 there is no node_id or mm_cid to write.
      for (const f of this.profile.base === 'linux-5.x' ? fields.slice(0, 1) : fields) t.process.emu.write(t.rseq!.area + BigInt(f.offset), f.bytes);
    } catch {
      return this.host.forceSigsegv(t, null, `rseq: cannot write cpu_id to the area at ${hex(t.rseq!.area)}`);
    }
    t.lastIds = ids;
    this.host.published(t, ids);
    return true;
  }

  /** CONFIG_DEBUG_RSEQ: a user write to a kernel-owned field is a warning (≈6.14–6.18) or fatal (6.19). */
  private checkKernelFields(t: Thread): boolean {
    if (!this.profile.debug || !t.lastIds || !t.rseq) return true;
    let area;
    try {
      area = readRseqArea(t.process.emu, t.rseq.area);
    } catch {
      return true; // the fix-up reports the unreadable area
    }
    const expect = t.lastIds;
    const changed = [
      area.cpuIdStart !== expect.cpu && 'cpu_id_start',
      area.cpuId !== expect.cpu && 'cpu_id',
      this.profile.base !== 'linux-5.x' && area.nodeId !== expect.node && 'node_id',
      this.profile.base !== 'linux-5.x' && area.mmCid !== expect.mmCid && 'mm_cid',
    ].filter((x): x is string => typeof x === 'string');
    if (!changed.length) return true;
    const what = `T${t.tid} wrote kernel-owned rseq field${changed.length > 1 ? 's' : ''} ${changed.join(', ')}`;
    if (this.profile.base === 'linux-6.19') return this.host.forceSigsegv(t, null, `rseq (debug): ${what}`);
    this.host.warn(`rseq (debug): ${what}`);
    return true;
  }
}

/** Gives the pass's events its outcome: the descriptor it read and where the thread resumes. */
function settle(records: readonly EventRecord[], d: FixupDecision, resumeIp: Address, outcome: EventRecord['outcome'], reason?: string): void {
  for (const r of records) Object.assign(r, { outcome, descriptor: d.descriptor, resumeIp }, reason ? { reason } : {});
}
