// The long fuzz run (`npm run fuzz -- [MINUTES] [SEED]`, default 30 minutes, seed from the clock
// and printed): batches of generated cases until the time is up; every failure is printed with the
// seed and index that regenerate it. Minimise a failure by hand and keep it in regressions/,
// named for what it hit. Exit 1 when anything failed.
import { fuzzCase, prepareElfSeeds } from './generators.js';
import { fuzz, type FuzzFailure } from './harness.js';

await prepareElfSeeds();
const minutes = Number(process.argv[2] ?? 30);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
const end = Date.now() + minutes * 60_000;
const BATCH = 100;
const failures: (FuzzFailure & { seed: number })[] = [];
let cases = 0;
let slowest = 0;
let rss = 0;
console.log(`fuzzing for ${minutes} min, seed ${seed}`);
for (let first = 0; Date.now() < end; first += BATCH) {
  const r = await fuzz(seed, first, first + BATCH, { capSeconds: 30 });
  cases += r.cases;
  slowest = Math.max(slowest, r.slowestMs);
  rss = Math.max(rss, r.maxRssMiB);
  for (const f of r.failures) {
    failures.push({ ...f, seed });
    console.log(`FAIL seed ${seed} case ${f.index}: ${f.why}\n  ${fuzzCase(seed, f.index).argv.join(' ')}`);
  }
  console.log(`${cases} cases, ${failures.length} failures, slowest ${slowest} ms, max RSS ${rss} MiB`);
}
console.log(`${cases - failures.length} passed, ${failures.length} failed`);
process.exitCode = failures.length ? 1 : 0;
