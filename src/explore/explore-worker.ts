// One share of an exploration on a worker thread: assemble the scenario's source, search the share
// alongside the other threads (explore-workers.ts), post the share's result at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { applyLimits } from '../limits.js';
import { loadProgram } from '../program.js';
import { exploreShare } from './explorer.js';
import type { WorkerInput } from './explore-workers.js';

const { scenario, options, share, joint, limits } = workerData as WorkerInput;
applyLimits(limits); // the same limits as the command that started the search
const image = await loadProgram(scenario.source);
parentPort!.postMessage(exploreShare(image, scenario, options, share, joint));
