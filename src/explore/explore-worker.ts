// One share of an exploration on a worker thread: assemble the scenario's source, search the share,
// post progress now and then and the share's result at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { applyLimits, type LIMITS } from '../limits.js';
import { loadProgram } from '../program.js';
import type { Scenario } from '../scenario/scenario.js';
import type { Share } from './exhaustive.js';
import { exploreShare, type ExploreOptions } from './explorer.js';
import type { StateTableMemory } from './state-table.js';

const { scenario, options, share, table, limits } = workerData as { scenario: Scenario; options: ExploreOptions; share: Share; table?: StateTableMemory; limits: typeof LIMITS };
applyLimits(limits); // the same limits as the command that started the search
const image = await loadProgram(scenario.source);
let last = 0;
const result = exploreShare(image, scenario, {
  ...options,
  onProgress: (schedules) => {
    if (schedules - last >= 500) {
      parentPort!.postMessage({ type: 'progress', schedules: schedules - last });
      last = schedules;
    }
  },
}, share, undefined, table);
parentPort!.postMessage({ type: 'progress', schedules: result.schedules - last });
parentPort!.postMessage({ type: 'done', result });
