// A schedule: which CPU steps next and for how many instructions, and which kernel events happen
// between steps. Printed and parsed as a short string, e.g. `c0:4 T1:preempt c1:* c0:*`, so a run
// replays exactly. After the listed items the default policy finishes the run (scheduler.ts).
//   cN:K   run the thread on CPU N for K instructions (fewer if it leaves the CPU first); the thread
//          first returns to user space (pending signals, rseq work), so cN:0 does that and no more
//   cN:*   run the thread on CPU N until it leaves the CPU (exits, blocks, yields, migrates)
//   Tn:preempt | Tn:migrate:N | Tn:signal[:SIG] | Tn:ipi   an event for thread n, before its next instruction
//   Tn:load  thread n does the load half of its next instruction, a read-modify-write of shared
//          memory without LOCK (split-rmw.ts), and its CPU's turn ends; the store half runs when
//          the thread next runs, from the bytes loaded here. No event may target it in between.
import { usageError } from '../errors.js';
import type { CpuId } from '../types.js';
import { SIGNALS, signalName } from './event-spec.js';

export type ScheduledEvent = { kind: 'preempt' } | { kind: 'migrate'; cpu: CpuId } | { kind: 'signal'; signal: number } | { kind: 'ipi' };

export type ScheduleItem = { kind: 'run'; cpu: CpuId; count: number | null } | { kind: 'event'; tid: number; event: ScheduledEvent } | { kind: 'load'; tid: number };

export type Schedule = ScheduleItem[];

export function formatItem(item: ScheduleItem): string {
  if (item.kind === 'run') return `c${item.cpu}:${item.count ?? '*'}`;
  if (item.kind === 'load') return `T${item.tid}:load`;
  const e = item.event;
  const what = e.kind === 'migrate' ? `migrate:${e.cpu}` : e.kind === 'signal' ? `signal:${signalName(e.signal)}` : e.kind;
  return `T${item.tid}:${what}`;
}

export const formatSchedule = (s: Schedule): string => s.map(formatItem).join(' ');

export function parseSchedule(text: string): Schedule {
  const tokens = text.split(/[\s,]+/).filter((t) => t !== '');
  return tokens.map((tok, i) => {
    const bad = (why: string) => usageError(`--schedule item ${i + 1} '${tok}': ${why}`);
    const run = /^c([0-9]+):([0-9]+|\*)$/.exec(tok);
    if (run) {
      const count = run[2] === '*' ? null : Number(run[2]);
      if (count !== null && !Number.isSafeInteger(count)) throw bad('the count is too large');
      return { kind: 'run', cpu: Number(run[1]), count };
    }
    const load = /^T([0-9]+):load$/.exec(tok);
    if (load) return { kind: 'load', tid: Number(load[1]) };
    const ev = /^T([0-9]+):(preempt|ipi|migrate:([0-9]+)|signal(?::(SIG[A-Z0-9]+|[0-9]+))?)$/.exec(tok);
    if (!ev) throw bad('expected cN:K, cN:*, or Tn:preempt|migrate:N|signal[:SIG]|ipi|load');
    const tid = Number(ev[1]);
    if (ev[2] === 'preempt' || ev[2] === 'ipi') return { kind: 'event', tid, event: { kind: ev[2] } };
    if (ev[3] !== undefined) return { kind: 'event', tid, event: { kind: 'migrate', cpu: Number(ev[3]) } };
    const s = ev[4] ?? 'SIGUSR1';
    const signal = /^[0-9]+$/.test(s) ? Number(s) : SIGNALS[s];
    if (signal === undefined || signal < 1 || signal > 64) throw bad(`unknown signal '${s}'`);
    return { kind: 'event', tid, event: { kind: 'signal', signal } };
  });
}
