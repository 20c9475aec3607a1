// `rseq-emu run`: one call of an entry function (--entry), several threads (--threads), or a
// scenario file (FILE.json), each under an optional explicit --schedule and kernel --profile.
import { findSymbol, type Image } from '../asm/image.js';
import { readRseqTables } from '../abi/tables.js';
import { checkAborts } from '../check/runtime.js';
import { usageError } from '../errors.js';
import { parseEvent } from '../kernel/event-spec.js';
import { Machine, type Registration } from '../kernel/machine.js';
import { parseProfile } from '../kernel/profile.js';
import { parseSchedule } from '../kernel/schedule.js';
import { loadProgram } from '../program.js';
import { machineJson, machineText } from '../report/machine-report.js';
import { findingsJson } from '../report/findings-json.js';
import { findingsText } from '../report/findings-text.js';
import { runJson, runText, type MemoryDump } from '../report/run-report.js';
import { loadScenario, parseArg, parseMemorySpec, parseThreadSpecs, type Scenario } from '../scenario/scenario.js';
import { initBytes, instantiate, resolveArg, spawnThreads } from '../scenario/setup.js';
import { all, integerOption, one, parseArgs, type ParsedArgs } from './args.js';

export const RUN_USAGE =
  'rseq-emu run FILE.s (--entry SYM [--arg V]... | --threads SPEC) [--memory NAME:SIZE[:W,W...]]... [--cpu N] [--cpus N]\n' +
  '             [--registration glibc|none] [--profile P[,P...]] [--schedule S] [--event KIND@WHERE]... [--max-insns N] [--trace] [--json]\n' +
  '  rseq-emu run SCENARIO.json [--profile P] [--schedule S] [--event KIND@WHERE]... [--max-insns N] [--trace] [--json]';

const SPEC = {
  entry: { value: true }, arg: { value: true, repeat: true }, threads: { value: true }, memory: { value: true, repeat: true },
  cpu: { value: true }, cpus: { value: true }, registration: { value: true }, profile: { value: true }, schedule: { value: true },
  event: { value: true, repeat: true }, 'max-insns': { value: true }, trace: {}, json: {},
};

function dumps(machine: Machine): MemoryDump[] {
  return [...machine.regions].map(([name, r]) => ({ name, address: r.address, bytes: machine.emu.read(r.address, r.size) }));
}

/** The machine and threads from command-line options, for a .s file. */
function fromOptions(a: ParsedArgs, image: Image): { machine: Machine; single: boolean; cpu: number } {
  const entry = one(a, 'entry');
  const threads = one(a, 'threads');
  if ((entry === undefined) === (threads === undefined)) throw usageError('give either --entry SYM or --threads SPEC');
  if (threads !== undefined && a.options.has('arg')) throw usageError('--arg goes with --entry; --threads carries its own arguments');
  const registration = one(a, 'registration') ?? 'glibc';
  if (registration !== 'glibc' && registration !== 'none') throw usageError(`--registration must be glibc or none, not '${registration}'`);
  const cpus = integerOption(one(a, 'cpus'), 'cpus', 2, 1, 64);
  const cpu = integerOption(one(a, 'cpu'), 'cpu', 0, 0, cpus - 1);
  const specs = threads === undefined ? null : parseThreadSpecs(threads, cpus);
  const memories = all(a, 'memory').map(parseMemorySpec);
  const machine = Machine.create(image, {
    cpus, registration: registration as Registration, profile: parseProfile(one(a, 'profile') ?? 'linux'),
    maxInstructions: integerOption(one(a, 'max-insns'), 'max-insns', 1_000_000, 1, 1_000_000_000),
  });
  try {
    for (const m of memories) machine.allocate(m.name, m.size, initBytes(m.size, m.init));
    if (specs) spawnThreads(machine, image, specs);
    return { machine, single: specs === null, cpu };
  } catch (e) {
    machine.close();
    throw e;
  }
}

function fromScenario(a: ParsedArgs, scenario: Scenario, image: Image): Machine {
  for (const opt of ['entry', 'arg', 'threads', 'memory', 'cpu', 'cpus', 'registration']) {
    if (a.options.has(opt)) throw usageError(`--${opt} cannot be used with a scenario file, which says it already`);
  }
  const profile = parseProfile(one(a, 'profile') ?? scenario.profile ?? 'linux');
  const maxInsns = one(a, 'max-insns');
  const s = maxInsns === undefined ? scenario : { ...scenario, maxInstructions: integerOption(maxInsns, 'max-insns', 0, 1, 1_000_000_000) };
  return instantiate(image, s, profile);
}

export async function runCommand(argv: readonly string[], print: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(`usage: ${RUN_USAGE}`);
  const file = a.positionals[0]!;
  const scenario = file.endsWith('.json') ? await loadScenario(file) : null;
  const image = await loadProgram(scenario ? scenario.source : file);
  const schedule = parseSchedule(one(a, 'schedule') ?? '');
  const setup = scenario ? { machine: fromScenario(a, scenario, image), single: false, cpu: 0 } : fromOptions(a, image);
  const { machine } = setup;
  try {
    const events = all(a, 'event').map((e) => parseEvent(e, image, machine.cpus));
    const tables = readRseqTables(image);
    const trace = a.flags.has('trace');
    if (setup.single) {
      const entry = findSymbol(image, one(a, 'entry')!);
      if (!entry) throw usageError(`no symbol '${one(a, 'entry')}' in ${image.file}`);
      const args = all(a, 'arg').map((t, i) => resolveArg(parseArg(t, `--arg ${i + 1}`), machine, image));
      const outcome = machine.call(entry.address, args, { cpu: setup.cpu, events, trace, schedule });
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
