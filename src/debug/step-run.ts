// The experiment `rseq-emu step` runs: a debug session that runs a thread to its entry (or to the
// first breakpoint), then steps it by stepi, step or next until it returns, is killed, livelocks
// or uses up its steps. Produces a StepOutcome; src/report/step-report.ts prints it.
import { findSymbol, lineAt, type Image } from '../asm/image.js';
import { RseqEmuError } from '../errors.js';
import { hex, type Address } from '../types.js';
import { LivelockDetector } from './livelock.js';
import type { DebugSession, DebugStop, ResumeEffect } from './session.js';

export type StepBy = 'stepi' | 'step' | 'next';
export const STEP_KINDS: readonly StepBy[] = ['stepi', 'step', 'next'];

export interface StepRecord {
  /** 0 for the stop the stepping starts from, then 1, 2, … */
  index: number;
  tid: number;
  address: Address;
  line: { file: string; line: number } | null;
  /** What the resume before this stop did to the stepped thread (the last abort when a line step saw several). */
  effect: ResumeEffect;
  /** Aborts during the resume(s) that led here. */
  aborts: number;
  /** The thread jumped to an abort handler itself (a failed compare, or no registration): a retry without a kernel abort. */
  atAbortHandler: boolean;
  reason: DebugStop['reason'];
}

export interface StepOutcome {
  verdict: 'completed' | 'livelock' | 'killed' | 'limit';
  by: StepBy;
  strategy: string;
  profile: string;
  tid: number;
  /** Steps taken (not counting the starting stop). */
  steps: number;
  aborts: number;
  /** The entry's return value when completed by returning. */
  rax: bigint | null;
  exitCode?: number;
  signal?: number;
  stops: StepRecord[];
  /** For a livelock: the stops of one turn of the cycle, and the abort that closes it. */
  cycle: StepRecord[];
  closingAbort: StepRecord | null;
  schedule: string;
  /** Each data region after the stepping, for comparison with `run`. */
  memory: { name: string; address: Address; bytes: Uint8Array }[];
}

/** `--break WHERE`: LABEL[+OFFSET], 0xADDRESS, or FILE:LINE of the line table. */
export function resolveBreak(session: DebugSession, where: string): Address {
  const fileLine = /^(.+):([0-9]+)$/.exec(where);
  if (fileLine) {
    const a = session.lines.firstAddress(fileLine[1]!, Number(fileLine[2]));
    if (a === null) throw new RseqEmuError('USAGE', `--break ${where}: no code for line ${fileLine[2]} of ${fileLine[1]}`);
    return a;
  }
  const image: Image = session.image;
  let address: Address;
  if (/^0x[0-9a-f]+$/i.test(where)) address = BigInt(where);
  else {
    const m = /^([A-Za-z_.$][A-Za-z0-9_.$]*)(?:\+(0x[0-9a-f]+|[0-9]+))?$/i.exec(where);
    if (!m) throw new RseqEmuError('USAGE', `--break ${where}: expected LABEL[+OFFSET], 0xADDRESS or FILE:LINE`);
    const sym = findSymbol(image, m[1]!);
    if (!sym) throw new RseqEmuError('USAGE', `--break ${where}: no label '${m[1]}' in ${image.file}`);
    address = sym.address + (m[2] === undefined ? 0n : BigInt(m[2]));
  }
  const line = lineAt(image, address);
  if (!line || line.kind !== 'instruction' || line.address !== address) throw new RseqEmuError('USAGE', `--break ${where}: ${hex(address)} is not the first byte of an instruction`);
  return address;
}

/** The state the livelock detector compares: every live thread's registers. */
function stateKey(session: DebugSession): string {
  return session
    .threads()
    .map((tid) => `${tid}:${Object.values(session.registers(tid)).join(',')}`)
    .join(';');
}

const lastEffect = (stop: DebugStop, tid: number): ResumeEffect => {
  const mine = stop.resume.filter((r) => r.tid === tid).map((r) => r.effect);
  return mine.filter((e) => e.kind === 'aborted').at(-1) ?? mine.find((e) => e.kind === 'sigsegv') ?? mine.find((e) => e.kind === 'cleared') ?? { kind: 'none' };
};

