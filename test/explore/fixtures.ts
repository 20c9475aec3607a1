// Scenarios for exploration tests: the bundled ones, and a three-thread counter scenario whose
// source can be swapped for a broken twin.
import { fileURLToPath } from 'node:url';
import type { Image } from '../../src/asm/image.js';
import { loadProgram } from '../../src/program.js';
import { loadScenario, scenarioFromJson, type Scenario } from '../../src/scenario/scenario.js';

export const SCENARIOS = fileURLToPath(new URL('../../examples/scenarios/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function bundledScenario(name: string): Promise<{ scenario: Scenario; image: Image }> {
  const scenario = await loadScenario(SCENARIOS + name);
  return { scenario, image: await loadProgram(scenario.source) };
}

/** Two threads of counter_add on CPU 0 and one on CPU 1, running `asm/FILE`. */
export async function counterScenario(file: string, extra: Record<string, unknown> = {}): Promise<{ scenario: Scenario; image: Image }> {
  const scenario = scenarioFromJson({
    source: `asm/${file}`,
    cpus: 2,
    memory: { counters: { size: 16 } },
    threads: [
      { entry: 'counter_add', args: ['counters', 1], cpu: 0 },
      { entry: 'counter_add', args: ['counters', 10], cpu: 0 },
      { entry: 'counter_add', args: ['counters', 100], cpu: 1 },
    ],
    ...extra,
  }, ROOT + 'scenario.json');
  return { scenario, image: await loadProgram(scenario.source) };
}
