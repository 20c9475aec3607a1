// `rseq-emu run`: one call of an entry function (--entry), several threads (--threads), or a
// scenario file (FILE.json), each under an optional explicit --schedule and kernel --profile.
import { findSymbol } from '../asm/image.js';
import { readRseqTables } from '../abi/tables.js';
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
};

function dumps(machine: Machine): MemoryDump[] {
  return [...machine.regions].map(([name, r]) => ({ name, address: r.address, bytes: machine.emu.read(r.address, r.size) }));
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
    const trace = a.flags.has('trace');
    if (single) {
      const entry = findSymbol(image, one(a, 'entry')!);
      if (!entry) throw usageError(`no symbol '${one(a, 'entry')}' in ${image.file}`);
      const args = all(a, 'arg').map((t, i) => resolveArg(parseArg(t, `--arg ${i + 1}`), machine, image));
      const outcome = machine.call(entry.address, args, { cpu, events, trace, schedule });
      const memory = dumps(machine);
      const findings = checkAborts(outcome, tables, image);
      print(a.flags.has('json') ? JSON.stringify({ ...runJson(outcome, memory), ...findingsJson(findings) }, null, 2) + '\n' : runText(image, tables, outcome, memory) + findingsText(findings));
      return outcome.status === 'returned' || (outcome.status === 'exited' && outcome.exitCode === 0) ? 0 : 1;
    }
    const outcome = machine.run({ events, trace, schedule });
    const memory = dumps(machine);
    const findings = checkAborts(outcome, tables, image);
    print(a.flags.has('json') ? JSON.stringify({ ...machineJson(outcome, memory), ...findingsJson(findings) }, null, 2) + '\n' : machineText(image, tables, outcome, memory) + findingsText(findings));
    const clean = outcome.status === 'completed' && outcome.threads.every((t) => t.end?.status === 'returned' || (t.end?.status === 'exited' && t.end.exitCode === 0));
    return clean ? 0 : 1;
  } finally {
    machine.close();
  }
}
