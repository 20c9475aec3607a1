// What `rseq-emu run` prints for a run with several threads (a scenario or --threads): per-thread
// ends and return values, the executed schedule that replays the run, and the shared activity report.
import type { Image } from '../asm/image.js';
import type { RseqTables } from '../abi/tables.js';
import type { MachineOutcome, ThreadReport } from '../kernel/machine.js';
import { activityLines, eventJson, memoryJson, syscallsJson, type MemoryDump } from './run-report.js';

const threadJson = (t: ThreadReport) => ({
  tid: t.tid,
  pid: t.pid,
  cpu: t.cpu,
  status: t.end?.status ?? 'unfinished',
  ...(t.end?.signal !== undefined ? { signal: t.end.signal } : {}),
  ...(t.end?.reason !== undefined ? { reason: t.end.reason } : {}),
  ...(t.end?.exitCode !== undefined ? { exitCode: t.end.exitCode } : {}),
  returns: t.returns.map((r) => BigInt.asUintN(64, r).toString()),
  instructions: t.instructions,
});

export function machineJson(o: MachineOutcome, memory: MemoryDump[]): Record<string, unknown> {
  return {
    status: o.status,
    profile: o.profile,
    schedule: o.schedule,
    instructions: o.instructions,
    threads: o.threads.map(threadJson),
    events: o.events.map(eventJson),
    ...syscallsJson(o.syscalls),
    output: o.output,
    warnings: o.warnings,
    memory: memoryJson(memory),
  };
}

export function machineText(image: Image, tables: RseqTables, o: MachineOutcome, memory: MemoryDump[]): string {
  const out = activityLines(image, tables, o, memory);
  for (const w of o.warnings) out.push(`  warning: ${w}`);
  for (const t of o.threads) {
    const j = threadJson(t);
    const end = t.end?.signal ? `${j.status} (${t.end.signal}: ${t.end.reason})` : j.exitCode !== undefined ? `exited with code ${j.exitCode}` : j.status;
    out.push(`  T${t.tid} (pid ${t.pid}, cpu${t.cpu}): ${end}; returned [${j.returns.join(', ')}] after ${t.instructions} instructions`);
  }
  out.push(`schedule: ${o.schedule}`);
  out.push(`${o.status}: ${o.threads.length} thread${o.threads.length === 1 ? '' : 's'}, ${o.instructions} instructions, ${o.events.length} event${o.events.length === 1 ? '' : 's'}, profile ${o.profile}`);
  return out.join('\n') + '\n';
}
