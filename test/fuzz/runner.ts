// The fuzz runner: a child process that runs cases in-process through the real command
// (runCli), one after another, and reports each on stdout as one JSON line. The parent
// (harness.ts) watches the time of each case and kills this process when one hangs; writes are
// synchronous so a report is out before the next case can hang or crash.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { FAMILIES, fuzzCase, prepareElfSeeds, type Family, type FuzzCase } from './generators.js';

export interface CaseReport {
  index: number;
  code: number;
  stderr: string;
  rssMiB: number;
  ms: number;
}

/** The case's argv with `{dir}` replaced, after writing its files there. */
function materialize(c: FuzzCase, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(c.files)) writeFileSync(join(dir, name), text);
  for (const [name, base64] of Object.entries(c.binary ?? {})) writeFileSync(join(dir, name), Buffer.from(base64, 'base64'));
  return c.argv.map((a) => a.replaceAll('{dir}', dir));
}

const send = (line: unknown) => writeSync(1, JSON.stringify(line) + '\n');

export async function runCase(c: FuzzCase, dir: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(materialize(c, dir), { out: () => {}, err: (s) => (stderr += s), progress: () => {} });
  return { code, stderr };
}

// argv: SEED FIRST END [FAMILIES] (generated cases [FIRST, END)), or --cases FILE FIRST (cases kept in a JSON file)
const args = process.argv.slice(2);
const kept: FuzzCase[] | null = args[0] === '--cases' ? JSON.parse(readFileSync(args[1]!, 'utf8')) : null;
const [seedText, firstText, endText, familiesText] = kept ? ['0', args[2]!, String(kept.length)] : args;
if (!kept) await prepareElfSeeds();
const root = mkdtempSync(join(tmpdir(), 'rseq-emu-fuzz-'));
try {
  for (let index = Number(firstText); index < Number(endText); index++) {
    const c = kept ? kept[index]! : fuzzCase(Number(seedText), index, (familiesText ?? FAMILIES.join(',')).split(',') as Family[]);
    send({ start: index });
    // The harness's own test makes one case hang, as a real hang would: nothing returns.
    if ((process.env.FUZZ_HANG_AT ?? '').split(',').includes(String(index))) for (;;);
    const t0 = performance.now();
    const r = await runCase(c, join(root, String(index)));
    const report: CaseReport = { index, ...r, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), ms: Math.round(performance.now() - t0) };
    send(report);
    rmSync(join(root, String(index)), { recursive: true, force: true });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
