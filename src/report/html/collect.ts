// Gathers what each page shows from the command's inputs — the image, the scenario, the outcome —
// running the kernel model for every cell of the outcome maps and replaying each shown violation.
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { disassembleSync } from '../../asm/capstone.js';
import { imageBytes, lineAt, type Image } from '../../asm/image.js';
import type { RseqTables } from '../../abi/tables.js';
import type { Finding } from '../../check/finding.js';
import { RseqEmuError } from '../../errors.js';
import type { ExploreResult } from '../../explore/explorer.js';
import type { MachineOutcome } from '../../kernel/machine.js';
import type { RunOutcome } from '../../kernel/outcome.js';
import type { Profile } from '../../kernel/profile.js';
import type { ArgValue, Scenario } from '../../scenario/scenario.js';
import { instantiate, resolveArg } from '../../scenario/setup.js';
import type { Address } from '../../types.js';
import { instructionText } from '../annotate.js';
import type { MemoryDump } from '../run-report.js';
import { checkPage } from './check-page.js';
import { explorePage } from './explore-page.js';
import { armedSectionMaps, machineProbe, sectionMaps } from './outcome-data.js';
import { runPage } from './run-page.js';
import { stepPage } from './step-page.js';
import type { StepOutcome } from '../../debug/step-run.js';
import { timelineOf } from './timeline-data.js';
import { shellQuote, violationView } from './violation-data.js';

/** Violations the explore page shows in full (the rest are counted). */
export const HTML_VIOLATIONS = 20;

/** One call of an entry function, as `run --entry` makes it. */
export interface SingleCall {
  entry: Address;
  args: readonly ArgValue[];
  cpu: number;
}

/** The command line as a shell would read it back. */
export const commandLine = (words: readonly string[]): string => words.map(shellQuote).join(' ');

/** Before a long search: the report's folder must exist and be writable, so the search is not wasted. */
export function checkReportPath(file: string): void {
  const folder = dirname(resolve(file));
  try {
    if (!statSync(folder).isDirectory()) throw new Error('not a directory');
    accessSync(folder, constants.W_OK);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : e instanceof Error ? e.message : String(e);
    throw new RseqEmuError('INPUT', `cannot write the HTML report '${file}': ${why} (${folder})`);
  }
}

export function writeReport(file: string, html: string): void {
  try {
    writeFileSync(file, html);
  } catch (e) {
    // Node's message repeats the path: keep its reason only.
    throw new RseqEmuError('INPUT', `cannot write the HTML report '${file}': ${e instanceof Error ? e.message.replace(/^[A-Z]+: /, '').replace(/, [a-z]+ '.*'$/, '') : String(e)}`);
  }
}

/** Each section's outcome map from runs of the scenario (or of the one call) with one event each. */
function runMaps(image: Image, tables: RseqTables, scenario: Scenario, profile: Profile, single: SingleCall | null) {
  const probe = machineProbe(
    scenario.cpus,
    () => instantiate(image, scenario, profile),
    (m, events) => (single ? m.call(single.entry, single.args.map((a) => resolveArg(a, m, image)), { cpu: single.cpu, events }) : m.run({ events })),
  );
  return sectionMaps(image, tables, () => probe);
}

const MAP_BASIS_RUN = 'Each cell: a separate run of the same program from its start, under the default schedule, with that one event injected the first time a thread reaches the instruction (`run --event KIND@ADDRESS`); its colour is the outcome the kernel model recorded. A migration goes to the next CPU.';

export interface RunReportInput {
  image: Image;
  tables: RseqTables;
  scenario: Scenario;
  profile: Profile;
  single: SingleCall | null;
  command: string;
  outcome: RunOutcome | MachineOutcome;
  findings: readonly Finding[];
  memory: readonly MemoryDump[];
}

export function runReport(p: RunReportInput): string {
  const o = p.outcome;
  const ending =
    'threads' in o
      ? `${o.status}: ${o.threads.map((t) => `T${t.tid} ${t.end?.status ?? 'unfinished'}${t.end?.reason ? ` (${t.end.signal}: ${t.end.reason})` : ''}`).join(', ')}; profile ${o.profile}`
      : o.status === 'returned' ? `returned ${BigInt.asUintN(64, o.rax)} (rax)`
      : o.status === 'exited' ? `exited with code ${o.exitCode}`
      : `${o.signal ?? o.status}: ${o.reason ?? ''}`;
  return runPage({
    image: p.image,
    command: p.command,
    status: o.status,
    ending,
    outcome: o,
    timeline: timelineOf(p.image, o, p.scenario.cpus),
    maps: runMaps(p.image, p.tables, p.scenario, p.profile, p.single),
    basis: MAP_BASIS_RUN,
    findings: p.findings,
    memory: p.memory,
  });
}

export function stepReport(image: Image, tables: RseqTables, scenario: Scenario, profile: Profile, single: SingleCall | null, command: string, outcome: StepOutcome): string {
  return stepPage(image, command, outcome, runMaps(image, tables, scenario, profile, single), MAP_BASIS_RUN);
}

export function checkReport(image: Image, tables: RseqTables, findings: readonly Finding[], profile: Profile, sig: number | undefined, sarif: unknown): string {
  return checkPage(image, tables, findings, armedSectionMaps(image, tables, profile, sig), sarif);
}

export interface ExploreReportInput {
  image: Image;
  tables: RseqTables;
  scenario: Scenario;
  profile: Profile;
  result: ExploreResult;
  command: string;
  /** The `rseq-emu run …` words that replay a schedule, before `--schedule`. */
  replayPrefix: string;
}

export function exploreReport(p: ExploreReportInput): string {
  const textAt = (address: Address): string => {
    const line = lineAt(p.image, address);
    const bytes = line?.kind === 'instruction' ? imageBytes(p.image, address, line.size) : null;
    const [d] = bytes ? disassembleSync(bytes, address, 1) : [];
    return d ? instructionText(p.image, d) : '';
  };
  return explorePage({
    image: p.image,
    command: p.command,
    result: p.result,
    maps: runMaps(p.image, p.tables, p.scenario, p.profile, null),
    basis: MAP_BASIS_RUN,
    views: p.result.violations.slice(0, HTML_VIOLATIONS).map((v) => violationView(p.image, p.scenario, p.profile, v, p.replayPrefix)),
    textAt,
  });
}