export interface StepRunOptions {
  by: StepBy;
  tid: number;
  breaks: readonly Address[];
  maxSteps: number;
  profile: string;
}

export function runStepExperiment(session: DebugSession, o: StepRunOptions): StepOutcome {
  if (!session.threads().includes(o.tid)) throw new RseqEmuError('USAGE', `thread T${o.tid} does not exist (threads: ${session.threads().map((t) => `T${t}`).join(', ')})`);
  let stop = session.entryStop(o.tid);
  for (const b of o.breaks) session.addBreakpoint(b);
  // To the first breakpoint the thread reaches (all threads run, as `run` in gdb).
  if (o.breaks.length) {
    stop = session.continue();
    if (stop.reason === 'breakpoint' && stop.tid !== o.tid) {
      throw new RseqEmuError('USAGE', `--break: thread T${stop.tid} reached ${hex(stop.address)} before T${o.tid} did; step that thread with --thread ${stop.tid}`);
    }
  }
  const record = (index: number, s: DebugStop): StepRecord => ({
    index, tid: o.tid, address: s.address, line: session.lineOf(s.address), effect: lastEffect(s, o.tid),
    aborts: s.resume.filter((r) => r.effect.kind === 'aborted').length, reason: s.reason,
    atAbortHandler: s.resume.every((r) => r.effect.kind !== 'aborted') && session.tables.sections.some((cs) => cs.abortIp === s.address),
  });
  const stops: StepRecord[] = [record(0, stop)];
  const detector = new LivelockDetector();
  detector.observe({ state: stateKey(session), aborted: false, committed: false });
  let aborts = stops[0]!.aborts;
  let verdict: StepOutcome['verdict'] = 'limit';
  let cycle: StepRecord[] = [];
  let closingAbort: StepRecord | null = null;
  const live = () => stop.reason === 'step' || stop.reason === 'breakpoint' || stop.reason === 'entry';
  if (!live()) verdict = stop.reason === 'returned' || stop.reason === 'exited' ? 'completed' : stop.reason === 'killed' ? 'killed' : 'limit';
  for (let n = 1; n <= o.maxSteps && live(); n++) {
    stop = o.by === 'stepi' ? session.stepi(o.tid) : o.by === 'step' ? session.step(o.tid) : session.next(o.tid);
    const r = record(n, stop);
    stops.push(r);
    aborts += r.aborts;
    if (stop.reason === 'returned' || stop.reason === 'exited') verdict = 'completed';
    else if (stop.reason === 'killed') verdict = 'killed';
    else if (stop.reason === 'limit') verdict = 'limit';
    if (!live()) break;
    const c = detector.observe({ state: stateKey(session), aborted: r.aborts > 0 || r.atAbortHandler, committed: (stop.commits ?? 0) > 0 });
    if (c) {
      verdict = 'livelock';
      // One turn, starting where the closing abort sent the thread: the retry it cannot finish.
      const turn = stops.slice(c.start, c.start + c.length);
      const k = c.abortAt - c.start;
      cycle = [...turn.slice(k), ...turn.slice(0, k)];
      closingAbort = stops[c.abortAt]!;
      break;
    }
  }
  const returns = session.returnValues(o.tid);
  return {
    verdict, by: o.by, strategy: session.strategy, profile: o.profile, tid: o.tid, steps: stops.length - 1, aborts,
    rax: verdict === 'completed' && stop.reason === 'returned' ? (returns.at(-1) ?? null) : null,
    ...(stop.exitCode !== undefined ? { exitCode: stop.exitCode } : {}),
    ...(stop.signal !== undefined ? { signal: stop.signal } : {}),
    stops, cycle, closingAbort, schedule: session.schedule(),
    memory: [...session.machine.regions].map(([name, r]) => ({ name, address: r.address, bytes: session.readMemory(r.address, r.size) ?? new Uint8Array() })),
  };
}
