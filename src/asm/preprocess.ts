// `.S` sources go through the C preprocessor first, as gcc would do: `gcc -E -x
// assembler-with-cpp`, with the file's directory and $CPPFLAGS on the command line. Its line
// markers keep every statement's location in the .S file (statements.ts honours them).
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { RseqEmuError } from '../errors.js';

/** Files the C preprocessor must see first. */
export const needsPreprocessor = (path: string): boolean => /\.(S|sx)$/.test(path);

export function preprocess(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const extra = (env.CPPFLAGS ?? '').split(/\s+/).filter((f) => f !== '');
  const r = spawnSync('gcc', ['-E', '-x', 'assembler-with-cpp', '-I', dirname(path), ...extra, path], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.error) {
    throw new RseqEmuError('INPUT', `${path} needs the C preprocessor, but gcc could not be run (${r.error.message}): install gcc, or preprocess it yourself and give the .s file`);
  }
  if (r.status !== 0) {
    const first = r.stderr.split('\n').find((l) => /error|fatal/.test(l)) ?? r.stderr.trim().split('\n')[0] ?? `exit status ${r.status}`;
    throw new RseqEmuError('INPUT', `the C preprocessor failed: ${first.trim()}`);
  }
  return r.stdout;
}
