// A count and its noun, in the singular for one: `1 step`, `3 steps`.
export const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
