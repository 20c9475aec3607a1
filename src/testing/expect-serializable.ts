// For users' own test suites: `await expectSerializable(scenario)` explores the scenario and fails
// with every violation's kind, message and replayable schedule.
import { AssertionError } from 'node:assert';
import { explore, type ExploreOptions, type ExploreResult } from '../explore/explorer.js';
import { loadProgram } from '../program.js';
import { loadScenario, type Scenario } from '../scenario/scenario.js';

/**
 * `scenario` is a scenario file's path, or a Scenario from loadScenario()/scenarioFromJson().
 * Resolves with the result when no violation is found; rejects with an AssertionError listing the
 * first few violations, each with the schedule that replays it.
 */
export async function expectSerializable(scenario: Scenario | string, options: ExploreOptions = {}): Promise<ExploreResult> {
  const s = typeof scenario === 'string' ? await loadScenario(scenario) : scenario;
  const result = explore(await loadProgram(s.source), s, options);
  if (result.verdict === 'fail') {
    const shown = result.violations.slice(0, 5).map((v) => `  ${v.kind}: ${v.message}\n    replay: rseq-emu run SCENARIO --schedule '${v.schedule}'`);
    throw new AssertionError({
      message: `${result.violationCount} violation${result.violationCount === 1 ? '' : 's'} in ${result.schedules} schedules:\n${shown.join('\n')}`,
      actual: result.violations.map((v) => v.kind),
      expected: [],
      operator: 'expectSerializable',
    });
  }
  return result;
}
