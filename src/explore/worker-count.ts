// How many threads an exploration uses when nobody says: one per core, up to the most a search
// takes. Its own module so that the launcher's flag choice (cli/v8-flags.ts) reads the same default
// as the search without loading the search.
import { availableParallelism } from 'node:os';

/** The most threads one search runs on (the calling thread and its workers). */
export const MAX_WORKERS = 64;

/** The default number of threads: one per core, at most MAX_WORKERS. */
export const defaultWorkers = (): number => Math.min(availableParallelism(), MAX_WORKERS);
