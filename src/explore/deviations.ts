// The event space exploration draws from: before the next instruction of the thread a CPU is about
// to run, a kernel event for that thread (preempt, migrate to each other CPU, signal) or a switch
// to another CPU whose thread then runs instead (a preemption between parallel CPUs).
import type { Machine } from '../kernel/machine.js';
import type { ScheduleItem } from '../kernel/schedule.js';
import type { CpuId } from '../types.js';

export type DeviationKind = 'preempt' | 'migrate' | 'signal' | 'switch';
export const ALL_DEVIATIONS: readonly DeviationKind[] = ['preempt', 'migrate', 'signal', 'switch'];

/** Schedule items that deviate from the default policy when `cpu` is about to run `tid`. */
export function deviationsAt(machine: Machine, cpu: CpuId, tid: number, kinds: readonly DeviationKind[]): ScheduleItem[] {
  const out: ScheduleItem[] = [];
  if (kinds.includes('preempt')) out.push({ kind: 'event', tid, event: { kind: 'preempt' } });
  if (kinds.includes('migrate')) {
    const t = machine.thread(tid);
    for (let c = 0; c < machine.cpus; c++) if (c !== cpu && t && (t.affinity >> BigInt(c)) & 1n) out.push({ kind: 'event', tid, event: { kind: 'migrate', cpu: c } });
  }
  if (kinds.includes('signal')) out.push({ kind: 'event', tid, event: { kind: 'signal', signal: 10 } });
  if (kinds.includes('switch')) for (const c of machine.runnableCpus()) if (c !== cpu) out.push({ kind: 'run', cpu: c, count: 0 });
  return out;
}
