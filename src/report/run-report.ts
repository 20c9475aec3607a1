// Turns a RunOutcome into what `rseq-emu run` prints: one JSON object, or text with the trace
// (each executed instruction: address, bytes, Capstone text, rseq marks) and the kernel events
// in the order they happened.
import { append, collapseRepeats, findRepeats, summarizeRepeats } from './repetition.js';
import { disassembleSync } from '../asm/capstone.js';
import { imageBytes, symbolize, type Image } from '../asm/image.js';
import type { RseqTables } from '../abi/tables.js';
import { describeReturn } from '../kernel/errno.js';
import type { EventRecord, RunOutcome, SyscallRecord } from '../kernel/outcome.js';
import { hex, hexBytes, type Address } from '../types.js';
import { u64Words } from '../abi/rseq.js';
import { SectionMarks, instructionText } from './annotate.js';

export interface MemoryDump {
  name: string;
  address: Address;
  bytes: Uint8Array;
}

export const u64words = (b: Uint8Array): string[] => u64Words(b).map(String);

export const eventJson = (e: EventRecord) => ({
  kind: e.kind,
  ip: hex(e.ip),
  cpu: e.cpu,
  outcome: e.outcome,
  spec: e.spec,
  tid: e.tid,
  before: e.before,
  resumeIp: hex(e.resumeIp),
  ...(e.reason !== undefined ? { reason: e.reason } : {}),
});

export const syscallJson = (s: SyscallRecord) => ({
  tid: s.tid, nr: s.nr, name: s.name, ip: hex(s.ip), ret: s.ret === null ? null : describeReturn(s.ret),
  implemented: s.implemented, insideCriticalSection: s.insideCriticalSection,
});

/** The line `run` prints for a system call; also what makes two calls the same for the JSON summary. */
export const syscallLine = (s: SyscallRecord): string =>
  `  syscall T${s.tid} ${s.name}(${s.nr}) at ${hex(s.ip)} → ${s.ret === null ? '(no return)' : describeReturn(s.ret)}${s.implemented ? '' : ' [not implemented]'}${s.insideCriticalSection ? ' [inside a critical section]' : ''}`;

/**
 * The system calls for JSON, summarised as the text is: a block of calls repeated three or more
 * times back to back is listed by its first and last occurrence, and `syscallRepeats` says where
 * (indices into `syscalls`) and how often; `syscallCount` counts every call made.
 */
export function syscallsJson(calls: readonly SyscallRecord[]) {
  const runs = findRepeats(calls.map(syscallLine));
  const repeats: { first: number; last: number; period: number; times: number }[] = [];
  let at = 0; // index in the collapsed list
  let i = 0; // index in `calls`
  for (const run of runs) {
    at += run.start - i;
    repeats.push({ first: at, last: at + run.period, period: run.period, times: run.times });
    at += 2 * run.period;
    i = run.start + run.times * run.period;
  }
  return {
    syscalls: collapseRepeats(calls, runs, () => undefined).map(syscallJson),
    syscallCount: calls.length,
    syscallRepeats: repeats,
  };
}

export const memoryJson = (memory: MemoryDump[]) => Object.fromEntries(memory.map((m) => [m.name, { address: hex(m.address), u64: u64words(m.bytes) }]));

export function runJson(o: RunOutcome, memory: MemoryDump[] = []): Record<string, unknown> {
  return {
    status: o.status,
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.faultAddress !== undefined ? { faultAddress: hex(o.faultAddress) } : {}),
    ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
    rax: BigInt.asUintN(64, o.rax).toString(),
    ip: hex(o.ip),
    instructions: o.instructions,
    schedule: o.schedule,
    events: o.events.map(eventJson),
    ...syscallsJson(o.syscalls),
    output: o.output,
    memory: memoryJson(memory),
    warnings: o.warnings,
  };
}

function eventLine(image: Image, e: EventRecord): string {
  const where = `${hex(e.ip)} <${symbolize(image, e.ip)}>`;
  const then = e.outcome === 'aborted' ? ` → resumes at ${hex(e.resumeIp)} <${symbolize(image, e.resumeIp)}>` : '';
  return `  -- ${e.spec}: ${e.kind} of T${e.tid} at ${where}, now on cpu${e.cpu}: ${e.outcome}${then}${e.reason ? ` (${e.reason})` : ''}`;
}

/** The trace with the kernel events interleaved where they happened, then syscalls, output and memory. */
export function activityLines(image: Image, tables: RseqTables, o: Pick<RunOutcome, 'trace' | 'events' | 'syscalls' | 'output'>, memory: MemoryDump[]): string[] {
  const out: string[] = [];
  const marks = new SectionMarks(image, tables.sections);
  const events = [...o.events];
  for (const step of o.trace) {
    while (events.length && events[0]!.before < step.index) out.push(eventLine(image, events.shift()!));
    const bytes = imageBytes(image, step.address, step.size);
    const [d] = bytes ? disassembleSync(bytes, step.address, 1) : [];
    const text = d ? instructionText(image, d) : '(outside the image)';
    const m = marks.at(step.address);
    const shown = bytes ? hexBytes(bytes) : '';
    out.push(`  #${String(step.index).padEnd(5)} T${step.tid} cpu${step.cpu}  ${hex(step.address)} <${symbolize(image, step.address)}>`.padEnd(52) + ` ${shown.padEnd(30)} ${text}${m.length ? `  [${m.join(' ')}]` : ''}`);
  }
  for (const e of events) out.push(eventLine(image, e));
  append(out, summarizeRepeats(o.syscalls.map(syscallLine)));
  for (const w of o.output) out.push(`  T${w.tid} fd${w.fd}: ${JSON.stringify(w.text)}`);
  for (const m of memory) out.push(`  memory ${m.name} @ ${hex(m.address)}: [${u64words(m.bytes).join(', ')}]`);
  return out;
}

export function runText(image: Image, tables: RseqTables, o: RunOutcome, memory: MemoryDump[] = []): string {
  const out = activityLines(image, tables, o, memory);
  for (const w of o.warnings) out.push(`  warning: ${w}`);
  const how =
    o.status === 'returned' ? `returned ${BigInt.asUintN(64, o.rax)} (rax)`
    : o.status === 'exited' ? `exited with code ${o.exitCode}`
    : o.status === 'limit' ? o.reason ?? 'instruction budget exhausted'
    : `${o.signal}: ${o.reason}`;
  out.push(`${o.status}: ${how} after ${o.instructions} instructions, ${o.events.length} event${o.events.length === 1 ? '' : 's'}`);
  return out.join('\n') + '\n';
}
