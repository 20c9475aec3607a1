// `.S` sources go through the C preprocessor first, as gcc would do: `gcc -E -x
// assembler-with-cpp`, with the file's directory and $CPPFLAGS on the command line. Its line
// markers keep every statement's location in the .S file (statements.ts honours them).
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { RseqEmuError } from '../errors.js';
import { LIMITS } from '../limits.js';

/** Files the C preprocessor must see first. */
export const needsPreprocessor = (path: string): boolean => /\.(S|sx)$/.test(path);

export function preprocess(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const extra = (env.CPPFLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  // Bounds: `#include "/dev/zero"` must not take the machine.
  const { preprocessBytes: outputBytes, preprocessMemoryKiB: memoryKiB, preprocessSeconds: seconds } = LIMITS;
  // ulimit -v bounds cc1's memory: it reads an included file whole before writing anything.
  const r = spawnSync('sh', ['-c', `ulimit -v ${memoryKiB}; exec gcc "$@"`, 'sh', '-E', '-x', 'assembler-with-cpp', '-I', dirname(path), ...extra, path], {
    encoding: 'utf8', maxBuffer: outputBytes, timeout: seconds * 1000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'],
  });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOBUFS') throw new RseqEmuError('INPUT', `${path}: the C preprocessor's output is over the limit of ${outputBytes} bytes`);
  if (code === 'ETIMEDOUT' || r.signal === 'SIGKILL') throw new RseqEmuError('INPUT', `${path}: the C preprocessor ran over its limit of ${seconds} s`);
  if (r.status === 127) throw new RseqEmuError('INPUT', `${path} needs the C preprocessor, but gcc could not be run: install gcc, or preprocess it yourself and give the .s file`);
  if (r.error) {
    throw new RseqEmuError('INPUT', `${path} needs the C preprocessor, but gcc could not be run (${r.error.message}): install gcc, or preprocess it yourself and give the .s file`);
  }
  if (r.status !== 0) {
    const first = r.stderr.split('\n').find((l) => /error|fatal|memory/i.test(l)) ?? r.stderr.trim().split('\n')[0] ?? `exit status ${r.status}`;
    throw new RseqEmuError('INPUT', `the C preprocessor failed: ${first.trim()}`);
  }
  return r.stdout;
}
