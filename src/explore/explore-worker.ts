// One share of an exploration on a worker thread: search the share alongside the other threads
// (explore-workers.ts), on the image the calling thread assembled, and post the share's result at
// the end.
import { parentPort, workerData } from 'node:worker_threads';
import { applyLimits } from '../limits.js';
import { exploreShare } from './explorer.js';
import { loadCapstone } from '../asm/capstone.js';
import type { WorkerInput } from './explore-workers.js';

const { gate, seat, image, scenario, options, share, joint, limits } = workerData as WorkerInput;
applyLimits(limits); // the same limits as the command that started the search
await loadCapstone(); // the search disassembles the image (Keystone, for assembling, is not needed)
// The calling thread may have ended the search while this one loaded: then there is nothing to do.
parentPort!.postMessage(Atomics.compareExchange(gate, seat, 0, 1) === 0 ? exploreShare(image, scenario, options, share, joint) : null);
