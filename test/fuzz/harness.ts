// The fuzz harness: runs cases in a child runner, restarts it past a case that hung or crashed,
// and judges each case. A case passes when it ends within its time cap with exit status 0, 1 or
// 2, exactly one stderr line for 2, no internal error, and the runner's RSS under 2 GiB.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { FAMILIES, type Family } from './generators.js';
import type { CaseReport } from './runner.js';

export interface FuzzFailure {
  index: number;
  why: string;
}

export interface FuzzRun {
  cases: number;
  failures: FuzzFailure[];
  slowestMs: number;
  maxRssMiB: number;
}

const RUNNER = fileURLToPath(new URL('./runner.ts', import.meta.url));
const MAX_RSS_MIB = 2048;
/** An error line is read by a person: the CLI cuts messages at 1,000 characters. */
const MAX_LINE = 1200;

/** What is wrong with a finished case, or null. */
export function judgeCase(r: CaseReport): string | null {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (![0, 1, 2].includes(r.code)) return `exit status ${r.code}`;
  if (/internal error/.test(r.stderr)) return `internal error: ${lines[0]}`;
  if (r.code === 2 && lines.length !== 1) return `exit 2 with ${lines.length} stderr lines: ${JSON.stringify(r.stderr.slice(0, 300))}`;
  const long = lines.find((l) => l.length > MAX_LINE);
  if (r.code === 2 && long) return `an error line of ${long.length} characters: ${JSON.stringify(long.slice(0, 200))}…`;
  if (r.rssMiB > MAX_RSS_MIB) return `RSS ${r.rssMiB} MiB`;
  return null;
}

export interface FuzzOptions {
  families?: readonly Family[];
  /** Extra environment for the runner (the harness's own tests). */
  env?: NodeJS.ProcessEnv;
  capSeconds?: number;
  onCase?: (r: CaseReport) => void;
}

/** Runs generated cases [first, end) of `seed`; each may take at most `capSeconds`. */
export function fuzz(seed: number, first: number, end: number, options: FuzzOptions = {}): Promise<FuzzRun> {
  const families = (options.families ?? FAMILIES).join(',');
  return runCases(first, end, options, (next) => [String(seed), String(next), String(end), families]);
}

/** Runs cases kept in a JSON file (the regression cases). */
export function fuzzKept(file: string, count: number, options: FuzzOptions = {}): Promise<FuzzRun> {
  return runCases(0, count, options, (next) => ['--cases', file, String(next)]);
}

async function runCases(first: number, end: number, options: FuzzOptions, runnerArgs: (next: number) => string[]): Promise<FuzzRun> {
  const cap = (options.capSeconds ?? 30) * 1000;
  const run: FuzzRun = { cases: 0, failures: [], slowestMs: 0, maxRssMiB: 0 };
  let next = first;
  while (next < end) {
    const child = spawn(process.execPath, ['--import', 'tsx', RUNNER, ...runnerArgs(next)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let childErr = '';
    child.stderr.on('data', (d: Buffer) => (childErr = (childErr + d.toString()).slice(-2000)));
    let current: number | null = null;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), cap);
    };
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      let m: { start: number } | CaseReport;
      try {
        m = JSON.parse(line) as { start: number } | CaseReport;
      } catch {
        // A report line the harness cannot read is the case's failure, not the harness's.
        run.failures.push({ index: current ?? -1, why: `unreadable report line (${line.length} characters): ${JSON.stringify(line.slice(0, 200))}` });
        return;
      }
      if ('start' in m) {
        current = m.start;
        arm();
        return;
      }
      clearTimeout(timer);
      current = null;
      run.cases++;
      run.slowestMs = Math.max(run.slowestMs, m.ms);
      run.maxRssMiB = Math.max(run.maxRssMiB, m.rssMiB);
      const why = judgeCase(m);
      if (why) run.failures.push({ index: m.index, why });
      options.onCase?.(m);
      next = m.index + 1;
    });
    const status = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    clearTimeout(timer);
    if (current !== null) {
      run.cases++;
      run.failures.push({ index: current, why: status.signal === 'SIGKILL' ? `no result within ${cap / 1000} s` : `the process died (${status.signal ?? `exit ${status.code}`})` });
      next = current + 1;
    } else if (next < end) {
      throw new Error(`fuzz runner exited (${status.signal ?? status.code}) between cases: ${childErr}`);
    }
  }
  return run;
}
