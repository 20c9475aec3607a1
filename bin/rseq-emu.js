#!/usr/bin/env node
// Launcher: run the TypeScript CLI through tsx's loader so no build step is needed.
import { register } from 'tsx/esm/api';
register();
const { runCli } = await import('../src/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  progress: (s) => {
    if (process.stderr.isTTY) process.stderr.write(s);
  },
});
