// A run as a timeline: one lane per CPU, a block per run of consecutive instructions of one thread,
// and markers where the kernel acted (preempt, migrate, signal, the abort it caused, SIGSEGV) and
// where a thread entered it by a system call. Positions count executed instructions: instruction
// #i spans [i - 1, i), and an event recorded after `before` instructions sits at x = before.
import { disassembleSync } from '../../asm/capstone.js';
import { imageBytes, symbolize, type Image } from '../../asm/image.js';
import type { RunOutcome } from '../../kernel/outcome.js';
import { hex, type Address, type CpuId } from '../../types.js';
import { instructionText } from '../annotate.js';

export interface TimelineBlock {
  tid: number;
  cpu: CpuId;
  /** Index of the first and the last instruction of the block (1-based, as `#K`). */
  first: number;
  last: number;
  /** label+offset of the first instruction. */
  label: string;
  /** The block's instructions as listing lines; a long block keeps its head and tail. */
  lines: string[];
  /** Instructions left out of `lines`. */
  omitted: number;
}

export type MarkerKind = 'preempt' | 'migrate' | 'signal' | 'abort' | 'sigsegv' | 'syscall';

export interface TimelineMarker {
  kind: MarkerKind;
  /** x position: instructions executed before it. */
  at: number;
  cpu: CpuId;
  tid: number;
  /** The instruction the event came before (the `syscall` instruction itself for a system call). */
  ip: Address;
  label: string;
  /** For an abort: where the thread resumed. */
  resumeIp?: Address;
}

export interface Timeline {
  cpus: number;
  /** Instructions in the run: the x extent. */
  steps: number;
  blocks: TimelineBlock[];
  markers: TimelineMarker[];
}

/** Lines kept at each end of a long block's instruction list. */
const BLOCK_HEAD = 12;
const BLOCK_TAIL = 12;

export function timelineOf(image: Image, o: Pick<RunOutcome, 'trace' | 'events' | 'syscalls'>, cpus: number): Timeline {
  const decoded = new Map<Address, { text: string; syscall: boolean }>();
  const decode = (address: Address, size: number) => {
    let d = decoded.get(address);
    if (!d) {
      const bytes = imageBytes(image, address, size);
      const [ins] = bytes ? disassembleSync(bytes, address, 1) : [];
      d = { text: ins ? instructionText(image, ins) : '(outside the image)', syscall: ins?.mnemonic === 'syscall' };
      decoded.set(address, d);
    }
    return d;
  };
  const blocks: TimelineBlock[] = [];
  const markers: TimelineMarker[] = [];
  const pending = new Map<number, typeof o.syscalls>();
  for (const s of o.syscalls) pending.set(s.tid, [...(pending.get(s.tid) ?? []), s]);
  let open: { tid: number; cpu: CpuId; first: number; last: number; label: string; lines: string[]; count: number } | null = null;
  const close = () => {
    if (!open) return;
    const omitted = Math.max(0, open.count - BLOCK_HEAD - BLOCK_TAIL);
    blocks.push({ tid: open.tid, cpu: open.cpu, first: open.first, last: open.last, label: open.label, lines: open.lines, omitted });
    open = null;
  };
  let tail: string[] = [];
  for (const step of o.trace) {
    if (!open || open.tid !== step.tid || open.cpu !== step.cpu || open.last !== step.index - 1) {
      if (open) open.lines.push(...tail);
      close();
      tail = [];
      open = { tid: step.tid, cpu: step.cpu, first: step.index, last: step.index, label: symbolize(image, step.address), lines: [], count: 0 };
    }
    const d = decode(step.address, step.size);
    const line = `#${step.index}  ${hex(step.address)} <${symbolize(image, step.address)}>  ${d.text}`;
    open.count++;
    open.last = step.index;
    if (open.lines.length < BLOCK_HEAD) open.lines.push(line);
    else {
      tail.push(line);
      if (tail.length > BLOCK_TAIL) tail.shift();
    }
    if (d.syscall) {
      const queue = pending.get(step.tid) ?? [];
      const call = queue[0]?.ip === step.address ? queue.shift() : undefined;
      markers.push({ kind: 'syscall', at: step.index, cpu: step.cpu, tid: step.tid, ip: step.address, label: call ? `${call.name}(${call.nr})` : 'syscall' });
    }
  }
  if (open) (open as { lines: string[] }).lines.push(...tail);
  close();
  // An event belongs on the lane the thread was on when it came (a migration moves it afterwards).
  const laneBefore = (tid: number, before: number, fallback: CpuId): CpuId => {
    for (let i = blocks.length - 1; i >= 0; i--) if (blocks[i]!.tid === tid && blocks[i]!.first <= before) return blocks[i]!.cpu;
    return fallback;
  };
  for (const e of o.events) {
    const cpu = laneBefore(e.tid, e.before, e.cpu);
    const where = `${e.kind} of T${e.tid} before ${hex(e.ip)} <${symbolize(image, e.ip)}>`;
    markers.push({ kind: e.kind, at: e.before, cpu, tid: e.tid, ip: e.ip, label: `${e.spec}: ${where}${e.kind === 'migrate' ? `, now on cpu${e.cpu}` : ''}: ${e.outcome}` });
    if (e.outcome === 'aborted') markers.push({ kind: 'abort', at: e.before, cpu, tid: e.tid, ip: e.ip, resumeIp: e.resumeIp, label: `abort of T${e.tid} at ${hex(e.ip)} <${symbolize(image, e.ip)}> → ${hex(e.resumeIp)} <${symbolize(image, e.resumeIp)}>` });
    if (e.outcome === 'sigsegv') markers.push({ kind: 'sigsegv', at: e.before, cpu, tid: e.tid, ip: e.ip, label: `SIGSEGV for T${e.tid}: ${e.reason ?? ''}` });
  }
  markers.sort((a, b) => a.at - b.at);
  const steps = o.trace.length ? o.trace[o.trace.length - 1]!.index : 0;
  return { cpus: blocks.reduce((n, b) => Math.max(n, b.cpu + 1), cpus), steps, blocks, markers };
}
