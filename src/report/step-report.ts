// What `rseq-emu step` prints: one line per stop (address, label+offset, source line, Capstone
// text, what the resume did), then the verdict; or the same as one JSON object.
import { disassembleSync } from '../asm/capstone.js';
import { imageBytes, symbolize, type Image } from '../asm/image.js';
import type { ResumeEffect } from '../debug/session.js';
import type { StepOutcome, StepRecord } from '../debug/step-run.js';
import { signalName } from '../kernel/event-spec.js';
import { hex, type Address } from '../types.js';
import { instructionText } from './annotate.js';
import { memoryJson } from './run-report.js';
import { plural } from './plural.js';

/** Capstone's text of the instruction at `address`, or '' outside the image (the return sentinel). */
export function textAt(image: Image, address: Address): string {
  const bytes = imageBytes(image, address, 1);
  if (!bytes) return '';
  const s = image.sections.find((x) => address >= x.address && address < x.address + BigInt(x.bytes.length))!;
  const off = Number(address - s.address);
  const [d] = disassembleSync(s.bytes.subarray(off, Math.min(s.bytes.length, off + 15)), address, 1);
  return d ? instructionText(image, d) : '';
}

export function effectText(image: Image, e: ResumeEffect): string {
  switch (e.kind) {
    case 'aborted':
      return `aborted → ${hex(e.to)} <${symbolize(image, e.to)}>`;
    case 'sigsegv':
      return `SIGSEGV (${e.reason})`;
    default:
      return e.kind;
  }
}

const lineText = (r: StepRecord) => (r.line ? `${r.line.file}:${r.line.line}` : '');

function stopLine(image: Image, r: StepRecord): string {
  const where = `${hex(r.address)} <${symbolize(image, r.address)}>`;
  const end = r.reason === 'step' || r.reason === 'entry' || r.reason === 'breakpoint' ? '' : `  [${r.reason}]`;
  const resume = r.index === 0 ? r.reason : effectText(image, r.effect) + (r.aborts > 1 ? ` (${r.aborts} aborts)` : '');
  return `#${String(r.index).padEnd(5)} T${r.tid}  ${where.padEnd(40)} ${lineText(r).padEnd(22)} ${textAt(image, r.address).padEnd(46)} ${resume}${end}`;
}

export function stepText(image: Image, o: StepOutcome): string {
  const out = [`stepping T${o.tid} by ${o.by}, strategy ${o.strategy}, profile ${o.profile}`];
  for (const r of o.stops) out.push(stopLine(image, r));
  if (o.verdict === 'livelock' && o.closingAbort) {
    const a = o.closingAbort.effect;
    const at = o.closingAbort.address;
    const abort = a.kind === 'aborted' ? `the abort at ${hex(a.from)} <${symbolize(image, a.from)}> → ${hex(a.to)} <${symbolize(image, a.to)}>` : `the jump to the abort handler ${hex(at)} <${symbolize(image, at)}>`;
    out.push(`livelock: a cycle of ${o.cycle.length} stop${o.cycle.length === 1 ? '' : 's'} repeats with no progress, closed by ${abort}:`);
    for (const r of o.cycle) out.push(`  ${`${hex(r.address)} <${symbolize(image, r.address)}>`.padEnd(40)} ${lineText(r).padEnd(22)} ${textAt(image, r.address)}`);
  } else if (o.verdict === 'completed') {
    out.push(`completed: ${o.rax !== null ? `returned ${o.rax}` : `exited with ${o.exitCode ?? 0}`} after ${plural(o.steps, 'step')}, ${plural(o.aborts, 'abort')} seen`);
  } else if (o.verdict === 'killed') {
    out.push(`killed${o.signal !== undefined ? ` by ${signalName(o.signal)}` : ''} after ${plural(o.steps, 'step')}, ${plural(o.aborts, 'abort')} seen`);
  } else out.push(`limit: no end and no repeating cycle within ${plural(o.steps, 'step')} (${plural(o.aborts, 'abort')} seen)`);
  // A long session's schedule is for --json; the text keeps to what a reader can use.
  out.push(o.schedule.length <= 400 ? `schedule: ${o.schedule}` : `schedule: ${o.schedule.split(' ').length} items (the whole string is in --json)`);
  return out.join('\n') + '\n';
}

const recordJson = (image: Image, r: StepRecord) => ({
  step: r.index, tid: r.tid, address: hex(r.address), symbol: symbolize(image, r.address), line: r.line ? `${r.line.file}:${r.line.line}` : null,
  text: textAt(image, r.address), resume: r.effect.kind, ...(r.effect.kind === 'aborted' ? { abortTo: hex(r.effect.to) } : {}), aborts: r.aborts, reason: r.reason,
});

export function stepJson(image: Image, o: StepOutcome): Record<string, unknown> {
  return {
    verdict: o.verdict, steps: o.steps, aborts: o.aborts, rax: o.rax === null ? null : o.rax.toString(),
    by: o.by, strategy: o.strategy, profile: o.profile, tid: o.tid,
    ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}), ...(o.signal !== undefined ? { signal: signalName(o.signal) } : {}),
    cycle: o.cycle.map((r) => ({ address: hex(r.address), symbol: symbolize(image, r.address), line: r.line ? `${r.line.file}:${r.line.line}` : null, text: textAt(image, r.address) })),
    ...(o.closingAbort
      ? { closingAbort: o.closingAbort.effect.kind === 'aborted' ? { kind: 'kernel', from: hex(o.closingAbort.effect.from), to: hex(o.closingAbort.effect.to) } : { kind: 'jump', to: hex(o.closingAbort.address) } }
      : {}),
    stops: o.stops.map((r) => recordJson(image, r)),
    memory: memoryJson(o.memory),
    schedule: o.schedule,
  };
}
