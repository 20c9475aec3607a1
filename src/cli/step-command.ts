// `rseq-emu step`: a debugger experiment — step a thread through its critical sections the way
// Linux treats ptrace stops, under a stepping strategy, and say whether it completes or livelocks.
import { loadCapstone } from '../asm/capstone.js';
import { DebugSession, STRATEGIES, type SteppingStrategy } from '../debug/session.js';
import { STEP_KINDS, resolveBreak, runStepExperiment, type StepBy } from '../debug/step-run.js';
import { usageError } from '../errors.js';
import { profileName } from '../kernel/profile.js';
import { loadProgram } from '../program.js';
import { stepJson, stepText } from '../report/step-report.js';
import { all, integerOption, one, parseArgs, positionalProblem } from './args.js';
import { profileFromArgs, scenarioFromArgs } from './scenario-args.js';
import { STEP_USAGE } from './usage.js';


const SPEC = {
  entry: { value: true }, arg: { value: true, repeat: true }, memory: { value: true, repeat: true }, thread: { value: true },
  by: { value: true }, strategy: { value: true }, break: { value: true, repeat: true }, 'max-steps': { value: true },
  profile: { value: true }, json: {}, html: { value: true },
};

export async function stepCommand(argv: readonly string[], print: (s: string) => void): Promise<number> {
  const a = parseArgs(argv, SPEC);
  if (a.positionals.length !== 1) throw usageError(positionalProblem(a.positionals, 'FILE or SCENARIO.json'));
  const file = a.positionals[0]!;
  const isScenario = file.endsWith('.json');
  if (!isScenario && one(a, 'entry') === undefined) throw usageError('give --entry SYM (or a scenario file)');
  if (!isScenario && a.options.has('thread')) throw usageError('--thread goes with a scenario file; FILE --entry runs one thread, T1');
  const by = (one(a, 'by') ?? 'stepi') as StepBy;
  if (!STEP_KINDS.includes(by)) throw usageError(`--by must be ${STEP_KINDS.join(', ')}, not '${by}'`);
  const strategy = (one(a, 'strategy') ?? 'linux') as SteppingStrategy;
  if (!STRATEGIES.includes(strategy)) throw usageError(`--strategy must be ${STRATEGIES.join(', ')}, not '${strategy}'`);
  const maxSteps = integerOption(one(a, 'max-steps'), 'max-steps', 10_000, 1, 1_000_000);
  const tid = integerOption(one(a, 'thread'), 'thread', 1, 1, 1_000_000);
  // --entry/--arg/--memory as `run` reads them; --threads is not a stepping option.
  const scenario = await scenarioFromArgs(file, a);
  const profile = profileFromArgs(a, scenario);
  const image = await loadProgram(scenario.source);
  await loadCapstone();
  const target = isScenario ? { scenario } : { entry: one(a, 'entry')!, args: all(a, 'arg'), memory: scenario.memory };
  const session = DebugSession.create(image, target, { profile, strategy });
  try {
    if (isScenario && !session.threads().includes(tid)) throw usageError(`--thread ${tid}: the scenario has no thread T${tid} (threads: ${session.threads().map((t) => `T${t}`).join(', ')})`);
    const breaks = all(a, 'break').map((w) => resolveBreak(session, w));
    const outcome = runStepExperiment(session, { by, tid, breaks, maxSteps, profile: profileName(profile) });
    const html = one(a, 'html');
    if (html !== undefined) {
      const [{ commandLine, stepReport, writeReport }, { readRseqTables }, { findSymbol }, { parseArg }] = await Promise.all([
        import('../report/html/collect.js'), import('../abi/tables.js'), import('../asm/image.js'), import('../scenario/scenario.js'),
      ]);
      // The outcome map runs what the session ran: the scenario, or one call of --entry on CPU 0.
      const entry = isScenario ? null : findSymbol(image, one(a, 'entry')!);
      const single = entry ? { entry: entry.address, args: all(a, 'arg').map((t, i) => parseArg(t, `--arg ${i + 1}`)), cpu: 0 } : null;
      writeReport(html, stepReport(image, readRseqTables(image), scenario, profile, single, commandLine(['rseq-emu', 'step', ...argv]), outcome));
    }
    print(a.flags.has('json') ? JSON.stringify(stepJson(image, outcome), null, 2) + '\n' : stepText(image, outcome));
    return outcome.verdict === 'completed' ? 0 : 1;
  } finally {
    session.close();
  }
}
