// What `rseq-emu explore --cross-check` adds to its report: whether the search made without the
// state cache reported what the search made with it did (explore/cross-check.ts).
import type { CrossCheck, CrossCheckSide } from '../explore/cross-check.js';
import { plural } from './plural.js';

/** Violations listed per side when the searches differ; the JSON has them all. */
const LISTED = 20;

const ran = (s: CrossCheckSide): string => `${plural(s.schedules, 'schedule')} in ${s.seconds.toFixed(2)} s`;

function listed(out: string[], label: string, items: readonly string[]): void {
  for (const item of items.slice(0, LISTED)) out.push(`  ${label}: ${item}`);
  if (items.length > LISTED) out.push(`  … and ${items.length - LISTED} more ${label}`);
}

/** The cross-check's lines, after the report of the search made with the cache. */
export function crossCheckText(c: CrossCheck): string {
  const runs = `(${ran(c.withCache)} with the state cache, ${ran(c.without)} without)`;
  if (c.outcome === 'incomplete') return `cross-check: not compared: ${c.reason} ${runs}\n`;
  if (c.outcome === 'agree') {
    const found = c.withCache.distinct ? `the same ${plural(c.withCache.distinct, 'distinct violation')}` : 'no violation';
    return `cross-check: the search without the state cache agrees: ${c.withCache.verdict}, ${found} ${runs}\n`;
  }
  const out = [`cross-check: the state cache changed the result, a bug of rseq-emu (please report it with this scenario): ${c.withCache.verdict} with the cache, ${c.without.verdict} without ${runs}`];
  listed(out, 'only with the cache', c.onlyWithCache);
  listed(out, 'only without the cache', c.onlyWithout);
  return out.join('\n') + '\n';
}
