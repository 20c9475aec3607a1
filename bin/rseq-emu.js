#!/usr/bin/env node
// Launcher. An installed package has no src/ and runs the compiled dist/ with no loader. In a
// checkout (src/ next to bin/ and tsx installed) it runs dist/ only when dist/ is these very sources
// compiled (the digest `npm run build` recorded matches), else the TypeScript sources through tsx, so
// tests and `npm run demo` never see a stale build. tsx cost 0.26 s of `--help`'s start-up and 0.46 s
// of a small explore's (npm run bench:package), and each worker thread loads the sources through it again. RSEQ_EMU_DIST=1 forces dist/, 0 the sources.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// Keystone and Capstone are 7 MB of wasm of which a run executes little; V8's background tier-up to
// TurboFan cost more CPU than it saved (measured side by side, medians of 10 runs: an explore that
// stops at schedule 46 took 0.69x the CPU and 0.58x the peak memory with Liftoff only; a 3,000-schedule
// search 0.96x the CPU). Set before any wasm loads; worker threads share the setting.
setFlagsFromString('--liftoff-only');

const sources = new URL('../src/cli/main.ts', import.meta.url);

function tsxAvailable() {
  try {
    import.meta.resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

/** Whether dist/ was built from the checkout's sources as they are now. */
async function distIsCurrent() {
  try {
    const { SOURCES_RECORD, sourceDigest } = await import('../scripts/source-digest.mjs');
    const root = fileURLToPath(new URL('../', import.meta.url));
    const recorded = JSON.parse(readFileSync(join(root, SOURCES_RECORD), 'utf8')).digest;
    return recorded === sourceDigest(root);
  } catch {
    return false; // no record, or no digest script: never trust a build we cannot check
  }
}

const choice = process.env.RSEQ_EMU_DIST;
let main;
if (choice !== '1' && existsSync(sources) && tsxAvailable() && (choice === '0' || !(await distIsCurrent()))) {
  const { register } = await import('tsx/esm/api');
  register();
  main = sources.href;
} else {
  const dist = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(dist)) {
    process.stderr.write('rseq-emu: dist/ is missing: run `npm run build` (or `npm install` tsx to run the sources)\n');
    process.exit(2);
  }
  main = dist.href;
}
const { runCli, v8FlagsFor } = await import(main);
const args = process.argv.slice(2);
// Set before the command runs (and before any worker starts): they apply to code optimized after.
for (const flag of v8FlagsFor(args)) setFlagsFromString(flag);
process.exitCode = await runCli(args, {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  progress: (s) => {
    if (process.stderr.isTTY) process.stderr.write(s);
  },
});
