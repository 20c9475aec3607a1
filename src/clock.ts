// The process clock, in seconds since some fixed point. Passed in wherever time matters (explore's
// progress and time limit, a run's deadline), so tests can give their own.
export const processClock = (): number => Number(process.hrtime.bigint()) / 1e9;
