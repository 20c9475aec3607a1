// rseq-emu commands for tests that make many of them: one child process runs them all. (In the
// mocha process itself, runCli's lazily imported commands would load a second copy of modules the
// test files already imported, and the emulator's bindings refuse to load twice.)
import { spawn } from 'node:child_process';
import { ROOT } from './tools.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export function cliBatch(calls: readonly (readonly string[])[]): Promise<CliResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/cli-batch-child.ts'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as CliResult[]) : reject(new Error(`cli batch exited ${code}: ${err}`))));
    child.stdin.end(JSON.stringify(calls));
  });
}

export const cli = async (...args: string[]): Promise<CliResult> => (await cliBatch([args]))[0]!;
