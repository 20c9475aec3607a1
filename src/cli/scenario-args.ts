// The scenario a command runs, from its arguments: a scenario file, or an assembly file described
// by --threads, --memory, --cpus and --registration; --max-insns, --time-slice and --profile apply to both.
// `run` and `explore` share it, so the two read the same options the same way.
import { usageError } from '../errors.js';
import { parseProfile, type Profile } from '../kernel/profile.js';
import { loadScenario, parseMemorySpec, parseThreadSpecs, type Scenario } from '../scenario/scenario.js';
import { all, integerOption, one, type ParsedArgs } from './args.js';

/** Options a scenario file already settles. */
const SETTLED_BY_FILE = ['entry', 'arg', 'threads', 'memory', 'cpu', 'cpus', 'registration'];

export async function scenarioFromArgs(file: string, a: ParsedArgs): Promise<Scenario> {
  let scenario: Scenario;
  if (file.endsWith('.json')) {
    for (const opt of SETTLED_BY_FILE) if (a.options.has(opt)) throw usageError(`--${opt} cannot be used with a scenario file, which says it already`);
    scenario = await loadScenario(file);
  } else {
    const registration = one(a, 'registration') ?? 'glibc';
    if (registration !== 'glibc' && registration !== 'none') throw usageError(`--registration must be glibc or none, not '${registration}'`);
    const cpus = integerOption(one(a, 'cpus'), 'cpus', 2, 1, 64);
    const threads = one(a, 'threads');
    scenario = {
      source: file, cpus, profile: undefined, registration, memory: all(a, 'memory').map(parseMemorySpec),
      threads: threads === undefined ? [] : parseThreadSpecs(threads, cpus), invariants: [], maxInstructions: undefined,
    };
  }
  const maxInsns = one(a, 'max-insns');
  if (maxInsns !== undefined) scenario = { ...scenario, maxInstructions: integerOption(maxInsns, 'max-insns', 0, 1, 1_000_000_000) };
  const slice = one(a, 'time-slice');
  if (slice !== undefined) scenario = { ...scenario, timeSlice: integerOption(slice, 'time-slice', 0, 0, 1_000_000_000) };
  return scenario;
}

/** --profile, else the scenario's, else linux. */
export const profileFromArgs = (a: ParsedArgs, scenario: Scenario): Profile => parseProfile(one(a, 'profile') ?? scenario.profile ?? 'linux');
