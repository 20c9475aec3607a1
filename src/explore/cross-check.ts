// `explore --cross-check`: one search made with the state cache and again without it, and whether
// the two report the same thing. The cache may skip a state only when nothing that decides an
// outcome differs (state-hash.ts); the bundled scenarios are tested for that, and this lets a user
// test it on their own code. Compared: the verdict and the set of distinct violations (kind and
// message). Not compared: schedule counts and which schedule a violation is reported with, which
// the cache changes by design.
import type { ExploreResult } from './explorer.js';

/**
 * Violations each search keeps for the comparison. A report keeps the first 1,000, in search
 * order; the cache changes that order, so two such lists can hold different messages although
 * both searches found the same ones.
 */
export const CROSS_CHECK_KEEP = 1_000_000;

/** One side of a cross-check. */
export interface CrossCheckSide {
  verdict: ExploreResult['verdict'];
  schedules: number;
  seconds: number;
  /** Distinct violations (kind and message). */
  distinct: number;
}

export interface CrossCheck {
  /** `agree`: the same verdict and violations; `differ`; `incomplete`: a search stopped short or found more violations than it kept. */
  outcome: 'agree' | 'differ' | 'incomplete';
  withCache: CrossCheckSide;
  without: CrossCheckSide;
  /** Distinct violations (`kind: message`) only one side found, sorted. */
  onlyWithCache: string[];
  onlyWithout: string[];
  /** Why the searches could not be compared (outcome `incomplete`). */
  reason?: string;
}

const distinct = (r: ExploreResult): Set<string> => new Set(r.violations.map((v) => `${v.kind}: ${v.message}`));

const side = (r: ExploreResult, found: Set<string>): CrossCheckSide => ({ verdict: r.verdict, schedules: r.schedules, seconds: Math.round(r.seconds * 1000) / 1000, distinct: found.size });

/** Why `r` cannot be compared, or null. */
function shortOf(r: ExploreResult, name: string): string | null {
  if (!r.complete) return `the search ${name} stopped before the end of its space (--max-schedules or --timeout)`;
  if (r.violations.length < r.violationCount) return `the search ${name} found ${r.violationCount} violations, more than the ${r.violations.length} a cross-check keeps`;
  return null;
}

/** Compares a search made with the state cache (`on`) with the same search made without it (`off`). */
export function crossCheck(on: ExploreResult, off: ExploreResult): CrossCheck {
  const a = distinct(on);
  const b = distinct(off);
  const onlyWithCache = [...a].filter((x) => !b.has(x)).sort();
  const onlyWithout = [...b].filter((x) => !a.has(x)).sort();
  const reason = shortOf(on, 'with the cache') ?? shortOf(off, 'without the cache');
  const same = on.verdict === off.verdict && onlyWithCache.length === 0 && onlyWithout.length === 0;
  return {
    outcome: reason !== null ? 'incomplete' : same ? 'agree' : 'differ',
    withCache: side(on, a),
    without: side(off, b),
    onlyWithCache,
    onlyWithout,
    ...(reason !== null ? { reason } : {}),
  };
}
