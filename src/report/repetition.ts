// Long runs of the same lines (a program looping in a system call) are shown once, with a count:
// a report a person reads must not grow with the instruction budget.

/** Blocks of up to this many lines are recognised as repeating. */
const MAX_PERIOD = 8;
/** A block is summarised when it appears at least this many times in a row. */
const MIN_REPEATS = 3;

/** How many times `lines[i, i + p)` repeats back to back, starting at i. */
function repeatsAt(lines: readonly string[], i: number, p: number): number {
  let k = 1;
  while (i + (k + 1) * p <= lines.length) {
    for (let j = 0; j < p; j++) if (lines[i + k * p + j] !== lines[i + j]) return k;
    k++;
  }
  return k;
}

/** A block of `period` items starting at `start` that appears `times` (at least 3) times back to back. */
export interface RepeatRun {
  start: number;
  period: number;
  times: number;
}

/** The runs of repeating blocks (period 1 to 8, three or more times), left to right, the longest at each place. */
export function findRepeats(keys: readonly string[]): RepeatRun[] {
  const runs: RepeatRun[] = [];
  let i = 0;
  while (i < keys.length) {
    let best: { p: number; k: number } | null = null;
    for (let p = 1; p <= MAX_PERIOD && i + p * MIN_REPEATS <= keys.length; p++) {
      const k = repeatsAt(keys, i, p);
      if (k >= MIN_REPEATS && (!best || k * p > best.k * best.p)) best = { p, k };
    }
    if (!best) {
      i++;
      continue;
    }
    runs.push({ start: i, period: best.p, times: best.k });
    i += best.k * best.p;
  }
  return runs;
}

/**
 * The items with every run of a repeating block kept as its first and its last occurrence, and
 * `marker(run)` between them (nothing when it returns undefined).
 */
export function collapseRepeats<T>(items: readonly T[], runs: readonly RepeatRun[], marker: (run: RepeatRun) => T | undefined): T[] {
  const out: T[] = [];
  let i = 0;
  for (const run of runs) {
    append(out, items.slice(i, run.start));
    const block = items.slice(run.start, run.start + run.period);
    append(out, block);
    const m = marker(run);
    if (m !== undefined) out.push(m);
    append(out, block);
    i = run.start + run.times * run.period;
  }
  append(out, items.slice(i));
  return out;
}

/**
 * The lines with every run of a repeating block (period 1 to 8, three or more times) kept as its
 * first occurrence, one line saying how many times it repeated, and its last occurrence.
 */
export function summarizeRepeats(lines: readonly string[], indent = '  '): string[] {
  return collapseRepeats(lines, findRepeats(lines), (run) =>
    `${indent}… ${run.period === 1 ? 'the line above' : `the ${run.period} lines above`} repeated ${run.times - 2} more times …`);
}

/** At most `head` + `tail` lines: the middle becomes one line saying how many were left out. */
export function elide(lines: readonly string[], head: number, tail: number, indent = '  '): string[] {
  if (lines.length <= head + tail + 1) return [...lines];
  return [...lines.slice(0, head), `${indent}… ${lines.length - head - tail} lines left out …`, ...lines.slice(lines.length - tail)];
}

/** Appends without spreading into arguments, which overflows the stack for long arrays. */
export function append<T>(to: T[], items: readonly T[]): void {
  for (const x of items) to.push(x);
}
