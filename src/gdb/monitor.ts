// `monitor …` commands of the stub: what the kernel model knows that gdb cannot ask for — each
// thread's rseq state and the tables, kernel events queued for the next resume, the stepping
// strategy, and the executed schedule that `rseq-emu run --schedule` replays.
import { symbolize } from '../asm/image.js';
import type { DebugSession } from '../debug/session.js';
import { SIGNALS } from '../kernel/event-spec.js';
import { hex } from '../types.js';

export const MONITOR_HELP = [
  'rseq               each thread: CPU, cpu_id, rseq_cs, the section it is in; then the critical sections of the tables',
  'preempt            queue a preemption of the selected thread for its next resume',
  'migrate N          queue a migration of the selected thread to CPU N for its next resume',
  'signal SIG         queue signal SIG (name or number) to the selected thread for its next resume',
  'stepping linux|rseq-aware   how a step treats critical sections (rseq-aware: one stop past the section)',
  'schedule           the executed schedule, replayable with rseq-emu run --schedule',
  'help               this list',
].join('\n') + '\n';

export function monitorCommand(session: DebugSession, line: string, tid: number | null): string {
  const [word, ...rest] = line.split(/\s+/).filter((w) => w !== '');
  const thread = () => {
    if (tid === null) throw new Error('no thread is stopped (the program has ended)');
    return tid;
  };
  switch (word) {
    case undefined:
    case 'help':
      return MONITOR_HELP;
    case 'rseq':
      return rseqReport(session);
    case 'preempt':
      session.queueEvent(thread(), { kind: 'preempt' });
      return `T${thread()}: preempt queued for its next resume\n`;
    case 'migrate': {
      const cpu = /^\d+$/.test(rest[0] ?? '') ? Number(rest[0]) : NaN;
      if (Number.isNaN(cpu) || rest.length !== 1) throw new Error('usage: monitor migrate N (a CPU number)');
      session.queueEvent(thread(), { kind: 'migrate', cpu });
      return `T${thread()}: migrate to cpu${cpu} queued for its next resume\n`;
    }
    case 'signal': {
      const name = rest[0] ?? '';
      const n = /^\d+$/.test(name) ? Number(name) : SIGNALS[name.toUpperCase()] ?? SIGNALS[`SIG${name.toUpperCase()}`];
      if (n === undefined || n < 1 || n > 64 || rest.length !== 1) throw new Error(`usage: monitor signal SIG (a name such as SIGUSR1, or a number), not '${name}'`);
      session.queueEvent(thread(), { kind: 'signal', signal: n });
      return `T${thread()}: signal ${n} queued for its next resume\n`;
    }
    case 'stepping': {
      const s = rest[0];
      if (rest.length === 0) return `stepping ${session.strategy}\n`;
      if ((s !== 'linux' && s !== 'rseq-aware') || rest.length !== 1) throw new Error(`usage: monitor stepping linux|rseq-aware, not '${rest.join(' ')}'`);
      session.strategy = s;
      return `stepping ${s}\n`;
    }
    case 'schedule':
      return `${session.schedule()}\n`;
    default:
      throw new Error(`unknown monitor command '${word}' (monitor help lists them)`);
  }
}

function rseqReport(session: DebugSession): string {
  const image = session.image;
  const out: string[] = [];
  for (const t of session.rseqState()) {
    const rip = session.registers(t.tid).rip;
    const inside = t.inside ? `inside ${t.inside}` : 'outside any section';
    out.push(`T${t.tid} cpu${t.cpu} cpu_id=${t.cpuId} rseq_cs=${t.rseqCs === 0n ? '0' : `${hex(t.rseqCs)} <${symbolize(image, t.rseqCs)}>`} rip=${hex(rip)} <${symbolize(image, rip)}> ${inside}`);
  }
  out.push(`stepping ${session.strategy}`);
  const sections = session.tables.sections;
  out.push(sections.length ? 'critical sections:' : 'critical sections: none listed');
  for (const cs of sections) {
    out.push(
      `  ${hex(cs.descriptor)} <${symbolize(image, cs.descriptor)}>: start ${hex(cs.startIp)} <${symbolize(image, cs.startIp)}>, ` +
        `post-commit ${hex(cs.postCommitIp)} <${symbolize(image, cs.postCommitIp)}>, abort ${hex(cs.abortIp)} <${symbolize(image, cs.abortIp)}> (${cs.listedIn.join(', ')})`,
    );
  }
  return out.join('\n') + '\n';
}
