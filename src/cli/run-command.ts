// `rseq-emu run`: one call of an entry function (--entry), several threads (--threads), or a
// scenario file (FILE.json), each under an optional explicit --schedule and kernel --profile.
import { findSymbol, type Image } from '../asm/image.js';
import { readRseqTables, type RseqTables } from '../abi/tables.js';
import type { Finding } from '../check/finding.js';
import type { MachineOutcome } from '../kernel/machine.js';
import type { RunOutcome } from '../kernel/outcome.js';
import type { Profile } from '../kernel/profile.js';
import type { SingleCall } from '../report/html/collect.js';
import type { Scenario } from '../scenario/scenario.js';
import { checkAborts } from '../check/runtime.js';
import { usageError } from '../errors.js';
import { parseEvent } from '../kernel/event-spec.js';
import type { Machine } from '../kernel/machine.js';
import { parseSchedule } from '../kernel/schedule.js';
import { processClock } from '../clock.js';
import { loadProgram } from '../program.js';
import { machineJson, machineText } from '../report/machine-report.js';
import { findingsJson } from '../report/findings-json.js';
import { findingsText } from '../report/findings-text.js';
import { runJson, runText, type MemoryDump } from '../report/run-report.js';
import { parseArg } from '../scenario/scenario.js';
import { instantiate, resolveArg } from '../scenario/setup.js';
import { all, integerOption, one, parseArgs, positionalProblem } from './args.js';
import { profileFromArgs, scenarioFromArgs } from './scenario-args.js';
import { RUN_USAGE } from './usage.js';


const SPEC = {
  entry: { value: true }, arg: { value: true, repeat: true }, threads: { value: true }, memory: { value: true, repeat: true },
  cpu: { value: true }, cpus: { value: true }, registration: { value: true }, profile: { value: true }, schedule: { value: true },
  event: { value: true, repeat: true }, 'max-insns': { value: true }, 'time-slice': { value: true }, timeout: { value: true }, trace: {}, json: {},
  html: { value: true },
};

function dumps(machine: Machine): MemoryDump[] {
  return [...machine.regions].map(([name, r]) => ({ name, address: r.address, bytes: machine.emu.read(r.address, r.size) }));
}

interface HtmlContext {
  html: string;
  image: Image;
  tables: RseqTables;
  scenario: Scenario;
  profile: Profile;
  call: SingleCall | null;
  findings: Finding[];
  memory: MemoryDump[];
  argv: readonly string[];
}

/** `--html FILE`: the page is built (its outcome map runs the program again per cell) only when asked. */
async function runReportOf(outcome: RunOutcome | MachineOutcome, c: HtmlContext): Promise<void> {
  const { commandLine, runReport, writeReport } = await import('../report/html/collect.js');
  const page = runReport({ image: c.image, tables: c.tables, scenario: c.scenario, profile: c.profile, single: c.call, command: commandLine(['rseq-emu', 'run', ...c.argv]), outcome, findings: c.findings, memory: c.memory });
  writeReport(c.html, page);
}

export async function runCommand(argv: readonly string[], print: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(positionalProblem(a.positionals, 'FILE.s or SCENARIO.json'));
  const file = a.positionals[0]!;
  // An assembly file runs one call of --entry, or the threads of --threads.
  const single = !file.endsWith('.json') && one(a, 'entry') !== undefined;
  if (!file.endsWith('.json') && single === a.options.has('threads')) throw usageError('give either --entry SYM or --threads SPEC');
  if (a.options.has('threads') && a.options.has('arg')) throw usageError('--arg goes with --entry; --threads carries its own arguments');
  const scenario = await scenarioFromArgs(file, a);
  const cpu = integerOption(one(a, 'cpu'), 'cpu', 0, 0, scenario.cpus - 1);
  const schedule = parseSchedule(one(a, 'schedule') ?? '');
  const profile = profileFromArgs(a, scenario);
  const image = await loadProgram(scenario.source);
  const machine = instantiate(image, scenario, profile);
  const timeout = one(a, 'timeout');
  if (timeout !== undefined) {
    const seconds = integerOption(timeout, 'timeout', 0, 1, 86_400);
    machine.deadline = { clock: processClock, at: processClock() + seconds, seconds };
  }
  try {
    const events = all(a, 'event').map((e) => parseEvent(e, image, machine.cpus));
    const tables = readRseqTables(image);
    const html = one(a, 'html');
    // The HTML timeline needs the trace; the text report shows it only when asked.
    const trace = a.flags.has('trace') || html !== undefined;
    const shown = <T extends { trace: unknown[] }>(o: T): T => (a.flags.has('trace') ? o : { ...o, trace: [] });
    const report = async (outcome: RunOutcome | MachineOutcome, findings: Finding[], memory: MemoryDump[], call: SingleCall | null) => {
      if (html !== undefined) await runReportOf(outcome, { html, image, tables, scenario, profile, call, findings, memory, argv });
    };
    if (single) {
      const entry = findSymbol(image, one(a, 'entry')!);
      if (!entry) throw usageError(`no symbol '${one(a, 'entry')}' in ${image.file}`);
      const argValues = all(a, 'arg').map((t, i) => parseArg(t, `--arg ${i + 1}`));
      const args = argValues.map((v) => resolveArg(v, machine, image));
      const outcome = machine.call(entry.address, args, { cpu, events, trace, schedule });
      const memory = dumps(machine);
      const findings = checkAborts(outcome, tables, image);
      await report(outcome, findings, memory, { entry: entry.address, args: argValues, cpu });
      print(a.flags.has('json') ? JSON.stringify({ ...runJson(outcome, memory), ...findingsJson(findings) }, null, 2) + '\n' : runText(image, tables, shown(outcome), memory) + findingsText(findings));
      return outcome.status === 'returned' || (outcome.status === 'exited' && outcome.exitCode === 0) ? 0 : 1;
    }
    const outcome = machine.run({ events, trace, schedule });
    const memory = dumps(machine);
    const findings = checkAborts(outcome, tables, image);
    await report(outcome, findings, memory, null);
    print(a.flags.has('json') ? JSON.stringify({ ...machineJson(outcome, memory), ...findingsJson(findings) }, null, 2) + '\n' : machineText(image, tables, shown(outcome), memory) + findingsText(findings));
    const clean = outcome.status === 'completed' && outcome.threads.every((t) => t.end?.status === 'returned' || (t.end?.status === 'exited' && t.end.exitCode === 0));
    return clean ? 0 : 1;
  } finally {
    machine.close();
  }
}
